// Convolutions: conv2d and its two gradients, each one linalg.generic over
// its output with the window's loops as reductions (for the CPU, marked as
// products of the windows: below). Where the window stays
// inside the images (no padding) the images are read through an affine
// indexing map; otherwise by tensor.extract at a clamped position, the
// padding's zeros selected where the position falls outside (so no read
// leaves the tensor, on the CPU or in a CUDA kernel rendered from this).
#include "compiler/cpu/LoweringUtils.h"
#include "compiler/cpu/Passes.h"
#include "compiler/cpu/lowering/Patterns.h"
#include "nn/IR/NNDialect.h"
#include "nn/IR/ShapeRules.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>

using namespace mlir;

namespace nncc::cpu {
namespace {

/// The window along rows and columns: strides, dilations, padding before,
/// and whether any padding (before or after) is there.
struct Window {
  int64_t stride[2], dilation[2], before[2], after[2];
  bool padded = false;
};

FailureOr<Window> windowOf(Operation *op, ArrayRef<int64_t> image, ArrayRef<int64_t> kernel,
                           ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations,
                           StringRef padding) {
  Window w;
  for (int i = 0; i < 2; ++i) {
    if (ShapedType::isDynamic(image[i]) || ShapedType::isDynamic(kernel[i]))
      return op->emitOpError("needs known image and filter sizes, got images of ")
             << nn::dimString(image[0]) << "x" << nn::dimString(image[1]) << " and a "
             << nn::dimString(kernel[0]) << "x" << nn::dimString(kernel[1]) << " filter";
    auto d = nn::windowDim(op->getLoc(), op->getName().getStringRef(), "the image", image[i],
                           kernel[i], strides[i], dilations[i], padding);
    if (failed(d))
      return failure();
    w.stride[i] = strides[i];
    w.dilation[i] = dilations[i];
    w.before[i] = d->before;
    w.after[i] = d->after;
    w.padded |= d->before > 0 || d->after > 0;
  }
  return w;
}

/// An empty tensor of `type` whose dynamic batch size is that of `like`.
Value emptyLike(OpBuilder &b, Location loc, RankedTensorType type, Value like) {
  SmallVector<Value> sizes;
  if (type.isDynamicDim(0))
    sizes.push_back(dimSize(b, loc, like, 0));
  return b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType(), sizes);
}

Value zerosLike(OpBuilder &b, Location loc, RankedTensorType type, Value like) {
  Value zero = scalarConstant(b, loc, type.getElementType(), 0.0);
  return b.create<linalg::FillOp>(loc, zero, emptyLike(b, loc, type, like)).getResult(0);
}

Value index(OpBuilder &b, Location l, int64_t v) { return b.create<arith::ConstantIndexOp>(l, v); }

/// i * stride + k * dilation - before, on index values.
Value windowPosition(OpBuilder &b, Location l, Value i, Value k, int64_t stride, int64_t dilation,
                     int64_t before) {
  Value a = b.create<arith::MulIOp>(l, i, index(b, l, stride));
  Value c = b.create<arith::MulIOp>(l, k, index(b, l, dilation));
  Value s = b.create<arith::AddIOp>(l, a, c);
  return b.create<arith::SubIOp>(l, s, index(b, l, before));
}

/// `at` in [0, size), and `at` clamped into it.
std::pair<Value, Value> inside(OpBuilder &b, Location l, Value at, int64_t size) {
  Value zero = index(b, l, 0), last = index(b, l, size - 1);
  Value low = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, at, zero);
  Value high = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sle, at, last);
  Value ok = b.create<arith::AndIOp>(l, low, high);
  Value clamped = b.create<arith::MaxSIOp>(l, b.create<arith::MinSIOp>(l, at, last), zero);
  return {ok, clamped};
}

/// images[n, row, col, c] (read at a clamped position), and whether (row,
/// col) is inside the images rather than padding.
std::pair<Value, Value> readClamped(OpBuilder &b, Location l, Value images, Value n, Value row,
                                    Value col, Value c) {
  auto type = cast<RankedTensorType>(images.getType());
  auto [rowOk, r] = inside(b, l, row, type.getDimSize(1));
  auto [colOk, k] = inside(b, l, col, type.getDimSize(2));
  Value v = b.create<tensor::ExtractOp>(l, images, ValueRange{n, r, k, c});
  return {v, b.create<arith::AndIOp>(l, rowOk, colOk)};
}

