// E4 on Fashion-MNIST: the layers-API MLP trains from compiled code. Two
// epochs of the 50, checked against the NumPy reference for the same recipe
// (shared/reference/peers/seed_mlp_numpy.py --optim sgd, seeds 1, 7, 123:
// epoch-1 loss 1.33-1.44, epoch-2 loss 0.93-0.96).
#include "test/e2e/CompileAndRun.h"

#include "examples/e4_mlp_layers/MlpModel.h"
#include "runtime/ThreadPool.h"
#include "runtime/data/Idx.h"

#include <random>
#include <sys/stat.h>

namespace {

const char *kData = "/usr/share/datasets/fashion-mnist";

TEST(Mlp, E4TrainsOnFashionMnist) {
  struct stat st;
  if (stat(kData, &st) != 0)
    GTEST_SKIP() << kData << " is missing (Debian package dataset-fashion-mnist)";
  auto data = nncc::rt::data::readMnistDir(kData);
  ASSERT_TRUE(data.ok()) << data.error();
  ASSERT_EQ(data->trainImages.shape(), (nncc::rt::Shape{60000, 784}));
  ASSERT_EQ(data->testLabels.size(), 10000);
  nncc::rt::data::standardize(data->trainImages, data->testImages);

  auto exe = nncc::test::orFail(
      nncc::compileAndLoad(nncc::fromProto(nncc::examples::buildLayersMlp(1).proto(), "e4")));
  ASSERT_TRUE(exe);
  nncc::rt::Session s(exe);
  ASSERT_TRUE(s.initialize().ok());
  nncc::rt::data::BatchIterator batches(data->trainImages, data->trainLabels, 64, 1);
  EXPECT_EQ(batches.batchesPerEpoch(), 938);
  nncc::rt::Tensor xb, yb;
  std::vector<double> losses;
  for (int epoch = 0; epoch < 2; ++epoch) {
    batches.startEpoch();
    double sum = 0;
    int steps = 0;
    while (batches.next(xb, yb)) {
      auto out = s.run("train", {{"tf_x", xb}, {"tf_y", yb}}, {"cost"});
      ASSERT_TRUE(out.ok()) << out.error();
      sum += out->at("cost").toDoubles()[0];
      ++steps;
    }
    EXPECT_EQ(steps, 938);
    losses.push_back(sum / steps);
  }
  EXPECT_GT(losses[0], 1.25);
  EXPECT_LT(losses[0], 1.55);
  EXPECT_GT(losses[1], 0.85);
  EXPECT_LT(losses[1], 1.0);
  auto pred = s.run("predict", {{"tf_x", data->testImages}});
  ASSERT_TRUE(pred.ok()) << pred.error();
  auto classes = pred->at("predicted_classes").toDoubles();
  int correct = 0;
  for (int i = 0; i < 10000; ++i)
    correct += classes[i] == data->testLabels.data<int32_t>()[i];
  // After two epochs the NumPy reference is at about 72-75%.
  EXPECT_GT(correct, 6800);
  auto probs = pred->at("softmax_tensor");
  EXPECT_EQ(probs.shape(), (nncc::rt::Shape{10000, 10}));
  double rowSum = 0;
  for (int j = 0; j < 10; ++j)
    rowSum += probs.data<float>()[j];
  EXPECT_NEAR(rowSum, 1.0, 1e-5);
}

/// Normal images and labels in [0, 10) for the MLP.
void randomBatch(std::mt19937 &rng, nncc::rt::Tensor &x, nncc::rt::Tensor &y) {
  std::normal_distribution<float> normal;
  for (int64_t i = 0; i < x.size(); ++i)
    x.data<float>()[i] = normal(rng);
  for (int64_t i = 0; i < y.size(); ++i)
    y.data<int32_t>()[i] = static_cast<int32_t>(rng() % 10);
}

} // namespace

