#include "compiler/driver/Compiler.h"
#include "compiler/driver/CompileCache.h"

#include "compiler/cpu/CodeGen.h"
#include "compiler/cpu/Passes.h"
#include "compiler/cpu/TargetCpu.h"
#include "compiler/cuda/CudaEmitter.h"
#include "compiler/import/GraphImporter.h"
#include "compiler/transforms/Passes.h"
#include "nn/IR/NNDialect.h"
#include "runtime/Executable.h"
#include "runtime/FramedFile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"

#include <chrono>
#include <cstdlib>

using namespace mlir;

namespace nncc {
namespace {

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message.str());
}

graph::DataType toDataType(Type elt) {
  if (elt.isF32())
    return graph::F32;
  if (elt.isF64())
    return graph::F64;
  if (elt.isInteger(32))
    return graph::I32;
  if (elt.isInteger(64))
    return graph::I64;
  if (elt.isInteger(1))
    return graph::BOOL;
  return graph::DT_INVALID;
}

void fillSpec(exe::TensorSpec &spec, StringRef name, Type type, bool flat) {
  auto tensor = cast<RankedTensorType>(type);
  spec.set_name(name.str());
  spec.set_dtype(toDataType(tensor.getElementType()));
  spec.set_flat(flat);
  if (flat)
    return;
  for (int64_t d : tensor.getShape())
    spec.add_dims(ShapedType::isDynamic(d) ? -1 : d);
}

/// The loop signatures' entries in the table (graph.proto: Loop): the
/// step's feeds with all the rows, then `order`, `first` and `batch`; each of the
/// step's fetches, which must be scalars, per step; the step's variables
/// and updates.
LogicalResult describeLoops(ModuleOp module, exe::Executable &out) {
  auto loops = module->getAttrOfType<ArrayAttr>(nn::kLoopsAttr);
  if (!loops)
    return success();
  for (Attribute a : loops) {
    auto loop = cast<DictionaryAttr>(a);
    auto text = [&](StringRef key) { return loop.getAs<StringAttr>(key).str(); };
    auto number = [&](StringRef key) { return loop.getAs<IntegerAttr>(key).getInt(); };
    const exe::SignatureSpec *step = nullptr;
    for (const exe::SignatureSpec &sig : out.signatures())
      if (sig.name() == text("step"))
        step = &sig;
    if (!step)
      return module.emitError() << "loop signature '" << text("name") << "': no step signature '"
                                << text("step") << "'";
    exe::SignatureSpec sig = *step;
    sig.set_name(text("name"));
    sig.set_entry(cpu::entrySymbol(sig.name()));
    sig.mutable_loop()->set_step(text("step"));
    sig.mutable_loop()->set_steps(number("steps"));
    for (exe::TensorSpec &feed : *sig.mutable_feeds()) {
      if (feed.flat() || feed.dims_size() == 0)
        return module.emitError() << "loop signature '" << sig.name() << "': the step's feed '"
                                  << feed.name() << "' is not a batch of rows";
      feed.set_dims(0, -1);
    }
    for (const exe::TensorSpec &feed : sig.feeds())
      if (feed.name() == "order" || feed.name() == "first" || feed.name() == "batch")
        return module.emitError() << "loop signature '" << sig.name() << "': the step feeds '"
                                  << feed.name() << "', the name of the loop's own feed";
    exe::TensorSpec &order = *sig.add_feeds();
    order.set_name("order");
    order.set_dtype(graph::I32);
    order.add_dims(-1);
    for (const char *scalar : {"first", "batch"}) {
      exe::TensorSpec &spec = *sig.add_feeds();
      spec.set_name(scalar);
      spec.set_dtype(graph::I32);
    }
    for (exe::TensorSpec &fetch : *sig.mutable_fetches()) {
      if (fetch.flat() || fetch.dims_size() != 0)
        return module.emitError() << "loop signature '" << sig.name() << "': the step's fetch '"
                                  << fetch.name()
                                  << "' is not a scalar (a loop returns one "
                                     "value of each fetch per step)";
      fetch.add_dims(number("steps"));
    }
    *out.add_signatures() = std::move(sig);
  }
  return success();
}

