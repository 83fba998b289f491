// The HTML report: summary cards, the daily volume chart stacked by channel, per-rule and cost
// tables, busiest days, then the shop's KPIs (cohort F2, repeat, revenue, retention, subscriptions).
#include "engine/report/report_html.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "engine/report/svg_chart.hpp"

namespace crm::engine {
namespace {

// One colour per channel (email, line, sms, push, dm), then one for the other action kinds.
constexpr const char* kChannelColors[lang::kChannelCount] = {"#4e79a7", "#59a14f", "#f28e2b", "#b07aa1", "#e15759"};
constexpr const char* kOtherColor = "#bab0ac";
constexpr const char* kBlue = "#4e79a7";
constexpr const char* kOrange = "#f28e2b";
// A first day with this many times the busiest other day gets the others charted on their own.
constexpr int64_t kBacklogRatio = 3;

constexpr const char* kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI","Hiragino Sans","Noto Sans CJK JP",sans-serif;margin:24px 32px;color:#222;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:16px;margin:22px 0 6px}p.meta,p.note{color:#555;margin:4px 0}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:120px}
.card .v{font-size:22px;font-weight:600}.card .k{font-size:12px;color:#666}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
th,td{border-bottom:1px solid #eee;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f6f6}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
span.s{white-space:nowrap}code{font-size:12px;background:#f4f4f4;padding:1px 3px}
svg.chart{width:100%;max-width:1200px;height:auto;display:block}
svg .grid{stroke:#e6e6e6}svg .tick{font-size:11px;fill:#555}svg .legend{font-size:12px;fill:#333}
)";

std::string esc(std::string_view s) { return html_escape(s); }

std::string card(const std::string& value, const std::string& key) {
  return fmt::format("<div class=\"card\"><div class=\"v\">{}</div><div class=\"k\">{}</div></div>", esc(value), esc(key));
}

std::string th(const std::string& s, bool numeric = false) {
  return fmt::format("<th{}>{}</th>", numeric ? " class=\"n\"" : "", esc(s));
}
std::string td(const std::string& s, bool numeric = false) {
  return fmt::format("<td{}>{}</td>", numeric ? " class=\"n\"" : "", esc(s));
}

std::string status_tds(const StatusCounts& c) {
  std::string out;
  for (int64_t n : c) out += td(format_count(n), true);
  return out;
}

std::string range_text(Days from, Days to) {
  return from == to ? format_date(from) : format_date(from) + " to " + format_date(to);
}

std::string summary(const ReportInput& in) {
  const SimulationResult& s = *in.sim;
  int64_t sends = 0;
  for (const auto& c : s.channels) sends += c.counts[0];
  std::string out = "<div class=\"cards\">";
  out += card(format_count(s.total[0]), "actions passed");
  out += card(format_count(sends), "messages sent");
  out += card(format_count(s.reached), "customers reached by a message");
  out += card(format_count(s.total[2]), "blocked by consent");
  out += card(format_count(s.total[3]), "blocked by cap");
  out += card(format_count(s.total[1]), "held out");
  out += card(format_money(s.cost), "message cost");
  return out + "</div>\n";
}

std::string daily_chart(const SimulationResult& s) {
  std::vector<std::string> cats;
  std::vector<ChartSeries> series;
  for (int ch = 0; ch < lang::kChannelCount; ++ch)
    series.push_back({lang::channel_name(static_cast<lang::Channel>(ch)), kChannelColors[ch], {}});
  series.push_back({"other actions", kOtherColor, {}});
  for (const auto& d : s.days) {
    cats.push_back(format_date(d.date));
    int64_t sends = 0;
    for (int ch = 0; ch < lang::kChannelCount; ++ch) {
      int64_t n = d.sends[static_cast<size_t>(ch)][0];
      series[static_cast<size_t>(ch)].values.push_back(static_cast<double>(n));
      sends += n;
    }
    series.back().values.push_back(static_cast<double>(d.actions[0] - sends));
  }
  // Channels with nothing sent are left out of the legend.
  std::vector<ChartSeries> used;
  for (auto& x : series) {
    double t = 0;
    for (double v : x.values) t += v;
    if (t > 0) used.push_back(std::move(x));
  }
  ChartOptions o;
  o.title = "Daily volume: actions passed per day, sends stacked by channel";
  o.unit = "actions";
  std::string out = "<h2 id=\"volume\">Daily volume</h2>\n" + svg_stacked_bars(cats, used, o) +
                    "<p class=\"note\">The simulation starts with no fired history (only outbox rows of real runs before "
                    "the first day count), so its first day also carries what <code>once</code> rules would have sent "
                    "earlier.</p>\n";
  // When that first-day backlog dwarfs the other days, they get a chart of their own.
  int64_t rest_max = 0;
  for (size_t i = 1; i < s.days.size(); ++i) rest_max = std::max(rest_max, s.days[i].passed());
  if (s.days.size() > 1 && rest_max > 0 && s.days[0].passed() > kBacklogRatio * rest_max) {
    cats.erase(cats.begin());
    for (auto& x : used) x.values.erase(x.values.begin());
    o.title = "Daily volume from the second day on";
    out += svg_stacked_bars(cats, used, o);
  }
  return out;
}

std::string rules_table(const ReportInput& in) {
  const SimulationResult& s = *in.sim;
  std::string out = "<h2 id=\"rules\">Rules</h2>\n<table class=\"rules\"><tr>" + th("rule") + th("action") + th("sent", true) +
                    th("held out", true) + th("blocked (consent)", true) + th("blocked (cap)", true) +
                    th("customers reached", true) + th("cost", true) + th("first customers (day)") + "</tr>\n";
  for (const auto& r : s.rules) {
    std::string samples;
    for (const auto& x : r.samples) {
      std::string cmd = fmt::format("crm explain {} --db {} --customer {} --date {}", in.script, in.store, x.customer,
                                    format_date(x.date));
      samples += fmt::format("<span class=\"s\" title=\"{}\">{} ({})</span> ", esc(cmd), x.customer, esc(format_date(x.date)));
    }
    size_t n = std::max<size_t>(1, r.by_action.size());
    bool first = true;
    auto tail = [&] {
      return fmt::format("<td class=\"n\" rowspan=\"{}\">{}</td><td class=\"n\" rowspan=\"{}\">{}</td><td rowspan=\"{}\">{}</td>",
                         n, esc(format_count(r.reached)), n, esc(format_money(r.cost)), n, samples.empty() ? "-" : samples);
    };
    if (r.by_action.empty()) {
      out += "<tr>" + fmt::format("<td>{}</td>", esc(r.name)) + td("(none)") + status_tds({}) + tail() + "</tr>\n";
      continue;
    }
    for (const auto& [what, c] : r.by_action) {
      out += "<tr>";
      if (first) out += fmt::format("<td rowspan=\"{}\">{}</td>", n, esc(r.name));
      out += td(what) + status_tds(c);
      if (first) out += tail();
      out += "</tr>\n";
      first = false;
    }
  }
  out += "<tr><th>total</th><th></th>";
  for (int64_t v : s.total) out += th(format_count(v), true);
  out += th(format_count(s.touched), true) + th(format_money(s.cost), true) + "<th></th></tr></table>\n";
  out += "<p class=\"note\">Hover a sample customer for the <code>crm explain</code> command that shows why the rule "
         "fired.</p>\n";
  return out;
}

std::string cost_tables(const SimulationResult& s) {
  std::string out = "<h2 id=\"cost\">Cost</h2>\n<table class=\"cost\"><tr>" + th("channel") + th("sent", true) + th("held out", true) +
                    th("blocked (consent)", true) + th("blocked (cap)", true) + th("customers reached", true) +
                    th("cost", true) + "</tr>\n";
  for (int ch = 0; ch < lang::kChannelCount; ++ch) {
    const SimChannel& c = s.channels[static_cast<size_t>(ch)];
    if (c.counts == StatusCounts{}) continue;
    out += "<tr>" + td(lang::channel_name(static_cast<lang::Channel>(ch))) + status_tds(c.counts) +
           td(format_count(c.reached), true) + td(format_money(c.cost), true) + "</tr>\n";
  }
  out += "</table>\n<table class=\"messages\"><tr>" + th("message") + th("channel") + th("unit cost", true) +
         th("sent", true) + th("cost", true) + "</tr>\n";
  for (const auto& m : s.messages)
    out += "<tr>" + td(m.name) + td(m.channel) + td(format_money(m.unit_cost), true) + td(format_count(m.sent), true) +
           td(format_money(m.cost), true) + "</tr>\n";
  out += "<tr>" + th("total") + th("") + th("") + th("") + th(format_money(s.cost), true) + "</tr></table>\n";
  return out;
}

std::string busiest_table(const SimulationResult& s) {
  auto days = s.busiest();
  if (days.empty()) return "";
  std::string out = "<h2 id=\"busiest\">Busiest days</h2>\n<table class=\"busiest\"><tr>" + th("date") + th("passed", true);
  for (int ch = 0; ch < lang::kChannelCount; ++ch) out += th(lang::channel_name(static_cast<lang::Channel>(ch)), true);
  out += th("blocked (consent)", true) + th("blocked (cap)", true) + th("cost", true) + "</tr>\n";
  for (const SimDay* d : days) {
    out += "<tr>" + td(format_date(d->date)) + td(format_count(d->passed()), true);
    for (int ch = 0; ch < lang::kChannelCount; ++ch) out += td(format_count(d->sends[static_cast<size_t>(ch)][0]), true);
    out += td(format_count(d->actions[2]), true) + td(format_count(d->actions[3]), true) + td(format_money(d->cost), true) +
           "</tr>\n";
  }
  return out + "</table>\n";
}

double share(int64_t num, int64_t den) { return den > 0 ? static_cast<double>(num) / static_cast<double>(den) : NAN; }

std::string cohort_section(const Kpis& k) {
  if (k.cohorts.empty()) return "<p>No first purchase in the cohort window.</p>\n";
  std::vector<std::string> cats;
  ChartSeries f2w{fmt::format("F2 within {} days", kF2WindowDays), kBlue, {}}, f2e{"F2 ever", kOrange, {}};
  ChartSeries rep{"repeat within 12 months", kBlue, {}}, rev{"revenue per customer, 12 months", "#76b7b2", {}};
  for (const auto& c : k.cohorts) {
    cats.push_back(c.label());
    f2w.values.push_back(share(c.f2_window, c.customers));
    f2e.values.push_back(share(c.f2_ever, c.customers));
    rep.values.push_back(share(c.repeat_year, c.customers));
    rev.values.push_back(c.customers > 0 ? c.revenue_year / static_cast<double>(c.customers) : NAN);
  }
  std::string out = "<h3>Second-purchase rate (F2) by monthly cohort of first-time buyers</h3>\n";
  ChartOptions o;
  o.percent = true;
  o.title = "Second-purchase rate (F2) by cohort";
  out += svg_grouped_bars(cats, {f2w, f2e}, o);
  out += "<h3>12-month repeat rate and revenue per customer (historical LTV) by cohort</h3>\n";
  o.title = "12-month repeat rate by cohort";
  out += svg_grouped_bars(cats, {rep}, o);
  ChartOptions m;
  m.title = "Revenue per customer over 12 months by cohort";
  out += svg_grouped_bars(cats, {rev}, m);

  out += "<table class=\"cohorts\"><tr>" + th("cohort") + th("first-time buyers", true) +
         th(fmt::format("F2 {} days", kF2WindowDays), true) + th("F2 ever", true) + th("repeat 12 months", true) +
         th("revenue per customer 12 months", true) + "</tr>\n";
  for (const auto& c : k.cohorts) {
    std::string m1 = c.f2_window_complete ? "" : "*", m2 = c.year_complete ? "" : "*";
    out += "<tr>" + td(c.label()) + td(format_count(c.customers), true) +
           td(format_pct(c.f2_window, c.customers) + m1, true) + td(format_pct(c.f2_ever, c.customers), true) +
           td(format_pct(c.repeat_year, c.customers) + m2, true) +
           td(format_money(c.customers ? c.revenue_year / static_cast<double>(c.customers) : 0) + m2, true) + "</tr>\n";
  }
  out += "</table>\n<p class=\"note\">* the window has not ended for every buyer of the cohort yet: the figure can still "
         "grow.</p>\n";

  out += "<h3 id=\"retention\">Cohort retention: share of buyers with a purchase in the k-th month after the first</h3>\n"
         "<table class=\"retention\"><tr>" + th("cohort") + th("buyers", true);
  for (int mth = 1; mth <= kRetentionMonths; ++mth) out += th("+" + std::to_string(mth), true);
  out += "</tr>\n";
  for (const auto& c : k.cohorts) {
    out += "<tr>" + td(c.label()) + td(format_count(c.customers), true);
    for (int mth = 1; mth <= kRetentionMonths; ++mth) {
      if (mth > c.retention_observed) {
        out += "<td></td>";
        continue;
      }
      double v = share(c.retained[static_cast<size_t>(mth - 1)], c.customers);
      double alpha = std::isfinite(v) ? std::min(1.0, 0.08 + v * 2.5) : 0;
      out += fmt::format("<td class=\"n\" style=\"background:rgba(78,121,167,{:.2f})\">{}</td>", alpha,
                         esc(format_pct(c.retained[static_cast<size_t>(mth - 1)], c.customers)));
    }
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

std::string subscription_section(const Kpis& k) {
  std::string out = "<h3 id=\"subscriptions\">Subscription retention</h3>\n";
  if (k.curve.empty()) return out + "<p>No subscription started by the end date.</p>\n";
  std::vector<std::string> cats;
  ChartSeries line{"share not cancelled", kBlue, {}};
  for (const auto& p : k.curve) {
    cats.push_back(fmt::format("{} mo", p.months));
    line.values.push_back(share(p.active, p.observed));
  }
  ChartOptions o;
  o.percent = true;
  o.title = "Subscription retention curve: share still active N months after the start";
  out += svg_lines(cats, {line}, o);
  if (k.subscriptions_unknown_cancel > 0)
    out += fmt::format("<p class=\"note\">{} cancelled subscription(s) without a cancellation date are left out.</p>\n",
                       esc(format_count(k.subscriptions_unknown_cancel)));
  if (!k.reasons.empty()) {
    std::vector<std::string> names;
    std::vector<double> counts;
    for (const auto& r : k.reasons) {
      names.push_back(r.reason);
      counts.push_back(static_cast<double>(r.total));
    }
    ChartOptions h;
    h.title = "Cancellation reasons";
    h.unit = "cancellations";
    out += "<h3>Cancellation reasons</h3>\n" + svg_hbars(names, counts, kOrange, h);
    out += "<table class=\"reasons\"><tr>" + th("reason") + th("cancellations", true) + th("in the period", true) + "</tr>\n";
    for (const auto& r : k.reasons)
      out += "<tr>" + td(r.reason) + td(format_count(r.total), true) + td(format_count(r.in_period), true) + "</tr>\n";
    out += "</table>\n";
  }
  return out;
}

std::string kpi_section(const Kpis& k) {
  const PeriodKpi& p = k.period;
  std::string out = "<h2 id=\"kpis\">Shop KPIs</h2>\n";
  out += fmt::format("<p class=\"meta\">From the store, as of {} (facts dated on or before that day).</p>\n",
                     esc(format_date(k.to)));
  out += "<div class=\"cards\">";
  out += card(format_count(p.orders), "paid orders in the period");
  out += card(format_money(p.revenue), "revenue in the period");
  out += card(format_count(p.buyers), "buyers");
  out += card(format_count(p.first_orders), "first purchases");
  out += card(format_count(p.repeat_orders), "repeat orders");
  out += card(format_count(p.new_subscriptions), "new subscriptions");
  out += card(format_count(p.cancellations), "cancellations");
  out += card(format_count(p.active_subscriptions_end), "active subscriptions at the end");
  out += "</div>\n";
  return out + cohort_section(k) + subscription_section(k);
}

}  // namespace

std::string report_html(const ReportInput& in) {
  const SimulationResult& s = *in.sim;
  std::string title = "Campaign simulation: " + in.script;
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>" + esc(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
  out += "<h1>" + esc(title) + "</h1>\n";
  out += fmt::format(
      "<p class=\"meta\">Store {}, {} ({} day{}), {} customers, {} rules. A dry run: nothing was written to the "
      "store.</p>\n",
      esc(in.store), esc(range_text(s.from, s.to)), s.days.size(), s.days.size() == 1 ? "" : "s", esc(format_count(static_cast<int64_t>(s.customers))),
      s.rule_count);
  out += summary(in) + daily_chart(s) + rules_table(in) + cost_tables(s) + busiest_table(s);
  if (in.kpis) out += kpi_section(*in.kpis);
  out += "<p class=\"note\">Generated by crm simulate.</p>\n</body>\n</html>\n";
  return out;
}

const char* report_css() { return kStyle; }

}  // namespace crm::engine
