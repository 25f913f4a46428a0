// Variables: initializer checks and the symbol uses of reads and assigns.
#include "nn/IR/NNDialect.h"

#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace nncc::nn;

LogicalResult VariableOp::verify() {
  auto type = cast<RankedTensorType>(getType());
  StringRef init = getInitializer();
  bool known = llvm::StringSwitch<bool>(init)
                   .Cases("zeros", "ones", "constant", "glorot_uniform", true)
                   .Cases("random_normal", "random_uniform", true)
                   .Default(false);
  if (!known)
    return emitOpError("unknown initializer '")
           << init
           << "' (expected zeros, ones, constant, glorot_uniform, "
              "random_normal or random_uniform)";
  bool isFloat = isa<FloatType>(type.getElementType());
  if (init != "zeros" && init != "ones" && init != "constant" && !isFloat)
    return emitOpError("initializer '") << init << "' needs a float variable, got " << type;
  if (init == "constant") {
    auto value = getValueAttr();
    if (!value)
      return emitOpError("initializer 'constant' needs a 'value'");
    auto valueType = cast<ShapedType>(value.getType());
    if (valueType.getElementType() != type.getElementType())
      return emitOpError("value element type ")
             << valueType.getElementType() << " differs from the variable's "
             << type.getElementType();
    if (valueType.getShape() != type.getShape() && valueType.getNumElements() != 1)
      return emitOpError("value of type ") << valueType << " does not fit the variable's type "
                                           << type << " (give every element or a single one)";
  } else if (getValueAttr()) {
    return emitOpError("'value' is only used by the 'constant' initializer, "
                       "not '")
           << init << "'";
  }
  if (init == "glorot_uniform" && type.getRank() < 1)
    return emitOpError("glorot_uniform needs a variable of rank >= 1, got ") << type;
  if (init == "random_normal" && !(getStddev().convertToFloat() > 0))
    return emitOpError("random_normal needs stddev > 0");
  if (init == "random_uniform" && !(getMinval().convertToFloat() < getMaxval().convertToFloat()))
    return emitOpError("random_uniform needs minval < maxval");
  return success();
}

/// The variable `user` names, checked against `type`.
static LogicalResult verifyVariableUse(Operation *user, SymbolTableCollection &symbols,
                                       FlatSymbolRefAttr name, Type type, StringRef role) {
  auto var = symbols.lookupNearestSymbolFrom<VariableOp>(user, name);
  if (!var)
    return user->emitOpError() << role << " unknown variable " << name;
  if (var.getType() != type)
    return user->emitOpError() << role << " variable " << name << " of type " << var.getType()
                               << " as " << type;
  return success();
}

LogicalResult ReadVariableOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  return verifyVariableUse(*this, symbolTable, getVariableAttr(), getResult().getType(), "reads");
}

LogicalResult AssignVariableOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  return verifyVariableUse(*this, symbolTable, getVariableAttr(), getValue().getType(), "assigns");
}
