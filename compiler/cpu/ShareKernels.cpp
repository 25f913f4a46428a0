// nn-cpu-share-kernels: row kernels that are the same function are one.
//
// nn-cpu-parallel-rows and nn-cpu-row-chains outline a function per op and
// per chain; a deep network repeats the same layer, so most of those are
// copies (a 50-layer MLP's training step: 102 maps and 52 chains, a few of
// them distinct), each of which LLVM would optimize and compile again. Two
// kernels are the same when they print the same under one name (their
// bodies, argument types and attributes, constants included); the calls of
// every copy go to the first, and the copies go. Chains that called copies
// become copies themselves, so this repeats until nothing changes.
//
// A kernel then called from several places is made `noinline`: LLVM would
// otherwise inline a copy at each of the small ones (a deep network's
// forward chain calls its layer's map once per layer) and compile the
// step's size times the kernel's.
#include "compiler/cpu/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/StringMap.h"

using namespace mlir;

namespace nncc::cpu {

#define GEN_PASS_DEF_SHAREKERNELS
#include "compiler/cpu/Passes.h.inc"

namespace {

/// `func` as text under a fixed name.
bool isKernel(func::FuncOp func) {
  return !func.isExternal() && (func.getSymName().starts_with(kRowKernelPrefix) ||
                                func.getSymName().starts_with(kOpKernelPrefix));
}

std::string printedBody(func::FuncOp func) {
  StringAttr name = func.getSymNameAttr();
  func.setSymName("kernel");
  std::string text;
  llvm::raw_string_ostream os(text);
  func->print(os, OpPrintingFlags().useLocalScope());
  func.setSymName(name);
  return text;
}

struct ShareKernelsPass : impl::ShareKernelsBase<ShareKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (bool changed = true; changed;) {
      changed = false;
      llvm::StringMap<func::FuncOp> first;
      SmallVector<std::pair<func::FuncOp, func::FuncOp>> copies;
      for (func::FuncOp func : module.getOps<func::FuncOp>()) {
        if (!isKernel(func))
          continue;
        auto [it, inserted] = first.try_emplace(printedBody(func), func);
        if (!inserted)
          copies.push_back({func, it->second});
      }
      // Every call of a copy goes to its kept kernel, in one walk.
      llvm::DenseMap<StringAttr, FlatSymbolRefAttr> keptFor;
      for (auto [copy, kept] : copies)
        keptFor[copy.getSymNameAttr()] = FlatSymbolRefAttr::get(kept.getSymNameAttr());
      module.walk([&](func::CallOp call) {
        if (auto it = keptFor.find(call.getCalleeAttr().getAttr()); it != keptFor.end())
          call.setCalleeAttr(it->second);
      });
      for (auto [copy, kept] : copies)
        copy.erase();
      changed = !copies.empty();
    }
    llvm::DenseMap<StringAttr, int64_t> calls;
    module.walk([&](func::CallOp call) { ++calls[call.getCalleeAttr().getAttr()]; });
    for (func::FuncOp func : module.getOps<func::FuncOp>())
      if (isKernel(func) && calls.lookup(func.getSymNameAttr()) > 1)
        setNoInline(func);
  }
};

} // namespace

void setNoInline(func::FuncOp func) {
  Builder b(func.getContext());
  SmallVector<Attribute> passthrough;
  if (auto old = func->getAttrOfType<ArrayAttr>(kPassthroughAttr))
    passthrough.append(old.begin(), old.end());
  StringAttr noinline = b.getStringAttr("noinline");
  if (!llvm::is_contained(passthrough, noinline))
    passthrough.push_back(noinline);
  func->setAttr(kPassthroughAttr, b.getArrayAttr(passthrough));
}

std::unique_ptr<Pass> createShareKernelsPass() { return std::make_unique<ShareKernelsPass>(); }

} // namespace nncc::cpu
