// nncc-gpu-bench: nncc's side of the GPU benchmark, with the thin runtime
// alone (no compiler), so that it travels to a GPU machine with its .nnx
// files (scripts/gpu-bundle.sh; gpu-bench.sh there runs it beside PyTorch
// and JAX). Measures, through rt::Session on the CUDA device:
//   - the textbook MLP (784-50-50-10 tanh, SGD momentum 0.9, batch 64, 938
//     steps per epoch, the CPU bench's preprocessing and shuffling) trained
//     from its initial weights: ms per epoch (median after the first epoch)
//     and the test accuracy at the end (50 epochs unless told otherwise);
//   - inference of the 10000 test images in one batch, and batch 1, both
//     host to host (feeds are host tensors);
//   - the compute-bound MLP 784-4096-4096-4096-10 (ReLU, batch 4096): ms per
//     step and TFLOP/s (6 x params x batch), fp32 and TF32 where compiled;
//   - E7, the CNN chapter's network (models/cnn.cuda.nnx; TF32 where
//     compiled): ms per training step and per epoch of 938 steps (batch 64,
//     Adam), the epochs after the first, within a budget; the test accuracy
//     after them (bench/peers/cnn_torch.py trains it with PyTorch and cuDNN).
//   nncc-gpu-bench [--models DIR] [--data DIR] [--json out.json] [--epochs 50]
//                  [--quick] [--cpu (the CPU-compiled models: a check without a GPU)]
// With --kernels it measures instead where a run's time goes: each kernel
// of a training step of the textbook MLP, of its inference of the 10000
// test images and of a step of the compute-bound MLP, between CUDA events
// with graphs off (CudaModule's profile mode): the median per kernel, its
// grid, and the sum per run, as tables and as the JSON's "kernels" array.
// Without a CUDA driver or GPU it says so and exits 1.
#include "runtime/Session.h"
#include "runtime/cuda/CudaModule.h"
#include "runtime/data/Idx.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <numeric>
#include <random>
#include <sys/stat.h>
#include <vector>

using namespace nncc;
using Clock = std::chrono::steady_clock;

namespace {

double seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

/// Median, 10th and 90th percentile, as the peers' script computes them
/// (the sample at index floor(f * n) of the sorted list).
struct Stats {
  double median = 0, p10 = 0, p90 = 0, min = 0, max = 0;
};

Stats stats(std::vector<double> v) {
  Stats s;
  if (v.empty())
    return s;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  auto at = [&](double f) { return v[std::min(n - 1, static_cast<size_t>(f * n))]; };
  s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  s.p10 = at(0.1);
  s.p90 = at(0.9);
  s.min = v.front();
  s.max = v.back();
  return s;
}

/// One kernel of a run timed with --kernels: its launch's median over the
/// runs (each run launches the same kernels in the same order).
struct KernelRow {
  /// The run: "mlp_train", "mlp_infer_10000", "big_fp32_train", ...; its
  /// figures are "kernels_<part>_sum_us", ...
  std::string part;
  std::string kernel;
  rt::cuda::Grid grid;
  Stats us;
};

/// The figures, flat, written as one JSON object: gpu-bench.sh's table
/// (gpu_bench_table.py) reads them by name; --kernels adds the array
/// "kernels" of {part, kernel, us, us_p10, us_p90, grid_x, grid_y, threads}.
struct Report {
  std::map<std::string, double> numbers;
  std::map<std::string, std::string> notes;
  std::vector<KernelRow> kernels;
  int errors = 0;

  void fail(const std::string &key, const std::string &message) {
    fmt::print("error: {}: {}\n", key, message);
    notes[key + "_error"] = message;
    ++errors;
  }

