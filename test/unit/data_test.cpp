// idx files (plain and gzip), the textbook's standardization, and the
// seeded shuffling batch iterator.
#include "runtime/data/Idx.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <set>

using nncc::rt::DType;
using nncc::rt::Tensor;
namespace data = nncc::rt::data;

namespace {

std::string idxBytes(unsigned char type, const std::vector<uint32_t> &dims,
                     const std::string &payload) {
  std::string s = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int shift : {24, 16, 8, 0})
      s.push_back(static_cast<char>((d >> shift) & 0xff));
  return s + payload;
}

std::string writeFile(const std::string &name, const std::string &bytes, bool gzip) {
  std::string path = ::testing::TempDir() + "/" + name;
  if (gzip) {
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
  } else {
    std::ofstream(path, std::ios::binary) << bytes;
  }
  return path;
}

TEST(Idx, ReadsPlainAndGzipUnsignedBytes) {
  std::string payload = {1, 2, 3, 4, 5, static_cast<char>(255)};
  for (bool gz : {false, true}) {
    auto t = data::readIdx(
        writeFile(gz ? "a.idx.gz" : "a.idx", idxBytes(0x08, {2, 3}, payload), gz), DType::F32);
    ASSERT_TRUE(t.ok()) << t.error();
    EXPECT_EQ(t->shape(), (nncc::rt::Shape{2, 3}));
    EXPECT_EQ(t->toDoubles(), (std::vector<double>{1, 2, 3, 4, 5, 255}));
  }
  auto labels =
      data::readIdx(writeFile("l.idx", idxBytes(0x08, {3}, {7, 0, 9}), false), DType::I32);
  ASSERT_TRUE(labels.ok()) << labels.error();
  EXPECT_EQ(labels->dtype(), DType::I32);
  EXPECT_EQ(labels->toDoubles(), (std::vector<double>{7, 0, 9}));
}

TEST(Idx, BadFilesAreErrorsNamingTheFile) {
  auto missing = data::readIdx(::testing::TempDir() + "/nope.idx", DType::F32);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("nope.idx: cannot open"), std::string::npos) << missing.error();

  auto magic = data::readIdx(writeFile("m.idx", "\x01\x02\x08\x01xxxx", false), DType::F32);
  ASSERT_FALSE(magic.ok());
  EXPECT_NE(magic.error().find("bad magic"), std::string::npos) << magic.error();

  auto type = data::readIdx(writeFile("t.idx", idxBytes(0x07, {1}, "a"), false), DType::F32);
  ASSERT_FALSE(type.ok());
  EXPECT_NE(type.error().find("unknown idx element type"), std::string::npos) << type.error();

  auto shortData =
      data::readIdx(writeFile("s.idx", idxBytes(0x08, {4, 4}, "abc"), false), DType::F32);
  ASSERT_FALSE(shortData.ok());
  EXPECT_NE(shortData.error().find("shorter than its shape (4, 4)"), std::string::npos)
      << shortData.error();

  // A corrupt header claiming 2^64 elements is refused before any allocation.
  auto huge = data::readIdx(
      writeFile("h.idx", idxBytes(0x08, {0xffffffffu, 0xffffffffu}, ""), false), DType::F32);
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.error().find("more than 2^32 elements"), std::string::npos) << huge.error();

  // Floats read as labels (found by fuzz_idx: -1.7e38 cast to int32 was
  // undefined behaviour): values no i32 holds are errors.
  std::string floats = idxBytes(0x0D, {2}, std::string("\x3f\xc0\x00\x00\xfe\xff\xff\xff", 8));
  auto labels = data::readIdx(writeFile("f.idx", floats, false), DType::I32);
  ASSERT_FALSE(labels.ok());
  EXPECT_NE(labels.error().find("f.idx: element 0 is 1.500000, not a whole number an i32 holds"),
            std::string::npos)
      << labels.error();
}

TEST(Idx, FashionMnistFromDebian) {
  auto d = data::readMnistDir("/usr/share/datasets/fashion-mnist");
  if (!d.ok())
    GTEST_SKIP() << d.error();
  EXPECT_EQ(d->trainImages.shape(), (nncc::rt::Shape{60000, 784}));
  EXPECT_EQ(d->testImages.shape(), (nncc::rt::Shape{10000, 784}));
  // The first three Fashion-MNIST training labels: ankle boot, t-shirt, t-shirt.
  EXPECT_EQ(d->trainLabels.data<int32_t>()[0], 9);
  EXPECT_EQ(d->trainLabels.data<int32_t>()[1], 0);
  EXPECT_EQ(d->trainLabels.data<int32_t>()[2], 0);
  auto missing = data::readMnistDir(::testing::TempDir() + "/no-such-dir");
  EXPECT_FALSE(missing.ok());
}

