// Shared by the ops_*_test files, which check every nn op's compiled CPU code
// against a plain C++ reference: graph-text builders, seeded random inputs,
// NumPy-style reference kernels on doubles, and tolerant comparisons.
#ifndef NNCC_TEST_E2E_OPSTESTSUPPORT_H
#define NNCC_TEST_E2E_OPSTESTSUPPORT_H

#include "test/e2e/CompileAndRun.h"
#ifdef NNCC_OPS_ON_CUDA
#include "compiler/driver/Compiler.h"
#include "test/e2e/CudaHostEmulator.h"

#include <cctype>
#include <fstream>
#include <map>
#endif

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace nncc::test::ops {

using rt::DType;
using rt::Shape;
using rt::Tensor;
using rt::TensorMap;

//===----------------------------------------------------------------------===//
// Graph text
//===----------------------------------------------------------------------===//

/// A placeholder; a -1 in `shape` is an unknown dimension.
inline std::string placeholder(const std::string &name, const std::string &dtype,
                               const Shape &shape) {
  std::string s = "placeholders { name: \"" + name + "\" dtype: " + dtype + " shape {";
  for (int64_t d : shape)
    s += " dims: " + std::to_string(d);
  return s + " } }\n";
}

/// A node; `attrs` is a sequence of the *Attr() strings below.
inline std::string node(const std::string &name, const std::string &op,
                        const std::vector<std::string> &inputs, const std::string &attrs = "") {
  std::string s = "nodes { name: \"" + name + "\" op: \"" + op + "\"";
  for (const auto &in : inputs)
    s += " inputs: \"" + in + "\"";
  return s + " " + attrs + "}\n";
}

inline std::string intAttr(const std::string &key, int64_t v) {
  return "attrs { key: \"" + key + "\" value { i: " + std::to_string(v) + " } } ";
}
inline std::string intsAttr(const std::string &key, const std::vector<int64_t> &vs) {
  std::string s = "attrs { key: \"" + key + "\" value { ints {";
  for (int64_t v : vs)
    s += " val: " + std::to_string(v);
  return s + " } } } ";
}
inline std::string boolAttr(const std::string &key, bool v) {
  return "attrs { key: \"" + key + "\" value { b: " + (v ? "true" : "false") + " } } ";
}
inline std::string floatAttr(const std::string &key, float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
  return "attrs { key: \"" + key + "\" value { f: " + buf + " } } ";
}
inline std::string typeAttr(const std::string &key, const std::string &dtype) {
  return "attrs { key: \"" + key + "\" value { type: " + dtype + " } } ";
}

/// One signature "run" feeding `feeds` and fetching `fetches`.
inline std::string signature(const std::vector<std::string> &feeds,
                             const std::vector<std::string> &fetches) {
  std::string s = "signatures { name: \"run\"";
  for (const auto &f : feeds)
    s += " feeds: \"" + f + "\"";
  for (const auto &f : fetches)
    s += " fetches: \"" + f + "\"";
  return s + " }\n";
}

/// "F32" etc. as graph.proto spells the dtype.
inline const char *protoName(DType d) {
  switch (d) {
  case DType::F32:
    return "F32";
  case DType::F64:
    return "F64";
  case DType::I32:
    return "I32";
  case DType::I64:
    return "I64";
  case DType::Bool:
    return "BOOL";
  }
  return "?";
}

//===----------------------------------------------------------------------===//
// A compiled model with a session
//===----------------------------------------------------------------------===//

#ifdef NNCC_OPS_ON_CUDA
/// The same model compiled for the CUDA target and run on the host
/// (CudaHostEmulator): every run's fetches must be the CPU backend's, to
/// fp32 (1e-5 + 1e-4 relative: the kernels sum in another order) or fp64
/// (1e-12 + 1e-9 relative) tolerance, integers and booleans exactly.
class CudaMirror {
public:
  explicit CudaMirror(const std::string &pbtxt) {
    // NNCC_CUDA_CASES=DIR: write the model there instead (scripts/
    // gpu-bundle.sh compiles them for nncc-gpu-check on a GPU).
    if (const char *dir = std::getenv("NNCC_CUDA_CASES")) {
      const auto *test = ::testing::UnitTest::GetInstance()->current_test_info();
      static std::map<std::string, int> counts;
      std::string name = std::string(test->test_suite_name()) + "." + test->name();
      for (char &c : name)
        c = std::isalnum(static_cast<unsigned char>(c)) || c == '.' ? c : '_';
      name += "." + std::to_string(counts[name]++);
      std::ofstream(std::string(dir) + "/" + name + ".pbtxt") << pbtxt;
      return;
    }
    auto graph = parseGraphText(pbtxt, "model.pbtxt");
    if (!graph) {
      ADD_FAILURE() << llvm::toString(graph.takeError());
      return;
    }
    mlir::MLIRContext ctx;
    CompileOptions options;
    options.target = Target::Cuda;
    options.nvrtc = false;
    auto exe = compileModel(ctx, *graph, options);
    if (!exe) {
      ADD_FAILURE() << "the CUDA target: " << llvm::toString(exe.takeError());
      return;
    }
    exe_ = std::make_unique<exe::Executable>(std::move(*exe));
    host_ = std::make_unique<CudaHostEmulator>(*exe_);
    if (!host_->error().empty()) {
      ADD_FAILURE() << host_->error();
      host_.reset();
    }
  }

  /// Runs `signature` on `feeds` (and the variables of `session`) and
  /// compares its fetches with `cpu`, the CPU backend's.
  /// The variables `signature` reads, as `session` holds them now (before
  /// the CPU run, which may update them).
  std::vector<Tensor> variablesBefore(const std::string &signature, const rt::Session &session) {
    std::vector<Tensor> variables;
    if (!host_)
      return variables;
    for (const auto &s : exe_->signatures())
      if (s.name() == signature)
        for (const std::string &v : s.variables())
          variables.push_back(*session.variable(v));
    return variables;
  }

  void expectSame(const std::string &signature, const TensorMap &feeds, const TensorMap &cpu,
                  const std::vector<Tensor> &variables) {
    if (!host_)
      return;
    const exe::SignatureSpec *sig = nullptr;
    for (const auto &s : exe_->signatures())
      sig = s.name() == signature ? &s : sig;
    ASSERT_TRUE(sig) << signature;
    std::vector<Tensor> in;
    const Shape *flatShape = nullptr;
    for (const auto &spec : sig->feeds()) {
      const Tensor &t = feeds.at(spec.name());
      if (spec.flat())
        flatShape = &t.shape();
      in.push_back(spec.flat() ? Tensor::borrow(t.dtype(), {t.size()}, const_cast<void *>(t.data()))
                               : t);
    }
    auto got = host_->run(signature, in, variables);
    // The CUDA target sizes every unknown dimension as a multiple of one
    // batch size N (README, the CUDA target); feeds whose unknown
    // dimensions differ are refused, saying so.
    if (!got.ok() && got.error().find("every unknown dimension of the feeds is one batch size") !=
                         std::string::npos) {
      std::printf("[ CUDA     ] not run: %s\n", got.error().c_str());
      return;
    }
    ASSERT_TRUE(got.ok()) << "on the CUDA target: " << got.error();
    for (int i = 0; i < sig->fetches_size(); ++i) {
      const std::string &name = sig->fetches(i).name();
      const Tensor &want = cpu.at(name);
      Tensor t = (*got)[i];
      if (sig->fetches(i).flat() && flatShape)
        ASSERT_EQ(t.size(), want.size()) << name;
      else
        ASSERT_EQ(t.shape(), want.shape()) << "CUDA fetch " << name;
      ASSERT_EQ(t.dtype(), want.dtype()) << "CUDA fetch " << name;
      auto a = t.toDoubles(), b = want.toDoubles();
      bool f32 = want.dtype() == DType::F32, f64 = want.dtype() == DType::F64;
      for (size_t j = 0; j < a.size(); ++j) {
        if (std::isnan(b[j])) {
          EXPECT_TRUE(std::isnan(a[j])) << "CUDA fetch " << name << " element " << j;
          continue;
        }
        double tolerance = f32   ? 1e-5 + 1e-4 * std::abs(b[j])
                           : f64 ? 1e-12 + 1e-9 * std::abs(b[j])
                                 : 0;
        if (std::isinf(b[j]))
          EXPECT_EQ(a[j], b[j]) << "CUDA fetch " << name << " element " << j;
        else
          ASSERT_NEAR(a[j], b[j], tolerance) << "CUDA fetch " << name << " element " << j;
      }
    }
  }

private:
  std::unique_ptr<exe::Executable> exe_;
  std::unique_ptr<CudaHostEmulator> host_;
};
#endif

class Model {
public:
  explicit Model(const std::string &pbtxt) : exe_(compileText(pbtxt)) {
    if (!exe_)
      return;
    session_ = std::make_unique<rt::Session>(exe_);
    rt::Status s = session_->initialize();
    if (!s.ok()) {
      ADD_FAILURE() << s.message();
      session_.reset();
    }
#ifdef NNCC_OPS_ON_CUDA
    if (session_)
      cuda_ = std::make_unique<CudaMirror>(pbtxt);
#endif
  }
  bool ok() const { return session_ != nullptr; }

  /// Runs signature "run"; a failed run is a test failure and an empty map.
  /// Built with NNCC_OPS_ON_CUDA, the CUDA target must give the same.
  TensorMap run(const TensorMap &feeds) {
    if (!session_)
      return {};
#ifdef NNCC_OPS_ON_CUDA
    std::vector<Tensor> variables = cuda_->variablesBefore("run", *session_);
#endif
    auto out = session_->run("run", feeds);
    if (!out.ok()) {
      ADD_FAILURE() << "run failed: " << out.error();
      return {};
    }
#ifdef NNCC_OPS_ON_CUDA
    cuda_->expectSame("run", feeds, *out, variables);
#endif
    return out.take();
  }

private:
  std::shared_ptr<rt::Executable> exe_;
  std::unique_ptr<rt::Session> session_;
#ifdef NNCC_OPS_ON_CUDA
  std::unique_ptr<CudaMirror> cuda_;
#endif
};

//===----------------------------------------------------------------------===//
// Reference arrays
//===----------------------------------------------------------------------===//

/// A row-major array of doubles: inputs (exactly representable in the dtype
/// they are fed as) and the expected results.
struct Array {
  Shape shape;
  std::vector<double> values;
  size_t size() const { return values.size(); }
};

inline int64_t count(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// Uniform in [lo, hi): rounded to f32 for F32, to integers for integer
/// dtypes (then [lo, hi] inclusive), 0/1 for Bool.
inline Array randomArray(const Shape &shape, DType dtype, double lo, double hi, std::mt19937 &rng) {
  Array a{shape, std::vector<double>(count(shape))};
  std::uniform_real_distribution<double> real(lo, hi);
  std::uniform_int_distribution<int64_t> integer(static_cast<int64_t>(lo),
                                                 static_cast<int64_t>(hi));
  for (double &v : a.values) {
    switch (dtype) {
    case DType::F32:
      v = static_cast<float>(real(rng));
      break;
    case DType::F64:
      v = real(rng);
      break;
    case DType::I32:
    case DType::I64:
      v = static_cast<double>(integer(rng));
      break;
    case DType::Bool:
      v = static_cast<double>(rng() & 1);
      break;
    }
  }
  return a;
}

/// The array as a runtime tensor of `dtype`.
inline Tensor tensor(const Array &a, DType dtype) {
  Tensor t(dtype, a.shape);
  for (size_t i = 0; i < a.size(); ++i) {
    double v = a.values[i];
    switch (dtype) {
    case DType::F32:
      t.data<float>()[i] = static_cast<float>(v);
      break;
    case DType::F64:
      t.data<double>()[i] = v;
      break;
    case DType::I32:
      t.data<int32_t>()[i] = static_cast<int32_t>(v);
      break;
    case DType::I64:
      t.data<int64_t>()[i] = static_cast<int64_t>(v);
      break;
    case DType::Bool:
      t.data<bool>()[i] = v != 0;
      break;
    }
  }
  return t;
}

/// Row-major strides of `shape`.
inline std::vector<int64_t> strides(const Shape &shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/// The multi-index of flat position `flat` in `shape`.
inline std::vector<int64_t> unravel(int64_t flat, const Shape &shape) {
  std::vector<int64_t> idx(shape.size());
  for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; --i) {
    idx[i] = shape[i] ? flat % shape[i] : 0;
    flat = shape[i] ? flat / shape[i] : 0;
  }
  return idx;
}

/// The flat position in `shape` of the right-aligned `idx` of a bigger
/// (broadcast) shape; size-1 dimensions stretch.
inline int64_t broadcastOffset(const std::vector<int64_t> &idx, const Shape &shape) {
  size_t offset = idx.size() - shape.size();
  std::vector<int64_t> st = strides(shape);
  int64_t flat = 0;
  for (size_t j = 0; j < shape.size(); ++j)
    flat += (shape[j] == 1 ? 0 : idx[j + offset]) * st[j];
  return flat;
}

/// NumPy's broadcast shape (the test inputs always broadcast).
inline Shape broadcastShape(const Shape &a, const Shape &b) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t x = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t y = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    out[i] = x == 1 ? y : x;
  }
  return out;
}

