// The JIT path: compile a model in this process and hand the result straight
// to the runtime, without writing an .nnx file.
#ifndef NNCC_COMPILER_DRIVER_JIT_H
#define NNCC_COMPILER_DRIVER_JIT_H

#include "compiler/driver/Compiler.h"
#include "compiler/import/GraphReader.h"
#include "runtime/Device.h"
#include "runtime/Executable.h"

#include <memory>
#include <string>
#include <vector>

namespace nncc {

/// `options` with the target whose executables run on `device`.
inline CompileOptions onDevice(const rt::Device &device, CompileOptions options = {}) {
  options.target = device.kind() == rt::Device::Kind::Cuda ? Target::Cuda : Target::Cpu;
  return options;
}

/// Compiles `graph` and loads it. On failure the error holds the compiler's
/// diagnostics, one per line.
llvm::Expected<std::shared_ptr<rt::Executable>> compileAndLoad(const LoadedGraph &graph,
                                                               const CompileOptions &options = {});

/// The same for a model file (.pbtxt or .pb).
llvm::Expected<std::shared_ptr<rt::Executable>> compileAndLoad(const std::string &path,
                                                               const CompileOptions &options = {});

} // namespace nncc

#endif