/// images[n, row, col, c], or 0 where (row, col) is padding.
Value readPadded(OpBuilder &b, Location l, Value images, Value n, Value row, Value col, Value c) {
  auto [v, ok] = readClamped(b, l, images, n, row, col, c);
  Type elt = cast<RankedTensorType>(images.getType()).getElementType();
  return b.create<arith::SelectOp>(l, ok, v, scalarConstant(b, l, elt, 0.0));
}

/// The output position whose window holds input position `pos` at window
/// offset `k` along dimension i (pos + before - k * dilation = out * stride),
/// whether there is one, and the position clamped into [0, outSize).
std::pair<Value, Value> windowSource(OpBuilder &b, Location l, const Window &win, int i, Value pos,
                                     Value k, int64_t outSize) {
  Value shifted = b.create<arith::AddIOp>(l, pos, index(b, l, win.before[i]));
  Value back = b.create<arith::SubIOp>(l, shifted,
                                       b.create<arith::MulIOp>(l, k, index(b, l, win.dilation[i])));
  Value stride = index(b, l, win.stride[i]);
  Value rem = b.create<arith::RemSIOp>(l, back, stride);
  Value exact = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, rem, index(b, l, 0));
  Value out = b.create<arith::DivSIOp>(l, back, stride);
  auto [ok, clamped] = inside(b, l, out, outSize);
  Value nonNegative = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, back, index(b, l, 0));
  Value all = b.create<arith::AndIOp>(l, b.create<arith::AndIOp>(l, exact, ok), nonNegative);
  return {all, clamped};
}

SmallVector<utils::IteratorType> iterators() {
  using utils::IteratorType;
  return {IteratorType::parallel, IteratorType::parallel,  IteratorType::parallel,
          IteratorType::parallel, IteratorType::reduction, IteratorType::reduction,
          IteratorType::reduction};
}

AffineMap map(MLIRContext *ctx, ArrayRef<AffineExpr> results) {
  return AffineMap::get(7, 0, results, ctx);
}

/// The loop positions of a window product's image index (n, oh, ow, kh, kw,
/// c) among its 7 loops (the first 4 parallel).
struct ImageLoops {
  unsigned n, oh, ow, kh, kw, c;
};

/// sum over the reduction loops of x[n, oh * sh + kh * dh - top, ow * sw +
/// kw * dw - left, c] * other, into zeros of `type`: conv2d and its filter's
/// gradient. Without padding x is read through an affine map; with it at a
/// clamped position, the padding's zero selected outside.
Value windowProduct(OpBuilder &b, Location loc, RankedTensorType type, Value x, Value other,
                    ArrayRef<unsigned> otherLoops, ArrayRef<unsigned> outLoops, ImageLoops at,
                    const Window &w, Value like) {
  MLIRContext *ctx = b.getContext();
  auto dims = [&](ArrayRef<unsigned> loops) {
    SmallVector<AffineExpr> e;
    for (unsigned l : loops)
      e.push_back(getAffineDimExpr(l, ctx));
    return map(ctx, e);
  };
  auto d = [&](unsigned l) { return getAffineDimExpr(l, ctx); };
  SmallVector<Value> inputs = {other};
  SmallVector<AffineMap> maps = {dims(otherLoops)};
  if (!w.padded) {
    inputs.push_back(x);
    maps.push_back(map(ctx, {d(at.n), d(at.oh) * w.stride[0] + d(at.kh) * w.dilation[0],
                             d(at.ow) * w.stride[1] + d(at.kw) * w.dilation[1], d(at.c)}));
  }
  maps.push_back(dims(outLoops));
  Value zero = scalarConstant(b, loc, type.getElementType(), 0.0);
  Value init = b.create<linalg::FillOp>(loc, zero, emptyLike(b, loc, type, like)).getResult(0);
  auto generic = b.create<linalg::GenericOp>(
      loc, type, inputs, init, maps, iterators(), [&](OpBuilder &b, Location l, ValueRange a) {
        Value image = w.padded ? Value() : a[1];
        if (w.padded) {
          auto index = [&](unsigned dim) { return b.create<linalg::IndexOp>(l, dim).getResult(); };
          Value row = windowPosition(b, l, index(at.oh), index(at.kh), w.stride[0], w.dilation[0],
                                     w.before[0]);
          Value col = windowPosition(b, l, index(at.ow), index(at.kw), w.stride[1], w.dilation[1],
                                     w.before[1]);
          image = readPadded(b, l, x, index(at.n), row, col, index(at.c));
        }
        Value product = b.create<arith::MulFOp>(l, image, a[0]);
        b.create<linalg::YieldOp>(l,
                                  Value(b.create<arith::AddFOp>(l, a.back(), product).getResult()));
      });
  return generic.getResult(0);
}

