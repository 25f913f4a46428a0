#include "compiler/cuda/KernelWriter.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Transforms/RegionUtils.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cctype>
#include <cstdio>
#include <functional>
#include <optional>

using namespace mlir;

namespace nncc::cuda {
namespace {

RankedTensorType tensorOf(Value v) { return cast<RankedTensorType>(v.getType()); }
Type eltOf(Value v) { return tensorOf(v).getElementType(); }

std::string floatLiteral(double v, Type elt) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.17g", v);
  std::string s = buffer;
  bool f32 = !elt.isF64();
  if (s == "inf")
    return f32 ? "__int_as_float(0x7f800000)" : "__longlong_as_double(0x7ff0000000000000LL)";
  if (s == "-inf")
    return f32 ? "__int_as_float(0xff800000)" : "__longlong_as_double(0xfff0000000000000LL)";
  if (s == "nan" || s == "-nan")
    return f32 ? "__int_as_float(0x7fc00000)" : "__longlong_as_double(0x7ff8000000000000LL)";
  if (s.find_first_of(".e") == std::string::npos)
    s += ".0";
  return f32 ? s + "f" : s;
}

/// A scalar attribute as a C literal of its type.
std::string literal(Attribute attr) {
  if (auto f = dyn_cast<FloatAttr>(attr))
    return floatLiteral(f.getValueAsDouble(), f.getType());
  auto i = cast<IntegerAttr>(attr);
  if (i.getType().isInteger(1))
    return i.getValue().isZero() ? "false" : "true";
  return "(" + cType(i.getType()) + ")(" + std::to_string(i.getValue().getSExtValue()) + "LL)";
}

/// A math function of the element type: expf / exp, ...
std::string fn(const char *name, Type elt) {
  return elt.isF32() ? std::string(name) + "f" : std::string(name);
}

std::string unsignedType(Type t) { return t.isInteger(32) ? "unsigned" : "unsigned long long"; }

std::string join(const std::vector<std::string> &parts, const char *sep) {
  std::string s;
  for (size_t i = 0; i < parts.size(); ++i)
    s += (i ? sep : "") + parts[i];
  return s;
}

/// The combiner of reduction result `j` of a linalg op: the body's yielded
/// value j is `combiner(out_j, term)`, out_j used nowhere else, and the
/// combiner has a neutral element (sum, product, max, min, and, or).
Operation *combinerOf(linalg::LinalgOp op, unsigned j) {
  Block *body = op.getBlock();
  BlockArgument acc = op.getMatchingBlockArgument(op.getDpsInitOperand(j));
  Value yielded = body->getTerminator()->getOperand(j);
  Operation *combiner = yielded.getDefiningOp();
  if (!combiner || combiner->getBlock() != body || combiner->getNumOperands() != 2 ||
      !acc.hasOneUse() || !llvm::is_contained(combiner->getOperands(), acc) ||
      combiner->getOperand(0) == combiner->getOperand(1) || !arith::getNeutralElement(combiner))
    return nullptr;
  return combiner;
}

bool hasReduction(linalg::LinalgOp op) { return op.getNumReductionLoops() > 0; }

} // namespace

std::string cType(Type elt) {
  if (elt.isF32())
    return "float";
  if (elt.isF64())
    return "double";
  if (elt.isInteger(1))
    return "bool";
  if (elt.isInteger(32))
    return "int";
  return "long long";
}

std::optional<int64_t> Shapes::size(Value index) {
  Operation *op = index.getDefiningOp();
  if (!op)
    return std::nullopt;
  if (auto c = dyn_cast<arith::ConstantOp>(op))
    if (auto i = dyn_cast<IntegerAttr>(c.getValue()))
      return i.getInt();
  if (auto d = dyn_cast<tensor::DimOp>(op)) {
    auto i = d.getConstantIndex();
    auto dims = of(d.getSource());
    if (!i || failed(dims))
      return std::nullopt;
    return (*dims)[*i];
  }
  if (isa<arith::IndexCastOp, arith::IndexCastUIOp>(op))
    return size(op->getOperand(0));
  if (op->getNumOperands() != 2)
    return std::nullopt;
  auto a = size(op->getOperand(0)), b = size(op->getOperand(1));
  if (!a || !b)
    return std::nullopt;
  // Sizes c*N (negative) or known: products with a known size, quotients
  // that stay whole multiples, sums of known sizes.
  if (isa<arith::MulIOp>(op) && (*a >= 0 || *b >= 0))
    return *a < 0 || *b < 0 ? -std::abs(*a * *b) : *a * *b;
  if (isa<arith::DivUIOp, arith::DivSIOp>(op) && *b > 0 && *a % *b == 0)
    return *a / *b;
  if (isa<arith::AddIOp>(op) && *a >= 0 && *b >= 0)
    return *a + *b;
  if (isa<arith::SubIOp>(op) && *a >= 0 && *b >= 0)
    return *a - *b;
  return std::nullopt;
}

