// Writes one CUDA C++ kernel computing one value of a kernel group, from
// the group's linalg (the CPU's nn -> linalg lowering and elementwise
// fusion, the ops' one definition): a grid-stride loop over the value's
// elements, each element computed from the group's inputs by the linalg
// ops that define it, inlined. Bodies of linalg ops become C expressions
// (arith and math ops, one printer for all), indexing maps index
// arithmetic, reduction iterators loops. An element's values are computed
// in the outermost loop they do not depend on (a softmax row's max once per
// row, not per class). Where the element's work is a reduction whose body
// is one associative combiner, a warp (short rows) or a whole block (long
// ones, e.g. over the batch) computes each element together: its threads
// stride the reduced elements and combine with warp shuffles. A product
// (linalg.matmul and its transposed forms) with an elementwise epilogue is a
// tiled kernel (TiledKernel.cpp).
#ifndef NNCC_COMPILER_CUDA_KERNELWRITER_H
#define NNCC_COMPILER_CUDA_KERNELWRITER_H

#include "compiler/cuda/Precision.h"
#include "runtime/Abi.h"

#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"
#include "mlir/Support/LogicalResult.h"

#include "llvm/ADT/DenseMap.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace nncc::cuda {

using abi::kMaxKernelArgs;

/// The C++ type of an element type: float, double, int, long long, bool.
std::string cType(mlir::Type elt);

/// An affine expression over index values `x` (dims, then symbols) as C;
/// floor division and modulo by positive constants round toward -infinity
/// as affine's do. Nothing for an expression C cannot say.
std::optional<std::string> affineExpression(mlir::AffineExpr e, const std::vector<std::string> &x,
                                            unsigned numDims);

/// A tensor's dimensions: >= 0 known, -c for c times N (the run's unknown
/// size, the feeds' batch).
using SymShape = llvm::SmallVector<int64_t>;

/// The dimensions of a group function's tensors, from its arguments' and
/// the sizes the lowering computes (tensor.dim, index arithmetic, the
/// destinations of linalg ops); a size that is no whole multiple of N is an
/// error at the op.
class Shapes {
public:
  void set(mlir::Value v, SymShape dims) { cache_[v] = std::move(dims); }
  mlir::FailureOr<SymShape> of(mlir::Value v);
  /// An index value as a size, or nothing.
  std::optional<int64_t> size(mlir::Value index);

private:
  llvm::DenseMap<mlir::Value, SymShape> cache_;
};

/// A tiled product kernel's shape: bm x bn output tiles, tm x tn outputs
/// per thread, slices bk deep, the contraction split `splits` ways among
/// the block's 256 threads.
struct Tiling {
  int bm, bn, bk, tm, tn, splits;
  /// The pipelined kernel's slices in shared memory (PipelinedProduct.cpp).
  int stages = 2;
};

/// A tensor-core product kernel's shape (MmaProduct.cpp): bm x bn output
/// tiles over 8 warps in wm x wn x splits, each warp a (bm/wm) x (bn/wn)
/// part of the tile over 1/splits of each slice of the contraction.
struct MmaTiling {
  int bm, bn, wm, wn, splits;
};
extern const MmaTiling kMmaTilings[3];

/// How a tiled kernel reads its product's operands: A [M, K] and B [K, C]
/// from the arguments named, transposed where ta, tb say, or, where
/// loadA / loadB name one, each element (row, k) or (k, col) through a
/// lambda of the kernel (a convolution's windows: implicit GEMM).
struct ProductOperands {
  std::string A, B;
  bool ta = false, tb = false;
  std::string loadA, loadB;
};

/// Whether tiling `t` of a product of `T`s reading `o` has the pipelined
/// kernel (PipelinedProduct.cpp): fp32, plain operands, the big tiles.
bool pipelines(const Tiling &t, const std::string &T, const ProductOperands &o);
/// That kernel's body after its sizes: `origin` places the tile (and a
/// slab's share of the contraction, where `slab`), `epilogue` stores an
/// element.
std::string pipelinedProduct(const Tiling &t, const ProductOperands &o, bool slab,
                             const std::string &origin, const std::string &epilogue);
/// The mma.sync kernel of tiling `t` (TF32, or BF16 where `bf16`), its body
/// after its sizes: `origin` places the tile (and a slab's share of the
/// contraction, where `slab`), `epilogue` stores an element.
std::string mmaProduct(const MmaTiling &t, bool bf16, const ProductOperands &o, bool slab,
                       const std::string &origin, const std::string &epilogue);