// Convolutions as products (the CPU's form): the padding is written out as
// zeros first, so that the window product reads the images through an
// affine map only, and the op is marked (kWindowProductAttr) for
// nn-cpu-matmul-to-vector, which runs it on the product kernels reading the
// windows in place (implicit GEMM). The images' gradient is a convolution
// of dy spread by the strides and padded, with the filter turned by 180
// degrees: a product of the same kind.

/// images [N, H, W, C] placed into zeros [N, rows, cols, C] at (top, left),
/// consecutive rows `rowStride` apart and columns `colStride` apart; the
/// images themselves where that changes nothing.
Value placeImages(OpBuilder &b, Location l, Value images, int64_t top, int64_t left,
                  int64_t rowStride, int64_t colStride, int64_t rows, int64_t cols) {
  auto t = cast<RankedTensorType>(images.getType());
  if (top == 0 && left == 0 && rowStride == 1 && colStride == 1 && rows == t.getDimSize(1) &&
      cols == t.getDimSize(2))
    return images;
  auto type =
      RankedTensorType::get({t.getDimSize(0), rows, cols, t.getDimSize(3)}, t.getElementType());
  SmallVector<OpFoldResult> offsets = {b.getIndexAttr(0), b.getIndexAttr(top), b.getIndexAttr(left),
                                       b.getIndexAttr(0)};
  SmallVector<OpFoldResult> strides = {b.getIndexAttr(1), b.getIndexAttr(rowStride),
                                       b.getIndexAttr(colStride), b.getIndexAttr(1)};
  return b.create<tensor::InsertSliceOp>(l, images, zerosLike(b, l, type, images), offsets,
                                         tensor::getMixedSizes(b, l, images), strides);
}

/// x [N, H, W, C] with the padding `w` says written out as zeros.
Value paddedImages(OpBuilder &b, Location l, Value x, const Window &w) {
  auto t = cast<RankedTensorType>(x.getType());
  return placeImages(b, l, x, w.before[0], w.before[1], 1, 1,
                     w.before[0] + t.getDimSize(1) + w.after[0],
                     w.before[1] + t.getDimSize(2) + w.after[1]);
}

/// `w` over images whose padding is written out.
Window unpadded(Window w) {
  w.padded = false;
  w.before[0] = w.before[1] = w.after[0] = w.after[1] = 0;
  return w;
}

/// Marks the window product `v` of form 0 or 1 (kWindowProductAttr).
Value marked(Value v, int64_t form, const Window &w) {
  v.getDefiningOp()->setAttr(
      kWindowProductAttr, DenseI64ArrayAttr::get(v.getContext(), {form, w.stride[0], w.stride[1],
                                                                  w.dilation[0], w.dilation[1]}));
  return v;
}

// conv2d: loops (n, oh, ow, f | kh, kw, c); y[n, oh, ow, f] += x[...] *
// filter[kh, kw, c, f]. The filter's gradient: loops (kh, kw, c, f | n, oh,
// ow); dw[kh, kw, c, f] += x[...] * dy[n, oh, ow, f]. As products (the
// form both targets' kernels take), x padded first and the op marked (form
// 0 and 1).
template <typename Op> struct WindowProductLowering : Lowering<Op> {
  using Lowering<Op>::Lowering;
  LogicalResult lower(Op op, PatternRewriter &rw) const override {
    constexpr bool forward = std::is_same_v<Op, nn::Conv2DOp>;
    Value x = op.getX(), other;
    ArrayRef<int64_t> kernel;
    if constexpr (forward) {
      other = op.getFilter();
      kernel = cast<RankedTensorType>(other.getType()).getShape().take_front(2);
    } else {
      other = op.getDy();
      kernel = op.getFilterSize();
    }
    auto xt = cast<RankedTensorType>(x.getType());
    auto w = windowOf(op, xt.getShape().slice(1, 2), kernel, op.getStrides(), op.getDilations(),
                      op.getPadding());
    if (failed(w))
      return failure();
    auto type = cast<RankedTensorType>(op.getType());
    ImageLoops at = forward ? ImageLoops{0, 1, 2, 4, 5, 6} : ImageLoops{4, 5, 6, 0, 1, 2};
    Window inside = unpadded(*w);
    Value y = windowProduct(rw, op.getLoc(), type, paddedImages(rw, op.getLoc(), x, *w), other,
                            {4, 5, 6, 3}, {0, 1, 2, 3}, at, inside, x);
    rw.replaceOp(op, marked(y, forward ? 0 : 1, inside));
    return success();
  }
};

