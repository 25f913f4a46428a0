// Errors of the thin runtime: a Status (ok or a message) and Expected<T>
// (a value or a Status). Plain C++: the runtime links neither LLVM nor MLIR.
#ifndef NNCC_RUNTIME_STATUS_H
#define NNCC_RUNTIME_STATUS_H

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace nncc::rt {

class Status {
public:
  Status() = default;
  static Status error(std::string message) { return Status(std::move(message)); }
  bool ok() const { return !message_; }
  explicit operator bool() const { return ok(); }
  const std::string &message() const {
    static const std::string none;
    return message_ ? *message_ : none;
  }

private:
  explicit Status(std::string m) : message_(std::move(m)) {}
  std::optional<std::string> message_;
};

template <typename T> class Expected {
public:
  Expected(T value) : value_(std::move(value)) {}
  Expected(Status status) : status_(std::move(status)) {
    assert(!status_.ok() && "an Expected needs a value or an error");
  }
  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Status &status() const { return status_; }
  const std::string &error() const { return status_.message(); }
  T &operator*() { return *value_; }
  const T &operator*() const { return *value_; }
  T *operator->() { return &*value_; }
  const T *operator->() const { return &*value_; }
  T take() { return std::move(*value_); }

private:
  std::optional<T> value_;
  Status status_;
};

} // namespace nncc::rt

#endif
