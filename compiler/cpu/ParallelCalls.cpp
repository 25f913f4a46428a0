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
//
// Only the arguments the kernel reads take a slot: a buffer's descriptor is
// five or more arguments (two pointers, offset, sizes, strides), and a
// kernel of static shapes reads one of them. A deep network's forward chain
// otherwise packed thousands of words per call, most of the step's code.
#include "compiler/cpu/Passes.h"
#include "compiler/cpu/RuntimeHook.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/MapVector.h"

using namespace mlir;

namespace nncc::cpu {

#define GEN_PASS_DEF_PARALLELCALLS
#include "compiler/cpu/Passes.h.inc"

namespace {

/// Whether a kernel reads its arguments: through insertvalue and
/// extractvalue (descriptors built from them and taken apart again) and
/// into the parameters of the functions it calls.
class ArgumentReads {
public:
  explicit ArgumentReads(ModuleOp module) : symbols(module) {}

  /// Whether `func` reads its parameter `i`.
  bool param(LLVM::LLVMFuncOp func, unsigned i) {
    if (func.isExternal())
      return true;
    auto [it, inserted] = params.try_emplace({func, i}, true); // true while in progress
    if (!inserted)
      return it->second;
    bool reads = read(func.getArgument(i), {});
    params[{func, i}] = reads;
    return reads;
  }

private:
  /// Whether the part `pos` of `v` (all of it when empty) is read.
  bool read(Value v, ArrayRef<int64_t> pos) {
    auto startsWith = [](ArrayRef<int64_t> a, ArrayRef<int64_t> prefix) {
      return a.size() >= prefix.size() && a.take_front(prefix.size()) == prefix;
    };
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (auto insert = dyn_cast<LLVM::InsertValueOp>(user)) {
        ArrayRef<int64_t> at = insert.getPosition();
        if (use.getOperandNumber() == 1) { // the value inserted
          SmallVector<int64_t> inner(at);
          inner.append(pos.begin(), pos.end());
          if (read(insert.getResult(), inner))
            return true;
        } else if (!(pos.empty() ? false : startsWith(pos, at)) && // not overwritten
                   read(insert.getResult(), pos)) {
          return true;
        }
      } else if (auto extract = dyn_cast<LLVM::ExtractValueOp>(user)) {
        ArrayRef<int64_t> at = extract.getPosition();
        if (startsWith(pos, at)) {
          if (read(extract.getResult(), pos.drop_front(at.size())))
            return true;
        } else if (startsWith(at, pos) && read(extract.getResult(), {})) {
          return true;
        }
      } else if (auto call = dyn_cast<LLVM::CallOp>(user);
                 call && pos.empty() && call.getCallee() &&
                 use.getOperandNumber() < call.getNumOperands()) {
        auto callee = symbols.lookup<LLVM::LLVMFuncOp>(*call.getCallee());
        if (!callee || param(callee, use.getOperandNumber()))
          return true;
      } else {
        return true;
      }
    }
    return false;
  }

