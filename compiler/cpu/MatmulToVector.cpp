// nn-cpu-matmul-to-vector: a register-blocked, vectorized kernel for every
// 2-D linalg.matmul on buffers, specialized to its static column count.
//
// C += A . B is computed in panels of up to `maxVectors` vector registers of
// columns; within a panel, blocks of `rows` rows keep rows x vectors
// accumulators in registers across the whole k loop: per k, the panel's row
// of B is loaded once (masked for the last partial vector) and each row's
// A[i, k] is broadcast into one FMA per vector. k is blocked by `kBlock` so
// a panel of B stays in L1 while the rows stream through. Rows left over by
// the blocks run the same loop one row at a time.
#include "compiler/cpu/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;

namespace nncc::cpu {
namespace {

struct KernelShape {
  int64_t width;      // elements per vector register
  int64_t maxVectors; // vector registers of columns per panel
  int64_t registers;  // vector registers of the target
  int64_t kBlock;     // k steps per block
};

/// Rows per block: as many as the accumulators leave registers for (the
/// panel's B row and one broadcast stay live too), at most 8.
int64_t rowsFor(const KernelShape &shape, int64_t vectors) {
  return std::clamp<int64_t>((shape.registers - vectors - 1) / vectors, 1, 8);
}

bool identityLayout(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  return type && type.getRank() == 2 && type.getLayout().isIdentity();
}

class KernelBuilder {
public:
  KernelBuilder(OpBuilder &b, Location loc, Value A, Value B, Value C,
                const KernelShape &shape)
      : b(b), loc(loc), A(A), B(B), C(C), shape(shape),
        elt(cast<MemRefType>(C.getType()).getElementType()),
        vecType(VectorType::get({shape.width}, elt)) {}

  void build() {
    auto cType = cast<MemRefType>(C.getType());
    int64_t n = cType.getDimSize(1);
    Value m = dim(C, 0), k = dim(A, 1);
    Value kBlock = index(shape.kBlock);
    auto kLoop = b.create<scf::ForOp>(loc, index(0), k, kBlock);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(kLoop.getBody());
    Value k0 = kLoop.getInductionVar();
    Value k1 = b.create<arith::MinSIOp>(loc, b.create<arith::AddIOp>(loc, k0, kBlock), k);
    int64_t panelWidth = shape.width * shape.maxVectors;
    for (int64_t j = 0; j < n; j += panelWidth)
      buildPanel(j, std::min(panelWidth, n - j), m, k0, k1);
  }

private:
  Value index(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }
  Value dim(Value memref, int64_t d) {
    return b.create<memref::DimOp>(loc, memref, d);
  }

  /// Columns [j, j + cols) of every row.
  void buildPanel(int64_t j, int64_t cols, Value m, Value k0, Value k1) {
    int64_t vectors = (cols + shape.width - 1) / shape.width;
    int64_t rows = rowsFor(shape, vectors);
    // Full blocks of `rows` rows, then the rest one by one.
    Value mBlocks = b.create<arith::MulIOp>(
        loc, b.create<arith::DivUIOp>(loc, m, index(rows)), index(rows));
    buildRowLoop(index(0), mBlocks, rows, j, cols, k0, k1);
    if (rows > 1)
      buildRowLoop(mBlocks, m, 1, j, cols, k0, k1);
  }

  void buildRowLoop(Value from, Value to, int64_t rows, int64_t j, int64_t cols,
                    Value k0, Value k1) {
    auto loop = b.create<scf::ForOp>(loc, from, to, index(rows));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value i = loop.getInductionVar();
    int64_t vectors = (cols + shape.width - 1) / shape.width;
    int64_t tail = cols - (vectors - 1) * shape.width;
    Value tailMask;
    if (tail != shape.width)
      tailMask = b.create<vector::ConstantMaskOp>(
          loc, VectorType::get({shape.width}, b.getI1Type()),
          b.getI64ArrayAttr({tail}));
    auto column = [&](int64_t v) { return index(j + v * shape.width); };
    auto isTail = [&](int64_t v) { return tailMask && v == vectors - 1; };
    SmallVector<Value> rowIndex;
    for (int64_t r = 0; r < rows; ++r)
      rowIndex.push_back(r ? b.create<arith::AddIOp>(loc, i, index(r)).getResult() : i);

    auto load = [&](Value memref, Value row, int64_t v) -> Value {
      SmallVector<Value, 2> at{row, column(v)};
      if (isTail(v))
        return b.create<vector::MaskedLoadOp>(
            loc, vecType, memref, at, tailMask,
            b.create<arith::ConstantOp>(loc, vecType, b.getZeroAttr(vecType)));
      return b.create<vector::LoadOp>(loc, vecType, memref, at);
    };
    SmallVector<Value> acc;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t v = 0; v < vectors; ++v)
        acc.push_back(load(C, rowIndex[r], v));

