#include "runtime/Format.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <optional>

// The rules follow numpy's arrayprint.py (FloatingFormat, IntegerFormat,
// BoolFormat, _formatArray) with its default options, legacy=False.

namespace nncc::rt {

namespace {

/// A finite float as sign, decimal digits d0 d1 d2 ... and exponent:
/// value = d0.d1d2... x 10^exp.
struct Decimal {
  bool negative = false;
  std::string digits;
  int exp = 0;
};

Decimal parseScientific(const char *b, const char *e) {
  Decimal d;
  const char *p = b;
  if (*p == '-') {
    d.negative = true;
    ++p;
  }
  for (; p < e && *p != 'e'; ++p)
    if (*p != '.')
      d.digits += *p;
  if (p < e)
    std::from_chars(p + 1 + (p[1] == '+'), e, d.exp);
  return d;
}

/// The shortest digits that read back to `v` (in its own type).
template <typename T> Decimal shortest(T v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  return parseScientific(buf, r.ptr);
}

/// `v` rounded (exactly, as numpy's Dragon4 does) to `frac` digits after
/// the first significant one.
Decimal roundedScientific(double v, int frac) {
  char buf[512];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific, frac);
  return parseScientific(buf, r.ptr);
}

void trimZeros(std::string &digits, size_t keep) {
  while (digits.size() > keep && digits.back() == '0')
    digits.pop_back();
}

/// Positional digits: integer part (with sign) and fraction.
struct Positional {
  std::string intPart, frac;
};

template <typename T> Positional positional(T v, int precision, bool fixed) {
  Decimal d = shortest(v);
  int fracNeeded = std::max(0, static_cast<int>(d.digits.size()) - 1 - d.exp);
  if (fixed || fracNeeded > precision) {
    char buf[512];
    auto r = std::to_chars(buf, buf + sizeof buf, static_cast<double>(v), std::chars_format::fixed,
                           precision);
    std::string s(buf, r.ptr);
    size_t dot = s.find('.');
    Positional p{s.substr(0, dot), dot == std::string::npos ? "" : s.substr(dot + 1)};
    if (!fixed)
      trimZeros(p.frac, 0);
    return p;
  }
  Positional p;
  std::string &ds = d.digits;
  if (d.exp >= 0) {
    if (static_cast<int>(ds.size()) <= d.exp)
      ds.append(d.exp + 1 - ds.size(), '0');
    p.intPart = ds.substr(0, d.exp + 1);
    p.frac = ds.substr(d.exp + 1);
  } else {
    p.intPart = "0";
    p.frac = std::string(-d.exp - 1, '0') + ds;
  }
  trimZeros(p.frac, 0);
  if (d.negative)
    p.intPart = "-" + p.intPart;
  return p;
}

template <typename T> Decimal scientific(T v, int precision, bool fixed) {
  Decimal d = shortest(v);
  if (fixed || static_cast<int>(d.digits.size()) - 1 > precision) {
    d = roundedScientific(static_cast<double>(v), precision);
    if (!fixed)
      trimZeros(d.digits, 1);
  }
  return d;
}

std::string padLeft(const std::string &s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

std::string nonFinite(double v) { return std::isnan(v) ? "nan" : v < 0 ? "-inf" : "inf"; }

/// numpy's FloatingFormat: one layout (positional or scientific, paddings)
/// chosen from all printed values, then applied to each.
template <typename T> class FloatFormat {
public:
  FloatFormat(const std::vector<T> &values, const FormatOptions &o)
      : precision_(std::clamp(o.precision, 0, 100)), fixed_(o.fixed) {
    std::vector<T> finite;
    bool anyNonFinite = false, negInf = false;
    T maxAbs = 0, minAbs = 0;
    for (T v : values) {
      if (!std::isfinite(v)) {
        anyNonFinite = true;
        negInf |= std::isinf(v) && v < 0;
        continue;
      }
      finite.push_back(v);
      T a = std::fabs(v);
      if (a != 0) {
        maxAbs = maxAbs == 0 ? a : std::max(maxAbs, a);
        minAbs = minAbs == 0 ? a : std::min(minAbs, a);
      }
    }
    if (maxAbs != 0)
      exponential_ = maxAbs >= T(1e8) || minAbs < T(0.0001) || maxAbs / minAbs > T(1000);
    if (finite.empty()) {
      padLeft_ = padRight_ = 0;
    } else if (exponential_) {
      int frac = 0, expDigits = 2;
      for (T v : finite) {
        Decimal d = scientific(v, precision_, fixed_);
        frac = std::max(frac, static_cast<int>(d.digits.size()) - 1);
        expDigits = std::max(expDigits, static_cast<int>(std::to_string(std::abs(d.exp)).size()));
        padLeft_ = std::max(padLeft_, d.negative ? 2 : 1);
      }
      // Every value gets the same number of digits in scientific notation.
      precision_ = frac;
      expDigits_ = expDigits;
      padRight_ = expDigits + 2 + frac;
    } else {
      for (T v : finite) {
        Positional p = positional(v, precision_, fixed_);
        padLeft_ = std::max(padLeft_, static_cast<int>(p.intPart.size()));
        padRight_ = std::max(padRight_, static_cast<int>(p.frac.size()));
      }
    }
    if (anyNonFinite) {
      int offset = padRight_ + 1;
      padLeft_ = std::max({padLeft_, 3 - offset, 3 + (negInf ? 1 : 0) - offset});
    }
  }

  std::string operator()(T v) const {
    if (!std::isfinite(v))
      return padLeft(nonFinite(v), padLeft_ + padRight_ + 1);
    if (exponential_) {
      Decimal d = scientific(v, precision_, fixed_);
      // Like numpy's min_digits: more digits of the exact value, not zeros.
      if (static_cast<int>(d.digits.size()) - 1 < precision_)
        d = roundedScientific(static_cast<double>(v), precision_);
      std::string mantissa = d.digits.substr(1);
      std::string e = std::to_string(std::abs(d.exp));
      e = std::string(expDigits_ - e.size(), '0') + e;
      return padLeft(std::string(d.negative ? "-" : "") + d.digits[0], padLeft_) + "." + mantissa +
             "e" + (d.exp < 0 ? "-" : "+") + e;
    }
    Positional p = positional(v, precision_, fixed_);
    p.frac.append(padRight_ - p.frac.size(), ' ');
    return padLeft(p.intPart, padLeft_) + "." + p.frac;
  }

private:
  int precision_;
  bool fixed_;
  bool exponential_ = false;
  int padLeft_ = 0, padRight_ = 0, expDigits_ = 0;
};

/// numpy's str() of a float scalar: positional for 1e-4 <= |v| < 1e16
/// ("3.0", "2.7"), scientific otherwise ("1e-05"), always shortest.
template <typename T> std::string scalarString(T v) {
  if (!std::isfinite(v))
    return nonFinite(v);
  T a = std::fabs(v);
  if (a == 0 || (a >= T(1e-4) && a < T(1e16))) {
    Positional p = positional(v, 1000, false);
    return p.intPart + "." + (p.frac.empty() ? "0" : p.frac);
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  return std::string(buf, r.ptr);
}

/// numpy's _formatArray: nested brackets, rows on their own lines (blank
/// lines between higher axes), long rows wrapped, long axes summarized.
class Layout {
public:
  Layout(const Shape &shape, const FormatOptions &o, bool summarize,
         std::function<std::string(int64_t)> element)
      : shape_(shape), options_(o), summarize_(summarize), element_(std::move(element)) {
    strides_.assign(shape.size(), 1);
    for (size_t i = shape.size(); i-- > 1;)
      strides_[i - 1] = strides_[i] * shape[i];
  }

  /// The flat indices printed, in order.
  void shown(size_t axis, int64_t offset, std::vector<int64_t> &out) const {
    if (axis == shape_.size()) {
      out.push_back(offset);
      return;
    }
    for (int64_t i : indices(axis))
      shown(axis + 1, offset + i * strides_[axis], out);
  }

  std::string format(size_t axis, int64_t offset, const std::string &hang, int width) const {
    if (axis == shape_.size())
      return element_(offset);
    std::string nextHang = hang + " ";
    std::vector<int64_t> idx = indices(axis);
    bool summary = idx.size() < static_cast<size_t>(shape_[axis]);
    size_t edge = static_cast<size_t>(options_.edgeItems);
    std::string s;
    if (axis + 1 == shape_.size()) {
      int elemWidth = width - 1; // room for ']'
      std::string line = hang;
      for (size_t k = 0; k < idx.size(); ++k) {
        if (summary && k == edge) {
          extendLine(s, line, "...", elemWidth, hang);
          line += " ";
        }
        extendLine(s, line, format(axis + 1, offset + idx[k] * strides_[axis], nextHang, width - 1),
                   elemWidth, hang);
        if (k + 1 < idx.size())
          line += " ";
      }
      s += line;
    } else {
      std::string lineSep(shape_.size() - axis - 1, '\n');
      for (size_t k = 0; k < idx.size(); ++k) {
        if (summary && k == edge)
          s += hang + "..." + lineSep;
        s += hang + format(axis + 1, offset + idx[k] * strides_[axis], nextHang, width - 1);
        if (k + 1 < idx.size())
          s += lineSep;
      }
    }
    return "[" + s.substr(hang.size()) + "]";
  }

private:
  std::vector<int64_t> indices(size_t axis) const {
    int64_t n = shape_[axis], edge = options_.edgeItems;
    std::vector<int64_t> idx;
    for (int64_t i = 0; i < n; ++i)
      if (!summarize_ || 2 * edge >= n || i < edge || i >= n - edge)
        idx.push_back(i);
    return idx;
  }

  static void extendLine(std::string &s, std::string &line, const std::string &word, int width,
                         const std::string &hang) {
    bool wrap = static_cast<int>(line.size() + word.size()) > width && line.size() > hang.size();
    if (wrap) {
      size_t end = line.find_last_not_of(' ');
      s += line.substr(0, end == std::string::npos ? 0 : end + 1) + "\n";
      line = hang;
    }
    line += word;
  }

  const Shape &shape_;
  const FormatOptions &options_;
  bool summarize_;
  std::function<std::string(int64_t)> element_;
  std::vector<int64_t> strides_;
};

} // namespace

std::string formatArray(const Tensor &t, const FormatOptions &options) {
  if (t.rank() == 0) {
    switch (t.dtype()) {
    case DType::F32:
      return scalarString(t.data<float>()[0]);
    case DType::F64:
      return scalarString(t.data<double>()[0]);
    case DType::I32:
      return std::to_string(t.data<int32_t>()[0]);
    case DType::I64:
      return std::to_string(t.data<int64_t>()[0]);
    case DType::Bool:
      return t.data<bool>()[0] ? "True" : "False";
    }
  }
  if (t.size() == 0)
    return "[]";
  std::function<std::string(int64_t)> element;
  Layout layout(t.shape(), options, t.size() > options.threshold,
                [&](int64_t i) { return element(i); });
  std::vector<int64_t> shownIdx;
  layout.shown(0, 0, shownIdx);

  // Each format is fitted to the printed values only, as numpy does.
  std::optional<FloatFormat<float>> f32;
  std::optional<FloatFormat<double>> f64;
  switch (t.dtype()) {
  case DType::F32: {
    std::vector<float> v;
    for (int64_t i : shownIdx)
      v.push_back(t.data<float>()[i]);
    f32.emplace(v, options);
    element = [&](int64_t i) { return (*f32)(t.data<float>()[i]); };
    break;
  }
  case DType::F64: {
    std::vector<double> v;
    for (int64_t i : shownIdx)
      v.push_back(t.data<double>()[i]);
    f64.emplace(v, options);
    element = [&](int64_t i) { return (*f64)(t.data<double>()[i]); };
    break;
  }
  case DType::I32:
  case DType::I64: {
    auto at = [&t](int64_t i) {
      return t.dtype() == DType::I32 ? int64_t(t.data<int32_t>()[i]) : t.data<int64_t>()[i];
    };
    size_t width = 0;
    for (int64_t i : shownIdx)
      width = std::max(width, std::to_string(at(i)).size());
    element = [at, width](int64_t i) { return padLeft(std::to_string(at(i)), width); };
    break;
  }
  case DType::Bool:
    element = [&t](int64_t i) { return std::string(t.data<bool>()[i] ? " True" : "False"); };
    break;
  }
  return layout.format(0, 0, " ", options.lineWidth);
}

} // namespace nncc::rt
