// Numeric checks (CompileOptions::checkNumerics, --check-numerics): a run
// fails naming the first op that produced a NaN or an infinity — forward,
// gradient or optimizer update — and the variables keep their values.
#include "test/e2e/CompileAndRun.h"

#include <cmath>
#include <fstream>

using nncc::rt::Session;
using nncc::rt::Tensor;

namespace {

std::shared_ptr<nncc::rt::Executable> compileChecked(const std::string &pbtxt, bool check = true) {
  auto loaded = nncc::parseGraphText(pbtxt, "model.pbtxt");
  if (!loaded) {
    ADD_FAILURE() << llvm::toString(loaded.takeError());
    return nullptr;
  }
  nncc::CompileOptions options;
  options.checkNumerics = check;
  return nncc::test::orFail(nncc::compileAndLoad(*loaded, options));
}

const char *kLogs = R"pb(
  placeholders { name: "x" dtype: F32 shape { dims: -1 } }
  variables { name: "w" dtype: F32 shape: 2 initializer { kind: ONES } }
  nodes { name: "scaled" op: "mul" inputs: "x" inputs: "w" }
  nodes { name: "logs" op: "log" inputs: "scaled" }
  nodes { name: "doubled" op: "add" inputs: "logs" inputs: "logs" }
  signatures { name: "f" feeds: "x" fetches: "doubled" }
)pb";

TEST(CheckNumerics, NamesTheFirstNodeThatMadeANaN) {
  auto unchecked = compileChecked(kLogs, false);
  ASSERT_TRUE(unchecked);
  EXPECT_EQ(unchecked->proto().numeric_checks_size(), 0);
  Session plain(unchecked);
  ASSERT_TRUE(plain.initialize().ok());
  auto silent = plain.run("f", {{"x", Tensor::of<float>({2}, {1, -1})}});
  ASSERT_TRUE(silent.ok()) << silent.error();
  EXPECT_TRUE(std::isnan(silent->at("doubled").data<float>()[1]));

  auto exe = compileChecked(kLogs);
  ASSERT_TRUE(exe);
  // One check per floating-point op: scaled, logs, doubled.
  EXPECT_EQ(exe->proto().numeric_checks_size(), 3);
  Session s(exe);
  ASSERT_TRUE(s.initialize().ok());
  auto bad = s.run("f", {{"x", Tensor::of<float>({2}, {1, -1})}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), "signature 'f': node 'logs' (nn.log) produced NaN or Inf, the "
                         "first op that did in this run; the variables are unchanged");
  // log(0) is -Inf: the same node.
  auto zero = s.run("f", {{"x", Tensor::of<float>({2}, {1, 0})}});
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.error().find("node 'logs' (nn.log)"), std::string::npos) << zero.error();
  // A fed NaN is named as the feed it came in.
  auto fed = s.run("f", {{"x", Tensor::of<float>({2}, {1, NAN})}});
  ASSERT_FALSE(fed.ok());
  EXPECT_EQ(fed.error(), "feed 'x' of signature 'f' holds NaN or Inf (element 1, "
                         "numeric checks are on)");
  // So is a variable holding one (restored, or set by the caller).
  ASSERT_TRUE(s.setVariable("w", Tensor::of<float>({2}, {1, INFINITY})).ok());
  auto held = s.run("f", {{"x", Tensor::of<float>({2}, {1, 2})}});
  ASSERT_FALSE(held.ok());
  EXPECT_EQ(held.error(), "variable 'w' read by signature 'f' holds NaN or Inf (element 1, "
                          "numeric checks are on)");
  ASSERT_TRUE(s.setVariable("w", Tensor::of<float>({2}, {1, 1})).ok());
  // Finite runs go on giving the same results as unchecked code.
  auto good = s.run("f", {{"x", Tensor::of<float>({2}, {1, 2})}});
  ASSERT_TRUE(good.ok()) << good.error();
  auto same = plain.run("f", {{"x", Tensor::of<float>({2}, {1, 2})}});
  EXPECT_EQ(good->at("doubled").toDoubles(), same->at("doubled").toDoubles());
}

// The forward pass is finite (log(1e-39) = -89.8) but the gradient of log,
// 1 / 1e-39, overflows f32: the gradient's op is named.
TEST(CheckNumerics, NamesTheGradientOfANode) {
  auto exe = compileChecked(R"pb(
    variables { name: "w" dtype: F32 shape: 1
                initializer { kind: CONSTANT value { dtype: F32 float_val: 1e-39 } } }
    nodes { name: "logs" op: "log" inputs: "w" }
    nodes { name: "total" op: "reduce_sum" inputs: "logs" }
    signatures { name: "train" loss: "total" fetches: "total"
                 optimizer { kind: "sgd" learning_rate: 0.1 } }
  )pb");
  ASSERT_TRUE(exe);
  Session s(exe);
  ASSERT_TRUE(s.initialize().ok());
  auto r = s.run("train", {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("signature 'train': the gradient of node 'logs' (nn."),
            std::string::npos)
      << r.error();
  EXPECT_EQ(s.variable("w")->data<float>()[0], 1e-39f);
}

// E3 with a learning rate that makes gradient descent diverge: every step
// multiplies the error by about -5000, so within a few steps a value
// overflows. The run that overflows fails, naming the op, and leaves the
// weights of the step before (finite) in place.
TEST(CheckNumerics, DivergingTrainingStopsWithTheLastFiniteWeights) {
  std::ifstream in(std::string(NNCC_EXAMPLES_DIR) +
                   "/e3_linear_regression/e3_linear_regression.pbtxt");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  size_t at = text.find("learning_rate: 0.01");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 19, "learning_rate: 100");
  auto exe = compileChecked(text);
  ASSERT_TRUE(exe);
  Session s(exe);
  ASSERT_TRUE(s.initialize().ok());
  Tensor x = Tensor::of<float>({10, 1}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor y = Tensor::of<float>({10}, {1.0, 1.3, 3.1, 2.0, 5.0, 6.3, 6.6, 7.4, 8.0, 9.0});
  std::string error;
  int steps = 0;
  std::vector<double> before;
  for (; steps < 100 && error.empty(); ++steps) {
    before = s.variable("weight")->toDoubles();
    auto r = s.run("train", {{"X", x}, {"y", y}});
    if (!r.ok())
      error = r.error();
  }
  ASSERT_FALSE(error.empty()) << "100 steps at learning rate 100 stayed finite";
  EXPECT_GT(steps, 2);
  EXPECT_NE(error.find("produced NaN or Inf, the first op that did in this run; the "
                       "variables are unchanged"),
            std::string::npos)
      << error;
  EXPECT_EQ(s.variable("weight")->toDoubles(), before);
  EXPECT_TRUE(std::isfinite(before[0]));
}

} // namespace
