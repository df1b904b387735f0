// The rules of every built-in record type (record_rules.h), one entry per type, checked
// in the order listed. Named checks are the rules no declaration expresses.
#include <algorithm>
#include <map>

#include "common/dates.h"
#include "common/validation/record_rules.h"

namespace outreach::validation {
namespace {

using google::protobuf::Message;

template <typename T>
const T& BodyAs(const v1::Record& r) {
  return static_cast<const T&>(*RecordBody(r));
}

// An assessment scores every domain of the instrument version it names, once, within the
// domain's range; a retired instrument takes no new assessments.
Status ScoresOfTheInstrument(const CheckInput& in) {
  const auto& a = static_cast<const v1::Assessment&>(in.body);
  Result<std::vector<v1::Record>> instruments = in.context.records.RecordsOfType(v1::RECORD_TYPE_INSTRUMENT);
  if (!instruments.ok()) return instruments.status();
  const v1::Instrument* instrument = nullptr;
  for (const v1::Record& r : *instruments) {
    const auto& i = BodyAs<v1::Instrument>(r);
    if (i.instrument_id() == a.instrument_id() && i.version() == a.instrument_version()) instrument = &i;
  }
  if (instrument == nullptr) {
    return Status::NotFound("no instrument '" + a.instrument_id() + "' version " +
                                std::to_string(a.instrument_version()) + " in the hub's reference data",
                            "instrument_id");
  }
  if (instrument->retired() && in.before == nullptr) {
    return Status::FailedPrecondition("instrument '" + a.instrument_id() + "' is retired", "instrument_id");
  }
  std::map<std::string, int> seen;
  for (const v1::DomainScore& s : a.scores()) {
    auto d = std::find_if(instrument->domains().begin(), instrument->domains().end(),
                          [&](const v1::InstrumentDomain& d) { return d.key() == s.domain(); });
    if (d == instrument->domains().end()) {
      std::string keys;
      for (const v1::InstrumentDomain& known : instrument->domains()) keys += (keys.empty() ? "" : ", ") + known.key();
      return Status::InvalidArgument(
          "scores", "'" + s.domain() + "' is not a domain of " + a.instrument_id() + "; its domains are: " + keys);
    }
    if (++seen[s.domain()] > 1) return Status::InvalidArgument("scores", "'" + s.domain() + "' is scored twice");
    if (s.score() < d->min_score() || s.score() > d->max_score()) {
      return Status::InvalidArgument("scores", s.domain() + " score " + std::to_string(s.score()) + " is outside " +
                                                   std::to_string(d->min_score()) + "-" +
                                                   std::to_string(d->max_score()));
    }
  }
  for (const v1::InstrumentDomain& d : instrument->domains()) {
    if (seen.count(d.key()) == 0) return Status::InvalidArgument("scores", "'" + d.key() + "' is not scored");
  }
  return Status::Ok();
}

// A step belongs to the participant of its plan.
Status StepOfThePlansParticipant(const CheckInput& in) {
  const auto& s = static_cast<const v1::ActionStep&>(in.body);
  Result<v1::Record> plan = LinkedRecord(in.context.records, s.plan_id(), v1::RECORD_TYPE_ACTION_PLAN, "plan_id");
  if (!plan.ok()) return plan.status();
  if (s.participant_id() != BodyAs<v1::ActionPlan>(*plan).participant_id()) {
    return Status::InvalidArgument("participant_id", "is not the participant of the plan");
  }
  return Status::Ok();
}

// Booking a place (a new booking, or one moved back to booked): the session is not
// cancelled, the person holds no other place on it, and a place is free.
Status PlaceOnTheSession(const CheckInput& in) {
  const auto& b = static_cast<const v1::Booking&>(in.body);
  const bool booking_now =
      b.status() == v1::BOOKING_STATUS_BOOKED &&
      (in.before == nullptr || static_cast<const v1::Booking&>(*in.before->body).status() != v1::BOOKING_STATUS_BOOKED);
  if (!booking_now) return Status::Ok();
  Result<v1::Record> session = LinkedRecord(in.context.records, b.session_id(), v1::RECORD_TYPE_SESSION, "session_id");
  if (!session.ok()) return session.status();
  const auto& sess = BodyAs<v1::Session>(*session);
  if (sess.status() == v1::SESSION_STATUS_CANCELLED) {
    return Status::FailedPrecondition("the session was cancelled", "session_id");
  }
  Result<std::vector<v1::Record>> bookings = in.context.records.RecordsLinkedTo(
      v1::RECORD_TYPE_BOOKING, *v1::Booking::descriptor()->FindFieldByName("session_id"),
      *Uuid::FromBytes(b.session_id()));
  if (!bookings.ok()) return bookings.status();
  uint32_t booked = 0;
  for (const v1::Record& r : *bookings) {
    const auto& other = BodyAs<v1::Booking>(r);
    if (other.status() != v1::BOOKING_STATUS_BOOKED || (in.before != nullptr && r.id() == in.before->id)) continue;
    if (other.participant_id() == b.participant_id()) {
      return Status(ErrorCode::kAlreadyExists, "is already booked on this session", "participant_id");
    }
    ++booked;
  }
  if (sess.capacity() > 0 && booked >= sess.capacity()) {
    return Status(
        ErrorCode::kResourceExhausted,
        "the session is full (" + std::to_string(booked) + " of " + std::to_string(sess.capacity()) + " places booked)",
        "capacity");
  }
  return Status::Ok();
}

// One claim of a kind per participant: a new outcome of a kind the person already has
// (not rejected) is refused. On the device only (see the table).
Status OneOutcomeOfAKind(const CheckInput& in) {
  if (in.before != nullptr) return Status::Ok();
  const auto& o = static_cast<const v1::Outcome&>(in.body);
  Result<std::vector<v1::Record>> others = in.context.records.RecordsLinkedTo(
      v1::RECORD_TYPE_OUTCOME, *in.info.participant_field, *Uuid::FromBytes(o.participant_id()));
  if (!others.ok()) return others.status();
  for (const v1::Record& r : *others) {
    const auto& other = BodyAs<v1::Outcome>(r);
    if (other.kind() == o.kind() && other.status() != v1::OUTCOME_STATUS_REJECTED) {
      return Status(ErrorCode::kAlreadyExists,
                    "the participant already has a " +
                        EnumValueShortName(v1::OutcomeKind_descriptor()->FindValueByNumber(o.kind())) + " outcome (" +
                        Uuid::FromBytes(r.id())->ToString() + ")",
                    "kind");
    }
  }
  return Status::Ok();
}

// The programme the writer's hub delivers (the one programme held: a device holds only
// its hub's, the server reads the one shared with the writer's hub); nullopt if none.
Result<std::optional<v1::Programme>> HubProgramme(RecordLookup& records) {
  Result<std::vector<v1::Record>> programmes = records.RecordsOfType(v1::RECORD_TYPE_PROGRAMME);
  if (!programmes.ok()) return programmes.status();
  if (programmes->empty()) return std::optional<v1::Programme>();
  return std::optional<v1::Programme>(BodyAs<v1::Programme>(programmes->front()));
}

// Whether an update leaves every one of `fields` (text) as the stored version holds it:
// a rule about them is not judged again (a programme's rules may change, and must not
// block an unrelated edit of a person registered before).
bool KeptAsStored(const CheckInput& in, std::initializer_list<const char*> fields) {
  if (in.before == nullptr) return false;
  const auto* d = in.body.GetDescriptor();
  for (const char* name : fields) {
    const google::protobuf::FieldDescriptor* f = d->FindFieldByName(name);
    if (in.body.GetReflection()->GetString(in.body, f) !=
        in.before->body->GetReflection()->GetString(*in.before->body, f)) {
      return false;
    }
  }
  return true;
}

// A participant's age on the registration date (today for a new one) is within the
// range of the programme their hub delivers (kProgrammeAges when it sets none).
Status AgeWithinTheProgrammeRange(const CheckInput& in) {
  const auto& p = static_cast<const v1::Participant&>(in.body);
  if (KeptAsStored(in, {"date_of_birth", "registered_on"})) return Status::Ok();
  const std::optional<Date> born = ParseDate(p.date_of_birth());
  const std::string on = p.registered_on().empty() ? in.context.today : p.registered_on();
  const std::optional<Date> day = ParseDate(on);
  if (!born || !day) return Status::Ok();  // CheckForms and Required refuse these
  Result<std::optional<v1::Programme>> programme = HubProgramme(in.context.records);
  if (!programme.ok()) return programme.status();
  AgeRange range = kProgrammeAges;
  std::string whose = "the programme";
  if (programme->has_value() && (*programme)->max_age() != 0) {
    range = AgeRange{static_cast<int>((*programme)->min_age()), static_cast<int>((*programme)->max_age())};
    whose = (*programme)->name();
  }
  const bool before_birthday = std::pair(day->month, day->day) < std::pair(born->month, born->day);
  const int age = day->year - born->year - (before_birthday ? 1 : 0);
  if (age >= range.min && age <= range.max) return Status::Ok();
  return Status::InvalidArgument(
      "date_of_birth", p.date_of_birth() + " gives an age of " + std::to_string(age) + " on " + on +
                           (p.registered_on().empty() ? "" : " (registration)") + "; " + whose + " takes people aged " +
                           std::to_string(range.min) + " to " + std::to_string(range.max));
}

// A participant is claimed by a strand of the programme their hub delivers, when it
// names its strands.
Status StrandOfTheProgramme(const CheckInput& in) {
  const auto& p = static_cast<const v1::Participant&>(in.body);
  if (p.programme_strand().empty() || KeptAsStored(in, {"programme_strand"})) return Status::Ok();
  Result<std::optional<v1::Programme>> programme = HubProgramme(in.context.records);
  if (!programme.ok()) return programme.status();
  if (!programme->has_value() || (*programme)->strands().empty()) return Status::Ok();
  const auto& strands = (*programme)->strands();
  if (std::find(strands.begin(), strands.end(), p.programme_strand()) != strands.end()) return Status::Ok();
  std::string listed;
  for (const std::string& s : strands) listed += (listed.empty() ? "" : ", ") + s;
  return Status::InvalidArgument("programme_strand", "'" + p.programme_strand() + "' is not a strand of " +
                                                         (*programme)->name() + " (its strands: " + listed + ")");
}

// A participant's status moves only by an exit: to exited while an exit of theirs is
// open, back to active once every exit is re-opened. Merged is the server's to set. The
// device's ExitParticipant and ReopenParticipant write the exit before the status, so the
// server, checking each pushed change in order, finds the exit in place.
Status StatusFollowsTheExits(const CheckInput& in) {
  const auto& p = static_cast<const v1::Participant&>(in.body);
  const v1::ParticipantStatus before = in.before != nullptr
                                           ? static_cast<const v1::Participant&>(*in.before->body).status()
                                           : v1::PARTICIPANT_STATUS_UNSPECIFIED;
  if (p.status() == before) return Status::Ok();
  const std::string refused = "status changes by exit and re-open, not by update";
  const bool exiting = before == v1::PARTICIPANT_STATUS_ACTIVE && p.status() == v1::PARTICIPANT_STATUS_EXITED;
  const bool reopening = before == v1::PARTICIPANT_STATUS_EXITED && p.status() == v1::PARTICIPANT_STATUS_ACTIVE;
  if (in.before == nullptr && p.status() == v1::PARTICIPANT_STATUS_ACTIVE) return Status::Ok();  // registered
  if (!exiting && !reopening) return Status::FailedPrecondition(refused, "status");
  Result<Uuid> id = Uuid::FromBytes(std::string(in.before->id));
  if (!id.ok()) return id.status();
  Result<std::vector<v1::Record>> exits = in.context.records.RecordsLinkedTo(
      v1::RECORD_TYPE_EXIT, *FindRecordType(v1::RECORD_TYPE_EXIT)->participant_field, *id);
  if (!exits.ok()) return exits.status();
  const bool open = std::any_of(exits->begin(), exits->end(),
                                [](const v1::Record& r) { return BodyAs<v1::Exit>(r).reopened_on().empty(); });
  if (exiting && !open) return Status::FailedPrecondition(refused + " (no exit of theirs is recorded)", "status");
  if (reopening && open) return Status::FailedPrecondition(refused + " (their exit is not re-opened)", "status");
  return Status::Ok();
}

// A referral (or warm handover) to a partner rests on the participant's consent to share
// with partners, active on the day it is made and covering that partner.
Status ConsentToShareWithThePartner(const CheckInput& in) {
  const auto& r = static_cast<const v1::Referral&>(in.body);
  return RequireActiveConsent(in.context.records, ConsentNeed{.participant_id = r.participant_id(),
                                                              .purpose = v1::CONSENT_PURPOSE_SHARE_WITH_PARTNERS,
                                                              .on = r.made_on(),
                                                              .partner_id = r.partner_id(),
                                                              .consent_id = r.consent_id(),
                                                              .what = "referral",
                                                              .field = "consent_id"});
}

// A referral names a partner the hub holds (programme reference data) whose contract
// covers the day it is made: one that has not started yet, or has ended (a partner that
// left), takes no new referrals. Judged when the partner or the date is set or changed,
// not when a referral made earlier moves on.
Status PartnerOfTheHubOnTheDay(const CheckInput& in) {
  const auto& r = static_cast<const v1::Referral&>(in.body);
  if (r.partner_id().empty() || KeptAsStored(in, {"partner_id", "made_on"})) return Status::Ok();
  Result<v1::Record> partner =
      LinkedRecord(in.context.records, r.partner_id(), v1::RECORD_TYPE_PARTNER_ORGANISATION, "partner_id");
  if (!partner.ok()) return partner.status();
  const v1::PartnerOrganisation& p = BodyAs<v1::PartnerOrganisation>(*partner);
  const std::string_view day = std::string_view(r.made_on()).substr(0, 10);
  if (!p.starts_on().empty() && day < std::string_view(p.starts_on())) {
    return Status::FailedPrecondition(
        p.name() + "'s contract starts on " + p.starts_on() + ", after the referral (" + r.made_on() + ")",
        "partner_id");
  }
  if (!p.ends_on().empty() && day > std::string_view(p.ends_on())) {
    return Status::FailedPrecondition(
        p.name() + "'s contract ended on " + p.ends_on() + ", before the referral (" + r.made_on() + ")", "partner_id");
  }
  return Status::Ok();
}

// Each partner a consent newly names is one the hub holds (a partner named before is not
// judged again: a consent is withdrawn whatever became of the partners it named).
Status PartnersOfTheHub(const CheckInput& in) {
  const auto& c = static_cast<const v1::Consent&>(in.body);
  const auto* before = in.before != nullptr ? &static_cast<const v1::Consent&>(*in.before->body) : nullptr;
  for (const std::string& partner : c.partner_ids()) {
    if (before != nullptr &&
        std::find(before->partner_ids().begin(), before->partner_ids().end(), partner) != before->partner_ids().end()) {
      continue;
    }
    OUTREACH_RETURN_IF_ERROR(
        LinkedRecord(in.context.records, partner, v1::RECORD_TYPE_PARTNER_ORGANISATION, "partner_ids").status());
  }
  return Status::Ok();
}

// A validation file is submitted (created as or moved to submitted) only while the
// participant's consent to hold their data is active that day.
Status ConsentToHoldDataOnSubmission(const CheckInput& in) {
  const auto& v = static_cast<const v1::Validation&>(in.body);
  if (v.status() != v1::VALIDATION_STATUS_SUBMITTED) return Status::Ok();
  if (in.before != nullptr &&
      static_cast<const v1::Validation&>(*in.before->body).status() == v1::VALIDATION_STATUS_SUBMITTED) {
    return Status::Ok();
  }
  return RequireActiveConsent(
      in.context.records,
      ConsentNeed{.participant_id = v.participant_id(),
                  .purpose = v1::CONSENT_PURPOSE_HOLD_DATA,
                  .on = v.status_changed_on().empty() ? std::string_view(in.context.today) : v.status_changed_on(),
                  .what = "submitting the validation file",
                  .field = "status"});
}

// A sustainment names a job start of the same participant (LinkOfSameParticipant checks
// whose) and is achieved at least 13 (26) weeks after it.
Status SustainsAJobStart(const CheckInput& in) {
  const auto& o = static_cast<const v1::Outcome&>(in.body);
  Result<v1::Record> start =
      LinkedRecord(in.context.records, o.job_start_id(), v1::RECORD_TYPE_OUTCOME, "job_start_id");
  if (!start.ok()) return start.status();
  const v1::Outcome& job = start->outcome();
  if (job.kind() != v1::OUTCOME_KIND_JOB_START) {
    return Status::InvalidArgument("job_start_id",
                                   Uuid::FromBytes(start->id())->ToString() + " is a " +
                                       EnumValueShortName(v1::OutcomeKind_descriptor()->FindValueByNumber(job.kind())) +
                                       " outcome, not a job start");
  }
  const int weeks = o.kind() == v1::OUTCOME_KIND_SUSTAINED_26_WEEKS ? 26 : 13;
  const std::optional<Date> started = ParseDate(job.achieved_on());
  const std::optional<Date> achieved = ParseDate(o.achieved_on());
  if (!started || !achieved) return Status::Ok();  // CheckForms and Required refuse these
  const int64_t days = DaysFromCivil(*achieved) - DaysFromCivil(*started);
  if (days >= weeks * 7) return Status::Ok();
  const std::string gap = days < 0 ? "before" : std::to_string(days) + " days after";
  return Status::InvalidArgument(
      "achieved_on", o.achieved_on() + " is " + gap + " the job start (" + job.achieved_on() + "); a " +
                         std::to_string(weeks) + "-week sustainment is at least " + std::to_string(weeks * 7) +
                         " days after it (from " + FormatDate(CivilFromDays(DaysFromCivil(*started) + weeks * 7)) +
                         ")");
}

std::vector<RecordRules> BuildRules() {
  constexpr int64_t kNoLimit = std::numeric_limits<int64_t>::max();
  const std::vector<int> sustainments = {v1::OUTCOME_KIND_SUSTAINED_13_WEEKS, v1::OUTCOME_KIND_SUSTAINED_26_WEEKS};
  // Dated between the participant's registration and exit, the default, and the variants.
  const JourneyBounds after_registration{.until_exit = false};
  const JourneyBounds tracked_after_exit{.tracked_after_exit = true};
  std::vector<RecordRules> t = {
      {v1::RECORD_TYPE_PARTICIPANT,
       true,
       {
           Required("given_name"),
           Required("family_name"),
           Required("date_of_birth"),
           NotAfterToday("date_of_birth"),
           Check("age_within_the_programme_range", AgeWithinTheProgrammeRange),
           Check("strand_of_the_programme", StrandOfTheProgramme),
           OptionalLink("delivery_partner_id"),
           FormatOf("ni_number", Format::kNiNumber),
           FormatOf("email", Format::kEmail),
           FormatOf("phone", Format::kPhone),
           FormatOf("postcode", Format::kPostcode),
           Unchanged("reference", ErrorCode::kInvalidArgument, "is minted by the device and cannot be changed"),
           Check("status_follows_the_exits", StatusFollowsTheExits),
       }},
      {v1::RECORD_TYPE_CONSENT,
       true,
       {
           Link("participant_id"),
           Required("purpose"),
           Required("wording_version"),
           Required("method"),
           Required("given_on"),
           NotAfterToday("given_on"),
           DatedInTheJourney("given_on"),
           NotBefore("withdrawn_on", "given_on", "is before the consent was given ({other})"),
           Check("partners_of_the_hub", PartnersOfTheHub),
       }},
      {v1::RECORD_TYPE_EVIDENCE_ITEM,
       true,
       {
           Link("participant_id"),
           Required("kind"),
           Required("captured_on"),
           NotAfterToday("captured_on"),
           // Evidence of an outcome achieved after exit (a payslip) is captured after it.
           DatedInTheJourney("captured_on", tracked_after_exit),
           FormatOf("content_sha256", Format::kSha256Hex),
       }},
      {v1::RECORD_TYPE_VALIDATION,
       true,
       {
           Link("participant_id"),
           Required("status"),
           Required("rules_version"),
           LinkOfSameParticipant("evidence_ids"),
           Required("rejection_reasons", "a rejected or returned file needs at least one reason")
               .When("status", {v1::VALIDATION_STATUS_REJECTED, v1::VALIDATION_STATUS_PRECHECK_RETURNED}),
           // status_changed_on is when the hub processed the file, which may follow an exit.
           DatedInTheJourney("status_changed_on", after_registration),
           Check("consent_to_hold_data_on_submission", ConsentToHoldDataOnSubmission),
       }},
      {v1::RECORD_TYPE_ASSESSMENT,
       true,
       {
           Link("participant_id"),
           Required("instrument_id"),
           Required("completed_on"),
           DatedInTheJourney("completed_on"),
           Check("scores_of_the_instrument", ScoresOfTheInstrument),
       }},
      {v1::RECORD_TYPE_BARRIER,
       true,
       {
           Link("participant_id"),
           Required("kind"),
           Required("status"),
           DatedInTheJourney("identified_on"),
           NotBefore("resolved_on", "identified_on", "is before the barrier was identified"),
       }},
      {v1::RECORD_TYPE_SEGMENT,
       true,
       {
           Link("participant_id"),
           Required("readiness"),
           Required("set_on"),
           DatedInTheJourney("set_on"),
       }},
      {v1::RECORD_TYPE_ACTION_PLAN,
       true,
       {
           Link("participant_id"),
           Required("status"),
           Required("started_on"),
           DatedInTheJourney("started_on"),
           Required("agreed_on").Unless("status", {v1::PLAN_STATUS_DRAFT}),
           NotBefore("agreed_on", "started_on", "is before the start").Unless("status", {v1::PLAN_STATUS_DRAFT}),
       }},
      {v1::RECORD_TYPE_ACTION_STEP,
       true,
       {
           Link("plan_id"),
           Check("step_of_the_plans_participant", StepOfThePlansParticipant),
           Required("description"),
           Required("status"),
           Required("completed_on").When("status", {v1::STEP_STATUS_DONE}),
           // due_on is a plan, not an event: a step may fall due after an exit.
           DatedInTheJourney("due_on", after_registration),
       }},
      {v1::RECORD_TYPE_SESSION,
       true,
       {
           Required("venue_id"),
           Required("kind"),
           Required("title"),
           Required("starts_at"),
           Range("duration_min", 1, 24 * 60, "must be between 1 and 1440 minutes"),
           Required("status"),
       }},
      {v1::RECORD_TYPE_BOOKING,
       true,
       {
           Link("session_id"),
           Link("participant_id"),
           Required("status"),
           DatedInTheJourney("booked_on"),
           Check("place_on_the_session", PlaceOnTheSession),
       }},
      {v1::RECORD_TYPE_ATTENDANCE,
       true,
       {
           Link("session_id"),
           Link("participant_id"),
           Required("status"),
           Required("reason", "did_not_attend needs a reason").When("status", {v1::ATTENDANCE_STATUS_DID_NOT_ATTEND}),
           Absent("reason", "is only for did_not_attend or cancelled")
               .Unless("status", {v1::ATTENDANCE_STATUS_DID_NOT_ATTEND, v1::ATTENDANCE_STATUS_CANCELLED_BY_PARTICIPANT,
                                  v1::ATTENDANCE_STATUS_CANCELLED_BY_STAFF}),
           Required("marked_by"),
           Required("marked_at"),
           NotAfterToday("marked_at"),
           DatedInTheJourney("marked_at"),
       }},
      {v1::RECORD_TYPE_CONTACT_ATTEMPT,
       true,
       {
           Link("participant_id"),
           Required("method"),
           Required("result"),
           Required("attempted_at"),
           NotAfterToday("attempted_at"),
           DatedInTheJourney("attempted_at", tracked_after_exit),
       }},
      {v1::RECORD_TYPE_REFERRAL,
       true,
       {
           Link("participant_id"),
           Required("kind"),
           AnyOf({"partner_id", "partner_name"}, "partner_name", "name the partner (or give partner_id)"),
           Required("summary").When("kind", {v1::REFERRAL_KIND_WARM_HANDOVER}),
           LinkOfSameParticipant("consent_id"),
           Required("made_on"),
           // A referral may come before the registration it leads to, never after an exit.
           DatedInTheJourney("made_on", {.from_registration = false}),
           Check("partner_of_the_hub_on_the_day", PartnerOfTheHubOnTheDay),
           Check("consent_to_share_with_the_partner", ConsentToShareWithThePartner)
               .When("kind", {v1::REFERRAL_KIND_REFERRAL, v1::REFERRAL_KIND_WARM_HANDOVER}),
           Required("rejection_reason").When("status", {v1::REFERRAL_STATUS_REJECTED}),
       }},
      {v1::RECORD_TYPE_SUPPORT_SPEND,
       true,
       {
           Link("participant_id"),
           Required("category"),
           Range("amount_pence", 1, kNoLimit, "must be more than zero"),
           LinkOfSameParticipant("receipt_evidence_id"),
           Required("requested_on"),
           DatedInTheJourney("requested_on"),
           Required("refusal_reason").When("status", {v1::SPEND_STATUS_REFUSED}),
       }},
      {v1::RECORD_TYPE_OUTCOME,
       true,
       {
           Link("participant_id"),
           Required("kind"),
           Required("achieved_on"),
           NotAfterToday("achieved_on"),
           DatedInTheJourney("achieved_on", tracked_after_exit),
           Required("employer").When("kind", {v1::OUTCOME_KIND_JOB_START}),
           Range("hours_per_week", 0, 168, "must be between 0 and 168"),
           LinkOfSameParticipant("evidence_ids"),
           Required("evidence_ids", "link at least one evidence item before the outcome is evidenced")
               .Unless("status", {v1::OUTCOME_STATUS_UNSPECIFIED, v1::OUTCOME_STATUS_REPORTED}),
           Required("job_start_id", "a sustainment names the job start it sustains").When("kind", sustainments),
           Absent("job_start_id", "is only for a sustainment (13 or 26 weeks)").Unless("kind", sustainments),
           LinkOfSameParticipant("job_start_id"),
           Check("sustains_a_job_start", SustainsAJobStart).When("kind", sustainments),
           Required("rejection_reason").When("status", {v1::OUTCOME_STATUS_REJECTED}),
           // On the device only: two advisers may each capture the same kind for one person
           // offline, and neither device can know of the other's. The server keeps the
           // second as a conflict for a person to resolve (reconciler.cc
           // CheckSecondClaim) rather than refuse an adviser's work after the fact.
           Check("one_outcome_of_a_kind", OneOutcomeOfAKind).OnDeviceOnly(),
       }},
      {v1::RECORD_TYPE_CASE_NOTE,
       true,
       {
           Link("participant_id"),
           Required("sensitivity"),
           Required("text"),
           Required("written_at"),
           DatedInTheJourney("written_at"),
           LinkOfSameParticipant("supersedes"),
       }},
      {v1::RECORD_TYPE_EXIT,
       true,
       {
           Link("participant_id"),
           Required("exited_on"),
           Required("reason"),
           DatedInTheJourney("exited_on", after_registration),
           NotBefore("reopened_on", "exited_on", "is before the exit"),
       }},
      {v1::RECORD_TYPE_ENQUIRY,
       true,
       {
           Required("given_name"),
           AnyOf({"phone", "email"}, "phone", "give a phone or an email"),
           FormatOf("phone", Format::kPhone),
           Required("consent_to_contact", "the person must agree to be contacted before an enquiry is recorded"),
           FormatOf("email", Format::kEmail),
           OptionalLink("participant_id"),
           Required("source"),
           Required("received_at"),
       }},
      {v1::RECORD_TYPE_CONFLICT, true, {Required("status")}},
      // Written by the server (reviews; their decision is DecideDuplicate's) or by
      // managers through the server (reference data): never validated as a capture. A
      // venue's format rule still normalises its postcode and lists a stored one that
      // does not meet it (FormatProblems).
      {v1::RECORD_TYPE_DUPLICATE_REVIEW, false, {}},
      {v1::RECORD_TYPE_PROGRAMME, false, {}},
      {v1::RECORD_TYPE_HUB, false, {}},
      {v1::RECORD_TYPE_VENUE, false, {FormatOf("postcode", Format::kPostcode)}},
      {v1::RECORD_TYPE_PARTNER_ORGANISATION, false, {}},
      {v1::RECORD_TYPE_INSTRUMENT, false, {}},
  };
  for (RecordRules& rules : t) ResolveFields(rules);
  std::sort(t.begin(), t.end(), [](const RecordRules& a, const RecordRules& b) { return a.type < b.type; });
  return t;
}

}  // namespace

const std::vector<RecordRules>& AllRecordRules() {
  static const std::vector<RecordRules> rules = BuildRules();
  return rules;
}

const RecordRules* FindRecordRules(v1::RecordType type) {
  for (const RecordRules& r : AllRecordRules())
    if (r.type == type) return &r;
  return nullptr;
}

}  // namespace outreach::validation
