// The code that checks a record type's declared rules (record_rules.h). The tables of
// the built-in types are in rules_table.cc.
#include "common/validation/record_rules.h"

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <set>

#include "common/field_value.h"
#include "common/validation/formats.h"
#include "common/validation/forms.h"

namespace outreach::validation {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// ---------------------------------------------------------------- building rules

Rule Rule::When(const char* enum_field, std::vector<int> values) const {
  Rule r = *this;
  r.when_field = enum_field;
  r.when_values = std::move(values);
  r.when_negated = false;
  return r;
}

Rule Rule::Unless(const char* enum_field, std::vector<int> values) const {
  Rule r = When(enum_field, std::move(values));
  r.when_negated = true;
  return r;
}

Rule Rule::OnDeviceOnly() const {
  Rule r = *this;
  r.device_only = true;
  return r;
}

namespace {

// The field `name` of `body`: `resolved` when it is a field of the body's type, otherwise
// found by name (nullptr: the body has none). Rules of the built-in tables come resolved.
const FieldDescriptor* FieldNamed(const google::protobuf::Descriptor& body, const FieldDescriptor* resolved,
                                  const char* name) {
  if (resolved != nullptr && resolved->containing_type() == &body) return resolved;
  return name != nullptr ? body.FindFieldByName(name) : nullptr;
}

}  // namespace

bool Rule::Applies(const Message& body) const {
  if (when_field == nullptr) return true;
  const FieldDescriptor* f = FieldNamed(*body.GetDescriptor(), when_descriptor, when_field);
  if (f == nullptr || f->is_repeated() || f->type() != FieldDescriptor::TYPE_ENUM) return false;
  const int value = body.GetReflection()->GetEnumValue(body, f);
  const bool listed = std::find(when_values.begin(), when_values.end(), value) != when_values.end();
  return listed != when_negated;
}

namespace {

Rule Make(Rule::Kind kind, const char* field) {
  Rule r;
  r.kind = kind;
  r.field = field;
  return r;
}

}  // namespace

Rule Required(const char* field, std::string message) {
  Rule r = Make(Rule::Kind::kRequired, field);
  r.message = std::move(message);
  return r;
}

Rule Link(const char* field) {
  return Make(Rule::Kind::kLink, field);
}

Rule OptionalLink(const char* field) {
  Rule r = Make(Rule::Kind::kLink, field);
  r.optional = true;
  return r;
}

Rule LinkOfSameParticipant(const char* field) {
  return Make(Rule::Kind::kLinkOfSameParticipant, field);
}

Rule FormatOf(const char* field, Format format) {
  Rule r = Make(Rule::Kind::kFormat, field);
  r.format = format;
  return r;
}

Rule NotBefore(const char* field, const char* other, std::string message) {
  Rule r = Make(Rule::Kind::kNotBefore, field);
  r.other = other;
  r.message = std::move(message);
  return r;
}

Rule NotAfterToday(const char* field) {
  return Make(Rule::Kind::kNotAfterToday, field);
}

Rule DatedInTheJourney(const char* field, JourneyBounds bounds) {
  Rule r = Make(Rule::Kind::kInTheJourney, field);
  r.journey = bounds;
  return r;
}

Rule Range(const char* field, int64_t min, int64_t max, std::string message) {
  Rule r = Make(Rule::Kind::kRange, field);
  r.min = min;
  r.max = max;
  r.message = std::move(message);
  return r;
}

Rule AnyOf(std::vector<const char*> fields, const char* named, std::string message) {
  Rule r = Make(Rule::Kind::kAnyOf, named);
  r.any_of = std::move(fields);
  r.message = std::move(message);
  return r;
}

Rule Absent(const char* field, std::string message) {
  Rule r = Make(Rule::Kind::kAbsent, field);
  r.message = std::move(message);
  return r;
}

Rule Unchanged(const char* field, ErrorCode code, std::string message) {
  Rule r = Make(Rule::Kind::kUnchanged, field);
  r.code = code;
  r.message = std::move(message);
  return r;
}

Rule Check(const char* name, NamedCheck check) {
  Rule r = Make(Rule::Kind::kCheck, nullptr);
  r.check = check;
  r.check_name = name;
  return r;
}

// ---------------------------------------------------------------- links

std::string TypeName(int type) {
  const RecordTypeInfo* info = FindRecordType(static_cast<v1::RecordType>(type));
  return info ? std::string(info->name) : "record of type " + std::to_string(type);
}

Result<v1::Record> LinkedRecord(RecordLookup& records, const std::string& raw, v1::RecordType type,
                                std::string_view field) {
  const std::string name(field);
  if (raw.empty()) return Status::InvalidArgument(name, "is required");
  Result<Uuid> id = Uuid::FromBytes(raw);
  if (!id.ok()) return Status::InvalidArgument(name, "is not a record id (16 bytes)");
  Result<std::optional<v1::Record>> rec = records.Get(*id);
  if (!rec.ok()) return rec.status();
  if (!rec->has_value() || (*rec)->deleted() || (*rec)->erased()) {
    // The same words on the device (its store) and on the server (what the writing
    // device may read there).
    return Status::NotFound("no " + TypeName(type) + " with id " + id->ToString() + " that this device may read", name);
  }
  if ((*rec)->type() != type) {
    return Status::InvalidArgument(name,
                                   id->ToString() + " is a " + TypeName((*rec)->type()) + ", not a " + TypeName(type));
  }
  return std::move(**rec);
}

Status LinkedToParticipant(RecordLookup& records, const std::string& raw, v1::RecordType type, std::string_view field,
                           const std::string& participant_id) {
  Result<v1::Record> rec = LinkedRecord(records, raw, type, field);
  if (!rec.ok()) return rec.status();
  const RecordTypeInfo* info = FindRecordType(type);
  const Message* body = RecordBody(*rec);
  if (info != nullptr && info->participant_field != nullptr && body != nullptr &&
      body->GetReflection()->GetString(*body, info->participant_field) != participant_id) {
    return Status::InvalidArgument(std::string(field), "belongs to another participant");
  }
  return Status::Ok();
}

// ---------------------------------------------------------------- formats

Result<std::string> NormaliseFormat(Format format, std::string_view field, const std::string& value) {
  switch (format) {
    case Format::kNiNumber: return NormaliseNiNumber(value, field);
    case Format::kEmail: return NormaliseEmail(value, field);
    case Format::kPhone: return NormalisePhone(value, field);
    case Format::kPostcode: return NormalisePostcode(value, field);
    case Format::kSha256Hex:
      if (value.size() != 64 || value.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
        return Status::InvalidArgument(std::string(field), "is not a SHA-256 hex digest (64 hex digits)");
      }
      return value;
  }
  return Status::Internal("unknown format for " + std::string(field));
}

Result<std::string> FormatVerdicts::Normalise(Format format, std::string_view field, const std::string& value) {
  Key key{format, std::string(field), value};
  if (auto it = verdicts_.find(key); it != verdicts_.end()) return it->second;
  Result<std::string> verdict = NormaliseFormat(format, field, value);
  if (verdict.ok() && *verdict != value) verdicts_.emplace(Key{format, key.field, *verdict}, *verdict);
  verdicts_.emplace(std::move(key), verdict);
  return verdict;
}

// ---------------------------------------------------------------- consents

namespace {

// The day of a date or an instant (YYYY-MM-DD...).
std::string_view DayOf(std::string_view date) {
  return date.substr(0, 10);
}

std::string ConsentWords(v1::ConsentPurpose purpose) {
  switch (purpose) {
    case v1::CONSENT_PURPOSE_HOLD_DATA: return "hold their data";
    case v1::CONSENT_PURPOSE_SHARE_WITH_PARTNERS: return "share with partners";
    case v1::CONSENT_PURPOSE_TRACK_AFTER_EXIT: return "be tracked after exit";
    default: return "'" + EnumValueShortName(v1::ConsentPurpose_descriptor()->FindValueByNumber(purpose)) + "'";
  }
}

bool ActiveOn(const v1::Consent& c, std::string_view day) {
  return !c.given_on().empty() && std::string_view(c.given_on()) <= day &&
         (c.withdrawn_on().empty() || day < std::string_view(c.withdrawn_on()));
}

bool Covers(const v1::Consent& c, std::string_view partner_id) {
  return partner_id.empty() || c.partner_ids().empty() ||
         std::find(c.partner_ids().begin(), c.partner_ids().end(), partner_id) != c.partner_ids().end();
}

}  // namespace

Status RequireActiveConsent(RecordLookup& records, const ConsentNeed& need) {
  const std::string day(DayOf(need.on));
  Result<Uuid> participant = Uuid::FromBytes(std::string(need.participant_id));
  if (!participant.ok()) return Status::InvalidArgument("participant_id", "is not a record id (16 bytes)");
  const RecordTypeInfo* consent_type = FindRecordType(v1::RECORD_TYPE_CONSENT);
  Result<std::vector<v1::Record>> consents =
      records.RecordsLinkedTo(v1::RECORD_TYPE_CONSENT, *consent_type->participant_field, *participant);
  if (!consents.ok()) return consents.status();
  bool active_for_others = false;
  std::string withdrawn;  // the latest withdrawal on or before the day of a consent given before it
  for (const v1::Record& r : *consents) {
    if (!need.consent_id.empty() && r.id() != need.consent_id) continue;
    const v1::Consent& c = r.consent();
    if (c.purpose() != need.purpose) continue;
    if (ActiveOn(c, day)) {
      if (Covers(c, need.partner_id)) return Status::Ok();
      active_for_others = true;
    } else if (!c.withdrawn_on().empty() && c.given_on() <= day && c.withdrawn_on() <= day) {
      withdrawn = std::max(withdrawn, c.withdrawn_on());
    }
  }
  std::string why = "none active";
  if (active_for_others) {
    why = "the active consents name other partners";
  } else if (!withdrawn.empty()) {
    why = "withdrawn on " + withdrawn;
  }
  if (!need.consent_id.empty()) why = "the consent named in consent_id: " + why;
  return Status::FailedPrecondition(std::string(need.what) + " needs the participant's consent to " +
                                        ConsentWords(need.purpose) + " on " + day + " (" + why + ")",
                                    std::string(need.field));
}

// ---------------------------------------------------------------- checking

namespace {

bool IsBlank(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
}

// Set: a non-empty text, bytes or list, a non-zero number or enum, a true bool, a present message.
bool IsSet(const Message& body, const FieldDescriptor* f) {
  const auto* r = body.GetReflection();
  if (f->is_repeated()) return r->FieldSize(body, f) > 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: return !r->GetString(body, f).empty();
    case FieldDescriptor::CPPTYPE_ENUM: return r->GetEnumValue(body, f) != 0;
    case FieldDescriptor::CPPTYPE_INT32: return r->GetInt32(body, f) != 0;
    case FieldDescriptor::CPPTYPE_INT64: return r->GetInt64(body, f) != 0;
    case FieldDescriptor::CPPTYPE_UINT32: return r->GetUInt32(body, f) != 0;
    case FieldDescriptor::CPPTYPE_UINT64: return r->GetUInt64(body, f) != 0;
    case FieldDescriptor::CPPTYPE_DOUBLE: return r->GetDouble(body, f) != 0;
    case FieldDescriptor::CPPTYPE_FLOAT: return r->GetFloat(body, f) != 0;
    case FieldDescriptor::CPPTYPE_BOOL: return r->GetBool(body, f);
    case FieldDescriptor::CPPTYPE_MESSAGE: return r->HasField(body, f);
  }
  return false;
}

// Whether `a` and `b` (of one type) hold the same value of `f`. A text field, the usual
// case, is compared in place; any other by MessageDifferencer.
bool SameValue(const Message& a, const Message& b, const FieldDescriptor* f) {
  if (!f->is_repeated() && f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
    std::string a_scratch, b_scratch;
    return a.GetReflection()->GetStringReference(a, f, &a_scratch) ==
           b.GetReflection()->GetStringReference(b, f, &b_scratch);
  }
  google::protobuf::util::MessageDifferencer differencer;
  return differencer.CompareWithFields(a, b, {f}, {f});
}

// A number outside [min, max]; NaN is never outside.
bool OutOfRange(const Message& body, const FieldDescriptor* f, int64_t min, int64_t max) {
  const auto* r = body.GetReflection();
  auto outside_signed = [&](int64_t v) { return v < min || v > max; };
  auto outside_unsigned = [&](uint64_t v) {
    return (min > 0 && v < static_cast<uint64_t>(min)) || max < 0 || v > static_cast<uint64_t>(max);
  };
  auto outside_double = [&](double v) { return v < static_cast<double>(min) || v > static_cast<double>(max); };
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: return outside_signed(r->GetInt32(body, f));
    case FieldDescriptor::CPPTYPE_INT64: return outside_signed(r->GetInt64(body, f));
    case FieldDescriptor::CPPTYPE_UINT32: return outside_unsigned(r->GetUInt32(body, f));
    case FieldDescriptor::CPPTYPE_UINT64: return outside_unsigned(r->GetUInt64(body, f));
    case FieldDescriptor::CPPTYPE_DOUBLE: return outside_double(r->GetDouble(body, f));
    case FieldDescriptor::CPPTYPE_FLOAT: return outside_double(r->GetFloat(body, f));
    default: return false;
  }
}

