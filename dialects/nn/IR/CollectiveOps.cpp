// nn.all_reduce: result types and the bucket's checks.
#include "nn/IR/NNDialect.h"

using namespace mlir;
using namespace nncc::nn;

LogicalResult AllReduceOp::inferReturnTypes(MLIRContext *, std::optional<Location>, Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  for (Value v : adaptor.getValues())
    types.push_back(v.getType());
  return success();
}

LogicalResult AllReduceOp::verify() {
  if (getValues().empty())
    return emitOpError("needs at least one value to reduce");
  StringRef reduction = getReduction();
  if (reduction != "sum" && reduction != "mean")
    return emitOpError("unknown reduction '") << reduction << "' (expected sum or mean)";
  Type elt = cast<TensorType>(getValues().front().getType()).getElementType();
  for (auto [i, v] : llvm::enumerate(getValues())) {
    auto type = cast<TensorType>(v.getType());
    if (!type.hasStaticShape())
      return emitOpError("value ")
             << i << " has type " << type << "; a bucket holds tensors of static shape";
    if (type.getElementType() != elt)
      return emitOpError("value ") << i << " has element type " << type.getElementType()
                                   << ", value 0 " << elt << "; a bucket holds one element type";
  }
  return success();
}

int64_t AllReduceOp::getBucketBytes() {
  int64_t bytes = 0;
  for (Value v : getValues()) {
    auto type = cast<RankedTensorType>(v.getType());
    bytes += type.getNumElements() * type.getElementTypeBitWidth() / 8;
  }
  return bytes;
}
