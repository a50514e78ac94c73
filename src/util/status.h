// Errors are values: every fallible function returns Status or Result<T>, whose message names
// the file, tensor, key or byte offset at fault. Frontends turn them into exit codes.
#pragma once
#include <string>
#include <utility>
#include <variant>

namespace g3n {

class Status {
 public:
  Status() = default;
  static Status Error(std::string msg) { Status s; s.ok_ = false; s.msg_ = std::move(msg); return s; }
  bool ok() const { return ok_; }
  const std::string& message() const { return msg_; }

 private:
  bool ok_ = true;
  std::string msg_;
};

inline Status Error(std::string msg) { return Status::Error(std::move(msg)); }

template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}            // NOLINT: implicit on purpose
  Result(Status error) : v_(std::move(error)) {}       // NOLINT
  bool ok() const { return v_.index() == 0; }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  Status status() const { return ok() ? Status() : std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace g3n

#define G3N_RETURN_IF_ERROR(expr)            \
  do {                                       \
    ::g3n::Status _st = (expr);              \
    if (!_st.ok()) return _st;               \
  } while (0)

#define G3N_CONCAT_INNER(a, b) a##b
#define G3N_CONCAT(a, b) G3N_CONCAT_INNER(a, b)
#define G3N_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp.value())
#define G3N_ASSIGN_OR_RETURN(lhs, expr) \
  G3N_ASSIGN_OR_RETURN_IMPL(G3N_CONCAT(_res_, __COUNTER__), lhs, expr)
