// Writes one CUDA C++ kernel computing one value of a fused group: a
// grid-stride loop over the value's elements, each element computed from
// the group's inputs by the ops of the group, inlined (reductions, softmax
// and matmul become loops inside the element). The first, general
// generator: correct for every op of the CUDA target, not yet tiled.
#ifndef NNCC_COMPILER_CUDA_KERNELWRITER_H
#define NNCC_COMPILER_CUDA_KERNELWRITER_H

#include "mlir/IR/Value.h"
#include "mlir/Support/LogicalResult.h"

#include "llvm/ADT/DenseMap.h"

#include <map>
#include <string>
#include <vector>

namespace nncc::cuda {

/// The most buffers one kernel takes (inputs and its output).
constexpr unsigned kMaxKernelArgs = 32;

/// The C++ type of an element type: float, double, int, long long, bool.
std::string cType(mlir::Type elt);

/// Values' dimensions: >= 0 known, -c for c times N (the run's unknown size).
using ShapeCache = llvm::DenseMap<mlir::Value, llvm::SmallVector<int64_t>>;
/// v's dimensions, derived from the feeds' (whose unknown dimension is N);
/// fails at an op giving a size that is no whole multiple of N.
mlir::FailureOr<llvm::SmallVector<int64_t>> symbolicShape(mlir::Value v, ShapeCache &cache);

class KernelWriter {
public:
  /// `inputs`: the values the kernel reads from buffers, argument i being
  /// inputs[i]; values defined inside the group are computed.
  KernelWriter(std::string name, std::vector<mlir::Value> inputs, ShapeCache &shapes);

  /// The kernel's source computing `result` into the last argument, or
  /// failure (reported at the op) for an op this target cannot compile.
  /// `tile` is set to the tile size of a tiled kernel (a product with its
  /// epilogue), 0 for a grid-stride one.
  mlir::FailureOr<std::string> write(mlir::Value result, unsigned &tile);

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
  std::string header(mlir::Value result);
  mlir::FailureOr<std::string> writeTiled(mlir::Value result, mlir::Operation *product);

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
};

} // namespace nncc::cuda

#endif
