// The graph importer refuses bad graphs (unknown ops and inputs, cycles,
// duplicate names, bad attributes, incompatible shapes): import returns null
// and the message names the node or input at fault, what was expected and
// what was found. (Models here start on line 2 of the text.)
#include "ImporterTestSupport.h"

namespace {

using nncc::test::Imported;
using nncc::test::ImporterTest;
using nncc::test::rejected;

using ImporterErrorTest = ImporterTest;

//===----------------------------------------------------------------------===//
// Nodes: ops, inputs, names
//===----------------------------------------------------------------------===//

TEST_F(ImporterErrorTest, UnknownOp) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    nodes { name: "z" op: "frobnicate" inputs: "x" }
    signatures { name: "f" feeds: "x" fetches: "z" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:3:1: error: node 'z': ",
                           "unknown op 'frobnicate'", "known ops: ", "matmul",
                           "softmax_cross_entropy"}));
  EXPECT_EQ(r.errors.size(), 1u) << r.allErrors();
}

TEST_F(ImporterErrorTest, OpsThatAreNotNodesAreUnknown) {
  // Variables are declared as variables, not as nodes.
  auto r = import(R"pb(
    variables { name: "w" dtype: F32 shape: 1 }
    nodes { name: "r" op: "read_variable" }
    signatures { name: "f" fetches: "r" }
  )pb");
  EXPECT_TRUE(rejected(r, {"node 'r'", "unknown op 'read_variable'"}));
}

TEST_F(ImporterErrorTest, EmptyOp) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    nodes { name: "z" inputs: "x" }
    signatures { name: "f" feeds: "x" fetches: "z" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:3:1: error: node 'z': ", "has no op",
                           "known ops: "}));
}

TEST_F(ImporterErrorTest, UnknownInput) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    nodes { name: "z" op: "add" inputs: "x" inputs: "ghost" }
    signatures { name: "f" feeds: "x" fetches: "z" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:3:1: error: node 'z': ",
                           "input 1 'ghost' is not a placeholder, variable or "
                           "node of the graph"}));
  EXPECT_EQ(r.errors.size(), 1u) << r.allErrors();
}

TEST_F(ImporterErrorTest, InputResultIndexOutOfRange) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    nodes { name: "t" op: "tanh" inputs: "x" }
    nodes { name: "z" op: "relu" inputs: "t:3" }
    signatures { name: "f" feeds: "x" fetches: "z" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:4:1: error: node 'z': ",
                           "input 0 't:3' asks for result 3 of node 't', which "
                           "has 1 result(s)"}));
}

TEST_F(ImporterErrorTest, ResultIndexOfPlaceholderOrVariable) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    nodes { name: "z" op: "relu" inputs: "x:1" }
    signatures { name: "f" feeds: "x" fetches: "z" }
  )pb");
  EXPECT_TRUE(rejected(r, {"node 'z'", "input 0 'x:1' asks for result 1 of "
                                       "placeholder 'x', which has one value"}));
  auto v = import(R"pb(
    variables { name: "w" dtype: F32 shape: 3 }
    signatures { name: "f" fetches: "w:2" }
  )pb");
  EXPECT_TRUE(rejected(v, {"signature 'f' fetch 'w:2' asks for result 2 of "
                           "variable 'w', which has one value"}));
}

TEST_F(ImporterErrorTest, FetchResultIndexOutOfRange) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    nodes { name: "t" op: "tanh" inputs: "x" }
    signatures { name: "f" feeds: "x" fetches: "t:1" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:4:1: error: ",
                           "signature 'f' fetch 't:1' asks for result 1 of "
                           "node 't', which has 1 result(s)"}));
}

TEST_F(ImporterErrorTest, Cycle) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    nodes { name: "a" op: "add" inputs: "x" inputs: "c" }
    nodes { name: "b" op: "tanh" inputs: "a" }
    nodes { name: "c" op: "relu" inputs: "b" }
    nodes { name: "out" op: "neg" inputs: "c" }
    signatures { name: "f" feeds: "x" fetches: "out" }
  )pb");
  EXPECT_TRUE(rejected(r, {"the graph has a cycle: ", "c -> b -> a -> c"}));
  EXPECT_EQ(r.errors.size(), 1u) << r.allErrors();
}

TEST_F(ImporterErrorTest, SelfLoop) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    nodes { name: "a" op: "add" inputs: "x" inputs: "a" }
    signatures { name: "f" feeds: "x" fetches: "a" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:3:1: error: node 'a': ",
                           "the graph has a cycle: a -> a"}));
}

TEST_F(ImporterErrorTest, DuplicateNodeNames) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    nodes { name: "z" op: "tanh" inputs: "x" }
    nodes { name: "z" op: "relu" inputs: "x" }
    signatures { name: "f" feeds: "x" fetches: "z" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:4:1: error: node 'z': ",
                           "duplicate name 'z': already a node at line 3"}));
}