FailureOr<SymShape> Shapes::of(Value v) {
  if (auto it = cache_.find(v); it != cache_.end())
    return it->second;
  auto type = tensorOf(v);
  SymShape dims(type.getShape());
  if (type.hasStaticShape()) {
    cache_[v] = dims;
    return dims;
  }
  Operation *op = v.getDefiningOp();
  if (!op) // a group's argument: its sizes are set
    return emitError(v.getLoc(), "a tensor of unknown size"), failure();
  auto fromSizes = [&](auto sizes) -> LogicalResult {
    // Dynamic dimension k (in order) is sizes[k] (or, for all-sizes lists,
    // dimension i is sizes[i]).
    size_t k = 0;
    bool all = static_cast<int64_t>(sizes.size()) == type.getRank();
    for (int64_t i = 0; i < type.getRank(); ++i) {
      if (!ShapedType::isDynamic(dims[i]))
        continue;
      auto s = size(sizes[all ? i : k++]);
      if (!s)
        return failure();
      dims[i] = *s;
    }
    return success();
  };
  LogicalResult sized = failure();
  if (auto dps = dyn_cast<DestinationStyleOpInterface>(op)) {
    auto init = of(dps.getDpsInitOperand(cast<OpResult>(v).getResultNumber())->get());
    if (failed(init))
      return failure();
    dims = *init;
    sized = success();
  } else if (auto empty = dyn_cast<tensor::EmptyOp>(op)) {
    sized = fromSizes(SmallVector<Value>(empty.getDynamicSizes()));
  } else if (auto reshape = dyn_cast<tensor::ReshapeOp>(op)) {
    if (auto elements = reshape.getShape().getDefiningOp<tensor::FromElementsOp>())
      sized = fromSizes(SmallVector<Value>(elements.getElements()));
  } else if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op)) {
    sized = fromSizes(SmallVector<Value>(expand.getOutputShape()));
  } else if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op)) {
    auto source = of(collapse.getSrc());
    if (failed(source))
      return failure();
    sized = success();
    for (auto [i, group] : llvm::enumerate(collapse.getReassociationIndices())) {
      int64_t product = 1, unknown = 0;
      for (int64_t j : group) {
        int64_t d = (*source)[j];
        unknown += d < 0;
        product *= d < 0 ? -d : d;
      }
      if (unknown > 1)
        sized = failure();
      dims[i] = unknown ? -product : product;
    }
  } else if (auto cast = dyn_cast<tensor::CastOp>(op)) {
    auto source = of(cast.getSource());
    if (failed(source))
      return failure();
    dims = *source;
    sized = success();
  }
  if (failed(sized))
    return op->emitOpError("gives a dimension that is not a whole multiple of the batch "
                           "size, which the CUDA target needs"),
           failure();
  cache_[v] = dims;
  return dims;
}

std::string KernelWriter::keyOf(Value v, const Coords &coords) {
  char address[32];
  std::snprintf(address, sizeof address, "%p@", v.getAsOpaquePointer());
  return address + join(coords, ",");
}

LogicalResult KernelWriter::checked() {
  if (sizeFailed_)
    return failure(); // reported at the op
  if (failedAt_)
    return failedAt_->emitOpError("is not supported by the CUDA target yet"), failure();
  return success();
}

KernelWriter::KernelWriter(std::string name, std::vector<Value> inputs, Shapes &shapes,
                           Precision precision, bool wgmma)
    : name_(std::move(name)), inputs_(std::move(inputs)), shapes_(shapes), precision_(precision),
      wgmma_(wgmma) {}

std::string KernelWriter::dim(Value v, int64_t i) {
  auto shape = shapes_.of(v);
  if (failed(shape)) {
    sizeFailed_ = true; // reported at the op
    return "0LL";
  }
  int64_t d = (*shape)[i];
  if (d >= 0)
    return std::to_string(d) + "LL";
  return d == -1 ? "N" : "(" + std::to_string(-d) + "LL*N)";
}

std::string KernelWriter::elements(Value v) {
  std::string s = "1LL";
  for (int64_t i = 0; i < tensorOf(v).getRank(); ++i)
    s += "*" + dim(v, i);
  return s;
}

std::string KernelWriter::fresh(const char *prefix) {
  std::string name = prefix + std::to_string(counter_++);
  declaredIn_[name] = current_;
  return name;
}

void KernelWriter::line(const std::string &text) {
  size_t depth = 0;
  for (size_t s = current_; s != 0; s = scopes_[s].parent)
    ++depth;
  scopes_[current_].text += std::string(baseIndent_ + 2 * depth, ' ') + text + "\n";
}

void KernelWriter::open(const std::string &header) {
  Scope scope;
  scope.header = header;
  scope.parent = current_;
  scopes_.push_back(std::move(scope));
  current_ = scopes_.size() - 1;
}

void KernelWriter::close() {
  // Only the last scope opened is closed: hoisted code goes to a parent's
  // text while its child is open, and so comes before the child's loop.
  assert(current_ == scopes_.size() - 1 && "closing a scope that is not the innermost");
  Scope scope = std::move(scopes_.back());
  scopes_.pop_back();
  current_ = scope.parent;
  line(scope.header + " {");
  scopes_[current_].text += scope.text;
  line("}");
}

size_t KernelWriter::scopeOf(const Coords &exprs) {
  size_t deepest = 0;
  for (const std::string &e : exprs)
    for (size_t i = 0; i < e.size();) {
      if (!std::isalpha(static_cast<unsigned char>(e[i])) && e[i] != '_') {
        // Skip a number with its suffix (10LL) as one token.
        bool digits = std::isdigit(static_cast<unsigned char>(e[i]));
        ++i;
        while (digits && i < e.size() && std::isalnum(static_cast<unsigned char>(e[i])))
          ++i;
        continue;
      }
      size_t start = i;
      while (i < e.size() && (std::isalnum(static_cast<unsigned char>(e[i])) || e[i] == '_'))
        ++i;
      auto found = declaredIn_.find(e.substr(start, i - start));
      if (found != declaredIn_.end())
        deepest = std::max(deepest, found->second);
    }
  return deepest;
}

KernelWriter::Coords KernelWriter::delinearize(const std::string &lin, Value v) {
  int64_t rank = tensorOf(v).getRank();
  Coords c(rank);
  if (rank == 0)
    return c;
  if (rank == 1)
    return {lin};
  std::string rest = fresh("r");
  line("long long " + rest + " = " + lin + ";");
  for (int64_t i = rank; i-- > 0;) {
    c[i] = fresh("c");
    if (i == 0) {
      line("const long long " + c[i] + " = " + rest + ";");
    } else {
      line("const long long " + c[i] + " = " + rest + " % " + dim(v, i) + ";");
      line(rest + " /= " + dim(v, i) + ";");
    }
  }
  return c;
}

