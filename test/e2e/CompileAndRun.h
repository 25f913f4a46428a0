// Test helper: compile a model in process (the JIT path) and hand it to the
// runtime, failing the test with the compiler's diagnostics.
#ifndef NNCC_TEST_E2E_COMPILEANDRUN_H
#define NNCC_TEST_E2E_COMPILEANDRUN_H

#include "compiler/driver/Compiler.h"
#include "compiler/driver/Diagnostics.h"
#include "runtime/Session.h"

#include <gtest/gtest.h>

namespace nncc::test {

inline std::shared_ptr<rt::Executable>
compileLoaded(llvm::Expected<LoadedGraph> loaded, const std::string &path) {
  if (!loaded) {
    ADD_FAILURE() << llvm::toString(loaded.takeError());
    return nullptr;
  }
  mlir::MLIRContext ctx;
  std::vector<std::string> diagnostics;
  DiagnosticPrinter printer(ctx, &diagnostics);
  auto proto = compileModel(ctx, *loaded);
  if (!proto) {
    std::string all = llvm::toString(proto.takeError());
    for (const auto &d : diagnostics)
      all += "\n" + d;
    ADD_FAILURE() << all;
    return nullptr;
  }
  auto exe = rt::Executable::fromProto(std::move(*proto), path);
  if (!exe) {
    ADD_FAILURE() << exe.error();
    return nullptr;
  }
  return *exe;
}

/// Compiles a model file (.pbtxt or .pb).
inline std::shared_ptr<rt::Executable> compileFile(const std::string &path) {
  return compileLoaded(readGraphFile(path), path);
}

/// Compiles a model given as protobuf text.
inline std::shared_ptr<rt::Executable> compileText(const std::string &pbtxt) {
  return compileLoaded(parseGraphText(pbtxt, "model.pbtxt"), "model.pbtxt");
}

} // namespace nncc::test

#endif