  void write(const std::string &path) const {
    if (path.empty())
      return;
    // A temporary file renamed over the old one: a kill mid-write leaves
    // the previous figures whole.
    std::string tmp = path + ".tmp";
    std::ofstream out(tmp);
    auto number = [](double v) {
      return std::isfinite(v) ? fmt::format("{:.6g}", v) : std::string("null");
    };
    auto quoted = [](const std::string &v) {
      std::string q = "\"";
      for (char c : v) {
        if (c == '"' || c == '\\')
          q += {'\\', c};
        else if (static_cast<unsigned char>(c) < 0x20)
          q += fmt::format("\\u{:04x}", static_cast<int>(c));
        else
          q += c;
      }
      return q + '"';
    };
    out << "{";
    const char *sep = "";
    for (auto &[k, v] : numbers) {
      out << sep << quoted(k) << ": " << number(v);
      sep = ", ";
    }
    for (auto &[k, v] : notes) {
      out << sep << quoted(k) << ": " << quoted(v);
      sep = ", ";
    }
    if (!kernels.empty()) {
      out << sep << "\"kernels\": [";
      for (size_t i = 0; i < kernels.size(); ++i) {
        const KernelRow &k = kernels[i];
        out << (i ? ",\n  " : "\n  ") << "{\"part\": " << quoted(k.part)
            << ", \"kernel\": " << quoted(k.kernel) << ", \"us\": " << number(k.us.median)
            << ", \"us_p10\": " << number(k.us.p10) << ", \"us_p90\": " << number(k.us.p90)
            << ", \"grid_x\": " << k.grid.x << ", \"grid_y\": " << k.grid.y
            << ", \"threads\": " << k.grid.threads << "}";
      }
      out << "]";
    }
    out << "}\n";
    out.close();
    if (!out || std::rename(tmp.c_str(), path.c_str()) != 0)
      fmt::print(stderr, "error: cannot write {}\n", path);
  }
};

bool exists(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

/// Loads `path`, timing the load (the CUBIN's, or the driver's JIT of the
/// PTX where the GPU is not sm_90).
std::shared_ptr<rt::Executable> load(const std::string &path, const std::string &key, Report &r) {
  auto t0 = Clock::now();
  auto exe = rt::Executable::load(path);
  if (!exe) {
    r.fail(key, exe.error());
    return nullptr;
  }
  r.numbers[key + "_load_ms"] = seconds(t0) * 1e3;
  return *exe;
}

struct Options {
  std::string models = ".", data = "fashion-mnist", json;
  /// The models' target: "cuda", or "cpu" with --cpu.
  std::string target = "cuda";
  int epochs = 50, big_steps = 10, cnn_epochs = 3;
  double train_budget_s = 75, big_budget_s = 20, cnn_budget_s = 45;
  int infer_runs = 20, b1_runs = 1000;
  /// --kernels: untimed runs, then runs with each kernel timed (fewer of
  /// the compute-bound MLP's, ~0.1 s a step).
  int profile_warmup = 5, profile_runs = 20, profile_big_runs = 5;
};

/// The compute-bound MLP's batch: 4096 random images and labels.
void bigBatch(rt::Tensor &x, rt::Tensor &y) {
  const int64_t batch = 4096;
  x = rt::Tensor(rt::DType::F32, {batch, 784});
  y = rt::Tensor(rt::DType::I32, {batch});
  std::mt19937 rng(123);
  std::normal_distribution<float> normal;
  for (int64_t i = 0; i < x.size(); ++i)
    x.data<float>()[i] = normal(rng);
  for (int64_t i = 0; i < batch; ++i)
    y.data<int32_t>()[i] = static_cast<int32_t>(rng() % 10);
}

/// The variables after one epoch of single steps from the initial weights,
/// on the CPU bench's batches (seed 123): what the compiled loop's first
/// epoch must give.
rt::Expected<rt::TensorMap> oneEpochOfSingleSteps(const std::shared_ptr<rt::Executable> &exe,
                                                  const rt::data::Dataset &data) {
  rt::Session session(exe);
  if (rt::Status s = session.initialize(); !s.ok())
    return s;
  rt::data::BatchIterator batches(data.trainImages, data.trainLabels, 64, 123);
  batches.startEpoch();
  rt::Tensor xb, yb;
  while (batches.next(xb, yb))
    if (auto out = session.run("train", {{"x", xb}, {"y", yb}}, {"cost"}); !out)
      return out.status();
  rt::TensorMap weights;
  for (const auto &v : exe->proto().variables()) {
    auto t = session.variable(v.name());
    if (!t)
      return t.status();
    weights[v.name()] = *t;
  }
  return weights;
}

/// Sets (or, with null, unsets) environment variable `name` for its
/// lifetime: the runtime reads NNCC_CUDA_GRAPHS when a session makes its
/// runners and NNCC_CUDA_FUSED_STEP at each run's plan.
struct ScopedEnv {
  ScopedEnv(const char *name, const char *value) : name(name) {
    if (const char *was = std::getenv(name))
      old = was, had = true;
    value ? setenv(name, value, 1) : unsetenv(name);
  }
  ~ScopedEnv() { had ? setenv(name, old.c_str(), 1) : unsetenv(name); }
  const char *name;
  std::string old;
  bool had = false;
};

/// The same training as a compiled loop (the model's "train_loop"): the
/// training set uploaded once, each call `steps` batches gathered on the
/// device and queued with one wait (runtime/cuda/LoopRunner.h); three
/// epochs after a warm-up, from fresh weights, the same shuffle as the
/// step-by-step epochs (so epoch 1's average loss is theirs). With graphs
/// (each call's steps one CUDA graph, replayed) or without
/// (NNCC_CUDA_GRAPHS=0 while the session makes its runners); with each
/// step's fused kernel (one launch a step) or, `unfused`, its launches one
/// by one (NNCC_CUDA_FUSED_STEP=0).
void benchLoop(const std::shared_ptr<rt::Executable> &exe, const rt::data::Dataset &data, Report &r,
               bool graphs, const rt::TensorMap *reference, bool unfused = false) {
  std::string key =
      std::string(graphs ? "mlp_loop" : "mlp_loop_nographs") + (unfused ? "_unfused" : "");
  ScopedEnv fusedStep("NNCC_CUDA_FUSED_STEP", unfused ? "0" : std::getenv("NNCC_CUDA_FUSED_STEP"));
  const char *wasSet = std::getenv("NNCC_CUDA_GRAPHS");
  std::string was = wasSet ? wasSet : "";
  if (!graphs)
    setenv("NNCC_CUDA_GRAPHS", "0", 1);
  struct Restore {
    bool on;
    const char *set;
    std::string value;
    ~Restore() {
      if (on && set)
        setenv("NNCC_CUDA_GRAPHS", value.c_str(), 1);
      else if (on)
        unsetenv("NNCC_CUDA_GRAPHS");
    }
  } restore{!graphs, wasSet, was};
  rt::Session session(exe);
  if (rt::Status s = session.initialize(); !s.ok())
    return r.fail(key, "initialize: " + s.message());
  auto xd = session.upload(data.trainImages), yd = session.upload(data.trainLabels);
  if (!xd || !yd)
    return r.fail(key, "upload: " + (xd ? yd.error() : xd.error()));
  int64_t rows = data.trainImages.shape()[0], count = (rows + 63) / 64;
  int64_t steps = exe->signature("train_loop")->loop().steps();
  std::vector<int32_t> order(rows);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 shuffler(123); // a BatchIterator's shuffle
  std::vector<double> epochMs;
  rt::Tensor batch = rt::Tensor::of<int32_t>({}, {64});
  for (int e = 0; e < 4; ++e) {
    auto t0 = Clock::now();
    std::shuffle(order.begin(), order.end(), shuffler);
    auto od = session.upload(rt::Tensor::of<int32_t>({rows}, order));
    if (!od)
      return r.fail(key, "upload: " + od.error());
    double loss = 0;
    for (int64_t first = 0; first < count; first += steps) {
      auto out =
          session.run("train_loop",
                      {{"first", rt::Tensor::of<int32_t>({}, {int32_t(first)})}, {"batch", batch}},
                      {{"x", *xd}, {"y", *yd}, {"order", *od}}, {"cost"}, {});
      if (!out)
        return r.fail(key, fmt::format("epoch {}: {}", e + 1, out.error()));
      const float *l = out->host.at("cost").data<float>();
      for (int64_t k = 0; k < steps && first + k < count; ++k)
        loss += l[k];
    }
    double ms = seconds(t0) * 1e3;
    if (e > 0)
      epochMs.push_back(ms);
    if (e == 0)
      r.numbers[key + "_loss_epoch1"] = loss / count;
    if (e == 0 && reference) { // the weights single steps give, to fp32 rounding
      double diff = 0;
      for (const auto &[name, want] : *reference) {
        auto got = session.variable(name);
        if (!got)
          return r.fail(key, "variable " + name + ": " + got.error());
        std::vector<double> a = got->toDoubles(), b = want.toDoubles();
        double scale = 1e-6;
        for (double v : b)
          scale = std::max(scale, std::abs(v));
        for (size_t i = 0; i < a.size() && i < b.size(); ++i)
          diff = std::max(diff, std::abs(a[i] - b[i]) / scale);
      }
      r.numbers[key + "_weights_rel_diff"] = diff;
    }
    fmt::print("mlp compiled-loop epoch {} ({} steps a call, graphs {}{}): {:.2f} ms, avg loss "
               "{:.4f}\n",
               e + 1, steps, graphs ? "on" : "off", unfused ? ", launch by launch" : "", ms,
               loss / count);
  }
  r.numbers[key + "_epoch_ms_median"] = stats(epochMs).median;
  r.numbers["mlp_loop_steps_per_call"] = steps;
}

/// The textbook MLP: a training run from the initial weights, then
/// inference. Returns false where it could not go on.
bool benchMlp(const Options &o, Report &r) {
  auto data = rt::data::readMnistDir(o.data);
  if (!data) {
    r.fail("mlp", data.error());
    return false;
  }
  rt::data::standardize(data->trainImages, data->testImages);
  auto exe = load(o.models + "/mlp." + o.target + ".nnx", "mlp", r);
  if (!exe)
    return false;
  rt::Session session(exe);
  if (rt::Status s = session.initialize(); !s.ok()) {
    r.fail("mlp", "initialize: " + s.message());
    return false;
  }

  // Training: the CPU bench's batches (seed 123, reshuffled every epoch);
  // the epochs after the first (allocations, first launches) are timed.
  rt::data::BatchIterator batches(data->trainImages, data->trainLabels, 64, 123);
  rt::Tensor xb, yb;
  std::vector<double> epochMs;
  double firstLoss = 0, lastLoss = 0;
  int steps = 0, done = 0;
  auto trainStart = Clock::now();
  for (int e = 0; e < o.epochs; ++e) {
    auto t0 = Clock::now();
    batches.startEpoch();
    double loss = 0;
    steps = 0;
    while (batches.next(xb, yb)) {
      auto out = session.run("train", {{"x", xb}, {"y", yb}}, {"cost"});
      if (!out) {
        r.fail("mlp_train", fmt::format("epoch {} step {}: {}", e + 1, steps + 1, out.error()));
        return false;
      }
      loss += out->at("cost").data<float>()[0];
      ++steps;
    }
    double ms = seconds(t0) * 1e3;
    if (e > 0)
      epochMs.push_back(ms);
    lastLoss = loss / steps;
    if (e == 0)
      firstLoss = lastLoss;
    ++done;
    if (e < 3 || e + 1 == o.epochs || (e + 1) % 10 == 0)
      fmt::print("mlp epoch {}: {:.2f} ms, {} steps, avg loss {:.4f}\n", e + 1, ms, steps,
                 lastLoss);
    if (!std::isfinite(lastLoss)) {
      r.fail("mlp_train", fmt::format("the average loss of epoch {} is {}", e + 1, lastLoss));
      return false;
    }
    if (seconds(trainStart) > o.train_budget_s && e + 1 < o.epochs) {
      r.notes["mlp_train_note"] =
          fmt::format("stopped after {} of {} epochs: the training budget of {} s was spent", done,
                      o.epochs, o.train_budget_s);
      fmt::print("{}\n", r.notes["mlp_train_note"]);
      break;
    }
  }
  Stats ep = stats(epochMs);
  r.numbers["mlp_epoch_ms_median"] = ep.median;
  r.numbers["mlp_epoch_ms_min"] = ep.min;
  r.numbers["mlp_epoch_ms_max"] = ep.max;
  r.numbers["mlp_epochs_timed"] = epochMs.size();
  r.numbers["mlp_steps_per_epoch"] = steps;
  r.numbers["mlp_train_epochs"] = done;
  r.numbers["mlp_train_total_s"] = seconds(trainStart);
  r.numbers["mlp_loss_epoch1"] = firstLoss;
  r.numbers["mlp_loss_last"] = lastLoss;
  if (exe->signature("train_loop")) {
    auto reference = oneEpochOfSingleSteps(exe, *data);
    if (!reference)
      r.fail("mlp_loop_reference", reference.error());
    benchLoop(exe, *data, r, true, reference ? &*reference : nullptr);
    benchLoop(exe, *data, r, false, reference ? &*reference : nullptr);
    // The fused step's part: the same loop with each step's launches one by one.
    benchLoop(exe, *data, r, true, reference ? &*reference : nullptr, /*unfused=*/true);
  }

  // Test accuracy of the trained weights: argmax of the probabilities.
  auto probs = session.run("predict", {{"x", data->testImages}}, {"probabilities"});
  if (!probs) {
    r.fail("mlp_predict", probs.error());
    return false;
  }
  const rt::Tensor &p = probs->at("probabilities");
  int64_t n = p.shape()[0], classes = p.shape()[1], right = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float *row = p.data<float>() + i * classes;
    right += std::max_element(row, row + classes) - row == data->testLabels.data<int32_t>()[i];
  }
  r.numbers["mlp_test_accuracy"] = double(right) / n;
  fmt::print("mlp: {} epochs, test accuracy {:.2f}%, {:.2f} ms/epoch (median of {})\n", done,
             100.0 * right / n, ep.median, epochMs.size());

  // Inference, host to host: the whole test set in one batch, then batch 1
  // (a different image each run).
  std::vector<double> full, one;
  for (int i = 0; i < o.infer_runs + 5; ++i) {
    auto t0 = Clock::now();
    auto out = session.run("predict", {{"x", data->testImages}}, {"probabilities"});
    if (!out) {
      r.fail("mlp_infer", out.error());
      return false;
    }
    if (i >= 5)
      full.push_back(seconds(t0) * 1e3);
  }
  for (int i = 0; i < o.b1_runs + 50; ++i) {
    auto x1 = rt::Tensor::borrow(rt::DType::F32, {1, 784},
                                 data->testImages.data<float>() + (i % n) * 784);
    auto t0 = Clock::now();
    auto out = session.run("predict", {{"x", x1}}, {"probabilities"});
    if (!out) {
      r.fail("mlp_infer_b1", out.error());
      return false;
    }
    if (i >= 50)
      one.push_back(seconds(t0) * 1e6);
  }
  // A training step host to host, its launches fused into one kernel (where
  // the program has one and the device runs it) and one by one, in turn.
  rt::data::BatchIterator stepBatches(data->trainImages, data->trainLabels, 64, 7);
  stepBatches.startEpoch();
  for (bool unfused : {false, true}) {
    ScopedEnv fusedStep("NNCC_CUDA_FUSED_STEP",
                        unfused ? "0" : std::getenv("NNCC_CUDA_FUSED_STEP"));
    std::vector<double> us;
    for (int i = 0; i < 220; ++i) {
      if (!stepBatches.next(xb, yb)) {
        stepBatches.startEpoch();
        stepBatches.next(xb, yb);
      }
      auto t0 = Clock::now();
      auto out = session.run("train", {{"x", xb}, {"y", yb}}, {"cost"});
      if (!out) {
        r.fail("mlp_step", out.error());
        return false;
      }
      if (i >= 20)
        us.push_back(seconds(t0) * 1e6);
    }
    std::string key = unfused ? "mlp_step_unfused_us" : "mlp_step_us";
    r.numbers[key + "_median"] = stats(us).median;
    fmt::print("mlp training step, host to host, {}: {:.1f} us (median of {})\n",
               unfused ? "launch by launch" : "fused where it can be", stats(us).median, us.size());
  }

  Stats f = stats(full), b = stats(one);
  r.numbers["infer_full_ms_median"] = f.median;
  r.numbers["infer_full_ms_p10"] = f.p10;
  r.numbers["infer_full_ms_p90"] = f.p90;
  r.numbers["infer_b1_us_median"] = b.median;
  r.numbers["infer_b1_us_p10"] = b.p10;
  r.numbers["infer_b1_us_p90"] = b.p90;
  fmt::print("inference: 10000 images {:.3f} ms ({:.3f}..{:.3f}), batch 1 {:.1f} us "
             "({:.1f}..{:.1f}), host to host\n",
             f.median, f.p10, f.p90, b.median, b.p10, b.p90);
  return true;
}

/// The compute-bound MLP's training step from `file`.<target>.nnx, keys
/// "big_<mode>_*".
void benchBig(const Options &o, const std::string &file, const std::string &mode, Report &r) {
  const std::string key = "big_" + mode;
  std::string path = o.models + "/" + file + "." + o.target + ".nnx";
  if (!exists(path)) {
    r.notes[key + "_note"] = path + " is not there (not compiled): skipped";
    fmt::print("compute-bound MLP {}: {}\n", mode, r.notes[key + "_note"]);
    return;
  }
  auto exe = load(path, key, r);
  if (!exe)
    return;
  rt::Session session(exe);
  if (rt::Status s = session.initialize(); !s.ok())
    return r.fail(key, "initialize: " + s.message());
  // 784-4096-4096-4096-10, as scripts/gpu-bundle.sh writes it.
  const int64_t batch = 4096;
  const double params = 784.0 * 4096 + 4096 + 2 * (4096.0 * 4096 + 4096) + 4096.0 * 10 + 10;
  rt::Tensor bx, by;
  bigBatch(bx, by);

  // Two warm-up steps, then single steps (each ends when its cost is back
  // on the host) until big_steps or the budget.
  std::vector<double> ms;
  double cost = 0;
  auto start = Clock::now();
  for (int i = 0; i < o.big_steps + 2; ++i) {
    if (i >= 3 && seconds(start) > o.big_budget_s) {
      r.notes[key + "_note"] =
          fmt::format("stopped after {} timed step(s): the budget of {} s was spent", ms.size(),
                      o.big_budget_s);
      break;
    }
    auto t0 = Clock::now();
    auto out = session.run("train", {{"x", bx}, {"y", by}}, {"cost"});
    if (!out)
      return r.fail(key, fmt::format("step {}: {}", i + 1, out.error()));
    cost = out->at("cost").data<float>()[0];
    if (i == 0) {
      r.numbers[key + "_cost_first"] = cost;
      r.numbers[key + "_first_step_ms"] = seconds(t0) * 1e3;
    } else if (i >= 2) {
      ms.push_back(seconds(t0) * 1e3);
    }
  }
  if (ms.empty())
    return r.fail(key, "no step timed (the warm-up alone spent the budget)");
  double step = stats(ms).median, flops = 6 * params * batch;
  r.numbers[key + "_ms_per_step"] = step;
  r.numbers[key + "_tflops"] = flops / (step * 1e-3) / 1e12;
  r.numbers[key + "_steps_timed"] = ms.size();
  r.numbers[key + "_cost_last"] = cost;
  fmt::print("compute-bound MLP {}: {:.3f} ms/step, {:.1f} TFLOP/s ({} steps, cost {:.4f} -> "
             "{:.4f})\n",
             mode, step, r.numbers[key + "_tflops"], ms.size(), r.numbers[key + "_cost_first"],
             cost);
  if (!std::isfinite(cost))
    r.fail(key, fmt::format("the cost after {} steps is {}", ms.size() + 2, cost));
}

/// E7's training from `file`.<target>.nnx, keys "cnn_<mode>_*": epochs of
/// the CPU bench's batches (64, seed 123) from the initial weights, each
/// step ending when its loss is on the host (as PyTorch's .item()); the
/// epochs after the first timed, and every step after the first three,
/// until cnn_epochs or the budget; then the test accuracy.
void benchCnn(const Options &o, const std::string &file, const std::string &mode, Report &r) {
  const std::string key = "cnn_" + mode;
  std::string path = o.models + "/" + file + "." + o.target + ".nnx";
  if (!exists(path)) {
    r.notes[key + "_note"] = path + " is not there (not compiled): skipped";
    fmt::print("E7 {}: {}\n", mode, r.notes[key + "_note"]);
    return;
  }
  auto data = rt::data::readMnistDir(o.data);
  if (!data)
    return r.fail(key, data.error());
  rt::data::standardize(data->trainImages, data->testImages);
  auto exe = load(path, key, r);
  if (!exe)
    return;
  rt::Session session(exe);
  if (rt::Status s = session.initialize(); !s.ok())
    return r.fail(key, "initialize: " + s.message());
  // [N, 784] as [N, 28, 28, 1], no copy.
  auto x = rt::Tensor::borrow(rt::DType::F32, {data->trainImages.shape()[0], 28, 28, 1},
                              data->trainImages.data<float>());
  rt::data::BatchIterator batches(x, data->trainLabels, 64, 123);
  std::vector<double> epochMs, stepMs;
  double loss = 0, firstLoss = 0;
  int64_t steps = 0, done = 0;
  bool stopped = false;
  auto start = Clock::now();
  for (int e = 0; e < o.cnn_epochs && !stopped; ++e) {
    auto t0 = Clock::now();
    batches.startEpoch();
    rt::Tensor xb, yb;
    loss = 0;
    steps = 0;
    while (batches.next(xb, yb)) {
      auto s0 = Clock::now();
      auto out = session.run("train", {{"x", xb}, {"y", yb}}, {"loss"});
      if (!out)
        return r.fail(key, fmt::format("epoch {} step {}: {}", e + 1, steps + 1, out.error()));
      loss += out->at("loss").data<float>()[0];
      if (e > 0 || steps >= 3)
        stepMs.push_back(seconds(s0) * 1e3);
      ++steps;
      if (seconds(start) > o.cnn_budget_s && stepMs.size() >= 20) {
        stopped = true;
        break;
      }
    }
    if (stopped)
      break;
    double ms = seconds(t0) * 1e3;
    if (e > 0)
      epochMs.push_back(ms);
    if (e == 0)
      firstLoss = loss / steps;
    ++done;
    fmt::print("E7 {} epoch {}: {:.1f} ms, {} steps, avg loss {:.4f}\n", mode, e + 1, ms, steps,
               loss / steps);
    if (!std::isfinite(loss))
      return r.fail(key, fmt::format("the average loss of epoch {} is {}", e + 1, loss / steps));
  }
  if (stopped)
    r.notes[key + "_note"] =
        fmt::format("stopped in epoch {} after {} steps: the budget of {} s was spent", done + 1,
                    steps, o.cnn_budget_s);
  Stats st = stats(stepMs);
  r.numbers[key + "_step_ms_median"] = st.median;
  r.numbers[key + "_step_ms_p10"] = st.p10;
  r.numbers[key + "_step_ms_p90"] = st.p90;
  r.numbers[key + "_steps_timed"] = stepMs.size();
  // An epoch is 938 steps (60000 images, the last batch of 32): its time
  // measured where one was timed whole, else the steps' median times 938.
  if (!epochMs.empty())
    r.numbers[key + "_epoch_ms_median"] = stats(epochMs).median;
  r.numbers[key + "_epoch_ms_from_steps"] = st.median * batches.batchesPerEpoch();
  r.numbers[key + "_epochs"] = done;
  if (done > 0)
    r.numbers[key + "_loss_epoch1"] = firstLoss;
  // The test accuracy after those epochs, 1000 images a run.
  int64_t right = 0, n = data->testImages.shape()[0];
  for (int64_t first = 0; first < n; first += 1000) {
    int64_t rows = std::min<int64_t>(1000, n - first);
    auto x = rt::Tensor::borrow(rt::DType::F32, {rows, 28, 28, 1},
                                data->testImages.data<float>() + first * 784);
    auto out = session.run("predict", {{"x", x}}, {"classes"});
    if (!out)
      return r.fail(key, "predict: " + out.error());
    for (int64_t i = 0; i < rows; ++i)
      right += out->at("classes").data<int64_t>()[i] == data->testLabels.data<int32_t>()[first + i];
  }
  r.numbers[key + "_test_accuracy"] = double(right) / n;
  fmt::print("E7 {}: {:.3f} ms/step (p10 {:.3f}, p90 {:.3f}; {} steps), epoch {:.1f} ms{}, test "
             "accuracy {:.2f}% after {} epoch(s)\n",
             mode, st.median, st.p10, st.p90, stepMs.size(),
             epochMs.empty() ? r.numbers[key + "_epoch_ms_from_steps"] : stats(epochMs).median,
             epochMs.empty() ? " (from the steps)" : "", 100.0 * right / n, done);
}

/// --kernels: `warmup` untimed calls of `run`, then `runs` with each kernel
/// launch timed on `exe`'s GPU: a row per kernel in r.kernels and the
/// figures "kernels_<part>_*". Returns false where it could not go on.
bool profileRuns(const rt::Executable &exe, const std::string &part, int warmup, int runs,
                 const std::function<rt::Status()> &run, Report &r) {
  const std::string key = "kernels_" + part;
  for (int i = 0; i < warmup; ++i)
    if (rt::Status s = run(); !s.ok()) {
      r.fail(key, fmt::format("warm-up run {}: {}", i + 1, s.message()));
      return false;
    }
  rt::cuda::CudaModule *gpu = exe.cudaModule();
  if (!gpu) {
    r.notes[key + "_note"] = "a CPU executable: no CUDA kernels to time";
    return true;
  }
  gpu->clearProfile();
  gpu->setProfiling(true);
  std::vector<std::vector<rt::cuda::KernelTime>> timed;
  std::vector<double> wallUs;
  rt::Status status;
  for (int i = 0; i < runs && status.ok(); ++i) {
    auto t0 = Clock::now();
    status = run();
    wallUs.push_back(seconds(t0) * 1e6);
    timed.push_back(gpu->profile());
    gpu->clearProfile();
  }
  gpu->setProfiling(false);
  if (!status.ok()) {
    r.fail(key, fmt::format("run {}: {}", timed.size(), status.message()));
    return false;
  }
  const auto &first = timed.front();
  if (first.empty()) {
    r.fail(key, "no kernel launch was timed (CUDA graphs on? NNCC_CUDA_GRAPHS=0 turns them off)");
    return false;
  }
  for (size_t i = 1; i < timed.size(); ++i) {
    bool same = timed[i].size() == first.size();
    for (size_t j = 0; same && j < first.size(); ++j)
      same = timed[i][j].kernel == first[j].kernel;
    if (!same) {
      r.fail(key, fmt::format("run {} launched {} kernels, run 1 {}: not the same launches in "
                              "every run",
                              i + 1, timed[i].size(), first.size()));
      return false;
    }
  }
  std::vector<double> sums(timed.size(), 0.0);
  for (size_t j = 0; j < first.size(); ++j) {
    std::vector<double> us;
    for (size_t i = 0; i < timed.size(); ++i) {
      us.push_back(timed[i][j].microseconds);
      sums[i] += timed[i][j].microseconds;
    }
    r.kernels.push_back({part, first[j].kernel, first[j].grid, stats(us)});
  }
  r.numbers[key + "_sum_us"] = stats(sums).median;
  r.numbers[key + "_run_us"] = stats(wallUs).median;
  r.numbers[key + "_launches"] = first.size();
  r.numbers[key + "_runs"] = timed.size();
  return true;
}

/// --kernels: where the time of a training step, of inference and of a
/// step of the compute-bound MLP goes, kernel by kernel.
void profileKernels(const Options &o, Report &r) {
  // The runs must launch their kernels, not replay a graph. LaunchPlan
  // reads this when a session's first run makes its plan runner.
  setenv("NNCC_CUDA_GRAPHS", "0", 1);
  r.notes["kernels_method"] = fmt::format(
      "each launch between two CUDA events, CUDA graphs off; the median of {} runs after {} "
      "untimed ones ({} after 1 for the compute-bound MLP). mlp_train: a training step of the "
      "textbook MLP (batch 64), its launches one by one (NNCC_CUDA_FUSED_STEP=0); "
      "mlp_train_fused: the same step as one fused kernel where the device runs it; "
      "mlp_infer_10000: its inference of the 10000 test images; "
      "cnn_train: a training step of E7, the CNN (batch 64); "
      "big_<precision>_train: a step of the compute-bound MLP (batch 4096)",
      o.profile_runs, o.profile_warmup, o.profile_big_runs);
  auto data = rt::data::readMnistDir(o.data);
  if (!data)
    return r.fail("kernels_mlp", data.error());
  rt::data::standardize(data->trainImages, data->testImages);
  if (auto exe = load(o.models + "/mlp." + o.target + ".nnx", "kernels_mlp", r)) {
    rt::Session session(exe);
    if (rt::Status s = session.initialize(); !s.ok())
      return r.fail("kernels_mlp", "initialize: " + s.message());
    // Steps on an epoch's batches, from the initial weights.
    rt::data::BatchIterator batches(data->trainImages, data->trainLabels, 64, 123);
    batches.startEpoch();
    rt::Tensor xb, yb;
    auto step = [&]() -> rt::Status {
      if (!batches.next(xb, yb)) {
        batches.startEpoch();
        batches.next(xb, yb);
      }
      auto out = session.run("train", {{"x", xb}, {"y", yb}}, {"cost"});
      return out ? rt::Status() : out.status();
    };
    // The step fused into one kernel (where the device runs it), then its
    // launches one by one: the fused kernel's time beside their sum.
    profileRuns(*exe, "mlp_train_fused", o.profile_warmup, o.profile_runs, step, r);
    {
      ScopedEnv unfused("NNCC_CUDA_FUSED_STEP", "0");
      profileRuns(*exe, "mlp_train", o.profile_warmup, o.profile_runs, step, r);
    }
    auto infer = [&]() -> rt::Status {
      auto out = session.run("predict", {{"x", data->testImages}}, {"probabilities"});
      return out ? rt::Status() : out.status();
    };
    profileRuns(*exe, "mlp_infer_10000", o.profile_warmup, o.profile_runs, infer, r);
  }
  // E7's training step (batch 64).
  if (std::string path = o.models + "/cnn." + o.target + ".nnx"; !exists(path)) {
    r.notes["kernels_cnn_train_note"] = path + " is not there (not compiled): skipped";
  } else if (auto exe = load(path, "kernels_cnn", r)) {
    rt::Session session(exe);
    if (rt::Status s = session.initialize(); !s.ok())
      return r.fail("kernels_cnn", "initialize: " + s.message());
    auto x = rt::Tensor::borrow(rt::DType::F32, {data->trainImages.shape()[0], 28, 28, 1},
                                data->trainImages.data<float>());
    rt::data::BatchIterator batches(x, data->trainLabels, 64, 123);
    batches.startEpoch();
    rt::Tensor xb, yb;
    auto step = [&]() -> rt::Status {
      if (!batches.next(xb, yb)) {
        batches.startEpoch();
        batches.next(xb, yb);
      }
      auto out = session.run("train", {{"x", xb}, {"y", yb}}, {"loss"});
      return out ? rt::Status() : out.status();
    };
    profileRuns(*exe, "cnn_train", o.profile_warmup, o.profile_runs, step, r);
  }
  for (auto [file, mode] : {std::pair{"big_mlp", "fp32"}, std::pair{"big_mlp.tf32", "tf32"}}) {
    std::string path = o.models + "/" + file + "." + o.target + ".nnx";
    std::string part = std::string("big_") + mode + "_train", key = "kernels_" + part;
    if (!exists(path)) {
      r.notes[key + "_note"] = path + " is not there (not compiled): skipped";
      continue;
    }
    auto exe = load(path, key, r);
    if (!exe)
      continue;
    rt::Session session(exe);
    if (rt::Status s = session.initialize(); !s.ok()) {
      r.fail(key, "initialize: " + s.message());
      continue;
    }
    rt::Tensor bx, by;
    bigBatch(bx, by);
    auto step = [&]() -> rt::Status {
      auto out = session.run("train", {{"x", bx}, {"y", by}}, {"cost"});
      return out ? rt::Status() : out.status();
    };
    profileRuns(*exe, part, 1, o.profile_big_runs, step, r);
  }
}

/// --kernels' tables: a row per kernel of each part, then its sum per run.
void printKernels(const Report &r) {
  std::string part;
  auto num = [&](const std::string &name) {
    auto it = r.numbers.find("kernels_" + part + name);
    return it == r.numbers.end() ? std::nan("") : it->second;
  };
  auto footer = [&] {
    if (part.empty())
      return;
    fmt::print("| sum of the {:.0f} launches | {:.1f} | | | |\n", num("_launches"), num("_sum_us"));
    fmt::print("| the run, host to host (events on) | {:.1f} | | | |\n", num("_run_us"));
  };
  for (const KernelRow &k : r.kernels) {
    if (k.part != part) {
      footer();
      part = k.part;
      fmt::print("\n{}: kernels on {} (us: median, p10..p90)\n\n"
                 "| kernel | us | p10..p90 | grid (x, y) | threads |\n|---|---|---|---|---|\n",
                 part, r.notes.at("device"));
    }
    fmt::print("| {} | {:.1f} | {:.1f}..{:.1f} | {}, {} | {} |\n", k.kernel, k.us.median, k.us.p10,
               k.us.p90, k.grid.x, k.grid.y, k.grid.threads);
  }
  footer();
  fmt::print("\n");
  for (auto &[k, v] : r.notes)
    if (k != "device")
      fmt::print("{}: {}\n", k, v);
}

void printTable(const Report &r) {
  auto num = [&](const std::string &k, const char *f) {
    auto it = r.numbers.find(k);
    return it == r.numbers.end() ? std::string("n/a") : fmt::format(fmt::runtime(f), it->second);
  };
  fmt::print("\n| nncc on {} | value |\n|---|---|\n", r.notes.at("device"));
  fmt::print("| MLP training, ms/epoch (median) | {} |\n", num("mlp_epoch_ms_median", "{:.2f}"));
  fmt::print("| MLP test accuracy after {} epochs | {} |\n", num("mlp_train_epochs", "{:.0f}"),
             num("mlp_test_accuracy", "{:.4f}"));
  fmt::print("| inference, 10000 images, ms | {} |\n", num("infer_full_ms_median", "{:.3f}"));
  fmt::print("| inference, batch 1, us | {} |\n", num("infer_b1_us_median", "{:.1f}"));
  for (const char *m : {"fp32", "tf32"})
    fmt::print("| compute-bound MLP {}, ms/step (TFLOP/s) | {} ({}) |\n", m,
               num(std::string("big_") + m + "_ms_per_step", "{:.3f}"),
               num(std::string("big_") + m + "_tflops", "{:.1f}"));
  for (const char *m : {"fp32", "tf32"})
    fmt::print("| E7 CNN {} training, ms/step, ms/epoch | {}, {} |\n", m,
               num(std::string("cnn_") + m + "_step_ms_median", "{:.3f}"),
               num(std::string("cnn_") + m + "_epoch_ms_median", "{:.1f}"));
  for (auto &[k, v] : r.notes)
    if (k != "device")
      fmt::print("{}: {}\n", k, v);
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"nncc's GPU benchmark (gpu-bench.sh compares it with PyTorch and JAX)"};
  Options o;
  bool quick = false;
  app.add_option("--models", o.models,
                 "directory of mlp.cuda.nnx, big_mlp.cuda.nnx, "
                 "big_mlp.tf32.cuda.nnx, cnn.cuda.nnx and cnn.tf32.cuda.nnx");
  app.add_option("--data", o.data, "directory of the Fashion-MNIST idx files");
  app.add_option("--json", o.json, "write the figures as JSON");
  app.add_option("--epochs", o.epochs,
                 "training epochs from the initial weights; the test "
                 "accuracy is taken after them")
      ->check(CLI::Range(2, 1000));
  app.add_option("--train-budget-s", o.train_budget_s, "stop training after this");
  app.add_option("--big-steps", o.big_steps, "timed steps of the compute-bound MLP")
      ->check(CLI::Range(1, 1000));
  app.add_option("--big-budget-s", o.big_budget_s, "time per precision of the compute-bound MLP");
  app.add_option("--cnn-epochs", o.cnn_epochs, "E7's training epochs per precision")
      ->check(CLI::Range(1, 1000));
  app.add_option("--cnn-budget-s", o.cnn_budget_s, "time per precision of E7's training");
  app.add_flag("--quick", quick, "3 epochs, fewer inference runs: to see that it works");
  bool cpu = false;
  app.add_flag("--cpu", cpu,
               "run the CPU-compiled models (mlp.cpu.nnx, ...) instead, without "
               "a GPU: to check this program where there is none");
  bool kernels = false;
  app.add_flag("--kernels", kernels,
               "instead: each kernel of an MLP training step, of inference of 10000 "
               "images and of a compute-bound MLP step timed between CUDA events "
               "(graphs off): tables, and the JSON's \"kernels\"");
  CLI11_PARSE(app, argc, argv);
  if (quick) {
    o.epochs = 3;
    o.infer_runs = 5;
    o.b1_runs = 100;
    o.big_steps = 2;
    o.profile_warmup = 2;
    o.profile_runs = 5;
    o.profile_big_runs = 2;
    o.cnn_epochs = 2;
  }

  Report r;
  if (cpu) {
    o.target = "cpu";
    r.notes["device"] = "the host CPU (--cpu)";
  } else if (rt::Status s = rt::cuda::cudaAvailable(); !s.ok()) {
    fmt::print("no GPU: {}\n", s.message());
    r.notes["error"] = "no GPU: " + s.message();
    r.write(o.json);
    return 1;
  } else {
    r.notes["device"] = rt::cuda::cudaDeviceName();
  }
  fmt::print("device: {}\n", r.notes["device"]);
  if (kernels) {
    profileKernels(o, r);
    r.write(o.json);
    printKernels(r);
    return r.errors ? 1 : 0;
  }
  // The JSON is rewritten after every part, so that a run killed by a
  // time limit keeps what it measured.
  benchMlp(o, r);
  r.write(o.json);
  benchBig(o, "big_mlp", "fp32", r);
  r.write(o.json);
  benchBig(o, "big_mlp.tf32", "tf32", r);
  r.write(o.json);
  benchCnn(o, "cnn", "fp32", r);
  r.write(o.json);
  benchCnn(o, "cnn.tf32", "tf32", r);
  r.write(o.json);
  printTable(r);
  return r.errors ? 1 : 0;
}