/// The signature table, read off the functions before they are lowered.
LogicalResult describeSignatures(ModuleOp module, exe::Executable &out) {
  for (func::FuncOp func : module.getOps<func::FuncOp>()) {
    auto &sig = *out.add_signatures();
    sig.set_name(func.getSymName().str());
    sig.set_entry(cpu::entrySymbol(func.getSymName()));
    auto names = [&](StringRef attr) {
      SmallVector<StringRef> list;
      if (auto array = func->getAttrOfType<ArrayAttr>(attr))
        for (Attribute a : array)
          list.push_back(cast<StringAttr>(a).getValue());
      return list;
    };
    auto flat = [&](StringRef attr, int64_t i) {
      auto list = func->getAttrOfType<DenseI64ArrayAttr>(attr);
      return list && llvm::is_contained(list.asArrayRef(), i);
    };
    FunctionType type = func.getFunctionType();
    auto feeds = names("nn.feeds"), fetches = names("nn.fetches");
    for (auto [i, name] : llvm::enumerate(feeds)) {
      if (!isa<RankedTensorType>(type.getInput(i)))
        return func.emitError() << "feed '" << name
                                << "' has an unknown rank, and the signature is "
                                   "not elementwise-only code that could run "
                                   "flattened; give the placeholder a shape";
      fillSpec(*sig.add_feeds(), name, type.getInput(i), flat("nn.flat_feeds", i));
    }
    for (auto [i, name] : llvm::enumerate(fetches)) {
      if (!isa<RankedTensorType>(type.getResult(i)))
        return func.emitError() << "fetch '" << name << "' has an unknown rank";
      fillSpec(*sig.add_fetches(), name, type.getResult(i), flat("nn.flat_fetches", i));
    }
    for (StringRef v : names("nn.variables"))
      sig.add_variables(v.str());
    for (StringRef v : names("nn.updates"))
      sig.add_updates(v.str());
    if (auto loss = func->getAttrOfType<StringAttr>("nn.loss"))
      sig.set_loss(loss.str());
  }
  return describeLoops(module, out);
}

/// What a data-parallel step's collectives cost: its nn.all_reduce calls
/// and the bytes they reduce.
void describeAllReduces(ModuleOp module, exe::Executable &out) {
  for (func::FuncOp func : module.getOps<func::FuncOp>()) {
    uint32_t calls = 0;
    uint64_t bytes = 0;
    func.walk([&](nn::AllReduceOp op) {
      ++calls;
      bytes += op.getBucketBytes();
    });
    for (exe::SignatureSpec &sig : *out.mutable_signatures())
      if (calls && sig.name() == func.getSymName()) {
        sig.set_all_reduce_calls(calls);
        sig.set_all_reduce_bytes(bytes);
      }
  }
}

/// A variable's spec: the graph's own initializer when it has one (its
/// tensor is kept as given), zeros for the ones the compiler added.
void describeVariable(nn::VariableOp var, const graph::Graph &g, exe::VariableSpec &spec) {
  auto type = cast<RankedTensorType>(var.getType());
  spec.set_name(var.getSymName().str());
  spec.set_dtype(toDataType(type.getElementType()));
  for (int64_t d : type.getShape())
    spec.add_shape(d);
  spec.set_frozen(var.getFrozen());
  for (const graph::Variable &v : g.variables())
    if (v.name() == spec.name()) {
      *spec.mutable_initializer() = v.initializer();
      return;
    }
  spec.mutable_initializer()->set_kind(graph::Initializer::ZEROS);
}

LogicalResult runPasses(ModuleOp module, llvm::function_ref<void(OpPassManager &)> build) {
  PassManager pm(module.getContext());
  build(pm);
  return pm.run(module);
}

/// The CUDA target: the fused module as a CUDA program, compiled by NVRTC
/// to PTX (and CUBIN) unless a stage is printed instead.
llvm::Expected<exe::Executable> compileCuda(ModuleOp module, exe::Executable out,
                                            const llvm::StringMap<unsigned> &kernelCounts,
                                            const CompileOptions &options) {
  if (options.cudaPrecision != cuda::Precision::FP32 && std::atoi(options.cudaArch.c_str()) < 80)
    return fail(std::string("--cuda-precision=") + cuda::precisionName(options.cudaPrecision) +
                " needs compute capability 80 or newer (tensor cores with TF32 and "
                "BF16), not " +
                options.cudaArch + " (--cuda-arch)");
  auto program = cuda::emitCudaProgram(module, options.cudaPrecision, options.cudaArch);
  if (failed(program))
    return fail(out.model() + ": generating the CUDA kernels failed (see above)");
  if (options.emit == Stage::Cuda) {
    *options.emitTo << program->source();
    return exe::Executable();
  }
  // A signature's entry is its first kernel.
  for (exe::SignatureSpec &sig : *out.mutable_signatures()) {
    sig.set_kernels(kernelCounts.lookup(sig.name()));
    for (const exe::CudaSignature &c : program->signatures())
      if (c.name() == sig.name())
        sig.set_entry(c.launches_size() ? c.launches(0).kernel() : "");
  }
  std::string arch = "compute_" + options.cudaArch, sm = "sm_" + options.cudaArch;
  if (!options.nvrtc) { // the target still says which kernels the runtime may launch
    program->set_arch(arch);
    program->set_sm(sm);
    *out.mutable_cuda() = std::move(*program);
    return out;
  }
  // One compilation for the GPU gives both images; only --emit=ptx wants
  // the virtual architecture's PTX alone.
  bool ptxOnly = options.emit == Stage::Ptx;
  auto images = cuda::nvrtcCompile(program->source(), ptxOnly ? arch : sm);
  if (!images)
    return images.takeError();
  if (ptxOnly) {
    *options.emitTo << images->ptx;
    return exe::Executable();
  }
  program->set_ptx(std::move(images->ptx));
  program->set_cubin(std::move(images->cubin));
  program->set_arch(arch);
  program->set_sm(sm);
  *out.mutable_cuda() = std::move(*program);
  return out;
}

} // namespace

