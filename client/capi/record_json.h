// The JSON form of records, shared by the C API (outreach.h) and the `outreach` command line.
//
// It is protobuf's JSON mapping (google::protobuf::util) with three conversions, so the text
// is what a person or an app expects to read and write:
// - field names are those of records.proto ("date_of_birth", not "dateOfBirth");
// - a bytes field that holds a record id (every bytes field except those whose name ends in
//   "_value", i.e. Conflict.winning_value / losing_value) is the canonical UUID string
//   "0190f0c4-7b1e-7cc3-9a2e-1f0e3c5d6b7a" instead of base64; repeated ids are arrays of them;
// - an enum is its short name ("late" for ATTENDANCE_STATUS_LATE); the full name and the
//   number are accepted on input too. 64-bit integers are JSON numbers, not strings.
// Unset (default) fields of records are omitted on output; the result messages of
// capi.proto are written whole (zeros, "" and [] included) so their shape is fixed.
//
// A record is one flat object: its metadata "id", "type" (the registry name, e.g.
// "participant"), "hub_id", "deleted" and "erased" (the last three only when set), then
// the fields of its body. No body field of records.proto uses one of those five names.
#pragma once

#include <google/protobuf/message.h>

#include <nlohmann/json.hpp>
#include <string_view>

#include "common/status.h"
#include "outreach/v1/records.pb.h"

namespace outreach::capi {

// True when `field` holds record ids (see above).
bool IsIdField(const google::protobuf::FieldDescriptor* field);

// Any message of records.proto or capi.proto as a JSON object; a v1::Record anywhere in
// it takes the flat form above. Fails (kDataLoss) only when a string holds invalid UTF-8.
Result<nlohmann::ordered_json> MessageToJson(const google::protobuf::Message& message);

// A record as one flat JSON object (see above); MessageToJson(record).
Result<nlohmann::ordered_json> RecordToJson(const v1::Record& record);

// Fills `message` (cleared first) from a JSON object in the form above. A record's flat
// JSON is accepted as its body: the metadata members ("id", "type", ...) are skipped. Errors are
// kInvalidArgument naming the offending field ("json" when the text does not parse);
// `message` is unspecified after an error.
Status MessageFromJson(const nlohmann::ordered_json& json, google::protobuf::Message* message);
Status MessageFromJson(std::string_view json_text, google::protobuf::Message* message);

}  // namespace outreach::capi