// dx[n, h, w, c] = sum over (kh, kw, f) of dy[n, oh, ow, f] * filter[kh, kw,
// c, f] where h + top - kh * dh = oh * sh: with dy's rows spread `sh` apart
// and placed at (KH - 1) * dh - top, that is a VALID convolution of stride
// 1 (dilation d) with filter[KH - 1 - kh, KW - 1 - kw, f, c].
struct Conv2DBackpropInputProductLowering : Lowering<nn::Conv2DBackpropInputOp> {
  using Lowering::Lowering;
  LogicalResult lower(nn::Conv2DBackpropInputOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Value dy = op.getDy(), filter = op.getFilter();
    auto ft = cast<RankedTensorType>(filter.getType());
    auto type = cast<RankedTensorType>(op.getType());
    ArrayRef<int64_t> image = op.getInputSize(), kernel = ft.getShape().take_front(2);
    auto w = windowOf(op, image, kernel, op.getStrides(), op.getDilations(), op.getPadding());
    if (failed(w))
      return failure();
    int64_t reach[2], place[2];
    for (int i = 0; i < 2; ++i) {
      reach[i] = (kernel[i] - 1) * w->dilation[i];
      place[i] = reach[i] - w->before[i];
    }
    Value spread = placeImages(rw, loc, dy, place[0], place[1], w->stride[0], w->stride[1],
                               image[0] + reach[0], image[1] + reach[1]);
    MLIRContext *ctx = rw.getContext();
    AffineExpr kh, kw, f, c;
    bindDims(ctx, kh, kw, f, c);
    int64_t C = ft.getDimSize(2), F = ft.getDimSize(3);
    auto turnedType = RankedTensorType::get({kernel[0], kernel[1], F, C}, ft.getElementType());
    auto turned = rw.create<linalg::GenericOp>(
        loc, turnedType, filter,
        rw.create<tensor::EmptyOp>(loc, turnedType, ValueRange{}).getResult(),
        SmallVector<AffineMap>{
            AffineMap::get(4, 0, {kernel[0] - 1 - kh, kernel[1] - 1 - kw, c, f}, ctx),
            AffineMap::getMultiDimIdentityMap(4, ctx)},
        SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
        [](OpBuilder &b, Location l, ValueRange a) { b.create<linalg::YieldOp>(l, a[0]); });
    Window step = unpadded(*w);
    step.stride[0] = step.stride[1] = 1;
    Value dx = windowProduct(rw, loc, type, spread, turned.getResult(0), {4, 5, 6, 3}, {0, 1, 2, 3},
                             {0, 1, 2, 4, 5, 6}, step, dy);
    rw.replaceOp(op, marked(dx, 0, step));
    return success();
  }
};

// Pooling: loops (n, oh, ow, c | kh, kw); a [KH, KW] tensor nobody reads
// gives linalg the window's extents.

SmallVector<utils::IteratorType> poolIterators() {
  using utils::IteratorType;
  return {IteratorType::parallel, IteratorType::parallel,  IteratorType::parallel,
          IteratorType::parallel, IteratorType::reduction, IteratorType::reduction};
}

AffineMap map6(MLIRContext *ctx, ArrayRef<AffineExpr> results) {
  return AffineMap::get(6, 0, results, ctx);
}

Value windowShape(OpBuilder &b, Location l, ArrayRef<int64_t> ksize) {
  return b.create<tensor::EmptyOp>(l, ksize, b.getI8Type());
}

Value filled(OpBuilder &b, Location l, RankedTensorType type, Value like, double value) {
  Value v = scalarConstant(b, l, type.getElementType(), value);
  return b.create<linalg::FillOp>(l, v, emptyLike(b, l, type, like)).getResult(0);
}

/// The row and column of window offset (kh, kw) of output (oh, ow).
std::pair<Value, Value> windowAt(OpBuilder &b, Location l, const Window &w, Value oh, Value ow,
                                 Value kh, Value kw) {
  return {windowPosition(b, l, oh, kh, w.stride[0], w.dilation[0], w.before[0]),
          windowPosition(b, l, ow, kw, w.stride[1], w.dilation[1], w.before[1])};
}

