// nn-cpu-distinct-deallocs: a bufferization.dealloc whose buffers and
// retained values are all results of memref.alloc (distinct allocations:
// two of them alias only if they are the same value) is decided without
// alias analysis.
//
// Ownership-based deallocation frees a signature's buffers in one dealloc at
// its end, retaining those it returns: a deep network's training step has
// thousands of each (400 layers: 4000 buffers, 1600 returned), and MLIR's
// buffer-deallocation-simplification asks whether each buffer may alias
// each retained value: 3.6 s of that step's compile. Here a retained value's
// updated ownership is the condition of the same buffer in the list (or of
// its copies, or'ed; false when absent), and each buffer not retained gets
// a dealloc of its own, retaining nothing (the simplification would else
// check each against the others). Other deallocs (views, function
// arguments) are left to the simplification pass.
#include "compiler/cpu/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include "llvm/ADT/MapVector.h"

using namespace mlir;

namespace nncc::cpu {

#define GEN_PASS_DEF_DISTINCTDEALLOCS
#include "compiler/cpu/Passes.h.inc"

namespace {

bool allocated(Value v) { return v.getDefiningOp<memref::AllocOp>() != nullptr; }

void decide(bufferization::DeallocOp dealloc) {
  if (dealloc.getRetained().empty() || !llvm::all_of(dealloc.getMemrefs(), allocated) ||
      !llvm::all_of(dealloc.getRetained(), allocated))
    return;
  OpBuilder b(dealloc);
  Location loc = dealloc.getLoc();
  // Each buffer's condition, copies or'ed.
  llvm::MapVector<Value, Value> condition;
  for (auto [memref, cond] : llvm::zip(dealloc.getMemrefs(), dealloc.getConditions())) {
    auto [it, inserted] = condition.try_emplace(memref, cond);
    if (!inserted)
      it->second = b.create<arith::OrIOp>(loc, it->second, cond);
  }
  llvm::DenseSet<Value> retained(dealloc.getRetained().begin(), dealloc.getRetained().end());
  SmallVector<Value> memrefs, conditions;
  for (auto &[memref, cond] : condition) {
    if (retained.contains(memref))
      continue;
    memrefs.push_back(memref);
    conditions.push_back(cond);
  }
  Value no;
  for (auto [value, updated] : llvm::zip(dealloc.getRetained(), dealloc.getUpdatedConditions())) {
    Value cond = condition.lookup(value);
    if (!cond)
      cond = no ? no : (no = b.create<arith::ConstantIntOp>(loc, 0, 1));
    updated.replaceAllUsesWith(cond);
  }
  for (auto [memref, cond] : llvm::zip(memrefs, conditions))
    b.create<bufferization::DeallocOp>(loc, memref, cond, ValueRange{});
  dealloc.erase();
}

struct DistinctDeallocsPass : impl::DistinctDeallocsBase<DistinctDeallocsPass> {
  void runOnOperation() override {
    SmallVector<bufferization::DeallocOp> deallocs;
    getOperation().walk([&](bufferization::DeallocOp op) { deallocs.push_back(op); });
    for (bufferization::DeallocOp dealloc : deallocs)
      decide(dealloc);
  }
};

} // namespace

std::unique_ptr<Pass> createDistinctDeallocsPass() {
  return std::make_unique<DistinctDeallocsPass>();
}

} // namespace nncc::cpu
