// The SVG chart writer: what it draws, what it leaves out, how it fails.
#include "runtime/plot/Svg.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace nncc::plot;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

int count(const std::string &text, const std::string &what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

TEST(Svg, DrawsLinesMarkersAxesAndLegend) {
  Chart chart{"Loss <per> epoch & more", "epoch", "loss", {}};
  chart.series.push_back(perEpoch("loss", {0.8, 0.5, 0.45, NAN, 0.4}));
  chart.series.push_back(perEpoch("val_loss", {0.55, 0.48, 0.44, 0.43, 0.42}));
  chart.series.push_back({"data", {1, 2, 3}, {0.5, 0.6, 0.7}, true});
  std::string svg = renderSvg(chart);
  EXPECT_THAT(svg,
              HasSubstr("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"400\""));
  EXPECT_THAT(svg, HasSubstr("Loss &lt;per&gt; epoch &amp; more"));
  EXPECT_EQ(count(svg, "<polyline"), 2);
  EXPECT_EQ(count(svg, "<circle"), 3 + 1); // the points and their legend marker
  EXPECT_THAT(svg, HasSubstr(">val_loss</text>"));
  EXPECT_THAT(svg, HasSubstr(">epoch</text>"));
  // Rounded ticks covering the data: 0.4 .. 0.8 on y, 1 .. 5 on x.
  EXPECT_THAT(svg, HasSubstr(">0.4</text>"));
  EXPECT_THAT(svg, HasSubstr(">0.8</text>"));
  EXPECT_THAT(svg, HasSubstr(">5</text>"));
  EXPECT_THAT(svg, Not(HasSubstr("nan")));
  EXPECT_THAT(svg, HasSubstr("</svg>"));
  // The NaN point is left out of the first line: 4 points, not 5.
  size_t line = svg.find("<polyline");
  std::string points = svg.substr(line, svg.find("/>", line) - line);
  EXPECT_EQ(count(points, ","), 4);
}

TEST(Svg, EmptyAndFlatChartsStillRender) {
  EXPECT_THAT(renderSvg(Chart{"empty", "x", "y", {}}), HasSubstr("</svg>"));
  Chart flat{"flat", "x", "y", {}};
  flat.series.push_back(perEpoch("c", {2, 2, 2}));
  std::string svg = renderSvg(flat);
  EXPECT_EQ(count(svg, "<polyline"), 1);
  EXPECT_THAT(svg, Not(HasSubstr("nan")));
  EXPECT_THAT(svg, Not(HasSubstr("inf")));
}

TEST(Svg, WritesAtomicallyAndFailsClearly) {
  std::string path = ::testing::TempDir() + "/nncc_plot_test.svg";
  Chart chart{"t", "x", "y", {perEpoch("s", {1, 2})}};
  ASSERT_TRUE(writeSvg(chart, path).ok());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), renderSvg(chart));
  struct stat st;
  EXPECT_NE(stat((path + ".tmp" + std::to_string(getpid())).c_str(), &st), 0);
  auto bad = writeSvg(chart, "/nonexistent-dir/x.svg");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.message(), HasSubstr("/nonexistent-dir/x.svg: cannot write the picture"));
  std::remove(path.c_str());
}

} // namespace
