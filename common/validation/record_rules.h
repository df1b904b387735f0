// The rules a record body must meet, declared once per record type, and the one piece of
// code that checks them: on the device before it stores a record, and on the server for
// every pushed upsert (server/service/reconciler.cc ValidateCapture).
//
// Validating a body is, for every type:
//   1. CheckForms (forms.h): every set field in its form, by the field's name and type
//      (dates, instants, record ids, enum values, sizes);
//   2. the registry's state machine: a new record starts in an initial state, an update
//      moves along a legal transition (the caller checks it with RecordTypeInfo);
//   3. ValidateRecordBody: who acted (the registry's actor fields), then the type's
//      RecordRules in their order. The first rule that refuses is the answer, with the
//      field it names.
//
// A type's rules are a list of small declared checks (required, link, format, range...)
// that may hold only while an enum field has some values (When/Unless). A rule no
// declaration expresses is a named check: a function listed in the table like any rule.
// Rules that read other records (does the linked session exist, is it full, is the date
// within the participant's registration and exit, is there an active consent) read them
// through a RecordLookup: the device implements it over its store, the server over its
// store as the writing device may read it (server/service/record_lookup.h).
#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/record_registry.h"
#include "common/status.h"
#include "common/uuid.h"

namespace outreach::validation {

class FormatVerdicts;

// The records validation may read besides the body.
class RecordLookup {
 public:
  virtual ~RecordLookup() = default;
  // The record held with `id` (deleted and erased ones too), or nullopt.
  virtual Result<std::optional<v1::Record>> Get(const Uuid& id) = 0;
  // Every live record of `type` (the instruments an assessment is scored against).
  virtual Result<std::vector<v1::Record>> RecordsOfType(v1::RecordType type) = 0;
  // The live records of `type` whose link `field` names `id`, oldest first (a
  // participant's outcomes, a session's bookings).
  virtual Result<std::vector<v1::Record>> RecordsLinkedTo(v1::RecordType type,
                                                          const google::protobuf::FieldDescriptor& field,
                                                          const Uuid& id) = 0;
};

// Which side runs the checks: the device before it stores a record, or the server on a
// pushed upsert. The same rules run on both, except the few declared OnDeviceOnly.
enum class Side {
  kDevice,
  kServer,
};

// Who writes, and when, and where the checks run.
struct ValidationContext {
  RecordLookup& records;
  // YYYY-MM-DD in the writer's hub's time zone (common/dates.h LocalDateOfMillis), by the
  // checking side's clock: a later date is in the future.
  std::string today;
  // The person the writing device is enrolled for (on the server, the device's user name);
  // asked only when an actor field changes.
  std::function<std::string()> enrolled_person;
  // The writer's role (a device not yet enrolled captures as an adviser: UNSPECIFIED).
  v1::Role role = v1::ROLE_UNSPECIFIED;
  // Where the checks run: the server skips the rules declared OnDeviceOnly.
  Side side = Side::kDevice;
  // Format verdicts already reached for this write (or push); format rules consult and
  // fill it. Null: every format rule judges its value afresh.
  FormatVerdicts* formats = nullptr;
};

// The ages the programme takes, in whole years on the registration date (today for a new
// participant). One constant until the programme's reference data carries it.
struct AgeRange {
  int min = 0;
  int max = 0;
};
inline constexpr AgeRange kProgrammeAges{16, 100};

// Where a record's date may fall in its participant's journey (Rule::Kind::kInTheJourney).
// A record is after an exit when dated later than the exit's exited_on and, if the exit was
// re-opened, earlier than its reopened_on.
struct JourneyBounds {
  bool from_registration = true;  // not before the participant's registered_on
  bool until_exit = true;         // not after an exit...
  // ...unless the participant's consent to be tracked after exit is active on the date.
  bool tracked_after_exit = false;
};

// A consent a write rests on: the participant's consent for `purpose`, active on `on`.
// A consent is active on a day when given on or before it and not withdrawn on or before it.
struct ConsentNeed {
  std::string_view participant_id = {};  // raw
  v1::ConsentPurpose purpose = v1::CONSENT_PURPOSE_UNSPECIFIED;
  std::string_view on = {};  // YYYY-MM-DD (an instant's date part is used)
  // For sharing: the partner named by id (raw), which a consent naming partners must name;
  // empty: any consent to share covers it.
  std::string_view partner_id = {};
  // The one consent the write names (raw); empty: any of the participant's consents.
  std::string_view consent_id = {};
  std::string_view what = {};   // what needs it, as the refusal starts: "referral"
  std::string_view field = {};  // the field the refusal names
};
// Ok when an active consent covers `need`; otherwise FailedPrecondition naming
// `need.field`: "referral needs the participant's consent to share with partners on
// 2026-12-07 (none active)".
Status RequireActiveConsent(RecordLookup& records, const ConsentNeed& need);

// The stored version of a record being updated.
struct StoredVersion {
  std::string_view id;  // 16 raw bytes
  const google::protobuf::Message* body = nullptr;
};

// Formats of text fields beyond the forms CheckForms knows by name. Each but kSha256Hex
// has a normal form (formats.h), the only form in which the value is stored.
enum class Format {
  kNiNumber,   // NormaliseNiNumber: AB123456C
  kEmail,      // NormaliseEmail: a local part and a dotted domain, domain in lower case
  kPhone,      // NormalisePhone: valid by libphonenumber, stored E.164 (+447700900123)
  kPostcode,   // NormalisePostcode: a UK postcode, SW1A 1AA
  kSha256Hex,  // 64 hex digits
};

// `value` (not empty) in `format`'s normal form, or a refusal naming `field` and the format.
Result<std::string> NormaliseFormat(Format format, std::string_view field, const std::string& value);

// NormaliseFormat's verdicts, remembered so one write (or one push) judges each value
// once: a phone number costs libphonenumber about 20 microseconds, and a captured value is
// normalised (NormaliseBody) and then checked (the format rule), on the device and again
// on the server. A value in its normal form normalises to itself, so a value's verdict
// also answers for its normal form. Not thread-safe: one per write or push.
class FormatVerdicts {
 public:
  Result<std::string> Normalise(Format format, std::string_view field, const std::string& value);

