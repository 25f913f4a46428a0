// Host constant folding: a node whose inputs are all known at import is
// evaluated here and its outputs recorded as known. ONNX function bodies
// (LayerNormalization's, the window functions') compute shapes with chains
// like Shape -> Slice -> Concat -> Reshape; folding them hands the rules
// downstream the constant shapes nncc compiles with. Only small tensors
// fold; anything the evaluator does not cover falls back to the op's rule.
#include "compiler/import/onnx/Translator.h"

#include <cmath>
#include <functional>
#include <limits>

namespace nncc::onnximport {
namespace {

constexpr int64_t kMaxFoldElements = 4096;

/// A known tensor with every element spelled out: floats as doubles (F32
/// ones rounded to float), integers and bools as int64.
struct Host {
  graph::DataType dtype = graph::F32;
  std::vector<int64_t> dims;
  std::vector<double> f;
  std::vector<int64_t> i;

  bool isFloat() const { return dtype == graph::F32 || dtype == graph::F64; }
  int64_t size() const { return static_cast<int64_t>(isFloat() ? f.size() : i.size()); }
  /// Copies element `from` of `x` (of the same dtype) to element `to`.
  void copy(int64_t to, const Host &x, int64_t from) {
    if (isFloat())
      f[to] = x.f[from];
    else
      i[to] = x.i[from];
  }
};

using MaybeHost = std::optional<Host>;

int64_t elements(const std::vector<int64_t> &dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0 || (d > 0 && n > kMaxFoldElements / d + 1))
      return std::numeric_limits<int64_t>::max();
    n *= d;
  }
  return n;
}

/// A tensor of `dims` with zeros, or nothing when it is too large to fold.
MaybeHost make(graph::DataType dtype, const std::vector<int64_t> &dims) {
  int64_t n = elements(dims);
  if (n > kMaxFoldElements)
    return std::nullopt;
  Host h;
  h.dtype = dtype;
  h.dims = dims;
  if (h.isFloat())
    h.f.assign(n, 0);
  else
    h.i.assign(n, 0);
  return h;
}

/// Rounds a result to its dtype: F32 to float, I32 wrapping, BOOL to 0/1.
double roundFloat(graph::DataType dt, double v) {
  return dt == graph::F32 ? static_cast<double>(static_cast<float>(v)) : v;
}
int64_t roundInt(graph::DataType dt, int64_t v) {
  if (dt == graph::I32)
    return static_cast<int32_t>(static_cast<uint64_t>(v));
  if (dt == graph::BOOL)
    return v != 0;
  return v;
}

MaybeHost fromKnown(const graph::Tensor &t) {
  std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
  auto h = make(t.dtype(), dims);
  if (!h)
    return std::nullopt;
  int64_t n = h->size();
  int64_t given = t.dtype() == graph::F32    ? t.float_val_size()
                  : t.dtype() == graph::F64  ? t.double_val_size()
                  : t.dtype() == graph::BOOL ? t.bool_val_size()
                                             : t.int_val_size();
  if (given != n && given != 1) // one value is a splat
    return std::nullopt;
  for (int64_t k = 0; k < n; ++k) {
    int64_t at = given == 1 ? 0 : k;
    switch (t.dtype()) {
    case graph::F32:
      h->f[k] = t.float_val(at);
      break;
    case graph::F64:
      h->f[k] = t.double_val(at);
      break;
    case graph::BOOL:
      h->i[k] = t.bool_val(at);
      break;
    case graph::I32:
    case graph::I64:
      h->i[k] = t.int_val(at);
      break;
    default:
      return std::nullopt;
    }
  }
  return h;
}

graph::Tensor toKnown(const Host &h) {
  graph::Tensor t;
  t.set_dtype(h.dtype);
  for (int64_t d : h.dims)
    t.add_dims(d);
  for (int64_t k = 0; k < h.size(); ++k) {
    switch (h.dtype) {
    case graph::F32:
      t.add_float_val(static_cast<float>(h.f[k]));
      break;
    case graph::F64:
      t.add_double_val(h.f[k]);
      break;
    case graph::BOOL:
      t.add_bool_val(h.i[k] != 0);
      break;
    default:
      t.add_int_val(h.i[k]);
    }
  }
  return t;
}

