#include "compiler/cpu/CodeGen.h"
#include "runtime/Abi.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/Transforms/Utils/Cloning.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <numeric>
#include <thread>

namespace nncc::cpu {

static llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message.str());
}

std::string entrySymbol(llvm::StringRef signature) { return (abi::kEntryPrefix + signature).str(); }

/// void nncc_entry_S(void **args) { _mlir_ciface_S(args[0], args[1], ...); }
///
/// The signature's own function S takes every buffer as the fields of its
/// descriptor (pointers, offset, sizes, strides) and returns one aggregate
/// of all its results; its C interface unpacks the descriptors it is given
/// to call it. A deep network's step has thousands of such arguments, and
/// LLVM's code generator took longer on that call and those arguments than
/// on all the kernels (a 200-layer MLP's step: 4876 arguments, 4.3 s for
/// the C interface alone). S is inlined into its C interface, its only
/// caller, so the descriptors are read where they are used.
static llvm::Error addPackedEntry(llvm::Module &module, llvm::StringRef name) {
  llvm::Function *ciface = module.getFunction(("_mlir_ciface_" + name).str());
  if (!ciface)
    return fail("no C interface for signature '" + name + "'");
  if (llvm::Function *impl = module.getFunction(name); impl && !impl->isDeclaration()) {
    impl->setLinkage(llvm::GlobalValue::InternalLinkage);
    impl->addFnAttr(llvm::Attribute::AlwaysInline);
  }
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptr = llvm::PointerType::get(ctx, 0);
  auto *type = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr}, false);
  auto *entry =
      llvm::Function::Create(type, llvm::Function::ExternalLinkage, entrySymbol(name), module);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", entry));
  llvm::SmallVector<llvm::Value *> args;
  for (unsigned i = 0; i < ciface->arg_size(); ++i) {
    llvm::Value *slot = b.CreateConstGEP1_64(ptr, entry->getArg(0), i);
    args.push_back(b.CreateLoad(ptr, slot));
  }
  b.CreateCall(ciface, args);
  b.CreateRetVoid();
  return llvm::Error::success();
}

/// The host's C compiler driver links for this machine (with libm); another
/// architecture's objects need LLVM's lld, which leaves the kernels'
/// undefined symbols (libm's, the runtime's hooks) to the loader there, so
/// no sysroot is needed.
static llvm::Expected<std::string> linkSharedLibrary(const std::vector<std::string> &objects,
                                                     llvm::StringRef triple) {
  bool cross = !isHostTriple(triple);
  auto linker = llvm::sys::findProgramByName(cross ? "ld.lld-19" : "cc");
  if (!linker)
    return fail(cross ? "linking the kernels for " + triple +
                            " needs LLVM's linker ld.lld-19 (Debian package lld-19), not on PATH"
                      : llvm::Twine("no C compiler driver 'cc' on PATH to link the kernels"));
  llvm::SmallVector<llvm::SmallString<128>> objPaths;
  auto removeObjects = llvm::make_scope_exit([&] {
    for (auto &path : objPaths)
      llvm::sys::fs::remove(path);
  });
  for (const std::string &object : objects) {
    int fd;
    if (auto ec = llvm::sys::fs::createTemporaryFile("nncc", "o", fd, objPaths.emplace_back()))
      return fail("cannot create a temporary object file: " + ec.message());
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << object;
  }
  llvm::SmallString<128> soPath;
  if (auto ec = llvm::sys::fs::createTemporaryFile("nncc", "so", soPath))
    return fail("cannot create a temporary library file: " + ec.message());
  llvm::SmallVector<llvm::StringRef> argv = {*linker, "-shared", "-o", soPath};
  for (auto &path : objPaths)
    argv.push_back(path);
  if (!cross)
    argv.push_back("-lm");
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(*linker, argv, std::nullopt, {}, 0, 0, &message);
  auto bytes = llvm::MemoryBuffer::getFile(soPath);
  llvm::sys::fs::remove(soPath);
  if (rc != 0 || !bytes)
    return fail("linking the kernels failed: " + message);
  return (*bytes)->getBuffer().str();
}

