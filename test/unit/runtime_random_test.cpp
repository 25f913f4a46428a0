// Philox-4x32-10 against Random123's known answers, the determinism of the
// (seed, index) streams, and the statistics of the initializers.
#include "runtime/Random.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace nncc::rt;

namespace {

struct Moments {
  double mean = 0, stddev = 0, min = 1e300, max = -1e300;
};

Moments moments(const Tensor &t) {
  Moments m;
  std::vector<double> v = t.toDoubles();
  for (double x : v) {
    m.mean += x;
    m.min = std::min(m.min, x);
    m.max = std::max(m.max, x);
  }
  m.mean /= double(v.size());
  for (double x : v)
    m.stddev += (x - m.mean) * (x - m.mean);
  m.stddev = std::sqrt(m.stddev / double(v.size()));
  return m;
}

InitializerSpec spec(InitializerSpec::Kind kind, uint64_t seed = 42) {
  InitializerSpec s;
  s.kind = kind;
  s.seed = seed;
  return s;
}

using Kind = InitializerSpec::Kind;

} // namespace

// Random123's kat_vectors for philox4x32_R(10, ctr, key).
TEST(PhiloxTest, KnownAnswers) {
  EXPECT_EQ(philox4x32_10({0, 0, 0, 0}, {0, 0}),
            PhiloxCounter({0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(
      philox4x32_10({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}),
      PhiloxCounter({0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(
      philox4x32_10({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}),
      PhiloxCounter({0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(PhiloxTest, StreamLayout) {
  // Key = seed's two halves, counter = block index's two halves.
  uint64_t seed = 0x0123456789abcdefULL, block = 0x100000002ULL;
  EXPECT_EQ(randomBlock(seed, block), philox4x32_10({2, 1, 0, 0}, {0x89abcdef, 0x01234567}));
  PhiloxCounter w = randomBlock(seed, 5);
  for (int j = 0; j < 4; ++j)
    EXPECT_EQ(uniformAt(seed, 20 + j), uniformFromBits(w[j]));
  EXPECT_EQ(uniformFromBits(0), 0.0f);
  EXPECT_EQ(uniformFromBits(0xffffffff), 1.0f - 1.0f / 16777216);
  EXPECT_EQ(uniformFromBits(0x80000000), 0.5f);
}

TEST(RandomTest, ElementsArePureFunctionsOfSeedAndIndex) {
  Tensor a(DType::F32, {7, 5}), b(DType::F32, {35}), c(DType::F32, {7, 5});
  ASSERT_TRUE(initialize(a, spec(Kind::RandomNormal, 7)).ok());
  ASSERT_TRUE(initialize(b, spec(Kind::RandomNormal, 7)).ok());
  ASSERT_TRUE(initialize(c, spec(Kind::RandomNormal, 8)).ok());
  EXPECT_EQ(a.toDoubles(), b.toDoubles());
  EXPECT_NE(a.toDoubles(), c.toDoubles());
  for (int i = 0; i < 35; ++i)
    EXPECT_EQ(a.data<float>()[i], static_cast<float>(0.05 * normalAt(7, i))) << i;
  // A longer tensor starts with the same elements.
  Tensor d(DType::F32, {100});
  ASSERT_TRUE(initialize(d, spec(Kind::RandomNormal, 7)).ok());
  for (int i = 0; i < 35; ++i)
    EXPECT_EQ(d.data<float>()[i], a.data<float>()[i]);
}

TEST(RandomTest, NormalStatistics) {
  InitializerSpec s = spec(Kind::RandomNormal, 1234);
  s.mean = 3.0;
  s.stddev = 2.0;
  Tensor t(DType::F64, {100000});
  ASSERT_TRUE(initialize(t, s).ok());
  Moments m = moments(t);
  // Standard errors: 2/sqrt(1e5) = 0.0063 for the mean, ~0.0045 for stddev.
  EXPECT_NEAR(m.mean, 3.0, 0.03);
  EXPECT_NEAR(m.stddev, 2.0, 0.03);
  EXPECT_LT(m.min, 3.0 - 4 * 2.0);
  EXPECT_GT(m.max, 3.0 + 4 * 2.0);
}

TEST(RandomTest, UniformStatistics) {
  InitializerSpec s = spec(Kind::RandomUniform, 99);
  s.minval = -2;
  s.maxval = 6;
  Tensor t(DType::F32, {100000});
  ASSERT_TRUE(initialize(t, s).ok());
  Moments m = moments(t);
  EXPECT_GE(m.min, -2.0);
  EXPECT_LT(m.max, 6.0);
  EXPECT_LT(m.min, -1.99);
  EXPECT_GT(m.max, 5.99);
  EXPECT_NEAR(m.mean, 2.0, 0.05);
  EXPECT_NEAR(m.stddev, 8 / std::sqrt(12.0), 0.03);
}

TEST(RandomTest, GlorotUniformLimits) {
  EXPECT_DOUBLE_EQ(glorotUniformLimit({784, 100}), std::sqrt(6.0 / 884));
  EXPECT_DOUBLE_EQ(glorotUniformLimit({10}), std::sqrt(6.0 / 20));
  EXPECT_DOUBLE_EQ(glorotUniformLimit({}), std::sqrt(3.0));
  // A 3x3 convolution kernel from 16 to 32 channels: receptive field 9.
  EXPECT_DOUBLE_EQ(glorotUniformLimit({3, 3, 16, 32}), std::sqrt(6.0 / (9 * 48)));

  for (DType dtype : {DType::F32, DType::F64}) {
    Tensor w(dtype, {300, 200});
    ASSERT_TRUE(initialize(w, spec(Kind::GlorotUniform, 5)).ok());
    double limit = std::sqrt(6.0 / 500);
    Moments m = moments(w);
    EXPECT_GE(m.min, -limit);
    EXPECT_LT(m.max, limit);
    EXPECT_GT(m.max, 0.999 * limit);
    EXPECT_LT(m.min, -0.999 * limit);
    EXPECT_NEAR(m.mean, 0.0, 0.01 * limit);
  }
}

TEST(RandomTest, ConstantKinds) {
  Tensor i(DType::I32, {2, 2});
  ASSERT_TRUE(initialize(i, spec(Kind::Ones)).ok());
  EXPECT_EQ(i.toDoubles(), std::vector<double>({1, 1, 1, 1}));
  InitializerSpec c = spec(Kind::Constant);
  c.constantValues = {1, 2, 3, 4};
  ASSERT_TRUE(initialize(i, c).ok());
  EXPECT_EQ(i.toDoubles(), std::vector<double>({1, 2, 3, 4}));
  ASSERT_TRUE(initialize(i, spec(Kind::Zeros)).ok());
  EXPECT_EQ(i.toDoubles(), std::vector<double>({0, 0, 0, 0}));
  Tensor b(DType::Bool, {3});
  c.constantValues = {1};
  ASSERT_TRUE(initialize(b, c).ok());
  EXPECT_EQ(b.toDoubles(), std::vector<double>({1, 1, 1}));
  Tensor f(DType::F64, {2});
  c.constantValues = {0.25};
  ASSERT_TRUE(initialize(f, c).ok());
  EXPECT_EQ(f.toDoubles(), std::vector<double>({0.25, 0.25}));
}

TEST(RandomTest, Errors) {
  Tensor i(DType::I32, {4});
  Status st = initialize(i, spec(Kind::RandomNormal));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "random_normal initializer needs an f32 or f64 tensor, not i32");
  InitializerSpec c = spec(Kind::Constant);
  c.constantValues = {1, 2, 3};
  st = initialize(i, c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("3 values for a tensor of shape (4,)"), std::string::npos)
      << st.message();
  c.constantValues = {2.5};
  st = initialize(i, c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("2.5"), std::string::npos) << st.message();
  c.constantValues = {};
  EXPECT_FALSE(initialize(i, c).ok());
  Tensor f(DType::F32, {4});
  InitializerSpec u = spec(Kind::RandomUniform);
  u.minval = 1;
  u.maxval = 0;
  st = initialize(f, u);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("minval <= maxval"), std::string::npos) << st.message();
  InitializerSpec n = spec(Kind::RandomNormal);
  n.stddev = -1;
  EXPECT_FALSE(initialize(f, n).ok());
}