Status CheckFormat(Format format, const std::string& field, const std::string& value,
                   FormatVerdicts* verdicts = nullptr) {
  if (value.empty()) return Status::Ok();
  Result<std::string> normal =
      verdicts != nullptr ? verdicts->Normalise(format, field, value) : NormaliseFormat(format, field, value);
  if (!normal.ok()) return normal.status();
  if (*normal != value) {
    return Status::InvalidArgument(field, "'" + value + "' is not in the form it is stored in ('" + *normal + "')");
  }
  return Status::Ok();
}

std::string WithOther(std::string message, const std::string& other_value) {
  const std::string marker = "{other}";
  const size_t at = message.find(marker);
  if (at != std::string::npos) message.replace(at, marker.size(), other_value);
  return message;
}

// Where a rule names a field the body does not have: a mistake in a table.
Status NoSuchField(const RecordTypeInfo& info, const char* field) {
  return Status::Internal("the rules of " + std::string(info.name) +
                          " name a field it does not have: " + (field != nullptr ? field : "(none)"));
}

// Where a link rule names a field the registry does not declare as a link.
Status NotALink(const RecordTypeInfo& info, const std::string& field) {
  return Status::Internal("the rules of " + std::string(info.name) + " follow " + field +
                          ", which its registry entry does not declare as a link");
}

