// The nncc subcommands, one function each (flags parsed in nncc.cpp).
#ifndef NNCC_TOOLS_NNCC_COMMANDS_H
#define NNCC_TOOLS_NNCC_COMMANDS_H

#include <optional>
#include <string>
#include <vector>

namespace nncc::tool {

std::string versionString();

struct ImportArgs {
  std::string model, emit = "nn";
  bool debugInfo = false;
  bool trainableInitializers = false; // ONNX initializers as trainable variables
  std::vector<std::string> bindings;  // ONNX inputs fixed at compile time (--bind)
};
int runImport(const ImportArgs &args);

struct CompileArgs {
  std::string model, output, target = "cpu", cpu, triple, emit, cudaArch = "90",
                             cudaPrecision = "fp32";
  bool checkNumerics = false, timing = false;
  bool dataParallel = false; // training steps all-reduce their gradients
  bool noCache = false; // neither read nor write the compile cache
  bool trainableInitializers = false;
  std::vector<std::string> bindings;
};
int runCompile(const CompileArgs &args);

int runInfo(const std::string &path);

struct ExportArgs {
  std::string model, output, signature = "predict", checkpoint;
};
int runExport(const ExportArgs &args);

struct RunArgs {
  std::string model, signature, output, checkpoint, saveCheckpoint;
  int repeat = 1;
  std::vector<std::string> feeds, fetches;
  int precision = -1;
  bool checkNumerics = false;
  bool trainableInitializers = false;
  std::vector<std::string> bindings;
};
int runRun(const RunArgs &args);

struct TrainArgs {
  std::string model = "mlp", signature, data = "/usr/share/datasets/fashion-mnist";
  std::string device = "cpu", checkpoint, restore, history, plots;
  std::string saveModel, testInputs, predictions;
  int epochs = 50;
  int64_t batch = 64;
  int64_t trainImages = 0; // the first N training images (0: all)
  int64_t stepsPerCall = 1;
  std::string optimizer; // sgd, adam, rmsprop (mlp: sgd; a model: its own)
  std::optional<float> lr, momentum, decay, beta1, beta2, epsilon, rho;
  bool nesterov = false, quiet = false, checkNumerics = false;
  bool dataParallel = false; // across the ranks of mpirun (MPI)
  double validationSplit = 0.1;
  uint64_t seed = 123;
  std::vector<int64_t> hidden = {50, 50};
};
int runTrain(const TrainArgs &args);

} // namespace nncc::tool

#endif