TEST_F(ImporterErrorTest, NodeNamedLikeAPlaceholder) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    nodes { name: "x" op: "tanh" inputs: "x" }
    signatures { name: "f" feeds: "x" fetches: "x" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:3:1: error: node 'x': ",
                           "duplicate name 'x': already a placeholder at line 2"}));
}

TEST_F(ImporterErrorTest, VariableNamedLikeAPlaceholder) {
  auto r = import(R"pb(
    placeholders { name: "w" dtype: F32 shape { dims: 3 } }
    variables { name: "w" dtype: F32 shape: 3 }
    signatures { name: "f" feeds: "w" fetches: "w" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:3:1: error: ",
                           "duplicate name 'w': already a placeholder at line 2"}));
}

TEST_F(ImporterErrorTest, MissingNames) {
  auto r = import(R"pb(
    placeholders { dtype: F32 shape { dims: 3 } }
    variables { dtype: F32 shape: 3 }
    nodes { op: "tanh" inputs: "x" }
    signatures { name: "f" fetches: "x" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:2:1: error: placeholder #0 has no name",
                           "model.pbtxt:3:1: error: variable #0 has no name",
                           "model.pbtxt:4:1: error: node #0 has no name"}));
}

//===----------------------------------------------------------------------===//
// Node attributes and inputs
//===----------------------------------------------------------------------===//

TEST_F(ImporterErrorTest, AttributeOfWrongTypeFloatForInts) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 2 dims: 3 } }
    nodes { name: "s" op: "reduce_sum" inputs: "x"
      attrs { key: "axes" value { f: 1.0 } } }
    signatures { name: "f" feeds: "x" fetches: "s" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:3:1: error: node 's': ",
                           "'nn.reduce_sum' op attribute 'axes' failed to "
                           "satisfy constraint: i64 dense array attribute "
                           "(got f: 1)"}));
}

TEST_F(ImporterErrorTest, AttributeOfWrongTypeIntForBool) {
  auto r = import(R"pb(
    placeholders { name: "a" dtype: F32 shape { dims: 2 dims: 3 } }
    placeholders { name: "b" dtype: F32 shape { dims: 2 dims: 3 } }
    nodes { name: "m" op: "matmul" inputs: "a" inputs: "b"
      attrs { key: "transpose_a" value { i: 1 } } }
    signatures { name: "f" feeds: "a" feeds: "b" fetches: "m" }
  )pb");
  EXPECT_TRUE(rejected(r, {"node 'm'", "attribute 'transpose_a' failed to satisfy "
                           "constraint: bool attribute (got i: 1)"}));
}

TEST_F(ImporterErrorTest, UnknownAttributeName) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 2 dims: 3 } }
    nodes { name: "s" op: "reduce_sum" inputs: "x"
      attrs { key: "axis" value { i: 1 } } }
    signatures { name: "f" feeds: "x" fetches: "s" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:3:1: error: node 's': ",
                           "unknown attribute 'axis' for op reduce_sum (it "
                           "has: axes, keep_dims)"}));
  auto none = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    nodes { name: "t" op: "tanh" inputs: "x"
      attrs { key: "alpha" value { f: 0.5 } } }
    signatures { name: "f" feeds: "x" fetches: "t" }
  )pb");
  EXPECT_TRUE(rejected(none, {"node 't'", "unknown attribute 'alpha' for op "
                                          "tanh (it has: none)"}));
}

TEST_F(ImporterErrorTest, MissingRequiredAttribute) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 2 dims: 3 } }
    nodes { name: "am" op: "argmax" inputs: "x" }
    signatures { name: "f" feeds: "x" fetches: "am" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:3:1: error: node 'am': ",
                           "requires attribute 'axis'"}));
}

TEST_F(ImporterErrorTest, AttributeWithoutValueOrDtype) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 2 dims: 3 } }
    nodes { name: "s" op: "reduce_sum" inputs: "x"
      attrs { key: "axes" value { } } }
    signatures { name: "f" feeds: "x" fetches: "s" }
  )pb");
  EXPECT_TRUE(rejected(r, {"node 's'", "attribute 'axes' has no value"}));
  auto t = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    nodes { name: "c" op: "cast" inputs: "x"
      attrs { key: "dtype" value { type: DT_INVALID } } }
    signatures { name: "f" feeds: "x" fetches: "c" }
  )pb");
  EXPECT_TRUE(rejected(t, {"node 'c'", "attribute 'dtype' is not a valid "
                                       "dtype (got DT_INVALID)"}));
}

