// ONNX losses -> nn ops: NegativeLogLikelihoodLoss, and
// SoftmaxCrossEntropyLoss as log_softmax and the same.
#include "compiler/import/onnx/Translator.h"

namespace nncc::onnximport {
namespace {

/// Input [N, C, d1, ...] with the class axis moved last: [N, d1, ..., C].
Val classesLast(Translator &t, const Val &x) {
  int64_t rank = t.rank(x);
  if (rank < 2)
    t.fail("needs an input of rank 2 or more (N, C, ...)");
  if (rank == 2)
    return x;
  std::vector<int64_t> perm = {0};
  for (int64_t i = 2; i < rank; ++i)
    perm.push_back(i);
  perm.push_back(1);
  return t.emit("transpose", {x}, {{"perm", fe::attrInts(perm)}});
}

/// -logProb[n, target[n]] * weight[target[n]], reduced as `reduction` says;
/// targets equal to ignore_index count for nothing (nor in the mean's
/// divisor).
Val negativeLogLikelihood(Translator &t, const Val &logProb, const Val &target,
                          std::optional<Val> weight) {
  Val x = classesLast(t, logProb);
  int64_t classes = t.dims(x).back();
  if (classes < 0)
    t.fail("the number of classes (dimension 1) must be known");
  Val onehot = t.emit("one_hot", {target},
                      {{"depth", fe::attrInt(classes)}, {"dtype", fe::attrType(t.dtype(x))}});
  if (const auto *ignore = t.attr("ignore_index");
      ignore && ignore->i() >= 0 && ignore->i() < classes) {
    Val keep = t.emit("logical_not", {t.emit("equal", {target, t.scalar(ignore->i(), target)})});
    Val mask = t.emit("cast", {keep}, {{"dtype", fe::attrType(t.dtype(x))}});
    onehot = t.emit("mul", {onehot, t.emit("expand_dims", {mask},
                                           {{"axes", fe::attrInts({t.rank(onehot) - 1})}})});
  }
  Attrs lastAxis = {{"axes", fe::attrInts({t.rank(x) - 1})}};
  Val weights = weight ? t.emit("reduce_sum", {t.emit("mul", {onehot, *weight})}, lastAxis)
                       : t.emit("reduce_sum", {onehot}, lastAxis);
  Val picked = t.emit("reduce_sum", {t.emit("mul", {x, onehot})}, lastAxis);
  if (weight)
    picked = t.emit("mul", {picked, weights});
  Val loss = t.emit("neg", {picked});
  std::string reduction = t.stringAttrOr("reduction", "mean");
  if (reduction == "none")
    return loss;
  Val sum = t.emit("reduce_sum", {loss});
  if (reduction == "sum")
    return sum;
  if (reduction != "mean")
    t.fail("reduction '" + reduction + "' is not one of none, sum, mean");
  return t.emit("div", {sum, t.emit("reduce_sum", {weights})});
}

void negativeLogLikelihoodLoss(Translator &t) {
  std::optional<Val> weight;
  if (t.has(2))
    weight = t.in(2);
  t.out(0, negativeLogLikelihood(t, t.in(0), t.in(1), weight));
}

void softmaxCrossEntropyLoss(Translator &t) {
  Val logProb = t.emit("log_softmax", {t.in(0)}, {{"axis", fe::attrInt(1)}});
  std::optional<Val> weight;
  if (t.has(2))
    weight = t.in(2);
  t.out(0, negativeLogLikelihood(t, logProb, t.in(1), weight));
  t.out(1, logProb);
}

} // namespace

void addLossRules(std::map<std::string, Rule> &r) {
  r["NegativeLogLikelihoodLoss"] = negativeLogLikelihoodLoss;
  r["SoftmaxCrossEntropyLoss"] = softmaxCrossEntropyLoss;
}

} // namespace nncc::onnximport