std::vector<int64_t> stridesOf(const std::vector<int64_t> &dims) {
  std::vector<int64_t> s(dims.size(), 1);
  for (int64_t a = static_cast<int64_t>(dims.size()) - 2; a >= 0; --a)
    s[a] = s[a + 1] * dims[a + 1];
  return s;
}

/// The coordinates of flat index `k` in `dims`.
std::vector<int64_t> coordinates(int64_t k, const std::vector<int64_t> &dims) {
  std::vector<int64_t> c(dims.size());
  for (int64_t a = static_cast<int64_t>(dims.size()) - 1; a >= 0; --a) {
    c[a] = dims[a] ? k % dims[a] : 0;
    k = dims[a] ? k / dims[a] : 0;
  }
  return c;
}

/// Numpy's broadcast of two shapes.
std::optional<std::vector<int64_t>> broadcast(const std::vector<int64_t> &a,
                                              const std::vector<int64_t> &b) {
  size_t rank = std::max(a.size(), b.size());
  std::vector<int64_t> out(rank);
  for (size_t k = 0; k < rank; ++k) {
    int64_t x = k + a.size() >= rank ? a[k + a.size() - rank] : 1;
    int64_t y = k + b.size() >= rank ? b[k + b.size() - rank] : 1;
    if (x != y && x != 1 && y != 1)
      return std::nullopt;
    out[k] = x == 1 ? y : x;
  }
  return out;
}

/// The flat index in `in` (broadcast to `out`) of out's coordinates `c`.
int64_t sourceIndex(const std::vector<int64_t> &c, const std::vector<int64_t> &in) {
  int64_t index = 0;
  size_t offset = c.size() - in.size();
  for (size_t a = 0; a < in.size(); ++a)
    index = index * in[a] + (in[a] == 1 ? 0 : c[a + offset]);
  return index;
}

/// An elementwise op over broadcast inputs: `body` sets element k of the
/// result from the inputs' element indices.
using Body = std::function<bool(Host &, int64_t, const std::vector<int64_t> &)>;
MaybeHost elementwise(const std::vector<Host> &xs, graph::DataType dtype, const Body &body) {
  std::vector<int64_t> dims = xs[0].dims;
  for (size_t j = 1; j < xs.size(); ++j) {
    auto b = broadcast(dims, xs[j].dims);
    if (!b)
      return std::nullopt;
    dims = *b;
  }
  auto out = make(dtype, dims);
  if (!out)
    return std::nullopt;
  std::vector<int64_t> at(xs.size());
  for (int64_t k = 0; k < out->size(); ++k) {
    std::vector<int64_t> c = coordinates(k, dims);
    for (size_t j = 0; j < xs.size(); ++j)
      at[j] = sourceIndex(c, xs[j].dims);
    if (!body(*out, k, at))
      return std::nullopt;
  }
  return out;
}