// A participant's record dated `value` (a date or an instant) within their journey.
Status CheckInTheJourney(const JourneyBounds& bounds, const CheckInput& in, const std::string& name,
                         const std::string& value) {
  if (value.empty()) return Status::Ok();
  if (in.info.participant_field == nullptr) {
    return Status::Internal("the rules of " + std::string(in.info.name) +
                            " place it in a participant's journey, but it names no participant");
  }
  const std::string& participant_id = in.body.GetReflection()->GetString(in.body, in.info.participant_field);
  Result<Uuid> participant = Uuid::FromBytes(participant_id);
  if (!participant.ok()) return Status::InvalidArgument(in.info.participant_field->name(), "is not a record id");
  const std::string_view day = DayOf(value);
  if (bounds.from_registration) {
    Result<v1::Record> person = LinkedRecord(in.context.records, participant_id, v1::RECORD_TYPE_PARTICIPANT,
                                             in.info.participant_field->name());
    if (!person.ok()) return person.status();
    const std::string& registered = person->participant().registered_on();
    if (!registered.empty() && day < std::string_view(registered)) {
      return Status::InvalidArgument(name, value + " is before the participant was registered (" + registered + ")");
    }
  }
  if (!bounds.until_exit) return Status::Ok();
  const RecordTypeInfo* exit_type = FindRecordType(v1::RECORD_TYPE_EXIT);
  Result<std::vector<v1::Record>> exits =
      in.context.records.RecordsLinkedTo(v1::RECORD_TYPE_EXIT, *exit_type->participant_field, *participant);
  if (!exits.ok()) return exits.status();
  for (const v1::Record& r : *exits) {
    const v1::Exit& exit = r.exit();
    const bool after = std::string_view(exit.exited_on()) < day &&
                       (exit.reopened_on().empty() || day < std::string_view(exit.reopened_on()));
    if (!after) continue;
    if (!bounds.tracked_after_exit) {
      return Status::InvalidArgument(name, value + " is after the participant's exit (" + exit.exited_on() + ")");
    }
    return RequireActiveConsent(
        in.context.records, ConsentNeed{.participant_id = participant_id,
                                        .purpose = v1::CONSENT_PURPOSE_TRACK_AFTER_EXIT,
                                        .on = day,
                                        .what = std::string(in.info.name) + " dated after the participant's exit (" +
                                                exit.exited_on() + ")",
                                        .field = name});
  }
  return Status::Ok();
}

