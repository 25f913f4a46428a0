#include "runtime/Initializers.h"

#include "runtime/Random.h"

namespace nncc::rt {

namespace {

/// The values of a graph.proto tensor, as doubles.
std::vector<double> valuesOf(const graph::Tensor &t) {
  std::vector<double> v;
  for (float x : t.float_val())
    v.push_back(x);
  for (double x : t.double_val())
    v.push_back(x);
  for (int64_t x : t.int_val())
    v.push_back(static_cast<double>(x));
  for (bool x : t.bool_val())
    v.push_back(x ? 1 : 0);
  return v;
}

} // namespace

Status initializeVariable(Tensor &t, const graph::Initializer &init, const std::string &name) {
  InitializerSpec spec;
  switch (init.kind()) {
  case graph::Initializer::ZEROS:
    spec.kind = InitializerSpec::Kind::Zeros;
    break;
  case graph::Initializer::ONES:
    spec.kind = InitializerSpec::Kind::Ones;
    break;
  case graph::Initializer::CONSTANT:
    spec.kind = InitializerSpec::Kind::Constant;
    spec.constantValues = valuesOf(init.value());
    if (spec.constantValues.size() != 1 &&
        static_cast<int64_t>(spec.constantValues.size()) != t.size())
      return Status::error("variable '" + name + "': the initial value has " +
                           std::to_string(spec.constantValues.size()) + " elements, the variable " +
                           std::to_string(t.size()));
    break;
  case graph::Initializer::GLOROT_UNIFORM:
    spec.kind = InitializerSpec::Kind::GlorotUniform;
    break;
  case graph::Initializer::RANDOM_NORMAL:
    spec.kind = InitializerSpec::Kind::RandomNormal;
    spec.mean = init.mean();
    spec.stddev = init.stddev() == 0 ? 1.0 : init.stddev();
    break;
  case graph::Initializer::RANDOM_UNIFORM:
    spec.kind = InitializerSpec::Kind::RandomUniform;
    spec.minval = init.minval();
    spec.maxval = init.minval() == 0 && init.maxval() == 0 ? 1.0 : init.maxval();
    break;
  default:
    return Status::error("variable '" + name + "': unknown initializer kind " +
                         std::to_string(init.kind()));
  }
  spec.seed = init.seed();
  Status s = initialize(t, spec);
  if (!s.ok())
    return Status::error("variable '" + name + "': " + s.message());
  return s;
}

} // namespace nncc::rt