/// How many elements of each window [OH, OW] lie inside the images.
Value windowCounts(OpBuilder &b, Location l, const Window &w, ArrayRef<int64_t> image,
                   ArrayRef<int64_t> ksize, ArrayRef<int64_t> out, Type elt) {
  MLIRContext *ctx = b.getContext();
  AffineExpr oh, ow, kh, kw;
  bindDims(ctx, oh, ow, kh, kw);
  auto type = RankedTensorType::get(out, elt);
  Value zero = scalarConstant(b, l, elt, 0.0);
  Value init = b.create<linalg::FillOp>(l, zero, b.create<tensor::EmptyOp>(l, out, elt).getResult())
                   .getResult(0);
  using utils::IteratorType;
  auto generic = b.create<linalg::GenericOp>(
      l, type, ValueRange{windowShape(b, l, ksize)}, init,
      SmallVector<AffineMap>{AffineMap::get(4, 0, {kh, kw}, ctx),
                             AffineMap::get(4, 0, {oh, ow}, ctx)},
      SmallVector<IteratorType>{IteratorType::parallel, IteratorType::parallel,
                                IteratorType::reduction, IteratorType::reduction},
      [&](OpBuilder &b, Location l, ValueRange a) {
        auto at = [&](int64_t d) { return b.create<linalg::IndexOp>(l, d).getResult(); };
        auto [row, col] = windowAt(b, l, w, at(0), at(1), at(2), at(3));
        Value ok = b.create<arith::AndIOp>(l, inside(b, l, row, image[0]).first,
                                           inside(b, l, col, image[1]).first);
        Value one = b.create<arith::SelectOp>(l, ok, scalarConstant(b, l, elt, 1.0),
                                              scalarConstant(b, l, elt, 0.0));
        b.create<linalg::YieldOp>(l, Value(b.create<arith::AddFOp>(l, a.back(), one)));
      });
  return generic.getResult(0);
}

/// A reduction of x's windows into `type` from `init`: combine(acc, v) with
/// v the window's element, `pad` where it is padding.
template <typename Combine>
Value poolReduce(OpBuilder &b, Location l, Value x, const Window &w, ArrayRef<int64_t> ksize,
                 RankedTensorType type, double init, double pad) {
  MLIRContext *ctx = b.getContext();
  AffineExpr n, oh, ow, c, kh, kw;
  bindDims(ctx, n, oh, ow, c, kh, kw);
  SmallVector<Value> inputs = {windowShape(b, l, ksize)};
  SmallVector<AffineMap> maps = {map6(ctx, {kh, kw})};
  if (!w.padded) {
    inputs.push_back(x);
    maps.push_back(map6(
        ctx, {n, oh * w.stride[0] + kh * w.dilation[0], ow * w.stride[1] + kw * w.dilation[1], c}));
  }
  maps.push_back(map6(ctx, {n, oh, ow, c}));
  auto generic = b.create<linalg::GenericOp>(
      l, type, inputs, filled(b, l, type, x, init), maps, poolIterators(),
      [&](OpBuilder &b, Location l, ValueRange a) {
        Value v = w.padded ? Value() : a[1];
        if (w.padded) {
          auto at = [&](int64_t d) { return b.create<linalg::IndexOp>(l, d).getResult(); };
          auto [row, col] = windowAt(b, l, w, at(1), at(2), at(4), at(5));
          auto [read, ok] = readClamped(b, l, x, at(0), row, col, at(3));
          v = b.create<arith::SelectOp>(l, ok, read,
                                        scalarConstant(b, l, type.getElementType(), pad));
        }
        b.create<linalg::YieldOp>(l, Value(b.create<Combine>(l, a.back(), v)));
      });
  return generic.getResult(0);
}

struct MaxPoolLowering : Lowering<nn::MaxPoolOp> {
  using Lowering::Lowering;
  LogicalResult lower(nn::MaxPoolOp op, PatternRewriter &rw) const override {
    auto xt = cast<RankedTensorType>(op.getX().getType());
    auto w = windowOf(op, xt.getShape().slice(1, 2), op.getKsize(), op.getStrides(),
                      op.getDilations(), op.getPadding());
    if (failed(w))
      return failure();
    auto type = cast<RankedTensorType>(op.getType());
    rw.replaceOp(op, poolReduce<arith::MaximumFOp>(rw, op.getLoc(), op.getX(), *w, op.getKsize(),
                                                   type, -INFINITY, -INFINITY));
    return success();
  }
};

