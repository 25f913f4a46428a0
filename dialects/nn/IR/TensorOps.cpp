// Constants, shape manipulation, reductions, indices and casts: result types
// and folders.
#include "nn/IR/NNDialect.h"
#include "nn/IR/ShapeRules.h"

#include "llvm/ADT/SmallSet.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace nncc::nn;

static std::string shapeString(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

LogicalResult ConstantOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                           Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto type = dyn_cast<RankedTensorType>(adaptor.getValue().getType());
  if (!type)
    return shapeError(loc, getOperationName(), "value must be a tensor, got ",
                      adaptor.getValue().getType());
  types.push_back(type);
  return success();
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

//===----------------------------------------------------------------------===//
// reshape, squeeze
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  auto x = tensorOperand(loc, name, adaptor.getX().getType(), "x");
  if (failed(x))
    return failure();
  SmallVector<int64_t> shape(adaptor.getShape());
  int64_t wildcard = -1, known = 1;
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (d == -1) {
      if (wildcard >= 0)
        return shapeError(loc, name, "shape ", shapeString(shape), " has more than one -1");
      wildcard = i;
    } else if (d < 0) {
      return shapeError(loc, name, "shape ", shapeString(shape), " has invalid size ", d,
                        " at index ", i, " (sizes are >= 0, or -1 for the inferred one)");
    } else if (llvm::MulOverflow(known, d, known)) {
      return shapeError(loc, name, "shape ", shapeString(shape),
                        " has more elements than fit in 64 bits");
    }
  }
  if (x->hasStaticShape()) {
    int64_t total = x->getNumElements();
    if (wildcard >= 0) {
      if (known == 0 || total % known != 0)
        return shapeError(loc, name, "cannot reshape ", Type(*x), " (", total, " elements) into ",
                          shapeString(shape), ": no size for -1 fits");
      shape[wildcard] = total / known;
    } else if (known != total) {
      return shapeError(loc, name, "cannot reshape ", Type(*x), " (", total, " elements) into ",
                        shapeString(shape), " (", known, " elements)");
    }
  } else if (wildcard >= 0) {
    shape[wildcard] = ShapedType::kDynamic;
  }
  types.push_back(RankedTensorType::get(shape, x->getElementType()));
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  auto type = cast<TensorType>(getType());
  if (getX().getType() == type && type.hasStaticShape())
    return getX();
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(adaptor.getX()))
    if (type.hasStaticShape())
      return dense.reshape(cast<ShapedType>(type));
  return {};
}

LogicalResult SqueezeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  auto x = tensorOperand(loc, name, adaptor.getX().getType(), "x");
  if (failed(x))
    return failure();
  if (!x->hasRank()) {
    types.push_back(*x);
    return success();
  }
  ArrayRef<int64_t> in = x->getShape();
  SmallVector<bool> drop(in.size(), false);
  if (adaptor.getAxes().empty()) {
    // Only dimensions known to be 1 go; an unknown one stays.
    for (auto [i, d] : llvm::enumerate(in))
      drop[i] = d == 1;
  }
  for (int64_t axis : adaptor.getAxes()) {
    auto a = normalizeAxis(loc, name, axis, x->getRank(), "axis");
    if (failed(a))
      return failure();
    if (in[*a] != 1 && !ShapedType::isDynamic(in[*a]))
      return shapeError(loc, name, "cannot squeeze dimension ", *a, " of ", Type(*x),
                        ": its size is ", in[*a], ", not 1");
    drop[*a] = true;
  }
  SmallVector<int64_t> shape;
  for (auto [i, d] : llvm::enumerate(in))
    if (!drop[i])
      shape.push_back(d);
  types.push_back(RankedTensorType::get(shape, x->getElementType()));
  return success();
}

SmallVector<int64_t> SqueezeOp::getNormalizedAxes() {
  auto x = cast<RankedTensorType>(getX().getType());
  if (!getAxes().empty())
    return normalizedAxes(getAxes(), x.getRank(), false);
  SmallVector<int64_t> ones;
  for (auto [i, d] : llvm::enumerate(x.getShape()))
    if (d == 1)
      ones.push_back(i);
  return ones;
}

OpFoldResult SqueezeOp::fold(FoldAdaptor adaptor) {
  auto type = cast<TensorType>(getType());
  // An unranked squeeze keeps its type but may still drop dimensions.
  if (getX().getType() == type && type.hasRank())
    return getX();
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(adaptor.getX()))
    if (type.hasStaticShape())
      return dense.reshape(cast<ShapedType>(type));
  return {};
}