MaybeHost arithmetic(const std::string &op, const Host &a, const Host &b) {
  if (a.dtype != b.dtype || a.dtype == graph::BOOL)
    return std::nullopt;
  return elementwise({a, b}, a.dtype, [&](Host &o, int64_t k, const std::vector<int64_t> &at) {
    if (o.isFloat()) {
      double x = a.f[at[0]], y = b.f[at[1]], r;
      if (op == "Add" || op == "Sum")
        r = x + y;
      else if (op == "Sub")
        r = x - y;
      else if (op == "Mul")
        r = x * y;
      else if (op == "Div")
        r = x / y;
      else if (std::isnan(x) || std::isnan(y))
        return false;
      else
        r = op == "Max" ? std::max(x, y) : std::min(x, y);
      o.f[k] = roundFloat(o.dtype, r);
      return true;
    }
    int64_t x = a.i[at[0]], y = b.i[at[1]], r;
    auto wrap = [](uint64_t v) { return static_cast<int64_t>(v); };
    if (op == "Add" || op == "Sum")
      r = wrap(static_cast<uint64_t>(x) + static_cast<uint64_t>(y));
    else if (op == "Sub")
      r = wrap(static_cast<uint64_t>(x) - static_cast<uint64_t>(y));
    else if (op == "Mul")
      r = wrap(static_cast<uint64_t>(x) * static_cast<uint64_t>(y));
    else if (op == "Div") {
      if (y == 0 || (y == -1 && x == std::numeric_limits<int64_t>::min()))
        return false;
      r = x / y;
    } else
      r = op == "Max" ? std::max(x, y) : std::min(x, y);
    o.i[k] = roundInt(o.dtype, r);
    return true;
  });
}

MaybeHost compare(const std::string &op, const Host &a, const Host &b) {
  if (a.dtype != b.dtype)
    return std::nullopt;
  return elementwise({a, b}, graph::BOOL, [&](Host &o, int64_t k, const std::vector<int64_t> &at) {
    bool r;
    if (a.isFloat()) {
      double x = a.f[at[0]], y = b.f[at[1]];
      r = op == "Equal" ? x == y : op == "Less" ? x < y : x > y;
    } else {
      int64_t x = a.i[at[0]], y = b.i[at[1]];
      r = op == "Equal" ? x == y : op == "Less" ? x < y : x > y;
    }
    o.i[k] = r;
    return true;
  });
}

MaybeHost castTo(const Host &x, graph::DataType to) {
  if (to == graph::DT_INVALID)
    return std::nullopt;
  return elementwise({x}, to, [&](Host &o, int64_t k, const std::vector<int64_t> &at) {
    if (x.isFloat()) {
      double v = x.f[at[0]];
      if (o.isFloat()) {
        o.f[k] = roundFloat(to, v);
      } else if (to == graph::BOOL) {
        o.i[k] = v != 0;
      } else {
        // Out of range (NaN included) is undefined in ONNX: do not fold.
        double limit = to == graph::I32 ? 2147483648.0 : 9223372036854775808.0;
        if (!(std::trunc(v) < limit && std::trunc(v) >= -limit))
          return false;
        o.i[k] = static_cast<int64_t>(std::trunc(v));
      }
    } else {
      int64_t v = x.i[at[0]];
      if (o.isFloat())
        o.f[k] = roundFloat(to, static_cast<double>(v));
      else
        o.i[k] = roundInt(to, v);
    }
    return true;
  });
}

/// Copies x's elements into a tensor of `dims` (a reshape).
MaybeHost withDims(const Host &x, const std::vector<int64_t> &dims) {
  if (elements(dims) != x.size())
    return std::nullopt;
  Host h = x;
  h.dims = dims;
  return h;
}

/// A block of x, element c of the result from x's coordinates begin + c * step.
MaybeHost strided(const Host &x, const std::vector<int64_t> &begin,
                  const std::vector<int64_t> &step, const std::vector<int64_t> &dims) {
  auto out = make(x.dtype, dims);
  if (!out)
    return std::nullopt;
  std::vector<int64_t> strides = stridesOf(x.dims);
  for (int64_t k = 0; k < out->size(); ++k) {
    std::vector<int64_t> c = coordinates(k, dims);
    int64_t from = 0;
    for (size_t a = 0; a < c.size(); ++a)
      from += (begin[a] + c[a] * step[a]) * strides[a];
    out->copy(k, x, from);
  }
  return out;
}

/// The folding context: the node's known inputs and attributes.
class Folder {
public:
  explicit Folder(Translator &t) : t_(t) {}

