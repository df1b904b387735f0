#include "common/record_registry.h"

#include <algorithm>
#include <cctype>

namespace outreach {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

const FieldDescriptor* Field(const Descriptor* d, const char* name) {
  return name == nullptr ? nullptr : d->FindFieldByName(name);
}

// Who takes the steps of the state machines.
const std::vector<v1::Role> kStaff = {v1::ROLE_ADVISER, v1::ROLE_HEALTH_WORKER, v1::ROLE_COORDINATOR, v1::ROLE_MANAGER};
const std::vector<v1::Role> kCoordinators = {v1::ROLE_COORDINATOR, v1::ROLE_MANAGER};
const std::vector<v1::Role> kManagers = {v1::ROLE_MANAGER};

// One entry per record type: everything the code on both sides knows about it, but the
// rules its body must meet (common/validation/record_rules.cc).
std::vector<RecordTypeInfo> BuildRegistry() {
  using P = MergePolicy;
  const std::vector<RecordTypeDeclaration> declarations = {
      {.type = v1::RECORD_TYPE_PARTICIPANT,
       .name = "participant",
       .policy = P::kLastWriterWins,
       .descriptor = v1::Participant::descriptor(),
       .personal = true,
       .date = "registered_on",
       .links = {{"venue_id", v1::RECORD_TYPE_VENUE},
                 {"merged_into", v1::RECORD_TYPE_PARTICIPANT},
                 {"delivery_partner_id", v1::RECORD_TYPE_PARTNER_ORGANISATION}}},
      {.type = v1::RECORD_TYPE_CONSENT,
       .name = "consent",
       .policy = P::kLastWriterWins,
       .descriptor = v1::Consent::descriptor(),
       .personal = true,
       .date = "given_on",
       .links = {{"participant_id", v1::RECORD_TYPE_PARTICIPANT},
                 {"partner_ids", v1::RECORD_TYPE_PARTNER_ORGANISATION}}},
      {.type = v1::RECORD_TYPE_EVIDENCE_ITEM,
       .name = "evidence_item",
       .policy = P::kAppendOnly,
       .descriptor = v1::EvidenceItem::descriptor(),
       .personal = true,
       .date = "captured_on",
       .links = {{"participant_id", v1::RECORD_TYPE_PARTICIPANT}}},
      {.type = v1::RECORD_TYPE_VALIDATION,
       .name = "validation",
       .policy = P::kStateMachine,
       .descriptor = v1::Validation::descriptor(),
       .personal = true,
       .date = "status_changed_on",
       .links = {{"participant_id", v1::RECORD_TYPE_PARTICIPANT}, {"evidence_ids", v1::RECORD_TYPE_EVIDENCE_ITEM}},
       .state = "status",
       // adviser -> hub coordinator pre-check -> manager's accept or reject; no one accepts
       // or rejects a file they submitted or pre-checked, nor pre-checks one they submitted.
       .steps = {{.to = v1::VALIDATION_STATUS_DRAFT, .roles = kStaff},
                 {.to = v1::VALIDATION_STATUS_SUBMITTED, .roles = kStaff, .actor = "submitted_by"},
                 {.from = v1::VALIDATION_STATUS_DRAFT,
                  .to = v1::VALIDATION_STATUS_SUBMITTED,
                  .roles = kStaff,
                  .actor = "submitted_by"},
                 {.from = v1::VALIDATION_STATUS_SUBMITTED,
                  .to = v1::VALIDATION_STATUS_PRECHECK_PASSED,
                  .roles = kCoordinators,
                  .actor = "prechecked_by",
                  .not_by = {"submitted_by"}},
                 {.from = v1::VALIDATION_STATUS_SUBMITTED,
                  .to = v1::VALIDATION_STATUS_PRECHECK_RETURNED,
                  .roles = kCoordinators,
                  .actor = "prechecked_by",
                  .not_by = {"submitted_by"}},
                 {.from = v1::VALIDATION_STATUS_PRECHECK_RETURNED,
                  .to = v1::VALIDATION_STATUS_SUBMITTED,
                  .roles = kStaff,
                  .actor = "submitted_by"},
                 {.from = v1::VALIDATION_STATUS_PRECHECK_PASSED,
                  .to = v1::VALIDATION_STATUS_ACCEPTED,
                  .roles = kManagers,
                  .actor = "decided_by",
                  .not_by = {"submitted_by", "prechecked_by"}},
                 {.from = v1::VALIDATION_STATUS_PRECHECK_PASSED,
                  .to = v1::VALIDATION_STATUS_REJECTED,
                  .roles = kManagers,
                  .actor = "decided_by",
                  .not_by = {"submitted_by", "prechecked_by"}},
                 {.from = v1::VALIDATION_STATUS_REJECTED,  // resubmission
                  .to = v1::VALIDATION_STATUS_SUBMITTED,
                  .roles = kStaff,
                  .actor = "submitted_by"},
                 {.from = v1::VALIDATION_STATUS_ACCEPTED,  // re-validation after a rules change
                  .to = v1::VALIDATION_STATUS_SUBMITTED,
                  .roles = kStaff,
                  .actor = "submitted_by"}},
       .history = "moves"},
      {.type = v1::RECORD_TYPE_ASSESSMENT,
       .name = "assessment",
       .policy = P::kAppendOnly,
       .descriptor = v1::Assessment::descriptor(),
       .personal = true,
       .date = "completed_on",
       .links = {{"participant_id", v1::RECORD_TYPE_PARTICIPANT}},
       .actors = {"assessor"}},
      {.type = v1::RECORD_TYPE_BARRIER,
       .name = "barrier",
       .policy = P::kLastWriterWins,
       .descriptor = v1::Barrier::descriptor(),
       .personal = true,
       .date = "identified_on",
       .links = {{"participant_id", v1::RECORD_TYPE_PARTICIPANT}}},
      {.type = v1::RECORD_TYPE_SEGMENT,
       .name = "segment",
       .policy = P::kAppendOnly,
       .descriptor = v1::Segment::descriptor(),
       .personal = true,
       .date = "set_on",
       .links = {{"participant_id", v1::RECORD_TYPE_PARTICIPANT}}},
      {.type = v1::RECORD_TYPE_ACTION_PLAN,
       .name = "action_plan",
       .policy = P::kLastWriterWins,
       .descriptor = v1::ActionPlan::descriptor(),
       .personal = true,
       .date = "started_on",
       .links = {{"participant_id", v1::RECORD_TYPE_PARTICIPANT}},
       .actors = {"agreed_by"}},
      {.type = v1::RECORD_TYPE_ACTION_STEP,
       .name = "action_step",
       .policy = P::kLastWriterWins,
       .descriptor = v1::ActionStep::descriptor(),
       .personal = true,
       .date = "due_on",
       .links = {{"plan_id", v1::RECORD_TYPE_ACTION_PLAN}, {"participant_id", v1::RECORD_TYPE_PARTICIPANT}}},
      {.type = v1::RECORD_TYPE_SESSION,
       .name = "session",
       .policy = P::kLastWriterWins,
       .descriptor = v1::Session::descriptor(),
       .personal = false,
       .date = "starts_at",
       .links = {{"venue_id", v1::RECORD_TYPE_VENUE}}},
      {.type = v1::RECORD_TYPE_BOOKING,
       .name = "booking",
       .policy = P::kLastWriterWins,
       .descriptor = v1::Booking::descriptor(),
       .personal = true,
       .date = "booked_on",
       .links = {{"session_id", v1::RECORD_TYPE_SESSION}, {"participant_id", v1::RECORD_TYPE_PARTICIPANT}}},
      {.type = v1::RECORD_TYPE_ATTENDANCE,
       .name = "attendance",
       .policy = P::kKeyedRegister,
       .descriptor = v1::Attendance::descriptor(),
       .personal = true,
       .date = "marked_at",
       .links = {{"session_id", v1::RECORD_TYPE_SESSION}, {"participant_id", v1::RECORD_TYPE_PARTICIPANT}},
       .register_key = "session_id",
       .rank_field = "marked_by",
       .ranks = {{v1::MARKED_BY_ADVISER, 2}, {v1::MARKED_BY_KIOSK, 1}},  // an adviser's mark outranks a kiosk's
       .kiosk_mark = v1::MARKED_BY_KIOSK,
       .staff_mark = v1::MARKED_BY_ADVISER,
       .history = "earlier_marks"},
      {.type = v1::RECORD_TYPE_CONTACT_ATTEMPT,
       .name = "contact_attempt",
       .policy = P::kAppendOnly,
       .descriptor = v1::ContactAttempt::descriptor(),
       .personal = true,
       .date = "attempted_at",
       .links = {{"participant_id", v1::RECORD_TYPE_PARTICIPANT}}},
      {.type = v1::RECORD_TYPE_REFERRAL,
       .name = "referral",
       .policy = P::kStateMachine,
       .descriptor = v1::Referral::descriptor(),
       .personal = true,
       .date = "made_on",
       .links = {{"participant_id", v1::RECORD_TYPE_PARTICIPANT},
                 {"partner_id", v1::RECORD_TYPE_PARTNER_ORGANISATION},
                 {"consent_id", v1::RECORD_TYPE_CONSENT}},
       .state = "status",
       // Staff make and follow a referral; the partner's answer is recorded by them too.
       .steps = {{.to = v1::REFERRAL_STATUS_MADE, .roles = kStaff},
                 {.from = v1::REFERRAL_STATUS_MADE, .to = v1::REFERRAL_STATUS_ACCEPTED, .roles = kStaff},
                 {.from = v1::REFERRAL_STATUS_MADE, .to = v1::REFERRAL_STATUS_REJECTED, .roles = kStaff},
                 {.from = v1::REFERRAL_STATUS_MADE, .to = v1::REFERRAL_STATUS_WITHDRAWN, .roles = kStaff},
                 {.from = v1::REFERRAL_STATUS_ACCEPTED, .to = v1::REFERRAL_STATUS_FIRST_APPOINTMENT, .roles = kStaff},
                 {.from = v1::REFERRAL_STATUS_ACCEPTED, .to = v1::REFERRAL_STATUS_WITHDRAWN, .roles = kStaff},
                 {.from = v1::REFERRAL_STATUS_FIRST_APPOINTMENT, .to = v1::REFERRAL_STATUS_COMPLETED, .roles = kStaff},
                 {.from = v1::REFERRAL_STATUS_FIRST_APPOINTMENT,
                  .to = v1::REFERRAL_STATUS_WITHDRAWN,
                  .roles = kStaff}}},
      {.type = v1::RECORD_TYPE_SUPPORT_SPEND,
       .name = "support_spend",
       .policy = P::kStateMachine,
       .descriptor = v1::SupportSpend::descriptor(),
       .personal = true,
       .date = "requested_on",
       .links = {{"participant_id", v1::RECORD_TYPE_PARTICIPANT},
                 {"receipt_evidence_id", v1::RECORD_TYPE_EVIDENCE_ITEM}},
       .state = "status",
       // Requested by staff; approved or refused by a coordinator or manager who is not the
       // requester; paid, after approval, by a coordinator or manager.
       .steps = {{.to = v1::SPEND_STATUS_REQUESTED, .roles = kStaff, .actor = "requested_by"},
                 {.from = v1::SPEND_STATUS_REQUESTED,
                  .to = v1::SPEND_STATUS_APPROVED,
                  .roles = kCoordinators,
                  .actor = "decided_by",
                  .not_by = {"requested_by"}},
                 {.from = v1::SPEND_STATUS_REQUESTED,
                  .to = v1::SPEND_STATUS_REFUSED,
                  .roles = kCoordinators,
                  .actor = "decided_by",
                  .not_by = {"requested_by"}},
                 {.from = v1::SPEND_STATUS_APPROVED,
                  .to = v1::SPEND_STATUS_PAID,
                  .roles = kCoordinators,
                  .actor = "paid_by"}}},
      {.type = v1::RECORD_TYPE_OUTCOME,
       .name = "outcome",
       .policy = P::kStateMachine,
       .descriptor = v1::Outcome::descriptor(),
       .personal = true,
       .date = "achieved_on",
       .links = {{"participant_id", v1::RECORD_TYPE_PARTICIPANT},
                 {"evidence_ids", v1::RECORD_TYPE_EVIDENCE_ITEM},
                 {"job_start_id", v1::RECORD_TYPE_OUTCOME}},
       .state = "status",
       // Reported by anyone on staff, evidenced by the participant's adviser (or a manager),
       // verified by a coordinator who did not evidence it, claimed and its answer recorded
       // by a manager who did not verify it.
       .steps = {{.to = v1::OUTCOME_STATUS_REPORTED, .roles = kStaff, .actor = "reported_by"},
                 {.from = v1::OUTCOME_STATUS_REPORTED,
                  .to = v1::OUTCOME_STATUS_EVIDENCED,
                  .roles = kManagers,
                  .actor = "evidenced_by",
                  .participant_adviser = true},
                 {.from = v1::OUTCOME_STATUS_EVIDENCED,
                  .to = v1::OUTCOME_STATUS_VERIFIED,
                  .roles = {v1::ROLE_COORDINATOR},
                  .actor = "verified_by",
                  .not_by = {"evidenced_by"}},
                 {.from = v1::OUTCOME_STATUS_VERIFIED,
                  .to = v1::OUTCOME_STATUS_CLAIMED,
                  .roles = kManagers,
                  .actor = "claimed_by",
                  .not_by = {"verified_by"}},
                 {.from = v1::OUTCOME_STATUS_CLAIMED,
                  .to = v1::OUTCOME_STATUS_ACCEPTED,
                  .roles = kManagers,
                  .actor = "decided_by",
                  .not_by = {"verified_by"}},
                 {.from = v1::OUTCOME_STATUS_CLAIMED,
                  .to = v1::OUTCOME_STATUS_REJECTED,
                  .roles = kManagers,
                  .actor = "decided_by",
                  .not_by = {"verified_by"}},
                 {.from = v1::OUTCOME_STATUS_REJECTED,  // re-evidenced after a rejection
                  .to = v1::OUTCOME_STATUS_EVIDENCED,
                  .roles = kManagers,
                  .actor = "evidenced_by",
                  .participant_adviser = true}}},
      {.type = v1::RECORD_TYPE_CASE_NOTE,
       .name = "case_note",
       .policy = P::kAppendOnly,
       .descriptor = v1::CaseNote::descriptor(),
       .personal = true,
       .date = "written_at",
       .links = {{"participant_id", v1::RECORD_TYPE_PARTICIPANT}, {"supersedes", v1::RECORD_TYPE_CASE_NOTE}},
       .actors = {"author"}},
      {.type = v1::RECORD_TYPE_EXIT,
       .name = "exit",
       .policy = P::kLastWriterWins,
       .descriptor = v1::Exit::descriptor(),
       .personal = true,
       .date = "exited_on",
       .links = {{"participant_id", v1::RECORD_TYPE_PARTICIPANT}}},
      {.type = v1::RECORD_TYPE_ENQUIRY,
       .name = "enquiry",
       .policy = P::kLastWriterWins,
       .descriptor = v1::Enquiry::descriptor(),
       .personal = true,
       .date = "received_at",
       .links = {{"venue_id", v1::RECORD_TYPE_VENUE}, {"participant_id", v1::RECORD_TYPE_PARTICIPANT}}},
      {.type = v1::RECORD_TYPE_CONFLICT,
       .name = "conflict",
       .policy = P::kLastWriterWins,
       .descriptor = v1::Conflict::descriptor(),
       .personal = true,
       .links = {{"record_id", v1::RECORD_TYPE_UNSPECIFIED}},
       .actors = {"resolved_by"},
       .follows_merge = false},  // names the record it is about
      {.type = v1::RECORD_TYPE_DUPLICATE_REVIEW,
       .name = "duplicate_review",
       .policy = P::kStateMachine,
       .descriptor = v1::DuplicateReview::descriptor(),
       .personal = true,
       .links = {{"participant_id", v1::RECORD_TYPE_PARTICIPANT},
                 {"other_participant_id", v1::RECORD_TYPE_PARTICIPANT},
                 {"kept_participant_id", v1::RECORD_TYPE_PARTICIPANT}},
       .state = "status",
       // The server opens a review; a manager decides it.
       .steps = {{.to = v1::DUPLICATE_REVIEW_STATUS_OPEN, .roles = kManagers},
                 {.from = v1::DUPLICATE_REVIEW_STATUS_OPEN,
                  .to = v1::DUPLICATE_REVIEW_STATUS_MERGED,
                  .roles = kManagers,
                  .actor = "decided_by"},
                 {.from = v1::DUPLICATE_REVIEW_STATUS_OPEN,
                  .to = v1::DUPLICATE_REVIEW_STATUS_NOT_DUPLICATE,
                  .roles = kManagers,
                  .actor = "decided_by"}},
       .follows_merge = false},  // names the two people it is about
      {.type = v1::RECORD_TYPE_PROGRAMME,
       .name = "programme",
       .policy = P::kLastWriterWins,
       .descriptor = v1::Programme::descriptor(),
       .reference_data = true,
       .links = {{"hub_ids", v1::RECORD_TYPE_HUB}}},
      {.type = v1::RECORD_TYPE_HUB,
       .name = "hub",
       .policy = P::kLastWriterWins,
       .descriptor = v1::Hub::descriptor(),
       .reference_data = true,
       .links = {{"programme_id", v1::RECORD_TYPE_PROGRAMME}}},
      {.type = v1::RECORD_TYPE_VENUE,
       .name = "venue",
       .policy = P::kLastWriterWins,
       .descriptor = v1::Venue::descriptor(),
       .reference_data = true},
      {.type = v1::RECORD_TYPE_PARTNER_ORGANISATION,
       .name = "partner_organisation",
       .policy = P::kLastWriterWins,
       .descriptor = v1::PartnerOrganisation::descriptor(),
       .reference_data = true,
       .links = {{"hub_ids", v1::RECORD_TYPE_HUB}}},
      {.type = v1::RECORD_TYPE_INSTRUMENT,
       .name = "instrument",
       .policy = P::kLastWriterWins,
       .descriptor = v1::Instrument::descriptor(),
       .reference_data = true,
       .links = {{"programme_id", v1::RECORD_TYPE_PROGRAMME}, {"hub_ids", v1::RECORD_TYPE_HUB}}},
  };
  std::vector<RecordTypeInfo> r;
  for (const RecordTypeDeclaration& d : declarations) r.push_back(DeclareRecordType(d));
  std::sort(r.begin(), r.end(), [](const auto& a, const auto& b) { return a.type < b.type; });
  return r;
}

}  // namespace

