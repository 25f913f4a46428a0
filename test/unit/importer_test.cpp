// The graph importer: textbook models import with the right shapes,
// variables keep their initializers, signatures prune and carry training
// attributes. The refusals of bad models are checked in
// test/lit/import/error-*.pbtxt.
#include "ImporterTestSupport.h"

#include "mlir/IR/BuiltinAttributes.h"

#include "llvm/Support/FileSystem.h"

#include <fstream>

namespace {

using nncc::test::exampleFile;
using nncc::test::Imported;
using nncc::test::ImporterTest;
using nncc::test::rejected;

TEST_F(ImporterTest, ScalarModelKeepsUnknownShape) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { unknown_rank: true } }
    variables { name: "weight" dtype: F32 initializer { kind: CONSTANT value { dtype: F32 float_val: 2.0 } } }
    nodes { name: "z" op: "mul" inputs: "weight" inputs: "x" }
    signatures { name: "predict" feeds: "x" fetches: "z" }
  )pb");
  ASSERT_TRUE(r.module) << r.allErrors();
  EXPECT_EQ(typeOf(*r.module, "predict", 0), "tensor<*xf32>");
}

TEST_F(ImporterTest, BroadcastMismatchNamesNodeAndShapes) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: -1 dims: 3 } }
    placeholders { name: "y" dtype: F32 shape { dims: 4 } }
    nodes { name: "s" op: "add" inputs: "x" inputs: "y" }
    signatures { name: "predict" feeds: "x" feeds: "y" fetches: "s" }
  )pb");
  EXPECT_FALSE(r.module);
  ASSERT_EQ(r.errors.size(), 1u);
  {
    const std::string &e = r.errors[0];
    EXPECT_NE(e.find("model.pbtxt:4:"), std::string::npos) << e;
    EXPECT_NE(e.find("node 's'"), std::string::npos) << e;
    EXPECT_NE(e.find("tensor<?x3xf32>"), std::string::npos) << e;
    EXPECT_NE(e.find("tensor<4xf32>"), std::string::npos) << e;
  }
}

//===----------------------------------------------------------------------===//
// The textbook examples
//===----------------------------------------------------------------------===//

TEST_F(ImporterTest, E1NetInputImports) {
  auto r = importFile(exampleFile("e1_net_input"));
  ASSERT_TRUE(r.module) << r.allErrors();
  EXPECT_TRUE(r.errors.empty()) << r.allErrors();
  EXPECT_EQ(r.module->getSymName().value_or(""), "e1_net_input");
  EXPECT_EQ(argTypeOf(*r.module, "predict", 0), "tensor<*xf32>");
  EXPECT_EQ(typeOf(*r.module, "predict", 0), "tensor<*xf32>");
  auto f = r.module->lookupSymbol<mlir::func::FuncOp>("predict");
  ASSERT_TRUE(f);
  EXPECT_EQ(printed(f->getAttr("nn.feeds")), "[\"x\"]");
  EXPECT_EQ(printed(f->getAttr("nn.fetches")), "[\"z\"]");
  auto weight = r.module->lookupSymbol<nncc::nn::VariableOp>("weight");
  auto bias = r.module->lookupSymbol<nncc::nn::VariableOp>("bias");
  ASSERT_TRUE(weight);
  ASSERT_TRUE(bias);
  EXPECT_EQ(printed(weight.getTypeAttr()), "tensor<f32>");
  EXPECT_EQ(weight.getInitializer(), "constant");
  EXPECT_TRUE(nncc::nn::isSplatOf(weight.getValueAttr(), 2.0));
  EXPECT_TRUE(nncc::nn::isSplatOf(bias.getValueAttr(), 0.7f));
  std::vector<std::string> ops = opNames(*r.module, "predict");
  EXPECT_NE(std::find(ops.begin(), ops.end(), "wx"), ops.end());
  EXPECT_NE(std::find(ops.begin(), ops.end(), "z"), ops.end());
}