  /// Evaluates the node; false when it cannot (the rule translates it).
  bool run() {
    const std::string &op = t_.node().op_type();
    for (int k = 0; k < t_.node().input_size(); ++k) {
      if (!t_.has(k)) {
        xs_.emplace_back();
        continue;
      }
      const graph::Tensor *known = t_.known(k);
      if (!known || t_.isTrainable(k))
        return false;
      auto h = fromKnown(*known);
      if (!h)
        return false;
      xs_.push_back(std::move(*h));
    }
    present_.resize(xs_.size());
    for (int k = 0; k < t_.node().input_size(); ++k)
      present_[k] = t_.has(k);
    if (xs_.empty() || !present_[0])
      return false;
    MaybeHost y = evaluate(op);
    if (!y)
      return false;
    t_.outKnown(0, toKnown(*y));
    return true;
  }

private:
  MaybeHost evaluate(const std::string &op) {
    const Host &x = xs_[0];
    if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div")
      return binary() ? arithmetic(op, x, xs_[1]) : std::nullopt;
    if (op == "Max" || op == "Min" || op == "Sum") {
      MaybeHost acc = x;
      for (size_t j = 1; j < xs_.size() && acc; ++j)
        acc = present_[j] ? arithmetic(op, *acc, xs_[j]) : std::nullopt;
      return acc;
    }
    if (op == "Equal" || op == "Less" || op == "Greater")
      return binary() ? compare(op, x, xs_[1]) : std::nullopt;
    if (op == "Neg" || op == "Abs")
      return negOrAbs(op == "Neg");
    if (op == "Not")
      return x.dtype != graph::BOOL
                 ? std::nullopt
                 : elementwise({x}, graph::BOOL, [&](Host &o, int64_t k, const auto &at) {
                     o.i[k] = !x.i[at[0]];
                     return true;
                   });
    if (op == "Where")
      return where();
    if (op == "Identity")
      return x;
    if (op == "Cast")
      return castTo(x, fromOnnxType(static_cast<int32_t>(t_.intAttrOr("to", 0))));
    if (op == "CastLike")
      return binary() ? castTo(x, xs_[1].dtype) : std::nullopt;
    if (op == "Concat")
      return concat();
    if (op == "Slice")
      return slice();
    if (op == "Gather")
      return gather();
    if (op == "Squeeze" || op == "Unsqueeze")
      return squeeze(op == "Unsqueeze");
    if (op == "Reshape")
      return reshape();
    if (op == "Expand")
      return expand();
    if (op == "ReduceSum" || op == "ReduceProd" || op == "ReduceMax" || op == "ReduceMin")
      return reduce(op);
    return std::nullopt;
  }

  bool binary() const { return xs_.size() == 2 && present_[1]; }

  /// Input k as integers, if present and of an integer type.
  std::optional<std::vector<int64_t>> ints(size_t k) const {
    if (k >= xs_.size() || !present_[k] || xs_[k].isFloat() || xs_[k].dtype == graph::BOOL)
      return std::nullopt;
    return xs_[k].i;
  }

  std::optional<int64_t> axisIn(int64_t axis, int64_t rank) const {
    if (axis < -rank || axis >= rank)
      return std::nullopt;
    return axis < 0 ? axis + rank : axis;
  }

  MaybeHost negOrAbs(bool neg) {
    const Host &x = xs_[0];
    if (x.dtype == graph::BOOL)
      return std::nullopt;
    return elementwise({x}, x.dtype, [&](Host &o, int64_t k, const std::vector<int64_t> &at) {
      if (o.isFloat())
        o.f[k] = neg ? -x.f[at[0]] : std::fabs(x.f[at[0]]);
      else
        o.i[k] = roundInt(o.dtype, static_cast<int64_t>(neg || x.i[at[0]] < 0
                                                            ? 0 - static_cast<uint64_t>(x.i[at[0]])
                                                            : static_cast<uint64_t>(x.i[at[0]])));
      return true;
    });
  }

