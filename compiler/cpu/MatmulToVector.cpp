// nn-cpu-matmul-to-vector: a register-blocked, vectorized kernel for every
// 2-D linalg.matmul (and matmul_transpose_a, matmul_transpose_b) on buffers,
// specialized to its static column count.
//
// C += A . B is computed in panels of up to `maxVectors` vector registers of
// columns; within a panel, blocks of `rows` rows keep rows x vectors
// accumulators in registers across the whole k loop: per k, the panel's row
// of B is loaded once (masked for the last partial vector) and each row's
// A[i, k] is broadcast into one FMA per vector. k is blocked by `kBlock` so
// a panel of B stays in L1 while the rows stream through. Rows left over by
// the blocks run the same loop one row at a time.
//
// A . B^T (linalg.matmul_transpose_b, the backward products dZ . W^T) reads
// B^T's rows in place: its panels are always packed, each k block transposed
// into the pack through w x w tiles of registers (w the vector width, a
// butterfly of log2(w) two-source shuffles), instead of a copy of W^T per
// step.
//
// Convolutions are products too (implicit GEMM): a linalg.generic that
// nn-to-linalg marks with kWindowProductAttr multiplies the windows of
// images P [N, H, W, C] (padding already written out) as a matrix A (row
// (n, oh, ow), column (kh, kw, c)) without making it: A[i, j] is P's
// element at base(i) + offset(j), base(i) computed once per row and block,
// offset(j) from a table of the window's columns made once per call. The
// filter's gradient is A^T . dy, A^T read the same way.
#include "compiler/cpu/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"

#include <map>

using namespace mlir;

namespace nncc::cpu {

#define GEN_PASS_DECL_MATMULTOVECTOR
#define GEN_PASS_DEF_MATMULTOVECTOR
#include "compiler/cpu/Passes.h.inc"

namespace {

struct KernelShape {
  int64_t width;        // elements per vector register
  int64_t maxVectors;   // vector registers of columns per panel
  int64_t registers;    // vector registers of the target
  int64_t kBlock;       // k steps per block
  int64_t packRowBytes; // B rows at least this long are packed
};

/// The windows of images P [N, H, W, C] as the matrix A of a product: row
/// (n, oh, ow) of [N * OH * OW], column (kh, kw, c) of [KH * KW * C] holds
/// P[n, oh * s0 + kh * d0, ow * s1 + kw * d1, c].
struct Windows {
  int64_t stride[2], dilation[2], kernel[2], out[2];
  int64_t height, width, channels;
  int64_t columns() const { return kernel[0] * kernel[1] * channels; }
};

/// Rows per block: as many as the accumulators leave registers for (the
/// panel's B row and one broadcast stay live too), at most 8.
int64_t rowsFor(const KernelShape &shape, int64_t vectors) {
  return std::clamp<int64_t>((shape.registers - vectors - 1) / vectors, 1, 8);
}

/// An unpacked B of at most this many bytes is read whole for each block
/// of rows, not k block by k block: it stays in the L2 cache (1 MB on the
/// reference Zen 4, 256 KB on the oldest AVX2 cores).
constexpr int64_t kWholeBBytes = 256 << 10;

bool identityLayout(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  return type && type.getRank() == 2 && type.getLayout().isIdentity();
}

class KernelBuilder {
public:
  /// With `transA`, A holds A^T (k rows of m): C += A^T . B. With
  /// `transB`, B holds B^T (n rows of k): C += A . B^T.
  /// With `zeroInit`, C's contents are ignored: C = A . B (the product of a
  /// zero-filled init, without the fill).
  /// With `windows`, A is the images P of their windows' matrix.
  KernelBuilder(OpBuilder &b, Location loc, Value A, Value B, Value C, const KernelShape &shape,
                bool transA, bool transB, bool zeroInit, const Windows *windows = nullptr)
      : b(b), loc(loc), A(A), B(B), C(C), transA(transA), transB(transB), zeroInit(zeroInit),
        shape(shape), elt(cast<MemRefType>(C.getType()).getElementType()),
        vecType(VectorType::get({shape.width}, elt)), windows(windows) {}

