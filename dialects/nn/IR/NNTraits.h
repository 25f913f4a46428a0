// Properties the nn ops declare in ODS (NNBase.td), for passes to ask the
// op instead of keeping lists of op names.
#ifndef NNCC_DIALECTS_NN_IR_NNTRAITS_H
#define NNCC_DIALECTS_NN_IR_NNTRAITS_H

#include "mlir/IR/OpDefinition.h"

namespace nncc::nn {

/// Each element of the result is computed from the operands' elements at
/// its position, the operands broadcast as NumPy does (aligned from the
/// right, a dimension of 1 stretched); the result's shape is the operands'
/// broadcast shape. An operand's unknown dimension is indexed as the
/// result's, so where the result's is known the operand's must equal it.
template <typename ConcreteType>
class Elementwise : public mlir::OpTrait::TraitBase<ConcreteType, Elementwise> {};

} // namespace nncc::nn

#endif
