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
#include "compiler/cpu/RowKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/RegionUtils.h"

using namespace mlir;

namespace nncc::cpu {

#define GEN_PASS_DECL_PARALLELROWS
#define GEN_PASS_DEF_PARALLELROWS
#include "compiler/cpu/Passes.h.inc"

std::optional<int64_t> rowIterations(linalg::GenericOp op) {
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
      if (map.getResult(r).isFunctionOfDim(0) && (r != 0 || map.getResult(r) != row))
        return std::nullopt;
  }
  for (OpOperand &out : op.getDpsInitsMutable())
    if (op.getMatchingIndexingMap(&out).getNumResults() == 0 ||
        op.getMatchingIndexingMap(&out).getResult(0) != row)
      return std::nullopt; // a task would write rows it does not own
  // Values the body captures are cloned into the function: constants; a
  // gather started ahead (nn-cpu-loops) also reads its table and its row
  // count, which become arguments of its kernel (it stays out of chains).
  llvm::SetVector<Value> captured;
  getUsedValuesDefinedAbove(op->getRegions(), captured);
  for (Value v : captured)
    if (!v.getDefiningOp<arith::ConstantOp>() &&
        !(op->hasAttr(kRowAheadAttr) && isa<MemRefType, IndexType>(v.getType())))
      return std::nullopt;
  bool usesRow = false;
  op.getBody()->walk([&](linalg::IndexOp index) { usesRow |= index.getDim() == 0; });
  if (usesRow)
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t perRow = 1;
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ShapedType::isDynamic(ranges[i]))
      return std::nullopt;
    perRow *= ranges[i];
  }
  return std::max<int64_t>(perRow, 1);
}

/// Rows of a few elements (a softmax over 10 classes) are too short for
/// LLVM's loop vectorizer, which leaves them scalar: those ops go row by
/// row, each row a vector per value of the body. (Rows of 1 to 3 are
/// left to LLVM, which vectorizes along the rows; so are ops on booleans.)
constexpr int64_t kVectorRowMin = 4, kVectorRowMax = 32;

/// In `func` (the row-range function of `op`): a loop over the rows of
/// [begin, end) whose body is `op` on one row, vectorized. False (and
/// nothing built) when linalg cannot vectorize `op`.
static bool vectorizeRows(OpBuilder &b, linalg::GenericOp op, func::FuncOp func,
                          IRMapping constants) {
  Location loc = op.getLoc();
  Block *body = &func.getBody().front();
  unsigned n = body->getNumArguments() - 2; // then begin, end
  Value one = b.create<arith::ConstantIndexOp>(loc, 1);
  auto loop = b.create<scf::ForOp>(loc, body->getArgument(n), body->getArgument(n + 1), one);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value row = loop.getInductionVar();
  SmallVector<Value> operands;
  for (auto [i, operand] : llvm::enumerate(op->getOpOperands())) {
    Value arg = body->getArgument(i);
    AffineMap map = op.getMatchingIndexingMap(&operand);
    if (map.getNumResults() > 0 && map.getResult(0).isFunctionOfDim(0)) {
      auto type = cast<MemRefType>(arg.getType());
      SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0)),
          sizes{b.getIndexAttr(1)}, strides(type.getRank(), b.getIndexAttr(1));
      offsets[0] = row;
      for (int64_t d = 1; d < type.getRank(); ++d)
        sizes.push_back(b.getIndexAttr(type.getDimSize(d)));
      arg = b.create<memref::SubViewOp>(loc, arg, offsets, sizes, strides);
    }
    operands.push_back(arg);
  }
  Operation *clone = b.clone(*op, constants);
  clone->setOperands(operands);
  IRRewriter rewriter(b.getContext());
  rewriter.setInsertionPoint(clone);
  if (failed(linalg::vectorize(rewriter, clone))) {
    rewriter.eraseOp(loop);
    return false;
  }
  // One-row vectors become 1-D ones, reductions vector.reduction, and
  // reads and writes (in bounds) plain or masked loads and stores.
  RewritePatternSet patterns(b.getContext());
  vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
  vector::populateVectorMultiReductionLoweringPatterns(
      patterns, vector::VectorMultiReductionLowering::InnerReduction);
  vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
  vector::populateScalarVectorTransferLoweringPatterns(patterns, 1, true);
  vector::populateVectorTransferLoweringPatterns(patterns, /*maxTransferRank=*/1);
  vector::TransferReadOp::getCanonicalizationPatterns(patterns, b.getContext());
  vector::TransferWriteOp::getCanonicalizationPatterns(patterns, b.getContext());
  (void)applyPatternsAndFoldGreedily(loop, std::move(patterns));
  return true;
}

SmallVector<int64_t> rowArgFlags(linalg::GenericOp op) {
  SmallVector<int64_t> flags;
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    bool init = op.isDpsInit(&operand);
    bool rowWise = map.getNumResults() > 0 && map.getResult(0).isFunctionOfDim(0);
    flags.push_back((rowWise ? kRowWise : 0) | (init ? kWrites : 0) |
                    (!init || op.payloadUsesValueFromOperand(&operand) ? kReads : 0));
  }
  return flags;
}

