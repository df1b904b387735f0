// Checks on the form of record bodies, the same for every record type: the first step of
// validating a body (record_rules.h runs the type's own rules after it).
#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace outreach::validation {

// A date field (YYYY-MM-DD): its name ends in _on or _date, or is date_of_birth.
bool IsDateField(std::string_view name);
// An instant field (YYYY-MM-DDTHH:MM): its name ends in _at.
bool IsInstantField(std::string_view name);

// Checks every set field of `body` by its declared form, naming the field on refusal:
// - dates (names ending in _on or _date, and date_of_birth) are strict real YYYY-MM-DD;
// - instants (names ending in _at) are YYYY-MM-DDTHH:MM (RFC 3339 extensions allowed);
// - record ids (bytes named *_id, *_ids, supersedes, merged_into) are 16 bytes;
// - enum values are ones the schema declares.
Status CheckForms(const google::protobuf::Message& body);
// The same for the fields numbered in `fields` only (a number the body does not have is
// skipped), and the size of the whole body: the server's check of a pushed change, whose
// other fields are the stored record's, checked when they were written.
Status CheckFormsOf(const google::protobuf::Message& body, std::span<const uint32_t> fields);

// `value` is not blank.
Status Required(const std::string& value, std::string_view field);
// An enum field was given (not its UNSPECIFIED zero).
Status RequiredEnum(int value, std::string_view field);

}  // namespace outreach::validation
