#include "compiler/cpu/CodeGen.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

namespace nncc::cpu {

static llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 message.str());
}

std::string entrySymbol(llvm::StringRef signature) {
  return ("nncc_entry_" + signature).str();
}

/// void nncc_entry_S(void **args) { _mlir_ciface_S(args[0], args[1], ...); }
static llvm::Error addPackedEntry(llvm::Module &module, llvm::StringRef name) {
  llvm::Function *ciface = module.getFunction(("_mlir_ciface_" + name).str());
  if (!ciface)
    return fail("no C interface for signature '" + name + "'");
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptr = llvm::PointerType::get(ctx, 0);
  auto *type = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr}, false);
  auto *entry = llvm::Function::Create(type, llvm::Function::ExternalLinkage,
                                       entrySymbol(name), module);
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

static llvm::Expected<std::string> linkSharedLibrary(llvm::StringRef object) {
  llvm::SmallString<128> objPath, soPath;
  int fd;
  if (auto ec = llvm::sys::fs::createTemporaryFile("nncc", "o", fd, objPath))
    return fail("cannot create a temporary object file: " + ec.message());
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << object;
  }
  if (auto ec = llvm::sys::fs::createTemporaryFile("nncc", "so", soPath))
    return fail("cannot create a temporary library file: " + ec.message());
  auto cc = llvm::sys::findProgramByName("cc");
  if (!cc)
    return fail("no C compiler driver 'cc' on PATH to link the kernels");
  llvm::SmallVector<llvm::StringRef> argv = {*cc, "-shared", "-o", soPath,
                                             objPath, "-lm"};
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(*cc, argv, std::nullopt, {}, 0, 0, &message);
  llvm::sys::fs::remove(objPath);
  auto bytes = llvm::MemoryBuffer::getFile(soPath);
  llvm::sys::fs::remove(soPath);
  if (rc != 0 || !bytes)
    return fail("linking the kernels failed: " + message);
  return (*bytes)->getBuffer().str();
}

llvm::Expected<NativeCode> emitNativeCode(mlir::ModuleOp module,
                                          const std::vector<std::string> &signatures,
                                          llvm::raw_ostream *irOut) {
  mlir::registerBuiltinDialectTranslation(*module.getContext());
  mlir::registerLLVMDialectTranslation(*module.getContext());
  llvm::LLVMContext ctx;
  auto llvmModule = mlir::translateModuleToLLVMIR(module, ctx, "nncc");
  if (!llvmModule)
    return fail("translation to LLVM IR failed");

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  NativeCode code;
  code.triple = llvm::sys::getProcessTriple();
  code.cpu = llvm::sys::getHostCPUName().str();
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(code.triple, error);
  if (!target)
    return fail("no LLVM target for " + code.triple + ": " + error);
  llvm::SubtargetFeatures features;
  for (const auto &feature : llvm::sys::getHostCPUFeatures())
    features.AddFeature(feature.first(), feature.second);
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      code.triple, code.cpu, features.getString(), llvm::TargetOptions(),
      llvm::Reloc::PIC_, std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  llvmModule->setDataLayout(machine->createDataLayout());
  llvmModule->setTargetTriple(code.triple);
  for (const std::string &name : signatures)
    if (auto err = addPackedEntry(*llvmModule, name))
      return std::move(err);
  if (auto err = mlir::makeOptimizingTransformer(3, 0, machine.get())(
          llvmModule.get()))
    return std::move(err);
  if (irOut) {
    llvmModule->print(*irOut, nullptr);
    return code;
  }
  llvm::SmallVector<char> object;
  llvm::raw_svector_ostream os(object);
  llvm::legacy::PassManager pm;
  if (machine->addPassesToEmitFile(pm, os, nullptr,
                                   llvm::CodeGenFileType::ObjectFile))
    return fail("the target cannot emit object files");
  pm.run(*llvmModule);
  auto library = linkSharedLibrary(llvm::StringRef(object.data(), object.size()));
  if (!library)
    return library.takeError();
  code.sharedLibrary = std::move(*library);
  return code;
}

} // namespace nncc::cpu