  /// x broadcast against the shape input both ways.
  MaybeHost expand() {
    const Host &x = xs_[0];
    auto shape = ints(1);
    auto dims = shape ? broadcast(x.dims, *shape) : std::nullopt;
    auto out = dims ? make(x.dtype, *dims) : std::nullopt;
    if (!out)
      return std::nullopt;
    for (int64_t k = 0; k < out->size(); ++k)
      out->copy(k, x, sourceIndex(coordinates(k, *dims), x.dims));
    return out;
  }

  MaybeHost where() {
    if (xs_.size() != 3 || !present_[1] || !present_[2] || xs_[0].dtype != graph::BOOL ||
        xs_[1].dtype != xs_[2].dtype)
      return std::nullopt;
    return elementwise(xs_, xs_[1].dtype, [&](Host &o, int64_t k, const std::vector<int64_t> &at) {
      if (xs_[0].i[at[0]])
        o.copy(k, xs_[1], at[1]);
      else
        o.copy(k, xs_[2], at[2]);
      return true;
    });
  }

  MaybeHost concat() {
    for (bool p : present_)
      if (!p)
        return std::nullopt;
    const Host &x = xs_[0];
    int64_t rank = static_cast<int64_t>(x.dims.size());
    auto axis = axisIn(t_.intAttrOr("axis", 0), rank);
    if (!axis)
      return std::nullopt;
    std::vector<int64_t> dims = x.dims;
    dims[*axis] = 0;
    for (const Host &h : xs_) {
      if (h.dtype != x.dtype || h.dims.size() != x.dims.size())
        return std::nullopt;
      for (int64_t a = 0; a < rank; ++a)
        if (a != *axis && h.dims[a] != x.dims[a])
          return std::nullopt;
      dims[*axis] += h.dims[*axis];
    }
    auto out = make(x.dtype, dims);
    if (!out)
      return std::nullopt;
    // Blocks of `inner` elements, each input's in turn for every outer index.
    int64_t outer = 1, inner = 1;
    for (int64_t a = 0; a < *axis; ++a)
      outer *= dims[a];
    for (int64_t a = *axis + 1; a < rank; ++a)
      inner *= dims[a];
    int64_t k = 0;
    for (int64_t o = 0; o < outer; ++o)
      for (const Host &h : xs_) {
        int64_t block = h.dims[*axis] * inner;
        for (int64_t e = 0; e < block; ++e)
          out->copy(k++, h, o * block + e);
      }
    return out;
  }

  MaybeHost slice() {
    const Host &x = xs_[0];
    int64_t rank = static_cast<int64_t>(x.dims.size());
    std::vector<int64_t> starts, ends, axes, steps;
    if (t_.opset() < 10) {
      starts = t_.intsAttr("starts").value_or(std::vector<int64_t>{});
      ends = t_.intsAttr("ends").value_or(std::vector<int64_t>{});
      axes = t_.intsAttr("axes").value_or(std::vector<int64_t>{});
    } else {
      auto s = ints(1), e = ints(2);
      if (!s || !e)
        return std::nullopt;
      starts = *s;
      ends = *e;
      if (auto a = ints(3))
        axes = *a;
      else if (xs_.size() > 3 && present_[3])
        return std::nullopt;
      if (auto st = ints(4))
        steps = *st;
      else if (xs_.size() > 4 && present_[4])
        return std::nullopt;
    }
    if (axes.empty())
      for (size_t k = 0; k < starts.size(); ++k)
        axes.push_back(static_cast<int64_t>(k));
    if (steps.empty())
      steps.assign(starts.size(), 1);
    if (ends.size() != starts.size() || axes.size() != starts.size() ||
        steps.size() != starts.size())
      return std::nullopt;
    std::vector<int64_t> begin(rank, 0), step(rank, 1), dims = x.dims;
    for (size_t k = 0; k < axes.size(); ++k) {
      auto axis = axisIn(axes[k], rank);
      if (!axis || steps[k] == 0)
        return std::nullopt;
      int64_t n = x.dims[*axis], s = steps[k];
      auto clamp = [&](int64_t v) {
        if (v < 0)
          v = v < -n ? -1 : v + n; // below the start: -1, clamped below
        return s > 0 ? std::clamp<int64_t>(v, 0, n) : std::clamp<int64_t>(v, -1, n - 1);
      };
      int64_t b = clamp(starts[k]), e = clamp(ends[k]);
      int64_t count = s > 0 ? (e - b + s - 1) / s : (b - e + (-s) - 1) / (-s);
      begin[*axis] = b;
      step[*axis] = s;
      dims[*axis] = std::max<int64_t>(count, 0);
    }
    return strided(x, begin, step, dims);
  }

