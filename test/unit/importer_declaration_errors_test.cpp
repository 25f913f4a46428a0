// The graph importer refuses bad declarations (placeholders, variables,
// tensors), bad signatures and unreadable files: import returns null and the
// message names what is at fault, what was expected and what was found.
#include "ImporterTestSupport.h"

#include "llvm/Support/FileSystem.h"

#include <fstream>

namespace {

using nncc::test::Imported;
using nncc::test::ImporterTest;
using nncc::test::rejected;

using ImporterErrorTest = ImporterTest;

//===----------------------------------------------------------------------===//
// Placeholders and variables
//===----------------------------------------------------------------------===//

TEST_F(ImporterErrorTest, PlaceholderWithoutDtype) {
  auto r = import(R"pb(
    placeholders { name: "x" shape { dims: 3 } }
    signatures { name: "f" feeds: "x" fetches: "x" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:2:1: error: ",
                           "placeholder 'x' has no valid dtype (got "
                           "DT_INVALID; expected F32, F64, I32, I64 or BOOL)"}));
}

TEST_F(ImporterErrorTest, PlaceholderDimensionBelowMinusOne) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 dims: -2 } }
    signatures { name: "f" feeds: "x" fetches: "x" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:2:1: error: ",
                           "placeholder 'x' has dimension -2 (expected a size "
                           ">= 0, or -1 for unknown)"}));
  EXPECT_EQ(r.errors.size(), 1u) << r.allErrors();
}

TEST_F(ImporterErrorTest, PlaceholderUnknownRankWithDims) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { unknown_rank: true dims: 3 } }
    signatures { name: "f" feeds: "x" fetches: "x" }
  )pb");
  EXPECT_TRUE(rejected(r, {"placeholder 'x' has unknown_rank set and dims "
                           "given"}));
}

TEST_F(ImporterErrorTest, VariableWithUnknownDimension) {
  auto r = import(R"pb(
    variables { name: "w" dtype: F32 shape: -1 shape: 10 }
    signatures { name: "f" fetches: "w" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:2:1: error: ",
                           "variable 'w' has shape [-1, 10]; variables need "
                           "every dimension known (>= 0)"}));
}

TEST_F(ImporterErrorTest, ShapesWhoseElementCountOverflows) {
  // 2^96 elements: a shape rule multiplying the sizes would wrap around
  // (reshape to [-1] used to infer tensor<0xf32>).
  auto p = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 4294967296 dims: -1 dims: 4294967296 dims: 4294967296 } }
    nodes { name: "r" op: "reshape" inputs: "x"
      attrs { key: "shape" value { ints { val: -1 } } } }
    signatures { name: "f" feeds: "x" fetches: "r" }
  )pb");
  EXPECT_TRUE(rejected(p, {"model.pbtxt:2:1: error: ",
                           "placeholder 'x' has shape [4294967296, -1, "
                           "4294967296, 4294967296], more elements than a "
                           "64-bit count holds"}));
  auto v = import(R"pb(
    variables { name: "w" dtype: F32 shape: 4294967296 shape: 4294967296 shape: 4294967296 }
    signatures { name: "f" fetches: "w" }
  )pb");
  EXPECT_TRUE(rejected(v, {"variable 'w' has shape [4294967296, 4294967296, "
                           "4294967296], more than 2147483648 elements"}));
  // 10^12 elements fit a count but not a machine: an error, not a 4 TB
  // allocation when the session initializes it.
  auto big = import(R"pb(
    variables { name: "w" dtype: F32 shape: 1000000 shape: 1000000 }
    signatures { name: "f" fetches: "w" }
  )pb");
  EXPECT_TRUE(rejected(big, {"variable 'w' has shape [1000000, 1000000], more than "
                             "2147483648 elements (the most a variable may have)"}));
}

TEST_F(ImporterErrorTest, UnknownInitializerKind) {
  auto r = import(R"pb(
    variables { name: "w" dtype: F32 shape: 3 initializer { kind: 17 } }
    signatures { name: "f" fetches: "w" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:2:1: error: ",
                           "variable 'w' has an unknown initializer kind 17 "
                           "(expected ZEROS, ONES, CONSTANT"}));
}