  // Judges every formatted value `change` (an upsert) sets, before the records it is
  // checked against are read: the server does this outside the hub's lock.
  void JudgeChange(const v1::Change& change);

 private:
  struct Key {
    Format format;
    std::string field, value;
    bool operator<(const Key& o) const { return std::tie(format, field, value) < std::tie(o.format, o.field, o.value); }
  };
  std::map<Key, Result<std::string>> verdicts_;
};

// What a named check is given.
struct CheckInput {
  const RecordTypeInfo& info;
  const google::protobuf::Message& body;
  const StoredVersion* before;  // nullptr for a new record
  ValidationContext& context;
};
using NamedCheck = Status (*)(const CheckInput& input);

// One rule of a record type. Build rules with the functions below; a rule refuses with
// Status::InvalidArgument(field, message) unless its kind says otherwise.
struct Rule {
  enum class Kind {
    kRequired,               // not blank text, not an UNSPECIFIED enum, not empty bytes or list, not 0
    kLink,                   // names a live record of the type the registry declares for the field
    kLinkOfSameParticipant,  // if set: each id names a live record of the declared type
                             // that belongs to this record's participant
    kFormat,                 // if set: text in `format`, in its normal form; on an update a
                             // value equal to the stored version's is not judged again (it may
                             // predate the rule, and must not block an unrelated edit)
    kNotBefore,              // if set: not before the date (or instant) in field `other`
    kNotAfterToday,          // not later than ValidationContext::today (an instant by its date)
    kInTheJourney,           // if set: the date (or instant) within the participant's
                             // registration and exit, as `journey` says
    kRange,                  // a number within [min, max]
    kAnyOf,                  // at least one of `any_of` is set (names `field`)
    kAbsent,                 // not set
    kUnchanged,              // on an update: the value the stored record holds
    kCheck,                  // a named check
  };
  Kind kind = Kind::kRequired;
  const char* field = nullptr;  // the field checked and named on refusal
  const char* other = nullptr;  // kNotBefore
  std::vector<const char*> any_of;
  Format format = Format::kEmail;
  JourneyBounds journey;     // kInTheJourney
  int64_t min = 0, max = 0;  // kRange
  bool optional = false;     // kLink: an empty link is allowed
  ErrorCode code = ErrorCode::kInvalidArgument;
  // The refusal's words; empty: the kind's own. In kNotBefore, "{other}" stands for the
  // other field's value.
  std::string message;
  NamedCheck check = nullptr;
  const char* check_name = nullptr;
  // Applies only while the enum field `when_field` holds one of `when_values` (or, with
  // `when_negated`, none of them); always when `when_field` is nullptr.
  const char* when_field = nullptr;
  std::vector<int> when_values;
  bool when_negated = false;
  // Checked only on the device (ValidationContext::side): an early refusal of what the
  // server answers otherwise once every device's work has met there (a second claim
  // becomes a conflict for a person to resolve, not a refusal after the fact). Say why
  // beside each use.
  bool device_only = false;
  // `field`, `other` and `when_field` as fields of the type's body, resolved once when the
  // built-in tables are built (FindRecordRules); null in a rule built elsewhere, which
  // finds them by name as it is checked (FieldNamed).
  const google::protobuf::FieldDescriptor* field_descriptor = nullptr;
  const google::protobuf::FieldDescriptor* other_descriptor = nullptr;
  const google::protobuf::FieldDescriptor* when_descriptor = nullptr;

