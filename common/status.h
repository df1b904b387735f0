// Status and Result: the outcome of every fallible operation in the project.
//
// A Status is either ok or carries an error code, a human-readable message and, when
// the error is about one input, the name of that field. Messages are written for the
// person who caused the error (an adviser, an operator), not for a developer.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace outreach {

// Stable numeric values: they cross the C API (outreach.h mirrors them) and never change.
enum class ErrorCode : int {
  kOk = 0,
  kInvalidArgument = 1,  // bad input: a field is missing, malformed or out of range
  kNotFound = 2,         // an id that names nothing
  kAlreadyExists = 3,
  kFailedPrecondition = 4,  // e.g. an illegal state transition
  kResourceExhausted = 5,   // e.g. a session's capacity, a frame over the size limit
  kPermissionDenied = 6,    // role or hub does not allow it
  kUnauthenticated = 7,     // unknown, revoked or bad credential
  kConflict = 8,
  kDataLoss = 9,        // corrupt or truncated data
  kIoError = 10,        // file system, database or network failure
  kProtocolError = 11,  // the peer broke the wire protocol
  kUnavailable = 12,    // cannot reach the server; try again later
  kTimeout = 13,
  kInternal = 14,  // a bug
};

// Lower-case name of a code, e.g. "invalid_argument".
const char* ErrorCodeName(ErrorCode code);

class Status {
 public:
  Status() = default;  // ok
  Status(ErrorCode code, std::string message, std::string field = {})
      : code_(code), message_(std::move(message)), field_(std::move(field)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string field, std::string reason) {
    return Status(ErrorCode::kInvalidArgument, std::move(reason), std::move(field));
  }
  static Status NotFound(std::string message, std::string field = {}) {
    return Status(ErrorCode::kNotFound, std::move(message), std::move(field));
  }
  static Status FailedPrecondition(std::string message, std::string field = {}) {
    return Status(ErrorCode::kFailedPrecondition, std::move(message), std::move(field));
  }
  static Status DataLoss(std::string message) { return Status(ErrorCode::kDataLoss, std::move(message)); }
  static Status IoError(std::string message) { return Status(ErrorCode::kIoError, std::move(message)); }
  static Status ProtocolError(std::string message) { return Status(ErrorCode::kProtocolError, std::move(message)); }
  static Status Internal(std::string message) { return Status(ErrorCode::kInternal, std::move(message)); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // The input field the error is about; empty when it is not about one field.
  const std::string& field() const { return field_; }

  // One line: "invalid_argument: date_of_birth: is in the future".
  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
  std::string field_;
};

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}                                  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) { assert(!status_.ok()); }  // NOLINT

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  // On a temporary, hands the value out by value, so `for (auto& x : *Call())` never
  // iterates a destroyed Result.
  T operator*() && { return std::move(value()); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace outreach

// Returns early from the enclosing function if `expr` (a Status) is not ok.
#define OUTREACH_RETURN_IF_ERROR(expr) \
  do {                                 \
    ::outreach::Status _st = (expr);   \
    if (!_st.ok()) return _st;         \
  } while (0)
