// Compiled loops (graph.proto: Loop) and device tensors on the CPU: K steps
// in one call give the same weights, bit for bit, as K single steps on the
// same batches; a dataset uploaded once is fed by handle; wrong loop feeds
// and foreign or orphaned device tensors are refused, leaving the variables
// as they were.
#include "test/e2e/CompileAndRun.h"

#include <fstream>
#include <sstream>

using nncc::rt::DeviceTensor;
using nncc::rt::Session;
using nncc::rt::Tensor;

namespace {

/// E3 (least squares) with a loop signature over its training step.
std::string e3WithLoop(int64_t steps) {
  std::ifstream in(std::string(NNCC_EXAMPLES_DIR) +
                   "/e3_linear_regression/e3_linear_regression.pbtxt");
  std::stringstream text;
  text << in.rdbuf();
  return text.str() +
         "signatures { name: \"epoch\" loop { step: \"train\" steps: " + std::to_string(steps) +
         " } }\n";
}

struct Data {
  Tensor x, y;
  std::vector<int32_t> order;
};

Data dataset() {
  Data d;
  std::vector<float> x, y;
  for (int i = 0; i < 10; ++i) {
    x.push_back(0.5f * i - 1);
    y.push_back(1.5f * i + 0.25f * (i % 3));
  }
  d.x = Tensor::of<float>({10, 1}, x);
  d.y = Tensor::of<float>({10}, y);
  d.order = {3, 7, 0, 9, 1, 5, 8, 2, 6, 4};
  return d;
}

/// Rows order[begin, end) of t.
Tensor rows(const Tensor &t, const std::vector<int32_t> &order, int64_t begin, int64_t end) {
  nncc::rt::Shape shape = t.shape();
  shape[0] = end - begin;
  Tensor out(t.dtype(), shape);
  int64_t cols = t.size() / t.shape()[0];
  for (int64_t r = begin; r < end; ++r)
    for (int64_t c = 0; c < cols; ++c)
      out.data<float>()[(r - begin) * cols + c] = t.data<float>()[order[r] * cols + c];
  return out;
}

float value(Session &s, const std::string &v) { return s.variable(v)->data<float>()[0]; }

class Loop : public ::testing::Test {
protected:
  void SetUp() override {
    exe = nncc::test::compileText(e3WithLoop(2));
    ASSERT_TRUE(exe);
  }
  std::shared_ptr<nncc::rt::Executable> exe;
};

TEST_F(Loop, StepsInOneCallEqualSingleStepsBitForBit) {
  Data d = dataset();
  Session single(exe), looped(exe);
  ASSERT_TRUE(single.initialize().ok());
  ASSERT_TRUE(looped.initialize().ok());
  // Single steps over the batches of 4, 4 and 2 rows in `order`.
  std::vector<float> losses;
  for (int64_t at = 0; at < 10; at += 4) {
    int64_t end = std::min<int64_t>(10, at + 4);
    auto out = single.run("train",
                          {{"X", rows(d.x, d.order, at, end)}, {"y", rows(d.y, d.order, at, end)}});
    ASSERT_TRUE(out.ok()) << out.error();
    losses.push_back(out->at("mean_cost").data<float>()[0]);
  }
  // The loop: batches 0 and 1 in one call, then batch 2 (and nothing more).
  Tensor order = Tensor::of<int32_t>({10}, d.order), four = Tensor::of<int32_t>({}, {4});
  std::vector<float> looping;
  for (int32_t first : {0, 2}) {
    auto out = looped.run("epoch", {{"X", d.x},
                                    {"y", d.y},
                                    {"order", order},
                                    {"first", Tensor::of<int32_t>({}, {first})},
                                    {"batch", four}});
    ASSERT_TRUE(out.ok()) << out.error();
    const Tensor &l = out->at("mean_cost");
    ASSERT_EQ(l.shape(), nncc::rt::Shape{2});
    looping.push_back(l.data<float>()[0]);
    looping.push_back(l.data<float>()[1]);
  }
  ASSERT_EQ(looping.size(), 4u);
  EXPECT_EQ(looping[3], 0.0f) << "a step past the dataset's end gives 0";
  looping.pop_back();
  EXPECT_EQ(looping, losses);
  for (const char *v : {"weight", "bias"})
    EXPECT_EQ(value(single, v), value(looped, v)) << v;
  EXPECT_EQ(looped.variable("train/iterations")->data<int64_t>()[0], 3);
  // Past the end: nothing runs, the variables stay.
  float w = value(looped, "weight");
  auto past = looped.run("epoch", {{"X", d.x},
                                   {"y", d.y},
                                   {"order", order},
                                   {"first", Tensor::of<int32_t>({}, {5})},
                                   {"batch", four}});
  ASSERT_TRUE(past.ok()) << past.error();
  EXPECT_EQ(past->at("mean_cost").toDoubles(), (std::vector<double>{0, 0}));
  EXPECT_EQ(value(looped, "weight"), w);
}

TEST_F(Loop, ADatasetUploadedOnceIsFedByHandle) {
  Data d = dataset();
  Session host(exe), device(exe);
  ASSERT_TRUE(host.initialize().ok());
  ASSERT_TRUE(device.initialize().ok());
  auto x = device.upload(d.x), y = device.upload(d.y);
  auto order = device.upload(Tensor::of<int32_t>({10}, d.order));
  ASSERT_TRUE(x.ok() && y.ok() && order.ok());
  EXPECT_EQ(x->shape(), d.x.shape());
  Tensor first = Tensor::of<int32_t>({}, {0}), four = Tensor::of<int32_t>({}, {4});
  auto a = host.run("epoch", {{"X", d.x},
                              {"y", d.y},
                              {"order", Tensor::of<int32_t>({10}, d.order)},
                              {"first", first},
                              {"batch", four}});
  auto b = device.run("epoch", {{"first", first}, {"batch", four}},
                      {{"X", *x}, {"y", *y}, {"order", *order}}, {}, {"mean_cost"});
  ASSERT_TRUE(a.ok()) << a.error();
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_TRUE(b->host.empty());
  ASSERT_EQ(b->device.count("mean_cost"), 1u);
  auto losses = device.download(b->device.at("mean_cost"));
  ASSERT_TRUE(losses.ok()) << losses.error();
  EXPECT_EQ(losses->toDoubles(), a->at("mean_cost").toDoubles());
  EXPECT_EQ(value(host, "weight"), value(device, "weight"));
  // A fetch left on the device feeds the next run: predict on its own output.
  auto p = device.run("predict", {}, {{"X", *x}}, {}, {"z_net"});
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->device.at("z_net").shape(), nncc::rt::Shape{10});
}