TEST_F(ImporterErrorTest, WrongInputCount) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    nodes { name: "s" op: "add" inputs: "x" }
    signatures { name: "f" feeds: "x" fetches: "s" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:3:1: error: node 's': ",
                           "add takes 2 input(s), got 1"}));
  auto many = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    nodes { name: "r" op: "relu" inputs: "x" inputs: "x" }
    signatures { name: "f" feeds: "x" fetches: "r" }
  )pb");
  EXPECT_TRUE(rejected(many, {"node 'r'", "relu takes 1 input(s), got 2"}));
}

TEST_F(ImporterErrorTest, WrongOperandElementTypeForOp) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: I32 shape { dims: 3 } }
    nodes { name: "e" op: "exp" inputs: "x" }
    signatures { name: "f" feeds: "x" fetches: "e" }
  )pb");
  EXPECT_TRUE(rejected(r, {"node 'e'", "'nn.exp' op", "tensor<3xi32>"}));
}

//===----------------------------------------------------------------------===//
// Shapes and element types
//===----------------------------------------------------------------------===//

TEST_F(ImporterErrorTest, BroadcastMismatch) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 2 dims: 3 } }
    placeholders { name: "y" dtype: F32 shape { dims: 2 dims: 4 } }
    nodes { name: "d" op: "sub" inputs: "x" inputs: "y" }
    signatures { name: "f" feeds: "x" feeds: "y" fetches: "d" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:4:1: error: node 'd': ",
                           "'nn.sub' op cannot broadcast 'tensor<2x3xf32>' "
                           "with 'tensor<2x4xf32>': dimension -1 is 3 vs 4"}));
}

TEST_F(ImporterErrorTest, MatmulContractingDimensions) {
  auto r = import(R"pb(
    placeholders { name: "a" dtype: F32 shape { dims: -1 dims: 784 } }
    placeholders { name: "w" dtype: F32 shape { dims: 50 dims: 10 } }
    nodes { name: "layer1" op: "matmul" inputs: "a" inputs: "w" }
    signatures { name: "f" feeds: "a" feeds: "w" fetches: "layer1" }
  )pb");
  EXPECT_TRUE(rejected(r, {"node 'layer1'", "contracting dimensions differ",
                           "tensor<?x784xf32>", "784 columns",
                           "tensor<50x10xf32>", "50 rows"}));
}

TEST_F(ImporterErrorTest, MatmulRankTooLow) {
  auto r = import(R"pb(
    placeholders { name: "a" dtype: F32 shape { dims: 3 } }
    placeholders { name: "w" dtype: F32 shape { dims: 3 dims: 1 } }
    nodes { name: "m" op: "matmul" inputs: "a" inputs: "w" }
    signatures { name: "f" feeds: "a" feeds: "w" fetches: "m" }
  )pb");
  EXPECT_TRUE(rejected(r, {"node 'm'", "rank >= 2", "tensor<3xf32>"}));
}

TEST_F(ImporterErrorTest, BiasAddMismatch) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: -1 dims: 50 } }
    variables { name: "b" dtype: F32 shape: 10 }
    nodes { name: "h" op: "bias_add" inputs: "x" inputs: "b" }
    signatures { name: "f" feeds: "x" fetches: "h" }
  )pb");
  EXPECT_TRUE(rejected(r, {"node 'h'", "bias has 10 elements but the last "
                                       "dimension of x 'tensor<?x50xf32>' is 50"}));
  auto rank = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: -1 dims: 2 } }
    variables { name: "b" dtype: F32 shape: 1 shape: 2 }
    nodes { name: "h" op: "bias_add" inputs: "x" inputs: "b" }
    signatures { name: "f" feeds: "x" fetches: "h" }
  )pb");
  EXPECT_TRUE(rejected(rank, {"node 'h'", "bias must have rank 1, got "
                                          "'tensor<1x2xf32>'"}));
}

TEST_F(ImporterErrorTest, ReshapeElementCount) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 2 dims: 3 } }
    nodes { name: "r" op: "reshape" inputs: "x"
      attrs { key: "shape" value { ints { val: 4 val: 2 } } } }
    signatures { name: "f" feeds: "x" fetches: "r" }
  )pb");
  EXPECT_TRUE(rejected(r, {"node 'r'", "cannot reshape 'tensor<2x3xf32>' (6 "
                                       "elements) into [4, 2] (8 elements)"}));
  auto wild = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 2 dims: 3 } }
    nodes { name: "r" op: "reshape" inputs: "x"
      attrs { key: "shape" value { ints { val: -1 val: 4 } } } }
    signatures { name: "f" feeds: "x" fetches: "r" }
  )pb");
  EXPECT_TRUE(rejected(wild, {"node 'r'", "into [-1, 4]: no size for -1 fits"}));
  auto twice = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: -1 dims: 3 } }
    nodes { name: "r" op: "reshape" inputs: "x"
      attrs { key: "shape" value { ints { val: -1 val: -1 } } } }
    signatures { name: "f" feeds: "x" fetches: "r" }
  )pb");
  EXPECT_TRUE(rejected(twice, {"node 'r'", "more than one -1"}));
}