  /// C[rowBegin:rowEnd, :] += A[rowBegin:rowEnd, :] . B.
  void build(Value rowBegin, Value rowEnd) {
    if (windows)
      prepareWindows();
    int64_t n = cast<MemRefType>(C.getType()).getDimSize(1);
    int64_t panelWidth = shape.width * shape.maxVectors;
    // Wide B's panels are packed into a contiguous, zero-padded block per k
    // block: full vectors for the FMAs, and no cache-set conflicts from a
    // long row stride (a 1024-column row is 4 KiB). Narrow ones are read in
    // place: packing would cost a batch-1 product as much as the product.
    Value pack;
    int64_t rowBytes = n * elt.getIntOrFloatBitWidth() / 8;
    if (transB || rowBytes >= shape.packRowBytes)
      pack = b.create<memref::AllocaOp>(loc, MemRefType::get({shape.kBlock, panelWidth}, elt));
    // An unpacked B that fits in the L2 cache (a textbook W1: 784 x 50,
    // 157 KB) is read whole for each block of rows: C's accumulators stay
    // in registers through all of k and are stored once, and A's rows and
    // B are read front to back, streams the prefetchers follow. Blocking k
    // there was 10-30% slower (10000 images . W1: 5.7-7.9 -> 4.8-5.3 ms,
    // a batch of 64: 40-53 -> 32-34 us, in alternating runs here).
    auto bType = cast<MemRefType>(B.getType());
    if (!pack && !bType.isDynamicDim(0) && bType.getDimSize(0) * rowBytes <= kWholeBBytes) {
      buildKBlocks(pack, rowBegin, rowEnd, bType.getDimSize(0));
      return;
    }
    // Else the rows go in tiles whose part of C (about 32 KiB) stays in
    // the caches through the k blocks: 10000 images . W1 otherwise read and
    // wrote their whole C (2 MB) from memory once per k block (inference of
    // the 10000 test images 9.5 -> 6.8-7.1 ms here; tiles of 16 to 256 KiB
    // were within 5%, 32 the best). A packed B is packed once per k block
    // for all the rows, so those are not tiled.
    if (!pack) {
      int64_t block =
          rowsFor(shape, std::min(shape.maxVectors, (n + shape.width - 1) / shape.width));
      int64_t tile = std::max<int64_t>(1, (32 << 10) / rowBytes / block) * block;
      auto tiles = b.create<scf::ForOp>(loc, rowBegin, rowEnd, index(tile));
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(tiles.getBody());
      Value tileEnd = b.create<arith::MinSIOp>(
          loc, b.create<arith::AddIOp>(loc, tiles.getInductionVar(), index(tile)), rowEnd);
      buildKBlocks(pack, tiles.getInductionVar(), tileEnd, shape.kBlock);
      return;
    }
    buildKBlocks(pack, rowBegin, rowEnd, shape.kBlock);
  }

private:
  /// C[rowBegin:rowEnd, :] += A[rowBegin:rowEnd, :] . B, k block by k
  /// block of `kSteps`.
  void buildKBlocks(Value pack, Value rowBegin, Value rowEnd, int64_t kSteps) {
    int64_t n = cast<MemRefType>(C.getType()).getDimSize(1);
    int64_t panelWidth = shape.width * shape.maxVectors;
    Value k = kExtent(), kBlock = index(kSteps);
    auto kLoop = b.create<scf::ForOp>(loc, index(0), k, kBlock);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(kLoop.getBody());
    Value k0 = kLoop.getInductionVar();
    Value k1 = b.create<arith::MinSIOp>(loc, b.create<arith::AddIOp>(loc, k0, kBlock), k);
    int64_t fullPanels = n / panelWidth, tail = n % panelWidth;
    if (fullPanels > 0) {
      auto panels =
          b.create<scf::ForOp>(loc, index(0), index(fullPanels * panelWidth), index(panelWidth));
      OpBuilder::InsertionGuard inPanel(b);
      b.setInsertionPointToStart(panels.getBody());
      buildPanel(panels.getInductionVar(), panelWidth, pack, rowBegin, rowEnd, k0, k1);
    }
    if (tail)
      buildPanel(index(fullPanels * panelWidth), tail, pack, rowBegin, rowEnd, k0, k1);
  }

  Value index(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }
  Value dim(Value memref, int64_t d) { return b.create<memref::DimOp>(loc, memref, d); }
  Value add(Value x, int64_t c) {
    return c ? b.create<arith::AddIOp>(loc, x, index(c)).getResult() : x;
  }

  /// The length of the products' sums: A's columns (A^T's rows).
  Value kExtent() {
    if (!windows)
      return dim(A, transA ? 0 : 1);
    if (!transA)
      return index(windows->columns());
    return b.create<arith::MulIOp>(loc, dim(A, 0), index(windows->out[0] * windows->out[1]));
  }