inline Array binary(const Array &a, const Array &b,
                    const std::function<double(double, double)> &fn) {
  Array r{broadcastShape(a.shape, b.shape), {}};
  for (int64_t i = 0, n = count(r.shape); i < n; ++i) {
    auto idx = unravel(i, r.shape);
    r.values.push_back(
        fn(a.values[broadcastOffset(idx, a.shape)], b.values[broadcastOffset(idx, b.shape)]));
  }
  return r;
}

inline Array unary(const Array &a, const std::function<double(double)> &fn) {
  Array r{a.shape, {}};
  for (double v : a.values)
    r.values.push_back(fn(v));
  return r;
}

/// Folds `x` over `axes` (normalized, any order; empty = all) with `fn`
/// starting from `init`; keep_dims leaves 1s in their place.
inline Array reduce(const Array &x, std::vector<int64_t> axes, bool keepDims, double init,
                    const std::function<double(double, double)> &fn) {
  int64_t rank = static_cast<int64_t>(x.shape.size());
  if (axes.empty())
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  for (int64_t &a : axes)
    a = a < 0 ? a + rank : a;
  auto reduced = [&](int64_t i) { return std::find(axes.begin(), axes.end(), i) != axes.end(); };
  Shape kept; // x's shape with 1 on reduced axes
  Shape out;
  for (int64_t i = 0; i < rank; ++i) {
    kept.push_back(reduced(i) ? 1 : x.shape[i]);
    if (!reduced(i) || keepDims)
      out.push_back(kept.back());
  }
  Array r{out, std::vector<double>(count(kept), init)};
  std::vector<int64_t> st = strides(kept);
  for (int64_t i = 0; i < static_cast<int64_t>(x.size()); ++i) {
    auto idx = unravel(i, x.shape);
    int64_t o = 0;
    for (int64_t d = 0; d < rank; ++d)
      o += (reduced(d) ? 0 : idx[d]) * st[d];
    r.values[o] = fn(r.values[o], x.values[i]);
  }
  return r;
}

