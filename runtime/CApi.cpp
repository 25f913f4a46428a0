// The C API (include/nncc/nncc.h) over the C++ runtime: handles own C++
// objects; nothing thrown crosses it (a C++ exception becomes a status).
#include "nncc/nncc.h"

#include "runtime/Session.h"

#include <cstring>
#include <exception>
#include <memory>
#include <string>

using namespace nncc::rt;

struct nncc_status {
  nncc_code code;
  std::string message;
};
struct nncc_executable {
  std::shared_ptr<Executable> exe;
};
struct nncc_session {
  Session session;
};
struct nncc_tensor {
  Tensor tensor;
};

namespace {

nncc_status *error(nncc_code code, std::string message) {
  return new nncc_status{code, std::move(message)};
}
nncc_status *failed(const Status &s) { return s.ok() ? nullptr : error(NNCC_FAILED, s.message()); }
nncc_status *nullArgument(const char *what) {
  return error(NNCC_INVALID_ARGUMENT, std::string(what) + " is NULL");
}

/// Runs `body`, turning anything thrown (std::bad_alloc, ...) into a status.
template <typename F> nncc_status *guarded(F body) {
  try {
    return body();
  } catch (const std::exception &e) {
    return error(NNCC_FAILED, e.what());
  } catch (...) {
    return error(NNCC_FAILED, "unknown error");
  }
}

bool toDType(nncc_dtype d, DType &out) {
  switch (d) {
  case NNCC_F32:
    out = DType::F32;
    return true;
  case NNCC_F64:
    out = DType::F64;
    return true;
  case NNCC_I32:
    out = DType::I32;
    return true;
  case NNCC_I64:
    out = DType::I64;
    return true;
  case NNCC_BOOL:
    out = DType::Bool;
    return true;
  }
  return false;
}

} // namespace