TEST_F(ImporterTest, E2ArrayStructuresInfersShapes) {
  auto r = importFile(exampleFile("e2_array_structures"));
  ASSERT_TRUE(r.module) << r.allErrors();
  EXPECT_EQ(argTypeOf(*r.module, "predict", 0), "tensor<?x2x3xf32>");
  EXPECT_EQ(typeOf(*r.module, "predict", 0), "tensor<?x6xf32>"); // x2
  EXPECT_EQ(typeOf(*r.module, "predict", 1), "tensor<6xf32>");   // col_sum
  EXPECT_EQ(typeOf(*r.module, "predict", 2), "tensor<6xf32>");   // col_mean
  EXPECT_EQ(typeOf(*r.module, "predict", 3), "tensor<?xf32>");   // flat
  auto f = r.module->lookupSymbol<mlir::func::FuncOp>("predict");
  ASSERT_TRUE(f);
  EXPECT_EQ(printed(f->getAttr("nn.fetches")), "[\"x2\", \"col_sum\", \"col_mean\", \"flat\"]");
}

TEST_F(ImporterTest, E6ActivationsInfersShapes) {
  auto r = importFile(exampleFile("e6_activations"));
  ASSERT_TRUE(r.module) << r.allErrors();
  EXPECT_EQ(typeOf(*r.module, "logistic", 0), "tensor<1x1xf64>"); // p_y1
  EXPECT_EQ(typeOf(*r.module, "layer", 0), "tensor<3xf64>");      // Z
  EXPECT_EQ(typeOf(*r.module, "layer", 1), "tensor<3xf64>");      // logistic_Z
  EXPECT_EQ(typeOf(*r.module, "layer", 2), "tensor<i64>");        // argmax_Z
  EXPECT_EQ(typeOf(*r.module, "layer", 3), "tensor<3xf64>");      // softmax_Z
  EXPECT_EQ(typeOf(*r.module, "layer", 4), "tensor<f64>");        // softmax_sum
  for (unsigned i = 0; i < 3; ++i)
    EXPECT_EQ(typeOf(*r.module, "curves", i), "tensor<?xf64>") << i;
  EXPECT_EQ(typeOf(*r.module, "curves", 3), "<no result 3>");
  // Each signature holds only what its fetches need.
  std::vector<std::string> logistic = opNames(*r.module, "logistic");
  EXPECT_EQ(std::find(logistic.begin(), logistic.end(), "tanh_z"), logistic.end());
  EXPECT_NE(std::find(logistic.begin(), logistic.end(), "net_input"), logistic.end());
}

//===----------------------------------------------------------------------===//
// Variables
//===----------------------------------------------------------------------===//

