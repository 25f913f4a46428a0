// Data-parallel training on the CPU (issue 23): training steps of the
// textbook MLP (784-50-50-10 tanh, global batch 64) and of the compute-bound
// MLP (784-1024-1024-10 ReLU, global batch 256) on the ranks of mpirun, each
// rank on its shard of the global batch, the gradients averaged by one
// MPI all-reduce per step. Rank 0 prints the median step, the global
// samples per second and what the all-reduce costs per step (calls, bytes,
// time, waiting for the slower rank included). bench/data_parallel.sh runs
// it on 1 and 2 processes and writes the ratios.
//   mpirun -np N data_parallel_bench [--steps 200] [--only mlp|big]
#include "bench/BenchModels.h"
#include "compiler/driver/Jit.h"
#include "compiler/frontend/Layers.h"
#include "runtime/Collective.h"
#include "runtime/Session.h"
#include "runtime/mpi/MpiCollective.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <random>

using namespace nncc;
using Clock = std::chrono::steady_clock;

namespace {

int bench(const char *name, const std::vector<int64_t> &sizes, const std::string &activation,
          int64_t globalBatch, int steps, rt::Collective &group) {
  CompileOptions options;
  options.cache = false;
  options.dataParallel = true;
  auto exe = compileAndLoad(
      fromProto(models::buildMlp(sizes, activation, false, "data_parallel_mlp").proto(), name),
      options);
  if (!exe) {
    fmt::print(stderr, "{}\n", llvm::toString(exe.takeError()));
    return 1;
  }
  rt::Session session(*exe);
  if (!session.initialize().ok() || !rt::broadcastVariables(session, group).ok())
    return 1;
  // The same global batch on every rank (one seed); each trains on its rows.
  int64_t first = globalBatch * group.rank() / group.size(),
          rows = globalBatch * (group.rank() + 1) / group.size() - first;
  rt::Tensor x(rt::DType::F32, {rows, sizes.front()}), y(rt::DType::I32, {rows});
  std::mt19937 rng(123);
  std::normal_distribution<float> normal;
  for (int64_t r = 0; r < globalBatch; ++r)
    for (int64_t c = 0; c <= sizes.front(); ++c) {
      float v = normal(rng);
      if (r < first || r >= first + rows)
        continue;
      if (c < sizes.front())
        x.data<float>()[(r - first) * sizes.front() + c] = v;
      else
        y.data<int32_t>()[r - first] = static_cast<int32_t>(std::abs(v) * 7) % 10;
    }
  std::vector<double> times;
  rt::CollectiveTraffic before{};
  double cost = 0;
  auto start = Clock::now();
  for (int i = 0; i < steps + 5; ++i) {
    if (i == 5) {
      before = rt::collectiveTraffic();
      start = Clock::now();
    }
    auto t0 = Clock::now();
    auto out = session.run("train", {{"x", x}, {"y", y}}, {"cost"});
    if (!out) {
      fmt::print(stderr, "rank {}: {}\n", group.rank(), out.error());
      return 1;
    }
    if (i >= 5)
      times.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    cost = out->at("cost").data<float>()[0];
  }
  double mean = std::chrono::duration<double>(Clock::now() - start).count() / steps;
  rt::CollectiveTraffic after = rt::collectiveTraffic();
  std::sort(times.begin(), times.end());
  double median = times[times.size() / 2];
  const exe::SignatureSpec *train = session.executable().signature("train");
  // The collective alone on a bucket of the step's size, the ranks lined up
  // first (a one-value all-reduce): its cost without waiting for a slower
  // rank's kernels.
  std::vector<float> bucket(train->all_reduce_bytes() / 4, 1.0f);
  std::vector<double> alone;
  for (int i = 0; i < 25; ++i) {
    float line = 0;
    if (!group.allReduce(&line, 1, rt::DType::F32, false).ok())
      return 1;
    auto t0 = Clock::now();
    if (!group.allReduce(bucket.data(), static_cast<int64_t>(bucket.size()), rt::DType::F32, true)
             .ok())
      return 1;
    alone.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::sort(alone.begin(), alone.end());
  if (group.rank() == 0)
    fmt::print("{} ranks={} global_batch={} step_ms_mean={:.3f} step_ms_median={:.3f} "
               "samples_per_s={:.0f} all_reduce_calls_per_step={} all_reduce_bytes_per_step={} "
               "all_reduce_ms_per_step={:.3f} all_reduce_alone_ms={:.3f} last_cost={:.4f}\n",
               name, group.size(), globalBatch, mean * 1e3, median * 1e3, globalBatch / mean,
               train->all_reduce_calls(), train->all_reduce_bytes(),
               (after.seconds - before.seconds) / steps * 1e3, alone[alone.size() / 2] * 1e3, cost);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app("data-parallel training steps on the ranks of mpirun");
  int steps = 200;
  std::string only;
  app.add_option("--steps", steps, "timed steps per model")->check(CLI::PositiveNumber);
  app.add_option("--only", only, "mlp or big")->check(CLI::IsMember({"mlp", "big"}));
  CLI11_PARSE(app, argc, argv);
  auto group = rt::mpi::initializeMpi();
  if (!group) {
    fmt::print(stderr, "{}\n", group.error());
    return 1;
  }
  rt::setCollective(*group);
  int rc = 0;
  if (only.empty() || only == "mlp")
    rc |= bench("mlp", {784, 50, 50, 10}, "tanh", 64, steps, **group);
  if (only.empty() || only == "big")
    rc |= bench("big_mlp", {784, 1024, 1024, 10}, "relu", 256, std::max(steps / 10, 10), **group);
  rt::setCollective(nullptr);
  return rc;
}
