// Test helper: compile a model in process (the JIT path) and hand it to the
// runtime, failing the test with the compiler's diagnostics.
#ifndef NNCC_TEST_E2E_COMPILEANDRUN_H
#define NNCC_TEST_E2E_COMPILEANDRUN_H

#include "compiler/driver/Jit.h"
#include "runtime/Session.h"

#include <gtest/gtest.h>

namespace nncc::test {

inline std::shared_ptr<rt::Executable> orFail(llvm::Expected<std::shared_ptr<rt::Executable>> exe) {
  if (!exe) {
    ADD_FAILURE() << llvm::toString(exe.takeError());
    return nullptr;
  }
  return *exe;
}

/// Compiles a model file (.pbtxt or .pb).
inline std::shared_ptr<rt::Executable> compileFile(const std::string &path) {
  return orFail(compileAndLoad(path));
}

/// Compiles a model given as protobuf text.
inline std::shared_ptr<rt::Executable> compileText(const std::string &pbtxt) {
  auto loaded = parseGraphText(pbtxt, "model.pbtxt");
  if (!loaded) {
    ADD_FAILURE() << llvm::toString(loaded.takeError());
    return nullptr;
  }
  return orFail(compileAndLoad(*loaded));
}

} // namespace nncc::test

#endif