TEST_F(ImporterTest, VariablesKeepTheirInitializers) {
  auto r = import(R"pb(
    variables { name: "c" dtype: F32 shape: 2 shape: 2
      initializer { kind: CONSTANT value { dtype: F32 dims: 2 dims: 2 float_val: 1 float_val: 2 float_val: 3 float_val: 4 } } }
    variables { name: "g" dtype: F32 shape: 4 shape: 3
      initializer { kind: GLOROT_UNIFORM seed: 42 } }
    variables { name: "n" dtype: F64 shape: 5
      initializer { kind: RANDOM_NORMAL seed: 7 mean: 0.5 stddev: 0.25 } }
    variables { name: "u" dtype: F32 shape: 3
      initializer { kind: RANDOM_UNIFORM seed: 9 minval: -2 maxval: 3 } }
    variables { name: "u01" dtype: F32 shape: 3 initializer { kind: RANDOM_UNIFORM } }
    variables { name: "n01" dtype: F32 shape: 3 initializer { kind: RANDOM_NORMAL } }
    variables { name: "z" dtype: I32 shape: 3 frozen: true }
    variables { name: "o" dtype: F32 shape: 3 initializer { kind: ONES } }
    nodes { name: "s" op: "reduce_sum" inputs: "c" }
    signatures { name: "f" fetches: "s" fetches: "g" fetches: "z" }
  )pb");
  ASSERT_TRUE(r.module) << r.allErrors();
  using nncc::nn::VariableOp;
  auto c = r.module->lookupSymbol<VariableOp>("c");
  ASSERT_TRUE(c);
  EXPECT_EQ(c.getInitializer(), "constant");
  EXPECT_EQ(printed(c.getValueAttr()), "dense<[[1.000000e+00, 2.000000e+00], [3.000000e+00, "
                                       "4.000000e+00]]> : tensor<2x2xf32>");

  auto g = r.module->lookupSymbol<VariableOp>("g");
  ASSERT_TRUE(g);
  EXPECT_EQ(printed(g.getTypeAttr()), "tensor<4x3xf32>");
  EXPECT_EQ(g.getInitializer(), "glorot_uniform");
  EXPECT_EQ(g.getSeed(), 42u);
  EXPECT_FALSE(g.getValueAttr());

  auto n = r.module->lookupSymbol<VariableOp>("n");
  ASSERT_TRUE(n);
  EXPECT_EQ(printed(n.getTypeAttr()), "tensor<5xf64>");
  EXPECT_EQ(n.getInitializer(), "random_normal");
  EXPECT_EQ(n.getSeed(), 7u);
  EXPECT_FLOAT_EQ(n.getMean().convertToFloat(), 0.5f);
  EXPECT_FLOAT_EQ(n.getStddev().convertToFloat(), 0.25f);

  auto u = r.module->lookupSymbol<VariableOp>("u");
  ASSERT_TRUE(u);
  EXPECT_EQ(u.getInitializer(), "random_uniform");
  EXPECT_EQ(u.getSeed(), 9u);
  EXPECT_FLOAT_EQ(u.getMinval().convertToFloat(), -2.0f);
  EXPECT_FLOAT_EQ(u.getMaxval().convertToFloat(), 3.0f);

  // Defaults: uniform over [0, 1), normal with stddev 1.
  auto u01 = r.module->lookupSymbol<VariableOp>("u01");
  ASSERT_TRUE(u01);
  EXPECT_FLOAT_EQ(u01.getMinval().convertToFloat(), 0.0f);
  EXPECT_FLOAT_EQ(u01.getMaxval().convertToFloat(), 1.0f);
  auto n01 = r.module->lookupSymbol<VariableOp>("n01");
  ASSERT_TRUE(n01);
  EXPECT_FLOAT_EQ(n01.getStddev().convertToFloat(), 1.0f);

  auto z = r.module->lookupSymbol<VariableOp>("z");
  ASSERT_TRUE(z);
  EXPECT_EQ(z.getInitializer(), "zeros");
  EXPECT_TRUE(z.getFrozen());
  EXPECT_FALSE(c.getFrozen());
  auto o = r.module->lookupSymbol<VariableOp>("o");
  ASSERT_TRUE(o);
  EXPECT_EQ(o.getInitializer(), "ones");

  // A fetched variable is a read of it; the result types are the variables'.
  EXPECT_EQ(typeOf(*r.module, "f", 0), "tensor<f32>");
  EXPECT_EQ(typeOf(*r.module, "f", 1), "tensor<4x3xf32>");
  EXPECT_EQ(typeOf(*r.module, "f", 2), "tensor<3xi32>");
  int reads = 0;
  r.module->walk([&](nncc::nn::ReadVariableOp) { ++reads; });
  EXPECT_EQ(reads, 3);
}

