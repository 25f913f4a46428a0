// nncc's side of the CPU benchmark (bench/run.py runs it beside PyTorch and
// NumPy and prints the ratios): the textbook MLP's training epoch and
// inference, batch-1 latency through the runtime API, a compute-bound MLP's
// training step, E7's (the CNN chapter's) training step and its second
// convolution alone, and compile times. Figures are medians of repeated runs.
//   nncc_bench [--data DIR] [--epochs 3] [--json out.json]
//   nncc_bench --write-models DIR   the GPU benchmark's models as .pbtxt
#include "bench/BenchModels.h"
#include "compiler/driver/Jit.h"
#include "compiler/frontend/Layers.h"
#include "examples/e7_cnn/CnnModel.h"
#include "runtime/Session.h"
#include "runtime/data/Idx.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <google/protobuf/text_format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <numeric>
#include <random>

using namespace nncc;
using models::buildMlp;
using Clock = std::chrono::steady_clock;

namespace {

double seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

double median(std::vector<double> v) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// The GPU benchmark's models (bench/gpu/GpuBench.cpp runs them), built as
/// this benchmark builds its own: DIR/mlp.pbtxt, the textbook MLP with train
/// and predict; DIR/big_mlp.pbtxt, the compute-bound 784-4096-4096-4096-10.
int writeModels(const std::string &dir) {
  fe::Graph mlp = buildMlp({784, 50, 50, 10}, "tanh", true);
  mlp.loop("train_loop", "train", 128); // the compiled-loop epoch
  std::pair<const char *, fe::Graph> models[] = {
      {"mlp", std::move(mlp)}, {"big_mlp", buildMlp({784, 4096, 4096, 4096, 10}, "relu", false)}};
  for (auto &[name, g] : models) {
    std::string text, path = dir + "/" + name + ".pbtxt";
    google::protobuf::TextFormat::PrintToString(g.proto(), &text);
    if (!(std::ofstream(path) << text)) {
      fmt::print(stderr, "error: cannot write {}\n", path);
      return 1;
    }
  }
  return 0;
}

/// The CPU the models are compiled for (--cpu; nncc compile's).
std::string targetCpu = "native";

std::shared_ptr<rt::Executable> compileOrDie(const fe::Graph &g, double *secondsOut) {
  auto start = Clock::now();
  CompileOptions options;
  options.cache = false; // compile times are measured
  options.cpu = targetCpu;
  auto exe = compileAndLoad(fromProto(g.proto(), "bench_mlp"), options);
  if (!exe) {
    fmt::print(stderr, "{}\n", llvm::toString(exe.takeError()));
    std::exit(1);
  }
  *secondsOut = seconds(start);
  return *exe;
}

void runOrDie(rt::Session &s, const std::string &sig, const rt::TensorMap &feeds,
              const std::vector<std::string> &fetches) {
  auto out = s.run(sig, feeds, fetches);
  if (!out) {
    fmt::print(stderr, "error: {}\n", out.error());
    std::exit(1);
  }
}

/// Each product of the two MLPs' training steps alone, its operands hot in
/// the caches: microseconds per Session::run and GFLOP/s, to see which
/// kernel falls short of the machine's peak (the runs' overhead included).
int benchProducts() {
  struct Product {
    const char *what;
    int64_t m, k, n;
    bool ta, tb;
  };
  const Product products[] = {{"textbook forward  x . W1     ", 64, 784, 50, false, false},
                              {"inference         x . W1     ", 10000, 784, 50, false, false},
                              {"textbook gradient x^T . dZ1  ", 784, 64, 50, true, false},
                              {"textbook forward  h1 . W2    ", 64, 50, 50, false, false},
                              {"textbook backward dZ2 . W2^T ", 64, 50, 50, false, true},
                              {"big forward       h1 . W2    ", 256, 1024, 1024, false, false},
                              {"big gradient      h1^T . dZ2 ", 1024, 256, 1024, true, false},
                              {"big backward      dZ2 . W2^T ", 256, 1024, 1024, false, true}};
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(-1, 1);
  for (const Product &p : products) {
    fe::Graph g("product", 1);
    fe::Dims aDims = p.ta ? fe::Dims{p.k, p.m} : fe::Dims{p.m, p.k};
    fe::Dims bDims = p.tb ? fe::Dims{p.n, p.k} : fe::Dims{p.k, p.n};
    auto a = g.placeholder("a", graph::F32, aDims), b = g.placeholder("b", graph::F32, bDims);
    auto c = g.name(fe::matmul(a, b, p.ta, p.tb), "c");
    g.signature("product").feed(a).feed(b).fetch(c);
    double compile;
    rt::Session session(compileOrDie(g, &compile));
    if (!session.initialize().ok())
      return 1;
    rt::Tensor at(rt::DType::F32, {aDims[0], aDims[1]}), bt(rt::DType::F32, {bDims[0], bDims[1]});
    for (rt::Tensor *t : {&at, &bt})
      for (int64_t i = 0; i < t->size(); ++i)
        t->data<float>()[i] = uniform(rng);
    int reps = std::max<int64_t>(10, 200000000 / (p.m * p.k * p.n));
    std::vector<double> times;
    for (int round = 0; round < 7; ++round) {
      auto t0 = Clock::now();
      for (int i = 0; i < reps; ++i)
        runOrDie(session, "product", {{"a", at}, {"b", bt}}, {"c"});
      times.push_back(seconds(t0) / reps);
    }
    double t = median(times);
    fmt::print("product {} [{}x{}] . [{}x{}]: {:8.2f} us, {:6.1f} GFLOP/s\n", p.what, p.m, p.k, p.k,
               p.n, t * 1e6, 2.0 * p.m * p.k * p.n / t / 1e9);
  }
  return 0;
}

} // namespace

