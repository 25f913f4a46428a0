// The compiler facade: a model (graph.proto) in, an Executable out. Stages
// can be printed instead (--emit=nn|autodiff|fused|linalg|llvm-dialect|llvm).
#ifndef NNCC_COMPILER_DRIVER_COMPILER_H
#define NNCC_COMPILER_DRIVER_COMPILER_H

#include "compiler/import/GraphReader.h"
#include "proto/executable.pb.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

namespace nncc {

/// nn: as imported (shapes inferred); autodiff: with gradients, optimizer
/// updates and variables as arguments; fused: grouped into nn.fusion
/// kernels; then the CPU lowering's stages.
enum class Stage { None, NN, Autodiff, Fused, Linalg, LLVMDialect, LLVMIR };

/// "nn", "autodiff", "fused", "linalg", "llvm-dialect", "llvm" -> Stage; nullopt otherwise.
std::optional<Stage> parseStage(llvm::StringRef name);

struct CompileOptions {
  /// Print this stage's IR to `emitTo` and stop there.
  Stage emit = Stage::None;
  llvm::raw_ostream *emitTo = &llvm::outs();
  /// Group the ops into nn.fusion kernels (off: every op is its own; the
  /// results must not change).
  bool fuse = true;
  /// Check every floating-point op's result for NaN and infinity at run
  /// time (nn-check-numerics); a run then fails naming the first op that
  /// produced one. Slower: the checked ops are not fused.
  bool checkNumerics = false;
};

/// Compiles `graph` for the host CPU. Problems are reported through `ctx`'s
/// diagnostics (naming nodes) and summarized in the returned error. With
/// `options.emit` set, the returned Executable has no kernels.
llvm::Expected<exe::Executable> compileModel(mlir::MLIRContext &ctx,
                                             const LoadedGraph &graph,
                                             const CompileOptions &options = {});

/// Writes `executable` to `path` atomically (temporary file, then rename).
llvm::Error writeExecutable(const exe::Executable &executable,
                            const std::string &path);

} // namespace nncc

#endif
