// ONNX shape and data movement, constants and reductions -> nn ops.
#include "compiler/import/onnx/OnnxImporter.h"
#include "compiler/import/onnx/Translator.h"

#include <cmath>
#include <numeric>

namespace nncc::onnximport {
namespace {

graph::Tensor intTensor(const std::vector<int64_t> &values, bool scalar = false) {
  graph::Tensor t;
  t.set_dtype(graph::I64);
  if (!scalar)
    t.add_dims(static_cast<int64_t>(values.size()));
  for (int64_t v : values)
    t.add_int_val(v);
  return t;
}

std::string list(const std::vector<int64_t> &v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

Val identity(Translator &t, const Val &x) {
  return t.emit("cast", {x}, {{"dtype", fe::attrType(t.dtype(x))}});
}

void identityRule(Translator &t) { t.out(0, t.in(0)); }

/// An nn.reshape to `dims`, which may hold one -1.
Val reshape(Translator &t, const Val &x, const std::vector<int64_t> &dims) {
  if (t.dims(x) == dims)
    return x;
  return t.emit("reshape", {x}, {{"shape", fe::attrInts(dims)}});
}

void reshapeRule(Translator &t) {
  Val x = t.in(0);
  std::vector<int64_t> shape = t.opset() < 5 ? t.intsAttr("shape").value_or(std::vector<int64_t>{})
                                             : t.knownInts(1, "the shape");
  bool allowZero = t.intAttrOr("allowzero", 0) != 0;
  std::vector<int64_t> in = t.dims(x);
  for (size_t i = 0; i < shape.size(); ++i)
    if (shape[i] == 0 && !allowZero) {
      if (i >= in.size())
        t.fail("shape " + list(shape) + " copies dimension " + std::to_string(i) + " of a rank-" +
               std::to_string(in.size()) + " input");
      shape[i] = in[i];
    }
  if (std::count(shape.begin(), shape.end(), -1) > 1)
    t.fail("shape " + list(shape) + " leaves more than one dimension unknown");
  t.out(0, reshape(t, x, shape));
}

/// The product of dims [from, to), -1 when one of them is unknown.
int64_t product(const std::vector<int64_t> &dims, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to; ++i) {
    if (dims[i] < 0)
      return -1;
    p *= dims[i];
  }
  return p;
}

void flatten(Translator &t) {
  Val x = t.in(0);
  std::vector<int64_t> d = t.dims(x);
  int64_t rank = static_cast<int64_t>(d.size());
  int64_t axis = t.intAttrOr("axis", 1);
  axis = axis < 0 ? axis + rank : axis;
  if (axis < 0 || axis > rank)
    t.fail("axis " + std::to_string(t.intAttrOr("axis", 1)) + " is out of range for rank " +
           std::to_string(rank));
  std::vector<int64_t> shape = {product(d, 0, axis), product(d, axis, d.size())};
  if (shape[0] < 0 && shape[1] < 0)
    t.fail("flattening " + list(d) + " leaves both dimensions unknown");
  t.out(0, reshape(t, x, shape));
}

/// Axes from the attribute (before `inputFrom`) or input 1 (from it).
std::optional<std::vector<int64_t>> axesOf(Translator &t, int64_t inputFrom, int input = 1) {
  if (t.opset() < inputFrom)
    return t.intsAttr("axes");
  if (!t.has(input))
    return std::nullopt;
  return t.knownInts(input, "the axes");
}

void squeeze(Translator &t) {
  Val x = t.in(0);
  auto axes = axesOf(t, 13);
  Attrs attrs;
  if (axes) {
    for (int64_t &a : *axes)
      a = t.normalizeAxis(a, t.rank(x));
    attrs.push_back({"axes", fe::attrInts(*axes)});
  }
  t.out(0, t.emit("squeeze", {x}, attrs));
}

void unsqueeze(Translator &t) {
  Val x = t.in(0);
  auto axes = axesOf(t, 13);
  if (!axes || axes->empty())
    t.fail("needs axes");
  int64_t rank = t.rank(x) + static_cast<int64_t>(axes->size());
  for (int64_t &a : *axes)
    a = t.normalizeAxis(a, rank);
  std::sort(axes->begin(), axes->end());
  t.out(0, t.emit("expand_dims", {x}, {{"axes", fe::attrInts(*axes)}}));
}

void castTo(Translator &t, const Val &x, graph::DataType to) {
  t.out(0, t.emit("cast", {x}, {{"dtype", fe::attrType(to)}}));
}

void cast(Translator &t) {
  if (const auto *a = t.attr("to"); a && a->type() == onnx::AttributeProto::STRING)
    t.fail("a dtype named by a string (Cast before opset 6) is not supported");
  int64_t to = t.intAttrOr("to", 0);
  graph::DataType dt = fromOnnxType(static_cast<int32_t>(to));
  if (dt == graph::DT_INVALID)
    t.fail("casts to " + onnxTypeName(static_cast<int32_t>(to)) +
           ", which nncc does not have (it has FLOAT, DOUBLE, INT32, INT64, BOOL)");
  castTo(t, t.in(0), dt);
}

void castLike(Translator &t) { castTo(t, t.in(0), t.dtype(t.in(1))); }

void constantRule(Translator &t) {
  const auto &node = t.node();
  if (node.attribute_size() != 1)
    t.fail("needs exactly one value attribute");
  const onnx::AttributeProto &a = node.attribute(0);
  graph::Tensor v;
  if (a.name() == "value") {
    auto converted = fromOnnxTensor(a.t(), "its value");
    if (!converted)
      t.fail(llvm::toString(converted.takeError()));
    v = *converted;
  } else if (a.name() == "value_float") {
    v.set_dtype(graph::F32);
    v.add_float_val(a.f());
  } else if (a.name() == "value_floats") {
    v.set_dtype(graph::F32);
    v.add_dims(a.floats_size());
    for (float f : a.floats())
      v.add_float_val(f);
  } else if (a.name() == "value_int") {
    v = intTensor({a.i()}, true);
  } else if (a.name() == "value_ints") {
    v = intTensor({a.ints().begin(), a.ints().end()});
  } else {
    t.fail("attribute '" + a.name() + "' is not supported (nncc has no strings or sparse tensors)");
  }
  t.outKnown(0, v);
}

void constantOfShape(Translator &t) {
  std::vector<int64_t> shape = t.knownInts(0, "the shape");
  graph::Tensor v;
  v.set_dtype(graph::F32);
  v.add_float_val(0);
  if (const auto *a = t.attr("value")) {
    auto converted = fromOnnxTensor(a->t(), "its value");
    if (!converted)
      t.fail(llvm::toString(converted.takeError()));
    v = *converted;
  }
  v.clear_dims();
  for (int64_t d : shape)
    v.add_dims(d);
  t.outKnown(0, v);
}

void shape(Translator &t) {
  std::vector<int64_t> d = t.dims(t.in(0));
  int64_t rank = static_cast<int64_t>(d.size());
  auto clamp = [&](int64_t i) { return std::clamp(i < 0 ? i + rank : i, int64_t(0), rank); };
  int64_t start = clamp(t.intAttrOr("start", 0)), end = clamp(t.intAttrOr("end", rank));
  std::vector<int64_t> part;
  for (int64_t i = start; i < end; ++i) {
    if (d[i] < 0)
      t.fail("dimension " + std::to_string(i) + " of the input is unknown; nncc folds Shape " +
             "to a constant");
    part.push_back(d[i]);
  }
  t.outKnown(0, intTensor(part));
}

void size(Translator &t) {
  std::vector<int64_t> d = t.dims(t.in(0));
  int64_t n = product(d, 0, d.size());
  if (n < 0)
    t.fail("the input's size is unknown; nncc folds Size to a constant");
  t.outKnown(0, intTensor({n}, true));
}

/// Broadcasts x against `shape` both ways (ONNX's Expand): x + zeros(shape).
void expand(Translator &t) {
  Val x = t.in(0);
  std::vector<int64_t> shape = t.knownInts(1, "the shape");
  graph::Tensor zeros;
  zeros.set_dtype(t.dtype(x));
  for (int64_t d : shape)
    zeros.add_dims(d);
  if (zeros.dtype() == graph::BOOL) {
    zeros.add_bool_val(false);
    t.out(0, t.emit("logical_or", {x, t.constant(zeros)}));
    return;
  }
  if (zeros.dtype() == graph::F32)
    zeros.add_float_val(0);
  else if (zeros.dtype() == graph::F64)
    zeros.add_double_val(0);
  else
    zeros.add_int_val(0);
  t.out(0, t.emit("add", {x, t.constant(zeros)}));
}

void transpose(Translator &t) {
  Val x = t.in(0);
  auto perm = t.intsAttr("perm");
  if (!perm) {
    perm.emplace(t.rank(x));
    std::iota(perm->rbegin(), perm->rend(), 0);
  }
  t.out(0, t.emit("transpose", {x}, {{"perm", fe::attrInts(*perm)}}));
}

void concat(Translator &t) {
  std::vector<Val> xs;
  for (int i = 0; i < t.node().input_size(); ++i)
    xs.push_back(t.in(i));
  if (xs.empty())
    t.fail("needs at least one input");
  // Concat-1 joined along 1 unless told otherwise.
  int64_t axis = t.normalizeAxis(t.intAttrOr("axis", t.opset() < 4 ? 1 : 0), t.rank(xs[0]));
  t.out(0, t.emit("concat", xs, {{"axis", fe::attrInt(axis)}}));
}

/// ReduceX: axes from the attribute, or from input 1 from `inputFrom` on
/// (ReduceSum 13, the others 18); keepdims defaults to 1.
Val reduce(Translator &t, const std::string &op, const Val &x, int64_t inputFrom) {
  auto axes = axesOf(t, inputFrom);
  bool keep = t.intAttrOr("keepdims", 1) != 0;
  if ((!axes || axes->empty()) && t.intAttrOr("noop_with_empty_axes", 0))
    return identity(t, x);
  Attrs attrs = {{"keep_dims", fe::attrBool(keep)}};
  if (!axes || axes->empty()) { // all of them
    axes.emplace(t.rank(x));
    std::iota(axes->begin(), axes->end(), 0);
  }
  for (int64_t &a : *axes)
    a = t.normalizeAxis(a, t.rank(x));
  attrs.push_back({"axes", fe::attrInts(*axes)});
  return t.emit(op, {x}, attrs);
}

template <const char *Op, int InputFrom> void reduceRule(Translator &t) {
  t.out(0, reduce(t, Op, t.in(0), InputFrom));
}

constexpr char reduceSum[] = "reduce_sum";
constexpr char reduceMean[] = "reduce_mean";
constexpr char reduceMax[] = "reduce_max";
constexpr char reduceMin[] = "reduce_min";
constexpr char reduceProd[] = "reduce_prod";

void reduceSumSquare(Translator &t) {
  t.out(0, reduce(t, reduceSum, t.emit("square", {t.in(0)}), 18));
}
void reduceL1(Translator &t) { t.out(0, reduce(t, reduceSum, t.emit("abs", {t.in(0)}), 18)); }
void reduceL2(Translator &t) {
  t.out(0, t.emit("sqrt", {reduce(t, reduceSum, t.emit("square", {t.in(0)}), 18)}));
}
void reduceLogSum(Translator &t) { t.out(0, t.emit("log", {reduce(t, reduceSum, t.in(0), 18)})); }
/// log(sum(exp(x - max))) + max, so that large x do not overflow.
void reduceLogSumExp(Translator &t) {
  Val x = t.in(0);
  Val m = reduce(t, reduceMax, x, 18);
  bool keep = t.intAttrOr("keepdims", 1) != 0;
  Val mk = m;
  if (!keep) {
    // The max again, keeping dims, to subtract it from x.
    auto axes = axesOf(t, 18);
    Attrs attrs = {{"keep_dims", fe::attrBool(true)}};
    if (axes) {
      for (int64_t &a : *axes)
        a = t.normalizeAxis(a, t.rank(x));
      attrs.push_back({"axes", fe::attrInts(*axes)});
    }
    mk = t.emit("reduce_max", {x}, attrs);
  }
  Val s = reduce(t, reduceSum, t.emit("exp", {t.emit("sub", {x, mk})}), 18);
  t.out(0, t.emit("add", {t.emit("log", {s}), m}));
}

/// x reversed along `axis` (of known size n): n single slices, joined.
Val reverse(Translator &t, const Val &x, int64_t axis, int64_t n) {
  std::vector<Val> rows;
  for (int64_t i = n - 1; i >= 0; --i) {
    std::vector<int64_t> begins(t.rank(x), 0), sizes(t.rank(x), -1);
    begins[axis] = i;
    sizes[axis] = 1;
    rows.push_back(
        t.emit("slice", {x}, {{"begins", fe::attrInts(begins)}, {"sizes", fe::attrInts(sizes)}}));
  }
  return rows.size() == 1 ? rows[0] : t.emit("concat", rows, {{"axis", fe::attrInt(axis)}});
}

/// ArgMax / ArgMin (as ArgMax of -x) along `axis`, keepdims defaulting to 1;
/// select_last_index as n - 1 - the first index in x reversed along axis.
void arg(Translator &t, bool min) {
  Val x = t.in(0);
  int64_t axis = t.normalizeAxis(t.intAttrOr("axis", 0), t.rank(x));
  bool last = t.intAttrOr("select_last_index", 0) != 0;
  int64_t n = t.dims(x)[axis];
  constexpr int64_t kMaxReversed = 256;
  if (last && (n < 0 || n > kMaxReversed))
    t.fail("select_last_index = 1 needs the size of axis " + std::to_string(axis) +
           " known and at most " + std::to_string(kMaxReversed) + " (nncc reverses the axis)");
  if (min)
    x = t.emit("neg", {x});
  if (last)
    x = reverse(t, x, axis, n);
  Val r = t.emit("argmax", {x}, {{"axis", fe::attrInt(axis)}});
  if (last)
    r = t.emit("sub", {t.scalar(static_cast<double>(n - 1), r), r});
  if (t.intAttrOr("keepdims", 1))
    r = t.emit("expand_dims", {r}, {{"axes", fe::attrInts({axis})}});
  t.out(0, r);
}
void argMax(Translator &t) { arg(t, false); }
void argMin(Translator &t) { arg(t, true); }

/// The block of x from `begins` with `sizes` (-1: to the end).
Val slice(Translator &t, const Val &x, const std::vector<int64_t> &begins,
          const std::vector<int64_t> &sizes) {
  return t.emit("slice", {x}, {{"begins", fe::attrInts(begins)}, {"sizes", fe::attrInts(sizes)}});
}

/// starts, ends, axes and steps as inputs (opset 10) or attributes (before);
/// steps other than 1 pick single slices.
void sliceRule(Translator &t) {
  Val x = t.in(0);
  std::vector<int64_t> d = t.dims(x);
  int64_t rank = static_cast<int64_t>(d.size());
  std::vector<int64_t> starts, ends, axes, steps;
  if (t.opset() < 10) {
    starts = t.intsAttr("starts").value_or(std::vector<int64_t>{});
    ends = t.intsAttr("ends").value_or(std::vector<int64_t>{});
    axes = t.intsAttr("axes").value_or(std::vector<int64_t>{});
  } else {
    starts = t.knownInts(1, "starts");
    ends = t.knownInts(2, "ends");
    if (t.has(3))
      axes = t.knownInts(3, "axes");
    if (t.has(4))
      steps = t.knownInts(4, "steps");
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(static_cast<int64_t>(i));
  if (ends.size() != starts.size() || axes.size() != starts.size())
    t.fail("starts, ends and axes differ in length");
  if (!steps.empty() && steps.size() != starts.size())
    t.fail("steps and starts differ in length");
  std::vector<int64_t> begins(rank, 0), sizes(rank, -1);
  std::vector<std::pair<int64_t, std::vector<int64_t>>> picks; // strided axes
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t step = steps.empty() ? 1 : steps[i];
    int64_t axis = t.normalizeAxis(axes[i], rank), n = d[axis];
    if (n < 0)
      t.fail("slicing needs the size of dimension " + std::to_string(axis));
    if (step == 0)
      t.fail("a step of 0 is invalid");
    if (step == 1) {
      auto clamp = [&](int64_t v) { return std::clamp(v < 0 ? v + n : v, int64_t(0), n); };
      int64_t b = clamp(starts[i]), e = clamp(ends[i]);
      begins[axis] = b;
      sizes[axis] = std::max<int64_t>(e - b, 0);
      continue;
    }
    // Other steps (negative ones too): the elements one by one, as numpy's
    // clamping picks them.
    auto clamp = [&](int64_t v) {
      v = v < 0 ? std::max<int64_t>(v + n, -1) : v;
      return step > 0 ? std::clamp<int64_t>(v, 0, n) : std::clamp<int64_t>(v, -1, n - 1);
    };
    std::vector<int64_t> at;
    for (int64_t k = clamp(starts[i]), e = clamp(ends[i]); step > 0 ? k < e : k > e; k += step)
      at.push_back(k);
    if (at.empty())
      t.fail("an empty slice is not supported");
    picks.push_back({axis, at});
  }
  Val y = slice(t, x, begins, sizes);
  for (const auto &[axis, at] : picks) {
    // A gather of the picked positions: through the mask where it fits,
    // else (an unknown dimension) a slice per position, joined.
    graph::Tensor indices;
    indices.set_dtype(graph::I64);
    indices.add_dims(static_cast<int64_t>(at.size()));
    for (int64_t k : at)
      indices.add_int_val(k);
    if (std::optional<Val> picked = maskedGather(t, y, t.constant(indices), axis)) {
      y = *picked;
      continue;
    }
    constexpr size_t kMaxPicked = 256;
    if (at.size() > kMaxPicked)
      t.fail("a step other than 1 that picks more than " + std::to_string(kMaxPicked) +
             " elements along a dimension is supported only where the other dimensions are "
             "known");
    std::vector<Val> rows;
    for (int64_t k : at) {
      std::vector<int64_t> b(rank, 0), n(rank, -1);
      b[axis] = k;
      n[axis] = 1;
      rows.push_back(slice(t, y, b, n));
    }
    y = rows.size() == 1 ? rows[0] : t.emit("concat", rows, {{"axis", fe::attrInt(axis)}});
  }
  t.out(0, y);
}

/// Pieces along `axis`: sizes from `split` (input from opset 13, attribute
/// before), else equal parts.
void split(Translator &t) {
  Val x = t.in(0);
  std::vector<int64_t> d = t.dims(x);
  int64_t rank = static_cast<int64_t>(d.size());
  int64_t axis = t.normalizeAxis(t.intAttrOr("axis", 0), rank);
  if (d[axis] < 0)
    t.fail("splitting needs the size of dimension " + std::to_string(axis));
  std::vector<int64_t> parts;
  if (t.opset() < 13)
    parts = t.intsAttr("split").value_or(std::vector<int64_t>{});
  else if (t.has(1))
    parts = t.knownInts(1, "split");
  int64_t n = t.node().output_size();
  if (parts.empty()) {
    int64_t each = (d[axis] + n - 1) / n;
    for (int64_t i = 0, left = d[axis]; i < n; ++i, left -= each)
      parts.push_back(std::min(each, left));
  }
  if (static_cast<int64_t>(parts.size()) != n)
    t.fail("split has " + std::to_string(parts.size()) + " sizes for " + std::to_string(n) +
           " outputs");
  int64_t begin = 0;
  for (int64_t k = 0; k < n; ++k) {
    std::vector<int64_t> begins(rank, 0), sizes(rank, -1);
    begins[axis] = begin;
    sizes[axis] = parts[k];
    t.out(static_cast<int>(k), slice(t, x, begins, sizes));
    begin += parts[k];
  }
}

/// Gather: a few known indices as one slice per index along `axis`,
/// joined (copies, exact for any value); many, or indices that are data,
/// through a one-hot mask (maskedGather), whose size stays linear in them
/// where a concatenation of thousands of slices is not.
void gather(Translator &t) {
  Val x = t.in(0);
  std::vector<int64_t> d = t.dims(x);
  int64_t rank = static_cast<int64_t>(d.size());
  int64_t axis = t.normalizeAxis(t.intAttrOr("axis", 0), rank);
  if (d[axis] < 0)
    t.fail("gathering needs the size of dimension " + std::to_string(axis));
  constexpr size_t kMaxSlices = 32;
  const graph::Tensor *known = t.known(1);
  std::vector<int64_t> indices = known ? t.knownInts(1, "the indices") : std::vector<int64_t>{};
  for (int64_t i : indices)
    if (i < -d[axis] || i >= d[axis])
      t.fail("index " + std::to_string(i) + " is out of range for size " + std::to_string(d[axis]));
  if (!known || indices.size() > kMaxSlices)
    if (std::optional<Val> y = maskedGather(t, x, t.in(1), axis))
      return t.out(0, *y);
  if (!known)
    t.failUnknown(1, "the indices",
                  " where the gathered axis is unknown or over 4096, or the one-hot mask of "
                  "the indices over 2^24 elements");
  std::vector<Val> rows;
  for (int64_t i : indices) {
    std::vector<int64_t> begins(rank, 0), sizes(rank, -1);
    begins[axis] = i < 0 ? i + d[axis] : i;
    sizes[axis] = 1;
    rows.push_back(slice(t, x, begins, sizes));
  }
  if (rows.empty())
    t.fail("needs at least one index");
  Val y = rows.size() == 1 ? rows[0] : t.emit("concat", rows, {{"axis", fe::attrInt(axis)}});
  std::vector<int64_t> shape(d.begin(), d.begin() + axis);
  shape.insert(shape.end(), known->dims().begin(), known->dims().end());
  shape.insert(shape.end(), d.begin() + axis + 1, d.end());
  if (std::count(shape.begin(), shape.end(), -1) > 1)
    t.fail("more than one unknown dimension");
  t.out(0, reshape(t, y, shape));
}

void tile(Translator &t) {
  Val x = t.in(0);
  std::vector<int64_t> repeats = t.knownInts(1, "repeats");
  if (static_cast<int64_t>(repeats.size()) != t.rank(x))
    t.fail("repeats needs one value per dimension");
  for (size_t axis = 0; axis < repeats.size(); ++axis)
    if (repeats[axis] != 1) {
      if (repeats[axis] < 1)
        t.fail("repeats must be positive");
      x = t.emit("concat", std::vector<Val>(repeats[axis], x),
                 {{"axis", fe::attrInt(static_cast<int64_t>(axis))}});
    }
  t.out(0, x.ref == t.in(0).ref ? identity(t, x) : x);
}

/// Constant padding (mode "constant" only): pads [begin..., end...] from
/// input 1 (opset 11) or the attribute, the value from input 2 or `value`.
void pad(Translator &t) {
  Val x = t.in(0);
  std::string mode = t.stringAttrOr("mode", "constant");
  if (mode != "constant")
    t.fail("mode '" + mode + "' is not supported (constant only)");
  std::vector<int64_t> pads;
  double value = 0;
  if (t.opset() < 11) {
    pads = t.intsAttr("pads").value_or(std::vector<int64_t>{});
    value = t.floatAttrOr("value", 0);
  } else {
    pads = t.knownInts(1, "the pads");
    if (t.has(2))
      value = t.knownScalar(2, "the constant value");
  }
  int64_t rank = t.rank(x);
  if (static_cast<int64_t>(pads.size()) != 2 * rank)
    t.fail("pads needs " + std::to_string(2 * rank) + " values");
  for (int64_t axis = 0; axis < rank; ++axis) {
    if (pads[axis] < 0 || pads[axis + rank] < 0)
      t.fail("negative pads (cropping) are not supported");
    x = padAxis(t, x, axis, pads[axis], pads[axis + rank], value);
  }
  t.out(0, x.ref == t.in(0).ref ? identity(t, x) : x);
}

/// The upper (or lower) triangle of the last two dimensions, from diagonal k.
void trilu(Translator &t) {
  Val x = t.in(0);
  std::vector<int64_t> d = t.dims(x);
  if (d.size() < 2 || d[d.size() - 2] < 0 || d.back() < 0)
    t.fail("needs the last two dimensions known");
  int64_t k = t.has(1) ? static_cast<int64_t>(t.knownScalar(1, "k")) : 0;
  bool upper = t.intAttrOr("upper", 1) != 0;
  int64_t rows = d[d.size() - 2], cols = d.back();
  graph::Tensor mask;
  mask.set_dtype(graph::BOOL);
  mask.add_dims(rows);
  mask.add_dims(cols);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      mask.add_bool_val(upper ? j - i >= k : j - i <= k);
  t.out(0, t.emit("select", {t.constant(mask), x, t.scalar(0, x)}));
}

void eyeLike(Translator &t) {
  Val x = t.in(0);
  std::vector<int64_t> d = t.dims(x);
  if (d.size() != 2 || d[0] < 0 || d[1] < 0)
    t.fail("needs a rank-2 input of known shape");
  graph::DataType dt = t.dtype(x);
  if (const auto *a = t.attr("dtype")) {
    dt = fromOnnxType(static_cast<int32_t>(a->i()));
    if (dt == graph::DT_INVALID)
      t.fail("dtype " + onnxTypeName(static_cast<int32_t>(a->i())) + " is not supported");
  }
  int64_t k = t.intAttrOr("k", 0);
  graph::Tensor eye;
  eye.set_dtype(dt);
  eye.add_dims(d[0]);
  eye.add_dims(d[1]);
  for (int64_t i = 0; i < d[0]; ++i)
    for (int64_t j = 0; j < d[1]; ++j) {
      bool one = j - i == k;
      if (dt == graph::F32)
        eye.add_float_val(one);
      else if (dt == graph::F64)
        eye.add_double_val(one);
      else if (dt == graph::BOOL)
        eye.add_bool_val(one);
      else
        eye.add_int_val(one);
    }
  t.outKnown(0, eye);
}

/// start, start + delta, ... before limit: a constant.
void range(Translator &t) {
  double start = t.knownScalar(0, "start"), limit = t.knownScalar(1, "limit"),
         delta = t.knownScalar(2, "delta");
  if (delta == 0)
    t.fail("delta is 0");
  graph::DataType dt = t.known(0)->dtype();
  int64_t n = std::max<int64_t>(static_cast<int64_t>(std::ceil((limit - start) / delta)), 0);
  graph::Tensor r;
  r.set_dtype(dt);
  r.add_dims(n);
  for (int64_t i = 0; i < n; ++i) {
    double v = start + static_cast<double>(i) * delta;
    if (dt == graph::F32)
      r.add_float_val(static_cast<float>(v));
    else if (dt == graph::F64)
      r.add_double_val(v);
    else
      r.add_int_val(static_cast<int64_t>(v));
  }
  t.outKnown(0, r);
}

/// off_value / on_value at indices along a new last axis (nn.one_hot);
/// negative indices count from the end as ONNX says.
void oneHot(Translator &t) {
  Val indices = t.in(0);
  int64_t depth = static_cast<int64_t>(t.knownScalar(1, "depth"));
  const graph::Tensor *values = t.known(2);
  if (!values)
    t.failUnknown(2, "values [off, on]");
  graph::DataType dt = values->dtype();
  std::vector<double> pair;
  for (float v : values->float_val())
    pair.push_back(v);
  for (double v : values->double_val())
    pair.push_back(v);
  for (int64_t v : values->int_val())
    pair.push_back(static_cast<double>(v));
  // nn.one_hot takes f32 values: integer ones go through f32 exactly or not
  // at all.
  bool exact =
      std::all_of(pair.begin(), pair.end(), [](double v) { return static_cast<float>(v) == v; });
  if (pair.size() != 2 || dt == graph::BOOL || (dt != graph::F32 && dt != graph::F64 && !exact))
    t.fail("values (input 2) must be a pair [off, on] of numbers (integers exact in f32)");
  double off = pair[0], on = pair[1];
  int64_t rank = t.rank(indices) + 1;
  int64_t axis = t.normalizeAxis(t.intAttrOr("axis", -1), rank);
  if (t.dtype(indices) == graph::F32 || t.dtype(indices) == graph::F64)
    indices = t.emit("cast", {indices}, {{"dtype", fe::attrType(graph::I64)}});
  // -1 means depth - 1: add depth where negative.
  Val negative = t.emit("less", {indices, t.scalar(0, indices)});
  indices =
      t.emit("select", {negative, t.emit("add", {indices, t.scalar(depth, indices)}), indices});
  Val y = t.emit("one_hot", {indices},
                 {{"depth", fe::attrInt(depth)},
                  {"dtype", fe::attrType(dt == graph::F64 ? dt : graph::F32)},
                  {"on_value", fe::attrFloat(static_cast<float>(on))},
                  {"off_value", fe::attrFloat(static_cast<float>(off))}});
  if (t.dtype(y) != dt)
    y = t.emit("cast", {y}, {{"dtype", fe::attrType(dt)}});
  if (axis != rank - 1) {
    std::vector<int64_t> perm;
    for (int64_t i = 0; i < rank - 1; ++i) {
      if (i == axis)
        perm.push_back(rank - 1);
      perm.push_back(i);
    }
    y = t.emit("transpose", {y}, {{"perm", fe::attrInts(perm)}});
  }
  t.out(0, y);
}

} // namespace

void addTensorRules(std::map<std::string, Rule> &r) {
  r["Identity"] = identityRule;
  r["Reshape"] = reshapeRule;
  r["Flatten"] = flatten;
  r["Squeeze"] = squeeze;
  r["Unsqueeze"] = unsqueeze;
  r["Cast"] = cast;
  r["CastLike"] = castLike;
  r["Constant"] = constantRule;
  r["ConstantOfShape"] = constantOfShape;
  r["Shape"] = shape;
  r["Size"] = size;
  r["Expand"] = expand;
  r["Transpose"] = transpose;
  r["Concat"] = concat;
  r["ReduceSum"] = reduceRule<reduceSum, 13>;
  r["ReduceMean"] = reduceRule<reduceMean, 18>;
  r["ReduceMax"] = reduceRule<reduceMax, 18>;
  r["ReduceMin"] = reduceRule<reduceMin, 18>;
  r["ReduceProd"] = reduceRule<reduceProd, 18>;
  r["ReduceSumSquare"] = reduceSumSquare;
  r["ReduceL1"] = reduceL1;
  r["ReduceL2"] = reduceL2;
  r["ReduceLogSum"] = reduceLogSum;
  r["ReduceLogSumExp"] = reduceLogSumExp;
  r["ArgMax"] = argMax;
  r["ArgMin"] = argMin;
  r["Slice"] = sliceRule;
  r["Split"] = split;
  r["Gather"] = gather;
  r["Tile"] = tile;
  r["Trilu"] = trilu;
  r["Pad"] = pad;
  r["EyeLike"] = eyeLike;
  r["Range"] = range;
  r["OneHot"] = oneHot;
}

} // namespace nncc::onnximport
