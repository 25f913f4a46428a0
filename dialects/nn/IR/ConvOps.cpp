// Convolution ops: result types by TensorFlow's window rules (ShapeRules'
// windowDim), and errors that say which operand and dimension disagree.
#include "nn/IR/NNDialect.h"
#include "nn/IR/ShapeRules.h"

using namespace mlir;
using namespace nncc::nn;

namespace {

std::string list(ArrayRef<int64_t> v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

bool sameDim(int64_t a, int64_t b) {
  return a == b || ShapedType::isDynamic(a) || ShapedType::isDynamic(b);
}

/// Two positive sizes [rows, columns], named `what`.
LogicalResult checkPair(std::optional<Location> loc, StringRef name, StringRef what,
                        ArrayRef<int64_t> v) {
  if (v.size() != 2 || v[0] <= 0 || v[1] <= 0)
    return shapeError(loc, name, what, " must be two positive sizes [rows, columns], got ",
                      list(v));
  return success();
}

LogicalResult checkWindow(std::optional<Location> loc, StringRef name, ArrayRef<int64_t> strides,
                          ArrayRef<int64_t> dilations, StringRef padding) {
  if (failed(checkPair(loc, name, "strides", strides)) ||
      failed(checkPair(loc, name, "dilations", dilations)))
    return failure();
  if (padding != "SAME" && padding != "VALID")
    return shapeError(loc, name, "padding must be SAME or VALID, got '", padding, "'");
  return success();
}

/// A rank-4 (or unranked) float operand.
FailureOr<TensorType> rank4(std::optional<Location> loc, StringRef name, Type type, StringRef what,
                            StringRef layout) {
  auto t = tensorOperand(loc, name, type, what);
  if (failed(t))
    return failure();
  if (t->hasRank() && t->getRank() != 4) {
    (void)shapeError(loc, name, what, " must be ", layout, " (rank 4), got ", type);
    return failure();
  }
  return t;
}

/// The output rows and columns of a window of `kernel` sizes over images of
/// `image` sizes ([rows, columns], ? where unknown).
FailureOr<SmallVector<int64_t>> outputSizes(std::optional<Location> loc, StringRef name,
                                            ArrayRef<int64_t> image, ArrayRef<int64_t> kernel,
                                            ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations,
                                            StringRef padding) {
  SmallVector<int64_t> out;
  for (int i = 0; i < 2; ++i) {
    if (ShapedType::isDynamic(kernel[i])) {
      out.push_back(ShapedType::kDynamic);
      continue;
    }
    auto d = windowDim(loc, name, i == 0 ? "the image's rows" : "the image's columns", image[i],
                       kernel[i], strides[i], dilations[i], padding);
    if (failed(d))
      return failure();
    out.push_back(d->out);
  }
  return out;
}

LogicalResult sameElements(std::optional<Location> loc, StringRef name, TensorType a,
                           TensorType b) {
  if (a.getElementType() != b.getElementType())
    return shapeError(loc, name, "operands have different element types: ", a.getElementType(),
                      " and ", b.getElementType());
  return success();
}

} // namespace

LogicalResult Conv2DOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  auto x = rank4(loc, name, adaptor.getX().getType(), "x", "NHWC images");
  auto filter = rank4(loc, name, adaptor.getFilter().getType(), "filter",
                      "[rows, columns, in channels, out channels]");
  if (failed(x) || failed(filter) || failed(sameElements(loc, name, *x, *filter)) ||
      failed(checkWindow(loc, name, adaptor.getStrides(), adaptor.getDilations(),
                         adaptor.getPadding())))
    return failure();
  Type elt = x->getElementType();
  if (!x->hasRank() || !filter->hasRank()) {
    types.push_back(UnrankedTensorType::get(elt));
    return success();
  }
  ArrayRef<int64_t> xs = x->getShape(), fs = filter->getShape();
  if (!sameDim(xs[3], fs[2]))
    return shapeError(loc, name, "x has ", dimString(xs[3]), " channels but the filter takes ",
                      dimString(fs[2]), " (x ", Type(*x), ", filter ", Type(*filter), ")");
  auto out = outputSizes(loc, name, xs.slice(1, 2), fs.take_front(2), adaptor.getStrides(),
                         adaptor.getDilations(), adaptor.getPadding());
  if (failed(out))
    return failure();
  types.push_back(RankedTensorType::get({xs[0], (*out)[0], (*out)[1], fs[3]}, elt));
  return success();
}