  /// P as one dimension, and the table of each window column's offset in
  /// it: column (kh, kw, c) at kh * d0 * W * C + kw * d1 * C + c.
  void prepareWindows() {
    const Windows &w = *windows;
    flat =
        b.create<memref::CollapseShapeOp>(loc, A, SmallVector<ReassociationIndices>{{0, 1, 2, 3}});
    offsets = b.create<memref::AllocaOp>(loc, MemRefType::get({w.columns()}, b.getIndexType()));
    int64_t rowStep = w.dilation[0] * w.width * w.channels, colStep = w.dilation[1] * w.channels;
    auto loops = [&](int64_t n, auto body) {
      auto loop = b.create<scf::ForOp>(loc, index(0), index(n), index(1));
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      body(loop.getInductionVar());
    };
    loops(w.kernel[0], [&](Value kh) {
      loops(w.kernel[1], [&](Value kw) {
        loops(w.channels, [&](Value c) {
          Value cell = b.create<arith::AddIOp>(
              loc, b.create<arith::MulIOp>(loc, kh, index(w.kernel[1])), kw);
          Value column = b.create<arith::AddIOp>(
              loc, b.create<arith::MulIOp>(loc, cell, index(w.channels)), c);
          Value at = b.create<arith::AddIOp>(
              loc,
              b.create<arith::AddIOp>(loc, b.create<arith::MulIOp>(loc, kh, index(rowStep)),
                                      b.create<arith::MulIOp>(loc, kw, index(colStep))),
              c);
          b.create<memref::StoreOp>(loc, at, offsets, column);
        });
      });
    });
  }

  /// Where window row i = (n, oh, ow) starts in P as one dimension.
  Value windowBase(Value i) {
    const Windows &w = *windows;
    Value ow = b.create<arith::RemUIOp>(loc, i, index(w.out[1]));
    Value t = b.create<arith::DivUIOp>(loc, i, index(w.out[1]));
    Value oh = b.create<arith::RemUIOp>(loc, t, index(w.out[0]));
    Value n = b.create<arith::DivUIOp>(loc, t, index(w.out[0]));
    int64_t image = w.height * w.width * w.channels;
    Value base = b.create<arith::AddIOp>(
        loc, b.create<arith::MulIOp>(loc, n, index(image)),
        b.create<arith::MulIOp>(loc, oh, index(w.stride[0] * w.width * w.channels)));
    return b.create<arith::AddIOp>(
        loc, base, b.create<arith::MulIOp>(loc, ow, index(w.stride[1] * w.channels)));
  }

  /// A vector of `memref` at (row, col), masked to the first `valid` lanes
  /// (zeros beyond) unless all are valid.
  Value load(Value memref, Value row, Value col, int64_t valid) {
    SmallVector<Value, 2> at{row, col};
    if (valid == shape.width)
      return b.create<vector::LoadOp>(loc, vecType, memref, at);
    return b.create<vector::MaskedLoadOp>(
        loc, vecType, memref, at, mask(valid),
        b.create<arith::ConstantOp>(loc, vecType, b.getZeroAttr(vecType)));
  }
  void store(Value value, Value memref, Value row, Value col, int64_t valid) {
    SmallVector<Value, 2> at{row, col};
    if (valid == shape.width)
      b.create<vector::StoreOp>(loc, value, memref, at);
    else
      b.create<vector::MaskedStoreOp>(loc, memref, at, mask(valid), value);
  }
  Value mask(int64_t valid) {
    return b.create<vector::ConstantMaskOp>(loc, VectorType::get({shape.width}, b.getI1Type()),
                                            b.getI64ArrayAttr({valid}));
  }
  /// Lanes of vector v of a `cols`-wide panel that hold columns.
  int64_t valid(int64_t v, int64_t cols) { return std::min(shape.width, cols - v * shape.width); }

