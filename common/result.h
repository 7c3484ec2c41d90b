// Result<T>: a value or an error, for hot paths and module boundaries (no exceptions there).
#pragma once
#include <string>
#include <utility>
#include <variant>

namespace strowger::common {

struct Error {
  int code = 0;  // domain specific: a SIP status for message errors, errno for I/O
  std::string message;
};

template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error err) : v_(std::move(err)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace strowger::common
