// ONNX network ops (products, softmax, normalization, convolution, pooling)
// -> nn ops. ONNX images are NCHW with OIHW filters; nn's are NHWC and HWIO
// (TensorFlow's), so convolutions and pools transpose in and out.
#include "compiler/import/onnx/Translator.h"

#include <limits>

namespace nncc::onnximport {
namespace {

void matmul(Translator &t) {
  Val a = t.in(0), b = t.in(1);
  bool vectorA = t.rank(a) == 1, vectorB = t.rank(b) == 1;
  if (vectorA)
    a = t.emit("expand_dims", {a}, {{"axes", fe::attrInts({0})}});
  if (vectorB)
    b = t.emit("expand_dims", {b}, {{"axes", fe::attrInts({1})}});
  Val y = t.emit("matmul", {a, b});
  int64_t rank = t.rank(y);
  std::vector<int64_t> drop;
  if (vectorA)
    drop.push_back(rank - 2);
  if (vectorB)
    drop.push_back(rank - 1);
  if (!drop.empty())
    y = t.emit("squeeze", {y}, {{"axes", fe::attrInts(drop)}});
  t.out(0, y);
}

/// alpha * A' B' + beta * C.
void gemm(Translator &t) {
  Val y = t.emit("matmul", {t.in(0), t.in(1)},
                 {{"transpose_a", fe::attrBool(t.intAttrOr("transA", 0) != 0)},
                  {"transpose_b", fe::attrBool(t.intAttrOr("transB", 0) != 0)}});
  double alpha = t.floatAttrOr("alpha", 1), beta = t.floatAttrOr("beta", 1);
  if (alpha != 1)
    y = t.emit("mul", {t.scalar(alpha, y), y});
  if (t.has(2)) {
    Val c = t.in(2);
    if (beta != 1)
      c = t.emit("mul", {t.scalar(beta, c), c});
    y = t.emit("add", {y, c});
  }
  t.out(0, y);
}

/// Softmax and LogSoftmax: along `axis` from opset 13 (default -1); before,
/// over the input flattened to 2-D at `axis` (default 1).
void softmaxLike(Translator &t, const char *op) {
  Val x = t.in(0);
  int64_t rank = t.rank(x);
  if (t.opset() >= 13) {
    int64_t axis = t.normalizeAxis(t.intAttrOr("axis", -1), rank);
    t.out(0, t.emit(op, {x}, {{"axis", fe::attrInt(axis)}}));
    return;
  }
  int64_t axis = t.normalizeAxis(t.intAttrOr("axis", 1), rank);
  if (axis == rank - 1) {
    t.out(0, t.emit(op, {x}));
    return;
  }
  std::vector<int64_t> d = t.dims(x);
  int64_t inner = 1;
  for (int64_t i = axis; i < rank; ++i) {
    if (d[i] < 0)
      t.fail("the dimensions from axis " + std::to_string(axis) + " on must be known");
    inner *= d[i];
  }
  for (int64_t i = 0; i < axis; ++i)
    if (d[i] < 0 && std::count(d.begin(), d.end(), -1) > 1)
      t.fail("more than one unknown dimension");
  Val flat = t.emit("reshape", {x}, {{"shape", fe::attrInts({-1, inner})}});
  Val y = t.emit(op, {flat});
  t.out(0, t.emit("reshape", {y}, {{"shape", fe::attrInts(d)}}));
}
void softmax(Translator &t) { softmaxLike(t, "softmax"); }
void logSoftmax(Translator &t) { softmaxLike(t, "log_softmax"); }

/// A per-channel vector [C] shaped to broadcast against NC... images.
Val perChannel(Translator &t, const Val &v, int64_t rank) {
  std::vector<int64_t> axes;
  for (int64_t i = 1; i < rank - 1; ++i)
    axes.push_back(i);
  if (axes.empty())
    return v;
  return t.emit("expand_dims", {v}, {{"axes", fe::attrInts(axes)}});
}

/// Inference: scale * (x - mean) / sqrt(var + epsilon) + B.
void batchNormalization(Translator &t) {
  if (t.wants(1) || t.wants(2) || t.intAttrOr("training_mode", 0) ||
      (t.opset() < 7 && !t.intAttrOr("is_test", 0)))
    t.fail("training mode (the running statistics as outputs) is not supported");
  if (!t.intAttrOr("spatial", 1))
    t.fail("spatial = 0 (statistics per element, opset < 9) is not supported");
  Val x = t.in(0);
  int64_t rank = t.rank(x);
  if (rank < 2)
    t.fail("needs an input of rank 2 or more (N, C, ...)");
  Val scale = perChannel(t, t.in(1), rank), bias = perChannel(t, t.in(2), rank);
  Val mean = perChannel(t, t.in(3), rank), var = perChannel(t, t.in(4), rank);
  Val eps = t.scalar(t.floatAttrOr("epsilon", 1e-5f), x);
  Val normalized =
      t.emit("div", {t.emit("sub", {x, mean}), t.emit("sqrt", {t.emit("add", {var, eps})})});
  t.out(0, t.emit("add", {t.emit("mul", {scale, normalized}), bias}));
}

/// Normalizes over the axes from `axis` on: (x - mean) / sqrt(var + eps) *
/// scale + B; outputs 1 and 2 are the mean and the inverse standard
/// deviation.
void layerNormalization(Translator &t) {
  Val x = t.in(0);
  int64_t rank = t.rank(x);
  int64_t axis = t.normalizeAxis(t.intAttrOr("axis", -1), rank);
  std::vector<int64_t> axes;
  for (int64_t i = axis; i < rank; ++i)
    axes.push_back(i);
  Attrs keep = {{"axes", fe::attrInts(axes)}, {"keep_dims", fe::attrBool(true)}};
  Val mean = t.emit("reduce_mean", {x}, keep);
  Val d = t.emit("sub", {x, mean});
  Val var = t.emit("reduce_mean", {t.emit("square", {d})}, keep);
  Val invStd = t.emit(
      "div",
      {t.scalar(1, x),
       t.emit("sqrt", {t.emit("add", {var, t.scalar(t.floatAttrOr("epsilon", 1e-5f), x)})})});
  Val y = t.emit("mul", {t.emit("mul", {d, invStd}), t.in(1)});
  if (t.has(2))
    y = t.emit("add", {y, t.in(2)});
  t.out(0, y);
  t.out(1, mean);
  t.out(2, invStd);
}

/// Inference: the input itself; the mask all true.
void dropout(Translator &t) {
  Val x = t.in(0);
  if (t.opset() < 7 && !t.intAttrOr("is_test", 0))
    t.fail("training mode (is_test = 0) is not supported");
  if (t.opset() >= 12 && t.has(2)) {
    const graph::Tensor *training = t.known(2);
    if (!training || training->bool_val_size() != 1 || training->bool_val(0))
      t.fail("training mode is not supported (nncc's nn.dropout trains inside training "
             "signatures)");
  }
  t.out(0, x);
  if (t.wants(1))
    t.out(1, t.emit("logical_not", {t.emit("greater", {x, x})}));
}

void globalPool(Translator &t, const char *op) {
  Val x = t.in(0);
  std::vector<int64_t> axes;
  for (int64_t i = 2; i < t.rank(x); ++i)
    axes.push_back(i);
  t.out(0, t.emit(op, {x}, {{"axes", fe::attrInts(axes)}, {"keep_dims", fe::attrBool(true)}}));
}
void globalAveragePool(Translator &t) { globalPool(t, "reduce_mean"); }
void globalMaxPool(Translator &t) { globalPool(t, "reduce_max"); }

/// The window attributes of Conv and the pools, as nn's: padding "SAME" or
/// "VALID", or explicit pads written into the images (`padded`).
struct Window {
  std::vector<int64_t> kernel, strides, dilations;
  std::string padding = "VALID";
  std::vector<int64_t> pads; ///< top, left, bottom, right when explicit
};

Window windowOf(Translator &t, const std::vector<int64_t> &imageDims,
                const std::vector<int64_t> &kernel) {
  Window w;
  w.kernel = kernel;
  w.strides = t.intsAttr("strides").value_or(std::vector<int64_t>{1, 1});
  w.dilations = t.intsAttr("dilations").value_or(std::vector<int64_t>{1, 1});
  if (w.kernel.size() != 2 || w.strides.size() != 2 || w.dilations.size() != 2)
    t.fail("only 2-D windows are supported (images N, C, H, W)");
  std::string autoPad = t.stringAttrOr("auto_pad", "NOTSET");
  if (autoPad == "SAME_UPPER") {
    w.padding = "SAME";
    return w;
  }
  if (autoPad == "VALID")
    return w;
  std::vector<int64_t> pads = t.intsAttr("pads").value_or(std::vector<int64_t>{0, 0, 0, 0});
  if (autoPad == "SAME_LOWER") {
    // The odd row or column before: explicit pads.
    pads.assign(4, 0);
    for (int i = 0; i < 2; ++i) {
      int64_t in = imageDims[i];
      if (in < 0)
        t.fail("SAME_LOWER padding needs the image size");
      int64_t out = (in + w.strides[i] - 1) / w.strides[i];
      int64_t total = std::max<int64_t>(
          (out - 1) * w.strides[i] + (kernel[i] - 1) * w.dilations[i] + 1 - in, 0);
      pads[i] = total - total / 2;
      pads[i + 2] = total / 2;
    }
  } else if (autoPad != "NOTSET") {
    t.fail("auto_pad '" + autoPad + "' is not supported");
  }
  if (pads.size() != 4)
    t.fail("pads must have 4 values");
  if (std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; }))
    return w;
  // Pads equal to TensorFlow's SAME (the odd one after) are SAME.
  bool same = true;
  for (int i = 0; i < 2; ++i) {
    int64_t in = imageDims[i];
    if (in < 0) {
      same = false;
      break;
    }
    int64_t out = (in + w.strides[i] - 1) / w.strides[i];
    int64_t total =
        std::max<int64_t>((out - 1) * w.strides[i] + (kernel[i] - 1) * w.dilations[i] + 1 - in, 0);
    same &= pads[i] == total / 2 && pads[i + 2] == total - total / 2;
  }
  if (same)
    w.padding = "SAME";
  else
    w.pads = pads;
  return w;
}

