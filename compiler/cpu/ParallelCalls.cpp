// nn-cpu-parallel-calls: calls of row-range kernels (nn-cpu-matmul-to-vector)
// go through the kernel library's thread hook, on the LLVM dialect.
//
// The library gets a global `nncc_parallel_for_hook`, a pointer to
//   void parallel_for(void (*task)(void *ctx, i64 begin, i64 end), void *ctx,
//                     i64 begin, i64 end, i64 grain)
// that starts out as a serial loop of its own; the runtime replaces it with
// its thread pool when it loads the library. Each kernel gets a task
// wrapper that unpacks its arguments (pointers and sizes, as i64 slots) from
// `ctx`; each call packs them into a stack array and calls the hook.
#include "compiler/cpu/Passes.h"
#include "compiler/cpu/RuntimeHook.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include "llvm/ADT/MapVector.h"

using namespace mlir;

namespace nncc::cpu {

#define GEN_PASS_DEF_PARALLELCALLS
#include "compiler/cpu/Passes.h.inc"

namespace {

struct ParallelCallsPass : impl::ParallelCallsBase<ParallelCallsPass> {

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<LLVM::LLVMFuncOp> kernels;
    for (auto func : module.getOps<LLVM::LLVMFuncOp>())
      if (func.getName().starts_with(kRowKernelPrefix) && !func.isExternal())
        kernels.push_back(func);
    if (kernels.empty())
      return;
    MLIRContext *ctx = &getContext();
    Location loc = module.getLoc();
    ptr = LLVM::LLVMPointerType::get(ctx);
    i64 = IntegerType::get(ctx, 64);
    auto voidType = LLVM::LLVMVoidType::get(ctx);
    taskType = LLVM::LLVMFunctionType::get(voidType, {ptr, i64, i64});
    hookType = LLVM::LLVMFunctionType::get(voidType, {ptr, ptr, i64, i64, i64});
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());

    // The serial default: task(ctx, begin, end).
    auto serial =
        b.create<LLVM::LLVMFuncOp>(loc, "__nncc_serial_for", hookType, LLVM::Linkage::Internal);
    {
      OpBuilder::InsertionGuard guard(b);
      Block *body = serial.addEntryBlock(b);
      b.setInsertionPointToStart(body);
      b.create<LLVM::CallOp>(loc, taskType,
                             ValueRange{body->getArgument(0), body->getArgument(1),
                                        body->getArgument(2), body->getArgument(3)});
      b.create<LLVM::ReturnOp>(loc, ValueRange{});
    }
    auto hook = createRuntimeHook(b, loc, kParallelForHook, serial);

    // The calls to route, found before the tasks add calls of their own.
    llvm::MapVector<LLVM::LLVMFuncOp, SmallVector<LLVM::CallOp>> calls;
    for (LLVM::LLVMFuncOp kernel : kernels)
      calls[kernel];
    module.walk([&](LLVM::CallOp call) {
      // A chain calls its kernels on its own range, directly.
      if (call->getParentOfType<LLVM::LLVMFuncOp>().getName().starts_with(kRowKernelPrefix))
        return;
      for (LLVM::LLVMFuncOp kernel : kernels)
        if (call.getCallee() == kernel.getName())
          calls[kernel].push_back(call);
    });
    for (auto &[kernel, sites] : calls) {
      // Only its task or a chain calls it now: internal, LLVM inlines it
      // there and drops the copy (and a split code generation keeps it with
      // its task).
      kernel.setLinkage(LLVM::Linkage::Internal);
      if (sites.empty())
        continue;
      LLVM::LLVMFuncOp task = buildTask(b, kernel);
      auto grain = kernel->getAttrOfType<IntegerAttr>(kRowGrainAttr);
      for (LLVM::CallOp call : sites)
        routeThroughHook(call, task, hook, grain ? grain.getInt() : 1);
    }
  }

  /// task(ctx, begin, end) { kernel(unpack(ctx)..., begin, end); }
  LLVM::LLVMFuncOp buildTask(OpBuilder &b, LLVM::LLVMFuncOp kernel) {
    Location loc = kernel.getLoc();
    auto task = b.create<LLVM::LLVMFuncOp>(loc, (kernel.getName() + "_task").str(), taskType,
                                           LLVM::Linkage::Internal);
    OpBuilder::InsertionGuard guard(b);
    Block *body = task.addEntryBlock(b);
    b.setInsertionPointToStart(body);
    ArrayRef<Type> params = kernel.getFunctionType().getParams();
    SmallVector<Value> args;
    for (size_t i = 0; i + 2 < params.size(); ++i) {
      Value slot = b.create<LLVM::GEPOp>(loc, ptr, i64, body->getArgument(0),
                                         ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(i)});
      Value word = b.create<LLVM::LoadOp>(loc, i64, slot);
      args.push_back(isa<LLVM::LLVMPointerType>(params[i])
                         ? b.create<LLVM::IntToPtrOp>(loc, ptr, word).getResult()
                         : word);
    }
    args.push_back(body->getArgument(1));
    args.push_back(body->getArgument(2));
    b.create<LLVM::CallOp>(loc, kernel, args);
    b.create<LLVM::ReturnOp>(loc, ValueRange{});
    return task;
  }

  /// kernel(args..., begin, end) -> hook(task, pack(args...), begin, end, grain)
  void routeThroughHook(LLVM::CallOp call, LLVM::LLVMFuncOp task, LLVM::GlobalOp hook,
                        int64_t grain) {
    Location loc = call.getLoc();
    auto operands = call.getArgOperands();
    size_t slots = operands.size() - 2;
    auto func = call->getParentOfType<LLVM::LLVMFuncOp>();
    OpBuilder entry = OpBuilder::atBlockBegin(&func.getBody().front());
    Value count = entry.create<LLVM::ConstantOp>(loc, i64, entry.getI64IntegerAttr(slots));
    Value pack = entry.create<LLVM::AllocaOp>(loc, ptr, i64, count, /*alignment=*/8);
    OpBuilder b(call);
    for (size_t i = 0; i < slots; ++i) {
      Value v = operands[i];
      if (isa<LLVM::LLVMPointerType>(v.getType()))
        v = b.create<LLVM::PtrToIntOp>(loc, i64, v);
      Value slot = b.create<LLVM::GEPOp>(loc, ptr, i64, pack,
                                         ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(i)});
      b.create<LLVM::StoreOp>(loc, v, slot);
    }
    Value fn = loadRuntimeHook(b, loc, hook);
    Value taskAddr = b.create<LLVM::AddressOfOp>(loc, task);
    Value grainValue = b.create<LLVM::ConstantOp>(loc, i64, b.getI64IntegerAttr(grain));
    b.create<LLVM::CallOp>(
        loc, hookType,
        ValueRange{fn, taskAddr, pack, operands[slots], operands[slots + 1], grainValue});
    call.erase();
  }

  Type ptr, i64;
  LLVM::LLVMFunctionType taskType, hookType;
};

} // namespace

std::unique_ptr<Pass> createParallelCallsPass() { return std::make_unique<ParallelCallsPass>(); }

} // namespace nncc::cpu
