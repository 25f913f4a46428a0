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

/// Each element of the result reads the operands at positions its own
/// index gives, one element each (a gather, a new or dropped dimension of
/// 1, a broadcast, a count): elementwise in the result's index space, so
/// fusion groups it with elementwise ops.
template <typename ConcreteType>
class IndexMap : public mlir::OpTrait::TraitBase<ConcreteType, IndexMap> {};

/// Each element of the result reduces many elements of the operands (a sum
/// over axes, a softmax's row statistics, a loss, an argmax): a kernel
/// built around the reduction, with elementwise ops on either side.
template <typename ConcreteType>
class Reduction : public mlir::OpTrait::TraitBase<ConcreteType, Reduction> {};

/// A product of tensors contracting a dimension (matmul): a tiled kernel,
/// with an elementwise epilogue.
template <typename ConcreteType>
class Contraction : public mlir::OpTrait::TraitBase<ConcreteType, Contraction> {};

} // namespace nncc::nn

#endif