Status CheckRule(const Rule& rule, const CheckInput& in) {
  const Message& body = in.body;
  const auto* r = body.GetReflection();
  if (rule.when_field != nullptr &&
      FieldNamed(*body.GetDescriptor(), rule.when_descriptor, rule.when_field) == nullptr) {
    return NoSuchField(in.info, rule.when_field);
  }
  if (!rule.Applies(body)) return Status::Ok();
  if (rule.kind == Rule::Kind::kCheck) return rule.check(in);
  if (rule.kind == Rule::Kind::kAnyOf) {
    for (const char* name : rule.any_of) {
      const FieldDescriptor* f = body.GetDescriptor()->FindFieldByName(name);
      if (f == nullptr) return NoSuchField(in.info, name);
      if (IsSet(body, f)) return Status::Ok();
    }
    return Status::InvalidArgument(rule.field, rule.message);
  }
  const FieldDescriptor* f = FieldNamed(*body.GetDescriptor(), rule.field_descriptor, rule.field);
  if (f == nullptr) return NoSuchField(in.info, rule.field);
  const std::string& name = f->name();
  // The field's text (empty for a repeated field), by reference where the body holds it.
  std::string scratch;
  auto text = [&]() -> const std::string& {
    if (f->is_repeated()) scratch.clear();
    return f->is_repeated() ? scratch : r->GetStringReference(body, f, &scratch);
  };
  switch (rule.kind) {
    case Rule::Kind::kRequired: {
      bool missing = !IsSet(body, f);
      if (!f->is_repeated() && f->type() == FieldDescriptor::TYPE_STRING) missing = IsBlank(text());
      if (!missing) return Status::Ok();
      return Status::InvalidArgument(name, rule.message.empty() ? "is required" : rule.message);
    }
    case Rule::Kind::kLink: {
      const RecordLink* link = in.info.LinkOf(f->number());
      if (link == nullptr || f->is_repeated()) return NotALink(in.info, name);
      const std::string& raw = text();
      if (rule.optional && raw.empty()) return Status::Ok();
      return LinkedRecord(in.context.records, raw, link->target, name).status();
    }
    case Rule::Kind::kLinkOfSameParticipant: {
      const RecordLink* link = in.info.LinkOf(f->number());
      if (link == nullptr) return NotALink(in.info, name);
      const std::string participant =
          in.info.participant_field != nullptr ? r->GetString(body, in.info.participant_field) : std::string();
      if (!f->is_repeated()) {
        const std::string& raw = text();
        if (raw.empty()) return Status::Ok();
        return LinkedToParticipant(in.context.records, raw, link->target, name, participant);
      }
      for (int i = 0; i < r->FieldSize(body, f); ++i) {
        OUTREACH_RETURN_IF_ERROR(
            LinkedToParticipant(in.context.records, r->GetRepeatedString(body, f, i), link->target, name, participant));
      }
      return Status::Ok();
    }
    case Rule::Kind::kFormat: {
      const std::string& value = text();
      const Message* old = in.before != nullptr ? in.before->body : nullptr;
      std::string old_scratch;
      if (old != nullptr && value == old->GetReflection()->GetStringReference(*old, f, &old_scratch)) {
        return Status::Ok();
      }
      return CheckFormat(rule.format, name, value, in.context.formats);
    }
    case Rule::Kind::kNotBefore: {
      const FieldDescriptor* other = FieldNamed(*body.GetDescriptor(), rule.other_descriptor, rule.other);
      if (other == nullptr) return NoSuchField(in.info, rule.other);
      const std::string& value = text();
      std::string other_scratch;
      const std::string& earlier = r->GetStringReference(body, other, &other_scratch);
      if (!value.empty() && value < earlier) return Status::InvalidArgument(name, WithOther(rule.message, earlier));
      return Status::Ok();
    }
    case Rule::Kind::kNotAfterToday: {
      const std::string& value = text();
      if (DayOf(value) > std::string_view(in.context.today)) {
        return Status::InvalidArgument(name, value + " is in the future (today is " + in.context.today + ")");
      }
      return Status::Ok();
    }
    case Rule::Kind::kInTheJourney: return CheckInTheJourney(rule.journey, in, name, text());
    case Rule::Kind::kRange:
      if (OutOfRange(body, f, rule.min, rule.max)) return Status::InvalidArgument(name, rule.message);
      return Status::Ok();
    case Rule::Kind::kAbsent:
      if (IsSet(body, f)) return Status::InvalidArgument(name, rule.message);
      return Status::Ok();
    case Rule::Kind::kUnchanged: {
      if (in.before == nullptr || in.before->body == nullptr) return Status::Ok();
      if (!SameValue(body, *in.before->body, f)) return Status(rule.code, rule.message, name);
      return Status::Ok();
    }
    case Rule::Kind::kAnyOf:
    case Rule::Kind::kCheck: break;  // handled above
  }
  return Status::Ok();
}

}  // namespace

