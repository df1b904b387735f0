// Who may move a record along its state machine, and the history a record keeps: the
// registry's steps (StateStep) and history field, checked by the same code on the device
// (before a write is stored) and on the server (before a pushed change is applied).
//
// For a write of a record (`before` the stored body, nullptr for a new record; `after`
// the body as it would be stored):
//   - a new record starts in an initial state, created by a role its creation step names;
//   - a state change follows a declared step, taken by a role the step names (or, where
//     the step says so, by the participant's adviser);
//   - the step's actor field names the writer's person, and the persons the step's
//     `not_by` fields held before the step are not the writer (four eyes);
//   - a field some step records its actor in changes only with such a step;
//   - the history field keeps the stored list as its prefix; a validation file's state
//     change appends the one move it makes, and an attendance row's re-mark appends the
//     mark it replaces.
// Every refusal names the field and says what would be legal: the next states and who
// may take them, the roles that may take the step, or whose step it is.
#pragma once

#include <google/protobuf/message.h>

#include <functional>
#include <string>

#include "common/record_registry.h"
#include "common/status.h"

namespace outreach::validation {

struct StepWriter {
  v1::Role role = v1::ROLE_UNSPECIFIED;  // UNSPECIFIED: a device not enrolled yet, an adviser
  std::string person;                    // the person the writing device is enrolled for
  // The `adviser` of the record's participant; asked only when a step lets them take it.
  std::function<Result<std::string>()> participant_adviser;
  // False when the writer had not seen the stored row's mark (a concurrent mark the
  // server merges by rank and keeps the loser of in a conflict record): its list is then
  // held only to the prefix rule.
  bool saw_stored_mark = true;
};

Status CheckStateChange(const RecordTypeInfo& info, const google::protobuf::Message* before,
                        const google::protobuf::Message& after, const StepWriter& writer);

// An update keeps the record's participant: a record linked to one stays theirs (a merge
// moves records, as the server); one not linked yet (an enquiry) may be linked once.
// Refused naming the participant field: "participant_id: cannot be changed".
Status KeepsItsParticipant(const RecordTypeInfo& info, const google::protobuf::Message& before,
                           const google::protobuf::Message& after);

// "adviser", "health worker", "coordinator", "manager", "kiosk".
std::string RoleWord(v1::Role role);

}  // namespace outreach::validation
