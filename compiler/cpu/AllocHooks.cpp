// nn-cpu-alloc-hooks: the kernels' buffers come from the runtime's
// allocator, on the LLVM dialect.
//
// finalize-memref-to-llvm (with generic functions) calls
// _mlir_memref_to_llvm_alloc(size) and _mlir_memref_to_llvm_free(ptr); this
// pass defines both in the library, each calling through a global hook
// (`nncc_alloc_hook`, `nncc_free_hook`) that starts out as malloc / free and
// that the runtime points at its caching allocator when it loads the
// library, so that a training loop's steady state allocates nothing.
//
// It gives kNumericFaultFunction (called by nn.check_numerics) a body the
// same way, through `nncc_numeric_fault_hook`, which starts out pointing at
// a function that does nothing.
//
// kWaitAheadFunction (nn-cpu-loops: the end of a step whose next batch is
// gathered ahead) calls `nncc_wait_ahead_hook`, which starts out pointing
// at a function that returns (the library's default runs work started
// ahead at once).
//
// nn.all_reduce's functions (kAllReduceFunction + f32/f64, taking the
// bucket's memref descriptor and the reduction) call `nncc_all_reduce_hook`
// with the bucket's first element, its size and its dtype; the hook starts
// out at a function that does nothing (one process) and the runtime points
// it at its collective.
#include "compiler/cpu/Passes.h"
#include "compiler/cpu/RuntimeHook.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;

namespace nncc::cpu {

#define GEN_PASS_DEF_ALLOCHOOKS
#include "compiler/cpu/Passes.h.inc"

namespace {

struct AllocHooksPass : impl::AllocHooksBase<AllocHooksPass> {

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    Type ptr = LLVM::LLVMPointerType::get(ctx), i64 = IntegerType::get(ctx, 64);
    auto voidType = LLVM::LLVMVoidType::get(ctx);
    define(module, "_mlir_memref_to_llvm_alloc", kAllocHook, "malloc",
           LLVM::LLVMFunctionType::get(ptr, {i64}));
    define(module, "_mlir_memref_to_llvm_free", kFreeHook, "free",
           LLVM::LLVMFunctionType::get(voidType, {ptr}));
    defineIgnored(module, kNumericFaultFunction, kNumericFaultHook, "__nncc_ignore_numeric_fault",
                  LLVM::LLVMFunctionType::get(voidType, {IntegerType::get(ctx, 32)}));
    defineIgnored(module, kWaitAheadFunction, kWaitAheadHook, "__nncc_nothing_ahead",
                  LLVM::LLVMFunctionType::get(voidType, {}));
    defineAllReduce(module);
  }

  /// The all-reduce functions of the module (one per element type) unpack
  /// their descriptor and call kAllReduceHook, which starts out at a
  /// function of the library that does nothing.
  void defineAllReduce(ModuleOp module) {
    MLIRContext *ctx = &getContext();
    Type ptr = LLVM::LLVMPointerType::get(ctx), i64 = IntegerType::get(ctx, 64),
         i32 = IntegerType::get(ctx, 32);
    auto voidType = LLVM::LLVMVoidType::get(ctx);
    auto hookType = LLVM::LLVMFunctionType::get(voidType, {ptr, i64, i32, i32});
    LLVM::GlobalOp hook;
    Location loc = module.getLoc();
    for (auto [suffix, elt, dtype] :
         {std::make_tuple("f32", Type(Float32Type::get(ctx)), abi::kAllReduceF32),
          std::make_tuple("f64", Type(Float64Type::get(ctx)), abi::kAllReduceF64)}) {
      auto func = module.lookupSymbol<LLVM::LLVMFuncOp>((kAllReduceFunction + suffix).str());
      if (!func || !func.isExternal())
        continue;
      // memref<?xT> expanded: allocated, aligned, offset, size, stride; the
      // reduction.
      if (func.getNumArguments() != 6) {
        func.emitError("expected the expanded descriptor of a memref<?x") << elt << "> and an i32";
        return signalPassFailure();
      }
      OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
      if (!hook) {
        auto none = b.create<LLVM::LLVMFuncOp>(loc, "__nncc_single_process_all_reduce", hookType,
                                               LLVM::Linkage::Internal);
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(none.addEntryBlock(b));
          b.create<LLVM::ReturnOp>(loc, ValueRange{});
        }
        hook = createRuntimeHook(b, loc, kAllReduceHook, none);
      }
      func.setLinkage(LLVM::Linkage::Internal);
      Block *body = func.addEntryBlock(b);
      b.setInsertionPointToStart(body);
      Value data = b.create<LLVM::GEPOp>(loc, ptr, elt, body->getArgument(1),
                                         ValueRange{body->getArgument(2)});
      Value kind = b.create<LLVM::ConstantOp>(loc, i32, static_cast<int32_t>(dtype));
      Value fn = loadRuntimeHook(b, loc, hook);
      b.create<LLVM::CallOp>(
          loc, hookType, ValueRange{fn, data, body->getArgument(3), kind, body->getArgument(5)});
      b.create<LLVM::ReturnOp>(loc, ValueRange{});
    }
  }

  /// Where the module declares `name` (a function returning nothing): a
  /// body calling through `hookName`, which starts out at `fallback`, a
  /// function of the library that does nothing.
  void defineIgnored(ModuleOp module, StringRef name, StringRef hookName, StringRef fallback,
                     LLVM::LLVMFunctionType type) {
    if (!module.lookupSymbol<LLVM::LLVMFuncOp>(name))
      return;
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    auto nothing =
        b.create<LLVM::LLVMFuncOp>(module.getLoc(), fallback, type, LLVM::Linkage::Internal);
    b.setInsertionPointToStart(nothing.addEntryBlock(b));
    b.create<LLVM::ReturnOp>(module.getLoc(), ValueRange{});
    define(module, name, hookName, fallback, type);
  }

  /// Gives the declaration `name` a body calling through global `hook`,
  /// which initially holds `fallback` (a function of the same type: libc's,
  /// or one of the library's).
  void define(ModuleOp module, StringRef name, StringRef hookName, StringRef fallback,
              LLVM::LLVMFunctionType type) {
    // Both hooks always exist (the runtime checks for them), even where
    // the kernels never allocate or never free.
    Location loc = module.getLoc();
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    auto func = module.lookupSymbol<LLVM::LLVMFuncOp>(name);
    if (!func)
      func = b.create<LLVM::LLVMFuncOp>(loc, name, type);
    if (!func.isExternal())
      return;
    auto libc = module.lookupSymbol<LLVM::LLVMFuncOp>(fallback);
    if (!libc)
      libc = b.create<LLVM::LLVMFuncOp>(loc, fallback, type);
    auto hook = createRuntimeHook(b, loc, hookName, libc);
    func.setLinkage(LLVM::Linkage::Internal);
    Block *body = func.addEntryBlock(b);
    b.setInsertionPointToStart(body);
    Value fn = loadRuntimeHook(b, loc, hook);
    SmallVector<Value> args{fn};
    args.append(body->getArguments().begin(), body->getArguments().end());
    auto call = b.create<LLVM::CallOp>(loc, type, args);
    if (type.getReturnType() == LLVM::LLVMVoidType::get(&getContext()))
      b.create<LLVM::ReturnOp>(loc, ValueRange{});
    else
      b.create<LLVM::ReturnOp>(loc, call.getResult());
  }
};

} // namespace

std::unique_ptr<Pass> createAllocHooksPass() { return std::make_unique<AllocHooksPass>(); }

} // namespace nncc::cpu