std::string KernelWriter::linear(const Coords &c, Value v) {
  if (c.empty())
    return "0LL";
  std::string s = c[0];
  for (size_t i = 1; i < c.size(); ++i)
    s = "(" + s + ")*" + dim(v, i) + "+" + c[i];
  return s;
}

std::string KernelWriter::at(Value v, const Coords &coords) {
  if (auto it = overrides_.find(v.getAsOpaquePointer()); it != overrides_.end())
    return it->second;
  std::string key = keyOf(v, coords);
  for (size_t s = current_;; s = scopes_[s].parent) {
    if (auto found = scopes_[s].computed.find(key); found != scopes_[s].computed.end())
      return found->second;
    if (s == 0)
      break;
  }
  // Computed where its coordinates are all known: the loops inside that
  // scope do not change it.
  size_t saved = current_;
  current_ = scopeOf(coords);
  std::string name = compute(v, coords);
  scopes_[current_].computed[key] = name;
  current_ = saved;
  return name;
}

std::string KernelWriter::compute(Value v, const Coords &coords) {
  std::string T = cType(eltOf(v));
  auto input = llvm::find(inputs_, v);
  if (input != inputs_.end()) {
    std::string name = fresh("v");
    line("const " + T + " " + name + " = in" + std::to_string(input - inputs_.begin()) + "[" +
         linear(coords, v) + "];");
    return name;
  }
  Operation *op = v.getDefiningOp();
  if (!op) {
    failedAt_ = failedAt_ ? failedAt_ : v.getParentBlock()->getParentOp();
    return "0";
  }
  // The same elements in another shape: the same linear index.
  auto relaid = [&](Value source) {
    std::string lin = fresh("l");
    line("const long long " + lin + " = " + linear(coords, v) + ";");
    return at(source, delinearize(lin, source));
  };
  return llvm::TypeSwitch<Operation *, std::string>(op)
      .Case([&](linalg::LinalgOp l) {
        unsigned result = cast<OpResult>(v).getResultNumber();
        auto names = linalgElement(op, result, coords);
        if (names.empty())
          return std::string("0");
        // The other results, computed with it, where they sit at the same
        // coordinates.
        AffineMap map = l.getIndexingMapMatchingResult(cast<OpResult>(v));
        for (auto [k, other] : llvm::enumerate(op->getResults()))
          if (k != result && l.getIndexingMapMatchingResult(cast<OpResult>(other)) == map)
            scopes_[current_].computed[keyOf(other, coords)] = names[k];
        return names[result];
      })
      .Case<tensor::ReshapeOp, tensor::ExpandShapeOp, tensor::CollapseShapeOp>(
          [&](Operation *) { return relaid(op->getOperand(0)); })
      .Case([&](tensor::CastOp c) { return at(c.getSource(), coords); })
      .Case([&](tensor::InsertSliceOp s) -> std::string {
        // The source's element where the coordinates fall on the slice
        // (offset + stride * i, i inside the source: a convolution's
        // padding, a stride's spread), else the destination's; the source
        // read at a clamped position, so that no read leaves it.
        Value source = s.getSource();
        ArrayRef<int64_t> offsets = s.getStaticOffsets(), strides = s.getStaticStrides();
        if (tensorOf(source).getRank() != tensorOf(v).getRank() ||
            ShapedType::isDynamicShape(offsets) || ShapedType::isDynamicShape(strides)) {
          failedAt_ = failedAt_ ? failedAt_ : op;
          return "0";
        }
        Coords inner;
        std::vector<std::string> inside;
        for (auto [i, c] : llvm::enumerate(coords)) {
          std::string size = dim(source, i);
          if (offsets[i] == 0 && strides[i] == 1 && size == dim(v, i)) {
            inner.push_back(c);
            continue;
          }
          std::string rel = fresh("p"), q = fresh("q"), clamped = fresh("c");
          std::string stride = std::to_string(strides[i]) + "LL";
          line("const long long " + rel + " = " + c + " - " + std::to_string(offsets[i]) + "LL, " +
               q + " = " + rel + " / " + stride + ";");
          line("const long long " + clamped + " = " + q + " < 0 ? 0 : " + q + " < " + size + " ? " +
               q + " : " + size + " - 1;");
          inside.push_back(rel + " >= 0 && " + q + " < " + size +
                           (strides[i] == 1 ? "" : " && " + rel + " % " + stride + " == 0"));
          inner.push_back(clamped);
        }
        if (inside.empty())
          return at(source, inner);
        std::string ok = fresh("ok");
        line("const bool " + ok + " = " + join(inside, " && ") + ";");
        std::string a = at(source, inner), b = at(s.getDest(), coords);
        return "(" + ok + " ? " + a + " : " + b + ")";
      })
      .Case([&](tensor::EmptyOp) { return "(" + T + ")0"; })
      .Case([&](tensor::FromElementsOp f) {
        std::string lin = linear(coords, v);
        std::string e = scalar(f.getElements().back());
        for (size_t i = f.getElements().size() - 1; i-- > 0;)
          e = "(" + lin + " == " + std::to_string(i) + "LL ? " + scalar(f.getElements()[i]) +
              " : " + e + ")";
        return e;
      })
      .Case([&](arith::ConstantOp c) {
        auto attr = cast<DenseElementsAttr>(c.getValue());
        if (attr.isSplat())
          return literal(attr.getSplatValue<Attribute>());
        std::string array = "nncc_" + name_ + "_k" + std::to_string(counter_++);
        std::vector<std::string> values;
        for (Attribute a : attr.getValues<Attribute>())
          values.push_back(literal(a));
        globals_ += "__device__ const " + T + " " + array + "[] = {" + join(values, ", ") + "};\n";
        return array + "[" + linear(coords, v) + "]";
      })
      .Default([&](Operation *) {
        failedAt_ = failedAt_ ? failedAt_ : op;
        return std::string("0");
      });
}