namespace {

// The text field a format rule names; nullptr for a rule of another kind (or a table
// mistake, which CheckRule reports).
const FieldDescriptor* FormatField(const Rule& rule, const google::protobuf::Descriptor& body) {
  if (rule.kind != Rule::Kind::kFormat) return nullptr;
  const FieldDescriptor* f = FieldNamed(body, rule.field_descriptor, rule.field);
  if (f == nullptr || f->is_repeated() || f->type() != FieldDescriptor::TYPE_STRING) return nullptr;
  return f;
}

}  // namespace

void FormatVerdicts::JudgeChange(const v1::Change& change) {
  if (change.op() != v1::CHANGE_OP_UPSERT) return;
  const RecordRules* rules = FindRecordRules(change.type());
  const RecordTypeInfo* info = FindRecordType(change.type());
  if (rules == nullptr || info == nullptr) return;
  std::unique_ptr<Message> scratch;
  for (const Rule& rule : rules->rules) {
    const FieldDescriptor* f = FormatField(rule, *info->descriptor);
    if (f == nullptr) continue;
    for (const v1::FieldValue& fv : change.fields()) {
      if (fv.field() != static_cast<uint32_t>(f->number())) continue;
      if (scratch == nullptr) scratch = NewRecordBody(change.type());
      // A value that does not decode is refused later, by CheckForms.
      if (!ApplyField(scratch.get(), fv.field(), fv.value()).ok()) continue;
      const std::string value = scratch->GetReflection()->GetString(*scratch, f);
      if (!value.empty()) (void)Normalise(rule.format, f->name(), value);
    }
  }
}