  /// Columns [j, j + cols) of rows [rowBegin, rowEnd), k in [k0, k1).
  void buildPanel(Value j, int64_t cols, Value pack, Value rowBegin, Value rowEnd, Value k0,
                  Value k1) {
    int64_t vectors = (cols + shape.width - 1) / shape.width;
    // Pack B[k0:k1, j:j+cols] into pack[0:k1-k0, 0:vectors*width].
    if (transB) {
      packTransposed(j, cols, pack, k0, k1);
    } else if (pack) {
      auto packLoop = b.create<scf::ForOp>(loc, k0, k1, index(1));
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(packLoop.getBody());
      Value kk = packLoop.getInductionVar();
      Value row = b.create<arith::SubIOp>(loc, kk, k0);
      for (int64_t v = 0; v < vectors; ++v)
        b.create<vector::StoreOp>(loc, load(B, kk, add(j, v * shape.width), valid(v, cols)), pack,
                                  ValueRange{row, index(v * shape.width)});
    }
    int64_t rows = rowsFor(shape, vectors);
    // Full blocks of `rows` rows, then the rest one by one.
    Value count = b.create<arith::SubIOp>(loc, rowEnd, rowBegin);
    Value blocksEnd = b.create<arith::AddIOp>(
        loc, rowBegin,
        b.create<arith::MulIOp>(loc, b.create<arith::DivUIOp>(loc, count, index(rows)),
                                index(rows)));
    buildRowLoop(rowBegin, blocksEnd, rows, j, cols, pack, k0, k1);
    if (rows > 1)
      buildRowLoop(blocksEnd, rowEnd, 1, j, cols, pack, k0, k1);
  }

  /// pack[kk - k0, c] = B^T[j + c, kk] for kk in [k0, k1), c < cols, in
  /// tiles of w x w: w rows of B^T (masked to the k block, zeros beyond
  /// `cols`) transposed in registers, stored as w rows of the pack. Rows of
  /// the pack past k1 - k0 in the last tile get zeros (kBlock is a multiple
  /// of w, so they are inside the pack).
  void packTransposed(Value j, int64_t cols, Value pack, Value k0, Value k1) {
    int64_t w = shape.width;
    auto tiles = b.create<scf::ForOp>(loc, k0, k1, index(w));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(tiles.getBody());
    Value kk = tiles.getInductionVar();
    Value count = b.create<arith::MinSIOp>(loc, index(w), b.create<arith::SubIOp>(loc, k1, kk));
    Value inK =
        b.create<vector::CreateMaskOp>(loc, VectorType::get({w}, b.getI1Type()), ValueRange{count});
    Value zero = b.create<arith::ConstantOp>(loc, vecType, b.getZeroAttr(vecType));
    Value packRow = b.create<arith::SubIOp>(loc, kk, k0);
    for (int64_t v = 0; v * w < cols; ++v) {
      SmallVector<Value> rows;
      for (int64_t r = 0; r < w; ++r)
        rows.push_back(v * w + r < cols
                           ? b.create<vector::MaskedLoadOp>(
                                  loc, vecType, B, ValueRange{add(j, v * w + r), kk}, inK, zero)
                                 .getResult()
                           : zero);
      transposeInRegisters(rows);
      for (int64_t r = 0; r < w; ++r)
        b.create<vector::StoreOp>(loc, rows[r], pack, ValueRange{add(packRow, r), index(v * w)});
    }
  }

  /// rows[a][b] <- rows[b][a]: for s = 1, 2, .., w/2, rows i and i + s
  /// (bit s of i clear) swap their off-diagonal s-blocks.
  void transposeInRegisters(SmallVector<Value> &rows) {
    int64_t w = rows.size();
    for (int64_t s = 1; s < w; s *= 2) {
      SmallVector<int64_t> low(w), high(w);
      for (int64_t l = 0; l < w; ++l) {
        low[l] = (l & s) ? w + (l ^ s) : l;
        high[l] = (l & s) ? w + l : (l ^ s);
      }
      for (int64_t i = 0; i < w; ++i) {
        if (i & s)
          continue;
        Value x = rows[i], y = rows[i | s];
        rows[i] = b.create<vector::ShuffleOp>(loc, x, y, low);
        rows[i | s] = b.create<vector::ShuffleOp>(loc, x, y, high);
      }
    }
  }

  void buildRowLoop(Value from, Value to, int64_t rows, Value j, int64_t cols, Value pack, Value k0,
                    Value k1) {
    auto loop = b.create<scf::ForOp>(loc, from, to, index(rows));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value i = loop.getInductionVar();
    int64_t vectors = (cols + shape.width - 1) / shape.width;
    SmallVector<Value> rowIndex, column;
    for (int64_t r = 0; r < rows; ++r)
      rowIndex.push_back(add(i, r));
    for (int64_t v = 0; v < vectors; ++v)
      column.push_back(add(j, v * shape.width));
    // The accumulators start from C, or from zero in the first k block
    // when C's init is a zero fill (which is then never written).
    auto loadC = [&](OpBuilder &, Location) {
      SmallVector<Value> values;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t v = 0; v < vectors; ++v)
          values.push_back(load(C, rowIndex[r], column[v], valid(v, cols)));
      return values;
    };
    SmallVector<Value> acc;
    if (zeroInit) {
      Value first = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, k0, index(0));
      auto init = b.create<scf::IfOp>(
          loc, first,
          [&](OpBuilder &nb, Location l) {
            Value zero = nb.create<arith::ConstantOp>(l, vecType, nb.getZeroAttr(vecType));
            nb.create<scf::YieldOp>(l, SmallVector<Value>(rows * vectors, zero));
          },
          [&](OpBuilder &nb, Location l) {
            OpBuilder::InsertionGuard inner(b);
            b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
            nb.create<scf::YieldOp>(l, loadC(nb, l));
          });
      acc.assign(init.getResults().begin(), init.getResults().end());
    } else {
      acc = loadC(b, loc);
    }

