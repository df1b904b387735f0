// outreach::Device: the C++ API of liboutreach for the whole participant journey
// (DOMAIN.md steps 1-14), on the device's local SQLite file.
//
// This C++ API (outreach/device.h, outreach/sync.h, outreach/rejected_change.h) is for
// in-tree use: the C API (outreach/outreach.h, the only installed header and the only
// stable ABI), the `outreach` command line, tests and benchmarks. It is not installed
// and may change with any commit; it is built on common/ (Status/Result, Uuid, the HLC
// clock) and the generated records.proto messages. It does not expose the device's
// store: in-tree code that needs it (sync, tests, benchmarks) reaches it through the
// internal header client/journey/device_internals.h.
//
// Every operation validates its input first and refuses bad input with a Status naming
// the field and the reason (kInvalidArgument, kNotFound for an unknown id,
// kFailedPrecondition for an illegal state transition, kResourceExhausted for a full
// session, kPermissionDenied for a write an enrolled kiosk may not make: a kiosk writes
// only attendance marked by the kiosk and enquiries); a refused operation changes nothing
// stored. An accepted operation is ONE
// SQLite transaction holding the record, its field versions, projections, change log
// and outbox entry (see client/store/).
//
// Creating operations take the record's body message; fields the library owns are
// filled in when empty (dates default to today, the adviser/author to this device's
// user, initial states) and the stored record is returned. Dates are "YYYY-MM-DD",
// instants "YYYY-MM-DDTHH:MM"; "today" is the UTC date of the device's clock.
//
// Merge policies, state machines and participant links come from
// common/record_registry.h; this API never restates them.
//
// Thread safety: a Device may be used from one thread while Sync() runs on another
// (the store serialises access to the file).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/message.h>

#include "common/hlc.h"
#include "common/status.h"
#include "common/uuid.h"
#include "outreach/rejected_change.h"
#include "outreach/v1/records.pb.h"

namespace outreach {

namespace client {
class LocalStore;  // client/store/local_store.h; private to Device
}  // namespace client

struct DeviceOptions {
  std::string path;  // the SQLite file; created if missing
  // Physical clock in Unix milliseconds (tests inject a fixed instant).
  HybridClock::PhysicalClock clock = HybridClock::SystemMillis;
  // The adviser this device captures for until it is enrolled (enrolment's user name
  // replaces it). Used as the default adviser, assessor and author.
  std::string user_name;
};

// A check that could fail a file later but does not stop capture.
struct Warning {
  std::string code;     // e.g. "missing_ni_proof", "action_plan_not_agreed_within_one_month"
  std::string field;    // the field or record kind it is about
  std::string message;  // for the adviser
};

// A value held on this device that does not meet its field's format (a phone number,
// postcode, e-mail or NI number stored before formats were checked and that does not
// parse): kept as it was, for a person to correct.
struct StoredFormatProblem {
  Uuid record_id;
  v1::RecordType type = v1::RECORD_TYPE_UNSPECIFIED;
  std::string field;
  std::string value;    // as stored
  std::string problem;  // the format it misses, as a new value would be refused
};

// Distance travelled on one instrument: latest completion minus the baseline (the
// first completion of that instrument), per domain and in total.
struct DomainDistance {
  std::string domain;
  int32_t baseline = 0;
  int32_t latest = 0;
  int32_t change = 0;
};
struct DistanceTravelled {
  std::string instrument_id;
  Uuid baseline_id;
  Uuid latest_id;
  std::string baseline_on;
  std::string latest_on;
  std::vector<DomainDistance> domains;  // in the instrument's domain order
  int32_t total_baseline = 0;
  int32_t total_latest = 0;
  int32_t total_change = 0;
};

// One person on a session's register.
struct RegisterLine {
  v1::Record participant;
  std::optional<v1::Record> booking;
  std::optional<v1::Record> attendance;
};
struct SessionRegister {
  v1::Record session;
  std::vector<RegisterLine> lines;  // booked or marked people, by family then given name
};

struct TimelineEntry {
  std::string on;  // the record's own date (or instant)
  v1::Record record;
};

struct NotSeen {
  v1::Record participant;
  std::string last_seen_on;  // YYYY-MM-DD
  int days = 0;              // days since then
};

// An enquiry and, once an adviser has registered the person, their registration.
struct EnquiryLine {
  v1::Record enquiry;
  std::optional<v1::Record> participant;  // the registration it became, when converted
  // Referral-to-first-contact: days from the enquiry's received_at date to the
  // participant's registered_on; set only when converted.
  std::optional<int> days_to_registration;
};

struct OverduePlan {
  v1::Record plan;
  std::string reason;              // "not_agreed_within_one_month", "review_overdue" or "step_overdue"
  std::string due_on;              // when it fell due
  std::optional<v1::Record> step;  // for "step_overdue"
};

class Device {
 public:
  static Result<std::unique_ptr<Device>> Open(const DeviceOptions& options);