/// LLVM's machine scheduler keeps maps of a region's memory operations and
/// chains each new one to those it cannot tell apart: quadratic in a region
/// of thousands, which a deep network's step has (its hundreds of variable
/// descriptors unpacked and the updates packed into the result); about
/// half of a 50-layer MLP's compile time was SUnit::addPred. Past
/// `dag-maps-huge-region` memory operations LLVM reduces the maps: 1000 by
/// default, 300 here (the 50-layer MLP's optimization and code generation
/// 7.3 -> 3.4 s; E7's step, the MLP's epoch and inference as fast as
/// before, in alternating benchmark runs). Unless the embedding app set it.
static void boundSchedulingRegions() {
  static bool once = [] {
    auto &options = llvm::cl::getRegisteredOptions();
    auto it = options.find("dag-maps-huge-region");
    if (it != options.end() && it->second->getNumOccurrences() == 0)
      (void)it->second->addOccurrence(0, "dag-maps-huge-region", "300");
    return true;
  }();
  (void)once;
}

/// What a thread needs to build its own TargetMachine for the target CPU.
struct HostMachine {
  const llvm::Target *target;
  std::string triple, cpu, features;

  std::unique_ptr<llvm::TargetMachine>
  create(llvm::CodeGenOptLevel level = llvm::CodeGenOptLevel::Aggressive) const {
    return std::unique_ptr<llvm::TargetMachine>(target->createTargetMachine(
        triple, cpu, features, llvm::TargetOptions(), llvm::Reloc::PIC_, std::nullopt, level));
  }
};

/// How a part of the module is optimized: kernels by O3; the signatures'
/// functions (glue: allocations, descriptors, kernel calls, no loops of
/// their own once nn-cpu-outline-ops has run) by a few cleanups (SROA,
/// InstCombine: the descriptors become registers) and the code generator's
/// fast path (FastISel, the fast register allocator). O3's interprocedural
/// and vectorizing passes and the full code generator grew faster than the
/// step on the glue of a deep network, one function of all its layers
/// (400 layers: instruction selection, register allocation and stack slot
/// coloring 5.3 s; this 0.4 s) and have nothing there to improve: the
/// textbook MLP's batch-1 inference and epoch run as fast as before.
enum class Optimization { Kernels, Glue };

static llvm::Error optimizeGlue(llvm::Module &module, llvm::TargetMachine &machine) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder builder(&machine);
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager passes;
  if (auto err = builder.parsePassPipeline(
          passes,
          "always-inline,function(sroa,early-cse,instcombine<no-verify-fixpoint>,simplifycfg)"))
    return err;
  passes.run(module, mam);
  return llvm::Error::success();
}

/// Optimization, then object code.
static llvm::Expected<std::string> optimizeAndEmit(llvm::Module &module,
                                                   llvm::TargetMachine &machine,
                                                   Optimization optimization,
                                                   llvm::function_ref<void(llvm::StringRef)> done) {
  if (optimization == Optimization::Glue) {
    if (auto err = optimizeGlue(module, machine))
      return err;
  } else if (auto err = mlir::makeOptimizingTransformer(3, 0, &machine)(&module)) {
    return err;
  }
  done("LLVM optimization");
  llvm::SmallVector<char> object;
  llvm::raw_svector_ostream os(object);
  llvm::legacy::PassManager pm;
  if (machine.addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile))
    return fail("the target cannot emit object files");
  pm.run(module);
  done("code generation");
  return std::string(object.data(), object.size());
}

/// A function's group: a kernel with its task wrapper, a signature with its
/// C interface and packed entry. Each group goes whole to one partition, so
/// LLVM still inlines within it.
static llvm::StringRef groupName(llvm::StringRef name) {
  name.consume_back("_task");
  if (!name.consume_front("_mlir_ciface_"))
    name.consume_front(abi::kEntryPrefix);
  return name;
}

/// A part of the module, as bitcode (each thread reads its part into a
/// context of its own), and how to optimize it.
struct Part {
  std::string bitcode;
  Optimization optimization;
  uint64_t size;
};