/// Grouped rasterization of a grid of `across` x `down` tiles: declares
/// tileRow and tileCol (long long) of the block at (`col`, `row`) so that
/// consecutive blocks (x fastest) take bands of kSwizzleRows tile rows
/// column by column, the last band as many rows as are left: blocks
/// running at once share A's rows and B's columns in L2. A bijection of
/// the grid onto its tiles for any shape.
constexpr int kSwizzleRows = 8;
std::string tileSwizzle(const std::string &across, const std::string &down, const std::string &col,
                        const std::string &row);
/// The device functions the mma.sync kernels call (inline PTX), for a
/// program whose source uses them.
std::string mmaPrelude();
/// The epilogue of the output element at (row, col), where it is one, with
/// `accv` its product: `indent` spaces deep.
std::string storeElement(int indent, const std::string &row, const std::string &col,
                         const std::string &T, const std::string &accv,
                         const std::string &epilogue);

/// sm_90a's product kernel (WgmmaProduct.cpp): TMA copies into 128-byte
/// swizzled shared memory through an mbarrier pipeline, a producer warp
/// and two consumer warpgroups multiplying by wgmma, persistent blocks.
/// Each operand is read K-major ([rows, K]) by a tensor map, straight from
/// its input or from a scratch buffer that a pre-pass kernel fills.
struct WgmmaShape {
  std::string kernel;
  unsigned threads = 0, sharedBytes = 0, tileM = 0, tileN = 0, depth = 0, stages = 0;
  bool bf16 = false;
  struct Operand {
    unsigned input = 0;    // the kernel input it is
    bool kMajor = false;   // stored [rows, K] (else [K, rows])
    std::string prepass;   // the kernel filling its scratch, or "": read as it is
    unsigned rowAlign = 4; // the scratch's (or the input's) rows, in elements
  } a, b;
};
/// The device functions of the wgmma kernels (TMA, mbarriers, wgmma,
/// setmaxnreg; inline PTX, or the host emulator's where NNCC_HOST_EMULATOR
/// is defined), for a program whose source uses them.
std::string hopperPrelude();

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
  /// A product whose contraction is split across the grid: the tilings
  /// write partial products [splitRows, columns] to a buffer of their own,
  /// then `reduce` (grid-stride) adds them and applies the epilogue, reading
  /// the inputs, that buffer and writing the output. 0: no split.
  int64_t splitRows = 0;
  std::string reduce;
  /// sm_90a's kernels of the product, where it has them: widest tiles first.
  std::vector<WgmmaShape> wgmma;
};

class KernelWriter {
public:
  /// `inputs`: the values (of a group function in linalg) the kernel reads
  /// from buffers, argument i being inputs[i]; the others are computed.
  /// `precision`: how a tiled product multiplies.
  /// `wgmma`: the target has sm_90a's wgmma and TMA (--cuda-arch=90a).
  KernelWriter(std::string name, std::vector<mlir::Value> inputs, Shapes &shapes,
               Precision precision = Precision::FP32, bool wgmma = false);

  /// The kernel's source computing `result` into the last argument, or
  /// failure (reported at the op) for an op this target cannot compile;
  /// `shape` is set to how it must be launched.
  mlir::FailureOr<std::string> write(mlir::Value result, LaunchShape &shape);