func::CallOp outlineRowKernel(ModuleOp module, linalg::GenericOp op, int64_t grain) {
  int64_t perRow = *rowIterations(op);
  Location loc = op.getLoc();
  SmallVector<Value> operands(op->getOperands());
  llvm::SetVector<Value> captured;
  getUsedValuesDefinedAbove(op->getRegions(), captured);
  SmallVector<Value> buffers; // captured values: arguments after the op's
  for (Value v : captured)
    if (!v.getDefiningOp<arith::ConstantOp>())
      buffers.push_back(v);
  operands.append(buffers.begin(), buffers.end());
  SmallVector<Type> types;
  for (Value v : operands)
    types.push_back(v.getType());
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  Type index = b.getIndexType();
  types.append({index, index});
  // The next free name: the module remembers how far the numbers went, so
  // that naming the k-th kernel is one lookup, not k (each a walk of the
  // module: cubic in a deep network's step).
  auto next = module->getAttrOfType<IntegerAttr>(kNextRowMapAttr);
  int64_t i = next ? next.getInt() : 0;
  std::string name;
  for (; name.empty() || SymbolTable::lookupSymbolIn(module, name); ++i)
    name = (kRowKernelPrefix + "map_" + std::to_string(i)).str();
  module->setAttr(kNextRowMapAttr, IntegerAttr::get(IntegerType::get(module.getContext(), 64), i));
  auto func = b.create<func::FuncOp>(loc, name, b.getFunctionType(types, {}));
  func.setPrivate();
  func->setAttr(kRowGrainAttr, b.getI64IntegerAttr(grain));
  if (op->hasAttr(kRowAheadAttr)) {
    func->setAttr(kRowAheadAttr, b.getUnitAttr());
    func->setAttr(kRowUnchainedAttr, b.getUnitAttr()); // started alone
  }
  Block *body = func.addEntryBlock();
  b.setInsertionPointToStart(body);
  Value begin = body->getArgument(operands.size()), end = body->getArgument(operands.size() + 1);
  Value rows = b.create<arith::SubIOp>(loc, end, begin);
  SmallVector<Value> cut;
  SmallVector<int64_t> flags = rowArgFlags(op);
  Value rowSource;
  for (auto [i, operand] : llvm::enumerate(op->getOpOperands())) {
    Value arg = body->getArgument(i);
    if (flags[i] & kRowWise) {
      rowSource = rowSource ? rowSource : operand.get();
      auto type = cast<MemRefType>(arg.getType());
      SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0)), sizes,
          strides(type.getRank(), b.getIndexAttr(1));
      offsets[0] = begin;
      sizes.push_back(rows);
      for (int64_t d = 1; d < type.getRank(); ++d)
        sizes.push_back(type.isDynamicDim(d)
                            ? OpFoldResult(b.create<memref::DimOp>(loc, arg, d).getResult())
                            : b.getIndexAttr(type.getDimSize(d)));
      arg = b.create<memref::SubViewOp>(loc, arg, offsets, sizes, strides);
    }
    cut.push_back(arg);
  }
  IRMapping constants;
  for (Value v : captured)
    if (v.getDefiningOp<arith::ConstantOp>())
      constants.map(v, b.clone(*v.getDefiningOp())->getResult(0));
  for (auto [i, v] : llvm::enumerate(buffers))
    constants.map(v, body->getArgument(op->getNumOperands() + i));
  bool vectorRows = op.getNumLoops() == 2 && perRow >= kVectorRowMin && perRow <= kVectorRowMax &&
                    llvm::all_of(op->getOperandTypes(), [](Type t) {
                      // A vector of i1 is stored as packed bits, a memref
                      // of i1 holds a byte per element.
                      auto type = cast<MemRefType>(t);
                      return type.getRank() > 0 && type.getElementTypeBitWidth() % 8 == 0;
                    });
  if (!(vectorRows && vectorizeRows(b, op, func, constants)))
    b.clone(*op, constants)->setOperands(cut);
  b.create<func::ReturnOp>(loc);
  flags.append(buffers.size(), kReads);
  func->setAttr(kRowArgsAttr, b.getDenseI64ArrayAttr(flags));

  OpBuilder at(op);
  SmallVector<Value> args(operands);
  args.push_back(at.create<arith::ConstantIndexOp>(loc, 0));
  args.push_back(at.create<memref::DimOp>(loc, rowSource, 0));
  auto call = at.create<func::CallOp>(loc, func, args);
  op->erase();
  return call;
}

namespace {

struct ParallelRowsPass : impl::ParallelRowsBase<ParallelRowsPass> {
  using ParallelRowsBase::ParallelRowsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<std::pair<linalg::GenericOp, int64_t>> ops;
    module.walk([&](linalg::GenericOp op) {
      auto perRow = rowIterations(op);
      if (!perRow)
        return;
      // At least two tasks' worth of rows when they are known.
      int64_t rows = op.getStaticLoopRanges()[0];
      if (ShapedType::isDynamic(rows) || rows * *perRow >= 2 * minElements)
        ops.push_back({op, *perRow});
    });
    for (auto [op, perRow] : ops)
      outlineRowKernel(
          module, op,
          rowGrain(perRow, op->hasAttr(kRowAheadAttr) ? kAheadElementsPerPiece : minElements));
    module->removeAttr(kNextRowMapAttr);
  }
};

} // namespace

std::unique_ptr<Pass> createParallelRowsPass() { return std::make_unique<ParallelRowsPass>(); }

} // namespace nncc::cpu