void NormaliseBody(const RecordRules& rules, Message* body, const Message* stored, FormatVerdicts* verdicts) {
  for (const Rule& rule : rules.rules) {
    const FieldDescriptor* f = FormatField(rule, *body->GetDescriptor());
    if (f == nullptr) continue;
    const std::string value = body->GetReflection()->GetString(*body, f);
    if (value.empty() || (stored != nullptr && value == stored->GetReflection()->GetString(*stored, f))) continue;
    Result<std::string> normal = verdicts != nullptr ? verdicts->Normalise(rule.format, f->name(), value)
                                                     : NormaliseFormat(rule.format, f->name(), value);
    if (normal.ok()) body->GetReflection()->SetString(body, f, *normal);  // a malformed one is refused by validation
  }
}

void NormaliseBody(v1::RecordType type, Message* body, const Message* stored, FormatVerdicts* verdicts) {
  if (const RecordRules* rules = FindRecordRules(type)) NormaliseBody(*rules, body, stored, verdicts);
}

std::vector<FormatProblem> FormatProblems(v1::RecordType type, const Message& body) {
  std::vector<FormatProblem> problems;
  const RecordRules* rules = FindRecordRules(type);
  if (rules == nullptr) return problems;
  for (const Rule& rule : rules->rules) {
    const FieldDescriptor* f = FormatField(rule, *body.GetDescriptor());
    if (f == nullptr) continue;
    const std::string value = body.GetReflection()->GetString(body, f);
    Status status = CheckFormat(rule.format, f->name(), value);
    if (!status.ok()) problems.push_back(FormatProblem{f->name(), value, status.message()});
  }
  return problems;
}

