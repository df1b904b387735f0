// The record registry: what each record type is, in one table.
//
// For every RecordType it declares the protobuf message of its body, its name on the
// command line and in JSON, how concurrent edits merge (MergePolicy), the legal
// transitions of its state machine if it has one, the field that links it to a
// participant (for erasure and duplicate merge), and whether it holds personal data.
// Client and server both consult this table instead of scattering rules through code.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "outreach/v1/records.pb.h"

namespace outreach {

enum class MergePolicy {
  // Per field: the later HLC wins; a concurrent loser is kept in a conflict record.
  kLastWriterWins,
  // Immutable once created; a correction is a new record that supersedes.
  kAppendOnly,
  // Per field LWW, except the state field, which moves only along legal transitions.
  kStateMachine,
  // One row per key (attendance: session + participant), id derived from the key;
  // per field LWW, except that an adviser's mark outranks a kiosk's.
  kKeyedRegister,
};

const char* MergePolicyName(MergePolicy policy);

// Size bounds on what one record may hold, checked when it is captured. A change carries
// at most one record's fields, so with these bounds every change fits a frame (8 MiB by
// default; docs/OPERATIONS.md asks for at least 512 KiB) and can always be pushed and
// pulled: an oversized edit captured offline would otherwise sit at the head of the
// outbox and hold back everything behind it.
inline constexpr size_t kMaxFieldBytes = 64 * 1024;        // one text or bytes value
inline constexpr size_t kMaxRecordBodyBytes = 256 * 1024;  // the whole body, encoded

// A field of a record body that names other records by id: 16 raw bytes, or a repeated
// list of them. The server checks every link a pushed change sets (access_policy.h): it
// must name a record of the writer's hub, of `target`'s type, that the writer may read.
struct RecordLink {
  const google::protobuf::FieldDescriptor* field = nullptr;
  v1::RecordType target = v1::RECORD_TYPE_UNSPECIFIED;  // UNSPECIFIED: a record of any type
};

struct RecordTypeInfo {
  v1::RecordType type;
  std::string_view name;  // "participant", "case_note", ... (the Record oneof field name)
  MergePolicy policy;
  const google::protobuf::Descriptor* descriptor = nullptr;  // the body message
  // For kStateMachine: the state field, its initial states, and legal (from, to) pairs.
  const google::protobuf::FieldDescriptor* state_field = nullptr;
  std::vector<int> initial_states;
  std::vector<std::pair<int, int>> transitions;
  // The field holding the participant this record belongs to (bytes), if any.
  const google::protobuf::FieldDescriptor* participant_field = nullptr;
  // True when the record holds personal data (purged by an erasure).
  bool personal = false;
  // True for programme reference data (hub, venue, instrument...): written by managers.
  bool reference_data = false;
  // Every field that names another record (the participant link among them). A field
  // added to a body that names a record must be declared here (record_registry_test
  // fails on an undeclared bytes field).
  std::vector<RecordLink> links;
  // Fields that name the person who acted (a note's author, who decided a spend): a
  // device may set them only to the person it is enrolled for.
  std::vector<const google::protobuf::FieldDescriptor*> actor_fields;

  bool IsLegalTransition(int from, int to) const;
  bool IsInitialState(int state) const;
  // Human name of a state value, e.g. "accepted".
  std::string StateName(int state) const;
  // The link declared for field `number`, or nullptr when it names no record.
  const RecordLink* LinkOf(int number) const;
  bool IsActorField(int number) const;
};

// The registry entry of a type, or nullptr for an unknown type.
const RecordTypeInfo* FindRecordType(v1::RecordType type);
// By name ("participant"); nullptr when unknown.
const RecordTypeInfo* FindRecordTypeByName(std::string_view name);
// Every registered type, in RecordType order.
const std::vector<RecordTypeInfo>& AllRecordTypes();

// A new empty body message of `type` (nullptr when unknown).
std::unique_ptr<google::protobuf::Message> NewRecordBody(v1::RecordType type);
// The body inside a Record (setting the oneof case to `record->type()`).
google::protobuf::Message* MutableRecordBody(v1::Record* record);
// The body inside a Record, or nullptr when the oneof is not set to its type.
const google::protobuf::Message* RecordBody(const v1::Record& record);

// The short name of an enum value without its prefix: ATTENDANCE_STATUS_LATE -> "late".
std::string EnumValueShortName(const google::protobuf::EnumValueDescriptor* value);
// Looks up an enum value by short name ("late"), case-insensitive. Errors name `field`.
Result<int> ParseEnumShortName(const google::protobuf::EnumDescriptor* type, std::string_view text,
                               std::string_view field);

}  // namespace outreach