TEST_F(ImporterErrorTest, SqueezeOfNonUnitDimension) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 10 dims: 2 } }
    nodes { name: "sq" op: "squeeze" inputs: "x"
      attrs { key: "axes" value { ints { val: 1 } } } }
    signatures { name: "f" feeds: "x" fetches: "sq" }
  )pb");
  EXPECT_TRUE(rejected(r, {"node 'sq'", "cannot squeeze dimension 1 of "
                                        "'tensor<10x2xf32>': its size is 2, not 1"}));
}

TEST_F(ImporterErrorTest, AxisOutOfRange) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: -1 dims: 6 } }
    nodes { name: "s" op: "reduce_mean" inputs: "x"
      attrs { key: "axes" value { ints { val: 2 } } } }
    signatures { name: "f" feeds: "x" fetches: "s" }
  )pb");
  EXPECT_TRUE(rejected(r, {"node 's'", "axis 2 is out of range for rank 2 "
                                       "(expected in [-2, 2))"}));
  auto sm = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    nodes { name: "p" op: "softmax" inputs: "x"
      attrs { key: "axis" value { i: -2 } } }
    signatures { name: "f" feeds: "x" fetches: "p" }
  )pb");
  EXPECT_TRUE(rejected(sm, {"node 'p'", "axis -2 is out of range for rank 1"}));
  auto am = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 4 dims: 3 } }
    nodes { name: "am" op: "argmax" inputs: "x"
      attrs { key: "axis" value { i: 5 } } }
    signatures { name: "f" feeds: "x" fetches: "am" }
  )pb");
  EXPECT_TRUE(rejected(am, {"node 'am'", "axis 5 is out of range for rank 2"}));
  auto dup = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 4 dims: 3 } }
    nodes { name: "s" op: "reduce_sum" inputs: "x"
      attrs { key: "axes" value { ints { val: 1 val: -1 } } } }
    signatures { name: "f" feeds: "x" fetches: "s" }
  )pb");
  EXPECT_TRUE(rejected(dup, {"node 's'", "axis 1 is listed twice in axes"}));
}

TEST_F(ImporterErrorTest, SoftmaxCrossEntropyLabelsMismatch) {
  auto r = import(R"pb(
    placeholders { name: "logits" dtype: F32 shape { dims: -1 dims: 10 } }
    placeholders { name: "y" dtype: F32 shape { dims: -1 dims: 9 } }
    nodes { name: "xent" op: "softmax_cross_entropy" inputs: "logits" inputs: "y" }
    signatures { name: "f" feeds: "logits" feeds: "y" fetches: "xent" }
  )pb");
  EXPECT_TRUE(rejected(r, {"node 'xent'", "labels 'tensor<?x9xf32>' do not "
                                          "match logits 'tensor<?x10xf32>' in "
                                          "dimension 1: 9 vs 10"}));
  auto sparse = import(R"pb(
    placeholders { name: "logits" dtype: F32 shape { dims: -1 dims: 10 } }
    placeholders { name: "y" dtype: I32 shape { dims: -1 dims: 10 } }
    nodes { name: "xent" op: "softmax_cross_entropy" inputs: "logits" inputs: "y" }
    signatures { name: "f" feeds: "logits" feeds: "y" fetches: "xent" }
  )pb");
  EXPECT_TRUE(rejected(sparse, {"node 'xent'", "sparse labels must have rank "
                                               "1 for logits 'tensor<?x10xf32>', "
                                               "got 'tensor<?x10xi32>'"}));
  auto kind = import(R"pb(
    placeholders { name: "logits" dtype: F32 shape { dims: -1 dims: 10 } }
    placeholders { name: "y" dtype: F64 shape { dims: -1 dims: 10 } }
    nodes { name: "xent" op: "softmax_cross_entropy" inputs: "logits" inputs: "y" }
    signatures { name: "f" feeds: "logits" feeds: "y" fetches: "xent" }
  )pb");
  EXPECT_TRUE(rejected(kind, {"node 'xent'", "labels must be 'f32' "
                                             "probabilities", "got 'f64'"}));
}

TEST_F(ImporterErrorTest, MixedElementTypes) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    placeholders { name: "n" dtype: I32 shape { dims: 3 } }
    nodes { name: "m" op: "mul" inputs: "x" inputs: "n" }
    signatures { name: "f" feeds: "x" feeds: "n" fetches: "m" }
  )pb");
  EXPECT_TRUE(rejected(r, {"model.pbtxt:4:1: error: node 'm': ",
                           "operands have different element types: 'f32' "
                           "and 'i32'"}));
}

} // namespace