struct AvgPoolLowering : Lowering<nn::AvgPoolOp> {
  using Lowering::Lowering;
  LogicalResult lower(nn::AvgPoolOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto xt = cast<RankedTensorType>(op.getX().getType());
    auto w = windowOf(op, xt.getShape().slice(1, 2), op.getKsize(), op.getStrides(),
                      op.getDilations(), op.getPadding());
    if (failed(w))
      return failure();
    auto type = cast<RankedTensorType>(op.getType());
    Value sums = poolReduce<arith::AddFOp>(rw, loc, op.getX(), *w, op.getKsize(), type, 0.0, 0.0);
    Value counts = windowCounts(rw, loc, *w, xt.getShape().slice(1, 2), op.getKsize(),
                                type.getShape().slice(1, 2), type.getElementType());
    MLIRContext *ctx = rw.getContext();
    AffineExpr n, oh, ow, c;
    bindDims(ctx, n, oh, ow, c);
    auto id = AffineMap::get(4, 0, {n, oh, ow, c}, ctx);
    auto generic = rw.create<linalg::GenericOp>(
        loc, type, ValueRange{sums, counts}, emptyLike(rw, loc, type, op.getX()),
        SmallVector<AffineMap>{id, AffineMap::get(4, 0, {oh, ow}, ctx), id},
        SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange a) {
          b.create<linalg::YieldOp>(l, Value(b.create<arith::DivFOp>(l, a[0], a[1])));
        });
    rw.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// max_pool's gradient where the windows tile the images (strides = ksize,
/// no dilation, no padding, no rows or columns left over): x seen as [N,
/// OH, KH, OW, KW, C], each window's first max found by a reduction over
/// (kh, kw), then dy written to it and zeros around it, all through affine
/// maps (no gathers: the ops split over threads and vectorize along C).
Value maxPoolGradTiled(OpBuilder &b, Location l, Value x, Value y, Value dy,
                       ArrayRef<int64_t> ksize) {
  MLIRContext *ctx = b.getContext();
  auto xt = cast<RankedTensorType>(x.getType()), yt = cast<RankedTensorType>(y.getType());
  SmallVector<ReassociationIndices> split = {{0}, {1, 2}, {3, 4}, {5}};
  SmallVector<int64_t> tiled = {xt.getDimSize(0), yt.getDimSize(1), ksize[0],
                                yt.getDimSize(2), ksize[1],         xt.getDimSize(3)};
  auto tiledType = RankedTensorType::get(tiled, xt.getElementType());
  SmallVector<OpFoldResult> tiledSizes;
  for (auto [i, d] : llvm::enumerate(tiled))
    tiledSizes.push_back(ShapedType::isDynamic(d) ? OpFoldResult(dimSize(b, l, x, 0))
                                                  : b.getIndexAttr(d));
  Value x6 = b.create<tensor::ExpandShapeOp>(l, tiledType, x, split, tiledSizes);
  int64_t cells = ksize[0] * ksize[1];
  auto firstType = RankedTensorType::get(yt.getShape(), b.getI64Type());
  // Loops (n, oh, ow | kh, kw | c): C innermost, so the min vectorizes.
  AffineExpr n, oh, ow, c, kh, kw;
  bindDims(ctx, n, oh, ow, kh, kw, c);
  using utils::IteratorType;
  auto first = b.create<linalg::GenericOp>(
      l, firstType, ValueRange{x6, y}, filled(b, l, firstType, y, static_cast<double>(cells)),
      SmallVector<AffineMap>{map6(ctx, {n, oh, kh, ow, kw, c}), map6(ctx, {n, oh, ow, c}),
                             map6(ctx, {n, oh, ow, c})},
      SmallVector<IteratorType>{IteratorType::parallel, IteratorType::parallel,
                                IteratorType::parallel, IteratorType::reduction,
                                IteratorType::reduction, IteratorType::parallel},
      [&](OpBuilder &b, Location l, ValueRange a) {
        Value isMax = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, a[0], a[1]);
        Value isNan = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::UNO, a[0], a[0]);
        Value cell = b.create<arith::AddIOp>(
            l, b.create<arith::MulIOp>(l, b.create<linalg::IndexOp>(l, 3), index(b, l, ksize[1])),
            b.create<linalg::IndexOp>(l, 4));
        Value candidate =
            b.create<arith::SelectOp>(l, b.create<arith::OrIOp>(l, isMax, isNan),
                                      b.create<arith::IndexCastOp>(l, b.getI64Type(), cell),
                                      b.create<arith::ConstantIntOp>(l, cells, 64).getResult());
        b.create<linalg::YieldOp>(l, Value(b.create<arith::MinSIOp>(l, a.back(), candidate)));
      });
  // Loops (n, oh, kh, ow, kw, c): dx6 = dy where the window chose (kh, kw).
  AffineExpr i, j;
  bindDims(ctx, n, oh, i, ow, j, c);
  auto window = map6(ctx, {n, oh, ow, c});
  auto dx = b.create<linalg::GenericOp>(
      l, tiledType, ValueRange{first.getResult(0), dy},
      b.create<tensor::EmptyOp>(l, tiledSizes, xt.getElementType()).getResult(),
      SmallVector<AffineMap>{window, window, AffineMap::getMultiDimIdentityMap(6, ctx)},
      SmallVector<utils::IteratorType>(6, utils::IteratorType::parallel),
      [&](OpBuilder &b, Location l, ValueRange a) {
        Value cell = b.create<arith::AddIOp>(
            l, b.create<arith::MulIOp>(l, b.create<linalg::IndexOp>(l, 2), index(b, l, ksize[1])),
            b.create<linalg::IndexOp>(l, 4));
        Value mine = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, a[0],
                                             b.create<arith::IndexCastOp>(l, b.getI64Type(), cell));
        b.create<linalg::YieldOp>(
            l, Value(b.create<arith::SelectOp>(l, mine, a[1],
                                               scalarConstant(b, l, xt.getElementType(), 0.0))));
      });
  return b.create<tensor::CollapseShapeOp>(l, xt, dx.getResult(0), split);
}

