// ONNX ops that pick or sum elements along an axis -> nn ops, through a
// boolean mask over pairs of positions along that axis: select(mask, x, 0)
// summed over the source position. GatherElements' mask is a one-hot of
// its indices (so the indices may be data), CumSum's a triangle. The mask
// holds n x m elements per row, so the axis must be known and modest.
// Gather takes that form for many indices, or indices that are data.
#include "compiler/import/onnx/Translator.h"

namespace nncc::onnximport {
namespace {

constexpr int64_t kMaxMaskAxis = 4096;

/// The permutation that moves `axis` last, and its inverse.
std::pair<std::vector<int64_t>, std::vector<int64_t>> axisLast(int64_t rank, int64_t axis) {
  std::vector<int64_t> perm, inverse(rank);
  for (int64_t i = 0; i < rank; ++i)
    if (i != axis)
      perm.push_back(i);
  perm.push_back(axis);
  for (int64_t i = 0; i < rank; ++i)
    inverse[perm[i]] = i;
  return {perm, inverse};
}

Val permuted(Translator &t, const Val &x, const std::vector<int64_t> &perm) {
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != static_cast<int64_t>(i))
      return t.emit("transpose", {x}, {{"perm", fe::attrInts(perm)}});
  return x;
}

/// sum over j of select(mask[..., i, j], x[..., j], 0): x [..., n] (axis
/// last), mask [..., m, n] -> [..., m].
Val maskedSum(Translator &t, const Val &x, const Val &mask) {
  Val rows = t.emit("expand_dims", {x}, {{"axes", fe::attrInts({t.rank(x) - 1})}});
  Val picked = t.emit("select", {mask, rows, t.scalar(0, x)});
  return t.emit("reduce_sum", {picked},
                {{"axes", fe::attrInts({t.rank(picked) - 1})}, {"keep_dims", fe::attrBool(false)}});
}

/// out[..., i, ...] = data[..., indices[..., i, ...], ...] along `axis`.
void gatherElements(Translator &t) {
  Val data = t.in(0), indices = t.in(1);
  std::vector<int64_t> dd = t.dims(data), id = t.dims(indices);
  int64_t rank = static_cast<int64_t>(dd.size());
  if (static_cast<int64_t>(id.size()) != rank)
    t.fail("the indices must have the data's rank " + std::to_string(rank));
  int64_t axis = t.normalizeAxis(t.intAttrOr("axis", 0), rank);
  int64_t n = dd[axis];
  if (n < 0 || n > kMaxMaskAxis)
    t.fail("needs the size of axis " + std::to_string(axis) + " known and at most " +
           std::to_string(kMaxMaskAxis));
  for (int64_t i = 0; i < rank; ++i)
    if (i != axis && dd[i] != id[i])
      t.fail("the indices' shape must equal the data's except along the axis (dimension " +
             std::to_string(i) + " is " + std::to_string(id[i]) + ", the data's " +
             std::to_string(dd[i]) + ")");
  auto [perm, inverse] = axisLast(rank, axis);
  Val x = permuted(t, data, perm), idx = permuted(t, indices, perm);
  // Negative indices count from the end.
  Val negative = t.emit("less", {idx, t.scalar(0, idx)});
  idx = t.emit("select", {negative, t.emit("add", {idx, t.scalar(n, idx)}), idx});
  Val hot =
      t.emit("one_hot", {idx}, {{"depth", fe::attrInt(n)}, {"dtype", fe::attrType(graph::F32)}});
  Val mask = t.emit("greater", {hot, t.scalar(0.5, hot)});
  t.out(0, permuted(t, maskedSum(t, x, mask), inverse));
}

} // namespace

std::optional<Val> maskedGather(Translator &t, const Val &data, const Val &indices, int64_t axis) {
  std::vector<int64_t> dd = t.dims(data), id = t.dims(indices);
  int64_t rank = static_cast<int64_t>(dd.size()), n = dd[axis], m = 1, rest = 1;
  for (int64_t d : id)
    m = d < 0 || m < 0 ? -1 : m * d;
  for (int64_t i = 0; i < rank; ++i)
    if (i != axis)
      rest = dd[i] < 0 || rest < 0 ? -1 : rest * dd[i];
  constexpr int64_t kMaxMaskElements = int64_t(1) << 24;
  if (n < 0 || n > kMaxMaskAxis || m < 0 || rest < 0 || rest * m * n > kMaxMaskElements)
    return std::nullopt;
  auto [perm, inverse] = axisLast(rank, axis);
  Val x = permuted(t, data, perm); // [pre..., post..., n]
  Val idx = id.size() == 1 ? indices : t.emit("reshape", {indices}, {{"shape", fe::attrInts({m})}});
  Val negative = t.emit("less", {idx, t.scalar(0, idx)});
  idx = t.emit("select", {negative, t.emit("add", {idx, t.scalar(n, idx)}), idx});
  Val hot =
      t.emit("one_hot", {idx}, {{"depth", fe::attrInt(n)}, {"dtype", fe::attrType(graph::F32)}});
  Val mask = t.emit("greater", {hot, t.scalar(0.5, hot)}); // [m, n]
  Val y = maskedSum(t, x, mask);                           // [pre..., post..., m]
  // [pre..., post..., indices' dims...], then the indices' dims where the
  // axis was.
  std::vector<int64_t> shape;
  for (int64_t i = 0; i < rank; ++i)
    if (i != axis)
      shape.push_back(dd[i]);
  shape.insert(shape.end(), id.begin(), id.end());
  if (shape != t.dims(y))
    y = t.emit("reshape", {y}, {{"shape", fe::attrInts(shape)}});
  std::vector<int64_t> out;
  for (int64_t i = 0; i < axis; ++i)
    out.push_back(i);
  for (size_t k = 0; k < id.size(); ++k)
    out.push_back(rank - 1 + static_cast<int64_t>(k));
  for (int64_t i = axis; i < rank - 1; ++i)
    out.push_back(i);
  return permuted(t, y, out);
}

namespace {

/// Running sums along the axis (input 1); `exclusive` leaves out the element
/// itself, `reverse` sums from the end.
void cumSum(Translator &t) {
  Val x = t.in(0);
  std::vector<int64_t> d = t.dims(x);
  int64_t rank = static_cast<int64_t>(d.size());
  int64_t axis = t.normalizeAxis(static_cast<int64_t>(t.knownScalar(1, "the axis")), rank);
  int64_t n = d[axis];
  if (n < 0 || n > kMaxMaskAxis)
    t.fail("needs the size of axis " + std::to_string(axis) + " known and at most " +
           std::to_string(kMaxMaskAxis));
  bool exclusive = t.intAttrOr("exclusive", 0) != 0, reverse = t.intAttrOr("reverse", 0) != 0;
  graph::Tensor mask;
  mask.set_dtype(graph::BOOL);
  mask.add_dims(n);
  mask.add_dims(n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      mask.add_bool_val(reverse ? (exclusive ? j > i : j >= i) : (exclusive ? j < i : j <= i));
  auto [perm, inverse] = axisLast(rank, axis);
  Val y = maskedSum(t, permuted(t, x, perm), t.constant(mask));
  t.out(0, permuted(t, y, inverse));
}

} // namespace

void addMaskedRules(std::map<std::string, Rule> &r) {
  r["GatherElements"] = gatherElements;
  r["CumSum"] = cumSum;
}

} // namespace nncc::onnximport