RecordTypeInfo DeclareRecordType(const RecordTypeDeclaration& d) {
  RecordTypeInfo info;
  info.type = d.type;
  info.name = d.name;
  info.policy = d.policy;
  info.descriptor = d.descriptor;
  info.personal = d.personal;
  info.reference_data = d.reference_data;
  info.participant_field = d.descriptor->FindFieldByName("participant_id");
  info.state_field = Field(d.descriptor, d.state);
  for (const auto& [field, target] : d.links) info.links.push_back(RecordLink{Field(d.descriptor, field), target});
  for (const char* actor : d.actors) info.actor_fields.push_back(Field(d.descriptor, actor));
  for (const RecordTypeDeclaration::Step& s : d.steps) {
    StateStep step{.from = s.from,
                   .to = s.to,
                   .roles = s.roles,
                   .participant_adviser = s.participant_adviser,
                   .actor = Field(d.descriptor, s.actor)};
    for (const char* field : s.not_by) step.not_by.push_back(Field(d.descriptor, field));
    if (step.actor != nullptr && !info.IsActorField(step.actor->number())) info.actor_fields.push_back(step.actor);
    info.steps.push_back(std::move(step));
  }
  info.history_field = Field(d.descriptor, d.history);
  info.date_field = Field(d.descriptor, d.date);
  info.register_key_field = Field(d.descriptor, d.register_key);
  info.rank_field = Field(d.descriptor, d.rank_field);
  info.ranks = d.ranks;
  info.kiosk_mark = d.kiosk_mark;
  info.staff_mark = d.staff_mark;
  info.follows_merge = d.follows_merge;
  return info;
}