void ResolveFields(RecordRules& rules) {
  const RecordTypeInfo* info = FindRecordType(rules.type);
  if (info == nullptr) return;
  auto resolve = [&](const char* name) { return name != nullptr ? info->descriptor->FindFieldByName(name) : nullptr; };
  for (Rule& rule : rules.rules) {
    rule.field_descriptor = resolve(rule.field);
    rule.other_descriptor = resolve(rule.other);
    rule.when_descriptor = resolve(rule.when_field);
  }
}

bool IsPhoneField(const FieldDescriptor& field) {
  static const std::set<const FieldDescriptor*> phone_fields = [] {
    std::set<const FieldDescriptor*> fields;
    for (const RecordRules& rules : AllRecordRules()) {
      const RecordTypeInfo* info = FindRecordType(rules.type);
      if (info == nullptr) continue;
      for (const Rule& rule : rules.rules) {
        const FieldDescriptor* f = FormatField(rule, *info->descriptor);
        if (f != nullptr && rule.format == Format::kPhone) fields.insert(f);
      }
    }
    return fields;
  }();
  return phone_fields.count(&field) != 0;
}

Status ValidateRecordBody(const RecordTypeInfo& info, const RecordRules& rules, const Message& body,
                          const StoredVersion* before, ValidationContext& context) {
  // Who acted is the person the writing device is enrolled for (the server refuses anyone else).
  const Message* old = before != nullptr ? before->body : nullptr;
  for (const FieldDescriptor* field : info.actor_fields) {
    const std::string& value = body.GetReflection()->GetString(body, field);
    if (value.empty() || (old != nullptr && value == old->GetReflection()->GetString(*old, field))) continue;
    const std::string person = context.enrolled_person ? context.enrolled_person() : std::string();
    if (value != person) {
      return Status::InvalidArgument(
          field->name(), "must be the person this device is enrolled for (" + person + "), not '" + value + "'");
    }
  }
  if (!rules.written_on_devices) {
    return Status::FailedPrecondition(std::string(info.name) + " records are not written on a device", "type");
  }
  const CheckInput input{info, body, before, context};
  for (const Rule& rule : rules.rules) {
    if (rule.RunsOn(context.side)) OUTREACH_RETURN_IF_ERROR(CheckRule(rule, input));
  }
  return Status::Ok();
}

Status ValidateRecordBody(v1::RecordType type, const Message& body, const v1::Record* before,
                          ValidationContext& context) {
  const RecordTypeInfo* info = FindRecordType(type);
  const RecordRules* rules = FindRecordRules(type);
  if (info == nullptr || rules == nullptr) {
    return Status::FailedPrecondition(TypeName(type) + " records are not written on a device", "type");
  }
  StoredVersion stored;
  if (before != nullptr) stored = StoredVersion{before->id(), RecordBody(*before)};
  return ValidateRecordBody(*info, *rules, body, before != nullptr ? &stored : nullptr, context);
}

}  // namespace outreach::validation