LogicalResult Conv2DBackpropInputOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                      Adaptor adaptor,
                                                      SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  auto dy = rank4(loc, name, adaptor.getDy().getType(), "dy", "NHWC gradients");
  auto filter = rank4(loc, name, adaptor.getFilter().getType(), "filter",
                      "[rows, columns, in channels, out channels]");
  if (failed(dy) || failed(filter) || failed(sameElements(loc, name, *dy, *filter)) ||
      failed(checkWindow(loc, name, adaptor.getStrides(), adaptor.getDilations(),
                         adaptor.getPadding())) ||
      failed(checkPair(loc, name, "input_size", adaptor.getInputSize())))
    return failure();
  Type elt = dy->getElementType();
  if (!dy->hasRank() || !filter->hasRank()) {
    types.push_back(UnrankedTensorType::get(elt));
    return success();
  }
  ArrayRef<int64_t> ds = dy->getShape(), fs = filter->getShape();
  ArrayRef<int64_t> image = adaptor.getInputSize();
  if (!sameDim(ds[3], fs[3]))
    return shapeError(loc, name, "dy has ", dimString(ds[3]), " channels but the filter gives ",
                      dimString(fs[3]));
  auto out = outputSizes(loc, name, image, fs.take_front(2), adaptor.getStrides(),
                         adaptor.getDilations(), adaptor.getPadding());
  if (failed(out))
    return failure();
  for (int i = 0; i < 2; ++i)
    if (!sameDim((*out)[i], ds[1 + i]))
      return shapeError(loc, name, "dy ", Type(*dy), " is not the output of a conv2d of ",
                        list(image), " images (", i == 0 ? "rows" : "columns", ": ",
                        dimString((*out)[i]), ")");
  types.push_back(RankedTensorType::get({ds[0], image[0], image[1], fs[2]}, elt));
  return success();
}

LogicalResult Conv2DBackpropFilterOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                       Adaptor adaptor,
                                                       SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  auto x = rank4(loc, name, adaptor.getX().getType(), "x", "NHWC images");
  auto dy = rank4(loc, name, adaptor.getDy().getType(), "dy", "NHWC gradients");
  if (failed(x) || failed(dy) || failed(sameElements(loc, name, *x, *dy)) ||
      failed(checkWindow(loc, name, adaptor.getStrides(), adaptor.getDilations(),
                         adaptor.getPadding())) ||
      failed(checkPair(loc, name, "filter_size", adaptor.getFilterSize())))
    return failure();
  Type elt = x->getElementType();
  if (!x->hasRank() || !dy->hasRank()) {
    types.push_back(UnrankedTensorType::get(elt));
    return success();
  }
  ArrayRef<int64_t> xs = x->getShape(), ds = dy->getShape();
  ArrayRef<int64_t> kernel = adaptor.getFilterSize();
  if (!sameDim(xs[0], ds[0]))
    return shapeError(loc, name, "x has ", dimString(xs[0]), " images but dy ", dimString(ds[0]));
  auto out = outputSizes(loc, name, xs.slice(1, 2), kernel, adaptor.getStrides(),
                         adaptor.getDilations(), adaptor.getPadding());
  if (failed(out))
    return failure();
  for (int i = 0; i < 2; ++i)
    if (!sameDim((*out)[i], ds[1 + i]))
      return shapeError(loc, name, "dy ", Type(*dy), " is not the output of a conv2d of x ",
                        Type(*x), " (", i == 0 ? "rows" : "columns", ": ", dimString((*out)[i]),
                        ")");
  types.push_back(RankedTensorType::get({kernel[0], kernel[1], xs[3], ds[3]}, elt));
  return success();
}