const char* MergePolicyName(MergePolicy policy) {
  switch (policy) {
    case MergePolicy::kLastWriterWins: return "last_writer_wins";
    case MergePolicy::kAppendOnly: return "append_only";
    case MergePolicy::kStateMachine: return "state_machine";
    case MergePolicy::kKeyedRegister: return "keyed_register";
  }
  return "unknown";
}

bool RecordTypeInfo::IsLegalTransition(int from, int to) const {
  return from == to || (from != 0 && FindStep(from, to) != nullptr);
}

const StateStep* RecordTypeInfo::FindStep(int from, int to) const {
  for (const StateStep& step : steps)
    if (step.from == from && step.to == to) return &step;
  return nullptr;
}

bool RecordTypeInfo::IsInitialState(int state) const {
  return FindStep(0, state) != nullptr;
}

std::string RecordTypeInfo::StateName(int state) const {
  if (state_field == nullptr) return std::to_string(state);
  const auto* v = state_field->enum_type()->FindValueByNumber(state);
  return v ? EnumValueShortName(v) : std::to_string(state);
}

const RecordLink* RecordTypeInfo::LinkOf(int number) const {
  for (const RecordLink& link : links)
    if (link.field->number() == number) return &link;
  return nullptr;
}

bool RecordTypeInfo::IsActorField(int number) const {
  return std::any_of(actor_fields.begin(), actor_fields.end(),
                     [number](const google::protobuf::FieldDescriptor* f) { return f->number() == number; });
}

