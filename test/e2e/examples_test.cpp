// The textbook examples E1, E2 and E6 (shared/SEED-EXAMPLES.md) from
// compiled code, through the C++ runtime API.
#include "test/e2e/CompileAndRun.h"

#include <cmath>

using nncc::rt::Session;
using nncc::rt::Tensor;

namespace {

std::string example(const std::string &name) {
  return std::string(NNCC_EXAMPLES_DIR) + "/" + name + "/" + name + ".pbtxt";
}

void expectNear(const Tensor &t, const std::vector<double> &want, double tol) {
  auto got = t.toDoubles();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

TEST(Examples, E1NetInputScalarsAndBatch) {
  auto exe = nncc::test::compileFile(example("e1_net_input"));
  ASSERT_TRUE(exe);
  Session s(exe);
  ASSERT_TRUE(s.initialize().ok());
  const std::pair<float, float> cases[] = {{1.0f, 2.7f}, {0.6f, 1.9f}, {-1.8f, -2.9f}};
  for (auto [x, z] : cases) {
    auto out = s.run("predict", {{"x", Tensor::of<float>({}, {x})}}, {"z"});
    ASSERT_TRUE(out.ok()) << out.error();
    const Tensor &t = out->at("z");
    EXPECT_EQ(t.rank(), 0);
    expectNear(t, {z}, 1e-6);
  }
  auto out = s.run("predict", {{"x", Tensor::of<float>({3}, {1, 2, 3})}});
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_EQ(out->at("z").shape(), (nncc::rt::Shape{3}));
  expectNear(out->at("z"), {2.7, 4.7, 6.7}, 1e-6);
}

TEST(Examples, E2ArrayStructures) {
  auto exe = nncc::test::compileFile(example("e2_array_structures"));
  ASSERT_TRUE(exe);
  Session s(exe);
  ASSERT_TRUE(s.initialize().ok());
  std::vector<float> x(18);
  for (int i = 0; i < 18; ++i)
    x[i] = static_cast<float>(i);
  auto out = s.run("predict", {{"input_x", Tensor::of<float>({3, 2, 3}, x)}});
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_EQ(out->at("x2").shape(), (nncc::rt::Shape{3, 6}));
  expectNear(out->at("x2"), std::vector<double>(x.begin(), x.end()), 0);
  expectNear(out->at("col_sum"), {18, 21, 24, 27, 30, 33}, 0);
  expectNear(out->at("col_mean"), {6, 7, 8, 9, 10, 11}, 1e-6);
  EXPECT_EQ(out->at("flat").shape(), (nncc::rt::Shape{18}));
  // The batch is unknown: other sizes run through the same code.
  for (int64_t batch : {1, 64, 1000}) {
    std::vector<float> ones(batch * 6, 1.0f);
    auto r = s.run("predict", {{"input_x", Tensor::of<float>({batch, 2, 3}, ones)}}, {"col_sum"});
    ASSERT_TRUE(r.ok()) << r.error();
    expectNear(r->at("col_sum"), std::vector<double>(6, double(batch)), 0);
  }
}

TEST(Examples, E6Activations) {
  auto exe = nncc::test::compileFile(example("e6_activations"));
  ASSERT_TRUE(exe);
  Session s(exe);
  ASSERT_TRUE(s.initialize().ok());
  auto logistic = s.run("logistic", {{"X", Tensor::of<double>({1, 3}, {1, 1.4, 2.5})},
                                     {"w", Tensor::of<double>({3, 1}, {0.4, 0.3, 0.5})}});
  ASSERT_TRUE(logistic.ok()) << logistic.error();
  EXPECT_NEAR(logistic->at("p_y1").toDoubles()[0], 0.888, 5e-4);

  auto layer = s.run("layer", {{"W", Tensor::of<double>({3, 4}, {1.1, 1.2, 0.8, 0.4, 0.2, 0.4, 1.0,
                                                                 0.2, 0.6, 1.5, 1.2, 0.7})},
                               {"A", Tensor::of<double>({4, 1}, {1, 0.1, 0.4, 0.6})}});
  ASSERT_TRUE(layer.ok()) << layer.error();
  expectNear(layer->at("Z"), {1.78, 0.76, 1.65}, 1e-12);
  expectNear(layer->at("logistic_Z"), {0.85569687, 0.68135373, 0.83889105}, 5e-9);
  EXPECT_EQ(layer->at("argmax_Z").toDoubles()[0], 0);
  expectNear(layer->at("softmax_Z"), {0.44668973, 0.16107406, 0.39223621}, 5e-9);
  expectNear(layer->at("softmax_sum"), {1.0}, 1e-6);

  std::vector<double> z;
  for (int i = 0; i < 2000; ++i)
    z.push_back(-5.0 + 0.005 * i);
  auto curves = s.run("curves", {{"z", Tensor::of<double>({2000}, z)}});
  ASSERT_TRUE(curves.ok()) << curves.error();
  auto tanh = curves->at("tanh_z").toDoubles();
  auto sig = curves->at("logistic_z").toDoubles();
  const double tanhStart[] = {-0.99990920, -0.99990829, -0.99990737};
  const double tanhEnd[] = {0.99990644, 0.99990737, 0.99990829};
  const double sigStart[] = {0.00669285, 0.00672617, 0.00675966};
  const double sigEnd[] = {0.99320669, 0.99324034, 0.99327383};
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(tanh[i], tanhStart[i], 5e-9);
    EXPECT_NEAR(tanh[1997 + i], tanhEnd[i], 5e-9);
    EXPECT_NEAR(sig[i], sigStart[i], 5e-9);
    EXPECT_NEAR(sig[1997 + i], sigEnd[i], 5e-9);
  }
  auto relu = curves->at("relu_z").toDoubles();
  for (size_t i = 0; i < z.size(); ++i)
    EXPECT_EQ(relu[i], std::max(0.0, z[i]));
}

} // namespace
