// The nn dialect's registration, the generated op definitions (compiled only
// here), constant materialization and the DRR canonicalization patterns.
#include "nn/IR/NNDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/PatternMatch.h"
#include "nn/IR/ShapeRules.h"

using namespace mlir;
using namespace nncc::nn;

#include "nn/IR/GradientInterface.cpp.inc"
#include "nn/IR/NNDialect.cpp.inc"

#define GET_OP_CLASSES
#include "nn/IR/NNOps.cpp.inc"

namespace {
#include "nn/IR/NNPatterns.inc"
} // namespace

void NNDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "nn/IR/NNOps.cpp.inc"
      >();
}

Operation *NNDialect::materializeConstant(OpBuilder &builder, Attribute value, Type type,
                                          Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return builder.create<ConstantOp>(loc, type, elements);
}

void NNDialect::getCanonicalizationPatterns(RewritePatternSet &results) const {
  populateWithGenerated(results);
}

bool nncc::nn::isSplatOf(Attribute attr, double value) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!dense || !dense.isSplat())
    return false;
  Type elt = dense.getElementType();
  if (isa<FloatType>(elt))
    return dense.getSplatValue<APFloat>().convertToDouble() == value;
  if (elt.isInteger(1))
    return false;
  if (isa<IntegerType>(elt))
    return static_cast<double>(dense.getSplatValue<APInt>().getSExtValue()) == value;
  return false;
}

Value nncc::nn::scalarConstant(OpBuilder &b, Location loc, Type elt, double value) {
  auto type = RankedTensorType::get({}, elt);
  Attribute attr = isa<FloatType>(elt) ? Attribute(b.getFloatAttr(elt, value))
                                       : Attribute(b.getIntegerAttr(elt, (int64_t)value));
  return b.create<ConstantOp>(loc, type, DenseElementsAttr::get(type, attr));
}