  Rule When(const char* enum_field, std::vector<int> values) const;
  Rule Unless(const char* enum_field, std::vector<int> values) const;
  Rule OnDeviceOnly() const;
  // Whether the rule runs on `side`.
  bool RunsOn(Side side) const { return !device_only || side == Side::kDevice; }
  bool Applies(const google::protobuf::Message& body) const;
};

Rule Required(const char* field, std::string message = {});
Rule Link(const char* field);
Rule OptionalLink(const char* field);
Rule LinkOfSameParticipant(const char* field);
Rule FormatOf(const char* field, Format format);
Rule NotBefore(const char* field, const char* other, std::string message);
Rule NotAfterToday(const char* field);
Rule DatedInTheJourney(const char* field, JourneyBounds bounds = {});
Rule Range(const char* field, int64_t min, int64_t max, std::string message);
Rule AnyOf(std::vector<const char*> fields, const char* named, std::string message);
Rule Absent(const char* field, std::string message);
Rule Unchanged(const char* field, ErrorCode code, std::string message);
Rule Check(const char* name, NamedCheck check);

// Every rule of one record type.
struct RecordRules {
  v1::RecordType type = v1::RECORD_TYPE_UNSPECIFIED;
  // False for records a device never writes through validation (reference data, and the
  // server's own records): ValidateRecordBody refuses them.
  bool written_on_devices = true;
  std::vector<Rule> rules;
};

// Fills each rule's field, other and when descriptors from the body of `rules.type` (a
// name the body does not have stays unresolved, for CheckRule to report).
void ResolveFields(RecordRules& rules);

// The rules of a built-in type; nullptr for an unknown type.
const RecordRules* FindRecordRules(v1::RecordType type);
// The rules of every built-in type, in RecordType order.
const std::vector<RecordRules>& AllRecordRules();

// Puts every field with a format in its normal form (a phone number in E.164, a postcode
// upper case with one space...). A value that does not parse is left as it is, for
// validation to refuse. With `stored` (an update), a value equal to the stored version's
// is left as it is too: an edit of one field does not rewrite another. With `verdicts`,
// the verdicts reached are kept there for the checks that follow.
void NormaliseBody(const RecordRules& rules, google::protobuf::Message* body,
                   const google::protobuf::Message* stored = nullptr, FormatVerdicts* verdicts = nullptr);
void NormaliseBody(v1::RecordType type, google::protobuf::Message* body,
                   const google::protobuf::Message* stored = nullptr, FormatVerdicts* verdicts = nullptr);

// A stored value that does not meet its field's format: it does not parse, or is not in
// its normal form (held from before the format was checked).
struct FormatProblem {
  std::string field;
  std::string value;
  std::string problem;  // the refusal a new value like it would get
};
// Every format field of `body` (of a built-in `type`) whose set value does not meet its
// format, in field order of the type's rules.
std::vector<FormatProblem> FormatProblems(v1::RecordType type, const google::protobuf::Message& body);

// `field` holds phone numbers (a kPhone format rule of its record type's body): shown
// with PhoneForDisplay.
bool IsPhoneField(const google::protobuf::FieldDescriptor& field);

// Step 3 above for `body`, of `info`'s type, under `rules`; `before` is the stored version
// for an update, nullptr for a new record. Runs after CheckForms, so every present date,
// instant, id and enum is well formed.
Status ValidateRecordBody(const RecordTypeInfo& info, const RecordRules& rules, const google::protobuf::Message& body,
                          const StoredVersion* before, ValidationContext& context);
// The same for a built-in type from the tables above.
Status ValidateRecordBody(v1::RecordType type, const google::protobuf::Message& body, const v1::Record* before,
                          ValidationContext& context);

// The live record of `type` that `raw` (an id field's value) names; refusals name `field`.
Result<v1::Record> LinkedRecord(RecordLookup& records, const std::string& raw, v1::RecordType type,
                                std::string_view field);
// The same, and it must belong to `participant_id` (raw) when its type has a participant.
Status LinkedToParticipant(RecordLookup& records, const std::string& raw, v1::RecordType type, std::string_view field,
                           const std::string& participant_id);

// "participant", or "record of type 99" for a type the registry does not know.
std::string TypeName(int type);

}  // namespace outreach::validation
