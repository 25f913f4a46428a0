// The graph importer: textbook models import with the right shapes, and
// every class of bad model is refused with a message naming the culprit.
#include "compiler/driver/Diagnostics.h"
#include "compiler/import/GraphImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

namespace {

struct Imported {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::vector<std::string> errors;
  std::string allErrors() const {
    std::string s;
    for (const auto &e : errors)
      s += e + "\n";
    return s;
  }
};

class ImporterTest : public ::testing::Test {
protected:
  Imported import(const std::string &pbtxt) {
    Imported result;
    auto loaded = nncc::parseGraphText(pbtxt, "model.pbtxt");
    if (!loaded) {
      result.errors.push_back(llvm::toString(loaded.takeError()));
      return result;
    }
    nncc::DiagnosticPrinter printer(ctx, &result.errors);
    result.module = nncc::importGraph(ctx, *loaded);
    return result;
  }
  std::string typeOf(mlir::ModuleOp module, const std::string &func,
                     unsigned result) {
    auto f = module.lookupSymbol<mlir::func::FuncOp>(func);
    if (!f)
      return "<no function " + func + ">";
    std::string s;
    llvm::raw_string_ostream os(s);
    os << f.getFunctionType().getResult(result);
    return os.str();
  }
  mlir::MLIRContext ctx;
};

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

} // namespace
