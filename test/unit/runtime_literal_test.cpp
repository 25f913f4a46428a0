// NumPy-like literals of the CLI: shapes from the nesting, values checked
// against the dtype, and errors that quote the literal and the column.
#include "runtime/Literal.h"

#include <gtest/gtest.h>

using namespace nncc::rt;

namespace {

Tensor parsed(const std::string &text, DType dtype) {
  auto r = parseLiteral(text, dtype);
  EXPECT_TRUE(r.ok()) << text << ": " << r.error();
  return r.ok() ? r.take() : Tensor();
}

void expectError(const std::string &text, DType dtype, const std::string &what) {
  auto r = parseLiteral(text, dtype);
  ASSERT_FALSE(r.ok()) << text << " should not parse";
  EXPECT_NE(r.error().find("literal \"" + text + "\""), std::string::npos) << r.error();
  EXPECT_NE(r.error().find(what), std::string::npos) << r.error();
}

} // namespace

TEST(LiteralTest, Scalars) {
  Tensor a = parsed("1.0", DType::F32);
  EXPECT_EQ(a.shape(), Shape{});
  EXPECT_EQ(a.data<float>()[0], 1.0f);
  Tensor b = parsed(" -2 ", DType::I32);
  EXPECT_EQ(b.data<int32_t>()[0], -2);
  EXPECT_TRUE(parsed("true", DType::Bool).data<bool>()[0]);
  EXPECT_FALSE(parsed("False", DType::Bool).data<bool>()[0]);
  EXPECT_EQ(parsed("+2.5e-1", DType::F64).data<double>()[0], 0.25);
  EXPECT_EQ(parsed("true", DType::F32).data<float>()[0], 1.0f);
}

TEST(LiteralTest, NestedListsSetTheShape) {
  Tensor v = parsed("[1, 2, 3]", DType::F32);
  EXPECT_EQ(v.shape(), Shape({3}));
  EXPECT_EQ(v.toDoubles(), std::vector<double>({1, 2, 3}));
  Tensor m = parsed("[[1,2],[3,4]]", DType::I64);
  EXPECT_EQ(m.shape(), Shape({2, 2}));
  EXPECT_EQ(m.toDoubles(), std::vector<double>({1, 2, 3, 4}));
  Tensor c = parsed("[[[1], [2]], [[3], [4]],]", DType::F64);
  EXPECT_EQ(c.shape(), Shape({2, 2, 1}));
  EXPECT_EQ(c.toDoubles(), std::vector<double>({1, 2, 3, 4}));
  EXPECT_EQ(parsed("[]", DType::F32).shape(), Shape({0}));
  EXPECT_EQ(parsed("[[], []]", DType::F32).shape(), Shape({2, 0}));
  EXPECT_EQ(parsed("[true, false, 0, 3]", DType::Bool).toDoubles(),
            std::vector<double>({1, 0, 0, 1}));
}

TEST(LiteralTest, IntegersAreExact) {
  EXPECT_EQ(parsed("9007199254740993", DType::I64).data<int64_t>()[0], int64_t(9007199254740993));
  EXPECT_EQ(parsed("-9223372036854775808", DType::I64).data<int64_t>()[0], INT64_MIN);
  EXPECT_EQ(parsed("2.0", DType::I32).data<int32_t>()[0], 2);
  EXPECT_EQ(parsed("1e3", DType::I32).data<int32_t>()[0], 1000);
  EXPECT_EQ(parsed("0.1", DType::F32).data<float>()[0], 0.1f);
}

TEST(LiteralTest, RaggedNesting) {
  expectError("[[1,2],[3,4,5]]", DType::F32, "column 8: row 1 has 3 elements, row 0 has 2");
  expectError("[[[1,2],[3,4]],[[5,6],[7]]]", DType::F32,
              "row [1][1] has 1 element, row [0][0] has 2");
  expectError("[[1,2], 3]", DType::F32, "element 1 is a number, element 0 is a list");
  expectError("[1, [2]]", DType::F32, "element 1 is a list, element 0 is a number");
}

TEST(LiteralTest, BadNumbers) {
  expectError("[1, 2x, 3]", DType::F32, "column 5: \"2x\" is not a number");
  expectError("[1, 2.5]", DType::I32, "column 5: \"2.5\" is not an integer (the tensor is i32)");
  expectError("nan", DType::I64, "\"nan\" is not an integer");
  expectError("3000000000", DType::I32, "\"3000000000\" is out of range for i32");
  expectError("1e40", DType::F32, "\"1e40\" is out of range for f32");
  expectError("1e400", DType::F64, "out of range for f64");
  expectError("yes", DType::Bool, "\"yes\" is not a number");
}

TEST(LiteralTest, SyntaxErrors) {
  expectError("[1,2] x", DType::F32, "column 7: unexpected \"x\" after the value");
  expectError("1 2", DType::F32, "column 3: unexpected \"2\"");
  expectError("[1 2]", DType::F32, "column 4: expected ',' or ']', found \"2\"");
  expectError("[1, 2", DType::F32, "column 1: the '[' here is never closed");
  expectError("[1,,2]", DType::F32, "column 4: expected a value, found ','");
  expectError("]", DType::F32, "column 1: expected a value, found ']'");
  expectError("  ", DType::F32, "the literal is empty");
  auto deep = parseLiteral(std::string(40, '[') + std::string(40, ']'), DType::F32);
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.error().find("column 33: lists nested deeper than 32"), std::string::npos)
      << deep.error();
}

TEST(LiteralTest, LongLiteralsAreShownAroundTheError) {
  std::string text = "[";
  for (int i = 0; i < 50; ++i)
    text += std::to_string(i) + ", ";
  text += "oops]";
  auto r = parseLiteral(text, DType::F32);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("\"oops\" is not a number"), std::string::npos) << r.error();
  EXPECT_NE(r.error().find("column " + std::to_string(text.find("oops") + 1)), std::string::npos)
      << r.error();
  EXPECT_LT(r.error().size(), 140u) << r.error();
}
