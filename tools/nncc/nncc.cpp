// nncc: the command-line compiler and runner.
//   nncc import model.pbtxt|model.onnx --emit=nn|proto
//   nncc compile model.pbtxt|model.onnx -o model.nnx [--emit=nn|autodiff|fused|linalg|...]
//   nncc info model.nnx|model.pbtxt|model.onnx
//   nncc export model.pbtxt -o model.onnx [--signature predict] [--checkpoint ckpt]
//   nncc run model.nnx|model.pbtxt|model.onnx [--signature S] --feed x=1.0 --fetch z [-o out.npy]
//   nncc train mlp|cnn|model.pbtxt --data DIR [--epochs 50 --batch 64 --lr ...]
#include "tools/nncc/Commands.h"

#include <CLI/CLI.hpp>

static const char *kModelFiles =
    "model file: .pbtxt (text) or .pb (binary graph.proto), .onnx (ONNX ModelProto) or "
    ".onnxtxt (ModelProto as text)";

int main(int argc, char **argv) {
  CLI::App app{"nncc: a neural-network graph compiler"};
  app.set_version_flag("--version", nncc::tool::versionString());
  app.require_subcommand(1);

  nncc::tool::ImportArgs importArgs;
  CLI::App *import = app.add_subcommand(
      "import", "read a model (.pbtxt, .pb or .onnx) and print it in the nn dialect");
  import->add_option("model", importArgs.model, kModelFiles)->required();
  import
      ->add_option("--emit", importArgs.emit,
                   "what to print: nn (the nn dialect) or proto (the parsed graph)")
      ->check(CLI::IsMember({"nn", "proto"}));
  import->add_flag("--debug-info", importArgs.debugInfo,
                   "print locations (node names, lines) with the IR");

  nncc::tool::CompileArgs compileArgs;
  CLI::App *compile =
      app.add_subcommand("compile", "compile a model into an executable (.nnx) for the runtime");
  compile->add_option("model", compileArgs.model, kModelFiles)->required();
  compile->add_option("-o,--output", compileArgs.output, "the .nnx file to write");
  compile
      ->add_option("--target", compileArgs.target,
                   "cpu (native code for this machine) or cuda (PTX and CUBIN by NVRTC)")
      ->capture_default_str()
      ->check(CLI::IsMember({"cpu", "cuda"}));
  compile->add_option("--cpu", compileArgs.cpu,
                      "the CPU target's CPU: native (this machine's; the default), x86-64, "
                      "x86-64-v2, x86-64-v3 (AVX2, FMA), x86-64-v4 (AVX-512) or an LLVM CPU "
                      "name (znver4, skylake, ...; with --triple, that target's: neoverse-n1, "
                      "...; default generic); the .nnx runs on CPUs with its features");
  compile->add_option("--triple", compileArgs.triple,
                      "the CPU target's LLVM triple, to cross-compile (aarch64-linux-gnu; "
                      "linked by ld.lld-19); default this machine's. The .nnx runs only on "
                      "that architecture");
  compile
      ->add_option("--cuda-arch", compileArgs.cudaArch,
                   "the CUDA target's compute capability: PTX for compute_ARCH, CUBIN "
                   "for sm_ARCH; 90a: also sm_90a's TMA and wgmma product kernels with "
                   "--cuda-precision=tf32|bf16")
      ->capture_default_str();
  compile
      ->add_option("--cuda-precision", compileArgs.cudaPrecision,
                   "how the CUDA target's tiled products multiply: fp32 (exact), or "
                   "tf32 or bf16 (tensor cores, operands rounded, fp32 accumulation; "
                   "--cuda-arch 80 or newer)")
      ->capture_default_str()
      ->check(CLI::IsMember({"fp32", "tf32", "bf16"}));
  compile
      ->add_option("--emit", compileArgs.emit,
                   "print a stage instead of writing the executable: nn (as "
                   "imported), autodiff (gradients, updates, variables as "
                   "arguments), fused (nn.fusion kernels), linalg, llvm-dialect or "
                   "llvm (optimized LLVM IR); for the CUDA target cuda (the kernels' CUDA C++) "
                   "or ptx")
      ->check(CLI::IsMember(
          {"nn", "autodiff", "fused", "linalg", "llvm-dialect", "llvm", "cuda", "ptx"}));
  compile->add_flag("--timing", compileArgs.timing,
                    "print each phase's wall time (import, autodiff, fusion, lowering, "
                    "LLVM optimization, code generation, linking) to stderr");
  compile->add_flag("--no-cache", compileArgs.noCache,
                    "neither read nor write the compile cache (~/.cache/nncc, "
                    "$NNCC_CACHE_DIR; NNCC_NO_CACHE=1 turns it off everywhere)");
  compile->add_flag("--data-parallel", compileArgs.dataParallel,
                    "training steps average their gradients over the ranks of the run "
                    "(nn.all_reduce: MPI on the CPU) before the update");
  compile->add_flag("--check-numerics", compileArgs.checkNumerics,
                    "check every floating-point op for NaN and Inf at run time: a run "
                    "fails naming the first op that produced one (slower, unfused)");

  std::string infoPath;
  CLI::App *info = app.add_subcommand(
      "info", "show an executable's signatures, feeds, fetches, variables, kernels (a model is "
              "compiled first)");
  info->add_option("executable", infoPath, ".nnx file, or a model file")->required();

  nncc::tool::ExportArgs exportArgs;
  CLI::App *exportCmd = app.add_subcommand(
      "export", "write an inference signature as an ONNX model (opset 13), with the "
                "variables' initial values or a checkpoint's");
  exportCmd->add_option("model", exportArgs.model, kModelFiles)->required();
  exportCmd->add_option("-o,--output", exportArgs.output, "the .onnx file to write")->required();
  exportCmd->add_option("-s,--signature", exportArgs.signature, "the signature to export")
      ->capture_default_str();
  exportCmd->add_option("--checkpoint", exportArgs.checkpoint,
                        "the variables' values from this checkpoint (e.g. of nncc train)");

  nncc::tool::RunArgs runArgs;
  CLI::App *run = app.add_subcommand(
      "run", "run a signature of a model (.nnx, or a .pbtxt/.pb/.onnx compiled on the fly)");
  run->add_option("model", runArgs.model, ".nnx executable or .pbtxt/.pb/.onnx model")->required();
  run->add_option("-s,--signature", runArgs.signature,
                  "the signature to run (may be left out when there is one)");
  run->add_option("--feed", runArgs.feeds,
                  "name=file.npy or name=literal (1.0, [1,2,3], [[1,2],[3,4]])");
  run->add_option("--fetch", runArgs.fetches,
                  "tensors to print (all the signature's fetches when left out)");
  run->add_option("-o,--output", runArgs.output,
                  "write the (single) fetched tensor to this .npy file");
  run->add_option("--precision", runArgs.precision,
                  "print floats with this many digits after the point");
  run->add_option("--checkpoint", runArgs.checkpoint,
                  "restore the variables from this checkpoint before running");
  run->add_option("--save-checkpoint", runArgs.saveCheckpoint,
                  "write the variables to this checkpoint after running");
  run->add_flag("--check-numerics", runArgs.checkNumerics,
                "fail naming the first op that produces NaN or Inf (a model is "
                "compiled so; a .nnx must have been)");
  run->add_option("--repeat", runArgs.repeat,
                  "run the signature this many times (training steps), print the last")
      ->check(CLI::Range(1, 1000000000));

  nncc::tool::TrainArgs trainArgs;
  CLI::App *train = app.add_subcommand(
      "train", "train a model (mlp: the built-in textbook MLP, cnn: the CNN chapter's network, "
               "or a .pbtxt with a "
               "training signature) on idx data");
  train
      ->add_option("model,--model", trainArgs.model,
                   "mlp, cnn, or a .pbtxt/.pb model whose training signature feeds images and "
                   "labels")
      ->capture_default_str();
  train->add_option("-s,--signature", trainArgs.signature,
                    "the training signature (default: the one with a loss)");
  train->add_option("--data", trainArgs.data, "directory of MNIST-format idx files (.gz or plain)")
      ->capture_default_str();
  train->add_option("--epochs", trainArgs.epochs, "epochs")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  train
      ->add_option("--train-images", trainArgs.trainImages,
                   "train on the first N training images (default: all)")
      ->check(CLI::NonNegativeNumber);
  train->add_option("--batch", trainArgs.batch, "mini-batch size")
      ->capture_default_str()
      ->check(CLI::Range(int64_t(1), int64_t(1) << 31));
  train
      ->add_option("--steps-per-call", trainArgs.stepsPerCall,
                   "training steps per call, compiled as one loop over the training set "
                   "(on the device, uploaded once)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  train->add_option("--lr", trainArgs.lr, "learning rate (mlp: 0.001; a model: its own)");
  train->add_option("--optimizer", trainArgs.optimizer, "sgd, adam or rmsprop (mlp: sgd)")
      ->check(CLI::IsMember({"sgd", "adam", "rmsprop"}));
  train->add_option("--momentum", trainArgs.momentum, "SGD or RMSProp momentum");
  train->add_option("--beta1", trainArgs.beta1, "Adam's beta1 (0.9)");
  train->add_option("--beta2", trainArgs.beta2, "Adam's beta2 (0.999)");
  train->add_option("--epsilon", trainArgs.epsilon, "Adam's or RMSProp's epsilon (1e-7)");
  train->add_option("--rho", trainArgs.rho, "RMSProp's rho (0.9)");
  train->add_option("--decay", trainArgs.decay, "learning-rate decay (Keras)");
  train->add_flag("--nesterov", trainArgs.nesterov, "Nesterov momentum");
  train
      ->add_option("--validation-split", trainArgs.validationSplit,
                   "fraction of the training samples (the last ones) held out")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.99));
  train->add_option("--seed", trainArgs.seed, "seed of the shuffling (and of mlp's weights)")
      ->capture_default_str();
  train->add_option("--hidden", trainArgs.hidden, "mlp: hidden tanh layer widths")
      ->capture_default_str()
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  train->add_option("--device", trainArgs.device, "cpu")->capture_default_str();
  train->add_option("--restore", trainArgs.restore, "start from this checkpoint");
  train->add_option("--checkpoint", trainArgs.checkpoint, "write the trained variables here");
  train->add_option("--history", trainArgs.history, "write the per-epoch history as CSV here");
  train->add_option("--plots", trainArgs.plots,
                    "write loss.svg (and accuracy.svg) into this directory");
  train->add_option("--save-model", trainArgs.saveModel,
                    "write the model trained as protobuf text (for nncc run/compile)");
  train->add_option("--test-inputs", trainArgs.testInputs,
                    "write the test images as fed (standardized) to this .npy");
  train->add_option("--predictions", trainArgs.predictions,
                    "write the predict signature's output on the test set to this .npy");
  train->add_flag("-q,--quiet", trainArgs.quiet, "no progress report");
  train->add_flag("--data-parallel", trainArgs.dataParallel,
                  "train across the ranks of mpirun (mpirun -np N nncc train ...): each "
                  "takes its shard of every batch (--batch is the global batch) and the "
                  "gradients are averaged over them (Open MPI); rank 0 reports and writes");
  train->add_flag("--check-numerics", trainArgs.checkNumerics,
                  "stop at the first op that produces NaN or Inf, naming it (slower)");

  for (auto [cmd, flag, bindings] :
       {std::tuple{import, &importArgs.trainableInitializers, &importArgs.bindings},
        std::tuple{compile, &compileArgs.trainableInitializers, &compileArgs.bindings},
        std::tuple{run, &runArgs.trainableInitializers, &runArgs.bindings}}) {
    cmd->add_flag("--trainable-initializers", *flag,
                  "ONNX: make the float initializers trainable variables (frozen ones "
                  "otherwise)");
    cmd->add_option("--bind", *bindings,
                    "ONNX: NAME=VALUE fixes graph input NAME when the model is compiled (a "
                    "shape or axes fed as an input); a literal or .npy, integers as int64");
  }

  CLI11_PARSE(app, argc, argv);
  if (*train)
    return nncc::tool::runTrain(trainArgs);
  if (*import)
    return nncc::tool::runImport(importArgs);
  if (*compile)
    return nncc::tool::runCompile(compileArgs);
  if (*exportCmd)
    return nncc::tool::runExport(exportArgs);
  if (*info)
    return nncc::tool::runInfo(infoPath);
  if (*run)
    return nncc::tool::runRun(runArgs);
  return 1;
}