  /// File-scope definitions the kernels need (constant arrays).
  const std::string &globals() const { return globals_; }

private:
  using Coords = std::vector<std::string>;
  /// v's element at `coords` (one C index per dimension), computed in the
  /// outermost open scope the coordinates allow.
  std::string at(mlir::Value v, const Coords &coords);
  std::string compute(mlir::Value v, const Coords &coords);
  static std::string keyOf(mlir::Value v, const Coords &coords);
  /// Failure, reported, where an op could not be rendered.
  mlir::LogicalResult checked();
  /// The results of a linalg op at `coords` of result `result`'s indexing
  /// space: one per result (all computed together).
  std::vector<std::string> linalgElement(mlir::Operation *op, unsigned result,
                                         const Coords &coords);
  /// A scalar defined outside linalg bodies (a size, a constant), computed
  /// once per kernel.
  std::string scalar(mlir::Value v);
  /// The C expression of an arith or math op on operands already named.
  std::string expression(mlir::Operation *op, const std::vector<std::string> &operands);
  Coords delinearize(const std::string &lin, mlir::Value v);
  std::string linear(const Coords &coords, mlir::Value v);
  /// Dimension i of v as C: a literal, N, or (cLL*N).
  std::string dim(mlir::Value v, int64_t i);
  std::string elements(mlir::Value v);
  /// A fresh variable declared in the current scope.
  std::string fresh(const char *prefix = "t");
  void line(const std::string &text);
  void open(const std::string &header);
  void close();
  /// The scope whose code runs once for every value of the variables in
  /// `exprs`: the deepest of the scopes declaring them.
  size_t scopeOf(const Coords &exprs);
  /// `partials`: a split product's second kernel, which also reads the
  /// partial products (`part`, the argument before the output).
  std::string header(mlir::Value result, const std::string &kernel, bool partials = false);
  /// The product `result` is an elementwise epilogue of, when both its
  /// operands are kernel inputs: the tiled kernel's case.
  mlir::Operation *tiledProduct(mlir::Value result);
  mlir::FailureOr<std::string> writeTiled(mlir::Value result, mlir::Operation *product,
                                          LaunchShape &shape);
  /// The tile's first row and column (row0, col0) from the block's
  /// place; where the grid splits the contraction, also its slab and the
  /// slab's share [kBegin, kEnd) of the contraction.
  std::string tileOrigin(int bm, int bn);
  /// A tiled product kernel's body after its sizes: FMAs on a tile of
  /// accumulators per thread; it runs `epilogue` for each element with
  /// `accv` the product at `lin`.
  std::string tiledProductFma(const Tiling &tiling, const std::string &T,
                              const ProductOperands &operands, const std::string &epilogue);
  /// The wgmma kernel of a plain product (and its operands' pre-passes)
  /// where the target has one and the output is big enough, setting
  /// shape.wgmma; "" otherwise.
  std::string wgmmaKernels(mlir::Value result, mlir::Operation *product, const std::string &sizes,
                           const std::string &epilogue, int64_t knownRows, int64_t knownCols,
                           LaunchShape &shape);
  /// One of them, for the tiles `w` says.
  std::string wgmmaKernel(mlir::Value result, const WgmmaShape &w, const std::string &sizes,
                          const std::string &epilogue);
  /// A window product's operands (kWindowProductAttr: a convolution or
  /// its filter's gradient as a product of its windows): A the windows,
  /// B the filter or dy, each read through a lambda where it is no plain
  /// matrix; `sizes` gets M, C and K, `loaders` the lambdas, `depthSize`
  /// K (>= 0 known, -c for c times N).
  ProductOperands windowOperands(mlir::Operation *product, std::string &sizes, std::string &loaders,
                                 int64_t &depthSize);
  /// A lambda `name(a, b)` giving `operand`'s element at `map` of the
  /// loops, loops `first` (with their extents, the last fastest) taken
  /// from a, `second` from b.
  using Loops = std::vector<std::pair<unsigned, std::string>>;
  std::string loader(const std::string &name, mlir::Operation *product, mlir::Value operand,
                     mlir::AffineMap map, const Loops &first, const Loops &second);

  /// Who computes one element of a grid-stride kernel: one thread, a warp
  /// or the whole block.
  enum class Cooperation { None, Warp, Block };
  Cooperation cooperation(mlir::Value result);
  /// acc combined across the warp (xor butterfly) by `combine` (an
  /// expression of a and b), then for a block across its warps through
  /// shared memory.
  void combineAcross(const std::string &acc, mlir::Type elt, const std::string &identity,
                     const std::string &combine);

  struct Scope {
    /// The scope's opening line ("for (...)"), its code, its parent.
    std::string header, text;
    size_t parent = 0;
    /// Elements computed here: value@coords -> variable.
    std::map<std::string, std::string> computed;
  };

  std::string name_;
  std::vector<mlir::Value> inputs_;
  Shapes &shapes_;
  std::string globals_;
  int counter_ = 0, baseIndent_ = 4;
  std::vector<Scope> scopes_;
  /// The scope code goes to (the innermost, or one a value is hoisted to).
  size_t current_ = 0;
  /// The scope each variable is declared in.
  std::map<std::string, size_t> declaredIn_;
  /// The first op that cannot be rendered; a size that could not be (an
  /// error reported at its op).
  mlir::Operation *failedAt_ = nullptr;
  bool sizeFailed_ = false;
  /// Values known at every index the kernel reads them (the product's
  /// accumulator in a tiled kernel's epilogue).
  std::map<void *, std::string> overrides_;
  Precision precision_;
  bool wgmma_ = false;
  /// A product whose contraction the grid splits: `slabs` slabs, each a
  /// partial product of slabRows rows (the rows rounded up to whole
  /// tiles), added by a second kernel.
  struct SplitK {
    int64_t slabs = 1, slabRows = 0;
  } splitK_;
  Cooperation coop_ = Cooperation::None;
  /// The kernel's __shared__ declarations (the block combine's slots).
  std::string shared_;
};

} // namespace nncc::cuda

#endif