/// Splits `module` for parallel optimization and code generation: the
/// kernels into at most `kernelParts` parts of about the same size, each
/// signature's group into a part of its own (Optimization::Glue). Internal
/// symbols used from another part become hidden external ones. Empty when
/// the module does not split.
static std::vector<Part> splitModule(llvm::Module &module, unsigned kernelParts,
                                     const std::vector<std::string> &signatures) {
  if (!module.alias_empty() || !module.ifunc_empty())
    return {};
  for (const llvm::GlobalVariable &gv : module.globals())
    if (gv.hasAppendingLinkage() || gv.hasComdat())
      return {};
  // Groups in module order; a global variable joins its first user's group.
  llvm::MapVector<llvm::StringRef, uint64_t> groupSize;
  llvm::DenseMap<const llvm::GlobalValue *, llvm::StringRef> group;
  for (const llvm::Function &f : module) {
    if (f.isDeclaration())
      continue;
    if (f.hasComdat())
      return {};
    llvm::StringRef g = groupName(f.getName());
    group[&f] = g;
    groupSize[g] += f.getInstructionCount() + 1;
  }
  // The groups whose code uses `v` (through constants and initializers).
  std::function<void(const llvm::Value *, llvm::SmallVectorImpl<llvm::StringRef> &)> users =
      [&](const llvm::Value *v, llvm::SmallVectorImpl<llvm::StringRef> &out) {
        for (const llvm::User *u : v->users()) {
          if (auto *inst = llvm::dyn_cast<llvm::Instruction>(u))
            out.push_back(group.lookup(inst->getFunction()));
          else if (auto *gv = llvm::dyn_cast<llvm::GlobalValue>(u))
            out.push_back(group.lookup(gv));
          else
            users(u, out);
        }
      };
  for (llvm::GlobalVariable &gv : module.globals()) {
    if (gv.isDeclaration())
      continue;
    llvm::SmallVector<llvm::StringRef> used;
    users(&gv, used);
    group[&gv] = used.empty() || used.front().empty() ? groupSize.front().first : used.front();
  }
  auto externalize = [](llvm::GlobalValue &gv) {
    if (!gv.hasLocalLinkage())
      return;
    if (!gv.hasName())
      gv.setName("__nncc_unnamed");
    gv.setLinkage(llvm::GlobalValue::ExternalLinkage);
    gv.setVisibility(llvm::GlobalValue::HiddenVisibility);
  };
  for (llvm::GlobalValue *gv : [&] {
         llvm::SmallVector<llvm::GlobalValue *> defs;
         for (llvm::Function &f : module)
           if (!f.isDeclaration())
             defs.push_back(&f);
         for (llvm::GlobalVariable &v : module.globals())
           if (!v.isDeclaration())
             defs.push_back(&v);
         return defs;
       }()) {
    llvm::SmallVector<llvm::StringRef> used;
    users(gv, used);
    if (llvm::any_of(used, [&](llvm::StringRef g) { return g != group.lookup(gv); }))
      externalize(*gv);
  }
  // Each signature a part; the largest kernel groups first, each to the
  // least loaded kernel part.
  std::vector<Part> parts;
  llvm::StringMap<unsigned> partOf;
  std::vector<std::pair<uint64_t, llvm::StringRef>> kernels;
  for (auto &[name, size] : groupSize) {
    if (llvm::is_contained(signatures, name)) {
      partOf[name] = parts.size();
      parts.push_back({"", Optimization::Glue, size});
    } else {
      kernels.push_back({size, name});
    }
  }
  std::stable_sort(kernels.begin(), kernels.end(),
                   [](auto &a, auto &b) { return a.first > b.first; });
  unsigned first = parts.size();
  parts.resize(first + std::min<size_t>(std::max(1u, kernelParts), kernels.size()),
               {"", Optimization::Kernels, 0});
  for (auto &[size, name] : kernels) {
    auto least = std::min_element(parts.begin() + first, parts.end(),
                                  [](const Part &a, const Part &b) { return a.size < b.size; });
    least->size += size;
    partOf[name] = least - parts.begin();
  }
  if (parts.size() < 2)
    return {};
  for (unsigned p = 0; p < parts.size(); ++p) {
    llvm::ValueToValueMapTy map;
    auto part = llvm::CloneModule(module, map, [&](const llvm::GlobalValue *gv) {
      return partOf.lookup(group.lookup(gv)) == p;
    });
    llvm::raw_string_ostream os(parts[p].bitcode);
    llvm::WriteBitcodeToFile(*part, os);
  }
  return parts;
}