TEST(Standardize, CentersPixelsAndScalesByTheGlobalStd) {
  // Two pixels over three rows: raw values 0, 255, 51 and 102, 102, 102.
  Tensor train = Tensor::of<float>({3, 2}, {0, 102, 255, 102, 51, 102});
  Tensor test = Tensor::of<float>({1, 2}, {255, 0});
  data::standardize(train, test);
  // Scaled: x = (p/255 - 0.5) * 2 ; pixel means -0.2667 and -0.2; the
  // global std of the scaled training matrix.
  std::vector<double> scaled = {-1, -0.2, 1, -0.2, -0.6, -0.2};
  double mean = 0, sq = 0;
  for (double v : scaled)
    mean += v / 6;
  for (double v : scaled)
    sq += (v - mean) * (v - mean) / 6;
  double stddev = std::sqrt(sq);
  double m0 = (-1 + 1 - 0.6) / 3, m1 = -0.2;
  auto t = train.toDoubles();
  EXPECT_NEAR(t[0], (-1 - m0) / stddev, 1e-6);
  EXPECT_NEAR(t[1], 0, 1e-6);
  EXPECT_NEAR(t[2], (1 - m0) / stddev, 1e-6);
  EXPECT_NEAR(test.toDoubles()[0], (1 - m0) / stddev, 1e-6);
  EXPECT_NEAR(test.toDoubles()[1], (-1 - m1) / stddev, 1e-6);
}

TEST(BatchIterator, EveryRowOncePerEpochLastBatchPartial) {
  std::vector<float> xs;
  std::vector<int32_t> ys;
  for (int i = 0; i < 10; ++i) {
    xs.push_back(static_cast<float>(i));
    xs.push_back(static_cast<float>(100 + i));
    ys.push_back(i);
  }
  Tensor x = Tensor::of<float>({10, 2}, xs), y = Tensor::of<int32_t>({10}, ys);
  data::BatchIterator it(x, y, 4, 123);
  EXPECT_EQ(it.batchesPerEpoch(), 3);
  std::vector<std::vector<int>> orders;
  for (int epoch = 0; epoch < 2; ++epoch) {
    it.startEpoch();
    Tensor xb, yb;
    std::vector<int> order, sizes;
    while (it.next(xb, yb)) {
      sizes.push_back(static_cast<int>(yb.size()));
      for (int64_t r = 0; r < yb.size(); ++r) {
        int label = yb.data<int32_t>()[r];
        order.push_back(label);
        EXPECT_EQ(xb.data<float>()[2 * r], label); // rows stay together
        EXPECT_EQ(xb.data<float>()[2 * r + 1], 100 + label);
      }
    }
    EXPECT_EQ(sizes, (std::vector<int>{4, 4, 2}));
    EXPECT_EQ(std::set<int>(order.begin(), order.end()).size(), 10u);
    orders.push_back(order);
  }
  EXPECT_NE(orders[0], orders[1]); // reshuffled every epoch
  data::BatchIterator again(x, y, 4, 123);
  again.startEpoch();
  Tensor xb, yb;
  ASSERT_TRUE(again.next(xb, yb));
  EXPECT_EQ(yb.data<int32_t>()[0], orders[0][0]); // same seed, same order
}

// More batches than a prefetched chunk holds: every chunk boundary, a last
// batch of one row, an epoch restarted halfway through a chunk.
TEST(BatchIterator, ManyChunksInOrderAndRestartedMidChunk) {
  const int rows = 100, batch = 3; // 34 batches, the last of 1 row
  ASSERT_GT(34u, 4 * data::BatchIterator::kChunk);
  std::vector<float> xs;
  std::vector<int32_t> ys;
  for (int i = 0; i < rows; ++i) {
    xs.push_back(static_cast<float>(i));
    ys.push_back(i);
  }
  Tensor x = Tensor::of<float>({rows, 1}, xs), y = Tensor::of<int32_t>({rows}, ys);
  auto epoch = [&](data::BatchIterator &it, int stopAfter) {
    std::vector<int> seen;
    Tensor xb, yb;
    it.startEpoch();
    for (int b = 0; b != stopAfter && it.next(xb, yb); ++b) {
      EXPECT_LE(yb.size(), batch);
      for (int64_t r = 0; r < yb.size(); ++r) {
        EXPECT_EQ(xb.data<float>()[r], yb.data<int32_t>()[r]);
        seen.push_back(yb.data<int32_t>()[r]);
      }
    }
    return seen;
  };
  data::BatchIterator inOrder(x, y, batch, 1, /*shuffle=*/false);
  std::vector<int> expected(rows);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(epoch(inOrder, 11).size(), 33u); // stopped inside the second chunk
  EXPECT_EQ(epoch(inOrder, -1), expected);
  data::BatchIterator shuffled(x, y, batch, 7);
  for (int e = 0; e < 2; ++e) {
    std::vector<int> seen = epoch(shuffled, e == 0 ? 13 : -1);
    if (e == 1) {
      std::sort(seen.begin(), seen.end());
      EXPECT_EQ(seen, expected);
    }
  }
}

