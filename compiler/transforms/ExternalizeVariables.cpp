// Variables as explicit state: a kernel reads variables from arguments and
// returns the new values of the ones it assigns; the runtime keeps them.
#include "compiler/transforms/Passes.h"
#include "nn/IR/NNDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/MapVector.h"

using namespace mlir;

namespace nncc {

#define GEN_PASS_DEF_EXTERNALIZEVARIABLES
#include "compiler/transforms/Passes.h.inc"

namespace {

struct ExternalizeVariablesPass : impl::ExternalizeVariablesBase<ExternalizeVariablesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Variables in declaration order, so argument order is stable.
    SmallVector<nn::VariableOp> variables(module.getOps<nn::VariableOp>());
    for (func::FuncOp func : module.getOps<func::FuncOp>())
      if (!func.isExternal() && failed(externalize(func, variables)))
        return signalPassFailure();
  }

  LogicalResult externalize(func::FuncOp func, ArrayRef<nn::VariableOp> variables) {
    Builder b(&getContext());
    Block &body = func.getBody().front();
    // Variables this function touches, in declaration order.
    llvm::SmallSetVector<StringRef, 8> used;
    func.walk([&](Operation *op) {
      if (auto read = dyn_cast<nn::ReadVariableOp>(op))
        used.insert(read.getVariable());
      if (auto assign = dyn_cast<nn::AssignVariableOp>(op))
        used.insert(assign.getVariable());
    });
    llvm::MapVector<StringRef, Value> current;
    SmallVector<Attribute> names;
    for (nn::VariableOp var : variables) {
      if (!used.contains(var.getSymName()))
        continue;
      current[var.getSymName()] = body.addArgument(var.getType(), var.getLoc());
      names.push_back(b.getStringAttr(var.getSymName()));
    }
    // Program order: a read sees the latest assign before it.
    llvm::MapVector<StringRef, Value> assigned;
    for (Operation &op : llvm::make_early_inc_range(body)) {
      if (auto read = dyn_cast<nn::ReadVariableOp>(op)) {
        read.replaceAllUsesWith(current[read.getVariable()]);
        read.erase();
      } else if (auto assign = dyn_cast<nn::AssignVariableOp>(op)) {
        current[assign.getVariable()] = assign.getValue();
        assigned[assign.getVariable()] = assign.getValue();
        assign.erase();
      } else if (op.getNumRegions() &&
                 (op.walk([](Operation *inner) {
                      return isa<nn::ReadVariableOp, nn::AssignVariableOp>(inner)
                                 ? WalkResult::interrupt()
                                 : WalkResult::advance();
                    }).wasInterrupted())) {
        return op.emitOpError("uses a variable inside a region, which "
                              "nn-externalize-variables does not support");
      }
    }
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    SmallVector<Value> results(ret.getOperands());
    SmallVector<Attribute> updates;
    for (auto &[name, value] : assigned) {
      results.push_back(value);
      updates.push_back(b.getStringAttr(name));
    }
    ret->setOperands(results);
    func.setType(
        FunctionType::get(&getContext(), body.getArgumentTypes(), ValueRange(results).getTypes()));
    func->setAttr("nn.variables", b.getArrayAttr(names));
    func->setAttr("nn.updates", b.getArrayAttr(updates));
    return success();
  }
};

} // namespace

std::unique_ptr<Pass> createExternalizeVariablesPass() {
  return std::make_unique<ExternalizeVariablesPass>();
}

} // namespace nncc