namespace {

/// A pool's result type: x [N, H, W, C] -> [N, OH, OW, C].
LogicalResult inferPool(std::optional<Location> loc, StringRef name, Type input,
                        ArrayRef<int64_t> ksize, ArrayRef<int64_t> strides,
                        ArrayRef<int64_t> dilations, StringRef padding,
                        SmallVectorImpl<Type> &types) {
  auto x = rank4(loc, name, input, "x", "NHWC images");
  if (failed(x) || failed(checkWindow(loc, name, strides, dilations, padding)) ||
      failed(checkPair(loc, name, "ksize", ksize)))
    return failure();
  if (!x->hasRank()) {
    types.push_back(*x);
    return success();
  }
  ArrayRef<int64_t> xs = x->getShape();
  auto out = outputSizes(loc, name, xs.slice(1, 2), ksize, strides, dilations, padding);
  if (failed(out))
    return failure();
  types.push_back(RankedTensorType::get({xs[0], (*out)[0], (*out)[1], xs[3]}, x->getElementType()));
  return success();
}

} // namespace

LogicalResult MaxPoolOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &types) {
  return inferPool(loc, getOperationName(), adaptor.getX().getType(), adaptor.getKsize(),
                   adaptor.getStrides(), adaptor.getDilations(), adaptor.getPadding(), types);
}

LogicalResult AvgPoolOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &types) {
  return inferPool(loc, getOperationName(), adaptor.getX().getType(), adaptor.getKsize(),
                   adaptor.getStrides(), adaptor.getDilations(), adaptor.getPadding(), types);
}

LogicalResult MaxPoolGradOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                              Adaptor adaptor, SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  SmallVector<Type> pooled;
  if (failed(inferPool(loc, name, adaptor.getX().getType(), adaptor.getKsize(),
                       adaptor.getStrides(), adaptor.getDilations(), adaptor.getPadding(), pooled)))
    return failure();
  for (auto [what, v] : {std::pair<StringRef, Value>{"y", adaptor.getY()}, {"dy", adaptor.getDy()}})
    if (!compatibleTypes(TypeRange{v.getType()}, TypeRange{pooled[0]}))
      return shapeError(loc, name, what, " ", v.getType(), " is not the max_pool of x ",
                        adaptor.getX().getType(), " (", pooled[0], ")");
  types.push_back(adaptor.getX().getType());
  return success();
}

LogicalResult AvgPoolGradOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                              Adaptor adaptor, SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  auto dy = rank4(loc, name, adaptor.getDy().getType(), "dy", "NHWC gradients");
  if (failed(dy) || failed(checkPair(loc, name, "input_size", adaptor.getInputSize())))
    return failure();
  ArrayRef<int64_t> image = adaptor.getInputSize();
  if (!dy->hasRank()) {
    types.push_back(*dy);
    return success();
  }
  ArrayRef<int64_t> ds = dy->getShape();
  auto input = RankedTensorType::get({ds[0], image[0], image[1], ds[3]}, dy->getElementType());
  SmallVector<Type> pooled;
  if (failed(inferPool(loc, name, input, adaptor.getKsize(), adaptor.getStrides(),
                       adaptor.getDilations(), adaptor.getPadding(), pooled)))
    return failure();
  if (!compatibleTypes(TypeRange{Type(*dy)}, TypeRange{pooled[0]}))
    return shapeError(loc, name, "dy ", Type(*dy), " is not the avg_pool of ", list(image),
                      " images (", pooled[0], ")");
  types.push_back(input);
  return success();
}