/// E7's training step (batch 64, Adam) on Fashion-MNIST batches, and its
/// second convolution's forward product alone ([64, 14, 14, 32] images, a
/// 5x5x32x64 filter, SAME: 1.28 GFLOP): adds e7_* figures to `result`.
int benchE7(const rt::data::Dataset &data, int steps, std::map<std::string, double> &result) {
  double compile;
  auto exe = compileOrDie(examples::buildLayersCnn(123), &compile);
  rt::Session session(exe);
  if (!session.initialize().ok())
    return 1;
  auto images = rt::Tensor::borrow(rt::DType::F32, {data.trainImages.shape()[0], 28, 28, 1},
                                   const_cast<float *>(data.trainImages.data<float>()));
  rt::data::BatchIterator batches(images, data.trainLabels, 64, 123);
  batches.startEpoch();
  rt::Tensor xb, yb;
  std::vector<double> blocks;
  double loss = 0;
  for (int block = -1; block < (steps + 9) / 10; ++block) { // block -1: warm-up
    auto t0 = Clock::now();
    for (int k = 0; k < 10; ++k) {
      if (!batches.next(xb, yb)) {
        batches.startEpoch();
        batches.next(xb, yb);
      }
      auto out = session.run("train", {{"x", xb}, {"y", yb}}, {"loss"});
      if (!out) {
        fmt::print(stderr, "error: {}\n", out.error());
        return 1;
      }
      loss = out->at("loss").data<float>()[0];
    }
    if (block >= 0)
      blocks.push_back(seconds(t0) / 10);
  }
  double step = median(blocks);
  result["e7_step_ms_median"] = step * 1e3;
  result["e7_compile_s"] = compile;
  fmt::print("E7 training step (batch 64): {:.2f} ms, epoch of 938 steps {:.1f} s (loss {:.3f}, "
             "compiled in {:.2f} s)\n",
             step * 1e3, step * 938, loss, compile);

  fe::Graph g("e7_conv_2", 123);
  auto x = g.placeholder("x", graph::F32, fe::Dims{-1, 14, 14, 32});
  auto filter = g.variable("filter", {5, 5, 32, 64}, fe::glorotUniform(123));
  auto y = g.name(fe::conv2d(x, filter, {1, 1}, "SAME"), "y");
  g.signature("predict").feed(x).fetch(y);
  auto conv = compileOrDie(g, &compile);
  rt::Session convSession(conv);
  if (!convSession.initialize().ok())
    return 1;
  rt::Tensor cx(rt::DType::F32, {64, 14, 14, 32});
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  for (int64_t i = 0; i < cx.size(); ++i)
    cx.data<float>()[i] = normal(rng);
  std::vector<double> times;
  for (int i = 0; i < 53; ++i) {
    auto t0 = Clock::now();
    runOrDie(convSession, "predict", {{"x", cx}}, {"y"});
    if (i >= 3)
      times.push_back(seconds(t0));
  }
  double t = median(times), flops = 2.0 * 64 * 14 * 14 * 64 * 5 * 5 * 32;
  result["e7_conv2_ms_median"] = t * 1e3;
  result["e7_conv2_gflops"] = flops / t / 1e9;
  fmt::print("E7 conv_2 forward (batch 64): {:.2f} ms, {:.1f} GFLOP/s\n", t * 1e3, flops / t / 1e9);
  return 0;
}

