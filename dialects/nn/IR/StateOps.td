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

def NN_CheckNumericsOp : NN_Op<"check_numerics", [MemoryEffects<[MemWrite]>]> {
  let summary = "reports a value holding NaN or an infinity to the runtime";
  let description = [{
    Inserted after every floating-point op by nn-check-numerics. At run
    time, where `value` holds a NaN or an infinity, the runtime is told
    check number `index`; the first check to fire in a run names the op
    (the executable's table of checks holds `what` at `index`), the run
    fails, and the variables keep their values. Example:
      nn.check_numerics %z {index = 3 : i32, what = "node 'layer1' (nn.tanh)"} : tensor<64x50xf32>
  }];
  let arguments = (ins NN_FloatTensor:$value, I32Attr:$index, StrAttr:$what);
  let assemblyFormat = "$value attr-dict `:` type($value)";
}

#endif // NNCC_NN_STATE_OPS_TD
