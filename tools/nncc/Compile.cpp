// nncc import, compile and info.
#include "compiler/driver/Compiler.h"
#include "compiler/driver/Diagnostics.h"
#include "compiler/import/GraphImporter.h"
#include "runtime/Executable.h"
#include "runtime/Session.h"
#include "tools/nncc/Commands.h"
#include "tools/nncc/Feeds.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/raw_ostream.h"

#include <google/protobuf/text_format.h>

#include <iostream>

namespace nncc::tool {

std::string versionString() {
  return std::string("nncc ") + NNCC_VERSION +
         " (LLVM/MLIR " LLVM_VERSION_STRING ")\nexecutables (.nnx): format " +
         std::to_string(rt::kFormatVersion) + "; checkpoints: format " +
         std::to_string(rt::kCheckpointVersion) +
         "; models: graph.proto, ONNX opsets 7-17 (and older ones where an op is unchanged)";
}

/// A model that could not be read: its error, one line per message.
void reportUnreadable(llvm::Error error) {
  std::string text = llvm::toString(std::move(error));
  llvm::errs() << text << (text.empty() || text.back() != '\n' ? "\n" : "");
}

int runImport(const ImportArgs &args) {
  ReadOptions read;
  read.trainableInitializers = args.trainableInitializers;
  if (auto bound = readBindings(args.bindings); !bound) {
    std::cerr << "error: " << bound.error() << "\n";
    return 2;
  } else {
    read.constantInputs = std::move(*bound);
  }
  auto loaded = readGraphFile(args.model, read);
  if (!loaded) {
    reportUnreadable(loaded.takeError());
    return 1;
  }
  if (args.emit == "proto") {
    std::string text;
    google::protobuf::TextFormat::PrintToString(loaded->graph, &text);
    std::cout << text;
    return 0;
  }
  mlir::MLIRContext ctx;
  DiagnosticPrinter printer(ctx);
  auto module = importGraph(ctx, *loaded);
  if (!module)
    return 1;
  mlir::OpPrintingFlags flags;
  if (args.debugInfo)
    flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false);
  module->print(llvm::outs(), flags);
  llvm::outs() << "\n";
  return 0;
}

int runCompile(const CompileArgs &args) {
  ReadOptions read;
  read.trainableInitializers = args.trainableInitializers;
  if (auto bound = readBindings(args.bindings); !bound) {
    std::cerr << "error: " << bound.error() << "\n";
    return 2;
  } else {
    read.constantInputs = std::move(*bound);
  }
  auto loaded = readGraphFile(args.model, read);
  if (!loaded) {
    reportUnreadable(loaded.takeError());
    return 1;
  }
  if (args.emit.empty() && args.output.empty()) {
    llvm::errs() << "nncc compile: give -o FILE.nnx (or --emit=STAGE to print a stage)\n";
    return 2;
  }
  CompileOptions options;
  options.checkNumerics = args.checkNumerics;
  options.dataParallel = args.dataParallel;
  options.cache = !args.noCache;
  if (args.timing)
    options.timingTo = &llvm::errs();
  if (!args.emit.empty())
    options.emit = *parseStage(args.emit);
  if (args.target == "cuda" || args.emit == "cuda" || args.emit == "ptx")
    options.target = Target::Cuda;
  options.cpu = args.cpu;
  options.triple = args.triple;
  options.cudaArch = args.cudaArch;
  options.cudaPrecision = *cuda::parsePrecision(args.cudaPrecision); // checked by the CLI
  mlir::MLIRContext ctx;
  DiagnosticPrinter printer(ctx);
  auto executable = compileModel(ctx, *loaded, options);
  if (!executable) {
    llvm::errs() << "error: " << llvm::toString(executable.takeError()) << "\n";
    return 1;
  }
  if (!args.emit.empty())
    return 0;
  if (auto err = writeExecutable(*executable, args.output)) {
    llvm::errs() << "error: " << llvm::toString(std::move(err)) << "\n";
    return 1;
  }
  return 0;
}

