// Variables: state that lives across runs (weights, optimizer slots).
#ifndef NNCC_NN_STATE_OPS_TD
#define NNCC_NN_STATE_OPS_TD

include "NNBase.td"

def NN_VariableOp : NN_Op<"variable", [Symbol]> {
  let summary = "a resident variable with its initializer";
  let description = [{
    Declared at module level. `initializer` is one of zeros, ones, constant
    (with `value`), glorot_uniform, random_normal (`mean`, `stddev`) and
    random_uniform (`minval`, `maxval`); the random ones draw from `seed`.
    Example:
      nn.variable @weight : tensor<f32> {initializer = "constant", value = dense<2.0> : tensor<f32>}
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                   TypeAttrOf<NN_StaticTensor>:$type,
                   StrAttr:$initializer,
                   OptionalAttr<ElementsAttr>:$value,
                   DefaultValuedAttr<I64Attr, "0">:$seed,
                   DefaultValuedAttr<F32Attr, "0.0f">:$mean,
                   DefaultValuedAttr<F32Attr, "1.0f">:$stddev,
                   DefaultValuedAttr<F32Attr, "0.0f">:$minval,
                   DefaultValuedAttr<F32Attr, "1.0f">:$maxval,
                   UnitAttr:$frozen);
  let assemblyFormat = "$sym_name `:` $type attr-dict";
  let hasVerifier = 1;
}

def NN_ReadVariableOp : NN_Op<"read_variable",
    [DeclareOpInterfaceMethods<SymbolUserOpInterface>, MemoryEffects<[MemRead]>]> {
  let summary = "the current value of a variable";
  let arguments = (ins FlatSymbolRefAttr:$variable);
  let results = (outs NN_StaticTensor:$result);
  let assemblyFormat = "$variable attr-dict `:` type($result)";
}

def NN_AssignVariableOp : NN_Op<"assign_variable",
    [DeclareOpInterfaceMethods<SymbolUserOpInterface>, MemoryEffects<[MemWrite]>]> {
  let summary = "stores a new value into a variable";
  let arguments = (ins FlatSymbolRefAttr:$variable, NN_Tensor:$value);
  let assemblyFormat = "$variable `,` $value attr-dict `:` type($value)";
}

#endif // NNCC_NN_STATE_OPS_TD
