// The text report of `crm simulate`: aligned tables of the simulation and of the shop's KPIs,
// plus the number formatting shared with the HTML report.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "engine/report/report.hpp"
#include "lang/terminal_safe.hpp"

namespace crm::engine {
namespace {

// Columns on a terminal: East Asian wide characters take two (cancel reasons are often Japanese).
size_t display_width(std::string_view s) {
  size_t w = 0;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    uint32_t cp = c;
    size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (n > 1 && i + n <= s.size()) {
      cp = c & (0xFF >> (n + 1));
      for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    i += n;
    bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
                (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1FAFF) || (cp >= 0x20000 && cp <= 0x3FFFD);
    w += wide ? 2 : 1;
  }
  return w;
}

// Columns aligned by display width: text left, numbers right.
struct Table {
  std::vector<std::string> head;
  std::vector<bool> right;  // per column
  std::vector<std::vector<std::string>> rows;

  std::string render(const std::string& indent = "") const {
    std::vector<size_t> w(head.size(), 0);
    auto widen = [&](const std::vector<std::string>& row) {
      for (size_t i = 0; i < row.size() && i < w.size(); ++i) w[i] = std::max(w[i], display_width(row[i]));
    };
    std::vector<std::vector<std::string>> clean;
    for (const auto& r : rows) {
      clean.push_back(r);
      for (auto& cell : clean.back()) {  // store data must not drive the terminal (escape sequences)
        cell = lang::terminal_safe(cell);
        for (char& ch : cell)
          if (ch == '\n') ch = '?';
      }
    }
    widen(head);
    for (const auto& r : clean) widen(r);
    std::string out;
    auto line = [&](const std::vector<std::string>& row) {
      std::string l = indent;
      for (size_t i = 0; i < row.size() && i < w.size(); ++i) {
        if (i > 0) l += "  ";
        std::string pad(w[i] - display_width(row[i]), ' ');
        l += right[i] ? pad + row[i] : row[i] + (i + 1 < row.size() ? pad : "");
      }
      while (!l.empty() && l.back() == ' ') l.pop_back();
      out += l + "\n";
    };
    line(head);
    for (const auto& r : clean) line(r);
    return out;
  }
};

std::string range_text(Days from, Days to) {
  return from == to ? format_date(from) : format_date(from) + " to " + format_date(to);
}

void status_cells(std::vector<std::string>& row, const StatusCounts& c) {
  for (int64_t n : c) row.push_back(format_count(n));
}

std::string rule_tables(const SimulationResult& s) {
  Table t{{"rule", "action", "sent", "held_out", "blocked_consent", "blocked_cap"},
          {false, false, true, true, true, true}, {}};
  for (const auto& r : s.rules) {
    if (r.by_action.empty()) {
      t.rows.push_back({r.name, "(none)", "0", "0", "0", "0"});
      continue;
    }
    for (const auto& [what, c] : r.by_action) {
      std::vector<std::string> row{r.name, what};
      status_cells(row, c);
      t.rows.push_back(std::move(row));
    }
  }
  std::vector<std::string> total{"total", ""};
  status_cells(total, s.total);
  t.rows.push_back(std::move(total));
  std::string out = "Actions by rule (actions, counted on each day they occur: a customer held out or blocked on\n"
                    "five days counts five times)\n" + t.render("  ");

  Table reach{{"rule", "reached", "held out", "blocked", "cost", "first customers (day)"},
              {false, true, true, true, true, false}, {}};
  for (const auto& r : s.rules) {
    std::string samples;
    for (const auto& x : r.samples) samples += (samples.empty() ? "" : ", ") + fmt::format("{} ({})", x.customer, format_date(x.date));
    reach.rows.push_back({r.name, format_count(r.reached), format_count(r.held_out_customers),
                          format_count(r.blocked_customers), format_money(r.cost), samples.empty() ? "-" : samples});
  }
  reach.rows.push_back({"any rule", format_count(s.touched), format_count(s.held_out_customers),
                        format_count(s.blocked_customers), format_money(s.cost), ""});
  out += "\nCustomers by rule (distinct over the range: reached = with an action that passed; held out, blocked =\n"
         "with an action held out, or blocked by consent or a cap, on any day)\n" + reach.render("  ");
  return out;
}

std::string channel_table(const SimulationResult& s) {
  Table t{{"channel", "sent", "held_out", "blocked_consent", "blocked_cap", "reached", "cost"},
          {false, true, true, true, true, true, true}, {}};
  for (int ch = 0; ch < lang::kChannelCount; ++ch) {
    const SimChannel& c = s.channels[static_cast<size_t>(ch)];
    if (c.counts == StatusCounts{}) continue;
    std::vector<std::string> row{lang::channel_name(static_cast<lang::Channel>(ch))};
    status_cells(row, c.counts);
    row.push_back(format_count(c.reached));
    row.push_back(format_money(c.cost));
    t.rows.push_back(std::move(row));
  }
  if (t.rows.empty()) return "Sends by channel\n  no sends\n";
  return "Sends by channel\n" + t.render("  ");
}

std::string cost_table(const SimulationResult& s) {
  Table t{{"message", "channel", "unit cost", "sent", "cost"}, {false, false, true, true, true}, {}};
  for (const auto& m : s.messages)
    t.rows.push_back({m.name, m.channel, format_money(m.unit_cost), format_count(m.sent), format_money(m.cost)});
  t.rows.push_back({"total", "", "", "", format_money(s.cost)});
  if (s.messages.empty()) return "Message cost\n  no messages sent\n";
  return "Message cost (from `message ... cost N`)\n" + t.render("  ");
}

std::string day_row_label(const SimDay& d) {
  static const char* kWeekdays[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};  // 1970-01-01 was a Thursday
  return format_date(d.date) + " " + kWeekdays[((d.date % 7) + 7) % 7];
}

std::vector<std::string> day_cells(const SimDay& d) {
  std::vector<std::string> row{day_row_label(d)};
  int64_t sends = 0;
  for (int ch = 0; ch < lang::kChannelCount; ++ch) {
    row.push_back(format_count(d.sends[static_cast<size_t>(ch)][0]));
    sends += d.sends[static_cast<size_t>(ch)][0];
  }
  row.push_back(format_count(d.actions[0] - sends));
  for (size_t s = 1; s < 4; ++s) row.push_back(format_count(d.actions[s]));
  row.push_back(format_money(d.cost));
  return row;
}

Table day_table() {
  Table t{{"date"}, {false}, {}};
  for (int ch = 0; ch < lang::kChannelCount; ++ch) {
    t.head.push_back(lang::channel_name(static_cast<lang::Channel>(ch)));
    t.right.push_back(true);
  }
  for (const char* h : {"other", "held_out", "blocked_consent", "blocked_cap", "cost"}) {
    t.head.push_back(h);
    t.right.push_back(true);
  }
  return t;
}

}  // namespace

std::string format_count(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string format_money(double v) {
  if (!std::isfinite(v)) return "-";
  double whole = std::round(v);
  if (std::fabs(v - whole) < 0.005) return format_count(static_cast<int64_t>(whole));
  double cents = std::round(std::fabs(v) * 100);
  auto units = static_cast<int64_t>(cents / 100);
  std::string out = format_count(units) + fmt::format(".{:02}", static_cast<int64_t>(cents) % 100);
  return v < 0 ? "-" + out : out;
}

std::string format_pct(int64_t num, int64_t den) {
  if (den <= 0) return "-";
  return fmt::format("{:.1f}%", 100.0 * static_cast<double>(num) / static_cast<double>(den));
}

std::string simulation_text(const ReportInput& in) {
  const SimulationResult& s = *in.sim;
  std::string out = fmt::format("Simulation of {} on {}, {} ({} day{}, {} customers, {} rules)\n", in.script, in.store,
                                range_text(s.from, s.to), s.days.size(), s.days.size() == 1 ? "" : "s", format_count(static_cast<int64_t>(s.customers)),
                                s.rule_count);
  out += "Nothing was written to the store: history and tags were kept in memory across the days.\n\n";
  out += rule_tables(s) + "\n" + channel_table(s) + "\n" + cost_table(s) + "\n";
  out += fmt::format("Distinct customers reached: {} by a message, {} by any action (of {})\n\n", format_count(s.reached),
                     format_count(s.touched), format_count(static_cast<int64_t>(s.customers)));

  auto busiest = s.busiest();
  if (!busiest.empty()) {
    Table b = day_table();
    for (const SimDay* d : busiest) b.rows.push_back(day_cells(*d));
    out += "Busiest days (passed actions; sends by channel, other action kinds, blocked)\n" + b.render("  ") + "\n";
  }
  for (const auto& r : s.rules)
    if (!r.samples.empty()) {
      out += fmt::format("Inspect a sample customer, e.g.:\n  crm explain {} --db {} --customer {} --date {}\n\n", in.script,
                         in.store, r.samples[0].customer, format_date(r.samples[0].date));
      break;
    }
  Table days = day_table();
  for (const auto& d : s.days) days.rows.push_back(day_cells(d));
  out += "Daily volume (the first day also carries what `once` rules would have sent before the range)\n" +
         days.render("  ");
  return out;
}

std::string kpis_text(const Kpis& k) {
  std::string out = fmt::format("Shop KPIs as of {} (facts dated on or before that day)\n\n", format_date(k.to));
  const PeriodKpi& p = k.period;
  out += fmt::format("In the period {}:\n", range_text(k.from, k.to));
  out += fmt::format("  paid orders {} (revenue {}), buyers {}, first purchases {}, repeat orders {}\n", format_count(p.orders),
                     format_money(p.revenue), format_count(p.buyers), format_count(p.first_orders),
                     format_count(p.repeat_orders));
  out += fmt::format("  subscriptions: {} new, {} cancelled; active {} on {}, {} on {}\n\n", format_count(p.new_subscriptions),
                     format_count(p.cancellations), format_count(p.active_subscriptions_start), format_date(k.from),
                     format_count(p.active_subscriptions_end), format_date(k.to));

  if (k.cohorts.empty()) {
    out += "First-time buyer cohorts: no first purchase in the last " + std::to_string(kCohortMonths) + " months\n\n";
  } else {
    Table c{{"cohort", "buyers", fmt::format("F2 {}d", kF2WindowDays), "F2 ever", "repeat 12m", "revenue/customer 12m"},
            {false, true, true, true, true, true}, {}};
    for (const auto& x : k.cohorts) {
      std::string mark_f2 = x.f2_window_complete ? " " : "*", mark_year = x.year_complete ? " " : "*";
      c.rows.push_back({x.label(), format_count(x.customers), format_pct(x.f2_window, x.customers) + mark_f2,
                        format_pct(x.f2_ever, x.customers), format_pct(x.repeat_year, x.customers) + mark_year,
                        format_money(x.customers ? x.revenue_year / static_cast<double>(x.customers) : 0) + mark_year});
    }
    out += "First-time buyer cohorts by month of first purchase (F2: a second purchase; * the window has not\n"
           "ended for every buyer yet, so the figure can still grow)\n" +
           c.render("  ") + "\n";
    Table r{{"cohort"}, {false}, {}};
    for (int m = 1; m <= kRetentionMonths; ++m) {
      r.head.push_back(fmt::format("+{}", m));
      r.right.push_back(true);
    }
    for (const auto& x : k.cohorts) {
      std::vector<std::string> row{x.label()};
      for (int m = 1; m <= kRetentionMonths; ++m)
        row.push_back(m <= x.retention_observed ? format_pct(x.retained[static_cast<size_t>(m - 1)], x.customers) : "");
      r.rows.push_back(std::move(row));
    }
    out += "Cohort retention: share of buyers with a purchase in the k-th month after their first\n" + r.render("  ") + "\n";
  }

  if (k.curve.empty()) {
    out += "Subscription retention: no subscription started by " + format_date(k.to) + "\n";
  } else {
    Table s{{"months", "observed", "active", "retained"}, {true, true, true, true}, {}};
    for (const auto& pt : k.curve)
      s.rows.push_back({std::to_string(pt.months), format_count(pt.observed), format_count(pt.active),
                        format_pct(pt.active, pt.observed)});
    out += "Subscription retention: share not cancelled N months after the start (subscriptions old enough)\n" +
           s.render("  ");
    if (k.subscriptions_unknown_cancel > 0)
      out += fmt::format("  ({} cancelled subscription(s) without a cancellation date are left out)\n",
                         format_count(k.subscriptions_unknown_cancel));
  }
  if (!k.reasons.empty()) {
    int64_t total = 0;
    for (const auto& r : k.reasons) total += r.total;
    Table t{{"reason", "cancellations", "share", "in period"}, {false, true, true, true}, {}};
    for (const auto& r : k.reasons)
      t.rows.push_back({r.reason, format_count(r.total), format_pct(r.total, total), format_count(r.in_period)});
    out += "\nCancellation reasons\n" + t.render("  ");
  }
  return out;
}

}  // namespace crm::engine