TEST_F(ImporterErrorTest, VariableWithoutDtype) {
  auto r = import(R"pb(
    variables { name: "w" shape: 3 }
    signatures { name: "f" fetches: "w" }
  )pb");
  EXPECT_TRUE(rejected(r, {"variable 'w' has no valid dtype (got DT_INVALID"}));
}

TEST_F(ImporterErrorTest, ConstantInitializerWithWrongValueCount) {
  auto r = import(R"pb(
    variables { name: "w" dtype: F32 shape: 3
      initializer { kind: CONSTANT value { dtype: F32 dims: 3 float_val: 1 float_val: 2 } } }
    signatures { name: "f" fetches: "w" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:2:1: error: ",
                           "initial value of variable 'w' has 2 values for "
                           "shape [3] (3 elements; give 3 or 1)"}));
}

TEST_F(ImporterErrorTest, ConstantInitializerOfWrongShape) {
  auto r = import(R"pb(
    variables { name: "w" dtype: F32 shape: 2 shape: 2
      initializer { kind: CONSTANT value { dtype: F32 dims: 4 float_val: 1 float_val: 2 float_val: 3 float_val: 4 } } }
    signatures { name: "f" fetches: "w" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:2:1: error: node 'w': ",
                           "value of type 'tensor<4xf32>' does not fit the "
                           "variable's type 'tensor<2x2xf32>'"}));
}

TEST_F(ImporterErrorTest, ConstantInitializerWithWrongDtypeField) {
  auto r = import(R"pb(
    variables { name: "w" dtype: F32 shape: 3
      initializer { kind: CONSTANT value { dtype: F32 int_val: 1 } } }
    signatures { name: "f" fetches: "w" }
  )pb");
  EXPECT_TRUE(rejected(r, {"initial value of variable 'w' of dtype F32 has "
                           "values in int_val; use float_val"}));
}

TEST_F(ImporterErrorTest, ConstantInitializerOfOtherDtype) {
  auto r = import(R"pb(
    variables { name: "w" dtype: F32 shape: 3
      initializer { kind: CONSTANT value { dtype: F64 double_val: 1 } } }
    signatures { name: "f" fetches: "w" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:2:1: error: node 'w': ",
                           "value element type 'f64' differs from the "
                           "variable's 'f32'"}));
  auto none = import(R"pb(
    variables { name: "w" dtype: F32 shape: 3
      initializer { kind: CONSTANT value { float_val: 1 } } }
    signatures { name: "f" fetches: "w" }
  )pb");
  EXPECT_TRUE(rejected(none, {"initial value of variable 'w' has no valid "
                              "dtype (got DT_INVALID"}));
}

TEST_F(ImporterErrorTest, InitializerChecksNameTheVariable) {
  auto noValue = import(R"pb(
    variables { name: "w" dtype: F32 shape: 3 initializer { kind: CONSTANT } }
    signatures { name: "f" fetches: "w" }
  )pb");
  EXPECT_TRUE(rejected(noValue, {"model.pbtxt:2:1: error: node 'w': ",
                                 "initializer 'constant' needs a 'value'"}));
  auto range = import(R"pb(
    variables { name: "u" dtype: F32 shape: 3
      initializer { kind: RANDOM_UNIFORM minval: 2 maxval: 1 } }
    signatures { name: "f" fetches: "u" }
  )pb");
  EXPECT_TRUE(rejected(range, {"node 'u'", "random_uniform needs minval < maxval"}));
  auto integer = import(R"pb(
    variables { name: "k" dtype: I32 shape: 3 initializer { kind: GLOROT_UNIFORM } }
    signatures { name: "f" fetches: "k" }
  )pb");
  EXPECT_TRUE(rejected(integer, {"node 'k'", "initializer 'glorot_uniform' "
                                        "needs a float variable, got "
                                        "'tensor<3xi32>'"}));
  auto scalar = import(R"pb(
    variables { name: "s" dtype: F32 initializer { kind: GLOROT_UNIFORM } }
    signatures { name: "f" fetches: "s" }
  )pb");
  EXPECT_TRUE(rejected(scalar, {"node 's'", "glorot_uniform needs a variable of "
                                       "rank >= 1"}));
  auto valueButZeros = import(R"pb(
    variables { name: "z" dtype: F32 shape: 3
      initializer { kind: ZEROS value { dtype: F32 float_val: 1 } } }
    signatures { name: "f" fetches: "z" }
  )pb");
  EXPECT_TRUE(rejected(valueButZeros, {"node 'z'", "'value' is only used by the "
                                              "'constant' initializer"}));
}

