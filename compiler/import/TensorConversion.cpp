#include "compiler/import/TensorConversion.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

namespace nncc {

Type toElementType(MLIRContext *ctx, graph::DataType dtype) {
  Builder b(ctx);
  switch (dtype) {
  case graph::F32:
    return b.getF32Type();
  case graph::F64:
    return b.getF64Type();
  case graph::I32:
    return b.getI32Type();
  case graph::I64:
    return b.getI64Type();
  case graph::BOOL:
    return b.getI1Type();
  default:
    return {};
  }
}

std::string dtypeName(graph::DataType dtype) {
  const std::string &name = graph::DataType_Name(dtype);
  return name.empty() ? "dtype " + std::to_string(dtype) : name;
}

FailureOr<DenseElementsAttr> toElementsAttr(MLIRContext *ctx, const graph::Tensor &tensor,
                                            StringRef what, EmitError emitError) {
  Type elt = toElementType(ctx, tensor.dtype());
  if (!elt)
    return emitError() << what << " has no valid dtype (got " << dtypeName(tensor.dtype())
                       << "; expected F32, F64, I32, I64 or BOOL)";
  SmallVector<int64_t> dims(tensor.dims().begin(), tensor.dims().end());
  int64_t count = 1;
  for (int64_t d : dims) {
    if (d < 0)
      return emitError() << what << " has a negative dimension " << d;
    if (d > 0 && count > kMaxTensorElements / d)
      return emitError() << what << " claims more than " << kMaxTensorElements << " elements";
    count *= d;
  }
  auto type = RankedTensorType::get(dims, elt);
  // Only the field of the tensor's own dtype may hold values.
  int sizes[] = {tensor.float_val_size(), tensor.double_val_size(), tensor.int_val_size(),
                 tensor.bool_val_size()};
  int own = elt.isF32() ? 0 : elt.isF64() ? 1 : elt.isInteger(1) ? 3 : 2;
  const char *fields[] = {"float_val", "double_val", "int_val", "bool_val"};
  for (int i = 0; i < 4; ++i)
    if (i != own && sizes[i] > 0)
      return emitError() << what << " of dtype " << dtypeName(tensor.dtype()) << " has values in "
                         << fields[i] << "; use " << fields[own];
  int64_t given = sizes[own];
  if (given != count && given != 1)
    return emitError() << what << " has " << given << " values for shape ["
                       << llvm::make_range(dims.begin(), dims.end()) << "] (" << count
                       << " elements; give " << count << " or 1)";
  auto fill = [&](auto values) -> DenseElementsAttr {
    using T = typename decltype(values)::value_type;
    if (given == 1)
      return DenseElementsAttr::get(type, values[0]);
    return DenseElementsAttr::get(type, ArrayRef<T>(values));
  };
  if (elt.isF32())
    return fill(SmallVector<float>(tensor.float_val().begin(), tensor.float_val().end()));
  if (elt.isF64())
    return fill(SmallVector<double>(tensor.double_val().begin(), tensor.double_val().end()));
  if (elt.isInteger(32)) {
    SmallVector<int32_t> v;
    for (int64_t x : tensor.int_val()) {
      if (x < INT32_MIN || x > INT32_MAX)
        return emitError() << what << " value " << x << " does not fit in I32";
      v.push_back(static_cast<int32_t>(x));
    }
    return fill(v);
  }
  if (elt.isInteger(64))
    return fill(SmallVector<int64_t>(tensor.int_val().begin(), tensor.int_val().end()));
  return fill(SmallVector<bool>(tensor.bool_val().begin(), tensor.bool_val().end()));
}

FailureOr<Attribute> toAttribute(MLIRContext *ctx, const graph::AttrValue &value, StringRef what,
                                 EmitError emitError) {
  Builder b(ctx);
  switch (value.value_case()) {
  case graph::AttrValue::kI:
    return Attribute(b.getI64IntegerAttr(value.i()));
  case graph::AttrValue::kF:
    return Attribute(b.getF32FloatAttr(value.f()));
  case graph::AttrValue::kB:
    return Attribute(b.getBoolAttr(value.b()));
  case graph::AttrValue::kS:
    return Attribute(b.getStringAttr(value.s()));
  case graph::AttrValue::kInts:
    return Attribute(b.getDenseI64ArrayAttr(
        SmallVector<int64_t>(value.ints().val().begin(), value.ints().val().end())));
  case graph::AttrValue::kFloats:
    return Attribute(b.getDenseF32ArrayAttr(
        SmallVector<float>(value.floats().val().begin(), value.floats().val().end())));
  case graph::AttrValue::kType: {
    Type t = toElementType(ctx, value.type());
    if (!t)
      return emitError() << what << " is not a valid dtype (got " << dtypeName(value.type()) << ")";
    return Attribute(TypeAttr::get(t));
  }
  case graph::AttrValue::kTensor: {
    auto dense = toElementsAttr(ctx, value.tensor(), what, emitError);
    if (failed(dense))
      return failure();
    return Attribute(*dense);
  }
  case graph::AttrValue::VALUE_NOT_SET:
    break;
  }
  return emitError() << what << " has no value";
}

} // namespace nncc
