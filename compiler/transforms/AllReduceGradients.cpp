// nn-all-reduce-gradients: data parallelism inside the compiled step. Each
// rank of a data-parallel run computes the gradients of its shard of the
// global batch; their mean over the ranks is the gradient of the global
// batch's mean loss (equal shards), so the optimizer's update, the same on
// every rank, keeps the weights equal everywhere. The pass puts the mean
// between nn.gradients and the updates (nn-autodiff then expands the
// gradients in front of it), bucketed as PyTorch's DDP and Horovod do: one
// collective call per bucket rather than one per variable.
#include "compiler/transforms/Passes.h"
#include "nn/IR/NNDialect.h"

#include "mlir/IR/Builders.h"

using namespace mlir;

namespace nncc {

#define GEN_PASS_DECL_ALLREDUCEGRADIENTS
#define GEN_PASS_DEF_ALLREDUCEGRADIENTS
#include "compiler/transforms/Passes.h.inc"

namespace {

int64_t bytesOf(Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  return type.getNumElements() * type.getElementTypeBitWidth() / 8;
}

/// The gradients of `grads` reduced in buckets of one element type and at
/// most `limit` bytes, in order; uses elsewhere read the reduced values.
LogicalResult reduce(nn::GradientsOp grads, int64_t limit) {
  SmallVector<SmallVector<Value>> buckets;
  llvm::DenseMap<Type, unsigned> open; // element type -> its bucket being filled
  for (Value g : grads.getGrads()) {
    auto type = dyn_cast<RankedTensorType>(g.getType());
    if (!type || !type.hasStaticShape())
      return grads.emitOpError("has a gradient of type ")
             << g.getType() << "; data-parallel training needs every variable's shape known";
    auto it = open.find(type.getElementType());
    if (it != open.end()) {
      int64_t held = 0;
      for (Value v : buckets[it->second])
        held += bytesOf(v);
      if (held + bytesOf(g) <= limit) {
        buckets[it->second].push_back(g);
        continue;
      }
    }
    open[type.getElementType()] = buckets.size();
    buckets.push_back({g});
  }
  OpBuilder b(grads->getContext());
  b.setInsertionPointAfter(grads);
  for (ArrayRef<Value> bucket : buckets) {
    auto reduced = b.create<nn::AllReduceOp>(grads.getLoc(), ValueRange(bucket).getTypes(), bucket,
                                             b.getStringAttr("mean"));
    for (auto [g, r] : llvm::zip(bucket, reduced.getResults()))
      Value(g).replaceAllUsesExcept(r, reduced);
  }
  return success();
}

struct AllReduceGradientsPass : impl::AllReduceGradientsBase<AllReduceGradientsPass> {
  using AllReduceGradientsBase::AllReduceGradientsBase;
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (!func->hasAttr("nn.optimizer"))
      return;
    if (bucketBytes <= 0) {
      func.emitError("nn-all-reduce-gradients: bucket-bytes must be positive, got ")
          << static_cast<int64_t>(bucketBytes);
      return signalPassFailure();
    }
    SmallVector<nn::GradientsOp> all;
    func.walk([&](nn::GradientsOp op) { all.push_back(op); });
    for (nn::GradientsOp op : all)
      if (failed(reduce(op, bucketBytes)))
        return signalPassFailure();
  }
};

} // namespace

std::unique_ptr<Pass> createAllReduceGradientsPass() {
  return std::make_unique<AllReduceGradientsPass>();
}

std::unique_ptr<Pass> createAllReduceGradientsPass(int64_t bucketBytes) {
  return std::make_unique<AllReduceGradientsPass>(AllReduceGradientsOptions{bucketBytes});
}

} // namespace nncc