  MaybeHost gather() {
    const Host &x = xs_[0];
    auto indices = ints(1);
    int64_t rank = static_cast<int64_t>(x.dims.size());
    auto axis = axisIn(t_.intAttrOr("axis", 0), rank);
    if (!indices || !axis)
      return std::nullopt;
    const std::vector<int64_t> &id = xs_[1].dims;
    std::vector<int64_t> dims(x.dims.begin(), x.dims.begin() + *axis);
    dims.insert(dims.end(), id.begin(), id.end());
    dims.insert(dims.end(), x.dims.begin() + *axis + 1, x.dims.end());
    auto out = make(x.dtype, dims);
    if (!out)
      return std::nullopt;
    int64_t n = x.dims[*axis];
    std::vector<int64_t> strides = stridesOf(x.dims);
    for (int64_t k = 0; k < out->size(); ++k) {
      std::vector<int64_t> c = coordinates(k, dims);
      int64_t flat = 0;
      for (size_t a = 0; a < id.size(); ++a)
        flat = flat * id[a] + c[*axis + a];
      int64_t index = (*indices)[flat];
      if (index < -n || index >= n)
        return std::nullopt;
      std::vector<int64_t> from(c.begin(), c.begin() + *axis);
      from.push_back(index < 0 ? index + n : index);
      from.insert(from.end(), c.begin() + *axis + id.size(), c.end());
      int64_t at = 0;
      for (int64_t a = 0; a < rank; ++a)
        at += from[a] * strides[a];
      out->copy(k, x, at);
    }
    return out;
  }

  MaybeHost squeeze(bool unsqueeze) {
    const Host &x = xs_[0];
    std::optional<std::vector<int64_t>> axes = t_.opset() < 13 ? t_.intsAttr("axes") : ints(1);
    if (t_.opset() >= 13 && xs_.size() > 1 && present_[1] && !axes)
      return std::nullopt;
    int64_t rank = static_cast<int64_t>(x.dims.size());
    if (unsqueeze) {
      if (!axes || axes->empty())
        return std::nullopt;
      int64_t outRank = rank + static_cast<int64_t>(axes->size());
      std::vector<bool> inserted(outRank, false);
      for (int64_t a : *axes) {
        auto at = axisIn(a, outRank);
        if (!at || inserted[*at])
          return std::nullopt;
        inserted[*at] = true;
      }
      std::vector<int64_t> dims;
      for (int64_t a = 0, from = 0; a < outRank; ++a)
        dims.push_back(inserted[a] ? 1 : x.dims[from++]);
      return withDims(x, dims);
    }
    std::vector<bool> drop(rank, false);
    if (!axes || axes->empty()) {
      for (int64_t a = 0; a < rank; ++a)
        drop[a] = x.dims[a] == 1;
    } else {
      for (int64_t a : *axes) {
        auto at = axisIn(a, rank);
        if (!at || x.dims[*at] != 1)
          return std::nullopt;
        drop[*at] = true;
      }
    }
    std::vector<int64_t> dims;
    for (int64_t a = 0; a < rank; ++a)
      if (!drop[a])
        dims.push_back(x.dims[a]);
    return withDims(x, dims);
  }