TEST_F(ImporterTest, ConstantInitializerWithOneValueFillsTheVariable) {
  auto r = import(R"pb(
    variables { name: "b" dtype: F32 shape: 3 shape: 2
      initializer { kind: CONSTANT value { dtype: F32 float_val: 0.5 } } }
    signatures { name: "f" fetches: "b" }
  )pb");
  ASSERT_TRUE(r.module) << r.allErrors();
  auto b = r.module->lookupSymbol<nncc::nn::VariableOp>("b");
  ASSERT_TRUE(b);
  EXPECT_TRUE(nncc::nn::isSplatOf(b.getValueAttr(), 0.5));
  EXPECT_EQ(typeOf(*r.module, "f", 0), "tensor<3x2xf32>");
}

TEST_F(ImporterTest, VariableReadOncePerSignature) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    variables { name: "w" dtype: F32 shape: 3 }
    nodes { name: "a" op: "mul" inputs: "w" inputs: "x" }
    nodes { name: "b" op: "add" inputs: "a" inputs: "w" }
    signatures { name: "f" feeds: "x" fetches: "b" }
    signatures { name: "g" feeds: "x" fetches: "a" }
  )pb");
  ASSERT_TRUE(r.module) << r.allErrors();
  int reads = 0;
  r.module->walk([&](nncc::nn::ReadVariableOp) { ++reads; });
  EXPECT_EQ(reads, 2); // one in f, one in g
}

//===----------------------------------------------------------------------===//
// References, pruning, node attributes
//===----------------------------------------------------------------------===//

TEST_F(ImporterTest, NodeColonIndexReferences) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 2 dims: 3 } }
    nodes { name: "t" op: "tanh" inputs: "x:0" }
    nodes { name: "s" op: "add" inputs: "t:0" inputs: "t" }
    signatures { name: "f" feeds: "x" fetches: "s:0" fetches: "t" }
  )pb");
  ASSERT_TRUE(r.module) << r.allErrors();
  EXPECT_EQ(typeOf(*r.module, "f", 0), "tensor<2x3xf32>");
  EXPECT_EQ(typeOf(*r.module, "f", 1), "tensor<2x3xf32>");
  // `t` and `t:0` are the same value: one tanh.
  int tanhs = 0;
  r.module->walk([&](nncc::nn::TanhOp) { ++tanhs; });
  EXPECT_EQ(tanhs, 1);
  auto f = r.module->lookupSymbol<mlir::func::FuncOp>("f");
  ASSERT_TRUE(f);
  EXPECT_EQ(printed(f->getAttr("nn.fetches")), "[\"s:0\", \"t\"]");
}

TEST_F(ImporterTest, UnneededNodesAreNotImported) {
  // `broken` would be refused (unknown op, unknown input), `unused` is fine;
  // neither is needed by the signature's fetches.
  auto r = import(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    placeholders { name: "y" dtype: F32 shape { dims: 3 } }
    variables { name: "w" dtype: F32 shape: 3 }
    nodes { name: "used" op: "relu" inputs: "x" }
    nodes { name: "unused" op: "mul" inputs: "w" inputs: "y" }
    nodes { name: "broken" op: "frobnicate" inputs: "nowhere" }
    signatures { name: "f" feeds: "x" fetches: "used" }
  )pb");
  ASSERT_TRUE(r.module) << r.allErrors();
  EXPECT_TRUE(r.errors.empty()) << r.allErrors();
  std::vector<std::string> ops = opNames(*r.module, "f");
  EXPECT_EQ(ops, std::vector<std::string>{"used"});
  int reads = 0;
  r.module->walk([&](nncc::nn::ReadVariableOp) { ++reads; });
  EXPECT_EQ(reads, 0);
  // The variable is still declared: it is state of the model.
  EXPECT_TRUE(r.module->lookupSymbol<nncc::nn::VariableOp>("w"));
}