  SymbolTable symbols;
  llvm::DenseMap<std::pair<Operation *, unsigned>, bool> params;
};

struct ParallelCallsPass : impl::ParallelCallsBase<ParallelCallsPass> {

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<LLVM::LLVMFuncOp> kernels;
    for (auto func : module.getOps<LLVM::LLVMFuncOp>()) {
      if (func.isExternal())
        continue;
      if (func.getName().starts_with(kRowKernelPrefix))
        kernels.push_back(func);
      else if (func.getName().starts_with(kOpKernelPrefix))
        func.setLinkage(LLVM::Linkage::Internal); // the signatures call them directly
    }
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
    // Kernels started ahead (a compiled loop's next batch) go through their
    // own hook, which also starts out serial.
    LLVM::GlobalOp ahead;
    if (llvm::any_of(kernels, [](LLVM::LLVMFuncOp k) { return k->hasAttr(kRowAheadAttr); }))
      ahead = createRuntimeHook(b, loc, kParallelAheadHook, serial);

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
    ArgumentReads reads(module);
    for (auto &[kernel, sites] : calls) {
      // Only its task or a chain calls it now: internal, LLVM inlines it
      // there and drops the copy (and a split code generation keeps it with
      // its task).
      kernel.setLinkage(LLVM::Linkage::Internal);
      if (sites.empty())
        continue;
      SmallVector<bool> packed;
      for (unsigned i = 0; i + 2 < kernel.getNumArguments(); ++i)
        packed.push_back(reads.param(kernel, i));
      // A kernel started ahead (nn-cpu-loops' gather of the next batch)
      // reads and writes distinct buffers (the fresh batch, the call's
      // feeds): so marked, LLVM reads each row's index once and copies the
      // row as vectors, instead of reloading and clamping it per element.
      if (kernel->hasAttr(kRowAheadAttr))
        for (unsigned i = 0; i < kernel.getNumArguments(); ++i)
          if (isa<LLVM::LLVMPointerType>(kernel.getArgument(i).getType()))
            kernel.setArgAttr(i, LLVM::LLVMDialect::getNoAliasAttrName(), b.getUnitAttr());
      LLVM::LLVMFuncOp task = buildTask(b, kernel, packed);
      auto grain = kernel->getAttrOfType<IntegerAttr>(kRowGrainAttr);
      for (LLVM::CallOp call : sites)
        routeThroughHook(call, task, kernel->hasAttr(kRowAheadAttr) ? ahead : hook,
                         grain ? grain.getInt() : 1, packed);
    }
  }

  /// task(ctx, begin, end) { kernel(unpack(ctx)..., begin, end); }, with
  /// zeros for the arguments not `packed`.
  LLVM::LLVMFuncOp buildTask(OpBuilder &b, LLVM::LLVMFuncOp kernel, ArrayRef<bool> packed) {
    Location loc = kernel.getLoc();
    auto task = b.create<LLVM::LLVMFuncOp>(loc, (kernel.getName() + "_task").str(), taskType,
                                           LLVM::Linkage::Internal);
    OpBuilder::InsertionGuard guard(b);
    Block *body = task.addEntryBlock(b);
    b.setInsertionPointToStart(body);
    ArrayRef<Type> params = kernel.getFunctionType().getParams();
    SmallVector<Value> args;
    for (size_t i = 0, next = 0; i + 2 < params.size(); ++i) {
      if (!packed[i]) {
        args.push_back(b.create<LLVM::ZeroOp>(loc, params[i]));
        continue;
      }
      Value slot = b.create<LLVM::GEPOp>(loc, ptr, i64, body->getArgument(0),
                                         ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(next++)});
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
  /// The pack is the call's own: work started ahead reads it until waited
  /// for, after the call.
  void routeThroughHook(LLVM::CallOp call, LLVM::LLVMFuncOp task, LLVM::GlobalOp hook,
                        int64_t grain, ArrayRef<bool> packed) {
    Location loc = call.getLoc();
    auto operands = call.getArgOperands();
    size_t slots = operands.size() - 2;
    auto func = call->getParentOfType<LLVM::LLVMFuncOp>();
    OpBuilder entry = OpBuilder::atBlockBegin(&func.getBody().front());
    Value count = entry.create<LLVM::ConstantOp>(
        loc, i64, entry.getI64IntegerAttr(std::max<int64_t>(1, llvm::count(packed, true))));
    Value pack = entry.create<LLVM::AllocaOp>(loc, ptr, i64, count, /*alignment=*/8);
    OpBuilder b(call);
    for (size_t i = 0, next = 0; i < slots; ++i) {
      if (!packed[i])
        continue;
      Value v = operands[i];
      if (isa<LLVM::LLVMPointerType>(v.getType()))
        v = b.create<LLVM::PtrToIntOp>(loc, i64, v);
      Value slot = b.create<LLVM::GEPOp>(loc, ptr, i64, pack,
                                         ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(next++)});
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
