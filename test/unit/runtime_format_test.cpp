// formatArray against numpy's str(): every expected string below was printed
// by numpy 1.24 for the same dtype and values.
#include "runtime/Format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace nncc::rt;

namespace {

Tensor f32(Shape shape, std::vector<float> v) { return Tensor::of<float>(shape, v); }

Tensor arange(DType dtype, Shape shape) {
  Tensor t(dtype, shape);
  for (int64_t i = 0; i < t.size(); ++i) {
    switch (dtype) {
    case DType::F32:
      t.data<float>()[i] = float(i);
      break;
    case DType::F64:
      t.data<double>()[i] = double(i);
      break;
    case DType::I32:
      t.data<int32_t>()[i] = int32_t(i);
      break;
    case DType::I64:
      t.data<int64_t>()[i] = i;
      break;
    case DType::Bool:
      t.data<bool>()[i] = i % 2;
      break;
    }
  }
  return t;
}

} // namespace

TEST(FormatTest, ShortestFloat32Digits) {
  EXPECT_EQ(formatArray(f32({3}, {2.7f, 4.7f, 6.7f})), "[2.7 4.7 6.7]");
  // 0.1f + 0.1f is not 0.2f in float32 arithmetic terms, but prints as 0.2.
  Tensor t = f32({3}, {0.1f, 0.2f, 0.3f});
  for (int i = 0; i < 3; ++i)
    t.data<float>()[i] += 0.1f;
  EXPECT_EQ(formatArray(t), "[0.2 0.3 0.4]");
}

TEST(FormatTest, IntegralFloatsGetATrailingDot) {
  EXPECT_EQ(formatArray(arange(DType::F32, {2, 3})), "[[0. 1. 2.]\n [3. 4. 5.]]");
}

TEST(FormatTest, ScalarsPrintLikeNumpyScalars) {
  EXPECT_EQ(formatArray(f32({}, {2.7f})), "2.7");
  EXPECT_EQ(formatArray(f32({}, {3.0f})), "3.0");
  EXPECT_EQ(formatArray(f32({}, {1e-5f})), "1e-05");
  EXPECT_EQ(formatArray(Tensor::of<double>({}, {-0.0})), "-0.0");
  EXPECT_EQ(formatArray(Tensor::of<int32_t>({}, {-5})), "-5");
  EXPECT_EQ(formatArray(Tensor::of<bool>({}, {true})), "True");
  EXPECT_EQ(formatArray(f32({}, {std::numeric_limits<float>::quiet_NaN()})), "nan");
}

TEST(FormatTest, Float64WithEightDigitsAfterThePoint) {
  Tensor t = Tensor::of<double>({3}, {0.855696871234, 0.681353734567, 0.838891051234});
  EXPECT_EQ(formatArray(t), "[0.85569687 0.68135373 0.83889105]");
}

TEST(FormatTest, ColumnsArePaddedToAlign) {
  EXPECT_EQ(formatArray(f32({3}, {1.5f, 2.25f, -3.125f})), "[ 1.5    2.25  -3.125]");
  EXPECT_EQ(formatArray(Tensor::of<int32_t>({3}, {1, -10, 100})), "[  1 -10 100]");
  EXPECT_EQ(formatArray(Tensor::of<int64_t>({2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7})),
            "[[[0 1]\n  [2 3]]\n\n [[4 5]\n  [6 7]]]");
}

TEST(FormatTest, ScientificWhenTheRangeIsWide) {
  EXPECT_EQ(formatArray(f32({2}, {1e-5f, 1.0f})), "[1.e-05 1.e+00]");
  EXPECT_EQ(formatArray(f32({2}, {1.5e-5f, -1.0f})), "[ 1.5e-05 -1.0e+00]");
}

TEST(FormatTest, NanAndInfinity) {
  float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(formatArray(f32({4}, {std::nanf(""), inf, -inf, 1.0f})), "[ nan  inf -inf   1.]");
}

TEST(FormatTest, Bools) {
  EXPECT_EQ(formatArray(Tensor::of<bool>({3}, {true, false, true})), "[ True False  True]");
}

TEST(FormatTest, EmptyArrays) {
  EXPECT_EQ(formatArray(Tensor(DType::F32, {0})), "[]");
  EXPECT_EQ(formatArray(Tensor(DType::I32, {2, 0})), "[]");
}

TEST(FormatTest, LongRowsWrapAtSeventyFiveColumns) {
  Tensor t(DType::F64, {20});
  for (int i = 0; i < 20; ++i)
    t.data<double>()[i] = i / 7.0;
  EXPECT_EQ(formatArray(t), "[0.         0.14285714 0.28571429 0.42857143 0.57142857 0.71428571\n"
                            " 0.85714286 1.         1.14285714 1.28571429 1.42857143 1.57142857\n"
                            " 1.71428571 1.85714286 2.         2.14285714 2.28571429 2.42857143\n"
                            " 2.57142857 2.71428571]");
}

TEST(FormatTest, LargeArraysAreSummarized) {
  EXPECT_EQ(formatArray(arange(DType::I32, {3000})), "[   0    1    2 ... 2997 2998 2999]");
  // The format is fitted to the printed values only (max 1999, min 1).
  EXPECT_EQ(formatArray(arange(DType::F32, {40, 50})),
            "[[0.000e+00 1.000e+00 2.000e+00 ... 4.700e+01 4.800e+01 4.900e+01]\n"
            " [5.000e+01 5.100e+01 5.200e+01 ... 9.700e+01 9.800e+01 9.900e+01]\n"
            " [1.000e+02 1.010e+02 1.020e+02 ... 1.470e+02 1.480e+02 1.490e+02]\n"
            " ...\n"
            " [1.850e+03 1.851e+03 1.852e+03 ... 1.897e+03 1.898e+03 1.899e+03]\n"
            " [1.900e+03 1.901e+03 1.902e+03 ... 1.947e+03 1.948e+03 1.949e+03]\n"
            " [1.950e+03 1.951e+03 1.952e+03 ... 1.997e+03 1.998e+03 1.999e+03]]");
  FormatOptions noSummary;
  noSummary.threshold = 1 << 30;
  EXPECT_EQ(formatArray(arange(DType::I32, {3000}), noSummary).find("..."), std::string::npos);
}

TEST(FormatTest, PrecisionOption) {
  Tensor t = f32({3}, {1.0f, 2.5f, 1.0f / 3});
  FormatOptions three;
  three.precision = 3;
  EXPECT_EQ(formatArray(t, three), "[1.    2.5   0.333]");
  three.fixed = true;
  EXPECT_EQ(formatArray(t, three), "[1.000 2.500 0.333]");
}

TEST(FormatTest, ScientificPadsWithDigitsOfTheExactValue) {
  // numpy's min_digits: -6.114756e-04 (shortest) is widened to the exact
  // value's digits, not zeros, to match 8-digit neighbours.
  EXPECT_EQ(formatArray(f32({2}, {-6.1147561e-04f, 5.7416662e-05f})),
            "[-6.1147561e-04  5.7416662e-05]");
}