  // The body fields of `type` its creating operation below fills in when the caller leaves
  // them empty (dates, who acted, initial states, defaults such as an enquiry's source), so
  // a caller need not give them even where the type's rules require them.
  static const std::set<std::string>& FilledWhenEmpty(v1::RecordType type);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  Uuid device_id();
  std::string user_name();  // enrolled user, else DeviceOptions::user_name
  std::string Today();      // YYYY-MM-DD from the device clock, in the hub's time zone

  // ------------------------------------------------------------ any record
  Result<v1::Record> Get(const Uuid& id);
  // Replaces the body of a record with `body` (its full new state, same message type).
  // Only the fields that differ become the change. Refused for append-only records,
  // for a different participant link, for an illegal state transition, and for bad
  // values (the create checks of the type apply).
  Result<v1::Record> Update(const Uuid& id, const google::protobuf::Message& body);
  // Tombstone. Refused for append-only records and participants (exit them instead).
  Result<v1::Record> Delete(const Uuid& id);

  // ------------------------------------------------------------ the journey
  // 1-2. Registration. Required: given_name, family_name, date_of_birth (real date, not
  // in the future). NI number, if given, must be two letters, six digits, A-D (spaces
  // allowed; stored upper-case without spaces). Reference minted from the device prefix.
  // Status active, registered_on today, adviser = user_name() unless given.
  Result<v1::Record> RegisterParticipant(v1::Participant participant);
  Result<v1::Record> UpdateParticipant(const Uuid& id, const v1::Participant& participant);
  // 1. An expression of interest (e.g. self-registered at a kiosk): given_name, a phone
  // or email, and consent_to_contact (true) required; source defaults to self,
  // received_at to now. It reaches the hub's advisers, coordinators and managers at the
  // next sync, never another kiosk.
  Result<v1::Record> RecordEnquiry(v1::Enquiry enquiry);
  // 1-2. Registers the person of an open enquiry: names, phone, email, venue, referral
  // source and date come from the enquiry where `participant` leaves them empty, and the
  // enquiry's participant_id is set to the new participant, in the same transaction as
  // the registration. Refused (field "enquiry_id") for an enquiry already registered.
  Result<v1::Record> RegisterFromEnquiry(const Uuid& enquiry_id, v1::Participant participant);
  // 3. Consent: participant_id, purpose, wording_version, method required.
  Result<v1::Record> RecordConsent(v1::Consent consent);
  Result<v1::Record> WithdrawConsent(const Uuid& consent_id, std::string withdrawn_on = {});
  // 4. Evidence (append-only) and the validation file (a state machine).
  Result<v1::Record> AddEvidence(v1::EvidenceItem evidence);
  Result<v1::Record> OpenValidation(v1::Validation validation);  // draft unless given
  // Moving to rejected or precheck_returned requires at least one reason.
  Result<v1::Record> MoveValidation(const Uuid& validation_id, v1::ValidationStatus to,
                                    std::vector<v1::ValidationRejectionReason> reasons = {}, std::string note = {});
  // Device-side checks before submission: required documents (NI proof, right to work),
  // plan agreed within a month of the start, another participant with the same NI number.
  Result<std::vector<Warning>> CheckBeforeSubmission(const Uuid& participant_id);
  // Every live record's values that do not meet their format, by record type.
  Result<std::vector<StoredFormatProblem>> StoredFormatProblems();
  // 5. Barriers (LWW; update with Update) and the job-readiness segment (a new record per
  // change, so history is kept: ParticipantRecords(id, RECORD_TYPE_SEGMENT)).
  Result<v1::Record> RecordBarrier(v1::Barrier barrier);
  Result<v1::Record> SetSegment(v1::Segment segment);
  // 6. Assessment against a versioned instrument held on the device ("my-journey" v1 is
  // seeded); every score within its domain's range; each domain at most once.
  Result<v1::Record> RecordAssessment(v1::Assessment assessment);
  Result<DistanceTravelled> ComputeDistanceTravelled(const Uuid& participant_id, const std::string& instrument_id);
  // 7. Action plans and steps (update both with Update).
  Result<v1::Record> CreateActionPlan(v1::ActionPlan plan);
  Result<v1::Record> AddActionStep(v1::ActionStep step);
  // 8. Sessions, bookings and attendance. A booking beyond capacity (capacity > 0) is
  // refused with kResourceExhausted. Attendance rows have the derived id
  // Uuid::DeriveRegisterRow("attendance", session_id.raw(), participant_id.raw()); marking again
  // updates the same row. did_not_attend requires a reason.
  Result<v1::Record> CreateSession(v1::Session session);
  Result<v1::Record> BookSession(v1::Booking booking);
  Result<v1::Record> MarkAttendance(v1::Attendance attendance);
  // Kiosk sign-in: marks the person with this reference attended (marked by kiosk).
  Result<v1::Record> SignInByReference(const Uuid& session_id, std::string_view reference);
  // 9. Contact attempts (append-only).
  Result<v1::Record> LogContact(v1::ContactAttempt attempt);
  // 10. Referrals: a warm handover needs a summary. `detail` is the rejection reason
  // (to rejected), the date (to first_appointment) or feedback (to completed).
  Result<v1::Record> MakeReferral(v1::Referral referral);
  Result<v1::Record> MoveReferral(const Uuid& referral_id, v1::ReferralStatus to, std::string detail = {});
  // 11. Support spend: amount > 0. Refusal needs a reason. `decided_by`, when given, must
  // be the device's user (who acted is always the enrolled person; kInvalidArgument otherwise).
  Result<v1::Record> RequestSpend(v1::SupportSpend spend);
  Result<v1::Record> DecideSpend(const Uuid& spend_id, v1::SpendStatus to, std::string decided_by = {},
                                 std::string refusal_reason = {});
  // 12. Outcomes: one claim of a kind per participant. `detail` is the rejection reason.
  Result<v1::Record> RecordOutcome(v1::Outcome outcome);
  Result<v1::Record> MoveOutcome(const Uuid& outcome_id, v1::OutcomeStatus to, std::string detail = {});
  // 13. Case notes (append-only). Restricted notes never get an outbox entry.
  Result<v1::Record> AddCaseNote(v1::CaseNote note);
  // 14. Exit (sets the participant exited, one transaction) and re-open (sets the
  // latest exit's reopened_on and the participant active again).
  Result<v1::Record> ExitParticipant(v1::Exit exit);
  Result<v1::Record> ReopenParticipant(const Uuid& participant_id, std::string reopened_on = {});
  // Resolves an open conflict: kept_winner, or took_loser (also writes the losing value
  // back to the record as a new edit).
  Result<v1::Record> ResolveConflict(const Uuid& conflict_id, v1::ConflictStatus resolution);
  // A hub manager's decision on a duplicate review: merged (keeping
  // `kept_participant_id`, one of the two) or not_duplicate. On merge the server
  // redirects every record of the other participant to the kept one, on every device.
  Result<v1::Record> DecideDuplicate(const Uuid& review_id, v1::DuplicateReviewStatus decision,
                                     const Uuid& kept_participant_id = Uuid());
  // Erasure (a data-subject request; the server accepts it from a manager): purges the
  // participant's personal data and every linked record on this device now, and on the
  // server and every other device at their next sync. Ids, types and times remain.
  Result<v1::Record> EraseParticipant(const Uuid& participant_id);