/// NHWC images with explicit pads (top, left, bottom, right) written in.
Val padImages(Translator &t, Val x, const std::vector<int64_t> &pads, double fill) {
  for (int axis = 1; axis <= 2; ++axis)
    x = padAxis(t, x, axis, pads[axis - 1], pads[axis + 1], fill);
  return x;
}

Val toNHWC(Translator &t, const Val &x) {
  if (t.rank(x) != 4)
    t.fail("only 2-D images (rank 4: N, C, H, W) are supported");
  return t.emit("transpose", {x}, {{"perm", fe::attrInts({0, 2, 3, 1})}});
}
Val toNCHW(Translator &t, const Val &x) {
  return t.emit("transpose", {x}, {{"perm", fe::attrInts({0, 3, 1, 2})}});
}

Attrs windowAttrs(const Window &w) {
  return {{"strides", fe::attrInts(w.strides)},
          {"dilations", fe::attrInts(w.dilations)},
          {"padding", fe::attrString(w.padding)}};
}

void conv(Translator &t) {
  if (t.intAttrOr("group", 1) != 1)
    t.fail("grouped convolutions (group != 1) are not supported");
  Val x = t.in(0), w = t.in(1);
  std::vector<int64_t> wd = t.dims(w);
  if (wd.size() != 4)
    t.fail("only 2-D convolutions (filters of rank 4) are supported");
  std::vector<int64_t> kernel =
      t.intsAttr("kernel_shape").value_or(std::vector<int64_t>{wd[2], wd[3]});
  std::vector<int64_t> xd = t.dims(x);
  if (xd.size() != 4)
    t.fail("only 2-D images (rank 4: N, C, H, W) are supported");
  Window win = windowOf(t, {xd[2], xd[3]}, kernel);
  Val images = toNHWC(t, x);
  if (!win.pads.empty())
    images = padImages(t, images, win.pads, 0);
  Val filter = t.emit("transpose", {w}, {{"perm", fe::attrInts({2, 3, 1, 0})}});
  Val y = t.emit("conv2d", {images, filter}, windowAttrs(win));
  if (t.has(2))
    y = t.emit("bias_add", {y, t.in(2)});
  t.out(0, toNCHW(t, y));
}

