// Inline SVG charts: a plot area with a y axis of "nice" ticks, sparse x labels, a legend, and
// a <title> tooltip on every bar and dot. Deterministic output (fixed number formats).
#include "engine/report/svg_chart.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace crm::engine {
namespace {

constexpr double kLeft = 64, kRight = 16, kTop = 34, kBottom = 46;  // margins around the plot
constexpr double kLabelPx = 84;  // room for one x label ("2026-10-01"): fewer labels on dense axes
constexpr int kTicks = 5;

// The axis maximum: the smallest round step (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of
// ten) at least `v`, so that the tallest bar fills most of the plot; 1 when there is nothing.
double nice_max(double v) {
  if (!(v > 0) || !std::isfinite(v)) return 1;
  double e = std::pow(10.0, std::floor(std::log10(v)));
  for (double f : {1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0})
    if (v <= f * e * (1 + 1e-9)) return f * e;
  return 10 * e;
}

std::string num(double v) {  // SVG coordinates
  return fmt::format("{:.1f}", v);
}

std::string value_text(double v, bool percent) {
  if (percent) return fmt::format("{:.1f}%", v * 100);
  if (std::fabs(v - std::round(v)) < 1e-9) return fmt::format("{}", static_cast<long long>(std::llround(v)));
  return fmt::format("{:.2f}", v);
}

std::string tick_text(double v, bool percent) {
  if (percent) return fmt::format("{:.0f}%", v * 100);
  if (v >= 1e6) return fmt::format("{:g}M", v / 1e6);
  if (v >= 1e3) return fmt::format("{:g}k", v / 1e3);
  return fmt::format("{:g}", v);
}

struct Plot {
  double x0, y0, w, h, ymax;
  bool percent;
  double y(double v) const { return y0 + h - (v / ymax) * h; }
};

std::string open_svg(const ChartOptions& o) {
  std::string t = html_escape(o.title);
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {} {}\" role=\"img\" "
      "aria-label=\"{}\"><title>{}</title>\n",
      o.width, o.height, t, t);
}

std::string axes(const Plot& p, const std::vector<std::string>& cats) {
  std::string out;
  for (int i = 0; i <= kTicks; ++i) {
    double v = p.ymax * i / kTicks, y = p.y(v);
    out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"grid\"/>", num(p.x0), num(y), num(p.x0 + p.w),
                       num(y));
    out += fmt::format("<text x=\"{}\" y=\"{}\" class=\"tick\" text-anchor=\"end\">{}</text>\n", num(p.x0 - 6), num(y + 4),
                       html_escape(tick_text(v, p.percent)));
  }
  if (cats.empty()) return out;
  const double band = p.w / static_cast<double>(cats.size());
  const size_t step = std::max<size_t>(1, static_cast<size_t>(std::ceil(kLabelPx / band)));
  for (size_t i = 0; i < cats.size(); i += step) {
    if (p.x0 + band * (i + 0.5) + kLabelPx / 2 > p.x0 + p.w + kRight) break;  // would be cut at the right edge
    out += fmt::format("<text x=\"{}\" y=\"{}\" class=\"tick\" text-anchor=\"middle\">{}</text>", num(p.x0 + band * (i + 0.5)),
                       num(p.y0 + p.h + 18), html_escape(cats[i]));
  }
  out += "\n";
  return out;
}

std::string legend(const std::vector<ChartSeries>& series, const ChartOptions& o) {
  std::string out;
  double x = kLeft;
  for (const auto& s : series) {
    out += fmt::format("<rect x=\"{}\" y=\"10\" width=\"12\" height=\"12\" fill=\"{}\"/>", num(x), html_escape(s.color));
    out += fmt::format("<text x=\"{}\" y=\"20\" class=\"legend\">{}</text>", num(x + 16), html_escape(s.name));
    x += 16 + 8.0 * static_cast<double>(s.name.size()) + 18;
  }
  return out + "\n";
}

Plot make_plot(const ChartOptions& o, double max_value) {
  double ymax = nice_max(max_value);
  if (o.percent) ymax = std::min(ymax, 1.0);
  return Plot{kLeft, kTop, o.width - kLeft - kRight, o.height - kTop - kBottom, ymax, o.percent};
}

std::string tooltip(const std::string& category, const std::string& series, double v, const ChartOptions& o) {
  std::string t = category + ": " + (series.empty() ? "" : series + " ") + value_text(v, o.percent);
  if (!o.unit.empty()) t += " " + o.unit;
  return "<title>" + html_escape(t) + "</title>";
}

}  // namespace

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string svg_stacked_bars(const std::vector<std::string>& cats, const std::vector<ChartSeries>& series,
                             const ChartOptions& o) {
  double max_total = 0;
  for (size_t i = 0; i < cats.size(); ++i) {
    double t = 0;
    for (const auto& s : series)
      if (i < s.values.size() && std::isfinite(s.values[i])) t += s.values[i];
    max_total = std::max(max_total, t);
  }
  Plot p = make_plot(o, max_total);
  std::string out = open_svg(o) + axes(p, cats) + legend(series, o);
  const double band = cats.empty() ? 0 : p.w / static_cast<double>(cats.size());
  const double bw = std::max(1.0, band * 0.8);
  for (size_t i = 0; i < cats.size(); ++i) {
    double base = 0;
    for (const auto& s : series) {
      double v = i < s.values.size() ? s.values[i] : 0;
      if (!(v > 0)) continue;
      double y1 = p.y(base + v), y2 = p.y(base);
      out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\">{}</rect>",
                         num(p.x0 + band * i + (band - bw) / 2), num(y1), num(bw), num(std::max(0.0, y2 - y1)),
                         html_escape(s.color), tooltip(cats[i], s.name, v, o));
      base += v;
    }
    out += "\n";
  }
  return out + "</svg>\n";
}

