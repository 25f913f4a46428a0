// Writes one CUDA C++ kernel computing one value of a fused group: a
// grid-stride loop over the value's elements, each element computed from
// the group's inputs by the ops of the group, inlined (reductions, softmax
// and matmul become loops inside the element). Where the element's work is
// a reduction, a warp (short rows) or a whole block (long ones, e.g. over
// the batch) computes each element together: its threads stride the
// reduced elements and combine with warp shuffles. A product with an
// elementwise epilogue is a tiled kernel (TiledKernel.cpp).
#ifndef NNCC_COMPILER_CUDA_KERNELWRITER_H
#define NNCC_COMPILER_CUDA_KERNELWRITER_H

#include "compiler/cuda/Precision.h"
#include "runtime/Abi.h"

#include "mlir/IR/Value.h"
#include "mlir/Support/LogicalResult.h"

#include "llvm/ADT/DenseMap.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace nncc::cuda {

using abi::kMaxKernelArgs;

/// The C++ type of an element type: float, double, int, long long, bool.
std::string cType(mlir::Type elt);

/// Values' dimensions: >= 0 known, -c for c times N (the run's unknown size).
using ShapeCache = llvm::DenseMap<mlir::Value, llvm::SmallVector<int64_t>>;
/// v's dimensions, derived from the feeds' (whose unknown dimension is N);
/// fails at an op giving a size that is no whole multiple of N.
mlir::FailureOr<llvm::SmallVector<int64_t>> symbolicShape(mlir::Value v, ShapeCache &cache);

/// A tiled product kernel's shape: bm x bn output tiles, tm x tn outputs
/// per thread, slices bk deep, the contraction split `splits` ways among
/// the block's 256 threads.
struct Tiling {
  int bm, bn, bk, tm, tn, splits;
};

/// A tensor-core product kernel's shape: bm x bn output tiles over 8 warps
/// in wm x wn, or, with splits 8, each warp the whole tile over its share of
/// the contraction.
struct WmmaTiling {
  int bm, bn, wm, wn, splits;
};

/// A product kernel written for one tile shape.
struct TiledVariant {
  std::string kernel;
  unsigned tileM, tileN;
};

/// How a kernel is launched (its CudaLaunch's tile, tilings, threads and
/// lanes).
struct LaunchShape {
  /// T: one block per T x T tile of the (rank-2) output; 0: grid-stride.
  unsigned tile = 0;
  /// A product written for several tile shapes, biggest first: the
  /// runtime picks one by the output's size and the device.
  std::vector<TiledVariant> tilings;
  /// Threads per block the kernel is written for.
  unsigned threads = 256;
  /// Threads computing one output element together: 1, 32 or `threads`.
  unsigned lanes = 1;
};

class KernelWriter {
public:
  /// `inputs`: the values the kernel reads from buffers, argument i being
  /// inputs[i]; values defined inside the group are computed. `precision`:
  /// how a tiled product multiplies.
  KernelWriter(std::string name, std::vector<mlir::Value> inputs, ShapeCache &shapes,
               Precision precision = Precision::FP32);

  /// The kernel's source computing `result` into the last argument, or
  /// failure (reported at the op) for an op this target cannot compile;
  /// `shape` is set to how it must be launched.
  mlir::FailureOr<std::string> write(mlir::Value result, LaunchShape &shape);

  /// File-scope definitions the kernels need (constant arrays).
  const std::string &globals() const { return globals_; }

private:
  std::string element(mlir::Value v, const std::string &lin);
  std::string compute(mlir::Operation *op, mlir::Value v, const std::string &lin);
  std::vector<std::string> coords(const std::string &lin, mlir::Value v);
  std::string linear(const std::vector<std::string> &coords, mlir::Value v);
  std::string broadcastIndex(const std::vector<std::string> &resultCoords,
                             mlir::Value result, mlir::Value operand);
  /// Dimension i of v as C: a literal, N, or (cLL*N).
  std::string dim(mlir::Value v, int64_t i);
  std::string elements(mlir::Value v, llvm::ArrayRef<int64_t> axes = {});
  std::string fresh(const char *prefix = "t");
  void line(const std::string &text);
  void open(const std::string &header);
  void close();
  std::string constant(mlir::Operation *op, const std::string &lin);
  /// The product `result` is an elementwise epilogue of, when both its
  /// operands are kernel inputs: the tiled kernel's case.
  mlir::Operation *tiledProduct(mlir::Value result);
  std::string header(mlir::Value result, const std::string &kernel);
  mlir::FailureOr<std::string> writeTiled(mlir::Value result, mlir::Operation *product,
                                          LaunchShape &shape);
  /// A tiled product kernel's body after its sizes: FMAs on a tile of
  /// accumulators per thread, or WMMA fragments (by `precision_`); both
  /// run `epilogue` for each element with `accv` the product at `lin`.
  std::string tiledProductFma(const Tiling &tiling, const std::string &T,
                              const std::string &A, const std::string &B, bool ta, bool tb,
                              const std::string &epilogue);
  std::string tiledProductWmma(const WmmaTiling &tiling, const std::string &A,
                               const std::string &B, bool ta, bool tb,
                               const std::string &epilogue);

  /// Who computes one element of a grid-stride kernel: one thread, a warp
  /// or the whole block.
  enum class Cooperation { None, Warp, Block };
  Cooperation cooperation(mlir::Value result);
  enum class Combine { Sum, Max, FMax };
  /// Declares `acc` = `identity` and folds term(r) for r in [0, extent)
  /// into it. At the top of a cooperative kernel's element the threads
  /// stride r and `acc` ends combined across them (every thread holding
  /// the total); anywhere else (nested in a loop or branch, where the
  /// threads may diverge) one thread loops alone.
  void reduce(const std::string &acc, Combine how, mlir::Type elt,
              const std::string &identity, const std::string &extent,
              const std::function<std::string(const std::string &)> &term);
  std::string accumulate(const std::string &acc, Combine how, mlir::Type elt,
                         const std::string &e);
  /// acc combined across the warp (xor butterfly), then for a block across
  /// its warps through shared memory.
  void combineAcross(const std::string &acc, Combine how, mlir::Type elt,
                     const std::string &identity);

  std::string name_;
  std::vector<mlir::Value> inputs_;
  ShapeCache &shapes_;
  std::string body_, globals_;
  int indent_ = 2, counter_ = 0;
  /// Elements already computed, per loop scope: (value, index) -> variable.
  std::vector<std::map<std::pair<void *, std::string>, std::string>> scopes_;
  mlir::Operation *failedAt_ = nullptr;
  /// Values known at every index the kernel reads them (the product's
  /// accumulator in a tiled kernel's epilogue).
  std::map<void *, std::string> overrides_;
  Precision precision_;
  Cooperation coop_ = Cooperation::None;
  /// The scope depth of the element's top level in a cooperative kernel.
  size_t topScope_ = 0;
  /// The kernel's __shared__ declarations (the block combine's slots).
  std::string shared_;
};

} // namespace nncc::cuda

#endif
