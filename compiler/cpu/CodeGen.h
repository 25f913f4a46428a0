// Machine code for a CPU (TargetCpu: the host's or a named one): LLVM dialect -> LLVM IR (with one
// packed entry point per signature) -> O3 -> object code -> shared library.
#ifndef NNCC_COMPILER_CPU_CODEGEN_H
#define NNCC_COMPILER_CPU_CODEGEN_H

#include "compiler/cpu/TargetCpu.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace nncc::cpu {

struct NativeCode {
  std::string sharedLibrary; ///< ELF bytes
  std::string triple, cpu;
};

/// The packed entry point of signature `name`: `void entry(void **args)`,
/// args[0] pointing at the results' memref descriptors (when there are
/// results), then one pointer per argument descriptor.
std::string entrySymbol(llvm::StringRef signature);

/// Compiles `module` for `target` (LLVM dialect; `signatures` were lowered with
/// llvm.emit_c_interface). When `irOut` is given, the optimized LLVM IR is
/// printed there and no library is produced. `phaseDone` (when given) is
/// called with each phase's name as it ends.
llvm::Expected<NativeCode>
emitNativeCode(mlir::ModuleOp module, const std::vector<std::string> &signatures,
               const TargetCpu &target, llvm::raw_ostream *irOut = nullptr,
               llvm::function_ref<void(llvm::StringRef)> phaseDone = nullptr);

} // namespace nncc::cpu

#endif
