// Reading fields of a record body by name through protobuf reflection, for the rules
// that look at a few well-known fields (a session's venue, a note's sensitivity).
// Missing fields read as empty / zero, so a rule never crashes on an odd body.
#pragma once

#include <google/protobuf/message.h>

#include <string>

#include "common/uuid.h"

namespace outreach::server {

inline const google::protobuf::FieldDescriptor* BodyField(const google::protobuf::Message& body, const char* name) {
  return body.GetDescriptor()->FindFieldByName(name);
}

// An id (bytes) field; nil when absent or not 16 bytes.
inline Uuid IdField(const google::protobuf::Message& body, const char* name) {
  const auto* f = BodyField(body, name);
  if (f == nullptr || f->is_repeated() || f->type() != google::protobuf::FieldDescriptor::TYPE_BYTES) return Uuid();
  auto id = Uuid::FromBytes(body.GetReflection()->GetString(body, f));
  return id.ok() ? *id : Uuid();
}

// An enum field's number; 0 when absent.
inline int EnumField(const google::protobuf::Message& body, const char* name) {
  const auto* f = BodyField(body, name);
  if (f == nullptr || f->is_repeated() || f->type() != google::protobuf::FieldDescriptor::TYPE_ENUM) return 0;
  return body.GetReflection()->GetEnumValue(body, f);
}

// A string field; empty when absent.
inline std::string StringField(const google::protobuf::Message& body, const char* name) {
  const auto* f = BodyField(body, name);
  if (f == nullptr || f->is_repeated() || f->type() != google::protobuf::FieldDescriptor::TYPE_STRING) return {};
  return body.GetReflection()->GetString(body, f);
}

}  // namespace outreach::server