  MaybeHost reshape() {
    const Host &x = xs_[0];
    auto shape = ints(1);
    if (!shape)
      return std::nullopt;
    bool allowZero = t_.intAttrOr("allowzero", 0) != 0;
    int64_t known = 1, unknown = -1;
    for (size_t a = 0; a < shape->size(); ++a) {
      int64_t &d = (*shape)[a];
      if (d == 0 && !allowZero) {
        if (a >= x.dims.size())
          return std::nullopt;
        d = x.dims[a];
      }
      if (d == -1) {
        if (unknown >= 0)
          return std::nullopt;
        unknown = static_cast<int64_t>(a);
      } else if (d < 0) {
        return std::nullopt;
      } else {
        known *= d;
      }
    }
    if (unknown >= 0) {
      if (known == 0 || x.size() % known)
        return std::nullopt;
      (*shape)[unknown] = x.size() / known;
    }
    return withDims(x, *shape);
  }

  MaybeHost reduce(const std::string &op) {
    const Host &x = xs_[0];
    if (x.dtype == graph::BOOL)
      return std::nullopt;
    int64_t rank = static_cast<int64_t>(x.dims.size());
    bool axesInput = op == "ReduceSum" ? t_.opset() >= 13 : t_.opset() >= 18;
    std::optional<std::vector<int64_t>> axes = axesInput ? ints(1) : t_.intsAttr("axes");
    if (axesInput && xs_.size() > 1 && present_[1] && !axes)
      return std::nullopt;
    bool keep = t_.intAttrOr("keepdims", 1) != 0;
    if ((!axes || axes->empty()) && t_.intAttrOr("noop_with_empty_axes", 0))
      return x;
    std::vector<bool> reduced(rank, !axes || axes->empty());
    if (axes)
      for (int64_t a : *axes) {
        auto at = axisIn(a, rank);
        if (!at)
          return std::nullopt;
        reduced[*at] = true;
      }
    std::vector<int64_t> kept = x.dims, dims;
    for (int64_t a = 0; a < rank; ++a) {
      if (reduced[a])
        kept[a] = 1;
      if (!reduced[a] || keep)
        dims.push_back(kept[a]);
    }
    auto out = make(x.dtype, dims);
    if (!out)
      return std::nullopt;
    bool isMax = op == "ReduceMax", isMin = op == "ReduceMin", isProd = op == "ReduceProd";
    std::vector<bool> seen(out->size(), false);
    std::vector<double> fa(out->size(), isProd ? 1 : 0);
    std::vector<int64_t> ia(out->size(), isProd ? 1 : 0);
    for (int64_t k = 0; k < x.size(); ++k) {
      int64_t to = sourceIndex(coordinates(k, x.dims), kept);
      if (x.isFloat()) {
        double v = x.f[k];
        if ((isMax || isMin) && std::isnan(v))
          return std::nullopt;
        fa[to] = isMax    ? (seen[to] ? std::max(fa[to], v) : v)
                 : isMin  ? (seen[to] ? std::min(fa[to], v) : v)
                 : isProd ? fa[to] * v
                          : fa[to] + v;
      } else {
        int64_t v = x.i[k];
        ia[to] =
            isMax   ? (seen[to] ? std::max(ia[to], v) : v)
            : isMin ? (seen[to] ? std::min(ia[to], v) : v)
            : isProd
                ? static_cast<int64_t>(static_cast<uint64_t>(ia[to]) * static_cast<uint64_t>(v))
                : static_cast<int64_t>(static_cast<uint64_t>(ia[to]) + static_cast<uint64_t>(v));
      }
      seen[to] = true;
    }
    for (int64_t k = 0; k < out->size(); ++k) {
      if ((isMax || isMin) && !seen[k])
        return std::nullopt; // an empty reduction: ONNX gives +-inf or the type's limit
      if (out->isFloat())
        out->f[k] = roundFloat(out->dtype, fa[k]);
      else
        out->i[k] = roundInt(out->dtype, ia[k]);
    }
    return out;
  }

  Translator &t_;
  std::vector<Host> xs_;
  std::vector<bool> present_;
};

} // namespace

bool foldKnown(Translator &t) { return Folder(t).run(); }

} // namespace nncc::onnximport