std::string svg_grouped_bars(const std::vector<std::string>& cats, const std::vector<ChartSeries>& series,
                             const ChartOptions& o) {
  double mx = 0;
  for (const auto& s : series)
    for (double v : s.values)
      if (std::isfinite(v)) mx = std::max(mx, v);
  Plot p = make_plot(o, mx);
  std::string out = open_svg(o) + axes(p, cats) + legend(series, o);
  const double band = cats.empty() ? 0 : p.w / static_cast<double>(cats.size());
  const double bw = series.empty() ? 0 : band * 0.8 / static_cast<double>(series.size());
  for (size_t i = 0; i < cats.size(); ++i) {
    for (size_t k = 0; k < series.size(); ++k) {
      double v = i < series[k].values.size() ? series[k].values[i] : NAN;
      if (!std::isfinite(v)) continue;
      double y = p.y(std::min(v, p.ymax));
      out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\">{}</rect>",
                         num(p.x0 + band * i + band * 0.1 + bw * k), num(y), num(std::max(1.0, bw - 1)),
                         num(std::max(0.0, p.y0 + p.h - y)), html_escape(series[k].color),
                         tooltip(cats[i], series[k].name, v, o));
    }
    out += "\n";
  }
  return out + "</svg>\n";
}

std::string svg_lines(const std::vector<std::string>& cats, const std::vector<ChartSeries>& series, const ChartOptions& o) {
  double mx = 0;
  for (const auto& s : series)
    for (double v : s.values)
      if (std::isfinite(v)) mx = std::max(mx, v);
  Plot p = make_plot(o, mx);
  std::string out = open_svg(o) + axes(p, cats) + legend(series, o);
  const double band = cats.empty() ? 0 : p.w / static_cast<double>(cats.size());
  for (const auto& s : series) {
    std::string d;
    bool pen = false;
    for (size_t i = 0; i < cats.size(); ++i) {
      double v = i < s.values.size() ? s.values[i] : NAN;
      if (!std::isfinite(v)) {
        pen = false;
        continue;
      }
      d += fmt::format("{}{} {} ", pen ? "L" : "M", num(p.x0 + band * (i + 0.5)), num(p.y(std::min(v, p.ymax))));
      pen = true;
    }
    if (!d.empty())
      out += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>\n", d, html_escape(s.color));
    for (size_t i = 0; i < cats.size(); ++i) {
      double v = i < s.values.size() ? s.values[i] : NAN;
      if (!std::isfinite(v)) continue;
      out += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"{}\">{}</circle>", num(p.x0 + band * (i + 0.5)),
                         num(p.y(std::min(v, p.ymax))), html_escape(s.color), tooltip(cats[i], s.name, v, o));
    }
    out += "\n";
  }
  return out + "</svg>\n";
}

std::string svg_hbars(const std::vector<std::string>& cats, const std::vector<double>& values, const std::string& color,
                      const ChartOptions& o) {
  constexpr double kRow = 26, kLabelW = 300;
  ChartOptions sized = o;
  sized.height = static_cast<int>(kTop + kRow * static_cast<double>(cats.size()) + 10);
  double mx = 0;
  for (double v : values)
    if (std::isfinite(v)) mx = std::max(mx, v);
  const double w = o.width - kLabelW - 90;
  std::string out = open_svg(sized);
  for (size_t i = 0; i < cats.size(); ++i) {
    double v = i < values.size() && std::isfinite(values[i]) ? values[i] : 0;
    double y = kTop + kRow * static_cast<double>(i);
    double bw = mx > 0 ? w * v / mx : 0;
    out += fmt::format("<text x=\"{}\" y=\"{}\" class=\"tick\" text-anchor=\"end\">{}</text>", num(kLabelW - 8),
                       num(y + kRow * 0.65), html_escape(cats[i]));
    out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\">{}</rect>", num(kLabelW), num(y + 3),
                       num(std::max(1.0, bw)), num(kRow - 6), html_escape(color), tooltip(cats[i], "", v, o));
    out += fmt::format("<text x=\"{}\" y=\"{}\" class=\"tick\">{}</text>\n", num(kLabelW + bw + 6), num(y + kRow * 0.65),
                       html_escape(value_text(v, o.percent)));
  }
  return out + "</svg>\n";
}

}  // namespace crm::engine
