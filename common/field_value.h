// Field-level changes: one field of a record body, encoded on its own.
//
// A FieldValue's `value` is the record's message with only that field set, serialised.
// Applying it clears the field and merges the bytes in, which works the same for scalar,
// repeated and message fields, and for fields this build does not know (they land in
// the message's unknown fields and survive the next serialisation).
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "outreach/v1/sync.pb.h"

namespace outreach {

// The encoding of one field of `body` (empty string when the field is unset/default).
std::string EncodeField(const google::protobuf::Message& body, const google::protobuf::FieldDescriptor* field);

// Sets field `number` of `body` to the encoded `value` (clears it first).
Status ApplyField(google::protobuf::Message* body, uint32_t number, std::string_view value);

// Every field whose encoding differs between `before` and `after` (both of one type),
// as FieldValues carrying the encoding from `after`. Base versions are left 0.
std::vector<v1::FieldValue> DiffFields(const google::protobuf::Message& before, const google::protobuf::Message& after);

// Every set field of `body` (a create).
std::vector<v1::FieldValue> AllFields(const google::protobuf::Message& body);

// Human-readable value of one encoded field, for conflict lists and audit lines.
std::string DescribeFieldValue(const google::protobuf::Descriptor* type, uint32_t number, std::string_view value);

}  // namespace outreach