// Batches longer than a piece of the background gathering (4 rows) are
// gathered in several pieces: every row of every batch is there, in order.
TEST(BatchIterator, BatchesOfSeveralPieces) {
  const int rows = 1000, batch = 21, cols = 5; // 48 batches of 21, one of 13
  std::vector<float> xs;
  std::vector<int32_t> ys;
  for (int i = 0; i < rows; ++i) {
    ys.push_back(i);
    for (int c = 0; c < cols; ++c)
      xs.push_back(static_cast<float>(i * cols + c));
  }
  Tensor x = Tensor::of<float>({rows, cols}, xs), y = Tensor::of<int32_t>({rows}, ys);
  for (bool shuffle : {false, true}) {
    data::BatchIterator it(x, y, batch, 3, shuffle);
    for (int e = 0; e < 2; ++e) {
      it.startEpoch();
      Tensor xb, yb;
      std::vector<int> seen;
      while (it.next(xb, yb)) {
        ASSERT_EQ(xb.shape()[0], yb.size());
        for (int64_t r = 0; r < yb.size(); ++r) {
          int32_t row = yb.data<int32_t>()[r];
          for (int c = 0; c < cols; ++c)
            ASSERT_EQ(xb.data<float>()[r * cols + c], static_cast<float>(row * cols + c));
          seen.push_back(row);
        }
      }
      ASSERT_EQ(seen.size(), static_cast<size_t>(rows));
      if (!shuffle) {
        for (int i = 0; i < rows; ++i)
          ASSERT_EQ(seen[i], i);
      }
      std::sort(seen.begin(), seen.end());
      for (int i = 0; i < rows; ++i)
        ASSERT_EQ(seen[i], i);
    }
  }
}

} // namespace

// Data-parallel training: with the same seed, the shards of 3 ranks
// partition every batch of the unsharded iterator, in its order, over
// several prefetched chunks; a last batch of fewer rows than ranks is
// skipped by all (it would leave a rank without rows).
TEST(BatchIterator, ShardsOfTheRanksPartitionEveryBatch) {
  const int rows = 101, batch = 7, ranks = 3; // 14 batches of 7, a last one of 3
  std::vector<float> xs;
  std::vector<int32_t> ys;
  for (int i = 0; i < rows; ++i) {
    xs.push_back(static_cast<float>(i));
    ys.push_back(i);
  }
  Tensor x = Tensor::of<float>({rows, 1}, xs), y = Tensor::of<int32_t>({rows}, ys);
  auto batches = [&](int rank, int count, int64_t rowCount) {
    Tensor xr = Tensor::borrow(x.dtype(), {rowCount, 1}, x.data());
    Tensor yr = Tensor::borrow(y.dtype(), {rowCount}, y.data());
    data::BatchIterator it(xr, yr, batch, 11);
    if (count > 1)
      it.shard(rank, count);
    std::vector<std::vector<int>> all;
    for (int e = 0; e < 2; ++e) {
      it.startEpoch();
      Tensor xb, yb;
      while (it.next(xb, yb)) {
        std::vector<int> b;
        for (int64_t r = 0; r < yb.size(); ++r) {
          EXPECT_EQ(xb.data<float>()[r], yb.data<int32_t>()[r]);
          b.push_back(yb.data<int32_t>()[r]);
        }
        all.push_back(b);
      }
    }
    return all;
  };
  auto whole = batches(0, 1, rows);
  ASSERT_EQ(whole.size(), 30u);
  std::vector<std::vector<std::vector<int>>> shards;
  for (int r = 0; r < ranks; ++r)
    shards.push_back(batches(r, ranks, rows));
  for (size_t b = 0; b < whole.size(); ++b) {
    std::vector<int> joined;
    for (int r = 0; r < ranks; ++r) {
      ASSERT_EQ(shards[r].size(), whole.size());
      EXPECT_EQ(shards[r][b].size(),
                whole[b].size() / ranks + (r >= ranks - int(whole[b].size() % ranks)));
      joined.insert(joined.end(), shards[r][b].begin(), shards[r][b].end());
    }
    EXPECT_EQ(joined, whole[b]) << "batch " << b;
  }
  // 100 rows: a last batch of 2 rows for 3 ranks is skipped by every rank.
  for (int r = 0; r < ranks; ++r)
    EXPECT_EQ(batches(r, ranks, 100).size(), 2u * 14) << "rank " << r;
}