//===----------------------------------------------------------------------===//
// transpose, concat, slice
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  auto x = tensorOperand(loc, name, adaptor.getX().getType(), "x");
  if (failed(x))
    return failure();
  ArrayRef<int64_t> perm = adaptor.getPerm();
  if (!x->hasRank()) {
    types.push_back(RankedTensorType::get(SmallVector<int64_t>(perm.size(), ShapedType::kDynamic),
                                          x->getElementType()));
    return success();
  }
  int64_t rank = x->getRank();
  SmallVector<bool> seen(rank, false);
  bool valid = static_cast<int64_t>(perm.size()) == rank;
  for (int64_t p : perm) {
    if (!valid || p < 0 || p >= rank || seen[p]) {
      valid = false;
      break;
    }
    seen[p] = true;
  }
  if (!valid)
    return shapeError(loc, name, "perm ", shapeString(perm), " is not a permutation of [0, ", rank,
                      ") for ", Type(*x));
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(x->getDimSize(p));
  types.push_back(RankedTensorType::get(shape, x->getElementType()));
  return success();
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  ValueRange xs = adaptor.getXs();
  if (xs.empty())
    return shapeError(loc, name, "needs at least one input");
  SmallVector<TensorType> ins;
  for (auto [i, v] : llvm::enumerate(xs)) {
    auto t = tensorOperand(loc, name, v.getType(), "input " + std::to_string(i));
    if (failed(t))
      return failure();
    if (!ins.empty() && t->getElementType() != ins[0].getElementType())
      return shapeError(loc, name, "input ", i, " has element type ", t->getElementType(),
                        ", input 0 ", ins[0].getElementType());
    ins.push_back(*t);
  }
  Type elt = ins[0].getElementType();
  const TensorType *ranked = nullptr;
  for (const TensorType &t : ins)
    if (t.hasRank()) {
      ranked = &t;
      break;
    }
  if (!ranked) {
    types.push_back(UnrankedTensorType::get(elt));
    return success();
  }
  int64_t rank = ranked->getRank();
  if (rank == 0)
    return shapeError(loc, name, "cannot concatenate scalars (", Type(*ranked), ")");
  auto axis = normalizeAxis(loc, name, adaptor.getAxis(), rank, "axis");
  if (failed(axis))
    return failure();
  SmallVector<int64_t> shape(rank, ShapedType::kDynamic);
  int64_t total = 0;
  for (auto [i, t] : llvm::enumerate(ins)) {
    if (!t.hasRank()) {
      total = ShapedType::kDynamic;
      continue;
    }
    if (t.getRank() != rank)
      return shapeError(loc, name, "input ", i, " ", Type(t), " has rank ", t.getRank(),
                        ", not the ", rank, " of ", Type(*ranked));
    for (int64_t d = 0; d < rank; ++d) {
      int64_t size = t.getDimSize(d);
      if (d == *axis) {
        total = ShapedType::isDynamic(total) || ShapedType::isDynamic(size) ? ShapedType::kDynamic
                                                                            : total + size;
        continue;
      }
      if (ShapedType::isDynamic(size))
        continue;
      if (!ShapedType::isDynamic(shape[d]) && shape[d] != size)
        return shapeError(loc, name, "input ", i, " ", Type(t), " has size ", size,
                          " in dimension ", d, " where another input has ", shape[d],
                          " (only dimension ", *axis, ", the axis, may differ)");
      shape[d] = size;
    }
  }
  shape[*axis] = total;
  types.push_back(RankedTensorType::get(shape, elt));
  return success();
}

int64_t ConcatOp::getNormalizedAxis() {
  return normalizedAxis(getAxis(), cast<RankedTensorType>(getXs()[0].getType()).getRank());
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  auto x = tensorOperand(loc, name, adaptor.getX().getType(), "x");
  if (failed(x))
    return failure();
  ArrayRef<int64_t> begins = adaptor.getBegins(), sizes = adaptor.getSizes();
  if (begins.size() != sizes.size())
    return shapeError(loc, name, "has ", begins.size(), " begins ", shapeString(begins), " but ",
                      sizes.size(), " sizes ", shapeString(sizes));
  int64_t rank = begins.size();
  if (x->hasRank() && x->getRank() != rank)
    return shapeError(loc, name, "has ", rank, " begins and sizes for ", Type(*x), " of rank ",
                      x->getRank());
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t begin = begins[d], size = sizes[d];
    if (begin < 0)
      return shapeError(loc, name, "begin ", begin, " of dimension ", d, " is negative");
    if (size < -1)
      return shapeError(loc, name, "size ", size, " of dimension ", d,
                        " is invalid (sizes are >= 0, or -1 for the rest)");
    int64_t in = x->hasRank() ? x->getDimSize(d) : ShapedType::kDynamic;
    if (!ShapedType::isDynamic(in) && (begin > in || (size >= 0 && begin + size > in)))
      return shapeError(loc, name, "the slice [", begin, ", ",
                        size < 0 ? std::string("end") : std::to_string(begin + size),
                        ") of dimension ", d, " is out of bounds for ", Type(*x));
    shape.push_back(size >= 0                   ? size
                    : ShapedType::isDynamic(in) ? ShapedType::kDynamic
                                                : in - begin);
  }
  types.push_back(RankedTensorType::get(shape, x->getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions, argmax
//===----------------------------------------------------------------------===//

static LogicalResult inferReduce(std::optional<Location> loc, StringRef name, Type input,
                                 ArrayRef<int64_t> axes, bool keepDims,
                                 SmallVectorImpl<Type> &types) {
  auto x = tensorOperand(loc, name, input, "x");
  if (failed(x))
    return failure();
  Type elt = x->getElementType();
  if (!x->hasRank()) {
    types.push_back(axes.empty() && !keepDims ? Type(RankedTensorType::get({}, elt)) : Type(*x));
    return success();
  }
  int64_t rank = x->getRank();
  llvm::SmallSet<int64_t, 4> reduced;
  for (int64_t axis : axes) {
    auto a = normalizeAxis(loc, name, axis, rank, "axis");
    if (failed(a))
      return failure();
    if (!reduced.insert(*a).second)
      return shapeError(loc, name, "axis ", *a, " is listed twice in axes");
  }
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < rank; ++i) {
    bool isReduced = axes.empty() || reduced.contains(i);
    if (!isReduced)
      shape.push_back(x->getDimSize(i));
    else if (keepDims)
      shape.push_back(1);
  }
  types.push_back(RankedTensorType::get(shape, elt));
  return success();
}

#define NN_REDUCE_INFER(Op)                                                                        \
  LogicalResult Op::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,  \
                                     SmallVectorImpl<Type> &types) {                               \
    return inferReduce(loc, getOperationName(), adaptor.getX().getType(), adaptor.getAxes(),       \
                       adaptor.getKeepDims(), types);                                              \
  }