  // ------------------------------------------------------------ queries
  Result<std::vector<v1::Record>> ListParticipants();
  // Every enquiry held (open ones first, then by received_at), with the registration of
  // converted ones. Refused on a kiosk: enquiries are other people's data.
  Result<std::vector<EnquiryLine>> ListEnquiries();
  // The instruments held (assessments are scored against them), by id then version.
  Result<std::vector<v1::Record>> Instruments();
  // The programme this device's hub delivers (reference data: its name, funder, strands,
  // ages and the eligibility rules in force), or NotFound before the hub has one.
  Result<v1::Record> Programme();
  // The partner organisations held (those holding a contract in this device's hub, from
  // the programme's reference data), by name. Refused on a kiosk, which holds none.
  Result<std::vector<v1::Record>> Partners();
  // Active participants held by `adviser` (default user_name()).
  Result<std::vector<v1::Record>> Caseload(std::string adviser = {});
  // Sessions at a venue on a day (default today) with their registers.
  Result<std::vector<SessionRegister>> SessionsAtVenue(const Uuid& venue_id, std::string day = {});
  Result<std::vector<TimelineEntry>> Timeline(const Uuid& participant_id);
  // Active participants not seen for `days` days or more, longest first.
  Result<std::vector<NotSeen>> NotSeenFor(int days = 14);
  Result<std::vector<OverduePlan>> OverdueActionPlans();
  Result<std::vector<v1::Record>> FindParticipants(std::string_view name);
  Result<std::optional<v1::Record>> FindByReference(std::string_view reference);
  Result<std::vector<v1::Record>> ParticipantRecords(const Uuid& participant_id, v1::RecordType type);
  // Every record the device holds, ordered by (type, id).
  Result<std::vector<v1::Record>> Export();
  Result<std::vector<v1::Record>> OpenConflicts();
  // Possible duplicate participants the server found, still to be decided.
  Result<std::vector<v1::Record>> OpenDuplicateReviews();
  Result<std::vector<RejectedChange>> RejectedChanges();

 private:
  // Hands the store to in-tree code (sync, tests): client/journey/device_internals.h.
  friend struct DeviceInternals;

  Device(const DeviceOptions& options, std::unique_ptr<client::LocalStore> store);

  DeviceOptions options_;
  std::unique_ptr<client::LocalStore> store_;
};

}  // namespace outreach