std::vector<std::string> KernelWriter::linalgElement(Operation *operation, unsigned result,
                                                     const Coords &coords) {
  auto op = cast<linalg::LinalgOp>(operation);
  unsigned loops = op.getNumLoops();
  std::vector<std::string> loopVars(loops);
  AffineMap outMap = op.getIndexingMapMatchingResult(cast<OpResult>(op->getResult(result)));
  if (!outMap.isProjectedPermutation()) {
    failedAt_ = failedAt_ ? failedAt_ : operation;
    return {};
  }
  for (auto [k, e] : llvm::enumerate(outMap.getResults()))
    loopVars[cast<AffineDimExpr>(e).getPosition()] = coords[k];
  // A loop's extent: a dimension of an operand it indexes directly.
  auto extent = [&](unsigned d) -> std::string {
    for (OpOperand &operand : op->getOpOperands()) {
      if (!isa<RankedTensorType>(operand.get().getType()))
        continue;
      for (auto [p, e] : llvm::enumerate(op.getMatchingIndexingMap(&operand).getResults()))
        if (auto de = dyn_cast<AffineDimExpr>(e); de && de.getPosition() == d)
          return dim(operand.get(), p);
    }
    failedAt_ = failedAt_ ? failedAt_ : operation;
    return "0LL";
  };
  std::function<std::string(AffineExpr)> index = [&](AffineExpr e) -> std::string {
    if (auto d = dyn_cast<AffineDimExpr>(e))
      return loopVars[d.getPosition()];
    if (auto c = dyn_cast<AffineConstantExpr>(e))
      return std::to_string(c.getValue()) + "LL";
    auto b = dyn_cast<AffineBinaryOpExpr>(e);
    if (!b) {
      failedAt_ = failedAt_ ? failedAt_ : operation;
      return "0LL";
    }
    std::string l = index(b.getLHS()), r = index(b.getRHS());
    switch (e.getKind()) {
    case AffineExprKind::Add:
      return "(" + l + " + " + r + ")";
    case AffineExprKind::Mul:
      return "(" + l + " * " + r + ")";
    case AffineExprKind::Mod:
      return "(" + l + " % " + r + ")";
    case AffineExprKind::FloorDiv:
      return "(" + l + " / " + r + ")";
    default: // ceildiv
      return "((" + l + " + " + r + " - 1) / " + r + ")";
    }
  };
  Block *body = op.getBlock();
  unsigned numInputs = op.getNumDpsInputs(), numResults = op->getNumResults();
  std::vector<std::string> accs(numResults);
  bool reducing = hasReduction(op);
  // The body's values: block arguments read where used (an input at its
  // indexing map's position, an output its accumulator or its initial
  // element), values from outside as scalars.
  auto evaluate = [&](std::vector<std::string> &yielded) {
    llvm::DenseMap<Value, std::string> values;
    std::function<std::string(Value)> get = [&](Value x) -> std::string {
      if (auto it = values.find(x); it != values.end())
        return it->second;
      std::string s;
      if (auto arg = dyn_cast<BlockArgument>(x); arg && arg.getOwner() == body) {
        unsigned n = arg.getArgNumber();
        if (n >= numInputs) {
          s = reducing ? accs[n - numInputs]
                       : at(op.getDpsInitOperand(n - numInputs)->get(), coords);
        } else {
          OpOperand *operand = op.getDpsInputOperand(n);
          if (!isa<RankedTensorType>(operand->get().getType())) {
            s = scalar(operand->get());
          } else {
            Coords c;
            for (AffineExpr e : op.getMatchingIndexingMap(operand).getResults())
              c.push_back(index(e));
            s = at(operand->get(), c);
          }
        }
      } else {
        s = scalar(x);
      }
      values[x] = s;
      return s;
    };
    for (Operation &inner : body->without_terminator()) {
      std::string s;
      if (auto idx = dyn_cast<linalg::IndexOp>(inner)) {
        s = loopVars[idx.getDim()];
      } else if (auto extract = dyn_cast<tensor::ExtractOp>(inner)) {
        Coords c;
        for (Value i : extract.getIndices())
          c.push_back(get(i));
        s = at(extract.getTensor(), c);
      } else {
        std::vector<std::string> operands;
        for (Value x : inner.getOperands())
          operands.push_back(get(x));
        std::string e = expression(&inner, operands);
        // Computed in the outermost scope its operands allow (a loop
        // invariant before the loop).
        size_t saved = current_;
        current_ = scopeOf(operands);
        s = fresh("v");
        line("const " + cType(inner.getResult(0).getType()) + " " + s + " = " + e + ";");
        current_ = saved;
      }
      values[inner.getResult(0)] = s;
    }
    for (Value y : body->getTerminator()->getOperands())
      yielded.push_back(get(y));
  };

  std::vector<std::string> names;
  if (!reducing) {
    evaluate(names);
    return names;
  }
  // The reduced loops, one linear loop over them all (the last fastest) so
  // that threads can stride them together.
  SmallVector<unsigned> reduced;
  op.getReductionDims(reduced);
  std::vector<std::string> extents;
  std::string count = "1LL";
  for (unsigned d : reduced) {
    extents.push_back(extent(d));
    count += "*" + extents.back();
  }
  std::vector<Operation *> combiners;
  for (unsigned j = 0; j < numResults; ++j)
    combiners.push_back(combinerOf(op, j));
  bool combinable = llvm::all_of(combiners, [](Operation *c) { return c != nullptr; });
  // Shuffles need every thread of the warp (and a block's barrier every
  // thread of the block): only where they all are, the element's top level.
  bool together = coop_ != Cooperation::None && current_ == 0 && combinable;
  bool warp = coop_ == Cooperation::Warp;
  std::vector<std::string> inits(numResults), identities(numResults);
  for (unsigned j = 0; j < numResults; ++j) {
    Type t = op->getResult(j).getType();
    Type elt = cast<RankedTensorType>(t).getElementType();
    inits[j] = at(op.getDpsInitOperand(j)->get(), coords);
    accs[j] = fresh("acc");
    if (together) {
      identities[j] = literal(*arith::getNeutralElement(combiners[j]));
      line(cType(elt) + " " + accs[j] + " = " + identities[j] + ";");
    } else {
      line(cType(elt) + " " + accs[j] + " = " + inits[j] + ";");
    }
  }
  std::string r = fresh("i");
  std::string first = !together ? "0" : warp ? "lane" : "threadIdx.x";
  std::string next = !together ? "++" + r : r + " += " + (warp ? "32" : "blockDim.x");
  open("for (long long " + r + " = " + first + "; " + r + " < " + count + "; " + next + ")");
  // The accumulators change in the loop: what reads them stays in it.
  declaredIn_[r] = current_;
  for (const std::string &acc : accs)
    declaredIn_[acc] = current_;
  if (reduced.size() == 1) {
    loopVars[reduced[0]] = r;
  } else {
    std::string rest = fresh("q");
    line("long long " + rest + " = " + r + ";");
    for (size_t k = reduced.size(); k-- > 0;) {
      std::string c = fresh("c");
      line("const long long " + c + " = " + rest + " % " + extents[k] + ";");
      if (k)
        line(rest + " /= " + extents[k] + ";");
      loopVars[reduced[k]] = c;
    }
  }
  std::vector<std::string> yielded;
  evaluate(yielded);
  for (unsigned j = 0; j < numResults; ++j)
    line(accs[j] + " = " + yielded[j] + ";");
  close();
  for (const std::string &acc : accs)
    declaredIn_[acc] = current_;
  for (unsigned j = 0; j < numResults; ++j) {
    if (together) {
      Type elt = cast<RankedTensorType>(op->getResult(j).getType()).getElementType();
      combineAcross(accs[j], elt, identities[j], expression(combiners[j], {"a", "b"}));
      // The initial value folded in last, by the same combiner.
      std::vector<std::string> operands(2);
      bool accFirst =
          combiners[j]->getOperand(0) == op.getMatchingBlockArgument(op.getDpsInitOperand(j));
      operands[accFirst ? 0 : 1] = inits[j];
      operands[accFirst ? 1 : 0] = accs[j];
      std::string total = fresh("acc");
      line("const " + cType(elt) + " " + total + " = " + expression(combiners[j], operands) + ";");
      accs[j] = total;
    }
    names.push_back(accs[j]);
  }
  return names;
}