void pool(Translator &t, bool max) {
  if (t.intAttrOr("ceil_mode", 0))
    t.fail("ceil_mode = 1 is not supported");
  if (t.wants(1))
    t.fail("the indices output is not supported");
  Val x = t.in(0);
  std::vector<int64_t> xd = t.dims(x);
  if (xd.size() != 4)
    t.fail("only 2-D pools (images of rank 4: N, C, H, W) are supported");
  auto kernel = t.intsAttr("kernel_shape");
  if (!kernel)
    t.fail("needs kernel_shape");
  Window win = windowOf(t, {xd[2], xd[3]}, *kernel);
  if (std::any_of(win.dilations.begin(), win.dilations.end(), [](int64_t d) { return d != 1; }))
    t.fail("dilated pools are not supported");
  bool includePad = !max && t.intAttrOr("count_include_pad", 0);
  Val images = toNHWC(t, x);
  if (includePad && win.padding == "SAME") {
    // The padding counts: write it in and pool without.
    win.pads.assign(4, 0);
    for (int i = 0; i < 2; ++i) {
      int64_t in = xd[2 + i];
      if (in < 0)
        t.fail("count_include_pad needs the image size");
      int64_t out = (in + win.strides[i] - 1) / win.strides[i];
      int64_t total = std::max<int64_t>((out - 1) * win.strides[i] + win.kernel[i] - in, 0);
      win.pads[i] = total / 2;
      win.pads[i + 2] = total - total / 2;
    }
    win.padding = "VALID";
  }
  if (!win.pads.empty()) {
    if (!max && !includePad)
      t.fail("explicit pads other than SAME's with count_include_pad = 0 are not supported");
    images = padImages(t, images, win.pads, max ? -std::numeric_limits<double>::infinity() : 0);
  }
  Attrs attrs = windowAttrs(win);
  attrs.push_back({"ksize", fe::attrInts(win.kernel)});
  Val y = t.emit(max ? "max_pool" : "avg_pool", {images}, attrs);
  t.out(0, toNCHW(t, y));
}
void maxPool(Translator &t) { pool(t, true); }
void averagePool(Translator &t) { pool(t, false); }