/// The element count over `axes` (empty = all) of `shape`.
inline double countOver(const Shape &shape, std::vector<int64_t> axes) {
  if (axes.empty())
    return static_cast<double>(count(shape));
  double n = 1;
  for (int64_t a : axes)
    n *= static_cast<double>(shape[a < 0 ? a + shape.size() : a]);
  return n;
}

/// NumPy's matmul with optional transposes of the last two dimensions.
inline Array matmul(const Array &a, const Array &b, bool ta = false, bool tb = false) {
  size_t ra = a.shape.size(), rb = b.shape.size();
  int64_t m = ta ? a.shape[ra - 1] : a.shape[ra - 2];
  int64_t k = ta ? a.shape[ra - 2] : a.shape[ra - 1];
  int64_t n = tb ? b.shape[rb - 2] : b.shape[rb - 1];
  Shape batchA(a.shape.begin(), a.shape.end() - 2);
  Shape batchB(b.shape.begin(), b.shape.end() - 2);
  Shape batch = broadcastShape(batchA, batchB);
  Shape out = batch;
  out.push_back(m);
  out.push_back(n);
  Array r{out, {}};
  int64_t matA = a.shape[ra - 2] * a.shape[ra - 1];
  int64_t matB = b.shape[rb - 2] * b.shape[rb - 1];
  for (int64_t bi = 0, nb = count(batch); bi < nb; ++bi) {
    auto idx = unravel(bi, batch);
    const double *pa = a.values.data() + broadcastOffset(idx, batchA) * matA;
    const double *pb = b.values.data() + broadcastOffset(idx, batchB) * matB;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t l = 0; l < k; ++l)
          s += (ta ? pa[l * m + i] : pa[i * k + l]) * (tb ? pb[j * k + l] : pb[l * n + j]);
        r.values.push_back(s);
      }
  }
  return r;
}

