// Data-parallel training across the ranks of mpirun (issue 23): K steps on
// N ranks, each on its shard of every global batch, give the weights one
// process gets with the global batch; the ranks hold the same weights; a
// step makes one collective call of every gradient's bytes. Run by ctest as
// `mpirun -np 2 data_parallel_test`; alone, it skips.
#include "compiler/frontend/Keras.h"
#include "runtime/Collective.h"
#include "runtime/mpi/MpiCollective.h"

#include <gtest/gtest.h>

#include <cmath>

namespace keras = nncc::fe::keras;
namespace rt = nncc::rt;
using rt::DType;
using rt::Tensor;

namespace {

keras::Sequential textbookModel(bool distributed) {
  keras::Sequential model(7);
  model.add(keras::Dense(50, "tanh").inputDim(784));
  model.add(keras::Dense(50, "tanh"));
  model.add(keras::Dense(10, "softmax"));
  model.distributed(distributed);
  return model;
}

/// 96 images of a fixed pattern and their classes, the same on every rank.
void dataset(Tensor &x, Tensor &y) {
  x = Tensor(DType::F32, {96, 784});
  y = Tensor(DType::I32, {96});
  for (int64_t i = 0; i < x.size(); ++i)
    x.data<float>()[i] = static_cast<float>((i * 37) % 23) / 23.0f - 0.5f;
  for (int64_t i = 0; i < 96; ++i)
    y.data<int32_t>()[i] = static_cast<int32_t>((i * 7) % 10);
}

keras::FitOptions recipe() {
  keras::FitOptions fit;
  fit.verbose = 0;
  fit.epochs = 2;
  fit.batchSize = 32; // the global batch: 16 rows a rank on 2 ranks
  return fit;
}

class DataParallel : public ::testing::Test {
protected:
  void SetUp() override {
    group = rt::collective();
    if (!group)
      GTEST_SKIP() << "one process: run as mpirun -np 2 data_parallel_test";
  }
  rt::Collective *group = nullptr;
};

TEST_F(DataParallel, RanksTrainAsOneProcessOnTheGlobalBatch) {
  Tensor x, y;
  dataset(x, y);
  // SGD with momentum and decay: the slots and the counter go through the
  // steps too.
  keras::Optimizer sgd = keras::SGD(0.05f).momentum(0.9f).decay(1e-3f);
  auto parallel = textbookModel(true);
  ASSERT_TRUE(parallel.compile(sgd, "sparse_categorical_crossentropy", {"accuracy"}).ok());
  const nncc::exe::SignatureSpec *train = parallel.session()->executable().signature("train");
  ASSERT_NE(train, nullptr);
  // One bucket: every gradient of the 784-50-50-10 network in one call.
  int64_t parameters = 784 * 50 + 50 + 50 * 50 + 50 + 50 * 10 + 10;
  EXPECT_EQ(train->all_reduce_calls(), 1u);
  EXPECT_EQ(train->all_reduce_bytes(), static_cast<uint64_t>(parameters * 4));

  rt::CollectiveTraffic before = rt::collectiveTraffic();
  auto history = parallel.fit(x, y, recipe());
  ASSERT_TRUE(history.ok()) << history.error();
  rt::CollectiveTraffic after = rt::collectiveTraffic();
  int64_t steps = 2 * (96 / 32);
  EXPECT_EQ(after.calls - before.calls, static_cast<uint64_t>(steps));
  EXPECT_EQ(after.bytes - before.bytes, static_cast<uint64_t>(steps * parameters * 4));

  // The reference: one process, the global batches (the executable has no
  // all-reduce, so the collective is not involved).
  auto single = textbookModel(false);
  ASSERT_TRUE(single.compile(sgd, "sparse_categorical_crossentropy", {"accuracy"}).ok());
  auto reference = single.fit(x, y, recipe());
  ASSERT_TRUE(reference.ok()) << reference.error();

  // The epochs' figures are summed over the ranks: the global batch's.
  ASSERT_EQ(history->loss.size(), reference->loss.size());
  for (size_t e = 0; e < reference->loss.size(); ++e) {
    EXPECT_NEAR(history->loss[e], reference->loss[e], 1e-5) << "epoch " << e + 1;
    EXPECT_NEAR(history->accuracy[e], reference->accuracy[e], 1e-6) << "epoch " << e + 1;
  }
  double largest = 0;
  for (const nncc::exe::VariableSpec &spec : single.session()->executable().proto().variables()) {
    auto mine = parallel.session()->variable(spec.name());
    auto want = single.session()->variable(spec.name());
    ASSERT_TRUE(mine.ok() && want.ok()) << spec.name();
    std::vector<double> a = mine->toDoubles(), b = want->toDoubles();
    ASSERT_EQ(a.size(), b.size()) << spec.name();
    for (size_t i = 0; i < a.size(); ++i) {
      // fp32, summed in another order: a few ulps of the values' scale.
      ASSERT_NEAR(a[i], b[i], 2e-5 * (1 + std::abs(b[i])))
          << spec.name() << "[" << i << "] on rank " << group->rank();
      largest = std::max(largest, std::abs(a[i] - b[i]));
    }
    // Every rank holds the same weights, bit for bit (rank 0's, broadcast).
    Tensor first = mine->clone();
    ASSERT_TRUE(group->broadcast(first.data(), static_cast<int64_t>(first.bytes()), 0).ok());
    EXPECT_EQ(std::memcmp(first.data(), mine->data(), first.bytes()), 0)
        << spec.name() << " differs between rank 0 and rank " << group->rank();
  }
  if (group->rank() == 0)
    std::printf("largest difference from one process: %.3g\n", largest);
}

TEST_F(DataParallel, AllReduceSumsAndAverages) {
  double values[2] = {1.0 + group->rank(), -2.0 * group->rank()};
  ASSERT_TRUE(group->allReduce(values, 2, DType::F64, /*mean=*/false).ok());
  int n = group->size();
  EXPECT_EQ(values[0], n * (n + 1) / 2.0);
  EXPECT_EQ(values[1], -1.0 * n * (n - 1));
  float mean[1] = {static_cast<float>(group->rank())};
  ASSERT_TRUE(group->allReduce(mean, 1, DType::F32, /*mean=*/true).ok());
  EXPECT_FLOAT_EQ(mean[0], (n - 1) / 2.0f);
  EXPECT_FALSE(group->allReduce(mean, 1, DType::I32, false).ok());
}

} // namespace

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Under mpirun: the ranks' collective. Alone: one process, the tests skip.
  std::shared_ptr<rt::Collective> group;
  if (std::getenv("OMPI_COMM_WORLD_SIZE")) {
    auto made = rt::mpi::initializeMpi();
    if (!made) {
      std::fprintf(stderr, "%s\n", made.error().c_str());
      return 1;
    }
    group = made.take();
    rt::setCollective(group);
    // Rank 0 reports; the others only fail.
    if (group->rank() != 0)
      delete ::testing::UnitTest::GetInstance()->listeners().Release(
          ::testing::UnitTest::GetInstance()->listeners().default_result_printer());
  }
  int rc = RUN_ALL_TESTS();
  rt::setCollective(nullptr);
  return rc;
}