static std::string specText(const exe::TensorSpec &spec) {
  std::string s = spec.name() + ": " + graph::DataType_Name(spec.dtype());
  if (spec.flat())
    return s + " (any shape)";
  s += " (";
  for (int i = 0; i < spec.dims_size(); ++i)
    s += (i ? ", " : "") + (spec.dims(i) < 0 ? std::string("?") : std::to_string(spec.dims(i)));
  return s + (spec.dims_size() == 1 ? ",)" : ")");
}

/// A model file compiled in memory, for info.
static std::optional<exe::Executable> compiledModel(const std::string &path) {
  auto loaded = readGraphFile(path);
  if (!loaded) {
    reportUnreadable(loaded.takeError());
    return std::nullopt;
  }
  mlir::MLIRContext ctx;
  DiagnosticPrinter printer(ctx);
  auto executable = compileModel(ctx, *loaded);
  if (!executable) {
    llvm::errs() << "error: " << llvm::toString(executable.takeError()) << "\n";
    return std::nullopt;
  }
  return std::move(*executable);
}

int runInfo(const std::string &path) {
  std::optional<exe::Executable> compiled;
  if (!llvm::StringRef(path).ends_with(".nnx")) {
    compiled = compiledModel(path);
    if (!compiled)
      return 1;
  } else {
    auto exe = rt::readExecutable(path);
    if (!exe) {
      std::cerr << "error: " << exe.error() << "\n";
      return 1;
    }
    compiled = std::move(*exe);
  }
  const exe::Executable &p = *compiled;
  std::cout << path << ": model '" << p.model() << "', " << p.producer() << ", format "
            << p.format_version() << "\n  target " << p.target();
  if (p.target() == "cuda")
    std::cout << " (PTX for " << p.cuda().arch() << ", " << p.cuda().ptx().size()
              << " bytes; CUBIN for " << p.cuda().sm() << ", " << p.cuda().cubin().size()
              << " bytes; " << p.cuda().buffers_size() << " buffers; products in "
              << (p.cuda().precision().empty() ? "fp32" : p.cuda().precision()) << ")\n";
  else {
    std::cout << " (" << p.target_triple() << ", tuned for " << p.target_cpu() << "), kernels "
              << p.shared_library().size() << " bytes\n";
    if (p.required_cpu_features_size()) {
      std::cout << "  requires CPU features:";
      for (const std::string &f : p.required_cpu_features())
        std::cout << " " << f;
      std::cout << "\n";
    }
  }
  std::cout << "variables:\n";
  for (const exe::VariableSpec &v : p.variables()) {
    std::cout << "  " << v.name() << ": " << graph::DataType_Name(v.dtype()) << " (";
    for (int i = 0; i < v.shape_size(); ++i)
      std::cout << (i ? ", " : "") << v.shape(i);
    std::cout << (v.shape_size() == 1 ? ",)" : ")") << ", "
              << graph::Initializer::Kind_Name(v.initializer().kind()) << "\n";
  }
  std::cout << "signatures:\n";
  for (const exe::SignatureSpec &sig : p.signatures()) {
    std::cout << "  " << sig.name() << " (" << sig.kernels() << " kernels)\n";
    if (sig.all_reduce_calls() > 0)
      std::cout << "    data-parallel: " << sig.all_reduce_calls() << " all-reduce call"
                << (sig.all_reduce_calls() == 1 ? "" : "s") << " of " << sig.all_reduce_bytes()
                << " bytes a step\n";
    for (const auto &f : sig.feeds())
      std::cout << "    feed  " << specText(f) << "\n";
    for (const auto &f : sig.fetches())
      std::cout << "    fetch " << specText(f) << "\n";
    for (const auto &v : sig.variables())
      std::cout << "    reads " << v << "\n";
    for (const auto &v : sig.updates())
      std::cout << "    updates " << v << "\n";
  }
  return 0;
}

} // namespace nncc::tool