std::string KernelWriter::scalar(Value v) {
  char address[32];
  std::snprintf(address, sizeof address, "%p", v.getAsOpaquePointer());
  if (auto found = scopes_[0].computed.find(address); found != scopes_[0].computed.end())
    return found->second;
  Operation *op = v.getDefiningOp();
  if (!op) {
    failedAt_ = failedAt_ ? failedAt_ : v.getParentBlock()->getParentOp();
    return "0";
  }
  std::string s;
  if (auto c = dyn_cast<arith::ConstantOp>(op)) {
    s = literal(c.getValue());
  } else if (auto d = dyn_cast<tensor::DimOp>(op)) {
    auto i = d.getConstantIndex();
    if (!i) {
      failedAt_ = failedAt_ ? failedAt_ : op;
      return "0";
    }
    s = dim(d.getSource(), *i);
  } else {
    size_t saved = current_;
    current_ = 0;
    if (auto extract = dyn_cast<tensor::ExtractOp>(op)) {
      Coords c;
      for (Value i : extract.getIndices())
        c.push_back(scalar(i));
      s = at(extract.getTensor(), c);
    } else {
      std::vector<std::string> operands;
      for (Value x : op->getOperands())
        operands.push_back(scalar(x));
      std::string e = expression(op, operands);
      s = fresh("s");
      line("const " + cType(v.getType()) + " " + s + " = " + e + ";");
    }
    current_ = saved;
  }
  scopes_[0].computed[address] = s;
  return s;
}

/// An affine.apply's expression over index values `x` (dims, then symbols)
/// as C; floor division and modulo by positive constants round toward
/// -infinity as affine's do.
std::optional<std::string> affineExpression(AffineExpr e, const std::vector<std::string> &x,
                                            unsigned numDims) {
  if (auto d = dyn_cast<AffineDimExpr>(e))
    return x[d.getPosition()];
  if (auto s = dyn_cast<AffineSymbolExpr>(e))
    return x[numDims + s.getPosition()];
  if (auto c = dyn_cast<AffineConstantExpr>(e))
    return "(" + std::to_string(c.getValue()) + "LL)";
  auto b = dyn_cast<AffineBinaryOpExpr>(e);
  if (!b)
    return std::nullopt;
  auto l = affineExpression(b.getLHS(), x, numDims), r = affineExpression(b.getRHS(), x, numDims);
  if (!l || !r)
    return std::nullopt;
  switch (e.getKind()) {
  case AffineExprKind::Add:
    return "(" + *l + " + " + *r + ")";
  case AffineExprKind::Mul:
    return "(" + *l + " * " + *r + ")";
  case AffineExprKind::Mod:
    return "(((" + *l + " % " + *r + ") + " + *r + ") % " + *r + ")";
  case AffineExprKind::FloorDiv:
    return "(" + *l + " >= 0 ? " + *l + " / " + *r + " : (" + *l + " - " + *r + " + 1) / " + *r +
           ")";
  case AffineExprKind::CeilDiv:
    return "(" + *l + " > 0 ? (" + *l + " + " + *r + " - 1) / " + *r + " : " + *l + " / " + *r +
           ")";
  default:
    return std::nullopt;
  }
}