int RecordTypeInfo::Rank(int mark) const {
  for (const auto& [value, rank] : ranks)
    if (value == mark) return rank;
  return 0;
}

int RecordTypeInfo::RankOfWriter(v1::Role role) const {
  return Rank(role == v1::ROLE_KIOSK ? kiosk_mark : staff_mark);
}

int RecordTypeInfo::RankOf(const google::protobuf::Message& body) const {
  if (rank_field == nullptr || body.GetDescriptor() != descriptor) return 0;
  return Rank(body.GetReflection()->GetEnumValue(body, rank_field));
}

const char* TimelineDateField(v1::RecordType type) {
  const RecordTypeInfo* info = FindRecordType(type);
  return info != nullptr && info->date_field != nullptr ? info->date_field->name().c_str() : "";
}

const std::vector<RecordTypeInfo>& AllRecordTypes() {
  static const std::vector<RecordTypeInfo> registry = BuildRegistry();
  return registry;
}

const RecordTypeInfo* FindRecordType(v1::RecordType type) {
  for (const auto& info : AllRecordTypes())
    if (info.type == type) return &info;
  return nullptr;
}

const RecordTypeInfo* FindRecordTypeByName(std::string_view name) {
  for (const auto& info : AllRecordTypes())
    if (info.name == name) return &info;
  return nullptr;
}