TEST_F(ImporterTest, NodeAttributesAndDefaults) {
  auto r = import(R"pb(
    placeholders { name: "a" dtype: F32 shape { dims: 4 dims: 3 } }
    placeholders { name: "b" dtype: F32 shape { dims: 5 dims: 4 } }
    placeholders { name: "labels" dtype: I32 shape { dims: -1 } }
    nodes { name: "m" op: "matmul" inputs: "a" inputs: "b"
      attrs { key: "transpose_a" value { b: true } }
      attrs { key: "transpose_b" value { b: true } } }
    nodes { name: "k" op: "reduce_max" inputs: "m"
      attrs { key: "axes" value { ints { val: -1 } } }
      attrs { key: "keep_dims" value { b: true } } }
    nodes { name: "s" op: "reduce_sum" inputs: "m" }
    nodes { name: "oh" op: "one_hot" inputs: "labels"
      attrs { key: "depth" value { i: 10 } }
      attrs { key: "dtype" value { type: F64 } } }
    nodes { name: "c" op: "constant"
      attrs { key: "value" value { tensor { dtype: I64 dims: 2 int_val: 4 int_val: 5 } } } }
    nodes { name: "cast" op: "cast" inputs: "c"
      attrs { key: "dtype" value { type: F32 } } }
    signatures { name: "f" feeds: "a" feeds: "b" feeds: "labels"
      fetches: "m" fetches: "k" fetches: "s" fetches: "oh" fetches: "cast" }
  )pb");
  ASSERT_TRUE(r.module) << r.allErrors();
  EXPECT_EQ(typeOf(*r.module, "f", 0), "tensor<3x5xf32>");
  EXPECT_EQ(typeOf(*r.module, "f", 1), "tensor<3x1xf32>");
  EXPECT_EQ(typeOf(*r.module, "f", 2), "tensor<f32>");
  EXPECT_EQ(typeOf(*r.module, "f", 3), "tensor<?x10xf64>");
  EXPECT_EQ(typeOf(*r.module, "f", 4), "tensor<2xf32>");
  // Defaulted attributes are present on the op.
  nncc::nn::ReduceSumOp sum;
  r.module->walk([&](nncc::nn::ReduceSumOp op) { sum = op; });
  ASSERT_TRUE(sum);
  EXPECT_EQ(printed(sum->getAttr("keep_dims")), "false");
}

TEST_F(ImporterTest, DeepChainImportsWithoutRecursion) {
  // Inputs are followed without recursion: a long chain must not overflow
  // the stack. Nodes are listed consumers first.
  const int depth = 50000;
  std::string model = "placeholders { name: \"x\" dtype: F32 shape { dims: 2 } }\n";
  for (int i = depth; i >= 1; --i)
    model += "nodes { name: \"n" + std::to_string(i) + "\" op: \"neg\" inputs: \"" +
             (i == 1 ? std::string("x") : "n" + std::to_string(i - 1)) + "\" }\n";
  model += "signatures { name: \"f\" feeds: \"x\" fetches: \"n" + std::to_string(depth) + "\" }\n";
  auto r = import(model);
  ASSERT_TRUE(r.module) << r.allErrors();
  EXPECT_EQ(typeOf(*r.module, "f", 0), "tensor<2xf32>");
  int negs = 0;
  r.module->walk([&](nncc::nn::NegOp) { ++negs; });
  EXPECT_EQ(negs, depth);
}

//===----------------------------------------------------------------------===//
// Signatures
//===----------------------------------------------------------------------===//

