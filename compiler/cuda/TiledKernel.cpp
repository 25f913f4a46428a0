// The tiled kernels of a product with an elementwise epilogue, the
// epilogue applied before the store. A product is one kernel per tile
// shape; the runtime launches the biggest tiles that still give every
// multiprocessor a block. In exact fp32 (or fp64) the tiles go from
// 128x128, 8x8 outputs per thread, for big products down to 8x8 tiles whose
// block splits the contraction four ways for small ones (64x50 . 784: 56
// blocks, not one); the products are fused multiply-adds, as on the CPU.
// With --cuda-precision=tf32|bf16 the tensor cores multiply (mma.sync,
// MmaProduct.cpp): 128x128 tiles of 64x32 per warp, 64x64 tiles of 32x16 per
// warp, and 16x16 tiles whose warps split the contraction. Slices of both
// operands are staged in shared memory, the next slice loaded into
// registers while the current one is multiplied; the big fp32 tilings of
// plain operands pipeline it in 3 or 4 stages instead (PipelinedProduct.cpp).
#include "compiler/cpu/Passes.h"
#include "compiler/cuda/KernelWriter.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinTypes.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <functional>

using namespace mlir;

namespace nncc::cuda {
namespace {

RankedTensorType tensorOf(Value v) { return cast<RankedTensorType>(v.getType()); }

/// How a block stages slices of A (As[kk][r], bm rows) and B (Bs[kk][c],
/// bn columns), `depth` deep, through registers ra, rb: consecutive threads
/// read consecutive addresses of each operand's layout.
struct Staging {
  int bm, bn, depth;
  std::string A, B, T;
  bool ta, tb;
  /// Where set, the operand's element (row, k) or (k, col) is this
  /// lambda's (a convolution's windows), not a read of A or B.
  std::string loadA = {}, loadB = {};
  /// The block's share of the contraction: [0, K), or a slab of it
  /// [kBegin, kEnd) where the grid splits it.
  bool slab = false;
  std::string kBegin() const { return slab ? "kBegin" : "0LL"; }
  std::string kEnd() const { return slab ? "kEnd" : "K"; }