std::string KernelWriter::expression(Operation *op, const std::vector<std::string> &x) {
  auto fail = [&] {
    failedAt_ = failedAt_ ? failedAt_ : op;
    return std::string("0");
  };
  if (op->getNumResults() != 1)
    return fail();
  Type t = op->getResult(0).getType();
  Type in = op->getNumOperands() ? op->getOperand(0).getType() : t;
  std::string T = cType(t);
  auto bin = [&](const char *o) { return "(" + x[0] + " " + o + " " + x[1] + ")"; };
  auto call = [&](const char *name) { return fn(name, t) + "(" + join(x, ", ") + ")"; };
  auto asUnsigned = [&](const std::string &e) { return "(" + unsignedType(in) + ")" + e; };
  auto ubin = [&](const char *o) {
    return "(" + T + ")(" + asUnsigned(x[0]) + " " + o + " " + asUnsigned(x[1]) + ")";
  };
  auto pick = [&](const char *cmp) { // a if (a cmp b) or a is NaN, else b
    return "(" + x[0] + " " + cmp + " " + x[1] + " || " + x[0] + " != " + x[0] + " ? " + x[0] +
           " : " + x[1] + ")";
  };
  auto cast = [&] { return "(" + T + ")(" + x[0] + ")"; };
  auto wrap = [&](const char *o) { return t.isInteger(1) ? bin(o) : ubin(o); };
  return llvm::TypeSwitch<Operation *, std::string>(op)
      .Case<arith::AddFOp>([&](auto) { return bin("+"); })
      // Integers wrap around, as in MLIR (C's signed overflow is undefined).
      .Case<arith::AddIOp>([&](auto) { return wrap("+"); })
      .Case<arith::SubFOp>([&](auto) { return bin("-"); })
      .Case<arith::SubIOp>([&](auto) { return wrap("-"); })
      .Case<arith::MulFOp>([&](auto) { return bin("*"); })
      .Case<arith::MulIOp>([&](auto) { return wrap("*"); })
      .Case<arith::DivFOp, arith::DivSIOp>([&](auto) { return bin("/"); })
      .Case<arith::RemSIOp>([&](auto) { return bin("%"); })
      .Case<arith::RemFOp>([&](auto) { return call("fmod"); })
      .Case<arith::DivUIOp>([&](auto) { return ubin("/"); })
      .Case<arith::RemUIOp>([&](auto) { return ubin("%"); })
      .Case<arith::AndIOp>([&](auto) { return "(" + T + ")" + bin("&"); })
      .Case<arith::OrIOp>([&](auto) { return "(" + T + ")" + bin("|"); })
      .Case<arith::XOrIOp>([&](auto) { return "(" + T + ")" + bin("^"); })
      .Case<arith::ShLIOp>([&](auto) { return "(" + T + ")" + bin("<<"); })
      .Case<arith::ShRSIOp>([&](auto) { return bin(">>"); })
      .Case<arith::ShRUIOp>([&](auto) { return ubin(">>"); })
      .Case<arith::NegFOp>([&](auto) { return "(-" + x[0] + ")"; })
      // NaN wins, as in MLIR (and NumPy's maximum).
      .Case<arith::MaximumFOp>([&](auto) { return pick(">"); })
      .Case<arith::MinimumFOp>([&](auto) { return pick("<"); })
      .Case<arith::MaxNumFOp>([&](auto) { return call("fmax"); })
      .Case<arith::MinNumFOp>([&](auto) { return call("fmin"); })
      .Case<arith::MaxSIOp>(
          [&](auto) { return "(" + x[0] + " > " + x[1] + " ? " + x[0] + " : " + x[1] + ")"; })
      .Case<arith::MinSIOp>(
          [&](auto) { return "(" + x[0] + " < " + x[1] + " ? " + x[0] + " : " + x[1] + ")"; })
      .Case<arith::MaxUIOp>([&](auto) {
        return "(" + asUnsigned(x[0]) + " > " + asUnsigned(x[1]) + " ? " + x[0] + " : " + x[1] +
               ")";
      })
      .Case<arith::MinUIOp>([&](auto) {
        return "(" + asUnsigned(x[0]) + " < " + asUnsigned(x[1]) + " ? " + x[0] + " : " + x[1] +
               ")";
      })
      .Case<arith::SelectOp>([&](auto) { return "(" + x[0] + " ? " + x[1] + " : " + x[2] + ")"; })
      .Case<arith::CmpFOp>([&](arith::CmpFOp c) -> std::string {
        const std::string &a = x[0], &b = x[1];
        std::string unordered = "(" + a + " != " + a + " || " + b + " != " + b + ")";
        switch (c.getPredicate()) {
        case arith::CmpFPredicate::OEQ:
          return bin("==");
        case arith::CmpFPredicate::OGT:
          return bin(">");
        case arith::CmpFPredicate::OGE:
          return bin(">=");
        case arith::CmpFPredicate::OLT:
          return bin("<");
        case arith::CmpFPredicate::OLE:
          return bin("<=");
        case arith::CmpFPredicate::ONE:
          return "(" + a + " < " + b + " || " + a + " > " + b + ")";
        case arith::CmpFPredicate::ORD:
          return "!" + unordered;
        case arith::CmpFPredicate::UEQ:
          return "!(" + a + " < " + b + " || " + a + " > " + b + ")";
        case arith::CmpFPredicate::UGT:
          return "!(" + a + " <= " + b + ")";
        case arith::CmpFPredicate::UGE:
          return "!(" + a + " < " + b + ")";
        case arith::CmpFPredicate::ULT:
          return "!(" + a + " >= " + b + ")";
        case arith::CmpFPredicate::ULE:
          return "!(" + a + " > " + b + ")";
        case arith::CmpFPredicate::UNE:
          return bin("!=");
        case arith::CmpFPredicate::UNO:
          return unordered;
        case arith::CmpFPredicate::AlwaysTrue:
          return "true";
        case arith::CmpFPredicate::AlwaysFalse:
          return "false";
        }
        return fail();
      })
      .Case<arith::CmpIOp>([&](arith::CmpIOp c) -> std::string {
        auto u = [&](const char *o) {
          return "(" + asUnsigned(x[0]) + " " + o + " " + asUnsigned(x[1]) + ")";
        };
        switch (c.getPredicate()) {
        case arith::CmpIPredicate::eq:
          return bin("==");
        case arith::CmpIPredicate::ne:
          return bin("!=");
        case arith::CmpIPredicate::slt:
          return bin("<");
        case arith::CmpIPredicate::sle:
          return bin("<=");
        case arith::CmpIPredicate::sgt:
          return bin(">");
        case arith::CmpIPredicate::sge:
          return bin(">=");
        case arith::CmpIPredicate::ult:
          return u("<");
        case arith::CmpIPredicate::ule:
          return u("<=");
        case arith::CmpIPredicate::ugt:
          return u(">");
        case arith::CmpIPredicate::uge:
          return u(">=");
        }
        return fail();
      })
      .Case<arith::SIToFPOp, arith::FPToSIOp, arith::FPToUIOp, arith::ExtFOp, arith::TruncFOp,
            arith::ExtSIOp, arith::IndexCastOp>([&](auto) { return cast(); })
      .Case<arith::UIToFPOp, arith::ExtUIOp, arith::IndexCastUIOp>([&](auto) {
        if (in.isInteger(1))
          return cast();
        return "(" + T + ")" + asUnsigned(x[0]);
      })
      .Case<arith::TruncIOp>(
          [&](auto) { return t.isInteger(1) ? "((" + x[0] + " & 1) != 0)" : cast(); })
      .Case<arith::BitcastOp>([&](auto) -> std::string {
        if (t.isF32() && in.isInteger(32))
          return "__int_as_float(" + x[0] + ")";
        if (t.isInteger(32) && in.isF32())
          return "__float_as_int(" + x[0] + ")";
        if (t.isF64() && in.isInteger(64))
          return "__longlong_as_double(" + x[0] + ")";
        if (t.isInteger(64) && in.isF64())
          return "__double_as_longlong(" + x[0] + ")";
        return fail();
      })
      .Case<math::ExpOp>([&](auto) { return call("exp"); })
      .Case<math::Exp2Op>([&](auto) { return call("exp2"); })
      .Case<math::ExpM1Op>([&](auto) { return call("expm1"); })
      .Case<math::LogOp>([&](auto) { return call("log"); })
      .Case<math::Log2Op>([&](auto) { return call("log2"); })
      .Case<math::Log10Op>([&](auto) { return call("log10"); })
      .Case<math::Log1pOp>([&](auto) { return call("log1p"); })
      .Case<math::TanhOp>([&](auto) { return call("tanh"); })
      .Case<math::SqrtOp>([&](auto) { return call("sqrt"); })
      .Case<math::RsqrtOp>([&](auto) { return call("rsqrt"); })
      .Case<math::AbsFOp>([&](auto) { return call("fabs"); })
      .Case<math::CeilOp>([&](auto) { return call("ceil"); })
      .Case<math::FloorOp>([&](auto) { return call("floor"); })
      .Case<math::RoundOp>([&](auto) { return call("round"); })
      .Case<math::RoundEvenOp>([&](auto) { return call("rint"); })
      .Case<math::TruncOp>([&](auto) { return call("trunc"); })
      .Case<math::SinOp>([&](auto) { return call("sin"); })
      .Case<math::CosOp>([&](auto) { return call("cos"); })
      .Case<math::TanOp>([&](auto) { return call("tan"); })
      .Case<math::AtanOp>([&](auto) { return call("atan"); })
      .Case<math::Atan2Op>([&](auto) { return call("atan2"); })
      .Case<math::ErfOp>([&](auto) { return call("erf"); })
      .Case<math::PowFOp>([&](auto) { return call("pow"); })
      .Case<math::FmaOp>([&](auto) { return call("fma"); })
      .Case<math::CopySignOp>([&](auto) { return call("copysign"); })
      .Case<math::AbsIOp>([&](auto) { return "(" + x[0] + " < 0 ? -" + x[0] + " : " + x[0] + ")"; })
      .Case<affine::AffineApplyOp>([&](affine::AffineApplyOp a) {
        std::optional<std::string> e =
            affineExpression(a.getAffineMap().getResult(0), x, a.getAffineMap().getNumDims());
        return e ? *e : fail();
      })
      .Default([&](Operation *) { return fail(); });
}