// Fusion changes speed, not results: the MLP compiled with and without
// nn-fuse trains to the same weights, bit for bit, over 50 steps of
// random data, and predicts the same probabilities.
TEST(Mlp, FusedAndUnfusedAgreeBitForBit) {
  auto model = nncc::fromProto(nncc::examples::buildLayersMlp(7).proto(), "e4");
  nncc::CompileOptions unfused;
  unfused.fuse = false;
  auto a = nncc::test::orFail(nncc::compileAndLoad(model));
  auto b = nncc::test::orFail(nncc::compileAndLoad(model, unfused));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->proto().signatures(0).kernels(), 13);
  EXPECT_GT(b->proto().signatures(0).kernels(), 40); // one per op
  nncc::rt::Session sa(a), sb(b);
  ASSERT_TRUE(sa.initialize().ok() && sb.initialize().ok());
  std::mt19937 rng(3);
  nncc::rt::Tensor x(nncc::rt::DType::F32, {64, 784}), y(nncc::rt::DType::I32, {64});
  for (int step = 0; step < 50; ++step) {
    randomBatch(rng, x, y);
    auto oa = sa.run("train", {{"tf_x", x}, {"tf_y", y}}, {"cost"});
    auto ob = sb.run("train", {{"tf_x", x}, {"tf_y", y}}, {"cost"});
    ASSERT_TRUE(oa.ok() && ob.ok());
    ASSERT_EQ(oa->at("cost").toDoubles(), ob->at("cost").toDoubles()) << "step " << step;
  }
  for (const char *v : {"layer1/kernel", "layer2/bias", "layer3/kernel"})
    EXPECT_EQ(sa.variable(v)->toDoubles(), sb.variable(v)->toDoubles()) << v;
  auto pa = sa.run("predict", {{"tf_x", x}}), pb = sb.run("predict", {{"tf_x", x}});
  ASSERT_TRUE(pa.ok() && pb.ok());
  EXPECT_EQ(pa->at("softmax_tensor").toDoubles(), pb->at("softmax_tensor").toDoubles());
}

// Splitting over threads changes speed, not results: the MLP trained on one
// thread and on the whole pool ends at the same weights, bit for bit. Batches
// of 64 split x . W1 and x^T . dZ1 (1M multiply-adds a task); a predict of
// 2000 rows splits its maps too (100K elements: nn-cpu-parallel-rows).
TEST(Mlp, OneThreadAndThePoolAgreeBitForBit) {
  auto exe = nncc::test::orFail(
      nncc::compileAndLoad(nncc::fromProto(nncc::examples::buildLayersMlp(5).proto(), "e4")));
  ASSERT_TRUE(exe);
  nncc::rt::setThreadCount(256);
  int pool = nncc::rt::threadCount();
  if (pool == 1)
    GTEST_LOG_(INFO) << "one hardware thread: nothing is split";
  auto train = [&](int threads) {
    nncc::rt::setThreadCount(threads);
    nncc::rt::Session s(exe);
    EXPECT_TRUE(s.initialize().ok());
    std::mt19937 rng(11);
    std::normal_distribution<float> normal;
    nncc::rt::Tensor x(nncc::rt::DType::F32, {64, 784}), y(nncc::rt::DType::I32, {64});
    for (int step = 0; step < 20; ++step) {
      randomBatch(rng, x, y);
      EXPECT_TRUE(s.run("train", {{"tf_x", x}, {"tf_y", y}}, {"cost"}).ok());
    }
    nncc::rt::Tensor big(nncc::rt::DType::F32, {2000, 784});
    for (int64_t i = 0; i < big.size(); ++i)
      big.data<float>()[i] = normal(rng);
    auto p = s.run("predict", {{"tf_x", big}});
    EXPECT_TRUE(p.ok());
    std::vector<double> all = p->at("softmax_tensor").toDoubles();
    for (const char *v : {"layer1/kernel", "layer1/bias", "layer2/kernel", "layer3/bias"}) {
      std::vector<double> w = s.variable(v)->toDoubles();
      all.insert(all.end(), w.begin(), w.end());
    }
    return all;
  };
  std::vector<double> one = train(1), all = train(pool);
  nncc::rt::setThreadCount(pool);
  ASSERT_EQ(one.size(), all.size());
  EXPECT_TRUE(one == all);
}
