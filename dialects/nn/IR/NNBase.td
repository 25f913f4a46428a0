// The nn dialect: TensorFlow-1.x-like neural network ops on builtin tensors.
// Every op infers its result type from its operands and attributes, keeping
// unknown dimensions as `?`, so the importer never guesses a shape.
#ifndef NNCC_NN_BASE_TD
#define NNCC_NN_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"
include "GradientInterface.td"

def NN_Dialect : Dialect {
  let name = "nn";
  let cppNamespace = "::nncc::nn";
  let summary = "Neural-network graph ops (TensorFlow 1.x semantics)";
  let description = [{
    Ops of nncc models: NumPy-broadcasting arithmetic, activations, matmul,
    reductions, losses, and resident variables. Result types are inferred.
  }];
  let hasConstantMaterializer = 1;
  // The DRR peepholes of NNPatterns.td, for every op at once.
  let hasCanonicalizer = 1;
  // Attributes stay in the attribute dictionary, so the graph importer can
  // check and infer any op generically from a DictionaryAttr.
  let usePropertiesForAttributes = 0;
}

def NN_Float : AnyTypeOf<[F32, F64]>;
def NN_FloatTensor : TensorOf<[F32, F64]>;
def NN_IntTensor : TensorOf<[I32, I64]>;
def NN_NumericTensor : TensorOf<[F32, F64, I32, I64]>;
def NN_Tensor : TensorOf<[F32, F64, I32, I64, I1]>;
def NN_StaticTensor : StaticShapeTensorOf<[F32, F64, I32, I64, I1]>;

// Elementwise with NumPy broadcasting (nn/IR/NNTraits.h): fusion,
// flattening and shape refinement ask for it.
def NN_Elementwise : NativeOpTrait<"Elementwise"> {
  let cppNamespace = "::nncc::nn";
}
// What kernel an op is (NNTraits.h): fusion builds its groups by them.
def NN_IndexMap : NativeOpTrait<"IndexMap"> { let cppNamespace = "::nncc::nn"; }
def NN_Reduction : NativeOpTrait<"Reduction"> { let cppNamespace = "::nncc::nn"; }
def NN_Contraction : NativeOpTrait<"Contraction"> { let cppNamespace = "::nncc::nn"; }

// An axis (negative counts from the end): an i64 attribute, as I64Attr, that
// reads back as int64_t; I64Attr's accessor is uint64_t, which makes -1 huge.
def NN_AxisAttr : TypedSignlessIntegerAttrBase<I64, "int64_t",
                                               "64-bit signless integer attribute"> {
  let convertFromStorage = "$_self.getValue().getSExtValue()";
}

class NN_Op<string mnemonic, list<Trait> traits = []>
    : Op<NN_Dialect, mnemonic, traits>;

// An op whose result types come from nncc's shape rules (see ShapeRules.h);
// result types compatible with the inferred ones are accepted (a known size
// where the rule infers an unknown one), for every such op at once.
class NN_InferredOp<string mnemonic, list<Trait> traits = []>
    : NN_Op<mnemonic, !listconcat(traits, [InferTypeOpAdaptorWithIsCompatible])> {
  code compatibleDefinition = [{
    bool $cppClass::isCompatibleReturnTypes(::mlir::TypeRange l, ::mlir::TypeRange r) {
      return ::nncc::nn::compatibleTypes(l, r);
    }
  }];
  let extraClassDefinition = compatibleDefinition;
}

#endif // NNCC_NN_BASE_TD