/// The compute-bound MLP: 784-1024-1024-10, ReLU, batch 256, SGD momentum;
/// ms per training step and GFLOP/s.
int benchBig(int bigSteps, std::map<std::string, double> &result) {
  double bigCompile;
  auto big = compileOrDie(buildMlp({784, 1024, 1024, 10}, "relu", false), &bigCompile);
  rt::Session bigSession(big);
  if (!bigSession.initialize().ok())
    return 1;
  const int64_t batch = 256;
  rt::Tensor bx(rt::DType::F32, {batch, 784}), by(rt::DType::I32, {batch});
  std::mt19937 rng(123);
  std::normal_distribution<float> normal;
  for (int64_t i = 0; i < bx.size(); ++i)
    bx.data<float>()[i] = normal(rng);
  for (int64_t i = 0; i < batch; ++i)
    by.data<int32_t>()[i] = static_cast<int32_t>(rng() % 10);
  std::vector<double> steps;
  for (int i = 0; i < bigSteps + 3; ++i) {
    auto t0 = Clock::now();
    auto out = bigSession.run("train", {{"x", bx}, {"y", by}}, {"cost"});
    if (!out) {
      fmt::print(stderr, "error: {}\n", out.error());
      return 1;
    }
    if (i == 0 || i == bigSteps + 2)
      fmt::print("compute-bound MLP: step {} cost {:.4f}\n", i + 1,
                 out->at("cost").data<float>()[0]);
    if (i >= 3)
      steps.push_back(seconds(t0));
  }
  double params = 784.0 * 1024 + 1024 + 1024.0 * 1024 + 1024 + 1024.0 * 10 + 10;
  double flops = 6 * params * batch, step = median(steps);
  result["big_ms_per_step_median"] = step * 1e3;
  result["big_gflops"] = flops / step / 1e9;
  fmt::print("compute-bound MLP: {:.2f} ms/step, {:.1f} GFLOP/s (compiled in {:.2f} s)\n",
             step * 1e3, flops / step / 1e9, bigCompile);

  return 0;
}

void writeJson(const std::string &path, const std::map<std::string, double> &result) {
  if (path.empty())
    return;
  std::ofstream out(path);
  out << "{";
  bool first = true;
  for (auto &[k, v] : result) {
    out << (first ? "" : ", ") << '"' << k << "\": " << fmt::format("{:.6g}", v);
    first = false;
  }
  out << "}\n";
}