    // Windows: what of each A element's position depends on the row only.
    SmallVector<Value> rowPart;
    if (windows)
      for (int64_t r = 0; r < rows; ++r)
        rowPart.push_back(transA ? b.create<memref::LoadOp>(loc, offsets, rowIndex[r]).getResult()
                                 : windowBase(rowIndex[r]));
    auto kLoop = b.create<scf::ForOp>(loc, k0, k1, index(1), acc);
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(kLoop.getBody());
      Value kk = kLoop.getInductionVar();
      Value kPart;
      if (windows)
        kPart = transA ? windowBase(kk) : b.create<memref::LoadOp>(loc, offsets, kk).getResult();
      ValueRange iter = kLoop.getRegionIterArgs();
      SmallVector<Value> bRow;
      if (pack) {
        Value packRow = b.create<arith::SubIOp>(loc, kk, k0);
        for (int64_t v = 0; v < vectors; ++v)
          bRow.push_back(b.create<vector::LoadOp>(loc, vecType, pack,
                                                  ValueRange{packRow, index(v * shape.width)}));
      } else {
        for (int64_t v = 0; v < vectors; ++v)
          bRow.push_back(load(B, kk, column[v], valid(v, cols)));
      }
      SmallVector<Value> next;
      for (int64_t r = 0; r < rows; ++r) {
        Value a =
            windows
                ? b.create<memref::LoadOp>(
                      loc, flat, b.create<arith::AddIOp>(loc, rowPart[r], kPart).getResult())
                : b.create<memref::LoadOp>(
                      loc, A, transA ? ValueRange{kk, rowIndex[r]} : ValueRange{rowIndex[r], kk});
        Value splat = b.create<vector::BroadcastOp>(loc, vecType, a);
        for (int64_t v = 0; v < vectors; ++v)
          next.push_back(b.create<vector::FMAOp>(loc, splat, bRow[v], iter[r * vectors + v]));
      }
      b.create<scf::YieldOp>(loc, next);
    }
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t v = 0; v < vectors; ++v)
        store(kLoop.getResult(r * vectors + v), C, rowIndex[r], column[v], valid(v, cols));
  }

  OpBuilder &b;
  Location loc;
  Value A, B, C;
  bool transA, transB, zeroInit;
  const KernelShape &shape;
  Type elt;
  VectorType vecType;
  const Windows *windows;
  Value flat, offsets; // P as one dimension, the window columns' offsets
};

/// Rows per task when the runtime splits a kernel over threads: at least a
/// block of rows and about 1M multiply-adds (some 10 us on one core). The
/// textbook MLP's two 2.5M products (x . W1 and x^T . dZ1) split in two:
/// their epoch went from 160-175 to 110-125 ms on the 2-core reference
/// machine once the batches were gathered by the pool itself (a thread of
/// their own competed with the split kernels for the cores); its 160K
/// products stay on one thread, where the split costs more than it saves.
constexpr int64_t kGrainMacs = 1000000;

int64_t grainFor(int64_t k, MemRefType c, int64_t blockRows) {
  int64_t perRow = std::max<int64_t>(1, k * c.getDimSize(1));
  int64_t rows = std::max<int64_t>(blockRows, (kGrainMacs + perRow - 1) / perRow);
  return (rows + blockRows - 1) / blockRows * blockRows;
}

struct MatmulToVectorPass : impl::MatmulToVectorBase<MatmulToVectorPass> {
  using MatmulToVectorBase::MatmulToVectorBase;