NN_REDUCE_INFER(ReduceSumOp)
NN_REDUCE_INFER(ReduceMeanOp)
NN_REDUCE_INFER(ReduceMaxOp)
NN_REDUCE_INFER(ReduceMinOp)
NN_REDUCE_INFER(ReduceProdOp)
#undef NN_REDUCE_INFER

#define NN_REDUCE_AXES(Op)                                                                         \
  SmallVector<int64_t> Op::getNormalizedAxes() {                                                   \
    return normalizedAxes(getAxes(), cast<RankedTensorType>(getX().getType()).getRank(), true);    \
  }
NN_REDUCE_AXES(ReduceSumOp)
NN_REDUCE_AXES(ReduceMeanOp)
NN_REDUCE_AXES(ReduceMaxOp)
NN_REDUCE_AXES(ReduceMinOp)
NN_REDUCE_AXES(ReduceProdOp)
#undef NN_REDUCE_AXES

LogicalResult ArgMaxOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  auto x = tensorOperand(loc, name, adaptor.getX().getType(), "x");
  if (failed(x))
    return failure();
  Type i64 = IntegerType::get(ctx, 64);
  if (!x->hasRank()) {
    types.push_back(UnrankedTensorType::get(i64));
    return success();
  }
  if (x->getRank() == 0)
    return shapeError(loc, name, "x must have rank >= 1, got ", Type(*x));
  auto axis = normalizeAxis(loc, name, adaptor.getAxis(), x->getRank(), "axis");
  if (failed(axis))
    return failure();
  SmallVector<int64_t> shape(x->getShape());
  shape.erase(shape.begin() + *axis);
  types.push_back(RankedTensorType::get(shape, i64));
  return success();
}

int64_t ArgMaxOp::getNormalizedAxis() {
  return normalizedAxis(getAxis(), cast<RankedTensorType>(getX().getType()).getRank());
}

//===----------------------------------------------------------------------===//
// one_hot, cast
//===----------------------------------------------------------------------===//

LogicalResult OneHotOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  auto indices = tensorOperand(loc, name, adaptor.getIndices().getType(), "indices");
  if (failed(indices))
    return failure();
  int64_t depth = adaptor.getDepth();
  if (depth < 1)
    return shapeError(loc, name, "depth must be >= 1, got ", depth);
  Type elt = Float32Type::get(ctx);
  if (auto dtype = adaptor.getDtype()) {
    elt = *dtype;
    if (!elt.isF32() && !elt.isF64())
      return shapeError(loc, name, "dtype must be f32 or f64, got ", elt);
  }
  if (!indices->hasRank()) {
    types.push_back(UnrankedTensorType::get(elt));
    return success();
  }
  SmallVector<int64_t> shape(indices->getShape());
  shape.push_back(depth);
  types.push_back(RankedTensorType::get(shape, elt));
  return success();
}

LogicalResult CastOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  auto x = tensorOperand(loc, name, adaptor.getX().getType(), "x");
  if (failed(x))
    return failure();
  Type elt = adaptor.getDtype();
  if (!elt.isF32() && !elt.isF64() && !elt.isSignlessInteger(32) && !elt.isSignlessInteger(64) &&
      !elt.isSignlessInteger(1))
    return shapeError(loc, name, "dtype must be one of f32, f64, i32, i64, i1; got ", elt);
  types.push_back(x->clone(elt));
  return success();
}

OpFoldResult CastOp::fold(FoldAdaptor) {
  if (getX().getType() == getType())
    return getX();
  return {};
}
