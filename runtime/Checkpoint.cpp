// Session::save and Session::restore: checkpoints of every variable, in the
// versioned, checksummed format of proto/checkpoint.proto.
#include "proto/checkpoint.pb.h"
#include "runtime/Session.h"

#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace nncc::rt {
namespace {

constexpr char kMagic[8] = {'N', 'N', 'C', 'C', 'K', 'P', 'T', '\n'};
constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8;

graph::DataType toDataType(DType dtype) {
  switch (dtype) {
  case DType::F64: return graph::F64;
  case DType::I32: return graph::I32;
  case DType::I64: return graph::I64;
  case DType::Bool: return graph::BOOL;
  default: return graph::F32;
  }
}

std::string describe(graph::DataType dtype, const Shape &shape) {
  return std::string(dtypeName(toDType(dtype))) + " " + shapeString(shape);
}

template <typename T> void put(std::string &out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}
template <typename T> T get(const std::string &in, size_t at) {
  T value;
  std::memcpy(&value, in.data() + at, sizeof(T));
  return value;
}

uint32_t crc32Of(const std::string &bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  size_t done = 0;
  while (done < bytes.size()) {
    uInt chunk = static_cast<uInt>(std::min<size_t>(bytes.size() - done, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef *>(bytes.data() + done), chunk);
    done += chunk;
  }
  return static_cast<uint32_t>(crc);
}

} // namespace

Status Session::save(const std::string &path) const {
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
  std::string file(kMagic, sizeof(kMagic));
  put<uint32_t>(file, kCheckpointVersion);
  put<uint32_t>(file, crc32Of(payload));
  put<uint64_t>(file, payload.size());
  file += payload;

  // Atomically: a temporary file next to the target, then a rename.
  std::string tmp = path + ".tmp" + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      return Status::error(path + ": cannot write the checkpoint");
    out.write(file.data(), static_cast<std::streamsize>(file.size()));
    out.flush();
    if (!out) {
      out.close();
      std::remove(tmp.c_str());
      return Status::error(path + ": writing the checkpoint failed");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Status::error(path + ": cannot write the checkpoint (rename failed)");
  }
  return Status();
}

Status Session::restore(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::error(path + ": cannot open the checkpoint");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string file = buffer.str();
  if (file.size() < kHeaderBytes || std::memcmp(file.data(), kMagic, sizeof(kMagic)) != 0)
    return Status::error(path + ": not an nncc checkpoint");
  uint32_t version = get<uint32_t>(file, 8), crc = get<uint32_t>(file, 12);
  uint64_t size = get<uint64_t>(file, 16);
  if (version != kCheckpointVersion)
    return Status::error(path + ": checkpoint format " + std::to_string(version) +
                         (version > kCheckpointVersion ? " is newer than" : " differs from") +
                         " the one this runtime reads (" +
                         std::to_string(kCheckpointVersion) + ")");
  if (size != file.size() - kHeaderBytes)
    return Status::error(path + ": the checkpoint is truncated or has trailing bytes "
                                "(header says " + std::to_string(size) + " bytes of data, the "
                                "file has " + std::to_string(file.size() - kHeaderBytes) + ")");
  std::string payload = file.substr(kHeaderBytes);
  if (crc32Of(payload) != crc)
    return Status::error(path + ": the checkpoint is corrupted (checksum mismatch)");
  ckpt::Checkpoint checkpoint;
  if (!checkpoint.ParseFromString(payload))
    return Status::error(path + ": the checkpoint's contents do not parse");

  // Every variable of the model must be there with its dtype and shape, and
  // nothing else; all mismatches are listed, and nothing changes unless
  // everything matches.
  std::vector<std::string> problems;
  TensorMap fresh;
  std::map<std::string, const ckpt::Variable *> saved;
  for (const ckpt::Variable &v : checkpoint.variables())
    if (!saved.emplace(v.name(), &v).second)
      problems.push_back("variable '" + v.name() + "' is saved twice");
  for (const exe::VariableSpec &spec : exe_->proto().variables()) {
    Shape shape(spec.shape().begin(), spec.shape().end());
    auto it = saved.find(spec.name());
    if (it == saved.end()) {
      problems.push_back("variable '" + spec.name() + "' (" +
                         describe(spec.dtype(), shape) + ") is missing");
      continue;
    }
    const ckpt::Variable &v = *it->second;
    Shape got(v.shape().begin(), v.shape().end());
    if (v.dtype() != spec.dtype() || got != shape) {
      problems.push_back("variable '" + spec.name() + "' is " +
                         describe(v.dtype(), got) + " in the checkpoint but " +
                         describe(spec.dtype(), shape) + " in the model");
    } else {
      Tensor t(toDType(spec.dtype()), shape);
      if (v.data().size() != t.bytes()) {
        problems.push_back("variable '" + spec.name() + "' has " +
                           std::to_string(v.data().size()) + " bytes of data, " +
                           describe(spec.dtype(), shape) + " needs " +
                           std::to_string(t.bytes()));
      } else {
        std::memcpy(t.data(), v.data().data(), t.bytes());
        fresh[spec.name()] = std::move(t);
      }
    }
    saved.erase(it);
  }
  for (const auto &[name, v] : saved)
    problems.push_back("variable '" + name + "' is not in the model");
  if (!problems.empty()) {
    std::string message = path + ": the checkpoint does not match model '" +
                          exe_->proto().model() + "':";
    for (const std::string &p : problems)
      message += "\n  " + p;
    return Status::error(message);
  }
  variables_ = std::move(fresh);
  return Status();
}

} // namespace nncc::rt