/// softmax (or log_softmax) of `x` along `axis`.
/// 2-D convolution as TensorFlow's: x [N, H, W, C], filter [KH, KW, C, F],
/// strides and dilations [rows, columns], "SAME" (out = ceil(in / stride),
/// the odd padding after) or "VALID".
inline Array conv2d(const Array &x, const Array &f, const std::vector<int64_t> &strides,
                    const std::string &padding, const std::vector<int64_t> &dilations) {
  int64_t n = x.shape[0], in[2] = {x.shape[1], x.shape[2]}, c = x.shape[3];
  int64_t k[2] = {f.shape[0], f.shape[1]}, fo = f.shape[3];
  int64_t out[2], before[2];
  for (int i = 0; i < 2; ++i) {
    int64_t span = (k[i] - 1) * dilations[i] + 1;
    out[i] =
        padding == "SAME" ? (in[i] + strides[i] - 1) / strides[i] : (in[i] - span) / strides[i] + 1;
    int64_t total = std::max<int64_t>((out[i] - 1) * strides[i] + span - in[i], 0);
    before[i] = padding == "SAME" ? total / 2 : 0;
  }
  Array y{{n, out[0], out[1], fo}, std::vector<double>(n * out[0] * out[1] * fo, 0.0)};
  for (int64_t b = 0; b < n; ++b)
    for (int64_t oh = 0; oh < out[0]; ++oh)
      for (int64_t ow = 0; ow < out[1]; ++ow)
        for (int64_t o = 0; o < fo; ++o) {
          double sum = 0;
          for (int64_t kh = 0; kh < k[0]; ++kh)
            for (int64_t kw = 0; kw < k[1]; ++kw) {
              int64_t h = oh * strides[0] + kh * dilations[0] - before[0];
              int64_t w = ow * strides[1] + kw * dilations[1] - before[1];
              if (h < 0 || h >= in[0] || w < 0 || w >= in[1])
                continue;
              for (int64_t ci = 0; ci < c; ++ci)
                sum += x.values[((b * in[0] + h) * in[1] + w) * c + ci] *
                       f.values[((kh * k[1] + kw) * c + ci) * fo + o];
            }
          y.values[((b * out[0] + oh) * out[1] + ow) * fo + o] = sum;
        }
  return y;
}