TEST_F(ImporterTest, TrainingSignatureGetsLossAndOptimizer) {
  auto r = import(R"pb(
    name: "regression"
    placeholders { name: "x" dtype: F32 shape { dims: -1 dims: 3 } }
    placeholders { name: "y" dtype: F32 shape { dims: -1 dims: 1 } }
    variables { name: "w" dtype: F32 shape: 3 shape: 1 initializer { kind: GLOROT_UNIFORM seed: 1 } }
    variables { name: "b" dtype: F32 shape: 1 }
    nodes { name: "xw" op: "matmul" inputs: "x" inputs: "w" }
    nodes { name: "pred" op: "bias_add" inputs: "xw" inputs: "b" }
    nodes { name: "loss" op: "mean_squared_error" inputs: "pred" inputs: "y" }
    signatures { name: "predict" feeds: "x" fetches: "pred" }
    signatures {
      name: "train" feeds: "x" feeds: "y" fetches: "pred" loss: "loss"
      optimizer { kind: "sgd" learning_rate: 0.01 momentum: 0.9 decay: 1e-7 nesterov: true }
    }
  )pb");
  ASSERT_TRUE(r.module) << r.allErrors();
  EXPECT_EQ(r.module->getSymName().value_or(""), "regression");
  auto train = r.module->lookupSymbol<mlir::func::FuncOp>("train");
  ASSERT_TRUE(train);
  // The loss is fetched after the signature's own fetches.
  EXPECT_EQ(typeOf(*r.module, "train", 0), "tensor<?x1xf32>");
  EXPECT_EQ(typeOf(*r.module, "train", 1), "tensor<f32>");
  EXPECT_EQ(printed(train->getAttr("nn.fetches")), "[\"pred\", \"loss\"]");
  EXPECT_EQ(printed(train->getAttr("nn.feeds")), "[\"x\", \"y\"]");
  EXPECT_EQ(printed(train->getAttr("nn.loss")), "\"loss\"");
  auto opt = train->getAttrOfType<mlir::DictionaryAttr>("nn.optimizer");
  ASSERT_TRUE(opt) << printed(train->getAttr("nn.optimizer"));
  EXPECT_EQ(printed(opt.get("kind")), "\"sgd\"");
  auto lr = mlir::dyn_cast_or_null<mlir::FloatAttr>(opt.get("learning_rate"));
  ASSERT_TRUE(lr);
  EXPECT_FLOAT_EQ(lr.getValueAsDouble(), 0.01);
  auto momentum = mlir::dyn_cast_or_null<mlir::FloatAttr>(opt.get("momentum"));
  ASSERT_TRUE(momentum);
  EXPECT_FLOAT_EQ(momentum.getValueAsDouble(), 0.9);
  auto decay = mlir::dyn_cast_or_null<mlir::FloatAttr>(opt.get("decay"));
  ASSERT_TRUE(decay);
  EXPECT_FLOAT_EQ(decay.getValueAsDouble(), 1e-7);
  EXPECT_EQ(printed(opt.get("nesterov")), "true");
  // The inference signature has no training attributes.
  auto predict = r.module->lookupSymbol<mlir::func::FuncOp>("predict");
  ASSERT_TRUE(predict);
  EXPECT_FALSE(predict->hasAttr("nn.loss"));
  EXPECT_FALSE(predict->hasAttr("nn.optimizer"));
  EXPECT_EQ(typeOf(*r.module, "predict", 0), "tensor<?x1xf32>");
}

TEST_F(ImporterTest, LossOnlyTrainingSignatureWithSparseLabels) {
  auto r = import(R"pb(
    placeholders { name: "logits" dtype: F32 shape { dims: -1 dims: 10 } }
    placeholders { name: "y" dtype: I32 shape { dims: -1 } }
    nodes { name: "xent" op: "softmax_cross_entropy" inputs: "logits" inputs: "y" }
    nodes { name: "cost" op: "reduce_mean" inputs: "xent" }
    signatures { name: "train" feeds: "logits" feeds: "y" loss: "cost"
      optimizer { kind: "sgd" learning_rate: 0.001 } }
  )pb");
  ASSERT_TRUE(r.module) << r.allErrors();
  EXPECT_EQ(typeOf(*r.module, "train", 0), "tensor<f32>");
  auto train = r.module->lookupSymbol<mlir::func::FuncOp>("train");
  ASSERT_TRUE(train);
  EXPECT_EQ(printed(train->getAttr("nn.fetches")), "[\"cost\"]");
  auto opt = train->getAttrOfType<mlir::DictionaryAttr>("nn.optimizer");
  ASSERT_TRUE(opt);
  EXPECT_EQ(printed(opt.get("nesterov")), "false");
}

