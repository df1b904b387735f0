#include "client/capi/capi_support.h"

#include <climits>
#include <cstdlib>
#include <cstring>

namespace outreach::capi {
namespace {

// outreach_status mirrors ErrorCode value for value; a change to either breaks the build.
#define OUTREACH_MIRRORS(c, e) static_assert(static_cast<int>(c) == static_cast<int>(ErrorCode::e), #c)
OUTREACH_MIRRORS(OUTREACH_OK, kOk);
OUTREACH_MIRRORS(OUTREACH_INVALID_ARGUMENT, kInvalidArgument);
OUTREACH_MIRRORS(OUTREACH_NOT_FOUND, kNotFound);
OUTREACH_MIRRORS(OUTREACH_ALREADY_EXISTS, kAlreadyExists);
OUTREACH_MIRRORS(OUTREACH_FAILED_PRECONDITION, kFailedPrecondition);
OUTREACH_MIRRORS(OUTREACH_RESOURCE_EXHAUSTED, kResourceExhausted);
OUTREACH_MIRRORS(OUTREACH_PERMISSION_DENIED, kPermissionDenied);
OUTREACH_MIRRORS(OUTREACH_UNAUTHENTICATED, kUnauthenticated);
OUTREACH_MIRRORS(OUTREACH_CONFLICT, kConflict);
OUTREACH_MIRRORS(OUTREACH_DATA_LOSS, kDataLoss);
OUTREACH_MIRRORS(OUTREACH_IO_ERROR, kIoError);
OUTREACH_MIRRORS(OUTREACH_PROTOCOL_ERROR, kProtocolError);
OUTREACH_MIRRORS(OUTREACH_UNAVAILABLE, kUnavailable);
OUTREACH_MIRRORS(OUTREACH_TIMEOUT, kTimeout);
OUTREACH_MIRRORS(OUTREACH_INTERNAL, kInternal);
#undef OUTREACH_MIRRORS

// A malloc'd NUL-terminated copy (the caller frees with outreach_free / outreach_error_free).
char* CopyString(std::string_view text) noexcept {
  char* copy = static_cast<char*>(std::malloc(text.size() + 1));
  if (copy == nullptr) return nullptr;
  std::memcpy(copy, text.data(), text.size());
  copy[text.size()] = '\0';
  return copy;
}

}  // namespace

outreach_status Report(const Status& status, outreach_error** error) noexcept {
  const auto code = static_cast<outreach_status>(status.code());
  if (status.ok() || error == nullptr) return code;
  auto* e = static_cast<outreach_error*>(std::malloc(sizeof(outreach_error)));
  if (e == nullptr) return code;
  e->code = code;
  e->field = CopyString(status.field());
  e->message = CopyString(status.message());
  if (e->field == nullptr || e->message == nullptr) {
    std::free(e->field);
    std::free(e->message);
    std::free(e);
    return code;
  }
  *error = e;
  return code;
}

Status ParseBody(outreach_format format, const char* body, size_t body_size, google::protobuf::Message* message) {
  if (body == nullptr && body_size > 0) return Status::InvalidArgument("body", "is NULL");
  const std::string type = message->GetDescriptor()->full_name();
  if (format == OUTREACH_FORMAT_JSON) {
    if (body_size == 0) return Status::InvalidArgument("body", "is empty; expected a JSON " + type);
    return MessageFromJson(std::string_view(body, body_size), message);
  }
  if (body_size > static_cast<size_t>(INT_MAX) || !message->ParseFromArray(body, static_cast<int>(body_size))) {
    return Status::InvalidArgument("body", "is not a serialised " + type);
  }
  return Status::Ok();
}

Status EmitText(std::string_view text, char** out, size_t* out_size) {
  if (out == nullptr) return Status::Ok();
  *out = CopyString(text);
  if (*out == nullptr) return Status(ErrorCode::kResourceExhausted, "out of memory");
  if (out_size != nullptr) *out_size = text.size();
  return Status::Ok();
}

Status Emit(outreach_format format, const google::protobuf::Message& message, char** out, size_t* out_size) {
  if (out == nullptr) return Status::Ok();
  if (format == OUTREACH_FORMAT_JSON) {
    auto json = MessageToJson(message);
    if (!json.ok()) return json.status();
    return EmitText(json->dump(), out, out_size);
  }
  return EmitText(message.SerializeAsString(), out, out_size);
}

Status EmitRecord(outreach_format format, const Result<v1::Record>& record, char** out, size_t* out_size) {
  if (!record.ok()) return record.status();
  return Emit(format, *record, out, out_size);
}

Result<Uuid> ParseId(const char* text, std::string_view field) {
  if (text == nullptr || *text == '\0') return Status::InvalidArgument(std::string(field), "is required");
  auto id = Uuid::Parse(text);
  if (!id.ok()) return Status::InvalidArgument(std::string(field), "'" + std::string(text) + "' is not a UUID");
  return id;
}

}  // namespace outreach::capi