/// 1 at the first largest element along `axis`, 0 elsewhere (opset 13; the
/// flattened 2-D form before).
void hardmax(Translator &t) {
  Val x = t.in(0);
  int64_t rank = t.rank(x);
  std::vector<int64_t> d = t.dims(x);
  int64_t axis = t.normalizeAxis(t.intAttrOr("axis", t.opset() >= 13 ? -1 : 1), rank);
  Val y = x;
  std::vector<int64_t> perm;
  if (t.opset() < 13) {
    int64_t inner = 1;
    for (int64_t i = axis; i < rank; ++i)
      inner = d[i] < 0 || inner < 0 ? -1 : inner * d[i];
    if (inner < 0)
      t.fail("the dimensions from axis on must be known");
    y = t.emit("reshape", {x}, {{"shape", fe::attrInts({-1, inner})}});
  } else if (axis != rank - 1) {
    for (int64_t i = 0; i < rank; ++i)
      if (i != axis)
        perm.push_back(i);
    perm.push_back(axis);
    y = t.emit("transpose", {x}, {{"perm", fe::attrInts(perm)}});
  }
  int64_t depth = t.dims(y).back();
  if (depth < 0)
    t.fail("the size of the axis must be known");
  Val index = t.emit("argmax", {y}, {{"axis", fe::attrInt(t.rank(y) - 1)}});
  y = t.emit("one_hot", {index},
             {{"depth", fe::attrInt(depth)}, {"dtype", fe::attrType(t.dtype(x))}});
  if (t.opset() < 13) {
    y = t.emit("reshape", {y}, {{"shape", fe::attrInts(d)}});
  } else if (!perm.empty()) {
    std::vector<int64_t> inverse(perm.size());
    for (size_t i = 0; i < perm.size(); ++i)
      inverse[perm[i]] = static_cast<int64_t>(i);
    y = t.emit("transpose", {y}, {{"perm", fe::attrInts(inverse)}});
  }
  t.out(0, y);
}

