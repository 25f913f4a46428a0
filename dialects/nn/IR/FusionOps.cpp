// nn.fusion: its builder (an empty body with one block argument per input)
// and verifier.
#include "nn/IR/NNDialect.h"

using namespace mlir;
using namespace nncc::nn;

void FusionOp::build(OpBuilder &builder, OperationState &state, TypeRange results,
                     ValueRange inputs, StringRef kind) {
  state.addOperands(inputs);
  state.addTypes(results);
  state.addAttribute(getKindAttrName(state.name), builder.getStringAttr(kind));
  Region *body = state.addRegion();
  Block *block = new Block();
  body->push_back(block);
  for (Value input : inputs)
    block->addArgument(input.getType(), input.getLoc());
}

LogicalResult FusionOp::verify() {
  StringRef kind = getKind();
  if (kind != "elementwise" && kind != "reduction" && kind != "matmul")
    return emitOpError() << "kind must be elementwise, reduction or matmul, got '" << kind << "'";
  Block &block = getBody().front();
  if (block.getNumArguments() != getInputs().size())
    return emitOpError() << "has " << getInputs().size() << " inputs but its body takes "
                         << block.getNumArguments() << " arguments";
  for (auto [i, input, arg] : llvm::enumerate(getInputs(), block.getArguments()))
    if (input.getType() != arg.getType())
      return emitOpError() << "input " << i << " is " << input.getType()
                           << " but the body's argument " << i << " is " << arg.getType();
  auto yield = cast<YieldOp>(block.getTerminator());
  if (yield.getValues().size() != getNumResults())
    return emitOpError() << "yields " << yield.getValues().size() << " values for "
                         << getNumResults() << " results";
  for (auto [i, value, result] : llvm::enumerate(yield.getValues(), getResults()))
    if (value.getType() != result.getType())
      return emitOpError() << "result " << i << " is " << result.getType()
                           << " but the body yields " << value.getType();
  if (kind == "matmul" && llvm::count_if(block.getOperations(), [](Operation &op) {
                            return op.hasTrait<Contraction>();
                          }) != 1)
    return emitOpError() << "of kind matmul must hold exactly one contraction (nn.matmul, "
                            "nn.conv2d)";
  return success();
}