std::optional<Stage> parseStage(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<Stage>>(name)
      .Case("nn", Stage::NN)
      .Case("autodiff", Stage::Autodiff)
      .Case("fused", Stage::Fused)
      .Case("linalg", Stage::Linalg)
      .Case("llvm-dialect", Stage::LLVMDialect)
      .Case("llvm", Stage::LLVMIR)
      .Case("cuda", Stage::Cuda)
      .Case("ptx", Stage::Ptx)
      .Default(std::nullopt);
}

namespace {
/// Prints the wall time of each phase since the previous one (or nothing).
class PhaseTimer {
public:
  explicit PhaseTimer(llvm::raw_ostream *os) : os_(os) {}
  void done(llvm::StringRef phase) {
    if (!os_)
      return;
    auto now = std::chrono::steady_clock::now();
    *os_ << llvm::format("%-36s %8.1f ms\n", (phase + ":").str().c_str(),
                         std::chrono::duration<double, std::milli>(now - last_).count());
    last_ = now;
  }

private:
  llvm::raw_ostream *os_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};
} // namespace

static llvm::Expected<exe::Executable> compileUncached(MLIRContext &ctx, const LoadedGraph &graph,
                                                       const CompileOptions &options) {
  PhaseTimer timer(options.timingTo);
  // A CPU name that does not exist fails before any work.
  auto targetCpu = cpu::resolveTargetCpu(options.cpu, options.triple);
  if (!targetCpu)
    return targetCpu.takeError();
  DialectRegistry registry;
  cpu::registerCpuDialects(registry);
  ctx.appendDialectRegistry(registry);
  OwningOpRef<ModuleOp> module = importGraph(ctx, graph);
  if (!module)
    return fail(graph.path + ": the model has errors (see above)");
  timer.done("import");
  auto stageFailed = [&](const char *stage) {
    return fail(graph.path + ": " + stage + " failed (see above)");
  };

  if (options.emit == Stage::NN) {
    module->print(*options.emitTo);
    return exe::Executable();
  }
  if (failed(runPasses(*module,
                       [&](OpPassManager &pm) { addPreparationPasses(pm, options.dataParallel); })))
    return stageFailed("preparing the graph");
  timer.done("autodiff and optimizer");
  if (options.emit == Stage::Autodiff) {
    module->print(*options.emitTo);
    return exe::Executable();
  }
  // Checked ops stay ops of their own: the checks sit between them.
  bool fuse = options.fuse && !options.checkNumerics;
  if (options.checkNumerics &&
      failed(runPasses(*module, [](OpPassManager &pm) { pm.addPass(createCheckNumericsPass()); })))
    return stageFailed("adding numeric checks");
  if (fuse && failed(runPasses(*module, [](OpPassManager &pm) {
        pm.addNestedPass<func::FuncOp>(createFusePass());
      })))
    return stageFailed("fusion");
  timer.done("fusion");
  if (options.emit == Stage::Fused) {
    module->print(*options.emitTo);
    return exe::Executable();
  }
  // A signature's kernels are its nn.fusion groups (unfused: its ops).
  llvm::StringMap<unsigned> kernelCounts;
  for (func::FuncOp func : module->getOps<func::FuncOp>())
    for (Operation &op : func.getBody().getOps())
      if (isa<nn::FusionOp>(op) || (!fuse && isa<nn::NNDialect>(op.getDialect()) &&
                                    !isa<nn::ConstantOp, nn::CheckNumericsOp>(op)))
        ++kernelCounts[func.getSymName()];
  exe::Executable out;
  out.set_format_version(rt::kFormatVersion);
  out.set_producer(std::string("nncc ") + NNCC_VERSION);
  out.set_model(graph.graph.name());
  out.set_target(options.target == Target::Cuda ? "cuda" : "cpu");
  if (auto checks = (*module)->getAttrOfType<ArrayAttr>(kNumericChecksAttr)) {
    for (Attribute what : checks)
      out.add_numeric_checks(cast<StringAttr>(what).str());
    (*module)->removeAttr(kNumericChecksAttr);
  }
  // The graph's variables and those the optimizer added (slots, counters).
  for (nn::VariableOp var : module->getOps<nn::VariableOp>())
    describeVariable(var, graph.graph, *out.add_variables());
  if (failed(describeSignatures(*module, out)))
    return stageFailed("describing the signatures");
  describeAllReduces(*module, out);
  if (options.target == Target::Cuda)
    return compileCuda(*module, std::move(out), kernelCounts, options);

  // The CPU backend fuses the same chains into loops itself (linalg fusion).
  if (failed(runPasses(*module, [](OpPassManager &pm) {
        pm.addNestedPass<func::FuncOp>(createInlineFusionsPass());
      })))
    return stageFailed("fusion");

  // The loop signatures: a native loop around their step's function.
  if (failed(runPasses(*module, [](OpPassManager &pm) { pm.addPass(cpu::createLoopsPass()); })))
    return stageFailed("compiling the loop signatures");

  // The kernels see variables as arguments only; the declarations go.
  for (auto var : llvm::make_early_inc_range(module->getOps<nn::VariableOp>()))
    var.erase();
  std::vector<std::string> entries;
  for (func::FuncOp func : module->getOps<func::FuncOp>()) {
    if (func.isExternal()) // a runtime hook's declaration (a loop's gather ahead)
      continue;
    func->setAttr("llvm.emit_c_interface", UnitAttr::get(&ctx));
    // Feeds are the caller's memory and variables the session's: kernels
    // read them in place but never write into them.
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      func.setArgAttr(i, "bufferization.writable", BoolAttr::get(&ctx, false));
    entries.push_back(func.getSymName().str());
  }

  if (failed(runPasses(*module, [](OpPassManager &pm) { cpu::buildLinalgPipeline(pm); })))
    return stageFailed("lowering to linalg");
  timer.done("lowering to linalg");
  for (exe::SignatureSpec &sig : *out.mutable_signatures())
    sig.set_kernels(kernelCounts.lookup(sig.name()));
  if (options.emit == Stage::Linalg) {
    module->print(*options.emitTo);
    return exe::Executable();
  }
  if (failed(runPasses(*module, [&](OpPassManager &pm) {
        cpu::buildLLVMPipeline(pm, targetCpu->vectorBits, targetCpu->vectorRegisters);
      })))
    return stageFailed("lowering to LLVM");
  timer.done("lowering to the LLVM dialect");
  if (options.emit == Stage::LLVMDialect) {
    module->print(*options.emitTo);
    return exe::Executable();
  }
  auto code = cpu::emitNativeCode(*module, entries, *targetCpu,
                                  options.emit == Stage::LLVMIR ? options.emitTo : nullptr,
                                  [&](llvm::StringRef phase) { timer.done(phase); });
  if (!code)
    return code.takeError();
  if (options.emit == Stage::LLVMIR)
    return exe::Executable();
  out.set_target_triple(code->triple);
  out.set_target_cpu(code->cpu);
  for (const std::string &feature : targetCpu->requiredFeatures)
    out.add_required_cpu_features(feature);
  out.set_shared_library(std::move(code->sharedLibrary));
  return out;
}

llvm::Expected<exe::Executable> compileModel(MLIRContext &ctx, const LoadedGraph &graph,
                                             const CompileOptions &options) {
  std::optional<std::string> dir;
  if (options.cache && options.emit == Stage::None)
    dir = compileCacheDir();
  if (!dir)
    return compileUncached(ctx, graph, options);
  auto start = std::chrono::steady_clock::now();
  std::string key = compileCacheKey(graph.graph, options);
  if (auto hit = readCachedExecutable(*dir, key)) {
    if (options.timingTo)
      *options.timingTo << llvm::format(
          "%-36s %8.1f ms\n", static_cast<const char *>("compile cache hit:"),
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
    return std::move(*hit);
  }
  auto compiled = compileUncached(ctx, graph, options);
  if (compiled)
    writeCachedExecutable(*dir, key, *compiled);
  return compiled;
}

llvm::Error writeExecutable(const exe::Executable &executable, const std::string &path) {
  std::string bytes;
  if (!executable.SerializeToString(&bytes))
    return fail(path + ": the executable does not serialize (over 2 GiB?)");
  if (auto status = rt::writeFramed(rt::kExecutableFile, bytes, path); !status.ok())
    return fail(status.message());
  return llvm::Error::success();
}

} // namespace nncc