std::string KernelWriter::header(Value result, const std::string &kernel, bool partials) {
  std::string s =
      "extern \"C\" __global__ void " + kernel + "(const " + abi::kKernelArgsName + " a) {\n";
  s += "  const long long N = a.n;\n";
  for (auto [i, v] : llvm::enumerate(inputs_)) {
    std::string T = cType(eltOf(v));
    s += "  const " + T + " *__restrict__ in" + std::to_string(i) + " = (const " + T + " *)a.p[" +
         std::to_string(i) + "];\n";
  }
  std::string T = cType(eltOf(result));
  size_t at = inputs_.size();
  if (partials)
    s += "  const " + T + " *__restrict__ part = (const " + T + " *)a.p[" + std::to_string(at++) +
         "];\n";
  s += "  " + T + " *__restrict__ out = (" + T + " *)a.p[" + std::to_string(at) + "];\n";
  s += "  (void)N;\n";
  return s;
}

KernelWriter::Cooperation KernelWriter::cooperation(Value result) {
  // Elements reduced per element, by reduction: long ones (over the batch,
  // or many) take a block, short ones (a row of classes) a warp.
  bool reduces = false, longRows = false;
  llvm::SmallPtrSet<Operation *, 16> seen;
  std::function<void(Value)> visit = [&](Value v) {
    Operation *op = v.getDefiningOp();
    if (!op || llvm::is_contained(inputs_, v) || !seen.insert(op).second)
      return;
    if (auto l = dyn_cast<linalg::LinalgOp>(op); l && hasReduction(l)) {
      bool combinable = true;
      for (unsigned j = 0; j < op->getNumResults(); ++j)
        combinable &= combinerOf(l, j) != nullptr;
      SmallVector<unsigned> reduced;
      l.getReductionDims(reduced);
      int64_t count = 1;
      for (unsigned d : reduced)
        for (OpOperand &operand : op->getOpOperands()) {
          if (!isa<RankedTensorType>(operand.get().getType()))
            continue;
          auto map = l.getMatchingIndexingMap(&operand);
          auto found = llvm::find_if(map.getResults(), [&](AffineExpr e) {
            auto de = dyn_cast<AffineDimExpr>(e);
            return de && de.getPosition() == d;
          });
          auto shape = shapes_.of(operand.get());
          if (found == map.getResults().end() || failed(shape))
            continue;
          int64_t size = (*shape)[found - map.getResults().begin()];
          longRows |= combinable && size < 0;
          count *= std::max<int64_t>(size < 0 ? -size : size, 1);
          break;
        }
      reduces |= combinable;
      longRows |= combinable && count >= 1024;
    }
    for (Value operand : op->getOperands())
      visit(operand);
    llvm::SetVector<Value> above;
    for (Region &region : op->getRegions())
      getUsedValuesDefinedAbove(region, above);
    for (Value x : above)
      visit(x);
  };
  visit(result);
  if (!reduces)
    return Cooperation::None;
  return longRows ? Cooperation::Block : Cooperation::Warp;
}

