#include "runtime/plot/Svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace nncc::plot {
namespace {

const char *kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};

std::string escape(const std::string &s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '&':
      out += "&amp;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", std::abs(v) < 1e-12 ? 0.0 : v);
  return buf;
}

/// Rounded tick positions covering [lo, hi] (1, 2 or 5 times a power of 10).
std::vector<double> ticks(double &lo, double &hi) {
  if (!(hi > lo)) {
    lo -= 1;
    hi += 1;
  }
  double raw = (hi - lo) / 5, power = std::pow(10, std::floor(std::log10(raw)));
  double step = power * (raw / power < 1.5   ? 1
                         : raw / power < 3.5 ? 2
                         : raw / power < 7.5 ? 5
                                             : 10);
  lo = std::floor(lo / step) * step;
  hi = std::ceil(hi / step) * step;
  std::vector<double> t;
  for (double v = lo; v <= hi + step / 2; v += step)
    t.push_back(v);
  return t;
}

} // namespace

Series perEpoch(const std::string &label, const std::vector<double> &y) {
  Series s;
  s.label = label;
  s.y = y;
  for (size_t i = 0; i < y.size(); ++i)
    s.x.push_back(static_cast<double>(i + 1));
  return s;
}

std::string renderSvg(const Chart &chart) {
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  for (const Series &s : chart.series)
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) {
        xlo = std::min(xlo, s.x[i]);
        xhi = std::max(xhi, s.x[i]);
        ylo = std::min(ylo, s.y[i]);
        yhi = std::max(yhi, s.y[i]);
      }
  if (!std::isfinite(xlo))
    xlo = 0, xhi = 1, ylo = 0, yhi = 1;
  std::vector<double> xt = ticks(xlo, xhi), yt = ticks(ylo, yhi);
  const double left = 70, right = 20, top = 40, bottom = 55;
  double w = chart.width - left - right, h = chart.height - top - bottom;
  auto px = [&](double x) { return left + (x - xlo) / (xhi - xlo) * w; };
  auto py = [&](double y) { return top + h - (y - ylo) / (yhi - ylo) * h; };

  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << chart.width << "\" height=\""
    << chart.height << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    << "<text x=\"" << chart.width / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">"
    << escape(chart.title) << "</text>\n";
  for (double v : xt)
    o << "<line x1=\"" << px(v) << "\" y1=\"" << top << "\" x2=\"" << px(v) << "\" y2=\"" << top + h
      << "\" stroke=\"#e5e5e5\"/>\n<text x=\"" << px(v) << "\" y=\"" << top + h + 16
      << "\" text-anchor=\"middle\">" << number(v) << "</text>\n";
  for (double v : yt)
    o << "<line x1=\"" << left << "\" y1=\"" << py(v) << "\" x2=\"" << left + w << "\" y2=\""
      << py(v) << "\" stroke=\"#e5e5e5\"/>\n<text x=\"" << left - 6 << "\" y=\"" << py(v) + 4
      << "\" text-anchor=\"end\">" << number(v) << "</text>\n";
  o << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << w << "\" height=\"" << h
    << "\" fill=\"none\" stroke=\"black\"/>\n"
    << "<text x=\"" << left + w / 2 << "\" y=\"" << chart.height - 12
    << "\" text-anchor=\"middle\">" << escape(chart.xLabel) << "</text>\n"
    << "<text transform=\"translate(16," << top + h / 2 << ") rotate(-90)\" text-anchor=\"middle\">"
    << escape(chart.yLabel) << "</text>\n";
  for (size_t k = 0; k < chart.series.size(); ++k) {
    const Series &s = chart.series[k];
    const char *color = kColors[k % (sizeof kColors / sizeof *kColors)];
    std::ostringstream pts;
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]))
        continue;
      if (s.points)
        o << "<circle cx=\"" << px(s.x[i]) << "\" cy=\"" << py(s.y[i]) << "\" r=\"3\" fill=\""
          << color << "\"/>\n";
      else
        pts << px(s.x[i]) << "," << py(s.y[i]) << " ";
    }
    if (!s.points)
      o << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"2\" points=\""
        << pts.str() << "\"/>\n";
  }
  // The legend, on a white box in the top right corner.
  o << "<rect x=\"" << left + w - 158 << "\" y=\"" << top + 4 << "\" width=\"152\" height=\""
    << 16 * chart.series.size() + 6
    << "\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#cccccc\"/>\n";
  for (size_t k = 0; k < chart.series.size(); ++k) {
    const char *color = kColors[k % (sizeof kColors / sizeof *kColors)];
    double ly = top + 18 + 16 * static_cast<double>(k);
    if (chart.series[k].points)
      o << "<circle cx=\"" << left + w - 140 << "\" cy=\"" << ly - 4 << "\" r=\"3\" fill=\""
        << color << "\"/>\n";
    else
      o << "<line x1=\"" << left + w - 150 << "\" y1=\"" << ly - 4 << "\" x2=\"" << left + w - 130
        << "\" y2=\"" << ly - 4 << "\" stroke=\"" << color << "\" stroke-width=\"3\"/>\n";
    o << "<text x=\"" << left + w - 124 << "\" y=\"" << ly << "\">" << escape(chart.series[k].label)
      << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

rt::Status writeSvg(const Chart &chart, const std::string &path) {
  std::string tmp = path + ".tmp" + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out)
      return rt::Status::error(path + ": cannot write the picture");
    out << renderSvg(chart);
    out.flush();
    if (!out) {
      out.close();
      std::remove(tmp.c_str());
      return rt::Status::error(path + ": writing the picture failed");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return rt::Status::error(path + ": cannot write the picture (rename failed)");
  }
  return rt::Status();
}

} // namespace nncc::plot