/// (x - mean) / sqrt(var + epsilon) over `axes` (kept), then scale and bias.
Val normalize(Translator &t, const Val &x, const std::vector<int64_t> &axes, double epsilon) {
  Attrs keep = {{"axes", fe::attrInts(axes)}, {"keep_dims", fe::attrBool(true)}};
  Val mean = t.emit("reduce_mean", {x}, keep);
  Val d = t.emit("sub", {x, mean});
  Val var = t.emit("reduce_mean", {t.emit("square", {d})}, keep);
  return t.emit("div", {d, t.emit("sqrt", {t.emit("add", {var, t.scalar(epsilon, x)})})});
}

void instanceNormalization(Translator &t) {
  Val x = t.in(0);
  int64_t rank = t.rank(x);
  std::vector<int64_t> axes;
  for (int64_t i = 2; i < rank; ++i)
    axes.push_back(i);
  Val y = normalize(t, x, axes, t.floatAttrOr("epsilon", 1e-5f));
  y = t.emit("mul", {y, perChannel(t, t.in(1), rank)});
  t.out(0, t.emit("add", {y, perChannel(t, t.in(2), rank)}));
}

/// ONNX's function: (x - E[x]) / (sqrt(E[x^2] - E[x]^2) + 1e-9).
void meanVarianceNormalization(Translator &t) {
  Val x = t.in(0);
  std::vector<int64_t> axes = t.intsAttr("axes").value_or(std::vector<int64_t>{0, 2, 3});
  for (int64_t &a : axes)
    a = t.normalizeAxis(a, t.rank(x));
  Attrs keep = {{"axes", fe::attrInts(axes)}, {"keep_dims", fe::attrBool(true)}};
  Val mean = t.emit("reduce_mean", {x}, keep);
  Val meanOfSquares = t.emit("reduce_mean", {t.emit("square", {x})}, keep);
  Val var = t.emit("sub", {meanOfSquares, t.emit("square", {mean})});
  Val std = t.emit("add", {t.emit("sqrt", {var}), t.scalar(1e-9, x)});
  t.out(0, t.emit("div", {t.emit("sub", {x, mean}), std}));
}

} // namespace

void addNetworkRules(std::map<std::string, Rule> &r) {
  r["MatMul"] = matmul;
  r["Gemm"] = gemm;
  r["Softmax"] = softmax;
  r["LogSoftmax"] = logSoftmax;
  r["BatchNormalization"] = batchNormalization;
  r["LayerNormalization"] = layerNormalization;
  r["Dropout"] = dropout;
  r["GlobalAveragePool"] = globalAveragePool;
  r["GlobalMaxPool"] = globalMaxPool;
  r["Conv"] = conv;
  r["MaxPool"] = maxPool;
  r["AveragePool"] = averagePool;
  r["Hardmax"] = hardmax;
  r["InstanceNormalization"] = instanceNormalization;
  r["MeanVarianceNormalization"] = meanVarianceNormalization;
}

} // namespace nncc::onnximport
