// Test helpers for the CUDA target on the host emulator: compile a graph
// for CUDA (optionally through NVRTC), random feeds, and the comparison of
// a CUDA result with the CPU's within the precision's tolerance.
#ifndef NNCC_TEST_E2E_CUDACOMPARE_H
#define NNCC_TEST_E2E_CUDACOMPARE_H

#include "compiler/cuda/CudaEmitter.h"
#include "compiler/driver/Compiler.h"
#include "runtime/Tensor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

namespace nncc::test {

/// `graph` compiled for the CUDA target in `precision`; with `nvrtc`, its
/// kernels compiled by NVRTC too, for `arch` (the default one when empty).
inline exe::Executable compileCuda(const LoadedGraph &graph,
                                   cuda::Precision precision = cuda::Precision::FP32,
                                   bool nvrtc = false, const std::string &arch = "") {
  mlir::MLIRContext ctx;
  CompileOptions options;
  options.target = Target::Cuda;
  options.nvrtc = nvrtc;
  if (!arch.empty())
    options.cudaArch = arch;
  options.cudaPrecision = precision;
  auto exe = compileModel(ctx, graph, options);
  if (!exe) {
    ADD_FAILURE() << llvm::toString(exe.takeError());
    return {};
  }
  return *exe;
}

/// Uniform in [-2, 2).
inline rt::Tensor random(rt::DType dtype, const rt::Shape &shape, std::mt19937 &rng) {
  rt::Tensor t(dtype, shape);
  std::uniform_real_distribution<double> u(-2, 2);
  for (int64_t i = 0; i < t.size(); ++i)
    dtype == rt::DType::F64 ? void(t.data<double>()[i] = u(rng))
                            : void(t.data<float>()[i] = static_cast<float>(u(rng)));
  return t;
}

/// |cuda - cpu| <= abs + rel * |cpu| + scale * max|cpu|: the sums run in
/// another order than the CPU's; the tensor cores keep 10 (TF32) or 7
/// (BF16) bits of each operand, so an element near zero of a sum of large
/// products keeps their rounding (the largest magnitude scales that part).
struct Tolerance {
  double abs, rel, scale;
};

inline Tolerance toleranceOf(cuda::Precision p, bool f64) {
  if (f64)
    return {1e-12, 1e-10, 1e-13};
  return p == cuda::Precision::TF32   ? Tolerance{2e-3, 2e-3, 2e-3}
         : p == cuda::Precision::BF16 ? Tolerance{2e-2, 2e-2, 2e-2}
                                      : Tolerance{1e-5, 1e-4, 1e-6};
}

inline void expectClose(const rt::Tensor &cuda, const rt::Tensor &cpu, const std::string &what,
                        Tolerance t) {
  ASSERT_EQ(cuda.shape(), cpu.shape()) << what;
  auto a = cuda.toDoubles(), b = cpu.toDoubles();
  double largest = 0;
  for (double x : b)
    largest = std::max(largest, std::abs(x));
  ASSERT_GT(largest, 0) << what << " is all zeros: nothing compared";
  for (size_t i = 0; i < a.size(); ++i)
    ASSERT_NEAR(a[i], b[i], t.abs + t.rel * std::abs(b[i]) + t.scale * largest)
        << what << " element " << i;
}

/// A model of products with an epilogue: y = relu(x.w + b), dw = x^T.dy and
/// dx = dy.w^T for x [N, K], w [K, C] of `dtype` (graph.proto's name), in
/// one signature "run": every layout of a product's operands.
inline LoadedGraph productGraph(int64_t k, int64_t c, const std::string &dtype = "F32") {
  std::string text = R"pb(
    placeholders { name: "x" dtype: DT shape { dims: -1 dims: KK } }
    placeholders { name: "w" dtype: DT shape { dims: KK dims: CC } }
    placeholders { name: "b" dtype: DT shape { dims: CC } }
    placeholders { name: "dy" dtype: DT shape { dims: -1 dims: CC } }
    nodes { name: "xw" op: "matmul" inputs: "x" inputs: "w" }
    nodes { name: "z" op: "add" inputs: "xw" inputs: "b" }
    nodes { name: "y" op: "relu" inputs: "z" }
    nodes { name: "dw" op: "matmul" inputs: "x" inputs: "dy"
            attrs { key: "transpose_a" value { b: true } } }
    nodes { name: "dx" op: "matmul" inputs: "dy" inputs: "w"
            attrs { key: "transpose_b" value { b: true } } }
    signatures { name: "run" feeds: "x" feeds: "w" feeds: "b" feeds: "dy"
                 fetches: "y" fetches: "dw" fetches: "dx" }
  )pb";
  for (auto [key, value] :
       {std::pair{"DT", dtype}, {"KK", std::to_string(k)}, {"CC", std::to_string(c)}})
    for (size_t at; (at = text.find(key)) != std::string::npos;)
      text.replace(at, 2, value);
  auto graph = parseGraphText(text, "products.pbtxt");
  if (!graph) {
    ADD_FAILURE() << llvm::toString(graph.takeError());
    return LoadedGraph();
  }
  return std::move(*graph);
}

} // namespace nncc::test

#endif
