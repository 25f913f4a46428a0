// Collectives: ops whose value depends on the other processes of a
// data-parallel run. The dialect only states what is computed; a backend
// decides how the processes talk (the CPU's runtime hook, a GPU library).
#ifndef NNCC_NN_COLLECTIVE_OPS_TD
#define NNCC_NN_COLLECTIVE_OPS_TD

include "NNBase.td"

def NN_AllReduceOp : NN_Op<"all_reduce", [InferTypeOpAdaptor, MemoryEffects<[MemWrite]>]> {
  let summary = "every value summed (or averaged) over the processes of the run";
  let description = [{
    A bucket of tensors reduced elementwise over every process (rank) of a
    data-parallel run, as one collective call: the i-th result is the sum
    (`reduction = "sum"`) or the mean (`"mean"`) over the ranks of the i-th
    operand. On one process both are the identity. The operands share one
    element type and have static shapes (a backend packs them into one
    buffer). It has effects: every rank must make the same collective calls
    in the same order, so none is merged, dropped or moved past another.
    Placed on a training step's gradients by nn-all-reduce-gradients:
      %g:2 = nn.all_reduce "mean" %gw, %gb : tensor<784x50xf32>, tensor<50xf32>
  }];
  let arguments = (ins Variadic<NN_FloatTensor>:$values, StrAttr:$reduction);
  let results = (outs Variadic<NN_FloatTensor>:$results);
  let assemblyFormat = "$reduction $values attr-dict `:` type($values)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The bytes the bucket holds (every operand's elements).
    int64_t getBucketBytes();
  }];
}

#endif // NNCC_NN_COLLECTIVE_OPS_TD