  /// Panels of 3 vectors (2 with 16 registers: x86 below AVX-512; AArch64's
  /// NEON has 32 of 128 bits); C up to one more vector
  /// wide is one panel, so A is read once rather than once per panel. With
  /// AVX-512, a narrow C that 256-bit vectors cover with fewer idle lanes is
  /// one panel of those (still 32 registers): the textbook MLP's 50 columns
  /// are 7 x 8 lanes (89% busy) in blocks of 3 rows rather than 4 x 16
  /// (78%) in blocks of 6; an FMA on 256 bits is half the work of one on
  /// 512 at the same throughput of lanes on the reference AMD Zen 4.
  KernelShape shapeFor(unsigned eltBits, int64_t n) const {
    KernelShape shape;
    shape.width = vectorBits / eltBits;
    shape.registers = vectorRegisters > 0 ? vectorRegisters : vectorBits >= 512 ? 32 : 16;
    shape.maxVectors = shape.registers >= 32 ? 3 : 2;
    auto lanes = [&](int64_t w) { return (n + w - 1) / w * w; };
    int64_t half = shape.width / 2;
    if (vectorBits >= 512 && lanes(half) < lanes(shape.width) && lanes(half) / half <= 8) {
      shape.width = half;
      shape.maxVectors = lanes(half) / half;
    } else if ((n + shape.width - 1) / shape.width == shape.maxVectors + 1) {
      ++shape.maxVectors;
    }
    shape.kBlock = 128;
    shape.packRowBytes = 1024;
    return shape;
  }