// max_pool's gradient: first the position in each window of its first max
// (or NaN), then each input element sums the dy of the windows that chose it.
struct MaxPoolGradLowering : Lowering<nn::MaxPoolGradOp> {
  using Lowering::Lowering;
  LogicalResult lower(nn::MaxPoolGradOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Value x = op.getX(), y = op.getY(), dy = op.getDy();
    auto xt = cast<RankedTensorType>(x.getType()), yt = cast<RankedTensorType>(y.getType());
    ArrayRef<int64_t> ksize = op.getKsize();
    auto w = windowOf(op, xt.getShape().slice(1, 2), ksize, op.getStrides(), op.getDilations(),
                      op.getPadding());
    if (failed(w))
      return failure();
    Window win = *w;
    bool tiles = !win.padded;
    for (int i = 0; i < 2; ++i)
      tiles &= win.stride[i] == ksize[i] && win.dilation[i] == 1 &&
               xt.getDimSize(1 + i) == yt.getDimSize(1 + i) * ksize[i];
    if (tiles) {
      rw.replaceOp(op, maxPoolGradTiled(rw, loc, x, y, dy, ksize));
      return success();
    }
    MLIRContext *ctx = rw.getContext();
    AffineExpr n, oh, ow, c, kh, kw;
    bindDims(ctx, n, oh, ow, c, kh, kw);
    int64_t cells = ksize[0] * ksize[1];
    auto firstType = RankedTensorType::get(yt.getShape(), rw.getI64Type());
    auto first = rw.create<linalg::GenericOp>(
        loc, firstType, ValueRange{windowShape(rw, loc, ksize), y},
        filled(rw, loc, firstType, y, static_cast<double>(cells)),
        SmallVector<AffineMap>{map6(ctx, {kh, kw}), map6(ctx, {n, oh, ow, c}),
                               map6(ctx, {n, oh, ow, c})},
        poolIterators(), [&](OpBuilder &b, Location l, ValueRange a) {
          auto at = [&](int64_t d) { return b.create<linalg::IndexOp>(l, d).getResult(); };
          auto [row, col] = windowAt(b, l, win, at(1), at(2), at(4), at(5));
          auto [v, ok] = readClamped(b, l, x, at(0), row, col, at(3));
          Value isMax = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, v, a[1]);
          Value isNan = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::UNO, v, v);
          Value hit = b.create<arith::AndIOp>(l, ok, b.create<arith::OrIOp>(l, isMax, isNan));
          Value cell = b.create<arith::AddIOp>(
              l, b.create<arith::MulIOp>(l, at(4), index(b, l, ksize[1])), at(5));
          Value pos = b.create<arith::IndexCastOp>(l, b.getI64Type(), cell);
          Value candidate = b.create<arith::SelectOp>(
              l, hit, pos, b.create<arith::ConstantIntOp>(l, cells, 64).getResult());
          b.create<linalg::YieldOp>(l, Value(b.create<arith::MinSIOp>(l, a.back(), candidate)));
        });
    Value chosen = first.getResult(0);
    int64_t outSize[2] = {yt.getDimSize(1), yt.getDimSize(2)};
    auto generic = rw.create<linalg::GenericOp>(
        loc, xt, ValueRange{windowShape(rw, loc, ksize)}, filled(rw, loc, xt, x, 0.0),
        SmallVector<AffineMap>{map6(ctx, {kh, kw}), map6(ctx, {n, oh, ow, c})}, poolIterators(),
        [&](OpBuilder &b, Location l, ValueRange a) {
          auto at = [&](int64_t d) { return b.create<linalg::IndexOp>(l, d).getResult(); };
          auto [rowOk, row] = windowSource(b, l, win, 0, at(1), at(4), outSize[0]);
          auto [colOk, col] = windowSource(b, l, win, 1, at(2), at(5), outSize[1]);
          SmallVector<Value> where = {at(0), row, col, at(3)};
          Value picked = b.create<tensor::ExtractOp>(l, chosen, where);
          Value g = b.create<tensor::ExtractOp>(l, dy, where);
          Value cell = b.create<arith::AddIOp>(
              l, b.create<arith::MulIOp>(l, at(4), index(b, l, ksize[1])), at(5));
          Value mine =
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, picked,
                                      b.create<arith::IndexCastOp>(l, b.getI64Type(), cell));
          Value ok = b.create<arith::AndIOp>(l, b.create<arith::AndIOp>(l, rowOk, colOk), mine);
          Value term =
              b.create<arith::SelectOp>(l, ok, g, scalarConstant(b, l, xt.getElementType(), 0.0));
          b.create<linalg::YieldOp>(l, Value(b.create<arith::AddFOp>(l, a.back(), term)));
        });
    rw.replaceOp(op, generic.getResult(0));
    return success();
  }
};

