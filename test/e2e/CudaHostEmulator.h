// Test helper: runs a CUDA program (proto/executable.proto: CudaProgram) on
// the host. The generated kernels are plain C++ apart from a few CUDA
// names, and each covers its output with a grid-stride loop, so compiled
// by the host compiler with a small shim and called as one thread of one
// block, each computes everything a launch on a GPU would. This checks the
// CUDA target's kernels and launch plans against the CPU backend without a
// GPU; on a GPU the same plans run through the driver.
#ifndef NNCC_TEST_E2E_CUDAHOSTEMULATOR_H
#define NNCC_TEST_E2E_CUDAHOSTEMULATOR_H

#include "proto/executable.pb.h"
#include "runtime/Session.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <dlfcn.h>
#include <fstream>
#include <map>
#include <string>
#include <unistd.h>

namespace nncc::test {

constexpr const char *kCudaHostShim = R"(
#include <math.h>
#include <string.h>
#define __global__
#define __device__
struct nncc_dim3 { unsigned x, y, z; };
static const nncc_dim3 blockIdx = {0, 0, 0}, threadIdx = {0, 0, 0};
static const nncc_dim3 blockDim = {1, 1, 1}, gridDim = {1, 1, 1};
static inline float __int_as_float(unsigned u) { float f; memcpy(&f, &u, 4); return f; }
static inline double __longlong_as_double(long long u) { double d; memcpy(&d, &u, 8); return d; }
)";

class CudaHostEmulator {
public:
  /// Compiles the program's source for the host; empty error() on success.
  explicit CudaHostEmulator(const exe::Executable &exe) : exe_(exe) {
    std::string dir = ::testing::TempDir() + "/nncc-cuda-" + std::to_string(getpid()) + "-" +
                      std::to_string(counter()++);
    std::string source = dir + ".cpp", library = dir + ".so";
    std::ofstream(source) << kCudaHostShim << exe.cuda().source();
    std::string command = "c++ -std=c++17 -O1 -shared -fPIC -w -o " + library + " " + source +
                          " 2> " + dir + ".log";
    if (std::system(command.c_str()) != 0) {
      std::ifstream log(dir + ".log");
      error_ = "the host compiler rejected the CUDA source: " +
               std::string(std::istreambuf_iterator<char>(log), {});
      return;
    }
    handle_ = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle_)
      error_ = dlerror();
  }
  ~CudaHostEmulator() {
    if (handle_)
      dlclose(handle_);
  }
  const std::string &error() const { return error_; }

  /// Runs `signature` on `feeds` and `variables` (in the signature's
  /// orders); returns its fetches, then its updates.
  std::vector<rt::Tensor> run(const std::string &signature, const std::vector<rt::Tensor> &feeds,
                              const std::vector<rt::Tensor> &variables) {
    const exe::CudaProgram &p = exe_.cuda();
    const exe::CudaSignature *sig = nullptr;
    for (const auto &s : p.signatures())
      if (s.name() == signature)
        sig = &s;
    EXPECT_TRUE(sig) << signature;
    if (!sig)
      return {};
    // N: the feeds' unknown dimension.
    int64_t n = 1;
    for (int i = 0; i < sig->feeds_size(); ++i) {
      const exe::CudaBuffer &b = p.buffers(sig->feeds(i));
      for (int d = 0; d < b.dims_size(); ++d)
        if (b.dims(d) < 0)
          n = feeds[i].shape()[d] / -b.dims(d);
    }
    std::map<unsigned, rt::Tensor> buffers;
    auto bufferOf = [&](unsigned id) -> rt::Tensor & {
      auto it = buffers.find(id);
      if (it != buffers.end())
        return it->second;
      const exe::CudaBuffer &b = p.buffers(id);
      rt::Shape shape;
      for (int64_t d : b.dims())
        shape.push_back(d >= 0 ? d : -d * n);
      return buffers[id] = rt::Tensor(rt::toDType(b.dtype()), shape);
    };
    for (int i = 0; i < sig->feeds_size(); ++i)
      buffers[sig->feeds(i)] = feeds[i];
    for (int i = 0; i < sig->variables_size(); ++i)
      buffers[sig->variables(i)] = variables[i];
    struct Args {
      void *p[32];
      long long n;
    };
    for (const exe::CudaLaunch &launch : sig->launches()) {
      auto kernel = reinterpret_cast<void (*)(Args)>(dlsym(handle_, launch.kernel().c_str()));
      EXPECT_TRUE(kernel) << launch.kernel();
      if (!kernel)
        return {};
      Args args{};
      args.n = n;
      for (int i = 0; i < launch.args_size(); ++i)
        args.p[i] = bufferOf(launch.args(i)).data();
      kernel(args);
    }
    std::vector<rt::Tensor> out;
    for (unsigned id : sig->fetches())
      out.push_back(bufferOf(id).clone());
    for (unsigned id : sig->updates())
      out.push_back(bufferOf(id).clone());
    return out;
  }

private:
  static int &counter() {
    static int c = 0;
    return c;
  }
  const exe::Executable &exe_;
  void *handle_ = nullptr;
  std::string error_;
};

} // namespace nncc::test

#endif
