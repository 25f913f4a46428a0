// Declarative peephole rewrites, applied by --canonicalize.
#ifndef NNCC_NN_PATTERNS_TD
#define NNCC_NN_PATTERNS_TD

include "mlir/IR/PatternBase.td"
include "NNOps.td"

def IsSplatZero : Constraint<CPred<"::nncc::nn::isSplatOf($0, 0.0)">, "splat of 0">;
def IsSplatOne : Constraint<CPred<"::nncc::nn::isSplatOf($0, 1.0)">, "splat of 1">;
def SameType : Constraint<CPred<"$0.getType() == $1.getType()">, "same type">;

// x + 0, x - 0, x * 1, x / 1 -> x, when broadcasting does not change x's type.
def AddZero : Pat<(NN_AddOp:$res $x, (NN_ConstantOp $c)), (replaceWithValue $x),
                  [(IsSplatZero $c), (SameType $x, $res)]>;
def ZeroAdd : Pat<(NN_AddOp:$res (NN_ConstantOp $c), $x), (replaceWithValue $x),
                  [(IsSplatZero $c), (SameType $x, $res)]>;
def SubZero : Pat<(NN_SubOp:$res $x, (NN_ConstantOp $c)), (replaceWithValue $x),
                  [(IsSplatZero $c), (SameType $x, $res)]>;
def MulOne : Pat<(NN_MulOp:$res $x, (NN_ConstantOp $c)), (replaceWithValue $x),
                 [(IsSplatOne $c), (SameType $x, $res)]>;
def OneMul : Pat<(NN_MulOp:$res (NN_ConstantOp $c), $x), (replaceWithValue $x),
                 [(IsSplatOne $c), (SameType $x, $res)]>;
def DivOne : Pat<(NN_DivOp:$res $x, (NN_ConstantOp $c)), (replaceWithValue $x),
                 [(IsSplatOne $c), (SameType $x, $res)]>;

// -(-x) -> x, unless a declared result type refines x's (then uses need it).
def NegNeg : Pat<(NN_NegOp:$res (NN_NegOp $x)), (replaceWithValue $x),
                 [(SameType $x, $res)]>;

// reshape(reshape(x)) -> reshape(x); squeeze is a reshape too.
def ReshapeReshape : Pat<(NN_ReshapeOp (NN_ReshapeOp $x, $inner), $outer),
                         (NN_ReshapeOp $x, $outer)>;
def ReshapeSqueeze : Pat<(NN_ReshapeOp (NN_SqueezeOp $x, $axes), $outer),
                         (NN_ReshapeOp $x, $outer)>;

#endif // NNCC_NN_PATTERNS_TD
