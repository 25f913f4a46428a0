// Session::save and Session::restore: checkpoints of every variable, in the
// versioned, checksummed format of proto/checkpoint.proto.
#include "runtime/Checkpoint.h"
#include "proto/checkpoint.pb.h"
#include "runtime/FramedFile.h"
#include "runtime/Session.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace nncc::rt {
namespace {

graph::DataType toDataType(DType dtype) {
  switch (dtype) {
  case DType::F64:
    return graph::F64;
  case DType::I32:
    return graph::I32;
  case DType::I64:
    return graph::I64;
  case DType::Bool:
    return graph::BOOL;
  default:
    return graph::F32;
  }
}

std::string describe(graph::DataType dtype, const Shape &shape) {
  return std::string(dtypeName(toDType(dtype))) + " " + shapeString(shape);
}

} // namespace

Status Session::save(const std::string &path) const {
  syncFromDevice();
  ckpt::Checkpoint checkpoint;
  checkpoint.set_model(exe_->proto().model());
  checkpoint.set_producer(exe_->proto().producer());
  for (const exe::VariableSpec &spec : exe_->proto().variables()) {
    auto it = variables_.find(spec.name());
    if (it == variables_.end())
      return Status::error(path + ": cannot save: variable '" + spec.name() +
                           "' is not initialized (call initialize)");
    ckpt::Variable &v = *checkpoint.add_variables();
    v.set_name(spec.name());
    v.set_dtype(toDataType(it->second.dtype()));
    for (int64_t d : it->second.shape())
      v.add_shape(d);
    v.set_data(it->second.data(), it->second.bytes());
  }
  std::string payload;
  if (!checkpoint.SerializeToString(&payload))
    return Status::error(path + ": cannot save: the checkpoint does not serialize "
                                "(over 2 GiB of variables?)");
  return writeFramed(kCheckpointFile, payload, path);
}

Expected<TensorMap> readCheckpointBytes(const std::string &bytes, const std::string &path,
                                        const exe::Executable &model) {
  auto payload = unframe(kCheckpointFile, bytes, path);
  if (!payload)
    return payload.status();
  ckpt::Checkpoint checkpoint;
  if (!checkpoint.ParseFromString(*payload))
    return Status::error(path + ": the checkpoint's contents do not parse");

  // Every variable of the model must be there with its dtype and shape, and
  // nothing else; all mismatches are listed.
  std::vector<std::string> problems;
  TensorMap fresh;
  std::map<std::string, const ckpt::Variable *> saved;
  for (const ckpt::Variable &v : checkpoint.variables())
    if (!saved.emplace(v.name(), &v).second)
      problems.push_back("variable '" + v.name() + "' is saved twice");
  for (const exe::VariableSpec &spec : model.variables()) {
    Shape shape(spec.shape().begin(), spec.shape().end());
    auto it = saved.find(spec.name());
    if (it == saved.end()) {
      problems.push_back("variable '" + spec.name() + "' (" + describe(spec.dtype(), shape) +
                         ") is missing");
      continue;
    }
    const ckpt::Variable &v = *it->second;
    Shape got(v.shape().begin(), v.shape().end());
    size_t need = static_cast<size_t>(numElements(shape)) * dtypeSize(toDType(spec.dtype()));
    if (v.dtype() != spec.dtype() || got != shape) {
      problems.push_back("variable '" + spec.name() + "' is " + describe(v.dtype(), got) +
                         " in the checkpoint but " + describe(spec.dtype(), shape) +
                         " in the model");
    } else if (v.data().size() != need) {
      problems.push_back("variable '" + spec.name() + "' has " + std::to_string(v.data().size()) +
                         " bytes of data, " + describe(spec.dtype(), shape) + " needs " +
                         std::to_string(need));
    } else {
      Tensor t(toDType(spec.dtype()), shape);
      if (!t.valid())
        return Status::error(path + ": out of memory for variable '" + spec.name() + "'");
      std::memcpy(t.data(), v.data().data(), t.bytes());
      fresh[spec.name()] = std::move(t);
    }
    saved.erase(it);
  }
  for (const auto &[name, v] : saved)
    problems.push_back("variable '" + name + "' is not in the model");
  if (!problems.empty()) {
    std::string message = path + ": the checkpoint does not match model '" + model.model() + "':";
    for (const std::string &p : problems)
      message += "\n  " + p;
    return Status::error(message);
  }
  return fresh;
}

Status Session::restore(const std::string &path) {
  auto bytes = readFileOf(kCheckpointFile, path);
  if (!bytes)
    return bytes.status();
  auto fresh = readCheckpointBytes(*bytes, path, exe_->proto());
  if (!fresh)
    return fresh.status();
  // Nothing changes unless everything matched.
  dropDevice();
  variables_ = std::move(*fresh);
  return Status();
}

} // namespace nncc::rt