/// max_pool or avg_pool as TensorFlow's (the padding never in a window).
inline Array pool(const Array &x, const std::vector<int64_t> &ksize,
                  const std::vector<int64_t> &strides, const std::string &padding, bool max) {
  int64_t n = x.shape[0], in[2] = {x.shape[1], x.shape[2]}, c = x.shape[3];
  int64_t out[2], before[2];
  for (int i = 0; i < 2; ++i) {
    out[i] = padding == "SAME" ? (in[i] + strides[i] - 1) / strides[i]
                               : (in[i] - ksize[i]) / strides[i] + 1;
    int64_t total = std::max<int64_t>((out[i] - 1) * strides[i] + ksize[i] - in[i], 0);
    before[i] = padding == "SAME" ? total / 2 : 0;
  }
  Array y{{n, out[0], out[1], c}, std::vector<double>(n * out[0] * out[1] * c, 0.0)};
  for (int64_t b = 0; b < n; ++b)
    for (int64_t oh = 0; oh < out[0]; ++oh)
      for (int64_t ow = 0; ow < out[1]; ++ow)
        for (int64_t ch = 0; ch < c; ++ch) {
          double acc = max ? -INFINITY : 0;
          int64_t count = 0;
          for (int64_t kh = 0; kh < ksize[0]; ++kh)
            for (int64_t kw = 0; kw < ksize[1]; ++kw) {
              int64_t h = oh * strides[0] + kh - before[0], w = ow * strides[1] + kw - before[1];
              if (h < 0 || h >= in[0] || w < 0 || w >= in[1])
                continue;
              double v = x.values[((b * in[0] + h) * in[1] + w) * c + ch];
              acc = max ? std::max(acc, v) : acc + v;
              ++count;
            }
          y.values[((b * out[0] + oh) * out[1] + ow) * c + ch] = max ? acc : acc / count;
        }
  return y;
}

