#include "common/record_registry.h"

#include <algorithm>
#include <cctype>

namespace outreach {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

const FieldDescriptor* Field(const Descriptor* d, const char* name) {
  const FieldDescriptor* f = d->FindFieldByName(name);
  return f;
}

template <typename Enum>
std::vector<std::pair<int, int>> Pairs(std::initializer_list<std::pair<Enum, Enum>> list) {
  std::vector<std::pair<int, int>> out;
  for (auto [a, b] : list) out.emplace_back(static_cast<int>(a), static_cast<int>(b));
  return out;
}

RecordTypeInfo Make(v1::RecordType type, std::string_view name, MergePolicy policy, const Descriptor* d, bool personal,
                    bool reference_data = false) {
  RecordTypeInfo info;
  info.type = type;
  info.name = name;
  info.policy = policy;
  info.descriptor = d;
  info.personal = personal;
  info.reference_data = reference_data;
  info.participant_field = d->FindFieldByName("participant_id");
  return info;
}

std::vector<RecordTypeInfo> BuildRegistry() {
  using P = MergePolicy;
  std::vector<RecordTypeInfo> r;

  r.push_back(
      Make(v1::RECORD_TYPE_PARTICIPANT, "participant", P::kLastWriterWins, v1::Participant::descriptor(), true));
  r.push_back(Make(v1::RECORD_TYPE_CONSENT, "consent", P::kLastWriterWins, v1::Consent::descriptor(), true));
  r.push_back(
      Make(v1::RECORD_TYPE_EVIDENCE_ITEM, "evidence_item", P::kAppendOnly, v1::EvidenceItem::descriptor(), true));
  {
    auto info = Make(v1::RECORD_TYPE_VALIDATION, "validation", P::kStateMachine, v1::Validation::descriptor(), true);
    info.state_field = Field(info.descriptor, "status");
    info.initial_states = {v1::VALIDATION_STATUS_DRAFT, v1::VALIDATION_STATUS_SUBMITTED};
    info.transitions = Pairs<v1::ValidationStatus>({
        {v1::VALIDATION_STATUS_DRAFT, v1::VALIDATION_STATUS_SUBMITTED},
        {v1::VALIDATION_STATUS_SUBMITTED, v1::VALIDATION_STATUS_PRECHECK_PASSED},
        {v1::VALIDATION_STATUS_SUBMITTED, v1::VALIDATION_STATUS_PRECHECK_RETURNED},
        {v1::VALIDATION_STATUS_PRECHECK_RETURNED, v1::VALIDATION_STATUS_SUBMITTED},
        {v1::VALIDATION_STATUS_PRECHECK_PASSED, v1::VALIDATION_STATUS_ACCEPTED},
        {v1::VALIDATION_STATUS_PRECHECK_PASSED, v1::VALIDATION_STATUS_REJECTED},
        {v1::VALIDATION_STATUS_REJECTED, v1::VALIDATION_STATUS_SUBMITTED},  // resubmission
        {v1::VALIDATION_STATUS_ACCEPTED, v1::VALIDATION_STATUS_SUBMITTED},  // re-validation after a rules change
    });
    r.push_back(std::move(info));
  }
  r.push_back(Make(v1::RECORD_TYPE_ASSESSMENT, "assessment", P::kAppendOnly, v1::Assessment::descriptor(), true));
  r.push_back(Make(v1::RECORD_TYPE_BARRIER, "barrier", P::kLastWriterWins, v1::Barrier::descriptor(), true));
  r.push_back(Make(v1::RECORD_TYPE_SEGMENT, "segment", P::kAppendOnly, v1::Segment::descriptor(), true));
  r.push_back(Make(v1::RECORD_TYPE_ACTION_PLAN, "action_plan", P::kLastWriterWins, v1::ActionPlan::descriptor(), true));
  r.push_back(Make(v1::RECORD_TYPE_ACTION_STEP, "action_step", P::kLastWriterWins, v1::ActionStep::descriptor(), true));
  r.push_back(Make(v1::RECORD_TYPE_SESSION, "session", P::kLastWriterWins, v1::Session::descriptor(), false));
  r.push_back(Make(v1::RECORD_TYPE_BOOKING, "booking", P::kLastWriterWins, v1::Booking::descriptor(), true));
  r.push_back(Make(v1::RECORD_TYPE_ATTENDANCE, "attendance", P::kKeyedRegister, v1::Attendance::descriptor(), true));
  r.push_back(
      Make(v1::RECORD_TYPE_CONTACT_ATTEMPT, "contact_attempt", P::kAppendOnly, v1::ContactAttempt::descriptor(), true));
  {
    auto info = Make(v1::RECORD_TYPE_REFERRAL, "referral", P::kStateMachine, v1::Referral::descriptor(), true);
    info.state_field = Field(info.descriptor, "status");
    info.initial_states = {v1::REFERRAL_STATUS_MADE};
    info.transitions = Pairs<v1::ReferralStatus>({
        {v1::REFERRAL_STATUS_MADE, v1::REFERRAL_STATUS_ACCEPTED},
        {v1::REFERRAL_STATUS_MADE, v1::REFERRAL_STATUS_REJECTED},
        {v1::REFERRAL_STATUS_MADE, v1::REFERRAL_STATUS_WITHDRAWN},
        {v1::REFERRAL_STATUS_ACCEPTED, v1::REFERRAL_STATUS_FIRST_APPOINTMENT},
        {v1::REFERRAL_STATUS_ACCEPTED, v1::REFERRAL_STATUS_WITHDRAWN},
        {v1::REFERRAL_STATUS_FIRST_APPOINTMENT, v1::REFERRAL_STATUS_COMPLETED},
        {v1::REFERRAL_STATUS_FIRST_APPOINTMENT, v1::REFERRAL_STATUS_WITHDRAWN},
    });
    r.push_back(std::move(info));
  }
  {
    auto info =
        Make(v1::RECORD_TYPE_SUPPORT_SPEND, "support_spend", P::kStateMachine, v1::SupportSpend::descriptor(), true);
    info.state_field = Field(info.descriptor, "status");
    info.initial_states = {v1::SPEND_STATUS_REQUESTED};
    info.transitions = Pairs<v1::SpendStatus>({
        {v1::SPEND_STATUS_REQUESTED, v1::SPEND_STATUS_APPROVED},
        {v1::SPEND_STATUS_REQUESTED, v1::SPEND_STATUS_REFUSED},
        {v1::SPEND_STATUS_APPROVED, v1::SPEND_STATUS_PAID},
    });
    r.push_back(std::move(info));
  }
  {
    auto info = Make(v1::RECORD_TYPE_OUTCOME, "outcome", P::kStateMachine, v1::Outcome::descriptor(), true);
    info.state_field = Field(info.descriptor, "status");
    info.initial_states = {v1::OUTCOME_STATUS_REPORTED};
    info.transitions = Pairs<v1::OutcomeStatus>({
        {v1::OUTCOME_STATUS_REPORTED, v1::OUTCOME_STATUS_EVIDENCED},
        {v1::OUTCOME_STATUS_EVIDENCED, v1::OUTCOME_STATUS_CLAIMED},
        {v1::OUTCOME_STATUS_CLAIMED, v1::OUTCOME_STATUS_ACCEPTED},
        {v1::OUTCOME_STATUS_CLAIMED, v1::OUTCOME_STATUS_REJECTED},
        {v1::OUTCOME_STATUS_REJECTED, v1::OUTCOME_STATUS_EVIDENCED},  // re-evidenced after a rejection
    });
    r.push_back(std::move(info));
  }
  r.push_back(Make(v1::RECORD_TYPE_CASE_NOTE, "case_note", P::kAppendOnly, v1::CaseNote::descriptor(), true));
  r.push_back(Make(v1::RECORD_TYPE_EXIT, "exit", P::kLastWriterWins, v1::Exit::descriptor(), true));
  r.push_back(Make(v1::RECORD_TYPE_ENQUIRY, "enquiry", P::kLastWriterWins, v1::Enquiry::descriptor(), true));
  r.push_back(Make(v1::RECORD_TYPE_CONFLICT, "conflict", P::kLastWriterWins, v1::Conflict::descriptor(), true));
  {
    auto info = Make(v1::RECORD_TYPE_DUPLICATE_REVIEW, "duplicate_review", P::kStateMachine,
                     v1::DuplicateReview::descriptor(), true);
    info.state_field = Field(info.descriptor, "status");
    info.initial_states = {v1::DUPLICATE_REVIEW_STATUS_OPEN};
    info.transitions = Pairs<v1::DuplicateReviewStatus>({
        {v1::DUPLICATE_REVIEW_STATUS_OPEN, v1::DUPLICATE_REVIEW_STATUS_MERGED},
        {v1::DUPLICATE_REVIEW_STATUS_OPEN, v1::DUPLICATE_REVIEW_STATUS_NOT_DUPLICATE},
    });
    r.push_back(std::move(info));
  }
  r.push_back(
      Make(v1::RECORD_TYPE_PROGRAMME, "programme", P::kLastWriterWins, v1::Programme::descriptor(), false, true));
  r.push_back(Make(v1::RECORD_TYPE_HUB, "hub", P::kLastWriterWins, v1::Hub::descriptor(), false, true));
  r.push_back(Make(v1::RECORD_TYPE_VENUE, "venue", P::kLastWriterWins, v1::Venue::descriptor(), false, true));
  r.push_back(Make(v1::RECORD_TYPE_PARTNER_ORGANISATION, "partner_organisation", P::kLastWriterWins,
                   v1::PartnerOrganisation::descriptor(), false, true));
  r.push_back(
      Make(v1::RECORD_TYPE_INSTRUMENT, "instrument", P::kLastWriterWins, v1::Instrument::descriptor(), false, true));

  std::sort(r.begin(), r.end(), [](const auto& a, const auto& b) { return a.type < b.type; });

  // Every field that names another record, by the type it names (UNSPECIFIED: any).
  struct LinkDeclaration {
    v1::RecordType from;
    const char* field;
    v1::RecordType to;
  };
  static const LinkDeclaration kLinks[] = {
      {v1::RECORD_TYPE_PARTICIPANT, "venue_id", v1::RECORD_TYPE_VENUE},
      {v1::RECORD_TYPE_PARTICIPANT, "merged_into", v1::RECORD_TYPE_PARTICIPANT},
      {v1::RECORD_TYPE_CONSENT, "participant_id", v1::RECORD_TYPE_PARTICIPANT},
      {v1::RECORD_TYPE_CONSENT, "partner_ids", v1::RECORD_TYPE_PARTNER_ORGANISATION},
      {v1::RECORD_TYPE_EVIDENCE_ITEM, "participant_id", v1::RECORD_TYPE_PARTICIPANT},
      {v1::RECORD_TYPE_VALIDATION, "participant_id", v1::RECORD_TYPE_PARTICIPANT},
      {v1::RECORD_TYPE_VALIDATION, "evidence_ids", v1::RECORD_TYPE_EVIDENCE_ITEM},
      {v1::RECORD_TYPE_ASSESSMENT, "participant_id", v1::RECORD_TYPE_PARTICIPANT},
      {v1::RECORD_TYPE_BARRIER, "participant_id", v1::RECORD_TYPE_PARTICIPANT},
      {v1::RECORD_TYPE_SEGMENT, "participant_id", v1::RECORD_TYPE_PARTICIPANT},
      {v1::RECORD_TYPE_ACTION_PLAN, "participant_id", v1::RECORD_TYPE_PARTICIPANT},
      {v1::RECORD_TYPE_ACTION_STEP, "plan_id", v1::RECORD_TYPE_ACTION_PLAN},
      {v1::RECORD_TYPE_ACTION_STEP, "participant_id", v1::RECORD_TYPE_PARTICIPANT},
      {v1::RECORD_TYPE_SESSION, "venue_id", v1::RECORD_TYPE_VENUE},
      {v1::RECORD_TYPE_BOOKING, "session_id", v1::RECORD_TYPE_SESSION},
      {v1::RECORD_TYPE_BOOKING, "participant_id", v1::RECORD_TYPE_PARTICIPANT},
      {v1::RECORD_TYPE_ATTENDANCE, "session_id", v1::RECORD_TYPE_SESSION},
      {v1::RECORD_TYPE_ATTENDANCE, "participant_id", v1::RECORD_TYPE_PARTICIPANT},
      {v1::RECORD_TYPE_CONTACT_ATTEMPT, "participant_id", v1::RECORD_TYPE_PARTICIPANT},
      {v1::RECORD_TYPE_REFERRAL, "participant_id", v1::RECORD_TYPE_PARTICIPANT},
      {v1::RECORD_TYPE_REFERRAL, "partner_id", v1::RECORD_TYPE_PARTNER_ORGANISATION},
      {v1::RECORD_TYPE_REFERRAL, "consent_id", v1::RECORD_TYPE_CONSENT},
      {v1::RECORD_TYPE_SUPPORT_SPEND, "participant_id", v1::RECORD_TYPE_PARTICIPANT},
      {v1::RECORD_TYPE_SUPPORT_SPEND, "receipt_evidence_id", v1::RECORD_TYPE_EVIDENCE_ITEM},
      {v1::RECORD_TYPE_OUTCOME, "participant_id", v1::RECORD_TYPE_PARTICIPANT},
      {v1::RECORD_TYPE_OUTCOME, "evidence_ids", v1::RECORD_TYPE_EVIDENCE_ITEM},
      {v1::RECORD_TYPE_CASE_NOTE, "participant_id", v1::RECORD_TYPE_PARTICIPANT},
      {v1::RECORD_TYPE_CASE_NOTE, "supersedes", v1::RECORD_TYPE_CASE_NOTE},
      {v1::RECORD_TYPE_EXIT, "participant_id", v1::RECORD_TYPE_PARTICIPANT},
      {v1::RECORD_TYPE_ENQUIRY, "venue_id", v1::RECORD_TYPE_VENUE},
      {v1::RECORD_TYPE_ENQUIRY, "participant_id", v1::RECORD_TYPE_PARTICIPANT},
      {v1::RECORD_TYPE_CONFLICT, "record_id", v1::RECORD_TYPE_UNSPECIFIED},
      {v1::RECORD_TYPE_DUPLICATE_REVIEW, "participant_id", v1::RECORD_TYPE_PARTICIPANT},
      {v1::RECORD_TYPE_DUPLICATE_REVIEW, "other_participant_id", v1::RECORD_TYPE_PARTICIPANT},
      {v1::RECORD_TYPE_DUPLICATE_REVIEW, "kept_participant_id", v1::RECORD_TYPE_PARTICIPANT},
      {v1::RECORD_TYPE_HUB, "programme_id", v1::RECORD_TYPE_PROGRAMME},
      {v1::RECORD_TYPE_PARTNER_ORGANISATION, "hub_ids", v1::RECORD_TYPE_HUB},
  };
  // Who acted: set only to the enrolled person of the writing device.
  struct ActorDeclaration {
    v1::RecordType type;
    const char* field;
  };
  static const ActorDeclaration kActors[] = {
      {v1::RECORD_TYPE_ASSESSMENT, "assessor"},      {v1::RECORD_TYPE_ACTION_PLAN, "agreed_by"},
      {v1::RECORD_TYPE_SUPPORT_SPEND, "decided_by"}, {v1::RECORD_TYPE_CASE_NOTE, "author"},
      {v1::RECORD_TYPE_CONFLICT, "resolved_by"},     {v1::RECORD_TYPE_DUPLICATE_REVIEW, "decided_by"},
  };
  auto entry = [&r](v1::RecordType type) -> RecordTypeInfo& {
    return *std::find_if(r.begin(), r.end(), [type](const RecordTypeInfo& i) { return i.type == type; });
  };
  for (const LinkDeclaration& l : kLinks) {
    RecordTypeInfo& info = entry(l.from);
    info.links.push_back(RecordLink{Field(info.descriptor, l.field), l.to});
  }
  for (const ActorDeclaration& a : kActors) {
    RecordTypeInfo& info = entry(a.type);
    info.actor_fields.push_back(Field(info.descriptor, a.field));
  }
  return r;
}

}  // namespace

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
  if (from == to) return true;
  return std::find(transitions.begin(), transitions.end(), std::make_pair(from, to)) != transitions.end();
}

bool RecordTypeInfo::IsInitialState(int state) const {
  return std::find(initial_states.begin(), initial_states.end(), state) != initial_states.end();
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