  /// The kernel for these operand types: a private function computing rows
  /// [begin, end) of C, which the runtime may call from several threads on
  /// disjoint row ranges (nn-cpu-parallel-calls). One per type triple (and
  /// windows).
  func::FuncOp kernelFor(ModuleOp module, Type a, Type b, Type c, bool transA, bool transB,
                         bool zeroInit, const Windows *windows = nullptr) {
    std::string key;
    {
      llvm::raw_string_ostream os(key);
      os << a << ";" << b << ";" << c << ";" << transA << transB << zeroInit;
      if (windows)
        for (int64_t v :
             {windows->stride[0], windows->stride[1], windows->dilation[0], windows->dilation[1],
              windows->kernel[0], windows->kernel[1], windows->out[0], windows->out[1]})
          os << ";" << v;
    }
    if (auto it = kernels.find(key); it != kernels.end())
      return it->second;
    auto cType = cast<MemRefType>(c);
    int64_t n = cType.getDimSize(1);
    KernelShape shape = shapeFor(cType.getElementTypeBitWidth(), n);
    int64_t widest = std::min(shape.maxVectors, (n + shape.width - 1) / shape.width);
    OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
    Location loc = module.getLoc();
    Type index = builder.getIndexType();
    auto func = builder.create<func::FuncOp>(
        loc, (kRowKernelPrefix + "matmul_" + std::to_string(kernels.size())).str(),
        builder.getFunctionType({a, b, c, index, index}, {}));
    func.setPrivate();
    auto aType = cast<MemRefType>(a);
    int64_t kDim = transA ? 0 : 1;
    int64_t k = windows ? (transA ? 64 : windows->columns())
                        : (aType.isDynamicDim(kDim) ? 64 : aType.getDimSize(kDim));
    func->setAttr(kRowGrainAttr,
                  builder.getI64IntegerAttr(grainFor(k, cType, rowsFor(shape, widest))));
    // A^T's rows are C's columns: then A is read whole; so are the images
    // of windows.
    func->setAttr(kRowArgsAttr, builder.getDenseI64ArrayAttr(
                                    {transA || windows ? kReads : kRowWise | kReads, kReads,
                                     kRowWise | kWrites | (zeroInit ? 0 : kReads)}));
    // A dynamic dimension of B (the batch, in A^T . B) counted as 256.
    auto bType = cast<MemRefType>(b);
    int64_t bBytes = bType.getElementTypeBitWidth() / 8;
    for (int64_t d : bType.getShape())
      bBytes *= ShapedType::isDynamic(d) ? 256 : d;
    // A window product's C is a view of the op's result: it stays out of
    // chains, which trace buffers by value.
    if (bBytes > kChainableBytes || windows)
      func->setAttr(kRowUnchainedAttr, builder.getUnitAttr());
    Block *body = func.addEntryBlock();
    builder.setInsertionPointToStart(body);
    // Without its fill C is written by the first k block, of which a
    // product over no terms (K = 0: a weight's gradient over an empty
    // batch, a filter's over no images) has none: the kernel writes its
    // rows' zeros itself, so that its call stays next to the kernels that
    // read C and a row chain can take them together.
    if (zeroInit && (windows ? transA && aType.isDynamicDim(0) : aType.isDynamicDim(kDim))) {
      Value zero = builder.create<arith::ConstantIndexOp>(loc, 0);
      Value terms = builder.create<memref::DimOp>(loc, body->getArgument(0), windows ? 0 : kDim);
      Value none = builder.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, terms, zero);
      builder.create<scf::IfOp>(loc, none, [&](OpBuilder &nb, Location l) {
        Value rows = nb.create<arith::SubIOp>(l, body->getArgument(4), body->getArgument(3));
        SmallVector<OpFoldResult> offsets{body->getArgument(3), nb.getIndexAttr(0)},
            sizes{rows, nb.getIndexAttr(n)}, strides{nb.getIndexAttr(1), nb.getIndexAttr(1)};
        Value own = nb.create<memref::SubViewOp>(l, body->getArgument(2), offsets, sizes, strides);
        Value z = nb.create<arith::ConstantOp>(l, nb.getZeroAttr(cType.getElementType()));
        nb.create<linalg::FillOp>(l, z, own);
        nb.create<scf::YieldOp>(l);
      });
    }
    KernelBuilder(builder, loc, body->getArgument(0), body->getArgument(1), body->getArgument(2),
                  shape, transA, transB, zeroInit, windows)
        .build(body->getArgument(3), body->getArgument(4));
    builder.create<func::ReturnOp>(loc);
    kernels[key] = func;
    return func;
  }

  /// The fill of `c` with zeros that only initializes `product`: in the
  /// same block before it, `c` fresh from memref.alloc and used by nothing
  /// else in between. Null when there is none.
  static linalg::FillOp zeroFillOf(Value c, Operation *product) {
    if (!c.getDefiningOp<memref::AllocOp>())
      return nullptr;
    linalg::FillOp fill;
    for (Operation *user : c.getUsers()) {
      if (user == product || user->getBlock() != product->getBlock() ||
          product->isBeforeInBlock(user))
        continue;
      auto f = dyn_cast<linalg::FillOp>(user);
      if (!f || fill)
        return nullptr; // another writer or reader before the product
      fill = f;
    }
    if (!fill)
      return nullptr;
    auto value = fill.getDpsInputOperand(0)->get().getDefiningOp<arith::ConstantOp>();
    auto zero = value ? dyn_cast<FloatAttr>(value.getValue()) : FloatAttr();
    if (!zero || !zero.getValue().isZero())
      return nullptr;
    return fill;
  }

  /// A window product marked by nn-to-linalg (kWindowProductAttr: form,
  /// strides, dilations) on identity-layout buffers: a call of its kernel.
  /// Form 0 (loops n, oh, ow, f | kh, kw, c): out [N, OH, OW, F] = windows
  /// . filter [KH, KW, C, F]; form 1 (loops kh, kw, c, f | n, oh, ow): out
  /// [KH, KW, C, F] = windows^T . dy [N, OH, OW, F].
  void windowProduct(linalg::GenericOp op) {
    auto attr = op->getAttrOfType<DenseI64ArrayAttr>(kWindowProductAttr);
    if (!attr || attr.size() != 5 || !op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2)
      return;
    int64_t form = attr[0];
    Value other = op.getDpsInputOperand(0)->get(), P = op.getDpsInputOperand(1)->get(),
          out = op.getDpsInitOperand(0)->get();
    for (Value v : {other, P, out}) {
      auto t = dyn_cast<MemRefType>(v.getType());
      if (!t || t.getRank() != 4 || !t.getLayout().isIdentity() ||
          t.getElementType() != cast<MemRefType>(out.getType()).getElementType())
        return;
      for (int64_t d = 1; d < 4; ++d)
        if (t.isDynamicDim(d))
          return;
    }
    auto pType = cast<MemRefType>(P.getType());
    auto outType = cast<MemRefType>(out.getType()), otherType = cast<MemRefType>(other.getType());
    unsigned eltBits = outType.getElementTypeBitWidth();
    if (!isa<FloatType>(outType.getElementType()) || (eltBits != 32 && eltBits != 64) ||
        (form != 0 && form != 1))
      return;
    // The body: acc + image * other; the maps nn-to-linalg gives the form.
    Block &body = op.getRegion().front();
    if (body.getOperations().size() != 3 || !isa<arith::MulFOp>(body.front()) ||
        !isa<arith::AddFOp>(*std::next(body.begin())))
      return;
    Windows w;
    w.stride[0] = attr[1], w.stride[1] = attr[2], w.dilation[0] = attr[3], w.dilation[1] = attr[4];
    w.height = pType.getDimSize(1), w.width = pType.getDimSize(2), w.channels = pType.getDimSize(3);
    MemRefType filterLike = form == 0 ? otherType : outType;
    MemRefType pixels = form == 0 ? outType : otherType;
    w.kernel[0] = filterLike.getDimSize(0), w.kernel[1] = filterLike.getDimSize(1);
    w.out[0] = pixels.getDimSize(1), w.out[1] = pixels.getDimSize(2);
    MLIRContext *ctx = op.getContext();
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    // (pixel loops n, oh, ow; cell loops kh, kw, c; f)
    unsigned n = form ? 4 : 0, oh = form ? 5 : 1, ow = form ? 6 : 2, kh = form ? 0 : 4,
             kw = form ? 1 : 5, c = form ? 2 : 6;
    SmallVector<AffineMap> want = {
        AffineMap::get(7, 0, {d(4), d(5), d(6), d(3)}, ctx), // the filter, or dy
        AffineMap::get(7, 0,
                       {d(n), d(oh) * w.stride[0] + d(kh) * w.dilation[0],
                        d(ow) * w.stride[1] + d(kw) * w.dilation[1], d(c)},
                       ctx),
        AffineMap::get(7, 0, {d(0), d(1), d(2), d(3)}, ctx)};
    if (op.getIndexingMapsArray() != want)
      return;
    linalg::FillOp fill = zeroFillOf(out, op); // before C's view is a user
    OpBuilder b(op);
    Location loc = op.getLoc();
    SmallVector<ReassociationIndices> matrix = {{0, 1, 2}, {3}};
    Value B = b.create<memref::CollapseShapeOp>(loc, other, matrix);
    Value Cm = b.create<memref::CollapseShapeOp>(loc, out, matrix);
    func::FuncOp kernel = kernelFor(getOperation(), P.getType(), B.getType(), Cm.getType(),
                                    /*transA=*/form == 1, false, bool(fill), &w);
    if (fill)
      fill->erase();
    Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
    Value rows = b.create<memref::DimOp>(loc, Cm, 0);
    b.create<func::CallOp>(loc, kernel, ValueRange{P, B, Cm, zero, rows});
    op->erase();
  }

  void runOnOperation() override {
    SmallVector<linalg::GenericOp> windowed;
    getOperation().walk([&](linalg::GenericOp op) {
      if (op->hasAttr(kWindowProductAttr))
        windowed.push_back(op);
    });
    for (linalg::GenericOp op : windowed)
      windowProduct(op);
    SmallVector<linalg::LinalgOp> matmuls;
    getOperation().walk([&](Operation *op) {
      if (isa<linalg::MatmulOp, linalg::MatmulTransposeAOp, linalg::MatmulTransposeBOp>(op))
        matmuls.push_back(cast<linalg::LinalgOp>(op));
    });
    for (linalg::LinalgOp op : matmuls) {
      if (!op.hasPureBufferSemantics())
        continue;
      bool transA = isa<linalg::MatmulTransposeAOp>(op);
      bool transB = isa<linalg::MatmulTransposeBOp>(op);
      Value A = op.getDpsInputOperand(0)->get(), B = op.getDpsInputOperand(1)->get(),
            C = op.getDpsInitOperand(0)->get();
      auto cType = dyn_cast<MemRefType>(C.getType());
      if (!identityLayout(A) || !identityLayout(B) || !identityLayout(C) || cType.isDynamicDim(1) ||
          !isa<FloatType>(cType.getElementType()) ||
          cType.getElementType() != cast<MemRefType>(A.getType()).getElementType() ||
          cType.getElementType() != cast<MemRefType>(B.getType()).getElementType())
        continue;
      unsigned eltBits = cType.getElementTypeBitWidth();
      if (eltBits != 32 && eltBits != 64)
        continue;
      linalg::FillOp fill = zeroFillOf(C, op);
      func::FuncOp kernel =
          kernelFor(getOperation(), A.getType(), B.getType(), cType, transA, transB, bool(fill));
      if (fill)
        fill->erase();
      OpBuilder b(op);
      Location loc = op.getLoc();
      Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
      Value rows = b.create<memref::DimOp>(loc, C, 0);
      b.create<func::CallOp>(loc, kernel, ValueRange{A, B, C, zero, rows});
      op->erase();
    }
  }

  std::map<std::string, func::FuncOp> kernels;
};

} // namespace

std::unique_ptr<Pass> createMatmulToVectorPass(int64_t vectorBits, int64_t vectorRegisters) {
  return std::make_unique<MatmulToVectorPass>(MatmulToVectorOptions{vectorBits, vectorRegisters});
}

} // namespace nncc::cpu