std::unique_ptr<google::protobuf::Message> NewRecordBody(v1::RecordType type) {
  const RecordTypeInfo* info = FindRecordType(type);
  if (info == nullptr) return nullptr;
  const auto* prototype = google::protobuf::MessageFactory::generated_factory()->GetPrototype(info->descriptor);
  return std::unique_ptr<google::protobuf::Message>(prototype->New());
}

google::protobuf::Message* MutableRecordBody(v1::Record* record) {
  const FieldDescriptor* f = v1::Record::descriptor()->FindFieldByNumber(static_cast<int>(record->type()));
  if (f == nullptr || f->containing_oneof() == nullptr) return nullptr;
  return record->GetReflection()->MutableMessage(record, f);
}

const google::protobuf::Message* RecordBody(const v1::Record& record) {
  const FieldDescriptor* f = v1::Record::descriptor()->FindFieldByNumber(static_cast<int>(record.type()));
  if (f == nullptr || f->containing_oneof() == nullptr) return nullptr;
  if (!record.GetReflection()->HasField(record, f)) return nullptr;
  return &record.GetReflection()->GetMessage(record, f);
}

std::string EnumValueShortName(const google::protobuf::EnumValueDescriptor* value) {
  // The value name repeats the enum's name in upper snake case as its prefix.
  std::string prefix;
  const std::string& enum_name = value->type()->name();
  for (size_t i = 0; i < enum_name.size(); ++i) {
    char c = enum_name[i];
    if (i > 0 && std::isupper(static_cast<unsigned char>(c))) prefix.push_back('_');
    prefix.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  prefix.push_back('_');
  std::string name = value->name();
  if (name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  return name;
}

Result<int> ParseEnumShortName(const google::protobuf::EnumDescriptor* type, std::string_view text,
                               std::string_view field) {
  std::string wanted(text);
  std::transform(wanted.begin(), wanted.end(), wanted.begin(),
                 [](unsigned char c) { return c == '-' ? '_' : static_cast<char>(std::tolower(c)); });
  std::string choices;
  for (int i = 0; i < type->value_count(); ++i) {
    const auto* v = type->value(i);
    if (v->number() == 0) continue;  // UNSPECIFIED is never a valid choice
    std::string short_name = EnumValueShortName(v);
    if (short_name == wanted) return v->number();
    if (!choices.empty()) choices += ", ";
    choices += short_name;
  }
  return Status::InvalidArgument(std::string(field), "'" + std::string(text) + "' is not one of: " + choices);
}

}  // namespace outreach