TEST_F(ImporterErrorTest, ConstantValueOutOfI32Range) {
  auto r = import(R"pb(
    variables { name: "k" dtype: I32 shape: 2
      initializer { kind: CONSTANT value { dtype: I32 dims: 2 int_val: 1 int_val: 3000000000 } } }
    signatures { name: "f" fetches: "k" }
  )pb");
  EXPECT_TRUE(rejected(r, {"initial value of variable 'k' value 3000000000 "
                           "does not fit in I32"}));
}

TEST_F(ImporterErrorTest, TensorAttributeWithNegativeDimension) {
  auto r = import(R"pb(
    nodes { name: "c" op: "constant"
      attrs { key: "value" value { tensor { dtype: F32 dims: 2 dims: -3 float_val: 1 } } } }
    signatures { name: "f" fetches: "c" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:2:1: error: node 'c': ",
                           "attribute 'value' has a negative dimension -3"}));
}

TEST_F(ImporterErrorTest, TensorAttributeWithHugeElementCount) {
  // 2^62 elements claimed, one value given: refused before anything is
  // allocated (a splat would otherwise make a type nobody can materialize).
  auto r = import(R"pb(
    nodes { name: "c" op: "constant"
      attrs { key: "value" value { tensor { dtype: F32 dims: 2147483648 dims: 2147483648 float_val: 1 } } } }
    signatures { name: "f" fetches: "c" }
  )pb");
  EXPECT_TRUE(rejected(r, {"node 'c'", "attribute 'value' claims more than "
                                       "2147483648 elements"}));
  // Overflowing int64 on the way is caught too.
  auto overflow = import(R"pb(
    variables { name: "w" dtype: F32 shape: 1
      initializer { kind: CONSTANT value { dtype: F32 dims: 4294967296 dims: 4294967296 dims: 4294967296 float_val: 1 } } }
    signatures { name: "f" fetches: "w" }
  )pb");
  EXPECT_TRUE(rejected(overflow, {"initial value of variable 'w' claims more "
                                  "than 2147483648 elements"}));
}

TEST_F(ImporterErrorTest, TensorAttributeWithWrongValueCount) {
  auto r = import(R"pb(
    nodes { name: "c" op: "constant"
      attrs { key: "value" value { tensor { dtype: I64 dims: 3 int_val: 1 int_val: 2 } } } }
    signatures { name: "f" fetches: "c" }
  )pb");
  EXPECT_TRUE(rejected(r, {"node 'c'", "attribute 'value' has 2 values for "
                                       "shape [3] (3 elements; give 3 or 1)"}));
}

TEST_F(ImporterErrorTest, EveryBadDeclarationIsReported) {
  auto r = import(R"pb(
    placeholders { name: "x" shape { dims: 3 } }
    placeholders { name: "y" dtype: F32 shape { dims: -7 } }
    variables { name: "w" dtype: F32 shape: -1 }
    signatures { name: "f" feeds: "x" fetches: "x" }
  )pb");
  EXPECT_TRUE(rejected(r, {"placeholder 'x'", "placeholder 'y'",
                           "variable 'w'"}));
  EXPECT_EQ(r.errors.size(), 3u) << r.allErrors();
}

//===----------------------------------------------------------------------===//
// Signatures
//===----------------------------------------------------------------------===//

