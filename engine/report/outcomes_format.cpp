// The outputs of outcomes: aligned text tables, one JSON object or CSV row per campaign/rule, and
// the HTML section (a table and a treated-vs-held-out chart per campaign) for reports.
#include <fmt/format.h>

#include <array>
#include <cmath>
#include <vector>

#include "engine/report/outcomes.hpp"
#include "engine/report/report.hpp"
#include "engine/report/svg_chart.hpp"
#include "engine/run/simulate.hpp"

namespace crm::engine {
namespace {

constexpr const char* kTreatedColor = "#4e79a7";
constexpr const char* kHeldOutColor = "#bab0ac";
constexpr const char* kNotEnough = "not enough customers to tell";

std::string rate(int64_t num, int64_t den) { return format_pct(num, den); }

// "+2.1 pts (-3.0 to +7.2)" for a difference of shares; a "*" marks an interval without 0.
std::string points(const Uplift& u) {
  return fmt::format("{:+.1f} pts ({:+.1f} to {:+.1f}){}", 100 * u.diff, 100 * u.low, 100 * u.high,
                     u.significant() ? " *" : "");
}
std::string money_diff(double v) { return (v < 0 ? "-" : "+") + format_money(std::fabs(v)); }
std::string money_uplift(const Uplift& u) {
  return fmt::format("{} ({} to {}){}", money_diff(u.diff), money_diff(u.low), money_diff(u.high),
                     u.significant() ? " *" : "");
}

std::string kind_title(const OutcomeRow& row) {
  std::string t = (row.campaign ? "campaign " : "rule ") + row.name;
  t += row.holdout_pct > 0 ? fmt::format(" (holdout {}%)", row.holdout_pct) : " (no holdout)";
  return t;
}

// The metric rows shared by text and HTML: label, treated, held out, uplift.
std::vector<std::array<std::string, 4>> metric_rows(const OutcomeRow& row, const OutcomesResult& r) {
  const OutcomeArm &t = row.treated, &h = row.held_out;
  std::vector<std::array<std::string, 4>> out;
  out.push_back({"customers", format_count(t.customers), format_count(h.customers), ""});
  out.push_back({fmt::format("converted (paid order in {} days)", r.window), rate(t.converted, t.customers),
                 rate(h.converted, h.customers), row.conversion ? points(*row.conversion) : kNotEnough});
  out.push_back({"orders", format_count(t.orders), format_count(h.orders), ""});
  out.push_back({"revenue", format_money(t.revenue), format_money(h.revenue), ""});
  out.push_back({"revenue per customer", t.customers ? format_money(t.revenue_per_customer()) : "-",
                 h.customers ? format_money(h.revenue_per_customer()) : "-",
                 row.revenue_per_customer ? money_uplift(*row.revenue_per_customer) : ""});
  out.push_back({"F2 of first-time buyers", rate(t.f2, t.first_buyers) + " of " + format_count(t.first_buyers),
                 rate(h.f2, h.first_buyers) + " of " + format_count(h.first_buyers), row.f2 ? points(*row.f2) : kNotEnough});
  if (t.coupon_customers > 0 && r.has_coupons)
    out.push_back({"coupon redeemed", rate(t.coupon_redeemed, t.coupon_customers) + " of " + format_count(t.coupon_customers),
                   "-", ""});
  if (t.from_outbox > 0) out.push_back({"really sent (outbox rows)", format_count(t.from_outbox), "-", ""});
  return out;
}

std::string header_line(const OutcomesResult& r) {
  int64_t real = 0;
  for (const auto& row : r.rows)
    if (!row.campaign) real += row.treated.from_outbox;
  std::string s = fmt::format("Actions from {} to {}; orders counted in the {} days after each customer's first action "
                              "(the last order in the store is on {}).",
                              format_date(r.from), format_date(r.to), r.window,
                              r.data_end == kNoDay ? std::string("-") : format_date(r.data_end));
  s += real == 0 ? "\nA backtest: no outbox row falls in the range, so the treated customers are those the script "
                   "would have acted on; nobody was really sent anything."
                 : "\nTreated customers whose first action is a row of the real outbox are counted as really sent; "
                   "the others come from a dry run of the script over the range.";
  return s;
}

void json_arm(std::string& out, const OutcomeArm& a) {
  out += fmt::format(
      "{{\"customers\":{},\"converted\":{},\"orders\":{},\"revenue\":{:.2f},\"first_buyers\":{},\"f2\":{},"
      "\"coupon_customers\":{},\"coupon_redeemed\":{},\"from_outbox\":{}}}",
      a.customers, a.converted, a.orders, a.revenue, a.first_buyers, a.f2, a.coupon_customers, a.coupon_redeemed,
      a.from_outbox);
}

void json_uplift(std::string& out, const char* key, const std::optional<Uplift>& u, const char* fmt_spec) {
  out += fmt::format(",\"{}\":", key);
  if (!u) {
    out += "null";
    return;
  }
  out += fmt::format(fmt::runtime(std::string("{{\"diff\":{") + fmt_spec + "},\"low\":{" + fmt_spec + "},\"high\":{" +
                                  fmt_spec + "},\"significant\":{}}}"),
                     u->diff, u->low, u->high, u->significant());
}

}  // namespace

std::string outcomes_text(const OutcomesResult& r) {
  std::string out = "Outcomes: treated vs held-out customers\n" + header_line(r) + "\n";
  if (r.rows.empty()) return out + "\nNo campaign or rule had an action in the range.\n";
  out += fmt::format("An interval marked * excludes 0. Fewer than {} customers in an arm: not enough customers to tell.\n",
                     r.min_customers);
  for (const auto& row : r.rows) {
    out += "\n" + kind_title(row) + "\n";
    auto rows = metric_rows(row, r);
    std::array<std::string, 4> head{"", "treated", "held out", "uplift (95% interval)"};
    std::array<size_t, 4> w{};
    for (size_t k = 0; k < 4; ++k) w[k] = head[k].size();
    for (const auto& m : rows)
      for (size_t k = 0; k < 4; ++k) w[k] = std::max(w[k], m[k].size());
    auto line = [&](const std::array<std::string, 4>& m) {
      std::string s = fmt::format("  {:<{}}  {:>{}}  {:>{}}  {}", m[0], w[0], m[1], w[1], m[2], w[2], m[3]);
      while (!s.empty() && s.back() == ' ') s.pop_back();
      return s + "\n";
    };
    out += line(head);
    for (const auto& m : rows) out += line(m);
    if (row.holdout_pct <= 0 && row.held_out.customers == 0)
      out += "  no holdout: every customer was treated, so there is nothing to compare with\n";
    if (row.cut_windows > 0)
      out += fmt::format("  note: {} customer(s) have a window that runs past the last order in the store\n",
                         format_count(row.cut_windows));
  }
  return out;
}

std::string outcomes_jsonl(const OutcomesResult& r) {
  std::string out;
  for (const auto& row : r.rows) {
    out += "{\"name\":";
    append_json_string(out, row.name);
    out += fmt::format(",\"kind\":\"{}\",\"holdout_pct\":{},\"from\":\"{}\",\"to\":\"{}\",\"window\":{},\"treated\":",
                       row.campaign ? "campaign" : "rule", row.holdout_pct, format_date(r.from), format_date(r.to), r.window);
    json_arm(out, row.treated);
    out += ",\"held_out\":";
    json_arm(out, row.held_out);
    json_uplift(out, "conversion_uplift", row.conversion, ":.6f");
    json_uplift(out, "revenue_per_customer_uplift", row.revenue_per_customer, ":.2f");
    json_uplift(out, "f2_uplift", row.f2, ":.6f");
    out += fmt::format(",\"cut_windows\":{}}}\n", row.cut_windows);
  }
  return out;
}

std::string outcomes_csv(const OutcomesResult& r) {
  std::string out =
      "name,kind,holdout_pct,treated_customers,held_out_customers,treated_converted,held_out_converted,"
      "treated_orders,held_out_orders,treated_revenue,held_out_revenue,treated_first_buyers,held_out_first_buyers,"
      "treated_f2,held_out_f2,conversion_diff,conversion_low,conversion_high,revenue_per_customer_diff,"
      "revenue_per_customer_low,revenue_per_customer_high,f2_diff,f2_low,f2_high,treated_from_outbox,"
      "coupon_customers,coupon_redeemed,cut_windows\n";
  auto interval = [](const std::optional<Uplift>& u, const char* f) {
    if (!u) return std::string(",,");
    return fmt::format(fmt::runtime(std::string("{") + f + "},{" + f + "},{" + f + "}"), u->diff, u->low, u->high);
  };
  for (const auto& row : r.rows) {
    append_csv_field(out, row.name);
    const OutcomeArm &t = row.treated, &h = row.held_out;
    out += fmt::format(",{},{},{},{},{},{},{},{},{:.2f},{:.2f},{},{},{},{},", row.campaign ? "campaign" : "rule",
                       row.holdout_pct, t.customers, h.customers, t.converted, h.converted, t.orders, h.orders, t.revenue,
                       h.revenue, t.first_buyers, h.first_buyers, t.f2, h.f2);
    out += interval(row.conversion, ":.6f") + "," + interval(row.revenue_per_customer, ":.2f") + "," +
           interval(row.f2, ":.6f");
    out += fmt::format(",{},{},{},{}\n", t.from_outbox, t.coupon_customers, t.coupon_redeemed, row.cut_windows);
  }
  return out;
}

std::string outcomes_html_section(const OutcomesResult& r) {
  std::string out = "<h2 id=\"outcomes\">Outcomes: treated vs held-out customers</h2>\n";
  out += "<p class=\"note\">" + html_escape(header_line(r)) + " " +
         html_escape(fmt::format("Treated: customers with an action (sent, or blocked by consent or a cap); held out: "
                                 "customers the holdout put aside. Uplift with its 95% interval; * marks an interval "
                                 "without 0; fewer than {} customers in an arm: not enough customers to tell.",
                                 r.min_customers)) +
         "</p>\n";
  if (r.rows.empty()) return out + "<p>No campaign or rule had an action in the range.</p>\n";
  for (const auto& row : r.rows) {
    out += "<h3>" + html_escape(kind_title(row)) + "</h3>\n<table>\n<tr><th></th><th class=\"n\">treated</th>"
           "<th class=\"n\">held out</th><th>uplift (95% interval)</th></tr>\n";
    for (const auto& m : metric_rows(row, r))
      out += fmt::format("<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>\n",
                         html_escape(m[0]), html_escape(m[1]), html_escape(m[2]), html_escape(m[3]));
    out += "</table>\n";
    if (row.cut_windows > 0)
      out += fmt::format("<p class=\"note\">{} customer(s) have a window that runs past the last order in the store.</p>\n",
                         html_escape(format_count(row.cut_windows)));
    if (row.campaign || row.holdout_pct > 0) {
      const OutcomeArm &t = row.treated, &h = row.held_out;
      auto share = [](int64_t x, int64_t n) { return n ? static_cast<double>(x) / static_cast<double>(n) : NAN; };
      ChartOptions o;
      o.title = "Treated vs held out: " + row.name;
      o.width = 600;
      o.height = 240;
      o.percent = true;
      out += svg_grouped_bars({"converted", "F2 of first-time buyers"},
                              {{"treated", kTreatedColor, {share(t.converted, t.customers), share(t.f2, t.first_buyers)}},
                               {"held out", kHeldOutColor, {share(h.converted, h.customers), share(h.f2, h.first_buyers)}}},
                              o);
    }
  }
  return out;
}

std::string outcomes_html_document(const OutcomesResult& r, const std::string& script, const std::string& store) {
  std::string title = "Campaign outcomes: " + script;
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>" + html_escape(title) + "</title>\n<style>"
         "body{font-family:system-ui,sans-serif;margin:24px 32px;color:#222}h1{font-size:24px}"
         "h2{font-size:19px;border-bottom:1px solid #ddd}h3{font-size:16px;margin:22px 0 6px}p.note{color:#555}"
         "table{border-collapse:collapse;font-size:13px}th,td{border-bottom:1px solid #eee;padding:4px 8px;text-align:left}"
         "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
         "svg.chart{width:100%;max-width:600px;height:auto;display:block}svg .grid{stroke:#e6e6e6}"
         "svg .tick{font-size:11px;fill:#555}svg .legend{font-size:12px;fill:#333}"
         "</style>\n</head>\n<body>\n";
  out += "<h1>" + html_escape(title) + "</h1>\n<p class=\"note\">Store " + html_escape(store) + ".</p>\n";
  out += outcomes_html_section(r);
  out += "<p class=\"note\">Generated by crm outcomes.</p>\n</body>\n</html>\n";
  return out;
}

}  // namespace crm::engine
