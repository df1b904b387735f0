// What every *_CAPI.cc file uses to implement outreach.h: the device handle, the guard
// that turns Status and exceptions into outreach_status + outreach_error, and the
// conversions of bodies, results and string arguments.
#pragma once

#include <google/protobuf/message.h>

#include <exception>
#include <memory>
#include <new>
#include <string>
#include <string_view>

#include "client/capi/record_json.h"
#include "common/record_registry.h"
#include "common/status.h"
#include "common/uuid.h"
#include "outreach/device.h"
#include "outreach/outreach.h"

// The opaque handle: owns the Device.
struct outreach_device {
  std::unique_ptr<outreach::Device> device;
};

namespace outreach::capi {

// Stores `status` into *error (when error is not NULL and status is not ok) and returns
// its code. Never throws.
outreach_status Report(const Status& status, outreach_error** error) noexcept;

// Runs `fn` (returning Status), turning any exception into an error: nothing escapes.
template <typename Fn>
outreach_status Guard(outreach_error** error, Fn&& fn) noexcept {
  if (error != nullptr) *error = nullptr;
  Status status;
  try {
    status = fn();
  } catch (const std::bad_alloc&) {
    status = Status(ErrorCode::kResourceExhausted, "out of memory");
  } catch (const std::exception& e) {
    status = Status::Internal(std::string("unexpected error: ") + e.what());
  } catch (...) {
    status = Status::Internal("unexpected error");
  }
  return Report(status, error);
}

// The common shape of a device call that returns a buffer: clears the outputs, checks
// the handle and the format, then runs fn(Device&) under Guard.
template <typename Fn>
outreach_status Run(outreach_device* device, outreach_format format, char** out, size_t* out_size,
                    outreach_error** error, Fn&& fn) noexcept {
  if (out != nullptr) *out = nullptr;
  if (out_size != nullptr) *out_size = 0;
  return Guard(error, [&]() -> Status {
    if (device == nullptr || device->device == nullptr) return Status::InvalidArgument("device", "is NULL");
    if (format != OUTREACH_FORMAT_PROTOBUF && format != OUTREACH_FORMAT_JSON) {
      return Status::InvalidArgument("format", "must be OUTREACH_FORMAT_PROTOBUF or OUTREACH_FORMAT_JSON");
    }
    return fn(*device->device);
  });
}

// Parses a body message sent by the caller in `format`.
Status ParseBody(outreach_format format, const char* body, size_t body_size, google::protobuf::Message* message);

// Writes `message` in `format` into a new buffer for the caller (JSON NUL-terminated).
Status Emit(outreach_format format, const google::protobuf::Message& message, char** out, size_t* out_size);

// Emits the record of a Result, or returns its error.
Status EmitRecord(outreach_format format, const Result<v1::Record>& record, char** out, size_t* out_size);

// A copy of `text` in a new buffer for the caller.
Status EmitText(std::string_view text, char** out, size_t* out_size);

// A required UUID string argument; errors name `field`.
Result<Uuid> ParseId(const char* text, std::string_view field);

// An optional string argument: NULL is "".
inline std::string OptionalText(const char* text) {
  return text == nullptr ? std::string() : std::string(text);
}

// An enum argument by short name ("accepted"); errors name `field`.
template <typename Enum>
Result<Enum> ParseEnum(const char* text, const google::protobuf::EnumDescriptor* type, std::string_view field) {
  if (text == nullptr || *text == '\0') return Status::InvalidArgument(std::string(field), "is required");
  auto number = ParseEnumShortName(type, text, field);
  if (!number.ok()) return number.status();
  return static_cast<Enum>(*number);
}

}  // namespace outreach::capi
