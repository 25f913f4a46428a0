// nncc-gpu-check: runs CUDA executables on a GPU against the CPU backend's
// results, with the thin runtime alone (no compiler), so that it travels to
// a GPU machine with its .nnx files (scripts/gpu-bundle.sh).
//   nncc-gpu-check --expect DIR   (here) for each DIR/<model>.cpu.nnx: random
//       feeds, five runs of every signature, the results as .npy files
//   nncc-gpu-check [--summary] DIR (on the GPU) each DIR/<model>.cuda.nnx on
//       the same feeds, compared with those results; the time of a run
//       (--summary: only the failures and the count)
#include "runtime/Npy.h"
#include "runtime/Session.h"
#include "runtime/cuda/CudaModule.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <dirent.h>
#include <random>
#include <string>
#include <vector>

using namespace nncc::rt;

namespace {

/// Floats in [-2, 2), integers (labels, divisors) 1 or 2: never a
/// division by zero in the op cases.
Tensor randomFeed(const nncc::exe::TensorSpec &spec, int64_t n, std::mt19937 &rng) {
  Shape shape;
  if (spec.flat())
    shape = {n};
  for (int64_t d : spec.dims())
    shape.push_back(d < 0 ? n : d);
  Tensor t(toDType(spec.dtype()), shape);
  std::uniform_real_distribution<float> real(-2, 2);
  for (int64_t i = 0; i < t.size(); ++i) {
    switch (t.dtype()) {
    case DType::F32:
      t.data<float>()[i] = real(rng);
      break;
    case DType::F64:
      t.data<double>()[i] = real(rng);
      break;
    case DType::I32:
      t.data<int32_t>()[i] = static_cast<int32_t>(1 + rng() % 2);
      break;
    case DType::I64:
      t.data<int64_t>()[i] = static_cast<int64_t>(1 + rng() % 2);
      break;
    case DType::Bool:
      t.data<bool>()[i] = rng() % 2;
      break;
    }
  }
  return t;
}

std::vector<std::string> models(const std::string &dir, const std::string &suffix) {
  std::vector<std::string> out;
  if (DIR *d = opendir(dir.c_str())) {
    while (dirent *e = readdir(d)) {
      std::string name = e->d_name;
      if (name.size() > suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
        out.push_back(name.substr(0, name.size() - suffix.size()));
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// The results of five runs of every signature, named <model>.<sig>.<step>.<name>.npy,
/// with the feeds <model>.<sig>.feed.<name>.npy.
int run(const std::string &dir, bool expect, bool summary) {
  int failures = 0, compared = 0;
  for (const std::string &model : models(dir, expect ? ".cpu.nnx" : ".cuda.nnx")) {
    auto exe = Executable::load(dir + "/" + model + (expect ? ".cpu.nnx" : ".cuda.nnx"));
    if (!exe) {
      std::printf("%s: FAILED to load: %s\n", model.c_str(), exe.error().c_str());
      ++failures;
      continue;
    }
    std::mt19937 rng(7);
    for (const nncc::exe::SignatureSpec &sig : (*exe)->proto().signatures()) {
      std::string stem = dir + "/" + model + "." + sig.name();
      Session session(*exe);
      if (!session.initialize().ok())
        return 1;
      TensorMap feeds;
      for (const auto &spec : sig.feeds()) {
        std::string path = stem + ".feed." + spec.name() + ".npy";
        if (expect) {
          feeds[spec.name()] = randomFeed(spec, 5, rng);
          writeNpy(path, feeds[spec.name()]);
        } else {
          auto t = readNpy(path);
          if (!t) {
            std::printf("%s: %s\n", model.c_str(), t.error().c_str());
            return 1;
          }
          feeds[spec.name()] = *t;
        }
      }
      // Five runs: a training signature's third and fourth capture its two
      // CUDA graphs (the variables alternate between two sets of buffers),
      // the fifth replays the first.
      for (int step = 0; step < 5; ++step) {
        auto start = std::chrono::steady_clock::now();
        auto out = session.run(sig.name(), feeds);
        double us =
            std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                .count();
        if (!out) {
          std::printf("%s %s step %d: FAILED: %s\n", model.c_str(), sig.name().c_str(), step,
                      out.error().c_str());
          ++failures;
          break;
        }
        TensorMap results = *out;
        for (const std::string &u : sig.updates())
          results["update." + u] = *session.variable(u);
        for (auto &[name, t] : results) {
          std::string file = name;
          for (char &c : file)
            c = c == '/' ? '_' : c;
          std::string path = stem + "." + std::to_string(step) + "." + file + ".npy";
          if (expect) {
            writeNpy(path, t);
            continue;
          }
          auto want = readNpy(path);
          if (!want || want->shape() != t.shape()) {
            std::printf("%s %s step %d %s: FAILED: %s\n", model.c_str(), sig.name().c_str(), step,
                        name.c_str(), want ? "shape differs" : want.error().c_str());
            ++failures;
            continue;
          }
          auto a = t.toDoubles(), b = want->toDoubles();
          // An element near zero in a tensor of large values keeps the
          // rounding of the large terms that cancelled in it, which the GPU
          // adds in another order (a product's split contraction): it is
          // allowed 1e-5 of the tensor's largest magnitude.
          double largest = 0;
          for (double x : b)
            largest = std::isfinite(x) ? std::max(largest, std::abs(x)) : largest;
          double worst = 0;
          bool ok = true;
          // Products on the tensor cores keep 10 (TF32) or 7 (BF16) bits of
          // each operand (test/e2e/CudaCompare.h's tolerances).
          const std::string &precision = (*exe)->proto().cuda().precision();
          double tolerance = precision == "tf32" ? 2e-3 : precision == "bf16" ? 2e-2 : 0;
          for (size_t i = 0; i < a.size(); ++i) {
            // NaN where the CPU has NaN, the same infinity where it has one.
            if (std::isnan(b[i]) || std::isinf(b[i])) {
              ok &= std::isnan(b[i]) ? std::isnan(a[i]) : a[i] == b[i];
              continue;
            }
            double d = std::abs(a[i] - b[i]);
            worst = std::max(worst, std::isnan(d) ? INFINITY : d);
            ok &= tolerance ? d <= tolerance * (1 + std::abs(b[i]) + largest)
                            : d <= 1e-5 + 1e-4 * std::abs(b[i]) + 1e-5 * largest;
          }
          failures += !ok;
          ++compared;
          if (summary && ok)
            continue;
          std::printf("%s %s step %d %s: max |cuda - cpu| %.3g %s (%.0f us)\n", model.c_str(),
                      sig.name().c_str(), step, name.c_str(), worst, ok ? "ok" : "FAILED", us);
        }
      }
    }
  }
  if (!expect)
    std::printf("%s: %d results compared with the CPU's, %d FAILED\n", dir.c_str(), compared,
                failures);
  return failures ? 1 : 0;
}

} // namespace

int main(int argc, char **argv) {
  bool expect = false, summary = false;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--expect")
      expect = true;
    else if (a == "--summary")
      summary = true;
    else if (dir.empty())
      dir = a;
    else
      dir.clear(), i = argc;
  }
  if (dir.empty()) {
    std::fprintf(stderr, "usage: nncc-gpu-check [--expect] [--summary] DIR\n"
                         "  --summary: print only the failures and the count\n");
    return 2;
  }
  if (!expect) {
    if (Status s = cuda::cudaAvailable(); !s.ok()) {
      std::printf("no GPU: %s\n", s.message().c_str());
      return 1;
    }
    std::printf("device: %s\n", cuda::cudaDeviceName().c_str());
  }
  return run(dir, expect, summary);
}