  int loadsA() const { return bm * depth / 256; }
  int loadsB() const { return bn * depth / 256; }
  std::string slotA(const std::string &e) const {
    std::string m = std::to_string(bm), d = std::to_string(depth);
    return ta ? "const int kk = " + e + " / " + m + ", r = " + e + " % " + m + ";"
              : "const int r = " + e + " / " + d + ", kk = " + e + " % " + d + ";";
  }
  std::string slotB(const std::string &e) const {
    std::string n = std::to_string(bn), d = std::to_string(depth);
    return tb ? "const int c = " + e + " / " + d + ", kk = " + e + " % " + d + ";"
              : "const int kk = " + e + " / " + n + ", c = " + e + " % " + n + ";";
  }
  std::string registers() const {
    return "  " + T + " ra[" + std::to_string(loadsA()) + "], rb[" + std::to_string(loadsB()) +
           "];\n";
  }
  /// An unrolled loop over a thread's `n` elements of a slice, each at
  /// its place by `slot`.
  static std::string perElement(int n, const std::string &slot, const std::string &body) {
    return "#pragma unroll\n    for (int l = 0; l < " + std::to_string(n) + "; ++l) {\n      " +
           slot + "\n" + body + "    }\n";
  }
  /// Loads the slice at depth k0 into the registers.
  std::string load(const std::string &k0) const {
    const std::string e = "(threadIdx.x + l * 256)";
    return perElement(loadsA(), slotA(e),
                      "      const long long gr = row0 + r, gk = " + k0 +
                          " + kk;\n"
                          "      ra[l] = gr < M && gk < " +
                          kEnd() + " ? " +
                          (loadA.empty() ? A + "[" + (ta ? "gk * M + gr" : "gr * K + gk") + "]"
                                         : loadA + "(gr, gk)") +
                          " : (" + T + ")0;\n") +
           perElement(loadsB(), slotB(e),
                      "      const long long gk = " + k0 +
                          " + kk, gc = col0 + c;\n"
                          "      rb[l] = gk < " +
                          kEnd() + " && gc < C ? " +
                          (loadB.empty() ? B + "[" + (tb ? "gc * K + gk" : "gk * C + gc") + "]"
                                         : loadB + "(gk, gc)") +
                          " : (" + T + ")0;\n");
  }
  /// Stores the registers into As and Bs.
  std::string store() const {
    const std::string e = "(threadIdx.x + l * 256)";
    return perElement(loadsA(), slotA(e), "      As[kk][r] = ra[l];\n") +
           perElement(loadsB(), slotB(e), "      Bs[kk][c] = rb[l];\n");
  }
  /// The main loop's head: the staged slice stored, the block met, the
  /// next slice's loads issued before this one is multiplied.
  std::string loopHead() const {
    std::string d = std::to_string(depth);
    std::string l = "  {\n" + load(kBegin()) + "  }\n";
    l += "  for (long long k0 = " + (slab ? kBegin() : "0") + "; k0 < " + kEnd() + "; k0 += " + d +
         ") {\n";
    l += store();
    l += "    __syncthreads();\n";
    l +=
        "    if (k0 + " + d + " < " + kEnd() + ") { // the next slice, while this one multiplies\n";
    l += load("(k0 + " + d + ")");
    l += "    }\n";
    return l;
  }
};

} // namespace

std::string storeElement(int indent, const std::string &row, const std::string &col,
                         const std::string &T, const std::string &accv,
                         const std::string &epilogue) {
  std::string pad(indent, ' ');
  return pad + "const long long row = " + row + ", col = " + col + ";\n" + pad +
         "if (row < M && col < C) {\n" + pad + "  const long long lin = row * C + col;\n" + pad +
         "  const " + T + " accv = " + accv + ";\n" + epilogue + pad + "}\n";
}

Operation *KernelWriter::tiledProduct(Value result) {
  auto resultType = tensorOf(result);
  if (!isa<FloatType>(resultType.getElementType()))
    return nullptr;
  auto isInput = [&](Value v) { return llvm::is_contained(inputs_, v); };
  // What a window product's operand loader may compute on the way from
  // the inputs: no reductions (a window's padding, a stride's spread, the
  // filter turned are reads at other places).
  std::function<bool(Value)> readable = [&](Value v) {
    if (isInput(v))
      return true;
    Operation *op = v.getDefiningOp();
    if (isa_and_nonnull<tensor::EmptyOp, arith::ConstantOp>(op))
      return true;
    if (auto slice = dyn_cast_or_null<tensor::InsertSliceOp>(op))
      return readable(slice.getSource()) && readable(slice.getDest());
    auto l = dyn_cast_or_null<linalg::LinalgOp>(op);
    return l && l.getNumReductionLoops() == 0 && llvm::all_of(op->getOperands(), [&](Value x) {
             return !isa<RankedTensorType>(x.getType()) || readable(x);
           });
  };
  // A product of two inputs into zeros (a fill of 0); a window product of
  // readable operands.
  auto pureProduct = [&](Operation *op) {
    auto l = cast<linalg::LinalgOp>(op);
    auto fill = l.getDpsInitOperand(0)->get().getDefiningOp<linalg::FillOp>();
    auto zero = fill ? fill.getInputs()[0].getDefiningOp<arith::ConstantOp>() : nullptr;
    auto value = zero ? dyn_cast<FloatAttr>(zero.getValue()) : nullptr;
    if (!value || !value.getValue().isZero())
      return false;
    Value a = l.getDpsInputOperand(0)->get(), b = l.getDpsInputOperand(1)->get();
    if (op->hasAttr(cpu::kWindowProductAttr))
      return readable(a) && readable(b);
    return isInput(a) && isInput(b) && resultType.getRank() == 2;
  };
  auto isProduct = [](Operation *op) {
    return isa<linalg::MatmulOp, linalg::MatmulTransposeAOp, linalg::MatmulTransposeBOp>(op) ||
           (isa<linalg::GenericOp>(op) && op->hasAttr(cpu::kWindowProductAttr) &&
            op->getNumOperands() == 3 && op->getNumResults() == 1 &&
            cast<linalg::GenericOp>(op)
                .getIndexingMapMatchingResult(op->getResult(0))
                .isProjectedPermutation());
  };
  // Walk up from the result through elementwise linalg ops of the result's
  // shape that read what they reach at their own element; exactly one
  // product may be reached, and only through them.
  Operation *product = nullptr;
  bool ok = true;
  std::function<bool(Value)> reaches = [&](Value v) -> bool {
    if (isInput(v)) // read, not computed
      return false;
    Operation *op = v.getDefiningOp();
    auto l = dyn_cast_or_null<linalg::LinalgOp>(op);
    if (!l)
      return false;
    if (isProduct(op)) {
      if (v.getType() != result.getType() || !pureProduct(op) || (product && product != op))
        ok = false;
      product = op;
      return true;
    }
    bool any = false;
    for (OpOperand &operand : op->getOpOperands()) {
      if (!isa<RankedTensorType>(operand.get().getType()) ||
          !l.payloadUsesValueFromOperand(&operand) || !reaches(operand.get()))
        continue;
      any = true;
      if (!l.getMatchingIndexingMap(&operand).isIdentity())
        ok = false;
    }
    if (any && (v.getType() != result.getType() || l.getNumReductionLoops() > 0 ||
                !l.getIndexingMapMatchingResult(cast<OpResult>(v)).isIdentity()))
      ok = false;
    return any;
  };
  reaches(result);
  return ok ? product : nullptr;
}

const Tiling kTilings[] = {
    {128, 128, 8, 8, 8, 1, 4},
    {64, 64, 16, 4, 4, 1, 3},
    {16, 16, 16, 1, 1, 1},
    {8, 8, 16, 1, 1, 4},
};

// A convolution's output is tall and narrow (N*OH*OW rows of 32 or 64
// filters): tiles of 32 columns, 8x2 or 4x2 outputs per thread, where
// the square ones would leave half their columns idle (or have too few
// blocks), rather than 16x16 tiles of one output per thread.
const Tiling kTallTilings[] = {
    {128, 32, 8, 8, 2, 1},
    {64, 32, 8, 4, 2, 1},
};

std::string KernelWriter::tiledProductFma(const Tiling &t, const std::string &T,
                                          const ProductOperands &o, const std::string &epilogue) {
  if (pipelines(t, T, o))
    return pipelinedProduct(t, o, splitK_.slabs > 1, tileOrigin(t.bm, t.bn), epilogue);
  // 256 threads: (bm/tm) x (bn/tn) per split of the contraction.
  const int depth = t.bk * t.splits, perSplit = 256 / t.splits;
  const int rowStep = t.bm / t.tm, colStep = t.bn / t.tn;
  Staging stage{t.bm, t.bn, depth, o.A, o.B, T, o.ta, o.tb, o.loadA, o.loadB};
  auto str = [](int v) { return std::to_string(v); };
  std::string fma = T == "double" ? "fma" : "fmaf";
  std::string s;
  s += "  // " + str(t.bm) + "x" + str(t.bn) + " tiles, " + str(t.tm) + "x" + str(t.tn) +
       " outputs per thread" +
       (t.splits > 1 ? ", the contraction split " + str(t.splits) + " ways in the block" : "") +
       ", slices " + str(depth) + " deep.\n";
  s += "  __shared__ " + T + " As[" + str(depth) + "][" + str(t.bm) + "];\n";
  s += "  __shared__ " + T + " Bs[" + str(depth) + "][" + str(t.bn) + "];\n";
  s += "  const int split = threadIdx.x / " + str(perSplit) + ", t = threadIdx.x % " +
       str(perSplit) + ";\n";
  s += "  const int tx = t % " + str(colStep) + ", ty = t / " + str(colStep) + ";\n";
  s += "  (void)split;\n";
  s += tileOrigin(t.bm, t.bn);
  stage.slab = splitK_.slabs > 1;
  s += stage.registers();
  s += "  " + T + " acc[" + str(t.tm) + "][" + str(t.tn) + "];\n";
  s += "#pragma unroll\n  for (int i = 0; i < " + str(t.tm) + "; ++i)\n";
  s += "#pragma unroll\n    for (int j = 0; j < " + str(t.tn) + "; ++j)\n";
  s += "      acc[i][j] = (" + T + ")0;\n";
  s += stage.loopHead();
  s += "#pragma unroll\n    for (int k = 0; k < " + str(t.bk) + "; ++k) {\n";
  s += "      const int kk = split * " + str(t.bk) + " + k;\n";
  s += "      " + T + " x[" + str(t.tm) + "], y[" + str(t.tn) + "];\n";
  s += "#pragma unroll\n      for (int i = 0; i < " + str(t.tm) + "; ++i)\n";
  s += "        x[i] = As[kk][ty + i * " + str(rowStep) + "];\n";
  s += "#pragma unroll\n      for (int j = 0; j < " + str(t.tn) + "; ++j)\n";
  s += "        y[j] = Bs[kk][tx + j * " + str(colStep) + "];\n";
  s += "#pragma unroll\n      for (int i = 0; i < " + str(t.tm) + "; ++i)\n";
  s += "#pragma unroll\n        for (int j = 0; j < " + str(t.tn) + "; ++j)\n";
  s += "          acc[i][j] = " + fma + "(x[i], y[j], acc[i][j]);\n";
  s += "    }\n";
  s += "    __syncthreads();\n";
  s += "  }\n";
  if (t.splits > 1) {
    // The splits' partial sums added in a fixed order: the same result
    // every run.
    s += "  __shared__ " + T + " partial[" + str(t.splits - 1) + "][" + str(t.bm * t.bn) + "];\n";
    s += "  if (split > 0)\n";
    s += "#pragma unroll\n    for (int i = 0; i < " + str(t.tm) + "; ++i)\n";
    s += "#pragma unroll\n      for (int j = 0; j < " + str(t.tn) + "; ++j)\n";
    s += "        partial[split - 1][(ty + i * " + str(rowStep) + ") * " + str(t.bn) +
         " + tx + j * " + str(colStep) + "] = acc[i][j];\n";
    s += "  __syncthreads();\n";
    s += "  if (split > 0)\n    return;\n";
    s += "  for (int p = 0; p < " + str(t.splits - 1) + "; ++p)\n";
    s += "#pragma unroll\n    for (int i = 0; i < " + str(t.tm) + "; ++i)\n";
    s += "#pragma unroll\n      for (int j = 0; j < " + str(t.tn) + "; ++j)\n";
    s += "        acc[i][j] += partial[p][(ty + i * " + str(rowStep) + ") * " + str(t.bn) +
         " + tx + j * " + str(colStep) + "];\n";
  }
  s += "#pragma unroll\n  for (int i = 0; i < " + str(t.tm) + "; ++i)\n";
  s += "#pragma unroll\n    for (int j = 0; j < " + str(t.tn) + "; ++j) {\n";
  s += storeElement(6, "row0 + ty + i * " + str(rowStep), "col0 + tx + j * " + str(colStep), T,
                    "acc[i][j]", epilogue);
  s += "    }\n}\n";
  return s;
}

std::string tileSwizzle(const std::string &across, const std::string &down, const std::string &col,
                        const std::string &row) {
  std::string g = std::to_string(kSwizzleRows);
  return "  long long tileRow, tileCol;\n"
         "  { // bands of " +
         g +
         " tile rows, each taken column by column\n"
         "    const long long across = " +
         across + ", down = " + down + ", lin = (long long)(" + row + ") * across + " + col +
         ";\n"
         "    const long long band = lin / (" +
         g + " * across), first = band * " + g +
         ";\n"
         "    const long long rows = down - first < " +
         g + " ? down - first : " + g +
         ", at = lin - first * across;\n"
         "    tileRow = first + at % rows;\n"
         "    tileCol = at / rows;\n"
         "  }\n";
}

std::string KernelWriter::tileOrigin(int bm, int bn) {
  std::string m = std::to_string(bm), n = std::to_string(bn);
  if (splitK_.slabs <= 1)
    return tileSwizzle("gridDim.x", "gridDim.y", "blockIdx.x", "blockIdx.y") +
           "  const long long row0 = tileRow * " + m + ", col0 = tileCol * " + n + ";\n";
  // The grid's rows are slabs of slabRows rows each (a whole number of
  // tiles), slab s multiplying its share of the contraction; each slab's
  // tiles in bands.
  std::string tiles = std::to_string(splitK_.slabRows / bm), slabs = std::to_string(splitK_.slabs);
  return "  const long long slab = (long long)blockIdx.y / " + tiles + ";\n" +
         tileSwizzle("gridDim.x", tiles, "blockIdx.x", "blockIdx.y % " + tiles) +
         "  const long long row0 = tileRow * " + m + ", col0 = tileCol * " + n +
         ";\n"
         "  const long long slabDepth = (K + " +
         slabs + " - 1) / " + slabs +
         ", kBegin = slab * slabDepth,\n"
         "                  kEnd = kBegin + slabDepth < K ? kBegin + slabDepth : K;\n";
}

std::string KernelWriter::loader(const std::string &name, Operation *product, Value operand,
                                 AffineMap map, const Loops &first, const Loops &second) {
  scopes_.assign(1, Scope());
  current_ = 0;
  baseIndent_ = 4;
  std::vector<std::string> loops(map.getNumDims(), "0LL");
  auto split = [&](const std::string &index, const Loops &order) {
    if (order.size() == 1) {
      loops[order[0].first] = index;
      return;
    }
    // Unsigned 32-bit arithmetic where the loops' extents are known and
    // their product fits (a window's kh, kw, c; a filter's): a 64-bit
    // division by a constant is several instructions on a GPU, a 32-bit
    // one a multiply and a shift.
    std::vector<std::string> extents;
    int64_t product = 1;
    for (const auto &[loop, extent] : order) {
      bool literal = extent.size() > 2 && extent.compare(extent.size() - 2, 2, "LL") == 0 &&
                     extent.find_first_not_of("0123456789") == extent.size() - 2;
      int64_t e = literal ? std::stoll(extent) : 0;
      product = e > 0 && product <= (int64_t{1} << 31) / e ? product * e : -1;
      extents.push_back(extent.substr(0, extent.size() - 2) + "u");
    }
    bool narrow = product > 0 && product <= (int64_t{1} << 31);
    std::string rest = fresh("r");
    line(narrow ? "unsigned " + rest + " = (unsigned)" + index + ";"
                : "long long " + rest + " = " + index + ";");
    for (size_t i = order.size(); i-- > 0;) {
      std::string c = fresh("c"), extent = narrow ? extents[i] : order[i].second;
      if (i == 0) {
        line("const long long " + c + " = " + rest + ";");
      } else {
        line("const long long " + c + " = " + rest + " % " + extent + ";");
        line(rest + " /= " + extent + ";");
      }
      loops[order[i].first] = c;
    }
  };
  split("x_", first);
  split("y_", second);
  Coords coords;
  for (AffineExpr e : map.getResults()) {
    auto c = affineExpression(e, loops, map.getNumDims());
    if (!c) {
      failedAt_ = failedAt_ ? failedAt_ : product;
      return "";
    }
    coords.push_back(*c);
  }
  std::string v = at(operand, coords);
  return "  auto " + name + " = [&](const long long x_, const long long y_) -> " +
         cType(tensorOf(operand).getElementType()) + " {\n" + scopes_[0].text + "    return " + v +
         ";\n  };\n";
}

ProductOperands KernelWriter::windowOperands(Operation *product, std::string &sizes,
                                             std::string &loaders, int64_t &depthSize) {
  auto g = cast<linalg::GenericOp>(product);
  Value y = product->getResult(0);
  // Rows: the output's loops but its last (the columns); the contraction:
  // the reduction loops, their extents those of the operands they index.
  AffineMap outMap = g.getIndexingMapMatchingResult(cast<OpResult>(y));
  Loops rows, cols, depth;
  for (unsigned i = 0; i < outMap.getNumResults(); ++i)
    (i + 1 < outMap.getNumResults() ? rows : cols)
        .push_back({cast<AffineDimExpr>(outMap.getResult(i)).getPosition(), dim(y, i)});
  SmallVector<unsigned> reduced;
  g.getReductionDims(reduced);
  depthSize = 1;
  for (unsigned d : reduced) {
    std::string extent;
    for (OpOperand *operand : g.getDpsInputOperands())
      for (auto [p, e] : llvm::enumerate(g.getMatchingIndexingMap(operand).getResults()))
        if (auto de = dyn_cast<AffineDimExpr>(e); de && de.getPosition() == d && extent.empty()) {
          extent = dim(operand->get(), p);
          auto dims = shapes_.of(operand->get());
          int64_t size = succeeded(dims) ? (*dims)[p] : 0;
          depthSize = (depthSize < 0) != (size < 0) ? -std::abs(depthSize * size)
                                                    : std::abs(depthSize * size);
        }
    if (extent.empty())
      failedAt_ = failedAt_ ? failedAt_ : product;
    depth.push_back({d, extent});
  }
  auto product_ = [](const Loops &loops) {
    std::string s;
    for (const auto &l : loops)
      s += (s.empty() ? "" : "*") + l.second;
    return s;
  };
  sizes = "  const long long M = " + product_(rows) + ", C = " + product_(cols) +
          ", K = " + product_(depth) + ";\n";
  // nn-to-linalg's window product reads (the filter or dy, the windows).
  OpOperand *b = g.getDpsInputOperand(0), *a = g.getDpsInputOperand(1);
  // An operand read in place where it is an input laid out as the product
  // reads it; the windows through a lambda.
  auto plain = [&](OpOperand *operand, const Loops &outer, const Loops &inner) {
    AffineMap map = g.getMatchingIndexingMap(operand);
    if (!llvm::is_contained(inputs_, operand->get()) ||
        map.getNumResults() != outer.size() + inner.size())
      return false;
    unsigned k = 0;
    for (const Loops *loops : {&outer, &inner})
      for (const auto &l : *loops)
        if (map.getResult(k++) != getAffineDimExpr(l.first, product->getContext()))
          return false;
    return true;
  };
  auto input = [&](Value v) {
    return "in" + std::to_string(llvm::find(inputs_, v) - inputs_.begin());
  };
  ProductOperands o;
  if (plain(b, depth, cols)) {
    o.B = input(b->get());
  } else {
    o.loadB = "loadB";
    loaders += loader(o.loadB, product, b->get(), g.getMatchingIndexingMap(b), depth, cols);
  }
  if (plain(a, rows, depth)) {
    o.A = input(a->get());
  } else {
    // Consecutive threads read consecutive rows where the windows'
    // innermost index (the channel) is a row loop (the filter's gradient),
    // consecutive k otherwise.
    AffineExpr inner = g.getMatchingIndexingMap(a).getResults().back();
    o.ta = llvm::any_of(rows, [&](const auto &l) { return inner.isFunctionOfDim(l.first); });
    o.loadA = "loadA";
    loaders += loader(o.loadA, product, a->get(), g.getMatchingIndexingMap(a), rows, depth);
  }
  return o;
}

FailureOr<std::string> KernelWriter::writeTiled(Value result, Operation *product,
                                                LaunchShape &shape) {
  Type elt = tensorOf(result).getElementType();
  std::string T = cType(elt);
  // Tensor cores for float products only: fp64 stays on FMAs.
  bool mma = precision_ != Precision::FP32 && elt.isF32();
  ProductOperands operands;
  std::string sizes, loaders;
  // The contraction's size where it is a window product's (>= 0 known, -c
  // for c times N); 0 otherwise.
  int64_t depthSize = 0;
  if (product->hasAttr(cpu::kWindowProductAttr)) {
    operands = windowOperands(product, sizes, loaders, depthSize);
  } else {
    auto mm = cast<linalg::LinalgOp>(product);
    Value lhs = mm.getDpsInputOperand(0)->get(), rhs = mm.getDpsInputOperand(1)->get();
    auto input = [&](Value v) {
      return "in" + std::to_string(llvm::find(inputs_, v) - inputs_.begin());
    };
    operands.ta = isa<linalg::MatmulTransposeAOp>(product);
    operands.tb = isa<linalg::MatmulTransposeBOp>(product);
    operands.A = input(lhs);
    operands.B = input(rhs);
    sizes = "  const long long M = " + dim(result, 0) + ", C = " + dim(result, 1) +
            ", K = " + dim(lhs, operands.ta ? 0 : 1) + ";\n";
  }
  scopes_.assign(1, Scope());
  current_ = 0;
  baseIndent_ = 8;
  overrides_[product->getResult(0).getAsOpaquePointer()] = "accv";
  // The output as a matrix of its last dimension's columns: element (row,
  // col) is the one at `lin`.
  int64_t rank = tensorOf(result).getRank();
  std::string elementName =
      at(result, rank == 2 ? Coords{"row", "col"} : delinearize("lin", result));
  if (failed(checked()))
    return failure();
  // The epilogue, the same in every tiling: `accv` the product at `lin`.
  std::string epilogue =
      scopes_[0].text + std::string(baseIndent_, ' ') + "out[lin] = " + elementName + ";\n";
  shape = {};
  shape.threads = 256;
  // Where a dimension of the output is known, tilings that leave half a
  // tile's rows or columns idle are left out (a smaller tiling has as many
  // blocks or more, and every kernel costs NVRTC time); the smallest
  // always stays.
  auto known = shapes_.of(result);
  int64_t knownRows = 1, knownCols = -1;
  if (succeeded(known)) {
    for (int64_t i = 0; i + 1 < rank; ++i)
      knownRows = (*known)[i] < 0 || knownRows < 0 ? -1 : knownRows * (*known)[i];
    knownCols = known->back();
  }
  auto wanted = [&](int bm, int bn, bool last) {
    auto halfIdle = [](int64_t size, int tile) { return size >= 0 && 2 * size <= tile; };
    return last || failed(known) || !(halfIdle(knownRows, bm) || halfIdle(knownCols, bn));
  };
  // The tilings written, biggest first (the runtime takes the first that
  // gives every multiprocessor a block): for a window product also the
  // tall ones, after the square tiles of their size.
  std::vector<const Tiling *> fma;
  std::vector<const MmaTiling *> tensorCores;
  std::vector<std::pair<int, int>> tiles;
  if (mma) {
    for (const MmaTiling &t : kMmaTilings)
      if (wanted(t.bm, t.bn, &t == &kMmaTilings[std::size(kMmaTilings) - 1])) {
        tensorCores.push_back(&t);
        tiles.push_back({t.bm, t.bn});
      }
  } else {
    std::vector<const Tiling *> candidates;
    for (const Tiling &t : kTilings) {
      candidates.push_back(&t);
      if (t.bm == 64 && depthSize != 0)
        for (const Tiling &tall : kTallTilings)
          candidates.push_back(&tall);
    }
    for (const Tiling *t : candidates)
      if (wanted(t->bm, t->bn, t == &kTilings[std::size(kTilings) - 1])) {
        fma.push_back(t);
        tiles.push_back({t->bm, t->bn});
      }
  }
  // A contraction over the batch's images (a filter's gradient: N*OH*OW
  // deep) into an output of a few tiles: the grid splits it into slabs,
  // enough for two blocks per multiprocessor of an H100 or H200 (132) at
  // the biggest tiles, each slab's partial product written to a buffer,
  // then added in a fixed order (the same result every run) by a second
  // kernel that applies the epilogue.
  splitK_ = {};
  if (depthSize < 0 && -depthSize >= 16 && knownRows > 0 && knownCols > 0) {
    constexpr int64_t kMultiprocessors = 132;
    auto [bm, bn] = tiles.front();
    int64_t blocks = ((knownRows + bm - 1) / bm) * ((knownCols + bn - 1) / bn);
    int64_t slabs = std::clamp<int64_t>((2 * kMultiprocessors + blocks - 1) / blocks, 1, 64);
    // Every tile's rows divide the biggest's (powers of two).
    int64_t tall = 0;
    for (auto [m, n] : tiles)
      tall = std::max<int64_t>(tall, m);
    if (slabs > 1)
      splitK_ = {slabs, (knownRows + tall - 1) / tall * tall};
  }
  std::string tiledEpilogue = epilogue;
  if (splitK_.slabs > 1)
    tiledEpilogue = std::string(baseIndent_, ' ') + "out[(slab * " +
                    std::to_string(splitK_.slabRows) + "LL + row) * C + col] = accv;\n";
  std::string s;
  auto add = [&](const std::string &suffix, int bm, int bn, const std::string &body) {
    std::string kernel = name_ + suffix;
    s += (s.empty() ? "" : "\n") + header(result, kernel) + sizes + loaders + body;
    shape.tilings.push_back({kernel, static_cast<unsigned>(bm), static_cast<unsigned>(bn)});
  };
  for (const MmaTiling *t : tensorCores)
    add("_m" + std::to_string(t->bm), t->bm, t->bn,
        mmaProduct(*t, precision_ == Precision::BF16, operands, splitK_.slabs > 1,
                   tileOrigin(t->bm, t->bn), tiledEpilogue));
  for (const Tiling *t : fma)
    add("_t" + std::to_string(t->bm) + (t->bn == t->bm ? "" : "x" + std::to_string(t->bn)), t->bm,
        t->bn, tiledProductFma(*t, T, operands, tiledEpilogue));
  // sm_90a: its TMA and wgmma kernel beside them (WgmmaProduct.cpp).
  if (wgmma_ && mma && splitK_.slabs <= 1 && !product->hasAttr(cpu::kWindowProductAttr))
    s += wgmmaKernels(result, product, sizes, epilogue, knownRows, knownCols, shape);
  if (splitK_.slabs > 1) {
    std::string slabs = std::to_string(splitK_.slabs), rows = std::to_string(splitK_.slabRows);
    shape.splitRows = splitK_.slabs * splitK_.slabRows;
    shape.reduce = name_;
    s += "\n" + header(result, name_, /*partials=*/true) + sizes + "  (void)K;\n";
    s += "  // The " + slabs +
         " slabs' partial products added in a fixed order, then the epilogue.\n";
    s += "  for (long long lin = (long long)blockIdx.x * blockDim.x + threadIdx.x; lin < M * C;\n"
         "       lin += (long long)blockDim.x * gridDim.x) {\n";
    s += "    const long long row = lin / C, col = lin % C;\n";
    s += "    " + T + " accv = (" + T + ")0;\n";
    s += "    for (int slab = 0; slab < " + slabs + "; ++slab)\n";
    s += "      accv += part[(slab * " + rows + "LL + row) * C + col];\n";
    s += "    {\n" + epilogue + "    }\n  }\n}\n";
  }
  splitK_ = {};
  return s;
}

} // namespace nncc::cuda
