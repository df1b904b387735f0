#include "outreach/device.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "client/journey/dates.h"
#include "client/journey/device_internals.h"
#include "client/journey/store_lookup.h"
#include "common/field_value.h"
#include "common/record_registry.h"
#include "common/reference.h"
#include "common/validation/forms.h"
#include "common/validation/record_rules.h"
#include "common/validation/transitions.h"

namespace outreach {

using client::DeviceIdentity;
using client::LocalStore;
using client::RecordEdit;
using google::protobuf::Message;
using journey::ParseDate;
using validation::CheckForms;
using validation::Required;

namespace {

v1::Record MakeRecord(const Uuid& id, v1::RecordType type, const Message& body) {
  v1::Record r;
  r.set_id(id.raw());
  r.set_type(type);
  MutableRecordBody(&r)->CopyFrom(body);
  return r;
}

std::string TypeName(int type) {
  return validation::TypeName(type);
}

// The record named by an id field, which must hold a live record of `type`.
Result<v1::Record> Linked(LocalStore& store, const std::string& raw, v1::RecordType type, const char* field) {
  journey::StoreLookup records(store);
  return validation::LinkedRecord(records, raw, type, field);
}

int DaysBetween(const std::string& from, const std::string& to) {
  auto a = ParseDate(from.substr(0, 10));
  auto b = ParseDate(to.substr(0, 10));
  if (!a || !b) return 0;
  return static_cast<int>(journey::DaysFromCivil(*b) - journey::DaysFromCivil(*a));
}

std::string MonthAfter(const std::string& day) {
  auto d = ParseDate(day);
  return d ? journey::FormatDate(journey::AddMonths(*d, 1)) : std::string();
}

}  // namespace

// ---------------------------------------------------------------- validation per type

namespace {

// The enrolled role, or unspecified before enrolment (a device captures as an adviser).
Result<v1::Role> RoleOf(LocalStore& store) {
  Result<std::optional<DeviceIdentity>> id = store.LoadIdentity();
  if (!id.ok()) return id.status();
  return id->has_value() ? (*id)->role : v1::ROLE_UNSPECIFIED;
}

// The record type's rules (common/validation/rules_table.cc), reading the device's
// records; `before` is the stored record for an update. Runs after CheckForms, so every
// present date, instant, id and enum is well formed. `formats` holds the verdicts
// NormaliseBody reached.
Status ValidateBody(Device& device, v1::RecordType type, const Message& body, const v1::Record* before,
                    validation::FormatVerdicts& formats) {
  journey::StoreLookup records(StoreOf(device));
  Result<v1::Role> role = RoleOf(StoreOf(device));
  if (!role.ok()) return role.status();
  validation::ValidationContext context{records, device.Today(), [&device] { return device.user_name(); }, *role};
  context.formats = &formats;
  return validation::ValidateRecordBody(type, body, before, context);
}

// The registry's steps and kept history (common/validation/transitions.h) for a write by
// this device; `before` is the stored body for an update.
Status CheckStateChange(Device& device, const RecordTypeInfo& info, const Message* before, const Message& after) {
  Result<v1::Role> role = RoleOf(StoreOf(device));
  if (!role.ok()) return role.status();
  validation::StepWriter writer;
  writer.role = *role;
  writer.person = device.user_name();
  writer.participant_adviser = [&]() -> Result<std::string> {
    Result<v1::Record> person = Linked(StoreOf(device), after.GetReflection()->GetString(after, info.participant_field),
                                       v1::RECORD_TYPE_PARTICIPANT, "participant_id");
    if (!person.ok()) return person.status();
    return person->participant().adviser();
  };
  return validation::CheckStateChange(info, before, after, writer);
}

// Sets the field that records who takes the step from `from` to `to` of `body`'s state
// machine (the registry's StateStep::actor) to `person`.
void RecordWhoMoves(v1::RecordType type, int from, int to, Message* body, const std::string& person) {
  const StateStep* step = FindRecordType(type)->FindStep(from, to);
  if (step != nullptr && step->actor != nullptr) body->GetReflection()->SetString(body, step->actor, person);
}

// Appends to a validation file's kept history the move to its current status.
void AddMove(v1::Validation* file, v1::ValidationStatus from, const std::string& person, const std::string& at) {
  v1::ValidationMove* move = file->add_moves();
  move->set_from_status(from);
  move->set_to_status(file->status());
  move->set_moved_by(person);
  move->set_moved_at(at);
  move->mutable_reasons()->CopyFrom(file->rejection_reasons());
  move->set_note(file->note());
  move->set_rules_version(file->rules_version());
}

}  // namespace

// ---------------------------------------------------------------- open, identity, time

Device::Device(const DeviceOptions& options, std::unique_ptr<LocalStore> store)
    : options_(options), store_(std::move(store)) {}

Device::~Device() = default;

Result<std::unique_ptr<Device>> Device::Open(const DeviceOptions& options) {
  client::StoreOptions so;
  so.path = options.path;
  so.clock = options.clock;
  so.user_name = options.user_name;
  Result<std::unique_ptr<LocalStore>> store = LocalStore::Open(so);
  if (!store.ok()) return store.status();
  return std::unique_ptr<Device>(new Device(options, std::move(store).value()));
}

Uuid Device::device_id() {
  return store_->device_id();
}

std::string Device::user_name() {
  Result<std::optional<DeviceIdentity>> id = store_->LoadIdentity();
  if (id.ok() && id->has_value()) return (*id)->user_name;
  return options_.user_name;
}

std::string Device::Today() {
  // The hub's zone comes with its Hub record, pulled like any other (a device not yet
  // enrolled, or not yet synced, holds none: Europe/London, the default).
  const int64_t now = store_->clock().PhysicalNow();
  Result<std::string> today = LocalDateOfMillis(now, store_->hub_time_zone());
  // A zone this device's time zone database lacks: the default zone's date.
  return today.ok() ? *today : *LocalDateOfMillis(now, kDefaultTimeZone);
}

// ---------------------------------------------------------------- generic create / update

namespace {

std::string Now(Device& device) {
  return journey::InstantOfMillis(StoreOf(device).clock().PhysicalNow());
}

// A kiosk writes only attendance (its own marks) and enquiries; the server enforces the
// same, this refuses early with a clear reason instead of a rejected change later.
Status CheckRoleMayWrite(LocalStore& store, v1::RecordType type, const Message& body) {
  Result<v1::Role> role = RoleOf(store);
  if (!role.ok()) return role.status();
  if (*role != v1::ROLE_KIOSK) return Status::Ok();
  if (type == v1::RECORD_TYPE_ENQUIRY) return Status::Ok();
  if (type == v1::RECORD_TYPE_ATTENDANCE) {
    if (static_cast<const v1::Attendance&>(body).marked_by() == v1::MARKED_BY_KIOSK) return Status::Ok();
    return Status(ErrorCode::kPermissionDenied, "a kiosk marks attendance as the kiosk", "marked_by");
  }
  return Status(ErrorCode::kPermissionDenied, "a kiosk cannot write " + TypeName(type) + " records", "type");
}

Result<v1::Record> CommitOne(LocalStore& store, v1::Record record) {
  Result<std::vector<v1::Record>> out = store.Commit({RecordEdit{std::move(record), v1::CHANGE_OP_UPSERT}});
  if (!out.ok()) return out.status();
  return std::move(out->front());
}

// Validates a new record (defaults already filled in) and returns the edit for it.
Result<v1::Record> PrepareCreate(Device& device, v1::RecordType type, Message& body, const Uuid& id) {
  const RecordTypeInfo* info = FindRecordType(type);
  OUTREACH_RETURN_IF_ERROR(CheckRoleMayWrite(StoreOf(device), type, body));
  validation::FormatVerdicts formats;
  validation::NormaliseBody(type, &body, nullptr, &formats);  // a malformed value is refused by validation
  OUTREACH_RETURN_IF_ERROR(CheckForms(body));
  OUTREACH_RETURN_IF_ERROR(CheckStateChange(device, *info, nullptr, body));
  OUTREACH_RETURN_IF_ERROR(ValidateBody(device, type, body, nullptr, formats));
  return MakeRecord(id, type, body);
}

Result<v1::Record> Create(Device& device, v1::RecordType type, Message& body) {
  Result<v1::Record> record = PrepareCreate(device, type, body, Uuid::NewV7());
  if (!record.ok()) return record.status();
  return CommitOne(StoreOf(device), std::move(record).value());
}

Result<v1::Record> LiveRecord(LocalStore& store, const Uuid& id, const char* field) {
  Result<std::optional<v1::Record>> rec = store.Get(id);
  if (!rec.ok()) return rec.status();
  if (!rec->has_value() || (*rec)->deleted()) return Status::NotFound("no record with id " + id.ToString(), field);
  if ((*rec)->erased()) return Status::FailedPrecondition("record " + id.ToString() + " was erased", field);
  return std::move(**rec);
}

// Validates `body` as the new state of `current` and returns the record to commit.
Result<v1::Record> PrepareUpdate(Device& device, const v1::Record& current, const Message& body) {
  const RecordTypeInfo* info = FindRecordType(current.type());
  if (info == nullptr) return Status::FailedPrecondition("this build does not know the record's type", "type");
  if (body.GetDescriptor() != info->descriptor) {
    return Status::InvalidArgument(
        "body", "is a " + body.GetDescriptor()->name() + "; the record is a " + std::string(info->name));
  }
  if (info->policy == MergePolicy::kAppendOnly) {
    return Status::FailedPrecondition(
        std::string(info->name) + " records are append-only: add a new one that supersedes it", "id");
  }
  OUTREACH_RETURN_IF_ERROR(CheckRoleMayWrite(StoreOf(device), current.type(), body));
  std::unique_ptr<Message> next(body.New());
  next->CopyFrom(body);
  const Message& old = *RecordBody(current);
  validation::FormatVerdicts formats;
  validation::NormaliseBody(current.type(), next.get(), &old, &formats);
  OUTREACH_RETURN_IF_ERROR(validation::KeepsItsParticipant(*info, old, *next));
  OUTREACH_RETURN_IF_ERROR(CheckForms(*next));
  OUTREACH_RETURN_IF_ERROR(CheckStateChange(device, *info, &old, *next));
  OUTREACH_RETURN_IF_ERROR(ValidateBody(device, current.type(), *next, &current, formats));
  v1::Record out = current;
  MutableRecordBody(&out)->CopyFrom(*next);
  return out;
}

}  // namespace

Result<v1::Record> Device::Get(const Uuid& id) {
  Result<std::optional<v1::Record>> rec = store_->Get(id);
  if (!rec.ok()) return rec.status();
  if (!rec->has_value()) return Status::NotFound("no record with id " + id.ToString(), "id");
  return std::move(**rec);
}

Result<v1::Record> Device::Update(const Uuid& id, const Message& body) {
  Result<v1::Record> current = LiveRecord(*store_, id, "id");
  if (!current.ok()) return current.status();
  Result<v1::Record> next = PrepareUpdate(*this, *current, body);
  if (!next.ok()) return next.status();
  return CommitOne(*store_, std::move(next).value());
}

Result<v1::Record> Device::Delete(const Uuid& id) {
  Result<v1::Record> current = LiveRecord(*store_, id, "id");
  if (!current.ok()) return current.status();
  const RecordTypeInfo* info = FindRecordType(current->type());
  if (info == nullptr || info->policy == MergePolicy::kAppendOnly) {
    return Status::FailedPrecondition(TypeName(current->type()) + " records are append-only and cannot be deleted",
                                      "id");
  }
  if (current->type() == v1::RECORD_TYPE_PARTICIPANT) {
    return Status::FailedPrecondition("a participant is exited, not deleted", "id");
  }
  OUTREACH_RETURN_IF_ERROR(CheckRoleMayWrite(*store_, current->type(), *RecordBody(*current)));
  Result<std::vector<v1::Record>> out = store_->Commit({RecordEdit{*current, v1::CHANGE_OP_DELETE}});
  if (!out.ok()) return out.status();
  return std::move(out->front());
}

// ---------------------------------------------------------------- the journey

// Kept in step with the operations below: each fills these when empty, and no others (a
// plan's agreement and a step's completion only in the states that need them).
const std::set<std::string>& Device::FilledWhenEmpty(v1::RecordType type) {
  static const std::map<v1::RecordType, std::set<std::string>> filled = {
      {v1::RECORD_TYPE_PARTICIPANT, {"reference", "status", "registered_on", "adviser"}},
      {v1::RECORD_TYPE_ENQUIRY, {"source", "received_at"}},
      {v1::RECORD_TYPE_CONSENT, {"given_on"}},
      {v1::RECORD_TYPE_EVIDENCE_ITEM, {"captured_on"}},
      {v1::RECORD_TYPE_VALIDATION, {"status", "status_changed_on", "rules_version"}},  // the programme's
      {v1::RECORD_TYPE_BARRIER, {"status", "identified_on"}},
      {v1::RECORD_TYPE_SEGMENT, {"set_on"}},
      {v1::RECORD_TYPE_ASSESSMENT, {"instrument_version", "completed_on", "assessor"}},
      {v1::RECORD_TYPE_ACTION_PLAN, {"status", "started_on", "agreed_on", "agreed_by"}},
      {v1::RECORD_TYPE_ACTION_STEP, {"status", "participant_id", "completed_on"}},
      {v1::RECORD_TYPE_SESSION, {"duration_min", "status", "facilitator"}},
      {v1::RECORD_TYPE_BOOKING, {"status", "booked_on"}},
      {v1::RECORD_TYPE_ATTENDANCE, {"marked_by", "marked_at"}},
      {v1::RECORD_TYPE_CONTACT_ATTEMPT, {"attempted_at"}},
      {v1::RECORD_TYPE_REFERRAL, {"status", "made_on"}},
      {v1::RECORD_TYPE_SUPPORT_SPEND, {"status", "requested_on"}},
      {v1::RECORD_TYPE_OUTCOME, {"status", "achieved_on"}},
      {v1::RECORD_TYPE_CASE_NOTE, {"sensitivity", "written_at", "author"}},
      {v1::RECORD_TYPE_EXIT, {"exited_on"}},
  };
  static const std::set<std::string> none;
  auto it = filled.find(type);
  return it == filled.end() ? none : it->second;
}

namespace {

// A new participant with the registration's defaults, validated.
Result<v1::Record> PrepareRegistration(Device& device, v1::Participant& participant) {
  participant.set_reference("");  // minted in the commit's transaction
  participant.set_status(v1::PARTICIPANT_STATUS_ACTIVE);
  if (participant.registered_on().empty()) participant.set_registered_on(device.Today());
  if (participant.adviser().empty()) participant.set_adviser(device.user_name());
  return PrepareCreate(device, v1::RECORD_TYPE_PARTICIPANT, participant, Uuid::NewV7());
}

void FillIfEmpty(std::string* field, const std::string& from) {
  if (field->empty()) *field = from;
}

}  // namespace

Result<v1::Record> Device::RegisterParticipant(v1::Participant participant) {
  Result<v1::Record> record = PrepareRegistration(*this, participant);
  if (!record.ok()) return record.status();
  Result<std::vector<v1::Record>> out = store_->CommitNewParticipant({RecordEdit{std::move(record).value()}});
  if (!out.ok()) return out.status();
  return std::move(out->front());
}

Result<v1::Record> Device::RegisterFromEnquiry(const Uuid& enquiry_id, v1::Participant participant) {
  Result<v1::Record> enquiry = Linked(*store_, enquiry_id.raw(), v1::RECORD_TYPE_ENQUIRY, "enquiry_id");
  if (!enquiry.ok()) return enquiry.status();
  const v1::Enquiry& e = enquiry->enquiry();
  if (!e.participant_id().empty()) {
    return Status::FailedPrecondition(
        "the enquiry was already registered as participant " + Uuid::FromBytes(e.participant_id())->ToString(),
        "enquiry_id");
  }
  FillIfEmpty(participant.mutable_given_name(), e.given_name());
  FillIfEmpty(participant.mutable_family_name(), e.family_name());
  FillIfEmpty(participant.mutable_phone(), e.phone());
  FillIfEmpty(participant.mutable_email(), e.email());
  FillIfEmpty(participant.mutable_venue_id(), e.venue_id());
  FillIfEmpty(participant.mutable_referral_date(), e.received_at().substr(0, 10));
  if (participant.referral_source() == v1::REFERRAL_SOURCE_UNSPECIFIED) participant.set_referral_source(e.source());
  Result<v1::Record> registration = PrepareRegistration(*this, participant);
  if (!registration.ok()) return registration.status();
  // The enquiry is validated as it stands; its new link names the registration committed
  // with it, which was validated above.
  Result<v1::Record> linked = PrepareUpdate(*this, *enquiry, e);
  if (!linked.ok()) return linked.status();
  linked->mutable_enquiry()->set_participant_id(registration->id());
  Result<std::vector<v1::Record>> out = store_->CommitNewParticipant(
      {RecordEdit{std::move(registration).value()}, RecordEdit{std::move(linked).value()}});
  if (!out.ok()) return out.status();
  return std::move(out->front());
}

Result<v1::Record> Device::UpdateParticipant(const Uuid& id, const v1::Participant& participant) {
  return Update(id, participant);
}

Result<v1::Record> Device::RecordEnquiry(v1::Enquiry enquiry) {
  if (enquiry.source() == v1::REFERRAL_SOURCE_UNSPECIFIED) enquiry.set_source(v1::REFERRAL_SOURCE_SELF);
  if (enquiry.received_at().empty()) enquiry.set_received_at(Now(*this));
  return Create(*this, v1::RECORD_TYPE_ENQUIRY, enquiry);
}

Result<v1::Record> Device::RecordConsent(v1::Consent consent) {
  if (consent.given_on().empty()) consent.set_given_on(Today());
  return Create(*this, v1::RECORD_TYPE_CONSENT, consent);
}

Result<v1::Record> Device::WithdrawConsent(const Uuid& consent_id, std::string withdrawn_on) {
  Result<v1::Record> current = Linked(*store_, consent_id.raw(), v1::RECORD_TYPE_CONSENT, "consent_id");
  if (!current.ok()) return current.status();
  v1::Consent c = current->consent();
  if (!c.withdrawn_on().empty()) {
    return Status::FailedPrecondition("the consent was already withdrawn on " + c.withdrawn_on(), "withdrawn_on");
  }
  c.set_withdrawn_on(withdrawn_on.empty() ? Today() : withdrawn_on);
  return Update(consent_id, c);
}

Result<v1::Record> Device::AddEvidence(v1::EvidenceItem evidence) {
  if (evidence.captured_on().empty()) evidence.set_captured_on(Today());
  return Create(*this, v1::RECORD_TYPE_EVIDENCE_ITEM, evidence);
}

Result<v1::Record> Device::OpenValidation(v1::Validation validation) {
  if (validation.rules_version().empty()) {
    // The eligibility rules the hub's programme has in force, if it says.
    Result<v1::Record> programme = Programme();
    if (programme.ok()) validation.set_rules_version(programme->programme().rules_version());
  }
  if (validation.status() == v1::VALIDATION_STATUS_UNSPECIFIED) validation.set_status(v1::VALIDATION_STATUS_DRAFT);
  if (validation.status_changed_on().empty()) validation.set_status_changed_on(Today());
  RecordWhoMoves(v1::RECORD_TYPE_VALIDATION, 0, validation.status(), &validation, user_name());
  if (validation.moves().empty()) AddMove(&validation, v1::VALIDATION_STATUS_UNSPECIFIED, user_name(), Now(*this));
  return Create(*this, v1::RECORD_TYPE_VALIDATION, validation);
}

Result<v1::Record> Device::MoveValidation(const Uuid& validation_id, v1::ValidationStatus to,
                                          std::vector<v1::ValidationRejectionReason> reasons, std::string note) {
  Result<v1::Record> current = Linked(*store_, validation_id.raw(), v1::RECORD_TYPE_VALIDATION, "validation_id");
  if (!current.ok()) return current.status();
  v1::Validation v = current->validation();
  const v1::ValidationStatus from = v.status();
  v.set_status(to);
  v.set_status_changed_on(Today());
  v.clear_rejection_reasons();
  for (auto r : reasons) v.add_rejection_reasons(r);
  if (!note.empty()) v.set_note(note);
  RecordWhoMoves(v1::RECORD_TYPE_VALIDATION, from, to, &v, user_name());
  if (from != to) AddMove(&v, from, user_name(), Now(*this));
  return Update(validation_id, v);
}

Result<std::vector<StoredFormatProblem>> Device::StoredFormatProblems() {
  std::vector<StoredFormatProblem> problems;
  for (const validation::RecordRules& rules : validation::AllRecordRules()) {
    if (std::none_of(rules.rules.begin(), rules.rules.end(),
                     [](const validation::Rule& r) { return r.kind == validation::Rule::Kind::kFormat; })) {
      continue;
    }
    Result<std::vector<v1::Record>> records = store_->RecordsOfType(rules.type);
    if (!records.ok()) return records.status();
    for (const v1::Record& r : *records) {
      const google::protobuf::Message* body = RecordBody(r);
      if (body == nullptr) continue;
      for (validation::FormatProblem& p : validation::FormatProblems(rules.type, *body)) {
        problems.push_back(StoredFormatProblem{*Uuid::FromBytes(r.id()), rules.type, std::move(p.field),
                                               std::move(p.value), std::move(p.problem)});
      }
    }
  }
  return problems;
}

Result<std::vector<Warning>> Device::CheckBeforeSubmission(const Uuid& participant_id) {
  Result<v1::Record> participant = Linked(*store_, participant_id.raw(), v1::RECORD_TYPE_PARTICIPANT, "participant_id");
  if (!participant.ok()) return participant.status();
  std::vector<Warning> warnings;

  // Documents: those listed on the latest validation file, else every evidence item.
  Result<std::vector<v1::Record>> evidence = store_->ParticipantRecords(participant_id, v1::RECORD_TYPE_EVIDENCE_ITEM);
  Result<std::vector<v1::Record>> files = store_->ParticipantRecords(participant_id, v1::RECORD_TYPE_VALIDATION);
  if (!evidence.ok()) return evidence.status();
  if (!files.ok()) return files.status();
  std::vector<v1::EvidenceKind> kinds;
  const v1::Validation* file = files->empty() ? nullptr : &files->back().validation();
  for (const v1::Record& r : *evidence) {
    if (file != nullptr && !file->evidence_ids().empty() &&
        std::find(file->evidence_ids().begin(), file->evidence_ids().end(), r.id()) == file->evidence_ids().end()) {
      continue;
    }
    kinds.push_back(r.evidence_item().kind());
  }
  auto has = [&](std::initializer_list<v1::EvidenceKind> any) {
    return std::any_of(any.begin(), any.end(),
                       [&](v1::EvidenceKind k) { return std::find(kinds.begin(), kinds.end(), k) != kinds.end(); });
  };
  if (!has({v1::EVIDENCE_KIND_NI_PROOF})) {
    warnings.push_back({"missing_ni_proof", "evidence_ids", "the file has no proof of National Insurance number"});
  }
  if (!has({v1::EVIDENCE_KIND_RIGHT_TO_WORK, v1::EVIDENCE_KIND_PASSPORT})) {
    warnings.push_back({"missing_right_to_work", "evidence_ids", "the file has no proof of the right to work"});
  }

  // The same NI number on another participant held here: likely the same person.
  const std::string& ni = participant->participant().ni_number();
  if (!ni.empty()) {
    Result<std::vector<v1::Record>> same = store_->ParticipantsWithNiNumber(ni, participant_id);
    if (!same.ok()) return same.status();
    for (const v1::Record& r : *same) {
      warnings.push_back({"possible_duplicate", "ni_number",
                          "participant " + r.participant().reference() + " has the same NI number"});
    }
  }

  // Action plan agreed within one month of the start.
  Result<std::vector<v1::Record>> plans = store_->ParticipantRecords(participant_id, v1::RECORD_TYPE_ACTION_PLAN);
  if (!plans.ok()) return plans.status();
  std::string start = participant->participant().registered_on();
  bool agreed_in_time = false;
  for (const v1::Record& r : *plans) {
    const v1::ActionPlan& p = r.action_plan();
    if (!p.started_on().empty()) start = std::min(start, p.started_on());
  }
  const std::string deadline = MonthAfter(start);
  for (const v1::Record& r : *plans) {
    const v1::ActionPlan& p = r.action_plan();
    if (p.status() != v1::PLAN_STATUS_DRAFT && !p.agreed_on().empty() && p.agreed_on() <= deadline) {
      agreed_in_time = true;
    }
  }
  if (!agreed_in_time && Today() > deadline) {
    warnings.push_back(
        {"action_plan_not_agreed_within_one_month", "action_plan",
         "no action plan was agreed within one month of the start (" + start + "; due by " + deadline + ")"});
  }
  return warnings;
}

Result<v1::Record> Device::RecordBarrier(v1::Barrier barrier) {
  if (barrier.status() == v1::BARRIER_STATUS_UNSPECIFIED) barrier.set_status(v1::BARRIER_STATUS_IDENTIFIED);
  if (barrier.identified_on().empty()) barrier.set_identified_on(Today());
  return Create(*this, v1::RECORD_TYPE_BARRIER, barrier);
}

Result<v1::Record> Device::SetSegment(v1::Segment segment) {
  if (segment.set_on().empty()) segment.set_set_on(Today());
  return Create(*this, v1::RECORD_TYPE_SEGMENT, segment);
}

Result<v1::Record> Device::RecordAssessment(v1::Assessment assessment) {
  if (assessment.completed_on().empty()) assessment.set_completed_on(Today());
  if (assessment.assessor().empty()) assessment.set_assessor(user_name());
  if (assessment.instrument_version() == 0 && !assessment.instrument_id().empty()) {
    // The newest version of the instrument held that is not retired.
    Result<std::vector<v1::Record>> instruments = store_->RecordsOfType(v1::RECORD_TYPE_INSTRUMENT);
    if (!instruments.ok()) return instruments.status();
    for (const v1::Record& r : *instruments) {
      const v1::Instrument& i = r.instrument();
      if (i.instrument_id() == assessment.instrument_id() && !i.retired() &&
          i.version() > assessment.instrument_version()) {
        assessment.set_instrument_version(i.version());
      }
    }
  }
  return Create(*this, v1::RECORD_TYPE_ASSESSMENT, assessment);
}

Result<DistanceTravelled> Device::ComputeDistanceTravelled(const Uuid& participant_id,
                                                           const std::string& instrument_id) {
  OUTREACH_RETURN_IF_ERROR(
      Linked(*store_, participant_id.raw(), v1::RECORD_TYPE_PARTICIPANT, "participant_id").status());
  Result<std::vector<v1::Record>> all = store_->ParticipantRecords(participant_id, v1::RECORD_TYPE_ASSESSMENT);
  if (!all.ok()) return all.status();
  std::vector<const v1::Record*> done;
  for (const v1::Record& r : *all) {
    if (r.assessment().instrument_id() == instrument_id) done.push_back(&r);
  }
  if (done.empty()) {
    return Status::NotFound("the participant has no '" + instrument_id + "' assessment", "instrument_id");
  }
  // Ordered by completion date; creation order breaks ties.
  std::stable_sort(done.begin(), done.end(), [](const v1::Record* a, const v1::Record* b) {
    return a->assessment().completed_on() < b->assessment().completed_on();
  });
  // Only completions of one version are compared (a new version may change its domains
  // or scale): the latest, against the first of its version.
  const uint32_t version = done.back()->assessment().instrument_version();
  std::erase_if(done, [&](const v1::Record* r) { return r->assessment().instrument_version() != version; });
  if (done.size() == 1 && all->size() > 1) {
    for (const v1::Record& r : *all) {
      if (r.assessment().instrument_id() == instrument_id && r.assessment().instrument_version() != version) {
        return Status::FailedPrecondition("the latest '" + instrument_id + "' completion is of version " +
                                              std::to_string(version) + ", the first of that version: it is not " +
                                              "compared with completions of version " +
                                              std::to_string(r.assessment().instrument_version()),
                                          "instrument_id");
      }
    }
  }
  const v1::Assessment& base = done.front()->assessment();
  const v1::Assessment& last = done.back()->assessment();
  DistanceTravelled out;
  out.instrument_id = instrument_id;
  out.baseline_id = *Uuid::FromBytes(done.front()->id());
  out.latest_id = *Uuid::FromBytes(done.back()->id());
  out.baseline_on = base.completed_on();
  out.latest_on = last.completed_on();
  for (const v1::DomainScore& b : base.scores()) {
    auto l = std::find_if(last.scores().begin(), last.scores().end(),
                          [&](const v1::DomainScore& s) { return s.domain() == b.domain(); });
    if (l == last.scores().end()) continue;
    out.domains.push_back({b.domain(), b.score(), l->score(), l->score() - b.score()});
    out.total_baseline += b.score();
    out.total_latest += l->score();
  }
  out.total_change = out.total_latest - out.total_baseline;
  return out;
}

Result<v1::Record> Device::CreateActionPlan(v1::ActionPlan plan) {
  if (plan.status() == v1::PLAN_STATUS_UNSPECIFIED) plan.set_status(v1::PLAN_STATUS_DRAFT);
  if (plan.started_on().empty()) {
    Result<v1::Record> p = Linked(*store_, plan.participant_id(), v1::RECORD_TYPE_PARTICIPANT, "participant_id");
    if (!p.ok()) return p.status();
    plan.set_started_on(p->participant().registered_on());
  }
  if (plan.status() != v1::PLAN_STATUS_DRAFT) {
    if (plan.agreed_on().empty()) plan.set_agreed_on(Today());
    if (plan.agreed_by().empty()) plan.set_agreed_by(user_name());
  }
  return Create(*this, v1::RECORD_TYPE_ACTION_PLAN, plan);
}

Result<v1::Record> Device::AddActionStep(v1::ActionStep step) {
  if (step.status() == v1::STEP_STATUS_UNSPECIFIED) step.set_status(v1::STEP_STATUS_OPEN);
  if (step.participant_id().empty()) {
    Result<v1::Record> plan = Linked(*store_, step.plan_id(), v1::RECORD_TYPE_ACTION_PLAN, "plan_id");
    if (!plan.ok()) return plan.status();
    step.set_participant_id(plan->action_plan().participant_id());
  }
  if (step.status() == v1::STEP_STATUS_DONE && step.completed_on().empty()) step.set_completed_on(Today());
  return Create(*this, v1::RECORD_TYPE_ACTION_STEP, step);
}

Result<v1::Record> Device::CreateSession(v1::Session session) {
  if (session.duration_min() == 0) session.set_duration_min(60);
  if (session.status() == v1::SESSION_STATUS_UNSPECIFIED) session.set_status(v1::SESSION_STATUS_SCHEDULED);
  if (session.facilitator().empty()) session.set_facilitator(user_name());
  return Create(*this, v1::RECORD_TYPE_SESSION, session);
}

Result<v1::Record> Device::BookSession(v1::Booking booking) {
  if (booking.status() == v1::BOOKING_STATUS_UNSPECIFIED) booking.set_status(v1::BOOKING_STATUS_BOOKED);
  if (booking.booked_on().empty()) booking.set_booked_on(Today());
  return Create(*this, v1::RECORD_TYPE_BOOKING, booking);
}

Result<v1::Record> Device::MarkAttendance(v1::Attendance attendance) {
  if (attendance.marked_by() == v1::MARKED_BY_UNSPECIFIED) {
    Result<v1::Role> role = RoleOf(*store_);
    if (!role.ok()) return role.status();
    attendance.set_marked_by(*role == v1::ROLE_KIOSK ? v1::MARKED_BY_KIOSK : v1::MARKED_BY_ADVISER);
  }
  if (attendance.marked_at().empty()) attendance.set_marked_at(Now(*this));
  if (attendance.session_id().size() != Uuid::kSize) {
    return Status::InvalidArgument("session_id",
                                   attendance.session_id().empty() ? "is required" : "is not a record id");
  }
  if (attendance.participant_id().size() != Uuid::kSize) {
    return Status::InvalidArgument("participant_id",
                                   attendance.participant_id().empty() ? "is required" : "is not a record id");
  }
  // A keyed register: one row per (session, participant), the same id on every device.
  const Uuid id = Uuid::DeriveRegisterRow("attendance", attendance.session_id(), attendance.participant_id());
  Result<std::optional<v1::Record>> existing = store_->Get(id);
  if (!existing.ok()) return existing.status();
  if (existing->has_value() && !(*existing)->deleted()) {
    // The row keeps its earlier marks; a re-mark adds the one it replaces.
    const v1::Attendance& held = (*existing)->attendance();
    attendance.mutable_earlier_marks()->CopyFrom(held.earlier_marks());
    if (held.status() != attendance.status() || held.reason() != attendance.reason() ||
        held.reason_note() != attendance.reason_note()) {
      v1::AttendanceMark* mark = attendance.add_earlier_marks();
      mark->set_status(held.status());
      mark->set_reason(held.reason());
      mark->set_reason_note(held.reason_note());
      mark->set_marked_by(held.marked_by());
      mark->set_marked_at(held.marked_at());
    }
    Result<v1::Record> next = PrepareUpdate(*this, **existing, attendance);
    if (!next.ok()) return next.status();
    return CommitOne(*store_, std::move(next).value());
  }
  Result<v1::Record> record = PrepareCreate(*this, v1::RECORD_TYPE_ATTENDANCE, attendance, id);
  if (!record.ok()) return record.status();
  return CommitOne(*store_, std::move(record).value());
}

Result<v1::Record> Device::SignInByReference(const Uuid& session_id, std::string_view reference) {
  Result<ReferenceNumber> ref = ReferenceNumber::Parse(reference);
  if (!ref.ok()) return ref.status();
  Result<std::optional<v1::Record>> person = store_->FindParticipantByReference(ref->ToString());
  if (!person.ok()) return person.status();
  if (!person->has_value()) {
    return Status::NotFound("nobody with reference " + ref->ToString() + " on this device", "reference");
  }
  const Uuid id = Uuid::DeriveRegisterRow("attendance", session_id.raw(), (*person)->id());
  Result<std::optional<v1::Record>> existing = store_->Get(id);
  if (!existing.ok()) return existing.status();
  // Already marked by an adviser: their mark outranks a kiosk's, so it stands.
  if (existing->has_value() && (*existing)->attendance().marked_by() == v1::MARKED_BY_ADVISER) return **existing;
  v1::Attendance a;
  a.set_session_id(session_id.raw());
  a.set_participant_id((*person)->id());
  a.set_status(v1::ATTENDANCE_STATUS_ATTENDED);
  a.set_marked_by(v1::MARKED_BY_KIOSK);
  return MarkAttendance(a);
}

Result<v1::Record> Device::LogContact(v1::ContactAttempt attempt) {
  if (attempt.attempted_at().empty()) attempt.set_attempted_at(Now(*this));
  return Create(*this, v1::RECORD_TYPE_CONTACT_ATTEMPT, attempt);
}

Result<v1::Record> Device::MakeReferral(v1::Referral referral) {
  if (referral.status() == v1::REFERRAL_STATUS_UNSPECIFIED) referral.set_status(v1::REFERRAL_STATUS_MADE);
  if (referral.made_on().empty()) referral.set_made_on(Today());
  return Create(*this, v1::RECORD_TYPE_REFERRAL, referral);
}

Result<v1::Record> Device::MoveReferral(const Uuid& referral_id, v1::ReferralStatus to, std::string detail) {
  Result<v1::Record> current = Linked(*store_, referral_id.raw(), v1::RECORD_TYPE_REFERRAL, "referral_id");
  if (!current.ok()) return current.status();
  v1::Referral r = current->referral();
  r.set_status(to);
  if (to == v1::REFERRAL_STATUS_REJECTED) r.set_rejection_reason(detail);
  if (to == v1::REFERRAL_STATUS_FIRST_APPOINTMENT) r.set_first_appointment_on(detail.empty() ? Today() : detail);
  if (to == v1::REFERRAL_STATUS_COMPLETED && !detail.empty()) r.set_feedback(detail);
  return Update(referral_id, r);
}

Result<v1::Record> Device::RequestSpend(v1::SupportSpend spend) {
  if (spend.status() == v1::SPEND_STATUS_UNSPECIFIED) spend.set_status(v1::SPEND_STATUS_REQUESTED);
  if (spend.requested_on().empty()) spend.set_requested_on(Today());
  if (spend.requested_by().empty()) spend.set_requested_by(user_name());
  return Create(*this, v1::RECORD_TYPE_SUPPORT_SPEND, spend);
}

Result<v1::Record> Device::DecideSpend(const Uuid& spend_id, v1::SpendStatus to, std::string decided_by,
                                       std::string refusal_reason) {
  Result<v1::Record> current = Linked(*store_, spend_id.raw(), v1::RECORD_TYPE_SUPPORT_SPEND, "spend_id");
  if (!current.ok()) return current.status();
  v1::SupportSpend s = current->support_spend();
  const v1::SpendStatus from = s.status();
  s.set_status(to);
  RecordWhoMoves(v1::RECORD_TYPE_SUPPORT_SPEND, from, to, &s, decided_by.empty() ? user_name() : decided_by);
  if (to == v1::SPEND_STATUS_REFUSED) s.set_refusal_reason(refusal_reason);
  return Update(spend_id, s);
}

Result<v1::Record> Device::RecordOutcome(v1::Outcome outcome) {
  if (outcome.status() == v1::OUTCOME_STATUS_UNSPECIFIED) outcome.set_status(v1::OUTCOME_STATUS_REPORTED);
  if (outcome.achieved_on().empty()) outcome.set_achieved_on(Today());
  if (outcome.reported_by().empty()) outcome.set_reported_by(user_name());
  return Create(*this, v1::RECORD_TYPE_OUTCOME, outcome);
}

Result<v1::Record> Device::MoveOutcome(const Uuid& outcome_id, v1::OutcomeStatus to, std::string detail) {
  Result<v1::Record> current = Linked(*store_, outcome_id.raw(), v1::RECORD_TYPE_OUTCOME, "outcome_id");
  if (!current.ok()) return current.status();
  v1::Outcome o = current->outcome();
  RecordWhoMoves(v1::RECORD_TYPE_OUTCOME, o.status(), to, &o, user_name());
  o.set_status(to);
  if (to == v1::OUTCOME_STATUS_REJECTED) o.set_rejection_reason(detail);
  return Update(outcome_id, o);
}

Result<v1::Record> Device::AddCaseNote(v1::CaseNote note) {
  if (note.sensitivity() == v1::NOTE_SENSITIVITY_UNSPECIFIED) note.set_sensitivity(v1::NOTE_SENSITIVITY_NORMAL);
  if (note.written_at().empty()) note.set_written_at(Now(*this));
  if (note.author().empty()) note.set_author(user_name());
  return Create(*this, v1::RECORD_TYPE_CASE_NOTE, note);
}

Result<v1::Record> Device::ExitParticipant(v1::Exit exit) {
  if (exit.exited_on().empty()) exit.set_exited_on(Today());
  Result<v1::Record> person = Linked(*store_, exit.participant_id(), v1::RECORD_TYPE_PARTICIPANT, "participant_id");
  if (!person.ok()) return person.status();
  if (person->participant().status() != v1::PARTICIPANT_STATUS_ACTIVE) {
    return Status::FailedPrecondition("the participant is not active", "participant_id");
  }
  Result<v1::Record> record = PrepareCreate(*this, v1::RECORD_TYPE_EXIT, exit, Uuid::NewV7());
  if (!record.ok()) return record.status();
  v1::Record exited = *person;
  exited.mutable_participant()->set_status(v1::PARTICIPANT_STATUS_EXITED);
  // The exit and the participant's new status commit together.
  Result<std::vector<v1::Record>> out =
      store_->Commit({RecordEdit{std::move(record).value()}, RecordEdit{std::move(exited)}});
  if (!out.ok()) return out.status();
  return std::move(out->front());
}

Result<v1::Record> Device::ReopenParticipant(const Uuid& participant_id, std::string reopened_on) {
  Result<v1::Record> person = Linked(*store_, participant_id.raw(), v1::RECORD_TYPE_PARTICIPANT, "participant_id");
  if (!person.ok()) return person.status();
  if (person->participant().status() != v1::PARTICIPANT_STATUS_EXITED) {
    return Status::FailedPrecondition("the participant has not exited", "participant_id");
  }
  Result<std::vector<v1::Record>> exits = store_->ParticipantRecords(participant_id, v1::RECORD_TYPE_EXIT);
  if (!exits.ok()) return exits.status();
  const v1::Record* open_exit = nullptr;
  for (const v1::Record& r : *exits) {
    if (r.exit().reopened_on().empty()) open_exit = &r;
  }
  if (open_exit == nullptr) return Status::FailedPrecondition("no exit to re-open", "participant_id");
  v1::Exit e = open_exit->exit();
  e.set_reopened_on(reopened_on.empty() ? Today() : reopened_on);
  Result<v1::Record> exit_edit = PrepareUpdate(*this, *open_exit, e);
  if (!exit_edit.ok()) return exit_edit.status();
  v1::Record active = *person;
  active.mutable_participant()->set_status(v1::PARTICIPANT_STATUS_ACTIVE);
  // The exit is re-opened before the status changes: the server checks the pushed status
  // against the exits it holds by then (rules_table.cc StatusFollowsTheExits).
  Result<std::vector<v1::Record>> out =
      store_->Commit({RecordEdit{std::move(exit_edit).value()}, RecordEdit{std::move(active)}});
  if (!out.ok()) return out.status();
  return std::move(out->back());
}

Result<v1::Record> Device::ResolveConflict(const Uuid& conflict_id, v1::ConflictStatus resolution) {
  Result<v1::Record> conflict = Linked(*store_, conflict_id.raw(), v1::RECORD_TYPE_CONFLICT, "conflict_id");
  if (!conflict.ok()) return conflict.status();
  v1::Conflict c = conflict->conflict();
  if (c.status() != v1::CONFLICT_STATUS_OPEN) {
    return Status::FailedPrecondition("the conflict is already resolved", "conflict_id");
  }
  if (resolution != v1::CONFLICT_STATUS_KEPT_WINNER && resolution != v1::CONFLICT_STATUS_TOOK_LOSER) {
    return Status::InvalidArgument("resolution", "must be kept_winner or took_loser");
  }
  c.set_status(resolution);
  c.set_resolved_by(user_name());
  std::vector<RecordEdit> edits;
  edits.push_back({MakeRecord(conflict_id, v1::RECORD_TYPE_CONFLICT, c)});
  if (resolution == v1::CONFLICT_STATUS_TOOK_LOSER) {
    Result<Uuid> target_id = Uuid::FromBytes(c.record_id());
    if (!target_id.ok()) return Status::InvalidArgument("record_id", "the conflict names no record");
    Result<v1::Record> target = LiveRecord(*store_, *target_id, "record_id");
    if (!target.ok()) return target.status();
    OUTREACH_RETURN_IF_ERROR(ApplyField(MutableRecordBody(&*target), c.field(), c.losing_value()));
    edits.push_back({std::move(target).value()});
  }
  Result<std::vector<v1::Record>> out = store_->Commit(edits);
  if (!out.ok()) return out.status();
  return std::move(out->front());
}

Result<v1::Record> Device::DecideDuplicate(const Uuid& review_id, v1::DuplicateReviewStatus decision,
                                           const Uuid& kept_participant_id) {
  Result<v1::Record> review = Linked(*store_, review_id.raw(), v1::RECORD_TYPE_DUPLICATE_REVIEW, "review_id");
  if (!review.ok()) return review.status();
  v1::DuplicateReview r = review->duplicate_review();
  const RecordTypeInfo* info = FindRecordType(v1::RECORD_TYPE_DUPLICATE_REVIEW);
  if (decision == v1::DUPLICATE_REVIEW_STATUS_OPEN || !info->IsLegalTransition(r.status(), decision) ||
      r.status() == decision) {
    return Status::FailedPrecondition(
        "a duplicate review cannot move from " + info->StateName(r.status()) + " to " + info->StateName(decision),
        "decision");
  }
  if (decision == v1::DUPLICATE_REVIEW_STATUS_MERGED) {
    if (kept_participant_id.raw() != r.participant_id() && kept_participant_id.raw() != r.other_participant_id()) {
      return Status::InvalidArgument("kept_participant_id", "must be one of the two participants under review");
    }
    r.set_kept_participant_id(kept_participant_id.raw());
  }
  r.set_status(decision);
  r.set_decided_by(user_name());
  OUTREACH_RETURN_IF_ERROR(CheckStateChange(*this, *info, &review->duplicate_review(), r));
  Result<std::vector<v1::Record>> out =
      store_->Commit({RecordEdit{MakeRecord(review_id, v1::RECORD_TYPE_DUPLICATE_REVIEW, r)}});
  if (!out.ok()) return out.status();
  return std::move(out->front());
}

Result<v1::Record> Device::EraseParticipant(const Uuid& participant_id) {
  Result<v1::Record> participant = Linked(*store_, participant_id.raw(), v1::RECORD_TYPE_PARTICIPANT, "participant_id");
  if (!participant.ok()) return participant.status();
  if (participant->erased()) return Status::FailedPrecondition("the participant is already erased", "participant_id");
  Result<std::vector<v1::Record>> out = store_->Commit({RecordEdit{*participant, v1::CHANGE_OP_ERASE}});
  if (!out.ok()) return out.status();
  return std::move(out->front());
}

// ---------------------------------------------------------------- queries

Result<std::vector<v1::Record>> Device::ListParticipants() {
  return store_->RecordsOfType(v1::RECORD_TYPE_PARTICIPANT);
}

Result<std::vector<EnquiryLine>> Device::ListEnquiries() {
  Result<v1::Role> role = RoleOf(*store_);
  if (!role.ok()) return role.status();
  if (*role == v1::ROLE_KIOSK) {
    return Status(ErrorCode::kPermissionDenied, "a kiosk does not list enquiries: they are other people's data",
                  "type");
  }
  Result<std::vector<v1::Record>> enquiries = store_->RecordsOfType(v1::RECORD_TYPE_ENQUIRY);
  if (!enquiries.ok()) return enquiries.status();
  std::vector<EnquiryLine> out;
  for (v1::Record& r : *enquiries) {
    EnquiryLine line;
    if (!r.enquiry().participant_id().empty()) {
      Result<std::optional<v1::Record>> p = store_->Get(*Uuid::FromBytes(r.enquiry().participant_id()));
      if (!p.ok()) return p.status();
      if (p->has_value() && !(*p)->erased()) {
        line.days_to_registration = DaysBetween(r.enquiry().received_at(), (*p)->participant().registered_on());
        line.participant = std::move(**p);
      }
    }
    line.enquiry = std::move(r);
    out.push_back(std::move(line));
  }
  std::stable_sort(out.begin(), out.end(), [](const EnquiryLine& a, const EnquiryLine& b) {
    const bool a_open = a.enquiry.enquiry().participant_id().empty();
    const bool b_open = b.enquiry.enquiry().participant_id().empty();
    return std::tie(b_open, a.enquiry.enquiry().received_at()) < std::tie(a_open, b.enquiry.enquiry().received_at());
  });
  return out;
}

Result<std::vector<v1::Record>> Device::Instruments() {
  Result<std::vector<v1::Record>> all = store_->RecordsOfType(v1::RECORD_TYPE_INSTRUMENT);
  if (!all.ok()) return all;
  std::sort(all->begin(), all->end(), [](const v1::Record& a, const v1::Record& b) {
    return std::make_tuple(a.instrument().instrument_id(), a.instrument().version()) <
           std::make_tuple(b.instrument().instrument_id(), b.instrument().version());
  });
  return all;
}

Result<v1::Record> Device::Programme() {
  Result<std::vector<v1::Record>> held = store_->RecordsOfType(v1::RECORD_TYPE_PROGRAMME);
  if (!held.ok()) return held.status();
  if (held->empty()) {
    return Status::NotFound("this device holds no programme: its hub has none yet, or it has not synced since",
                            "programme_id");
  }
  return std::move(held->front());
}

Result<std::vector<v1::Record>> Device::Partners() {
  Result<v1::Role> role = RoleOf(*store_);
  if (!role.ok()) return role.status();
  if (*role == v1::ROLE_KIOSK) {
    return Status(ErrorCode::kPermissionDenied, "a kiosk holds no partners: referrals are made by staff", "type");
  }
  Result<std::vector<v1::Record>> all = store_->RecordsOfType(v1::RECORD_TYPE_PARTNER_ORGANISATION);
  if (!all.ok()) return all;
  std::sort(all->begin(), all->end(), [](const v1::Record& a, const v1::Record& b) {
    return std::tie(a.partner_organisation().name(), a.id()) < std::tie(b.partner_organisation().name(), b.id());
  });
  return all;
}

Result<std::vector<v1::Record>> Device::Caseload(std::string adviser) {
  return store_->ParticipantsHeldBy(adviser.empty() ? user_name() : adviser);
}

Result<std::vector<SessionRegister>> Device::SessionsAtVenue(const Uuid& venue_id, std::string day) {
  if (day.empty()) day = Today();
  if (!ParseDate(day)) return Status::InvalidArgument("day", "'" + day + "' is not a real date in the form YYYY-MM-DD");
  Result<std::vector<v1::Record>> sessions = store_->SessionsAt(venue_id, day);
  if (!sessions.ok()) return sessions.status();
  std::vector<SessionRegister> out;
  for (v1::Record& s : *sessions) {
    const Uuid sid = *Uuid::FromBytes(s.id());
    std::map<std::string, RegisterLine> lines;  // by participant id
    Result<std::vector<v1::Record>> bookings = store_->BookingsOf(sid);
    Result<std::vector<v1::Record>> marks = store_->AttendanceOf(sid);
    if (!bookings.ok()) return bookings.status();
    if (!marks.ok()) return marks.status();
    for (v1::Record& b : *bookings) lines[b.booking().participant_id()].booking = std::move(b);
    for (v1::Record& a : *marks) lines[a.attendance().participant_id()].attendance = std::move(a);
    SessionRegister reg;
    reg.session = std::move(s);
    for (auto& [pid, line] : lines) {
      Result<std::optional<v1::Record>> p = store_->Get(*Uuid::FromBytes(pid));
      if (!p.ok()) return p.status();
      if (!p->has_value()) continue;  // not visible on this device
      line.participant = std::move(**p);
      reg.lines.push_back(std::move(line));
    }
    std::sort(reg.lines.begin(), reg.lines.end(), [](const RegisterLine& a, const RegisterLine& b) {
      const auto& x = a.participant.participant();
      const auto& y = b.participant.participant();
      return std::tie(x.family_name(), x.given_name()) < std::tie(y.family_name(), y.given_name());
    });
    out.push_back(std::move(reg));
  }
  return out;
}

Result<std::vector<TimelineEntry>> Device::Timeline(const Uuid& participant_id) {
  OUTREACH_RETURN_IF_ERROR(
      Linked(*store_, participant_id.raw(), v1::RECORD_TYPE_PARTICIPANT, "participant_id").status());
  Result<std::vector<client::DatedRecord>> rows = store_->Timeline(participant_id);
  if (!rows.ok()) return rows.status();
  std::vector<TimelineEntry> out;
  for (auto& r : *rows) out.push_back({std::move(r.on), std::move(r.record)});
  return out;
}

Result<std::vector<NotSeen>> Device::NotSeenFor(int days) {
  if (days < 0) return Status::InvalidArgument("days", "must not be negative");
  Result<std::vector<client::DatedRecord>> rows = store_->LastSeen();
  if (!rows.ok()) return rows.status();
  const std::string today = Today();
  std::vector<NotSeen> out;
  for (auto& r : *rows) {  // oldest sighting first
    int since = DaysBetween(r.on, today);
    if (since >= days) out.push_back({std::move(r.record), r.on, since});
  }
  return out;
}

Result<std::vector<OverduePlan>> Device::OverdueActionPlans() {
  const std::string today = Today();
  const std::string month_ago = journey::FormatDate(journey::AddMonths(*ParseDate(today), -1));
  Result<std::vector<client::OverdueItem>> items = store_->OverduePlans(today, month_ago);
  if (!items.ok()) return items.status();
  std::vector<OverduePlan> out;
  for (auto& i : *items) {
    OverduePlan p;
    p.plan = std::move(i.plan);
    p.step = std::move(i.step);
    p.reason = i.reason;
    p.due_on = i.reason == "not_agreed_within_one_month" ? MonthAfter(i.date) : i.date;
    out.push_back(std::move(p));
  }
  return out;
}

Result<std::vector<v1::Record>> Device::FindParticipants(std::string_view name) {
  OUTREACH_RETURN_IF_ERROR(Required(std::string(name), "name"));
  return store_->FindParticipantsByName(std::string(name));
}

Result<std::optional<v1::Record>> Device::FindByReference(std::string_view reference) {
  Result<ReferenceNumber> ref = ReferenceNumber::Parse(reference);
  if (!ref.ok()) return ref.status();
  return store_->FindParticipantByReference(ref->ToString());
}

Result<std::vector<v1::Record>> Device::ParticipantRecords(const Uuid& participant_id, v1::RecordType type) {
  return store_->ParticipantRecords(participant_id, type);
}

Result<std::vector<v1::Record>> Device::Export() {
  return store_->AllRecords();
}

Result<std::vector<v1::Record>> Device::OpenConflicts() {
  Result<std::vector<v1::Record>> all = store_->RecordsOfType(v1::RECORD_TYPE_CONFLICT);
  if (!all.ok()) return all;
  std::vector<v1::Record> open;
  for (v1::Record& r : *all) {
    if (r.conflict().status() == v1::CONFLICT_STATUS_OPEN) open.push_back(std::move(r));
  }
  return open;
}

Result<std::vector<v1::Record>> Device::OpenDuplicateReviews() {
  Result<std::vector<v1::Record>> all = store_->RecordsOfType(v1::RECORD_TYPE_DUPLICATE_REVIEW);
  if (!all.ok()) return all;
  std::vector<v1::Record> open;
  for (v1::Record& r : *all) {
    if (r.duplicate_review().status() == v1::DUPLICATE_REVIEW_STATUS_OPEN) open.push_back(std::move(r));
  }
  return open;
}

Result<std::vector<RejectedChange>> Device::RejectedChanges() {
  return store_->RejectedChanges();
}

}  // namespace outreach
