// Elementwise nn ops -> parallel linalg.generic with arith/math bodies.
#include "compiler/cpu/LoweringUtils.h"
#include "compiler/cpu/lowering/Patterns.h"
#include "nn/IR/NNDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;

namespace nncc::cpu {
namespace {

/// Lowers an elementwise op whose scalar computation is `Body::build`.
template <typename NNOp, typename Body> struct ElementwiseLowering : Lowering<NNOp> {
  using Lowering<NNOp>::Lowering;
  LogicalResult lower(NNOp op, PatternRewriter &rw) const override {
    auto type = cast<RankedTensorType>(op.getType());
    rw.replaceOp(op, elementwise(rw, op.getLoc(), type, op->getOperands(), Body::build));
    return success();
  }
};

template <typename FOp, typename IOp> struct Arith {
  static Value build(OpBuilder &b, Location loc, ValueRange a) {
    if (isa<FloatType>(a[0].getType()))
      return b.create<FOp>(loc, a[0], a[1]);
    return b.create<IOp>(loc, a[0], a[1]);
  }
};

struct Div {
  static Value build(OpBuilder &b, Location loc, ValueRange a) {
    return divide(b, loc, a[0], a[1]);
  }
};

struct Equal {
  static Value build(OpBuilder &b, Location loc, ValueRange a) {
    if (isa<FloatType>(a[0].getType()))
      return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, a[0], a[1]);
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, a[0], a[1]);
  }
};

template <arith::CmpFPredicate F, arith::CmpIPredicate I> struct Compare {
  static Value build(OpBuilder &b, Location loc, ValueRange a) {
    if (isa<FloatType>(a[0].getType()))
      return b.create<arith::CmpFOp>(loc, F, a[0], a[1]);
    return b.create<arith::CmpIOp>(loc, I, a[0], a[1]);
  }
};

struct Pow {
  static Value build(OpBuilder &b, Location loc, ValueRange a) {
    return b.create<math::PowFOp>(loc, a[0], a[1]);
  }
};

struct Select {
  static Value build(OpBuilder &b, Location loc, ValueRange a) {
    return b.create<arith::SelectOp>(loc, a[0], a[1], a[2]);
  }
};

struct Abs {
  static Value build(OpBuilder &b, Location loc, ValueRange a) {
    if (isa<FloatType>(a[0].getType()))
      return b.create<math::AbsFOp>(loc, a[0]);
    return b.create<math::AbsIOp>(loc, a[0]);
  }
};

struct Sign {
  // 1 above 0, -1 below, x itself otherwise (0, -0, NaN).
  static Value build(OpBuilder &b, Location loc, ValueRange a) {
    Type t = a[0].getType();
    Value zero = scalarConstant(b, loc, t, 0.0);
    Value above = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, a[0], zero);
    Value below = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, a[0], zero);
    Value rest = b.create<arith::SelectOp>(loc, below, scalarConstant(b, loc, t, -1.0), a[0]);
    return b.create<arith::SelectOp>(loc, above, scalarConstant(b, loc, t, 1.0), rest);
  }
};

struct LogicalNot {
  static Value build(OpBuilder &b, Location loc, ValueRange a) {
    return b.create<arith::XOrIOp>(loc, a[0], b.create<arith::ConstantIntOp>(loc, 1, 1));
  }
};

struct Neg {
  static Value build(OpBuilder &b, Location loc, ValueRange a) {
    if (isa<FloatType>(a[0].getType()))
      return b.create<arith::NegFOp>(loc, a[0]);
    return b.create<arith::SubIOp>(loc, scalarConstant(b, loc, a[0].getType(), 0), a[0]);
  }
};

struct Square {
  static Value build(OpBuilder &b, Location loc, ValueRange a) {
    if (isa<FloatType>(a[0].getType()))
      return b.create<arith::MulFOp>(loc, a[0], a[0]);
    return b.create<arith::MulIOp>(loc, a[0], a[0]);
  }
};

template <typename MathOp> struct Math {
  static Value build(OpBuilder &b, Location loc, ValueRange a) {
    return b.create<MathOp>(loc, a[0]);
  }
};

struct Sigmoid {
  // 1 / (1 + exp(-x))
  static Value build(OpBuilder &b, Location loc, ValueRange a) {
    Type t = a[0].getType();
    Value one = scalarConstant(b, loc, t, 1.0);
    Value e = b.create<math::ExpOp>(loc, b.create<arith::NegFOp>(loc, a[0]));
    return b.create<arith::DivFOp>(loc, one, b.create<arith::AddFOp>(loc, one, e));
  }
};

struct Relu {
  static Value build(OpBuilder &b, Location loc, ValueRange a) {
    return b.create<arith::MaximumFOp>(loc, a[0], scalarConstant(b, loc, a[0].getType(), 0.0));
  }
};

} // namespace

void populateMathLowering(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<ElementwiseLowering<nn::AddOp, Arith<arith::AddFOp, arith::AddIOp>>,
               ElementwiseLowering<nn::SubOp, Arith<arith::SubFOp, arith::SubIOp>>,
               ElementwiseLowering<nn::MulOp, Arith<arith::MulFOp, arith::MulIOp>>,
               ElementwiseLowering<nn::DivOp, Div>, ElementwiseLowering<nn::EqualOp, Equal>,
               ElementwiseLowering<nn::NegOp, Neg>, ElementwiseLowering<nn::SquareOp, Square>,
               ElementwiseLowering<nn::ExpOp, Math<math::ExpOp>>,
               ElementwiseLowering<nn::LogOp, Math<math::LogOp>>,
               ElementwiseLowering<nn::TanhOp, Math<math::TanhOp>>,
               ElementwiseLowering<nn::SqrtOp, Math<math::SqrtOp>>,
               ElementwiseLowering<nn::SigmoidOp, Sigmoid>, ElementwiseLowering<nn::ReluOp, Relu>>(
      ctx);
  patterns
      .add<ElementwiseLowering<nn::MaximumOp, Arith<arith::MaximumFOp, arith::MaxSIOp>>,
           ElementwiseLowering<nn::MinimumOp, Arith<arith::MinimumFOp, arith::MinSIOp>>,
           ElementwiseLowering<nn::PowOp, Pow>,
           ElementwiseLowering<nn::LessOp,
                               Compare<arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt>>,
           ElementwiseLowering<nn::LogicalAndOp, Arith<arith::AndIOp, arith::AndIOp>>,
           ElementwiseLowering<nn::LogicalOrOp, Arith<arith::OrIOp, arith::OrIOp>>,
           ElementwiseLowering<nn::LogicalXorOp, Arith<arith::XOrIOp, arith::XOrIOp>>,
           ElementwiseLowering<nn::SelectOp, Select>, ElementwiseLowering<nn::AbsOp, Abs>,
           ElementwiseLowering<nn::FloorOp, Math<math::FloorOp>>,
           ElementwiseLowering<nn::CeilOp, Math<math::CeilOp>>,
           ElementwiseLowering<nn::SignOp, Sign>, ElementwiseLowering<nn::SinOp, Math<math::SinOp>>,
           ElementwiseLowering<nn::CosOp, Math<math::CosOp>>,
           ElementwiseLowering<nn::ErfOp, Math<math::ErfOp>>,
           ElementwiseLowering<nn::LogicalNotOp, LogicalNot>>(ctx);
}

} // namespace nncc::cpu
