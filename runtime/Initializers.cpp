#include "runtime/Initializers.h"

namespace nncc::rt {

namespace {

/// The values of a graph.proto tensor, as doubles.
std::vector<double> valuesOf(const graph::Tensor &t) {
  std::vector<double> v;
  for (float x : t.float_val()) v.push_back(x);
  for (double x : t.double_val()) v.push_back(x);
  for (int64_t x : t.int_val()) v.push_back(static_cast<double>(x));
  for (bool x : t.bool_val()) v.push_back(x ? 1 : 0);
  return v;
}

template <typename T> void fill(Tensor &t, const std::vector<double> &values) {
  T *out = t.data<T>();
  for (int64_t i = 0; i < t.size(); ++i)
    out[i] = static_cast<T>(values.size() == 1 ? values[0] : values[i]);
}

Status fillWith(Tensor &t, const std::vector<double> &values,
                const std::string &name) {
  if (values.size() != 1 && static_cast<int64_t>(values.size()) != t.size())
    return Status::error("variable '" + name + "': the initial value has " +
                         std::to_string(values.size()) + " elements, the variable " +
                         std::to_string(t.size()));
  switch (t.dtype()) {
  case DType::F32: fill<float>(t, values); break;
  case DType::F64: fill<double>(t, values); break;
  case DType::I32: fill<int32_t>(t, values); break;
  case DType::I64: fill<int64_t>(t, values); break;
  case DType::Bool: fill<bool>(t, values); break;
  }
  return Status();
}

} // namespace

Status initializeVariable(Tensor &t, const graph::Initializer &init,
                          const std::string &name) {
  switch (init.kind()) {
  case graph::Initializer::ZEROS:
    return fillWith(t, {0.0}, name);
  case graph::Initializer::ONES:
    return fillWith(t, {1.0}, name);
  case graph::Initializer::CONSTANT:
    return fillWith(t, valuesOf(init.value()), name);
  default:
    return Status::error("variable '" + name + "': initializer " +
                         graph::Initializer::Kind_Name(init.kind()) +
                         " is not available in this runtime yet");
  }
}

} // namespace nncc::rt
