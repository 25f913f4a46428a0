// Shared by the importer's unit tests: import a model from text or a file,
// collect the formatted diagnostics, and look at the result.
#ifndef NNCC_TEST_UNIT_IMPORTERTESTSUPPORT_H
#define NNCC_TEST_UNIT_IMPORTERTESTSUPPORT_H

#include "compiler/driver/Diagnostics.h"
#include "compiler/import/GraphImporter.h"
#include "nn/IR/NNDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace nncc::test {

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
  /// Parses `pbtxt` as "model.pbtxt" and imports it. A text-format error
  /// becomes the only entry of `errors`.
  Imported import(const std::string &pbtxt, const std::string &path = "model.pbtxt") {
    Imported result;
    auto loaded = nncc::parseGraphText(pbtxt, path);
    if (!loaded) {
      result.errors.push_back(llvm::toString(loaded.takeError()));
      return result;
    }
    return importLoaded(*loaded);
  }

  /// Reads `path` with readGraphFile and imports it.
  Imported importFile(const std::string &path) {
    Imported result;
    auto loaded = nncc::readGraphFile(path);
    if (!loaded) {
      result.errors.push_back(llvm::toString(loaded.takeError()));
      return result;
    }
    return importLoaded(*loaded);
  }

  Imported importLoaded(const nncc::LoadedGraph &loaded) {
    Imported result;
    nncc::DiagnosticPrinter printer(ctx, &result.errors);
    result.module = nncc::importGraph(ctx, loaded);
    return result;
  }

  /// The printed type of result `result` of signature function `func`.
  std::string typeOf(mlir::ModuleOp module, const std::string &func, unsigned result) {
    auto f = module.lookupSymbol<mlir::func::FuncOp>(func);
    if (!f)
      return "<no function " + func + ">";
    if (result >= f.getFunctionType().getNumResults())
      return "<no result " + std::to_string(result) + ">";
    std::string s;
    llvm::raw_string_ostream os(s);
    os << f.getFunctionType().getResult(result);
    return os.str();
  }

  /// The printed type of argument `arg` of signature function `func`.
  std::string argTypeOf(mlir::ModuleOp module, const std::string &func, unsigned arg) {
    auto f = module.lookupSymbol<mlir::func::FuncOp>(func);
    if (!f)
      return "<no function " + func + ">";
    if (arg >= f.getFunctionType().getNumInputs())
      return "<no argument " + std::to_string(arg) + ">";
    std::string s;
    llvm::raw_string_ostream os(s);
    os << f.getFunctionType().getInput(arg);
    return os.str();
  }

  /// An attribute of an operation, printed ("<none>" when absent).
  static std::string printed(mlir::Attribute attr) {
    if (!attr)
      return "<none>";
    std::string s;
    llvm::raw_string_ostream os(s);
    os << attr;
    return os.str();
  }

  /// The node names (NameLoc) of the ops in `func`, in order.
  std::vector<std::string> opNames(mlir::ModuleOp module, const std::string &func) {
    std::vector<std::string> names;
    auto f = module.lookupSymbol<mlir::func::FuncOp>(func);
    if (!f)
      return names;
    f.walk([&](mlir::Operation *op) {
      if (auto loc = mlir::dyn_cast<mlir::NameLoc>(op->getLoc()))
        names.push_back(loc.getName().str());
    });
    return names;
  }

  mlir::MLIRContext ctx;
};

/// The model was refused: no module, at least one error, and the errors
/// together contain every one of `needles`.
inline ::testing::AssertionResult rejected(const Imported &r,
                                           std::initializer_list<std::string> needles) {
  if (r.module)
    return ::testing::AssertionFailure() << "the model was accepted";
  if (r.errors.empty())
    return ::testing::AssertionFailure() << "the model was refused without an error message";
  std::string all = r.allErrors();
  for (const std::string &n : needles)
    if (all.find(n) == std::string::npos)
      return ::testing::AssertionFailure() << "the errors lack \"" << n << "\":\n" << all;
  return ::testing::AssertionSuccess();
}

inline std::string exampleFile(const std::string &name) {
  return std::string(NNCC_EXAMPLES_DIR) + "/" + name + "/" + name + ".pbtxt";
}

} // namespace nncc::test

#endif