TEST_F(ImporterErrorTest, SignatureWithoutName) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    signatures { feeds: "x" fetches: "x" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:3:1: error: signature #0 has no name"}));
}

TEST_F(ImporterErrorTest, DuplicateSignatureName) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    nodes { name: "t" op: "tanh" inputs: "x" }
    signatures { name: "f" feeds: "x" fetches: "t" }
    signatures { name: "f" feeds: "x" fetches: "x" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:5:1: error: signature 'f': the name "
                           "is already used"}));
  auto variable = import(R"pb(
    variables { name: "w" dtype: F32 shape: 3 }
    signatures { name: "w" fetches: "w" }
  )pb");
  EXPECT_TRUE(rejected(variable, {"signature 'w': the name is already used"}));
}

TEST_F(ImporterErrorTest, DuplicateSignatureNameAfterABadSignature) {
  // The first 'f' fails before its function exists; the second is still a
  // duplicate and must be reported as one.
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    signatures { name: "f" feeds: "nope" fetches: "x" }
    signatures { name: "f" feeds: "x" fetches: "x" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:3:1: error: signature 'f' feeds 'nope'",
                           "model.pbtxt:4:1: error: signature 'f': the name "
                           "is already used"}));
}

TEST_F(ImporterErrorTest, FeedThatIsNotAPlaceholder) {
  auto node = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    nodes { name: "t" op: "tanh" inputs: "x" }
    signatures { name: "f" feeds: "x" feeds: "t" fetches: "t" }
  )pb");
  EXPECT_TRUE(rejected(node, {"model.pbtxt:4:1: error: ",
                              "signature 'f' feeds 't', which is a node, not "
                              "a placeholder"}));
  auto variable = import(R"pb(
    variables { name: "w" dtype: F32 shape: 3 }
    signatures { name: "f" feeds: "w" fetches: "w" }
  )pb");
  EXPECT_TRUE(rejected(variable, {"signature 'f' feeds 'w', which is a "
                                  "variable, not a placeholder"}));
  auto unknown = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    signatures { name: "f" feeds: "xx" fetches: "x" }
  )pb");
  EXPECT_TRUE(rejected(unknown, {"signature 'f' feeds 'xx', which is not in "
                                 "the graph"}));
}

TEST_F(ImporterErrorTest, FeedListedTwice) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    signatures { name: "f" feeds: "x" feeds: "x" fetches: "x" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:3:1: error: ",
                           "signature 'f' feeds 'x' twice"}));
}

TEST_F(ImporterErrorTest, FetchNeedsUnfedPlaceholder) {
  auto direct = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    placeholders { name: "y" dtype: F32 shape { dims: 3 } }
    signatures { name: "f" feeds: "y" fetches: "x" }
  )pb");
  EXPECT_TRUE(rejected(direct, {"model.pbtxt:4:1: error: ",
                                "signature 'f' fetch needs placeholder 'x', "
                                "which signature 'f' does not feed (feeds: y)"}));
  auto viaNode = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    placeholders { name: "y" dtype: F32 shape { dims: 3 } }
    nodes { name: "s" op: "add" inputs: "y" inputs: "x" }
    signatures { name: "f" feeds: "y" fetches: "s" }
  )pb");
  EXPECT_TRUE(rejected(viaNode, {"model.pbtxt:4:1: error: node 's': ",
                                 "input 1 needs placeholder 'x', which "
                                 "signature 'f' does not feed (feeds: y)"}));
}

TEST_F(ImporterErrorTest, FetchOfUnknownName) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    signatures { name: "f" feeds: "x" fetches: "probabilities" }
  )pb");
  EXPECT_TRUE(rejected(r, {"signature 'f' fetch 'probabilities' is not a "
                           "placeholder, variable or node of the graph"}));
}

TEST_F(ImporterErrorTest, SignatureWithoutFetches) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    signatures { name: "f" feeds: "x" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:3:1: error: ",
                           "signature 'f' fetches nothing (give fetches or a "
                           "loss)"}));
}