void KernelWriter::combineAcross(const std::string &acc, Type elt, const std::string &identity,
                                 const std::string &combine) {
  std::string T = cType(elt);
  // Shuffles move 32- and 64-bit values: a bool goes as an int.
  std::string moved = elt.isInteger(1) ? "(int)" + acc : acc;
  auto substituted = [&](const std::string &a, const std::string &b) {
    std::string e;
    // `combine` is the combiner's expression of a and b (single letters
    // standing alone).
    for (size_t i = 0; i < combine.size(); ++i) {
      char c = combine[i];
      bool alone =
          (i == 0 || !std::isalnum(static_cast<unsigned char>(combine[i - 1]))) &&
          (i + 1 == combine.size() || !std::isalnum(static_cast<unsigned char>(combine[i + 1])));
      e += alone && c == 'a' ? a : alone && c == 'b' ? b : std::string(1, c);
    }
    return e;
  };
  auto butterfly = [&] {
    line("for (int off = 16; off > 0; off /= 2) { const " + T + " o = (" + T +
         ")__shfl_xor_sync(0xffffffff, " + moved + ", off); " + acc + " = " +
         substituted(acc, "o") + "; }");
  };
  butterfly();
  if (coop_ != Cooperation::Block)
    return;
  // The warps' totals through shared memory, combined by every warp.
  std::string slots = fresh("part");
  shared_ += "  __shared__ " + T + " " + slots + "[32];\n";
  line("if (lane == 0)");
  line("  " + slots + "[warp] = " + acc + ";");
  line("__syncthreads();");
  line(acc + " = lane < warps ? " + slots + "[lane] : " + identity + ";");
  butterfly();
  line("__syncthreads(); // before the slots are written again");
}

FailureOr<std::string> KernelWriter::write(Value result, LaunchShape &shape) {
  if (Operation *product = tiledProduct(result))
    return writeTiled(result, product, shape);
  shape = {};
  coop_ = cooperation(result);
  shared_.clear();
  scopes_.assign(1, Scope());
  current_ = 0;
  baseIndent_ = 4;
  std::string elementName = at(result, delinearize("lin", result));
  if (failed(checked()))
    return failure();
  std::string s = header(result, name_);
  s += shared_;
  s += "  const long long total = " + elements(result) + ";\n";
  std::string store = "    out[lin] = " + elementName + ";\n";
  switch (coop_) {
  case Cooperation::None:
    s += "  for (long long lin = (long long)blockIdx.x * blockDim.x + threadIdx.x; lin < total;\n"
         "       lin += (long long)blockDim.x * gridDim.x) {\n";
    break;
  case Cooperation::Warp:
    shape.lanes = 32;
    s += "  // A warp per element (blockDim.x a multiple of 32), its lanes striding\n"
         "  // the reductions.\n";
    s += "  const int lane = threadIdx.x % 32;\n";
    s += "  for (long long lin = ((long long)blockIdx.x * blockDim.x + threadIdx.x) / 32;\n"
         "       lin < total; lin += (long long)gridDim.x * (blockDim.x / 32)) {\n";
    store = "    if (lane == 0)\n  " + store;
    break;
  case Cooperation::Block:
    shape.lanes = shape.threads;
    s += "  // A block per element (blockDim.x a multiple of 32), its threads\n"
         "  // striding the reductions.\n";
    s += "  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;\n";
    s += "  for (long long lin = blockIdx.x; lin < total; lin += gridDim.x) {\n";
    store = "    if (threadIdx.x == 0)\n  " + store;
    break;
  }
  s += scopes_[0].text;
  s += store;
  s += "  }\n}\n";
  return s;
}

} // namespace nncc::cuda