// avg_pool's gradient: each input element sums dy / count of the windows
// holding it.
struct AvgPoolGradLowering : Lowering<nn::AvgPoolGradOp> {
  using Lowering::Lowering;
  LogicalResult lower(nn::AvgPoolGradOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Value dy = op.getDy();
    auto dyt = cast<RankedTensorType>(dy.getType());
    auto type = cast<RankedTensorType>(op.getType());
    ArrayRef<int64_t> ksize = op.getKsize(), image = op.getInputSize();
    auto w = windowOf(op, image, ksize, op.getStrides(), op.getDilations(), op.getPadding());
    if (failed(w))
      return failure();
    Window win = *w;
    Value counts =
        windowCounts(rw, loc, win, image, ksize, dyt.getShape().slice(1, 2), type.getElementType());
    MLIRContext *ctx = rw.getContext();
    AffineExpr n, h, wd, c, kh, kw;
    bindDims(ctx, n, h, wd, c, kh, kw);
    int64_t outSize[2] = {dyt.getDimSize(1), dyt.getDimSize(2)};
    auto generic = rw.create<linalg::GenericOp>(
        loc, type, ValueRange{windowShape(rw, loc, ksize)}, filled(rw, loc, type, dy, 0.0),
        SmallVector<AffineMap>{map6(ctx, {kh, kw}), map6(ctx, {n, h, wd, c})}, poolIterators(),
        [&](OpBuilder &b, Location l, ValueRange a) {
          auto at = [&](int64_t d) { return b.create<linalg::IndexOp>(l, d).getResult(); };
          auto [rowOk, row] = windowSource(b, l, win, 0, at(1), at(4), outSize[0]);
          auto [colOk, col] = windowSource(b, l, win, 1, at(2), at(5), outSize[1]);
          Value g = b.create<tensor::ExtractOp>(l, dy, ValueRange{at(0), row, col, at(3)});
          Value count = b.create<tensor::ExtractOp>(l, counts, ValueRange{row, col});
          Value ok = b.create<arith::AndIOp>(l, rowOk, colOk);
          Value term = b.create<arith::SelectOp>(l, ok, b.create<arith::DivFOp>(l, g, count),
                                                 scalarConstant(b, l, type.getElementType(), 0.0));
          b.create<linalg::YieldOp>(l, Value(b.create<arith::AddFOp>(l, a.back(), term)));
        });
    rw.replaceOp(op, generic.getResult(0));
    return success();
  }
};

} // namespace

void populateConvLowering(RewritePatternSet &patterns) {
  patterns
      .add<WindowProductLowering<nn::Conv2DOp>, WindowProductLowering<nn::Conv2DBackpropFilterOp>,
           Conv2DBackpropInputProductLowering, MaxPoolLowering, AvgPoolLowering,
           AvgPoolGradLowering, MaxPoolGradLowering>(patterns.getContext());
}

} // namespace nncc::cpu
