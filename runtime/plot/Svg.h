// Line charts as SVG files, for the pictures users ask for: E3's cost curve
// and fitted line, E6's activation curves, training loss curves (E4, E5,
// nncc train). A library of its own (nncc_plot), outside the thin runtime.
#ifndef NNCC_RUNTIME_PLOT_SVG_H
#define NNCC_RUNTIME_PLOT_SVG_H

#include "runtime/Status.h"

#include <string>
#include <vector>

namespace nncc::plot {

struct Series {
  std::string label;
  std::vector<double> x, y;
  bool points = false; // markers instead of a line
};

struct Chart {
  std::string title, xLabel, yLabel;
  std::vector<Series> series;
  int width = 640, height = 400;
};

/// The chart as an SVG document: axes with rounded ticks, one line (or set of
/// markers) per series, a legend. Non-finite points are left out.
std::string renderSvg(const Chart &chart);

/// Writes renderSvg(chart) to `path` atomically (temporary file, rename).
rt::Status writeSvg(const Chart &chart, const std::string &path);

/// A series of y against 1, 2, ..., n (epochs).
Series perEpoch(const std::string &label, const std::vector<double> &y);

} // namespace nncc::plot

#endif
