// Runs ONNX's backend node tests (Debian's libonnx-testdata: a directory per
// case with model.onnx and test_data_set_*/{input,output}_*.pb) through
// nncc: import, compile for the CPU, run every data set and compare with the
// expected outputs at the ONNX runner's tolerances (with --cuda-host: the
// CUDA target's kernels run on the host emulator of test/e2e). Each case runs in a
// child process, so that a crash or a hang is counted, not fatal.
//   onnx_node_tests DIR [--filter SUBSTR] [-j N] [--verbose]
//                   [--expect-passed N] [--timeout S]
// prints `onnx node tests: P passed, F failed, U unsupported of N` and a
// table by op; exits non-zero on any failure, crash or hang, or when fewer
// than --expect-passed cases pass.
#include "compiler/driver/Jit.h"
#include "compiler/import/onnx/OnnxImporter.h"
#include "proto/onnx.pb.h"
#include "runtime/Session.h"
#include "test/e2e/CudaHostEmulator.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <poll.h>
#include <set>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using namespace nncc;

namespace {

enum class Outcome { Passed, Failed, Unsupported, Crashed };

struct Result {
  Outcome outcome;
  std::string message;
};

std::string readFile(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

llvm::Expected<rt::Tensor> readTensor(const fs::path &path) {
  onnx::TensorProto proto;
  std::string bytes = readFile(path);
  if (!proto.ParseFromString(bytes))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   path.string() + ": not a TensorProto");
  auto t = fromOnnxTensor(proto, path.filename().string());
  if (!t)
    return t.takeError();
  rt::Shape shape(t->dims().begin(), t->dims().end());
  switch (t->dtype()) {
  case graph::F32:
    return rt::Tensor::of<float>(shape, {t->float_val().begin(), t->float_val().end()});
  case graph::F64:
    return rt::Tensor::of<double>(shape, {t->double_val().begin(), t->double_val().end()});
  case graph::I32:
    return rt::Tensor::of<int32_t>(shape, {t->int_val().begin(), t->int_val().end()});
  case graph::I64:
    return rt::Tensor::of<int64_t>(shape, {t->int_val().begin(), t->int_val().end()});
  default: {
    rt::Tensor b(rt::DType::Bool, shape);
    for (int i = 0; i < t->bool_val_size(); ++i)
      b.data<bool>()[i] = t->bool_val(i);
    return b;
  }
  }
}

std::vector<fs::path> sorted(const fs::path &dir, const std::string &prefix) {
  std::vector<fs::path> files;
  for (const auto &e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind(prefix, 0) == 0)
      files.push_back(e.path());
  // input_10 after input_9
  std::sort(files.begin(), files.end(), [](const fs::path &a, const fs::path &b) {
    auto num = [](const fs::path &p) {
      std::string s = p.stem().string();
      return std::stol(s.substr(s.rfind('_') + 1));
    };
    return num(a) < num(b);
  });
  return files;
}

std::string shapeText(const rt::Shape &s) {
  std::string t = "[";
  for (size_t i = 0; i < s.size(); ++i)
    t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

/// Compares at the ONNX runner's tolerances: |got - want| <= atol + rtol |want|.
std::string compare(const rt::Tensor &got, const rt::Tensor &want, double rtol, double atol) {
  if (got.shape() != want.shape())
    return "shape " + shapeText(got.shape()) + ", expected " + shapeText(want.shape());
  if (got.dtype() != want.dtype())
    return std::string("dtype ") + rt::dtypeName(got.dtype()) + ", expected " +
           rt::dtypeName(want.dtype());
  std::vector<double> g = got.toDoubles(), w = want.toDoubles();
  for (size_t i = 0; i < g.size(); ++i) {
    bool ok = std::isnan(w[i])   ? std::isnan(g[i])
              : std::isinf(w[i]) ? g[i] == w[i]
                                 : std::fabs(g[i] - w[i]) <= atol + rtol * std::fabs(w[i]);
    if (!ok) {
      char buffer[160];
      std::snprintf(buffer, sizeof buffer, "element %zu is %.9g, expected %.9g", i, g[i], w[i]);
      return buffer;
    }
  }
  return "";
}

/// Compiles the model, with `bound` inputs as constants, and runs one data
/// set through it.
/// Run on the CUDA target through the host emulator instead of the CPU.
bool cudaHost = false;

Result runSet(const fs::path &dir, const fs::path &set, const std::vector<std::string> &inputNames,
              ReadOptions options, double rtol, double atol) {
  auto inputs = sorted(set, "input_");
  if (inputs.size() != inputNames.size())
    return {Outcome::Failed, std::to_string(inputs.size()) + " inputs for " +
                                 std::to_string(inputNames.size()) + " graph inputs"};
  std::map<std::string, rt::Tensor> values;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto t = readTensor(inputs[i]);
    if (!t)
      return {Outcome::Unsupported, llvm::toString(t.takeError())};
    values[inputNames[i]] = std::move(*t);
  }
  // Inputs that nncc must know at compile time (a shape, axes, a range's
  // bounds) are bound to the data set's values and compiled in.
  llvm::Expected<LoadedGraph> loaded = readOnnxFile((dir / "model.onnx").string(), options);
  for (int tries = 0; !loaded && tries < 8; ++tries) {
    std::string message = llvm::toString(loaded.takeError());
    size_t at = message.find("') must be a constant or an initializer");
    size_t open = at == std::string::npos ? at : message.rfind(" '", at);
    std::string name = open == std::string::npos ? "" : message.substr(open + 2, at - open - 2);
    if (!values.count(name) || options.constantInputs.count(name))
      return {Outcome::Unsupported, message};
    onnx::TensorProto proto;
    proto.ParseFromString(readFile(
        inputs[std::find(inputNames.begin(), inputNames.end(), name) - inputNames.begin()]));
    options.constantInputs[name] = *fromOnnxTensor(proto, name);
    loaded = readOnnxFile((dir / "model.onnx").string(), options);
  }
  if (!loaded)
    return {Outcome::Unsupported, llvm::toString(loaded.takeError())};
  CompileOptions compile;
  compile.cache = false;
  std::shared_ptr<rt::Executable> exe;
  std::unique_ptr<test::CudaHostEmulator> host;
  std::unique_ptr<exe::Executable> cudaProgram;
  if (cudaHost) {
    // The CUDA target's kernels and launch plan, run on the host emulator.
    compile.target = Target::Cuda;
    compile.nvrtc = false;
    mlir::MLIRContext ctx;
    auto compiled = compileModel(ctx, *loaded, compile);
    if (!compiled)
      return {Outcome::Failed, "compile for CUDA: " + llvm::toString(compiled.takeError())};
    cudaProgram = std::make_unique<exe::Executable>(std::move(*compiled));
    host = std::make_unique<test::CudaHostEmulator>(*cudaProgram);
    if (!host->error().empty())
      return {Outcome::Failed, "the emulator: " + host->error()};
    auto loadedExe = rt::Executable::withoutKernels(*cudaProgram, "onnx");
    if (!loadedExe.ok())
      return {Outcome::Failed, "load: " + loadedExe.error()};
    exe = *loadedExe;
  } else {
    auto compiled = compileAndLoad(*loaded, compile);
    if (!compiled)
      return {Outcome::Failed, "compile: " + llvm::toString(compiled.takeError())};
    exe = *compiled;
  }
  const graph::Signature &sig = loaded->graph.signatures(0);
  rt::Session session = host ? rt::Session(exe, host->device()) : rt::Session(exe);
  if (auto s = session.initialize(); !s.ok())
    return {Outcome::Failed, "initialize: " + s.message()};
  rt::TensorMap feeds;
  for (const auto &feed : sig.feeds())
    feeds[feed] = values.at(feed);
  auto out = session.run("predict", feeds);
  if (!out)
    return {Outcome::Failed, "run: " + out.status().message()};
  auto outputs = sorted(set, "output_");
  if (static_cast<int>(outputs.size()) != sig.fetches_size())
    return {Outcome::Failed, std::to_string(outputs.size()) + " expected outputs for " +
                                 std::to_string(sig.fetches_size()) + " fetches"};
  for (size_t i = 0; i < outputs.size(); ++i) {
    auto want = readTensor(outputs[i]);
    if (!want)
      return {Outcome::Unsupported, llvm::toString(want.takeError())};
    const std::string &name = sig.fetches(static_cast<int>(i));
    std::string diff = compare(out->at(name), *want, rtol, atol);
    if (!diff.empty())
      return {Outcome::Failed, set.filename().string() + " output '" + name + "': " + diff};
  }
  return {Outcome::Passed, ""};
}

Result runCase(const fs::path &dir, double rtol, double atol) {
  onnx::ModelProto model;
  if (!model.ParseFromString(readFile(dir / "model.onnx")))
    return {Outcome::Failed, "model.onnx is not a ModelProto"};
  std::set<std::string> initializers;
  for (const auto &t : model.graph().initializer())
    initializers.insert(t.name());
  std::vector<std::string> inputNames;
  for (const auto &input : model.graph().input())
    if (!initializers.count(input.name()))
      inputNames.push_back(input.name());
  int sets = 0;
  for (const auto &set : sorted(dir, "test_data_set_")) {
    ++sets;
    Result r = runSet(dir, set, inputNames, {}, rtol, atol);
    if (r.outcome != Outcome::Passed)
      return r;
  }
  if (sets == 0)
    return {Outcome::Failed, "no test_data_set_*"};
  return {Outcome::Passed, ""};
}

/// The case's op types, as the table groups them.
std::string opsOf(const fs::path &dir) {
  onnx::ModelProto model;
  if (!model.ParseFromString(readFile(dir / "model.onnx")))
    return "?";
  std::vector<std::string> ops;
  for (const auto &n : model.graph().node())
    if (std::find(ops.begin(), ops.end(), n.op_type()) == ops.end())
      ops.push_back(n.op_type());
  std::string s;
  for (const auto &o : ops)
    s += (s.empty() ? "" : "+") + o;
  return s.empty() ? "(none)" : s;
}

struct Child {
  pid_t pid;
  int fd;
  size_t index;
  std::string output;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  bool timedOut = false;
};

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"ONNX backend node tests through nncc"};
  std::string root, filter;
  int jobs = 2, expectPassed = 0, timeout = 120;
  bool verbose = false;
  double rtol = 1e-3, atol = 1e-7;
  app.add_option("dir", root, "the node tests' directory")->required();
  app.add_option("--filter", filter, "only cases whose name holds this");
  app.add_option("-j,--jobs", jobs, "cases at a time");
  app.add_option("--expect-passed", expectPassed, "fail when fewer cases pass");
  app.add_option("--timeout", timeout, "seconds a case may take");
  app.add_option("--rtol", rtol);
  app.add_option("--atol", atol);
  app.add_flag("-v,--verbose", verbose, "a line per case");
  app.add_flag("--cuda-host", cudaHost,
               "compile for the CUDA target and run its kernels on the host emulator");
  CLI11_PARSE(app, argc, argv);

  std::vector<fs::path> cases;
  for (const auto &e : fs::directory_iterator(root))
    if (fs::exists(e.path() / "model.onnx") &&
        e.path().filename().string().find(filter) != std::string::npos)
      cases.push_back(e.path());
  std::sort(cases.begin(), cases.end());
  std::vector<Result> results(cases.size());

  std::vector<Child> running;
  size_t next = 0;
  std::fflush(stdout);
  while (next < cases.size() || !running.empty()) {
    while (next < cases.size() && static_cast<int>(running.size()) < std::max(jobs, 1)) {
      int fds[2];
      if (pipe(fds) != 0) {
        std::perror("pipe");
        return 2;
      }
      pid_t pid = fork();
      if (pid == 0) {
        close(fds[0]);
        Result r = runCase(cases[next], rtol, atol);
        std::string line = std::to_string(static_cast<int>(r.outcome)) + "\t" + r.message;
        size_t done = 0;
        while (done < line.size()) {
          ssize_t n = write(fds[1], line.data() + done, line.size() - done);
          if (n <= 0)
            break;
          done += static_cast<size_t>(n);
        }
        _exit(0);
      }
      close(fds[1]);
      running.push_back({pid, fds[0], next++, ""});
    }
    // Collect whatever the children say; reap the finished ones.
    std::vector<pollfd> polls;
    for (const auto &c : running)
      polls.push_back({c.fd, POLLIN, 0});
    poll(polls.data(), polls.size(), 1000);
    for (size_t i = 0; i < running.size();) {
      Child &c = running[i];
      char buffer[4096];
      ssize_t n;
      while (polls[i].revents && (n = read(c.fd, buffer, sizeof buffer)) > 0)
        c.output.append(buffer, static_cast<size_t>(n));
      int status = 0;
      pid_t done = waitpid(c.pid, &status, WNOHANG);
      if (done == 0) {
        if (!c.timedOut &&
            std::chrono::steady_clock::now() - c.start > std::chrono::seconds(timeout)) {
          kill(c.pid, SIGKILL);
          c.timedOut = true;
        }
        ++i;
        continue;
      }
      while ((n = read(c.fd, buffer, sizeof buffer)) > 0)
        c.output.append(buffer, static_cast<size_t>(n));
      close(c.fd);
      Result &r = results[c.index];
      if (c.timedOut) {
        r = {Outcome::Crashed, "hung: killed after " + std::to_string(timeout) + " s"};
      } else if (WIFSIGNALED(status) || c.output.empty()) {
        r = {Outcome::Crashed, WIFSIGNALED(status)
                                   ? std::string("killed by signal ") + strsignal(WTERMSIG(status))
                                   : "exited without a result"};
      } else {
        size_t tab = c.output.find('\t');
        r = {static_cast<Outcome>(std::stoi(c.output.substr(0, tab))), c.output.substr(tab + 1)};
      }
      running.erase(running.begin() + static_cast<long>(i));
      polls.erase(polls.begin() + static_cast<long>(i));
    }
  }

  int counts[4] = {0, 0, 0, 0};
  std::map<std::string, std::array<int, 4>> byOp;
  const char *names[4] = {"passed", "FAILED", "unsupported", "CRASHED"};
  for (size_t i = 0; i < cases.size(); ++i) {
    const Result &r = results[i];
    int k = static_cast<int>(r.outcome);
    ++counts[k];
    ++byOp[opsOf(cases[i])][k];
    if (verbose || r.outcome == Outcome::Failed || r.outcome == Outcome::Crashed) {
      std::string message = r.message;
      std::replace(message.begin(), message.end(), '\n', ' ');
      std::printf("%-11s %s%s%s\n", names[k], cases[i].filename().string().c_str(),
                  message.empty() ? "" : ": ", message.c_str());
    }
  }
  std::printf("\n%-32s %6s %6s %6s\n", "op", "passed", "failed", "unsupp");
  for (const auto &[op, c] : byOp)
    std::printf("%-32s %6d %6d %6d\n", op.c_str(), c[0], c[1] + c[3], c[2]);
  std::printf("\nonnx node tests: %d passed, %d failed, %d unsupported of %zu (%d crashed)\n",
              counts[0], counts[1] + counts[3], counts[2], cases.size(), counts[3]);
  if (counts[1] + counts[3] > 0)
    return 1;
  if (counts[0] < expectPassed) {
    std::printf("expected at least %d passed\n", expectPassed);
    return 1;
  }
  return 0;
}
