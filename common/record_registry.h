// The record registry: what each record type is, in one table.
//
// For every RecordType it declares the protobuf message of its body, its name on the
// command line and in JSON, how concurrent edits merge (MergePolicy), the legal
// transitions of its state machine if it has one, the field that links it to a
// participant (for erasure and duplicate merge), the other records it names, who acted,
// the date it is placed on in a timeline, how a register row is keyed and ranked, whether
// a duplicate merge relinks it, and whether it holds personal data. Client and server
// both consult this table instead of scattering rules through code. The rules a body must
// meet are declared beside it, in common/validation/record_rules.cc.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "outreach/v1/records.pb.h"
#include "outreach/v1/sync.pb.h"

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

// One step of a state machine: a move from one state to another, or the creation of a
// record in an initial state (`from` 0), with who may take it. The step's actor field
// records who took it (an actor field, so it names the writer's enrolled person), and
// the persons the fields in `not_by` held before the step may not take it (four eyes).
struct StateStep {
  int from = 0;  // 0 (the enum's UNSPECIFIED): the record is created in `to`
  int to = 0;
  std::vector<v1::Role> roles;       // a device not enrolled yet captures as an adviser
  bool participant_adviser = false;  // the participant's adviser may take it too, in any staff role
  const google::protobuf::FieldDescriptor* actor = nullptr;  // nullptr: who took it is not recorded
  std::vector<const google::protobuf::FieldDescriptor*> not_by = {};
};

struct RecordTypeInfo {
  v1::RecordType type;
  std::string_view name;  // "participant", "case_note", ... (the Record oneof field name)
  MergePolicy policy;
  const google::protobuf::Descriptor* descriptor = nullptr;  // the body message
  // For kStateMachine: the state field and its steps (the legal transitions and the
  // creations in an initial state, each with who may take it).
  const google::protobuf::FieldDescriptor* state_field = nullptr;
  std::vector<StateStep> steps;
  // A repeated field that keeps the record's history (a validation file's moves, an
  // attendance row's earlier marks): a write keeps the stored list as its prefix.
  const google::protobuf::FieldDescriptor* history_field = nullptr;
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
  // The date (YYYY-MM-DD) or instant (YYYY-MM-DDTHH:MM) that places the record on a
  // participant's timeline; nullptr for types that are not on one.
  const google::protobuf::FieldDescriptor* date_field = nullptr;
  // For kKeyedRegister: the field that keys a row with the participant (a session), and
  // who marked the row: `rank_field` holds the marker, `ranks` ranks its values (a
  // higher rank outranks a lower one; a value not listed ranks 0). A kiosk writes as
  // `kiosk_mark`, every other role as `staff_mark`.
  const google::protobuf::FieldDescriptor* register_key_field = nullptr;
  const google::protobuf::FieldDescriptor* rank_field = nullptr;
  std::vector<std::pair<int, int>> ranks;  // (value of rank_field, rank)
  int kiosk_mark = 0;
  int staff_mark = 0;
  // True when a duplicate merge (and work arriving after one) moves the record's
  // participant link to the participant kept; false for records that keep naming the
  // people they are about (a duplicate review, a conflict).
  bool follows_merge = true;

  bool IsLegalTransition(int from, int to) const;
  bool IsInitialState(int state) const;  // a step creates records in it
  // The step from `from` to `to` (`from` 0: creation in `to`), or nullptr when none is declared.
  const StateStep* FindStep(int from, int to) const;
  // Human name of a state value, e.g. "accepted".
  std::string StateName(int state) const;
  // The link declared for field `number`, or nullptr when it names no record.
  const RecordLink* LinkOf(int number) const;
  bool IsActorField(int number) const;
  // The rank of a marker value (rank_field's), and of the mark a writer of `role` makes.
  int Rank(int mark) const;
  int RankOfWriter(v1::Role role) const;
  // The rank of the marker `body` holds; 0 for a type without one.
  int RankOf(const google::protobuf::Message& body) const;
};

// One record type as declared, field by name: what the registry is built from. A test
// declares a type of its own the same way (DeclareRecordType).
struct RecordTypeDeclaration {
  v1::RecordType type = v1::RECORD_TYPE_UNSPECIFIED;
  std::string_view name;
  MergePolicy policy = MergePolicy::kLastWriterWins;
  const google::protobuf::Descriptor* descriptor = nullptr;
  bool personal = false;
  bool reference_data = false;
  const char* date = nullptr;  // RecordTypeInfo::date_field
  // Every field that names a record, and the type it names (UNSPECIFIED: any). A field
  // named participant_id is the participant link.
  std::vector<std::pair<const char*, v1::RecordType>> links = {};
  std::vector<const char*> actors = {};
  // kStateMachine: the state field and every step (StateStep), fields by name.
  struct Step {
    int from = 0;
    int to = 0;
    std::vector<v1::Role> roles;
    const char* actor = nullptr;
    std::vector<const char*> not_by = {};
    bool participant_adviser = false;
  };
  const char* state = nullptr;
  std::vector<Step> steps = {};
  // kKeyedRegister
  const char* register_key = nullptr;
  const char* rank_field = nullptr;
  std::vector<std::pair<int, int>> ranks = {};
  int kiosk_mark = 0;
  int staff_mark = 0;
  bool follows_merge = true;
  const char* history = nullptr;  // RecordTypeInfo::history_field
};

// The registry entry a declaration makes. A field name the body does not have resolves
// to nullptr (record_registry_test checks that none does). Every step's actor field is
// one of the type's actor fields.
RecordTypeInfo DeclareRecordType(const RecordTypeDeclaration& declaration);

// The registry entry of a type, or nullptr for an unknown type.
const RecordTypeInfo* FindRecordType(v1::RecordType type);
// By name ("participant"); nullptr when unknown.
const RecordTypeInfo* FindRecordTypeByName(std::string_view name);
// Every registered type, in RecordType order.
const std::vector<RecordTypeInfo>& AllRecordTypes();

// The name of the field that places a record of `type` on a timeline ("registered_on",
// "marked_at"...), or "" for a type that is not on one (or unknown).
const char* TimelineDateField(v1::RecordType type);

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