/// Optimizes and compiles the parts on `threads` threads, the largest
/// parts first.
static llvm::Expected<std::vector<std::string>>
compileParts(const std::vector<Part> &parts, const HostMachine &host, unsigned threads) {
  std::vector<llvm::Expected<std::string>> objects;
  for (size_t i = 0; i < parts.size(); ++i)
    objects.push_back(std::string());
  std::vector<size_t> order(parts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return parts[a].size > parts[b].size; });
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t n; (n = next++) < order.size();) {
      size_t i = order[n];
      llvm::LLVMContext ctx;
      auto part = llvm::parseBitcodeFile(llvm::MemoryBufferRef(parts[i].bitcode, "nncc-part"), ctx);
      if (!part) {
        objects[i] = part.takeError();
        continue;
      }
      bool glue = parts[i].optimization == Optimization::Glue;
      auto machine =
          host.create(glue ? llvm::CodeGenOptLevel::None : llvm::CodeGenOptLevel::Aggressive);
      objects[i] = optimizeAndEmit(**part, *machine, parts[i].optimization, [](llvm::StringRef) {});
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < std::min<size_t>(threads, parts.size()); ++t)
    pool.emplace_back(work);
  work();
  for (std::thread &t : pool)
    t.join();
  std::vector<std::string> out;
  llvm::Error errors = llvm::Error::success();
  for (auto &object : objects) {
    if (object)
      out.push_back(std::move(*object));
    else
      errors = llvm::joinErrors(std::move(errors), object.takeError());
  }
  if (errors)
    return errors;
  return out;
}

llvm::Expected<NativeCode> emitNativeCode(mlir::ModuleOp module,
                                          const std::vector<std::string> &signatures,
                                          const TargetCpu &target, llvm::raw_ostream *irOut,
                                          llvm::function_ref<void(llvm::StringRef)> phaseDone) {
  auto done = [&](llvm::StringRef phase) {
    if (phaseDone)
      phaseDone(phase);
  };
  mlir::registerBuiltinDialectTranslation(*module.getContext());
  mlir::registerLLVMDialectTranslation(*module.getContext());
  llvm::LLVMContext ctx;
  auto llvmModule = mlir::translateModuleToLLVMIR(module, ctx, "nncc");
  if (!llvmModule)
    return fail("translation to LLVM IR failed");
  done("translation to LLVM IR");

  boundSchedulingRegions(); // the target is initialized by resolveTargetCpu
  NativeCode code;
  HostMachine host;
  host.triple = code.triple = target.triple;
  host.cpu = code.cpu = target.cpu;
  host.features = target.features;
  std::string error;
  host.target = llvm::TargetRegistry::lookupTarget(code.triple, error);
  if (!host.target)
    return fail("no LLVM target for " + code.triple + ": " + error);
  std::unique_ptr<llvm::TargetMachine> machine = host.create();
  llvmModule->setDataLayout(machine->createDataLayout());
  llvmModule->setTargetTriple(code.triple);
  for (const std::string &name : signatures)
    if (auto err = addPackedEntry(*llvmModule, name))
      return err;
  // As clang does: the CPU (and explicit features) on every function, so
  // that the IR says what it is for (--emit=llvm) and each part compiled
  // on its own thread is for the same CPU.
  for (llvm::Function &f : *llvmModule) {
    if (f.isDeclaration())
      continue;
    f.addFnAttr("target-cpu", target.cpu);
    if (!target.features.empty())
      f.addFnAttr("target-features", target.features);
  }
  if (irOut) {
    if (auto err = mlir::makeOptimizingTransformer(3, 0, machine.get())(llvmModule.get()))
      return err;
    llvmModule->print(*irOut, nullptr);
    return code;
  }
  // One part per core: LLVM's optimization and code generation take most
  // of a compilation, and the kernels are independent functions.
  std::vector<std::string> objects;
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::vector<Part> parts = splitModule(*llvmModule, cores, signatures);
  if (parts.empty()) {
    auto object = optimizeAndEmit(*llvmModule, *machine, Optimization::Kernels, done);
    if (!object)
      return object.takeError();
    objects.push_back(std::move(*object));
  } else {
    done("splitting into " + std::to_string(parts.size()) + " parts");
    auto compiled = compileParts(parts, host, cores);
    if (!compiled)
      return compiled.takeError();
    objects = std::move(*compiled);
    done("optimization and code generation");
  }
  auto library = linkSharedLibrary(objects, code.triple);
  if (!library)
    return library.takeError();
  done("linking");
  code.sharedLibrary = std::move(*library);
  return code;
}

} // namespace nncc::cpu
