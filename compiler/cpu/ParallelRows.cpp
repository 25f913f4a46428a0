// nn-cpu-parallel-rows: large linalg.generic ops on buffers whose first loop
// is parallel (elementwise maps, row reductions, the optimizer's updates)
// become row-range functions, as the matmul kernels are, so that the
// runtime's thread pool splits them by rows (nn-cpu-parallel-calls).
//
// The function takes the op's buffers and a row range [begin, end): every
// buffer indexed by the first loop (as its first dimension) is cut to those
// rows by a subview, the others (broadcast rows: a bias, a column vector)
// are passed whole, and the op is cloned on them. Each row is computed by
// one thread the same way, so the bits do not depend on the thread count.
#include "compiler/cpu/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Transforms/RegionUtils.h"

using namespace mlir;

namespace nncc::cpu {
namespace {

struct ParallelRowsPass
    : PassWrapper<ParallelRowsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ParallelRowsPass)
  ParallelRowsPass() = default;
  ParallelRowsPass(const ParallelRowsPass &other) : PassWrapper(other) {}

  StringRef getArgument() const override { return "nn-cpu-parallel-rows"; }
  StringRef getDescription() const override {
    return "Row-range functions for large linalg.generic ops whose first loop "
           "is parallel";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<func::FuncDialect, memref::MemRefDialect,
                    arith::ArithDialect>();
  }
  Option<int64_t> minElements{
      *this, "min-elements",
      llvm::cl::desc(
          "iterations per task worth a thread (ops with fewer stay inline)"),
      llvm::cl::init(kMinElementsPerTask)};

  /// Iterations of every loop but the first (static), or nullopt when `op`
  /// cannot be split by rows: every buffer must index the first loop as its
  /// first dimension or not at all, the body must not ask for the row index,
  /// and there must be at least two tasks' worth of rows when they are known.
  std::optional<int64_t> iterationsPerRow(linalg::GenericOp op) const {
    if (!op.hasPureBufferSemantics() || op.getNumLoops() == 0 ||
        op.getIteratorTypesArray()[0] != utils::IteratorType::parallel)
      return std::nullopt;
    for (Value operand : op->getOperands())
      if (!isa<MemRefType>(operand.getType()))
        return std::nullopt; // scalars would not fit the task's word slots
    AffineExpr row = getAffineDimExpr(0, op.getContext());
    for (OpOperand &operand : op->getOpOperands()) {
      AffineMap map = op.getMatchingIndexingMap(&operand);
      for (unsigned r = 0; r < map.getNumResults(); ++r)
        if (map.getResult(r).isFunctionOfDim(0) &&
            (r != 0 || map.getResult(r) != row))
          return std::nullopt;
    }
    for (OpOperand &out : op.getDpsInitsMutable())
      if (op.getMatchingIndexingMap(&out).getNumResults() == 0 ||
          op.getMatchingIndexingMap(&out).getResult(0) != row)
        return std::nullopt; // a task would write rows it does not own
    // Values the body captures are cloned into the function: constants only.
    llvm::SetVector<Value> captured;
    getUsedValuesDefinedAbove(op->getRegions(), captured);
    for (Value v : captured)
      if (!v.getDefiningOp<arith::ConstantOp>())
        return std::nullopt;
    bool usesRow = false;
    op.getBody()->walk(
        [&](linalg::IndexOp index) { usesRow |= index.getDim() == 0; });
    if (usesRow)
      return std::nullopt;
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    int64_t perRow = 1;
    for (size_t i = 1; i < ranges.size(); ++i) {
      if (ShapedType::isDynamic(ranges[i]))
        return std::nullopt;
      perRow *= ranges[i];
    }
    if (!ShapedType::isDynamic(ranges[0]) &&
        ranges[0] * perRow < 2 * minElements)
      return std::nullopt;
    return std::max<int64_t>(perRow, 1);
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<std::pair<linalg::GenericOp, int64_t>> ops;
    module.walk([&](linalg::GenericOp op) {
      if (auto perRow = iterationsPerRow(op))
        ops.push_back({op, *perRow});
    });
    for (auto [op, perRow] : ops)
      outline(module, op, (minElements + perRow - 1) / perRow);
  }

  void outline(ModuleOp module, linalg::GenericOp op, int64_t grain) {
    Location loc = op.getLoc();
    SmallVector<Value> operands(op->getOperands());
    SmallVector<Type> types;
    for (Value v : operands)
      types.push_back(v.getType());
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    Type index = b.getIndexType();
    types.append({index, index});
    auto func = b.create<func::FuncOp>(
        loc, (kRowKernelPrefix + "map_" + std::to_string(count++)).str(),
        b.getFunctionType(types, {}));
    func.setPrivate();
    func->setAttr(kRowGrainAttr, b.getI64IntegerAttr(grain));
    Block *body = func.addEntryBlock();
    b.setInsertionPointToStart(body);
    Value begin = body->getArgument(operands.size()),
          end = body->getArgument(operands.size() + 1);
    Value rows = b.create<arith::SubIOp>(loc, end, begin);
    SmallVector<Value> cut;
    Value rowSource;
    for (auto [i, operand] : llvm::enumerate(op->getOpOperands())) {
      Value arg = body->getArgument(i);
      AffineMap map = op.getMatchingIndexingMap(&operand);
      if (map.getNumResults() > 0 && map.getResult(0).isFunctionOfDim(0)) {
        rowSource = rowSource ? rowSource : operand.get();
        auto type = cast<MemRefType>(arg.getType());
        SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0)),
            sizes, strides(type.getRank(), b.getIndexAttr(1));
        offsets[0] = begin;
        sizes.push_back(rows);
        for (int64_t d = 1; d < type.getRank(); ++d)
          sizes.push_back(
              type.isDynamicDim(d)
                  ? OpFoldResult(
                        b.create<memref::DimOp>(loc, arg, d).getResult())
                  : b.getIndexAttr(type.getDimSize(d)));
        arg = b.create<memref::SubViewOp>(loc, arg, offsets, sizes, strides);
      }
      cut.push_back(arg);
    }
    IRMapping constants;
    llvm::SetVector<Value> captured;
    getUsedValuesDefinedAbove(op->getRegions(), captured);
    for (Value v : captured)
      constants.map(v, b.clone(*v.getDefiningOp())->getResult(0));
    b.clone(*op, constants)->setOperands(cut);
    b.create<func::ReturnOp>(loc);

    OpBuilder at(op);
    SmallVector<Value> args(operands);
    args.push_back(at.create<arith::ConstantIndexOp>(loc, 0));
    args.push_back(at.create<memref::DimOp>(loc, rowSource, 0));
    at.create<func::CallOp>(loc, func, args);
    op->erase();
  }

  int64_t count = 0;
};

} // namespace

std::unique_ptr<Pass> createParallelRowsPass() {
  return std::make_unique<ParallelRowsPass>();
}

} // namespace nncc::cpu
