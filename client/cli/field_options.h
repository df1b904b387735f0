// Command-line options generated from a record body's fields (records.proto), so every
// field of every record can be given on the command line the same way:
//   date_of_birth   -> --date-of-birth YYYY-MM-DD
//   participant_id  -> --participant UUID        (a trailing _id / _ids is dropped)
//   status (enum)   -> --status late             (short names, see record_registry.h)
//   benefits (rep.) -> --benefits jsa,pip         (or the option given twice)
//   disability      -> --disability [true|false]
// --help shows each value's form (YYYY-MM-DD, YYYY-MM-DDTHH:MM, UUID, an enum's choices)
// and marks REQUIRED what the type's rules (common/validation/rules_table.cc) require
// without a condition, less what the creating operation fills in
// (Device::FilledWhenEmpty). A missing required value is refused by the library, naming
// the field, not by the parser: a verb's sub-verbs (`validation move`) share its parser.
// Errors name the field as records.proto spells it ("date_of_birth").
#pragma once

#include <google/protobuf/message.h>

#include <CLI/CLI.hpp>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace outreach::cli {

// "--date-of-birth" for date_of_birth, "--participant" for participant_id.
std::string OptionName(const google::protobuf::FieldDescriptor* field);

// Sets `field` of `message` from command-line text; a repeated field gets the value
// appended. Errors are kInvalidArgument naming the field.
Status SetFieldFromText(google::protobuf::Message* message, const google::protobuf::FieldDescriptor* field,
                        std::string_view text);

// The options of one verb for the fields of one body message.
class FieldOptions {
 public:
  // Adds an option to `app` for every non-message field of `type` not named in `skip`.
  FieldOptions(CLI::App* app, const google::protobuf::Descriptor* type, const std::set<std::string>& skip = {});

  // Sets every field given on the command line into `message`, replacing its value.
  Status Apply(google::protobuf::Message* message) const;

 private:
  std::vector<std::pair<const google::protobuf::FieldDescriptor*, CLI::Option*>> options_;
};

// Applies "FIELD=VALUE" assignments (the generic `update --set`) to `message`; the first
// assignment to a repeated field replaces it, later ones append.
Status ApplyAssignments(const std::vector<std::string>& assignments, google::protobuf::Message* message);

}  // namespace outreach::cli