int main(int argc, char **argv) {
  CLI::App app{"nncc's CPU benchmark (bench/run.py compares it with its peers)"};
  std::string dir = "/usr/share/datasets/fashion-mnist", jsonPath, modelsDir;
  int epochs = 3, bigSteps = 20;
  int64_t stepsPerCall = 128;
  app.add_option("--data", dir, "directory of the idx files");
  app.add_option("--epochs", epochs, "timed epochs (after one warm-up epoch)");
  app.add_option("--big-steps", bigSteps, "timed steps of the compute-bound MLP");
  app.add_option("--steps-per-call", stepsPerCall,
                 "training steps per call of the compiled loop's epoch")
      ->check(CLI::PositiveNumber);
  app.add_option("--json", jsonPath, "write the figures as JSON");
  app.add_option("--write-models", modelsDir,
                 "write the GPU benchmark's models (mlp.pbtxt, big_mlp.pbtxt) here and stop");
  bool products = false;
  std::string only;
  int e7Steps = 50;
  app.add_option("--e7-steps", e7Steps, "timed training steps of E7 (the CNN)");
  app.add_option("--only", only, "time one part alone, for profiling")
      ->check(CLI::IsMember({"train", "step", "loop", "infer", "batch1", "e7", "big"}));
  app.add_option("--cpu", targetCpu,
                 "the CPU to compile for: native, x86-64, x86-64-v2, x86-64-v3, x86-64-v4 or an "
                 "LLVM CPU name (nncc compile's --cpu)");
  app.add_flag("--products", products,
               "time each product of the MLPs' steps alone (hot operands) and stop");
  CLI11_PARSE(app, argc, argv);
  if (!modelsDir.empty())
    return writeModels(modelsDir);
  if (products)
    return benchProducts();
  std::map<std::string, double> result;
  if (only == "big") {
    if (benchBig(bigSteps, result) != 0)
      return 1;
    writeJson(jsonPath, result);
    return 0;
  }

  auto data = rt::data::readMnistDir(dir);
  if (!data) {
    fmt::print(stderr, "error: {}\n", data.error());
    return 1;
  }
  rt::data::standardize(data->trainImages, data->testImages);
  if (only == "e7")
    return benchE7(*data, e7Steps, result);

  // Compile time: the training function alone, then the whole model.
  double trainCompile, modelCompile;
  compileOrDie(buildMlp({784, 50, 50, 10}, "tanh", false), &trainCompile);
  // With a compiled loop of `stepsPerCall` training steps over the data.
  fe::Graph model = buildMlp({784, 50, 50, 10}, "tanh", true);
  model.loop("train_loop", "train", stepsPerCall);
  auto exe = compileOrDie(std::move(model), &modelCompile);
  result["compile_train_s"] = trainCompile;
  result["compile_model_s"] = modelCompile;
  fmt::print("compile: training function {:.3f} s, train + predict {:.3f} s\n", trainCompile,
             modelCompile);

  // The textbook MLP's training epochs (momentum recipe, batch 64).
  rt::Session session(exe);
  if (!session.initialize().ok())
    return 1;
  rt::data::BatchIterator batches(data->trainImages, data->trainLabels, 64, 123);
  rt::Tensor xb, yb;
  std::vector<double> epochTimes;
  bool stepEpochs = only.empty() || only == "train" || only == "step",
       loopEpochs = only.empty() || only == "train" || only == "loop";
  for (int e = 0; e <= (stepEpochs ? epochs : -1); ++e) {
    auto t0 = Clock::now();
    batches.startEpoch();
    double loss = 0;
    int steps = 0;
    while (batches.next(xb, yb)) {
      auto out = session.run("train", {{"x", xb}, {"y", yb}}, {"cost"});
      if (!out) {
        fmt::print(stderr, "error: {}\n", out.error());
        return 1;
      }
      loss += out->at("cost").data<float>()[0];
      ++steps;
    }
    double dt = seconds(t0);
    if (e > 0)
      epochTimes.push_back(dt);
    fmt::print("epoch {} ({}): {:.1f} ms, {} steps, avg loss {:.4f}\n", e + 1,
               e ? "timed" : "warm-up", dt * 1e3, steps, loss / steps);
  }
  if (stepEpochs)
    result["epoch_ms_median"] = median(epochTimes) * 1e3;

  // The same epochs (the same batches) as a compiled loop: the training set
  // uploaded once, `stepsPerCall` steps per call.
  rt::Session looped(exe);
  if (!looped.initialize().ok())
    return 1;
  auto xd = looped.upload(data->trainImages), yd = looped.upload(data->trainLabels);
  if (!xd || !yd)
    return 1;
  int64_t rows = data->trainImages.shape()[0];
  std::vector<int32_t> order(rows);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 shuffler(123); // a BatchIterator's shuffle
  std::vector<double> loopTimes;
  rt::Tensor batchOf64 = rt::Tensor::of<int32_t>({}, {64});
  for (int e = 0; e <= (loopEpochs ? epochs : -1); ++e) {
    auto t0 = Clock::now();
    std::shuffle(order.begin(), order.end(), shuffler);
    auto od = looped.upload(rt::Tensor::of<int32_t>({rows}, order));
    if (!od)
      return 1;
    double loss = 0;
    int64_t steps = 0, count = (rows + 63) / 64;
    for (int64_t first = 0; first < count; first += stepsPerCall) {
      auto out = looped.run(
          "train_loop",
          {{"first", rt::Tensor::of<int32_t>({}, {int32_t(first)})}, {"batch", batchOf64}},
          {{"x", *xd}, {"y", *yd}, {"order", *od}}, {"cost"}, {});
      if (!out) {
        fmt::print(stderr, "error: {}\n", out.error());
        return 1;
      }
      const float *l = out->host.at("cost").data<float>();
      for (int64_t k = 0; k < stepsPerCall && first + k < count; ++k, ++steps)
        loss += l[k];
    }
    double dt = seconds(t0);
    if (e > 0)
      loopTimes.push_back(dt);
    fmt::print("epoch {} ({}, compiled loop of {} steps): {:.1f} ms, {} steps, avg loss {:.4f}\n",
               e + 1, e ? "timed" : "warm-up", stepsPerCall, dt * 1e3, steps, loss / steps);
  }
  if (loopEpochs) {
    result["loop_epoch_ms_median"] = median(loopTimes) * 1e3;
    result["loop_steps_per_call"] = stepsPerCall;
  }
  if (only == "train" || only == "step" || only == "loop")
    return 0;

  // Inference: the 10000 test images in one batch, and batch-1 latency.
  std::vector<double> full, one;
  for (int i = 0; i < (only == "infer" ? 500 : only == "batch1" ? 4 : 23); ++i) {
    auto t0 = Clock::now();
    runOrDie(session, "predict", {{"x", data->testImages}}, {"probabilities"});
    if (i >= 3)
      full.push_back(seconds(t0));
  }
  auto x1 = rt::Tensor::borrow(rt::DType::F32, {1, 784}, data->testImages.data<float>());
  for (int i = 0; i < (only == "batch1" ? 1000050 : 1050); ++i) {
    auto t0 = Clock::now();
    runOrDie(session, "predict", {{"x", x1}}, {"probabilities"});
    if (i >= 50)
      one.push_back(seconds(t0));
  }
  result["infer_full_ms_median"] = median(full) * 1e3;
  result["infer_b1_us_median"] = median(one) * 1e6;
  fmt::print("inference: 10000 images {:.3f} ms, batch 1 {:.2f} us\n",
             result["infer_full_ms_median"], result["infer_b1_us_median"]);
  if (only == "infer" || only == "batch1")
    return 0;

  if (benchBig(bigSteps, result) != 0)
    return 1;

  if (benchE7(*data, e7Steps, result) != 0)
    return 1;

  writeJson(jsonPath, result);
  return 0;
}