extern "C" {

const char *nncc_version(void) { return NNCC_VERSION; }
uint32_t nncc_executable_format_version(void) { return kFormatVersion; }
uint32_t nncc_checkpoint_format_version(void) { return kCheckpointVersion; }

nncc_code nncc_status_code(const nncc_status *status) { return status ? status->code : NNCC_OK; }
const char *nncc_status_message(const nncc_status *status) {
  return status ? status->message.c_str() : "";
}
void nncc_status_free(nncc_status *status) { delete status; }

nncc_status *nncc_executable_load(const char *path, nncc_executable **out) {
  if (!path || !out)
    return nullArgument(!path ? "path" : "out");
  *out = nullptr;
  return guarded([&]() -> nncc_status * {
    auto exe = Executable::load(path);
    if (!exe)
      return failed(exe.status());
    *out = new nncc_executable{*exe};
    return nullptr;
  });
}

void nncc_executable_free(nncc_executable *executable) { delete executable; }

int nncc_executable_signature_count(const nncc_executable *executable) {
  return executable ? executable->exe->proto().signatures_size() : 0;
}

const char *nncc_executable_signature_name(const nncc_executable *executable, int i) {
  if (!executable || i < 0 || i >= executable->exe->proto().signatures_size())
    return nullptr;
  return executable->exe->proto().signatures(i).name().c_str();
}

nncc_status *nncc_session_create(const nncc_executable *executable, nncc_session **out) {
  if (!executable || !out)
    return nullArgument(!executable ? "executable" : "out");
  *out = nullptr;
  return guarded([&]() -> nncc_status * {
    auto session = std::make_unique<nncc_session>(nncc_session{Session(executable->exe)});
    if (nncc_status *s = failed(session->session.initialize()))
      return s;
    *out = session.release();
    return nullptr;
  });
}

void nncc_session_free(nncc_session *session) { delete session; }

nncc_status *nncc_session_run(nncc_session *session, const char *signature,
                              const char *const *feed_names, const nncc_tensor *const *feeds,
                              int n_feeds, const char *const *fetch_names, int n_fetches,
                              nncc_tensor **fetches) {
  if (!session || !signature)
    return nullArgument(!session ? "session" : "signature");
  if (n_feeds < 0 || n_fetches < 0 || (n_feeds > 0 && (!feed_names || !feeds)) ||
      (n_fetches > 0 && (!fetch_names || !fetches)))
    return error(NNCC_INVALID_ARGUMENT, "feeds or fetches: NULL arrays or negative counts");
  return guarded([&]() -> nncc_status * {
    TensorMap in;
    for (int i = 0; i < n_feeds; ++i) {
      if (!feed_names[i] || !feeds[i])
        return error(NNCC_INVALID_ARGUMENT, "feed " + std::to_string(i) + " is NULL");
      in[feed_names[i]] = feeds[i]->tensor;
    }
    std::vector<std::string> names;
    for (int i = 0; i < n_fetches; ++i) {
      if (!fetch_names[i])
        return error(NNCC_INVALID_ARGUMENT, "fetch name " + std::to_string(i) + " is NULL");
      names.push_back(fetch_names[i]);
    }
    if (names.empty()) {
      // Runs for the updates alone: fetch nothing the caller must free.
      auto out = session->session.run(signature, in);
      return out ? nullptr : failed(out.status());
    }
    auto out = session->session.run(signature, in, names);
    if (!out)
      return failed(out.status());
    for (int i = 0; i < n_fetches; ++i)
      fetches[i] = new nncc_tensor{out->at(names[i]).clone()};
    return nullptr;
  });
}

nncc_status *nncc_session_variable(const nncc_session *session, const char *name,
                                   nncc_tensor **out) {
  if (!session || !name || !out)
    return nullArgument(!session ? "session" : !name ? "name" : "out");
  *out = nullptr;
  return guarded([&]() -> nncc_status * {
    auto value = session->session.variable(name);
    if (!value)
      return failed(value.status());
    *out = new nncc_tensor{value.take()};
    return nullptr;
  });
}

nncc_status *nncc_session_set_variable(nncc_session *session, const char *name,
                                       const nncc_tensor *value) {
  if (!session || !name || !value)
    return nullArgument(!session ? "session" : !name ? "name" : "value");
  return guarded([&] { return failed(session->session.setVariable(name, value->tensor)); });
}

nncc_status *nncc_session_save(const nncc_session *session, const char *path) {
  if (!session || !path)
    return nullArgument(!session ? "session" : "path");
  return guarded([&] { return failed(session->session.save(path)); });
}

nncc_status *nncc_session_restore(nncc_session *session, const char *path) {
  if (!session || !path)
    return nullArgument(!session ? "session" : "path");
  return guarded([&] { return failed(session->session.restore(path)); });
}

nncc_status *nncc_tensor_create(nncc_dtype dtype, const int64_t *dims, int rank, const void *data,
                                nncc_tensor **out) {
  if (!out || (rank > 0 && !dims))
    return nullArgument(!out ? "out" : "dims");
  *out = nullptr;
  DType d;
  if (!toDType(dtype, d))
    return error(NNCC_INVALID_ARGUMENT, "unknown dtype " + std::to_string(static_cast<int>(dtype)));
  if (rank < 0)
    return error(NNCC_INVALID_ARGUMENT, "negative rank");
  Shape shape(dims, dims + rank);
  for (int64_t n : shape)
    if (n < 0)
      return error(NNCC_INVALID_ARGUMENT, "negative dimension in " + shapeString(shape));
  return guarded([&]() -> nncc_status * {
    Tensor t(d, shape);
    if (!t.valid())
      return error(NNCC_FAILED, "no memory for a tensor of shape " + shapeString(shape));
    if (data && t.bytes())
      std::memcpy(t.data(), data, t.bytes());
    *out = new nncc_tensor{std::move(t)};
    return nullptr;
  });
}

void nncc_tensor_free(nncc_tensor *tensor) { delete tensor; }

nncc_dtype nncc_tensor_dtype(const nncc_tensor *t) {
  switch (t->tensor.dtype()) {
  case DType::F32:
    return NNCC_F32;
  case DType::F64:
    return NNCC_F64;
  case DType::I32:
    return NNCC_I32;
  case DType::I64:
    return NNCC_I64;
  case DType::Bool:
    return NNCC_BOOL;
  }
  return NNCC_F32;
}
int nncc_tensor_rank(const nncc_tensor *t) { return t ? static_cast<int>(t->tensor.rank()) : 0; }
int64_t nncc_tensor_dim(const nncc_tensor *t, int i) {
  return t && i >= 0 && i < t->tensor.rank() ? t->tensor.shape()[i] : -1;
}
int64_t nncc_tensor_size(const nncc_tensor *t) { return t ? t->tensor.size() : 0; }
void *nncc_tensor_data(nncc_tensor *t) { return t ? t->tensor.data() : nullptr; }

} // extern "C"