TEST_F(ImporterErrorTest, LossMustBeAFloatScalar) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: -1 dims: 3 } }
    variables { name: "w" dtype: F32 shape: 3 }
    nodes { name: "sq" op: "square" inputs: "x" }
    nodes { name: "l" op: "reduce_sum" inputs: "sq"
      attrs { key: "axes" value { ints { val: 1 } } } }
    signatures { name: "train" feeds: "x" loss: "l"
      optimizer { kind: "sgd" learning_rate: 0.1 } }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:7:1: error: ",
                           "signature 'train': loss 'l' must be a float "
                           "scalar, got 'tensor<?xf32>'"}));
  auto integer = import(R"pb(
    placeholders { name: "n" dtype: I32 shape { dims: 3 } }
    nodes { name: "l" op: "reduce_sum" inputs: "n" }
    signatures { name: "train" feeds: "n" loss: "l"
      optimizer { kind: "sgd" learning_rate: 0.1 } }
  )pb");
  EXPECT_TRUE(rejected(integer, {"loss 'l' must be a float scalar, got "
                                 "'tensor<i32>'"}));
  auto unknown = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    signatures { name: "train" feeds: "x" loss: "cost"
      optimizer { kind: "sgd" learning_rate: 0.1 } }
  )pb");
  EXPECT_TRUE(rejected(unknown, {"signature 'train' loss 'cost' is not a "
                                 "placeholder, variable or node"}));
}

// A training model whose signature's optimizer is `optimizer`.
static std::string trainWith(const std::string &optimizer) {
  return R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: -1 } }
    variables { name: "w" dtype: F32 shape: 1 }
    nodes { name: "wx" op: "mul" inputs: "w" inputs: "x" }
    nodes { name: "cost" op: "reduce_mean" inputs: "wx" }
    signatures { name: "train" feeds: "x" loss: "cost" )pb" +
         optimizer + " }\n";
}

TEST_F(ImporterErrorTest, UnknownOptimizer) {
  auto r = import(trainWith(R"(optimizer { kind: "adam" learning_rate: 0.1 })"));
  EXPECT_TRUE(rejected(r, {"model.pbtxt:6:1: error: ",
                           "signature 'train': unknown optimizer 'adam' "
                           "(expected sgd)"}));
}

TEST_F(ImporterErrorTest, LossWithoutOptimizer) {
  auto r = import(trainWith(""));
  EXPECT_TRUE(rejected(r, {"model.pbtxt:6:1: error: ",
                           "signature 'train': loss 'cost' needs an optimizer "
                           "to minimize it"}));
}

TEST_F(ImporterErrorTest, LearningRateMustBePositive) {
  auto zero = import(trainWith(R"(optimizer { kind: "sgd" })"));
  EXPECT_TRUE(rejected(zero, {"signature 'train': learning_rate must be > 0, "
                              "got 0"}));
  auto negative =
      import(trainWith(R"(optimizer { kind: "sgd" learning_rate: -0.5 })"));
  EXPECT_TRUE(rejected(negative, {"learning_rate must be > 0, got -0.5"}));
  auto nan = import(trainWith(R"(optimizer { kind: "sgd" learning_rate: nan })"));
  EXPECT_TRUE(rejected(nan, {"learning_rate must be > 0, got nan"}));
}

TEST_F(ImporterErrorTest, MomentumAndDecayRanges) {
  auto momentum = import(
      trainWith(R"(optimizer { kind: "sgd" learning_rate: 0.1 momentum: 1 })"));
  EXPECT_TRUE(rejected(momentum, {"signature 'train': momentum must be in "
                                  "[0, 1), got 1"}));
  auto decay = import(
      trainWith(R"(optimizer { kind: "sgd" learning_rate: 0.1 decay: -1 })"));
  EXPECT_TRUE(rejected(decay, {"signature 'train': decay must be >= 0, got -1"}));
}