    auto kLoop = b.create<scf::ForOp>(loc, k0, k1, index(1), acc);
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(kLoop.getBody());
      Value kk = kLoop.getInductionVar();
      ValueRange iter = kLoop.getRegionIterArgs();
      SmallVector<Value> bRow;
      for (int64_t v = 0; v < vectors; ++v)
        bRow.push_back(load(B, kk, v));
      SmallVector<Value> next;
      for (int64_t r = 0; r < rows; ++r) {
        Value a = b.create<memref::LoadOp>(loc, A, ValueRange{rowIndex[r], kk});
        Value splat = b.create<vector::BroadcastOp>(loc, vecType, a);
        for (int64_t v = 0; v < vectors; ++v)
          next.push_back(
              b.create<vector::FMAOp>(loc, splat, bRow[v], iter[r * vectors + v]));
      }
      b.create<scf::YieldOp>(loc, next);
    }
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t v = 0; v < vectors; ++v) {
        Value value = kLoop.getResult(r * vectors + v);
        SmallVector<Value, 2> at{rowIndex[r], column(v)};
        if (isTail(v))
          b.create<vector::MaskedStoreOp>(loc, C, at, tailMask, value);
        else
          b.create<vector::StoreOp>(loc, value, C, at);
      }
  }

  OpBuilder &b;
  Location loc;
  Value A, B, C;
  const KernelShape &shape;
  Type elt;
  VectorType vecType;
};

struct MatmulToVectorPass
    : PassWrapper<MatmulToVectorPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(MatmulToVectorPass)
  MatmulToVectorPass() = default;
  MatmulToVectorPass(const MatmulToVectorPass &other) : PassWrapper(other) {}
  explicit MatmulToVectorPass(int64_t bits) { vectorBits = bits; }

  StringRef getArgument() const override { return "nn-cpu-matmul-to-vector"; }
  StringRef getDescription() const override {
    return "Register-blocked vector kernels for 2-D linalg.matmul on buffers";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<vector::VectorDialect, scf::SCFDialect, memref::MemRefDialect,
                    arith::ArithDialect>();
  }
  Option<int64_t> vectorBits{*this, "vector-bits",
                             llvm::cl::desc("bits of a vector register (256 or 512)"),
                             llvm::cl::init(512)};

  void runOnOperation() override {
    SmallVector<linalg::MatmulOp> matmuls;
    getOperation().walk([&](linalg::MatmulOp op) { matmuls.push_back(op); });
    for (linalg::MatmulOp op : matmuls) {
      if (!op.hasPureBufferSemantics())
        continue;
      Value A = op.getDpsInputOperand(0)->get(), B = op.getDpsInputOperand(1)->get(),
            C = op.getDpsInitOperand(0)->get();
      auto cType = dyn_cast<MemRefType>(C.getType());
      if (!identityLayout(A) || !identityLayout(B) || !identityLayout(C) ||
          cType.isDynamicDim(1) || !cType.getElementType().isIntOrFloat() ||
          !isa<FloatType>(cType.getElementType()) ||
          cType.getElementType() != cast<MemRefType>(A.getType()).getElementType() ||
          cType.getElementType() != cast<MemRefType>(B.getType()).getElementType())
        continue;
      unsigned eltBits = cType.getElementTypeBitWidth();
      if (eltBits != 32 && eltBits != 64)
        continue;
      KernelShape shape;
      shape.width = vectorBits / eltBits;
      shape.registers = vectorBits >= 512 ? 32 : 16;
      shape.maxVectors = vectorBits >= 512 ? 3 : 2;
      shape.kBlock = 256;
      OpBuilder b(op);
      KernelBuilder(b, op.getLoc(), A, B, C, shape).build();
      op.erase();
    }
  }
};

} // namespace

std::unique_ptr<Pass> createMatmulToVectorPass(int64_t vectorBits) {
  return std::make_unique<MatmulToVectorPass>(vectorBits);
}

} // namespace nncc::cpu
