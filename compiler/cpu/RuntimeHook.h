// A runtime hook in a kernel library: an external global holding a function
// pointer, initialized to a fallback in the library, that the runtime
// overwrites (dlsym) with its own implementation when it loads the library.
#ifndef NNCC_COMPILER_CPU_RUNTIMEHOOK_H
#define NNCC_COMPILER_CPU_RUNTIMEHOOK_H

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

namespace nncc::cpu {

/// `name`: !llvm.ptr = addressof(initial), created at `b`'s insertion point.
inline mlir::LLVM::GlobalOp createRuntimeHook(mlir::OpBuilder &b, mlir::Location loc,
                                              llvm::StringRef name,
                                              mlir::LLVM::LLVMFuncOp initial) {
  auto ptr = mlir::LLVM::LLVMPointerType::get(b.getContext());
  auto hook = b.create<mlir::LLVM::GlobalOp>(
      loc, ptr, /*isConstant=*/false, mlir::LLVM::Linkage::External, name, mlir::Attribute());
  mlir::OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(b.createBlock(&hook.getInitializerRegion()));
  b.create<mlir::LLVM::ReturnOp>(loc, b.create<mlir::LLVM::AddressOfOp>(loc, initial).getResult());
  return hook;
}

/// The function a hook currently points at: a load of the global.
inline mlir::Value loadRuntimeHook(mlir::OpBuilder &b, mlir::Location loc,
                                   mlir::LLVM::GlobalOp hook) {
  auto ptr = mlir::LLVM::LLVMPointerType::get(b.getContext());
  return b.create<mlir::LLVM::LoadOp>(loc, ptr, b.create<mlir::LLVM::AddressOfOp>(loc, hook));
}

} // namespace nncc::cpu

#endif
