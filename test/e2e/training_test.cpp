// Training from compiled code: E3 (least squares by gradient descent)
// against the PyTorch reference in shared/reference/RESULTS-cpu.md.
#include "test/e2e/CompileAndRun.h"

using nncc::rt::Session;
using nncc::rt::Tensor;

namespace {

std::string example(const std::string &name) {
  return std::string(NNCC_EXAMPLES_DIR) + "/" + name + "/" + name + ".pbtxt";
}

TEST(Training, E3LeastSquaresMatchesReference) {
  auto exe = nncc::test::compileFile(example("e3_linear_regression"));
  ASSERT_TRUE(exe);
  Session s(exe);
  ASSERT_TRUE(s.initialize().ok());
  std::vector<float> x, y = {1.0f, 1.3f, 3.1f, 2.0f, 5.0f, 6.3f, 6.6f, 7.4f, 8.0f, 9.0f};
  for (int i = 0; i < 10; ++i)
    x.push_back(static_cast<float>(i));
  Tensor X = Tensor::of<float>({10, 1}, x), Y = Tensor::of<float>({10}, y);
  const double reference[] = {32.431,    6.0113096,  1.4461251,  0.65659344, 0.5193632,
                              0.4948352, 0.48978752, 0.48811454, 0.48703352, 0.48606348};
  for (double want : reference) {
    auto out = s.run("train", {{"X", X}, {"y", Y}}, {"mean_cost"});
    ASSERT_TRUE(out.ok()) << out.error();
    double cost = out->at("mean_cost").toDoubles()[0];
    EXPECT_NEAR(cost, want, 1e-5 * want);
  }
  EXPECT_NEAR(s.variable("weight")->toDoubles()[0], 1.0273236, 1e-5);
  EXPECT_NEAR(s.variable("bias")->toDoubles()[0], 0.19570024, 1e-5 * 0.2);
  EXPECT_EQ(s.variable("train/iterations")->toDoubles()[0], 10);
  auto pred = s.run("predict", {{"X", X}});
  ASSERT_TRUE(pred.ok()) << pred.error();
  const double predictions[] = {0.1957002, 1.223024, 2.250347, 3.277671, 4.304995,
                                5.332318,  6.359642, 7.386965, 8.414289, 9.441613};
  auto z = pred->at("z_net").toDoubles();
  ASSERT_EQ(z.size(), 10u);
  for (int i = 0; i < 10; ++i)
    EXPECT_NEAR(z[i], predictions[i], 1e-5 * std::max(1.0, predictions[i]));
}

} // namespace