TEST_F(ImporterErrorTest, OptimizerWithoutLoss) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    nodes { name: "t" op: "tanh" inputs: "x" }
    signatures { name: "train" feeds: "x" fetches: "t"
      optimizer { kind: "sgd" learning_rate: 0.1 } }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:4:1: error: ",
                           "signature 'train' has an optimizer but no loss to "
                           "minimize"}));
}

TEST_F(ImporterErrorTest, GraphWithoutSignatures) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    nodes { name: "t" op: "tanh" inputs: "x" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt: error: the graph has no signature"}));
  auto empty = import("");
  EXPECT_TRUE(rejected(empty, {"the graph has no signature"}));
}

TEST_F(ImporterErrorTest, EveryBadSignatureIsReported) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    signatures { name: "a" feeds: "y" fetches: "x" }
    signatures { name: "b" feeds: "x" }
    signatures { name: "c" feeds: "x" fetches: "x" }
  )pb");
  EXPECT_TRUE(rejected(r, {"signature 'a' feeds 'y'",
                           "signature 'b' fetches nothing"}));
  EXPECT_EQ(r.errors.size(), 2u) << r.allErrors();
}

//===----------------------------------------------------------------------===//
// Reading files
//===----------------------------------------------------------------------===//

TEST_F(ImporterErrorTest, TextFormatSyntaxError) {
  auto loaded = nncc::parseGraphText(R"pb(
    placeholders { name: "x" dtype: F32 }
    nodes { name: "z" op: "add" inputs "x" }
  )pb", "bad.pbtxt");
  ASSERT_FALSE(static_cast<bool>(loaded));
  std::string message = llvm::toString(loaded.takeError());
  EXPECT_NE(message.find("bad.pbtxt:3:"), std::string::npos) << message;
  EXPECT_NE(message.find("error: "), std::string::npos) << message;
  EXPECT_NE(message.find("\":\""), std::string::npos) << message;
}

TEST_F(ImporterErrorTest, TextFormatUnknownFieldAndEnum) {
  auto field = nncc::parseGraphText(
      "placeholders { name: \"x\" dtype: F32 }\n"
      "nodes { name: \"z\" opp: \"add\" }\n",
      "m.pbtxt");
  ASSERT_FALSE(static_cast<bool>(field));
  std::string message = llvm::toString(field.takeError());
  EXPECT_NE(message.find("m.pbtxt:2:"), std::string::npos) << message;
  EXPECT_NE(message.find("opp"), std::string::npos) << message;
  auto enumValue = nncc::parseGraphText(
      "placeholders { name: \"x\" dtype: FLOAT32 }\n", "m.pbtxt");
  ASSERT_FALSE(static_cast<bool>(enumValue));
  message = llvm::toString(enumValue.takeError());
  EXPECT_NE(message.find("m.pbtxt:1:"), std::string::npos) << message;
  EXPECT_NE(message.find("FLOAT32"), std::string::npos) << message;
}

TEST_F(ImporterErrorTest, MissingFile) {
  std::string path = ::testing::TempDir() + "/no_such_model.pbtxt";
  auto loaded = nncc::readGraphFile(path);
  ASSERT_FALSE(static_cast<bool>(loaded));
  std::string message = llvm::toString(loaded.takeError());
  EXPECT_NE(message.find(path + ": error: cannot read the model"),
            std::string::npos)
      << message;
  auto binary = nncc::readGraphFile(::testing::TempDir() + "/no_such.pb");
  ASSERT_FALSE(static_cast<bool>(binary));
  llvm::consumeError(binary.takeError());
}

TEST_F(ImporterErrorTest, CorruptBinaryFile) {
  std::string path = ::testing::TempDir() + "/importer_errors_corrupt.pb";
  {
    std::ofstream out(path, std::ios::binary);
    out << "\xff\xff\xff\xff not a protobuf";
  }
  auto loaded = nncc::readGraphFile(path);
  llvm::sys::fs::remove(path);
  ASSERT_FALSE(static_cast<bool>(loaded));
  std::string message = llvm::toString(loaded.takeError());
  EXPECT_NE(message.find(path + ": error: not a valid binary graph protobuf"),
            std::string::npos)
      << message;
}

} // namespace