TEST_F(ImporterTest, FetchingAFedPlaceholderReturnsTheArgument) {
  auto r = import(R"pb(
    placeholders { name: "x" dtype: I64 shape { dims: 2 } }
    signatures { name: "id" feeds: "x" fetches: "x" }
  )pb");
  ASSERT_TRUE(r.module) << r.allErrors();
  auto f = r.module->lookupSymbol<mlir::func::FuncOp>("id");
  ASSERT_TRUE(f);
  EXPECT_EQ(typeOf(*r.module, "id", 0), "tensor<2xi64>");
  auto ret = mlir::cast<mlir::func::ReturnOp>(f.getBody().front().getTerminator());
  EXPECT_EQ(ret.getOperand(0), f.getArgument(0));
}

//===----------------------------------------------------------------------===//
// Files
//===----------------------------------------------------------------------===//

TEST_F(ImporterTest, BinaryProtobufFileImports) {
  auto text = nncc::readGraphFile(exampleFile("e2_array_structures"));
  ASSERT_TRUE(static_cast<bool>(text)) << llvm::toString(text.takeError());
  std::string bytes;
  ASSERT_TRUE(text->graph.SerializeToString(&bytes));
  std::string path = ::testing::TempDir() + "/importer_test_e2.pb";
  {
    std::ofstream out(path, std::ios::binary);
    out << bytes;
    ASSERT_TRUE(out.good());
  }
  auto binary = nncc::readGraphFile(path);
  ASSERT_TRUE(static_cast<bool>(binary)) << llvm::toString(binary.takeError());
  EXPECT_EQ(binary->path, path);
  EXPECT_EQ(binary->nodeLines, std::vector<int>(4, 0)); // no lines in binary
  auto r = importLoaded(*binary);
  ASSERT_TRUE(r.module) << r.allErrors();
  EXPECT_EQ(typeOf(*r.module, "predict", 0), "tensor<?x6xf32>");
  EXPECT_EQ(typeOf(*r.module, "predict", 1), "tensor<6xf32>");
  EXPECT_EQ(typeOf(*r.module, "predict", 2), "tensor<6xf32>");
  EXPECT_EQ(typeOf(*r.module, "predict", 3), "tensor<?xf32>");
  llvm::sys::fs::remove(path);
}

TEST_F(ImporterTest, BinaryProtobufErrorsNameTheFileWithoutLine) {
  auto text = nncc::parseGraphText(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: 3 } }
    nodes { name: "bad" op: "add" inputs: "x" inputs: "ghost" }
    signatures { name: "f" feeds: "x" fetches: "bad" }
  )pb",
                                   "model.pbtxt");
  ASSERT_TRUE(static_cast<bool>(text)) << llvm::toString(text.takeError());
  std::string path = ::testing::TempDir() + "/importer_test_bad.pb";
  {
    std::ofstream out(path, std::ios::binary);
    ASSERT_TRUE(text->graph.SerializeToOstream(&out));
  }
  auto r = importFile(path);
  llvm::sys::fs::remove(path);
  EXPECT_TRUE(rejected(r, {path + ": error: node 'bad': ", "'ghost'"}));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].find(path + ":0"), std::string::npos) << r.errors[0];
}

TEST_F(ImporterTest, TextFileRecordsLinesOfEveryElement) {
  auto loaded = nncc::readGraphFile(exampleFile("e1_net_input"));
  ASSERT_TRUE(static_cast<bool>(loaded)) << llvm::toString(loaded.takeError());
  EXPECT_EQ(loaded->placeholderLines, std::vector<int>{4});
  EXPECT_EQ(loaded->variableLines, (std::vector<int>{5, 9}));
  EXPECT_EQ(loaded->nodeLines, (std::vector<int>{13, 14}));
  EXPECT_EQ(loaded->signatureLines, std::vector<int>{15});
}

} // namespace