inline Array softmax(const Array &x, int64_t axis, bool log) {
  int64_t rank = static_cast<int64_t>(x.shape.size());
  axis = axis < 0 ? axis + rank : axis;
  Array max = reduce(x, {axis}, true, -INFINITY, [](double a, double b) { return std::max(a, b); });
  Array shifted = binary(x, max, [](double a, double m) { return a - m; });
  Array sum = reduce(unary(shifted, [](double v) { return std::exp(v); }), {axis}, true, 0,
                     [](double a, double b) { return a + b; });
  return binary(shifted, sum,
                [log](double s, double z) { return log ? s - std::log(z) : std::exp(s) / z; });
}

//===----------------------------------------------------------------------===//
// Comparisons
//===----------------------------------------------------------------------===//

/// Checks dtype, shape and every value of `got` against `want`:
/// |got - want| <= atol + rtol * |want|; NaN matches NaN, inf its own sign.
inline void expectClose(const TensorMap &out, const std::string &name, DType dtype,
                        const Array &want, double rtol = 0, double atol = 0) {
  auto it = out.find(name);
  ASSERT_NE(it, out.end()) << "no fetch '" << name << "'";
  const Tensor &got = it->second;
  EXPECT_EQ(rt::dtypeName(got.dtype()), std::string(rt::dtypeName(dtype)))
      << "dtype of '" << name << "'";
  ASSERT_EQ(rt::shapeString(got.shape()), rt::shapeString(want.shape))
      << "shape of '" << name << "'";
  std::vector<double> values = got.toDoubles();
  ASSERT_EQ(values.size(), want.size());
  int reported = 0;
  for (size_t i = 0; i < values.size() && reported < 10; ++i) {
    double g = values[i], w = want.values[i];
    bool same = std::isnan(w)   ? std::isnan(g)
                : std::isinf(w) ? g == w
                                : std::fabs(g - w) <= atol + rtol * std::fabs(w);
    if (!same) {
      ++reported;
      ADD_FAILURE() << "'" << name << "' element " << i << " (of shape "
                    << rt::shapeString(want.shape) << "): got " << g << ", want " << w << " (rtol "
                    << rtol << ", atol " << atol << ")";
    }
  }
}

/// Exact comparison (integers, booleans, data movement).
inline void expectEqual(const TensorMap &out, const std::string &name, DType dtype,
                        const Array &want) {
  expectClose(out, name, dtype, want, 0, 0);
}

} // namespace nncc::test::ops

#endif