TEST_F(Loop, WrongLoopFeedsAreRefusedAndTheVariablesKept) {
  Data d = dataset();
  Session s(exe);
  ASSERT_TRUE(s.initialize().ok());
  Tensor order = Tensor::of<int32_t>({10}, d.order);
  Tensor first = Tensor::of<int32_t>({}, {0}), four = Tensor::of<int32_t>({}, {4});
  auto expectError = [&](const nncc::rt::TensorMap &feeds, const std::string &message) {
    auto out = s.run("epoch", feeds);
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.error().find(message), std::string::npos) << out.error();
    EXPECT_EQ(value(s, "weight"), 0.0f);
  };
  expectError({{"X", d.x},
               {"y", rows(d.y, d.order, 0, 8)},
               {"order", order},
               {"first", first},
               {"batch", four}},
              "different numbers of rows (10 and 8)");
  expectError({{"X", d.x},
               {"y", d.y},
               {"order", Tensor::of<int32_t>({9}, d.order)},
               {"first", first},
               {"batch", four}},
              "feed 'order' has 9 entries for a dataset of 10 rows");
  std::vector<int32_t> bad = d.order;
  bad[4] = 10;
  expectError({{"X", d.x},
               {"y", d.y},
               {"order", Tensor::of<int32_t>({10}, bad)},
               {"first", first},
               {"batch", four}},
              "feed 'order' names row 10 (entry 4) of a dataset of 10 rows");
  expectError({{"X", d.x},
               {"y", d.y},
               {"order", order},
               {"first", Tensor::of<int32_t>({}, {-1})},
               {"batch", four}},
              "feed 'first' is -1");
  expectError({{"X", d.x},
               {"y", d.y},
               {"order", order},
               {"first", first},
               {"batch", Tensor::of<int32_t>({}, {0})}},
              "feed 'batch' is 0");
  expectError({{"X", d.x}, {"y", d.y}, {"order", order}, {"batch", four}},
              "needs feed 'first' (i32 ())");
}

TEST_F(Loop, DeviceTensorsOfAnotherOrAReleasedSessionAreRefused) {
  Data d = dataset();
  auto other = std::make_unique<Session>(exe);
  Session s(exe);
  ASSERT_TRUE(s.initialize().ok());
  auto x = other->upload(d.x);
  ASSERT_TRUE(x.ok()) << x.error();
  auto run = [&] { return s.run("predict", {}, {{"X", *x}}, {"z_net"}, {}); };
  auto foreign = run();
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.error().find("device feed 'X' of signature 'predict' is a device tensor "
                                 "of another session"),
            std::string::npos)
      << foreign.error();
  other.reset();
  auto released = run();
  ASSERT_FALSE(released.ok());
  EXPECT_NE(released.error().find("a session that was released"), std::string::npos)
      << released.error();
  auto down = s.download(*x);
  ASSERT_FALSE(down.ok());
  EXPECT_NE(down.error().find("released"), std::string::npos) << down.error();
  auto twice = s.upload(d.x);
  ASSERT_TRUE(twice.ok());
  auto both = s.run("predict", {{"X", d.x}}, {{"X", *twice}}, {}, {});
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.error().find("fed twice"), std::string::npos) << both.error();
  EXPECT_FALSE(s.run("predict", {}, {{"X", DeviceTensor()}}, {}, {}).ok());
}

} // namespace
