// Inline SVG charts for the HTML report (no script, no network): stacked and grouped bars,
// lines, horizontal bars. Every text that reaches the markup goes through html_escape.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace crm::engine {

// Escapes & < > " ' so that any text is safe in HTML element content and quoted attributes.
std::string html_escape(std::string_view s);

struct ChartSeries {
  std::string name;
  std::string color;           // a CSS colour such as "#4e79a7" (ours, never user data)
  std::vector<double> values;  // one per category; NaN = no value (lines break, bars skip)
};

struct ChartOptions {
  std::string title;        // the SVG's <title> and aria-label
  int width = 1200, height = 320;
  bool percent = false;     // values are 0..1 shares, axis in %
  std::string unit;         // appended to tooltip values ("sends", "yen")
};

// Vertical bars, the series stacked on each category (e.g. daily sends by channel).
std::string svg_stacked_bars(const std::vector<std::string>& categories, const std::vector<ChartSeries>& series,
                             const ChartOptions& options);
// Vertical bars, the series side by side in each category (e.g. F2 90 days and F2 ever per cohort).
std::string svg_grouped_bars(const std::vector<std::string>& categories, const std::vector<ChartSeries>& series,
                             const ChartOptions& options);
// Lines with a dot per value (e.g. the subscription retention curve).
std::string svg_lines(const std::vector<std::string>& categories, const std::vector<ChartSeries>& series,
                      const ChartOptions& options);
// One horizontal bar per category, labels on the left (e.g. cancellation reasons).
std::string svg_hbars(const std::vector<std::string>& categories, const std::vector<double>& values,
                      const std::string& color, const ChartOptions& options);

}  // namespace crm::engine
