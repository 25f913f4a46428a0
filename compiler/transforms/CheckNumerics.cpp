// nn-check-numerics: an nn.check_numerics after every floating-point op, so
// that a run can say which op first produced a NaN or an infinity. The
// module's `nn.numeric_checks` attribute is the table of what each check
// is about ("node 'layer1' (nn.tanh)", "the gradient of node 'layer2'
// (nn.mul)", "the SGD update of variable 'w' (nn.sub)"), indexed by the
// checks' `index`.
#include "compiler/transforms/Passes.h"
#include "nn/IR/NNDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;

namespace nncc {

#define GEN_PASS_DEF_CHECKNUMERICS
#include "compiler/transforms/Passes.h.inc"

namespace {

/// The node name (a NameLoc), the role (a FusedLoc's string metadata:
/// "gradient", or what an optimizer op updates) and the file position.
void walkLocation(Location loc, std::string &node, std::string &role, std::string &file) {
  if (auto name = dyn_cast<NameLoc>(loc)) {
    if (node.empty())
      node = name.getName().str();
    walkLocation(name.getChildLoc(), node, role, file);
  } else if (auto fused = dyn_cast<FusedLoc>(loc)) {
    if (auto meta = dyn_cast_or_null<StringAttr>(fused.getMetadata()); meta && role.empty())
      role = meta.str();
    for (Location inner : fused.getLocations())
      walkLocation(inner, node, role, file);
  } else if (auto flc = dyn_cast<FileLineColLoc>(loc)) {
    if (file.empty() && flc.getLine())
      file = flc.getFilename().str() + ":" + std::to_string(flc.getLine());
  }
}

std::string describe(Operation *op, unsigned result) {
  std::string node, role, file;
  walkLocation(op->getLoc(), node, role, file);
  std::string what = op->getName().getStringRef().str();
  if (op->getNumResults() > 1)
    what += " result " + std::to_string(result);
  if (role == kGradientRole && !node.empty())
    return "the gradient of node '" + node + "' (" + what + ")";
  if (!role.empty())
    return role + " (" + what + ")";
  if (!node.empty())
    return "node '" + node + "' (" + what + ")";
  return what + (file.empty() ? "" : " at " + file);
}

bool isFloatTensor(Type t) {
  auto tensor = dyn_cast<TensorType>(t);
  return tensor && isa<FloatType>(tensor.getElementType());
}

struct CheckNumericsPass : impl::CheckNumericsBase<CheckNumericsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    SmallVector<Attribute> table;
    if (auto old = module->getAttrOfType<ArrayAttr>(kNumericChecksAttr))
      table.append(old.begin(), old.end());
    for (func::FuncOp func : module.getOps<func::FuncOp>()) {
      for (Operation &op : llvm::make_early_inc_range(func.getBody().getOps())) {
        if (!isa<nn::NNDialect>(op.getDialect()) ||
            isa<nn::ConstantOp, nn::ReadVariableOp, nn::CheckNumericsOp>(op))
          continue;
        OpBuilder b(ctx);
        b.setInsertionPointAfter(&op);
        for (auto [i, result] : llvm::enumerate(op.getResults())) {
          if (!isFloatTensor(result.getType()))
            continue;
          std::string what = describe(&op, i);
          b.create<nn::CheckNumericsOp>(op.getLoc(), result, b.getI32IntegerAttr(table.size()),
                                        b.getStringAttr(what));
          table.push_back(b.getStringAttr(what));
        }
      }
    }
    module->setAttr(kNumericChecksAttr, ArrayAttr::get(ctx, table));
  }
};

} // namespace

std::unique_ptr<Pass> createCheckNumericsPass() { return std::make_unique<CheckNumericsPass>(); }

} // namespace nncc
