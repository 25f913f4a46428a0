// The compiler facade: a model (graph.proto) in, an Executable out. Stages
// can be printed instead (--emit=nn|autodiff|fused|linalg|llvm-dialect|llvm).
#ifndef NNCC_COMPILER_DRIVER_COMPILER_H
#define NNCC_COMPILER_DRIVER_COMPILER_H

#include "compiler/cuda/Precision.h"
#include "compiler/import/GraphReader.h"
#include "proto/executable.pb.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

namespace nncc {

/// nn: as imported (shapes inferred); autodiff: with gradients, optimizer
/// updates and variables as arguments; fused: grouped into nn.fusion
/// kernels; then the CPU lowering's stages.
enum class Stage { None, NN, Autodiff, Fused, Linalg, LLVMDialect, LLVMIR, Cuda, Ptx };

/// The host CPU (native code in a shared library) or CUDA (kernels as CUDA
/// C++, PTX and CUBIN, with their launch sequences).
enum class Target { Cpu, Cuda };

/// "nn", "autodiff", "fused", "linalg", "llvm-dialect", "llvm", "cuda", "ptx"
/// -> Stage; nullopt otherwise.
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
  /// Data-parallel training: every training step averages its gradients
  /// over the ranks of the run (nn.all_reduce, through MPI on the CPU)
  /// before its update. On one process the step computes what it would
  /// without it.
  bool dataParallel = false;
  Target target = Target::Cpu;
  /// The CPU target's CPU: "native" (this machine's CPU and features),
  /// x86-64, x86-64-v2, x86-64-v3, x86-64-v4 or an LLVM CPU name (its
  /// features, none of this machine's). It sets the code's instructions,
  /// the product kernels' vector width and the features the .nnx requires.
  /// Empty: native, or the generic CPU of another architecture's `triple`.
  std::string cpu;
  /// The CPU target's LLVM triple: empty for this machine's; another
  /// architecture's (aarch64-linux-gnu) cross-compiles, linking with
  /// ld.lld-19, and the .nnx runs only there.
  std::string triple;
  /// The CUDA target's compute capability: PTX for compute_<arch>, CUBIN
  /// for sm_<arch> (90: the H100).
  std::string cudaArch = "90";
  /// How the CUDA target's tiled products multiply: exact fp32, or the
  /// tensor cores on operands rounded to TF32 or BF16 (fp32 accumulation;
  /// compute capability 80 or newer).
  cuda::Precision cudaPrecision = cuda::Precision::FP32;
  /// Compile the CUDA source with NVRTC (off: the executable holds the
  /// source and the launch plan only, as on a machine without the toolkit).
  bool nvrtc = true;
  /// When set, each phase's wall time (import, autodiff, fusion, lowering,
  /// LLVM's optimization, code generation, linking) is printed here.
  llvm::raw_ostream *timingTo = nullptr;
  /// Read and write the compile cache (compileCacheDir(): ~/.cache/nncc
  /// unless the environment says otherwise) for a whole compilation.
  bool cache = true;
};

/// Compiles `graph` for `options.cpu` (or CUDA). Problems are reported through `ctx`'s
/// diagnostics (naming nodes) and summarized in the returned error. With
/// `options.emit` set, the returned Executable has no kernels.
llvm::Expected<exe::Executable> compileModel(mlir::MLIRContext &ctx, const LoadedGraph &graph,
                                             const CompileOptions &options = {});

/// Writes `executable` to `path` atomically (temporary file, then rename).
llvm::Error writeExecutable(const exe::Executable &executable, const std::string &path);

} // namespace nncc

#endif
