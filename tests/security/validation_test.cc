// The server runs the device's validation (common/validation) on every pushed upsert:
// a device whose app skips the library's checks (HostileDevice speaks the protocol
// itself) has each invalid change REJECTED alone, naming the field and the reason,
// nothing of it in the hub log, and the rest of its batch applied. Against the real
// outreach-server over TLS on loopback. Built twice: on SQLite and on PostgreSQL.
//
// Adding a rule's case: build a valid body with the helpers (Person, Note, ...), break
// it, and ExpectRefused(type, body, "field", "words of the reason").
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "common/dates.h"
#include "common/hlc.h"
#include "outreach/device.h"
#include "outreach/sync.h"
#include "tests/security/hostile_device.h"
#include "tests/support/consents.h"
#include "tests/support/drama_numbers.h"
#include "tests/support/server_harness.h"

namespace outreach::testing {
namespace {

class ServerValidationTest : public ServerTest {
 protected:
  void SetUp() override {
    StartServer();
    adviser_ = Hostile(deployment_.hub_id, "adviser", "Ann Adviser");
    ASSERT_NE(adviser_, nullptr);
  }

  std::string Code(const std::string& hub, const std::string& role, const std::string& name) {
    CliResult r = RunCli({"enrol", "--data", deployment_.data, "--hub", hub, "--role", role, "--name", name, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.json().value("code", "");
  }
  std::unique_ptr<HostileDevice> Hostile(const std::string& hub, const std::string& role, const std::string& name) {
    auto device = HostileDevice::Enrol(port(), deployment_.ca_pem, Code(hub, role, name));
    EXPECT_TRUE(device.ok()) << device.status().ToString();
    return device.ok() ? std::move(device).value() : nullptr;
  }
  // A hub added with `outreach-server hub add --time-zone zone`.
  std::string AddHub(const std::string& name, const std::string& zone) {
    CliResult r = RunCli({"hub", "add", "--data", deployment_.data, "--name", name, "--time-zone", zone, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.json().value("hub_id", "");
  }
  std::string AddVenue() {
    CliResult r = RunCli({"venue", "add", "--data", deployment_.data, "--hub", deployment_.hub_id, "--name",
                          "Oak Children's Centre", "--kind", "childrens_centre", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.json().value("venue_id", "");
  }

  // Today in London, as the deployment's hub (no zone given) reckons it.
  static std::string Today() { return *LocalDateOfMillis(HybridClock::SystemMillis(), ""); }
  static std::string Now() { return Today() + "T09:30"; }

  // Valid bodies, to break one field of.
  static v1::Participant Person(const std::string& given = "Priya") {
    v1::Participant p;
    p.set_given_name(given);
    p.set_family_name("Patel");
    p.set_date_of_birth("1990-04-01");
    p.set_registered_on(Today());
    return p;
  }
  // `days` before today, in the deployment hub's reckoning.
  static std::string DaysAgo(int days) { return FormatDate(CivilFromDays(DaysFromCivil(*ParseDate(Today())) - days)); }
  static v1::Consent ConsentOf(const Uuid& participant, v1::ConsentPurpose purpose, const std::string& given_on) {
    return SignedConsent(participant.raw(), purpose, given_on);
  }
  static v1::CaseNote Note(const Uuid& participant) {
    v1::CaseNote n;
    n.set_participant_id(participant.raw());
    n.set_sensitivity(v1::NOTE_SENSITIVITY_NORMAL);
    n.set_text("called about the CV workshop");
    n.set_written_at(Now());
    return n;
  }

  // Pushes `body` as a new record of `type` by `device` (the adviser's by default); it must
  // be applied. Returns its id.
  Uuid Create(v1::RecordType type, const google::protobuf::Message& body, HostileDevice* device = nullptr) {
    const Uuid id = Uuid::NewV7();
    Result<v1::ChangeResult> r = (device ? device : adviser_.get())->PushOne(HostileDevice::Upsert(type, id, body));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) {
      EXPECT_EQ(r->outcome(), v1::CHANGE_OUTCOME_APPLIED) << r->ShortDebugString();
    }
    return id;
  }
  Uuid Participant(const std::string& given = "Priya") { return Create(v1::RECORD_TYPE_PARTICIPANT, Person(given)); }
  // A participant registered `days` ago, so records may be dated in the days since.
  Uuid RegisteredDaysAgo(int days) {
    v1::Participant p = Person();
    p.set_registered_on(DaysAgo(days));
    return Create(v1::RECORD_TYPE_PARTICIPANT, p);
  }
  static v1::Exit ExitOf(const Uuid& participant, const std::string& exited_on) {
    v1::Exit e;
    e.set_participant_id(participant.raw());
    e.set_exited_on(exited_on);
    e.set_reason(v1::EXIT_REASON_ENTERED_WORK);
    return e;
  }

  // Pushes `body` as a new record of `type` in one batch with a valid new participant:
  // `body` must come back REJECTED naming `field` with a reason holding `reason`, and be
  // absent from the hub log, while the participant is applied and logged.
  void ExpectRefused(v1::RecordType type, const google::protobuf::Message& body, const std::string& field,
                     const std::string& reason) {
    const Uuid bad = Uuid::NewV7(), good = Uuid::NewV7();
    Result<v1::PushAck> ack =
        adviser_->Push({HostileDevice::Upsert(type, bad, body),
                        HostileDevice::Upsert(v1::RECORD_TYPE_PARTICIPANT, good, Person("Gita"))});
    ASSERT_TRUE(ack.ok()) << ack.status().ToString();
    ASSERT_EQ(ack->results_size(), 2);
    const v1::ChangeResult& refused = ack->results(0);
    EXPECT_EQ(refused.outcome(), v1::CHANGE_OUTCOME_REJECTED) << refused.ShortDebugString();
    EXPECT_EQ(refused.field(), field) << refused.ShortDebugString();
    EXPECT_NE(refused.reason().find(reason), std::string::npos) << refused.ShortDebugString();
    EXPECT_EQ(ack->results(1).outcome(), v1::CHANGE_OUTCOME_APPLIED) << ack->results(1).ShortDebugString();
    EXPECT_FALSE(Logged(bad)) << "a refused change reached the hub log";
    EXPECT_TRUE(Logged(good)) << "the valid change of the same batch was not logged";
  }

  // Whether the hub log holds any change of record `id`.
  bool Logged(const Uuid& id) {
    Result<std::vector<v1::Change>> log = adviser_->PullAll();
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    if (!log.ok()) return false;
    for (const v1::Change& c : *log)
      if (c.record_id() == id.raw()) return true;
    return false;
  }

  std::unique_ptr<HostileDevice> adviser_;
};

// One field of a participant broken at a time, as a device that skips the library sends it.
TEST_F(ServerValidationTest, AParticipantWithAFieldOutOfItsFormIsRefused) {
  struct Case {
    std::function<void(v1::Participant&)> breaks;
    std::string field, reason;
  };
  const std::vector<Case> cases = {
      {[](v1::Participant& p) { p.clear_family_name(); }, "family_name", "is required"},
      {[](v1::Participant& p) { p.set_date_of_birth("1990-13-01"); }, "date_of_birth", "YYYY-MM-DD"},
      {[](v1::Participant& p) { p.set_date_of_birth(DaysAgo(6)); }, "date_of_birth", "gives an age of 0"},
      {[](v1::Participant& p) { p.set_ni_number("QQ12345"); }, "ni_number", "is not a National Insurance number"},
      {[](v1::Participant& p) { p.set_phone("0113 496"); }, "phone", "is not a valid UK phone number"},
      {[](v1::Participant& p) { p.set_postcode("hello world"); }, "postcode", "'hello world' is not a UK postcode"},
      {[](v1::Participant& p) { p.set_email("a@"); }, "email", "'a@' is not an e-mail address"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.field + ": " + c.reason);
    v1::Participant p = Person();
    c.breaks(p);
    ExpectRefused(v1::RECORD_TYPE_PARTICIPANT, p, c.field, c.reason);
  }
}

TEST_F(ServerValidationTest, ALinkToAnotherParticipantsRecordIsRefused) {
  const Uuid priya = Participant("Priya"), sam = Participant("Sam");
  const Uuid sams_note = Create(v1::RECORD_TYPE_CASE_NOTE, Note(sam));
  v1::CaseNote n = Note(priya);
  n.set_supersedes(sams_note.raw());
  ExpectRefused(v1::RECORD_TYPE_CASE_NOTE, n, "supersedes", "belongs to another participant");
}

TEST_F(ServerValidationTest, ANewStateMachineRecordNotInAnInitialStateIsRefused) {
  v1::Outcome o;
  o.set_participant_id(Participant().raw());
  o.set_kind(v1::OUTCOME_KIND_EDUCATION_ENTRY);
  o.set_achieved_on(Today());
  o.set_status(v1::OUTCOME_STATUS_ACCEPTED);
  ExpectRefused(v1::RECORD_TYPE_OUTCOME, o, "status", "a new outcome starts as reported");
}

TEST_F(ServerValidationTest, AnAssessmentScoringADomainTheInstrumentLacksIsRefused) {
  // Published for the hub's programme on the server (programme reference data).
  CliResult programme = RunCli({"programme", "add", "--data", deployment_.data, "--name", "Towards Work", "--funder",
                                "DWP", "--hub", deployment_.hub_id, "--json"});
  ASSERT_EQ(programme.exit_code, 0) << programme.err;
  const std::string file = deployment_.dir / "steps.json";
  std::ofstream(file) << R"({"instrument_id": "steps", "version": 1, "name": "Steps to work",
                             "domains": [{"key": "confidence", "min_score": 1, "max_score": 5}]})";
  CliResult published = RunCli({"instrument", "add", "--data", deployment_.data, "--programme",
                                programme.json()["programme_id"].get<std::string>(), "--file", file});
  ASSERT_EQ(published.exit_code, 0) << published.err;

  v1::Assessment a;
  a.set_participant_id(Participant().raw());
  a.set_instrument_id("steps");
  a.set_instrument_version(1);
  a.set_completed_on(Today());
  v1::DomainScore* score = a.add_scores();
  score->set_domain("confidence");
  score->set_score(3);
  Create(v1::RECORD_TYPE_ASSESSMENT, a);  // the instrument's own domain: applied

  score->set_domain("housing");
  ExpectRefused(v1::RECORD_TYPE_ASSESSMENT, a, "scores", "'housing' is not a domain of steps");
}

// The instrument every device holds built in ("my-journey" v1) is the server's too: an
// assessment a device accepts against it is applied, one it refuses is refused.
TEST_F(ServerValidationTest, AnAssessmentOfTheBuiltInInstrumentIsCheckedAgainstIt) {
  v1::Assessment a;
  a.set_participant_id(Participant().raw());
  a.set_instrument_id("my-journey");
  a.set_instrument_version(1);
  a.set_completed_on(Today());
  for (const char* domain : {"communication", "confidence", "managing_feelings", "reliability",
                             "setting_and_achieving_goals", "working_with_others"}) {
    v1::DomainScore* score = a.add_scores();
    score->set_domain(domain);
    score->set_score(4);
  }
  Create(v1::RECORD_TYPE_ASSESSMENT, a);

  a.mutable_scores(0)->set_score(7);
  ExpectRefused(v1::RECORD_TYPE_ASSESSMENT, a, "scores", "communication score 7 is outside 1-6");
}

TEST_F(ServerValidationTest, ABookingOnAFullSessionIsRefused) {
  v1::Session s;
  s.set_venue_id(Uuid::Parse(AddVenue())->raw());
  s.set_kind(v1::SESSION_KIND_GROUP);
  s.set_title("CV workshop");
  s.set_starts_at(Today() + "T10:00");
  s.set_duration_min(90);
  s.set_capacity(1);
  s.set_status(v1::SESSION_STATUS_SCHEDULED);
  const Uuid session = Create(v1::RECORD_TYPE_SESSION, s);
  v1::Booking b;
  b.set_session_id(session.raw());
  b.set_participant_id(Participant("Priya").raw());
  b.set_status(v1::BOOKING_STATUS_BOOKED);
  b.set_booked_on(Today());
  Create(v1::RECORD_TYPE_BOOKING, b);  // the one place

  b.set_participant_id(Participant("Sam").raw());
  ExpectRefused(v1::RECORD_TYPE_BOOKING, b, "capacity", "the session is full (1 of 1 places booked)");
}

TEST_F(ServerValidationTest, AnUpdateIsCheckedAsTheBodyItWouldMake) {
  const Uuid priya = Participant();
  v1::Participant p;
  p.set_ni_number("not an NI number");
  Result<v1::ChangeResult> r =
      adviser_->PushOne(HostileDevice::Edit(v1::RECORD_TYPE_PARTICIPANT, priya, p, {"ni_number"}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome(), v1::CHANGE_OUTCOME_REJECTED) << r->ShortDebugString();
  EXPECT_EQ(r->field(), "ni_number");
}

// "Today" is the writer's hub's date: Kiritimati (UTC+14) is always a day or more ahead
// of Pago Pago (UTC-11), so Kiritimati's today is in Pago Pago's future.
TEST_F(ServerValidationTest, TodayIsTheDateInTheWritersHubsTimeZone) {
  const std::string kiritimati_today = *LocalDateOfMillis(HybridClock::SystemMillis(), "Pacific/Kiritimati");
  std::unique_ptr<HostileDevice> east = Hostile(AddHub("Line Islands", "Pacific/Kiritimati"), "adviser", "Kim East");
  std::unique_ptr<HostileDevice> west = Hostile(AddHub("Samoa", "Pacific/Pago_Pago"), "adviser", "Wes West");
  ASSERT_NE(east, nullptr);
  ASSERT_NE(west, nullptr);
  // Each registers a person (registered a year ago, so the consent is within the journey),
  // then records that person's consent as given on Kiritimati's today.
  auto consent_given_on_kiritimati_today = [&](HostileDevice& device) {
    v1::Participant p = Person("Tui");
    p.set_registered_on(DaysAgo(365));
    const Uuid id = Uuid::NewV7();
    Result<v1::PushAck> ack =
        device.Push({HostileDevice::Upsert(v1::RECORD_TYPE_PARTICIPANT, id, p),
                     HostileDevice::Upsert(v1::RECORD_TYPE_CONSENT, Uuid::NewV7(),
                                           ConsentOf(id, v1::CONSENT_PURPOSE_HOLD_DATA, kiritimati_today))});
    EXPECT_TRUE(ack.ok()) << ack.status().ToString();
    EXPECT_EQ(ack.ok() ? ack->results_size() : 0, 2);
    if (!ack.ok() || ack->results_size() != 2) return v1::ChangeResult();
    EXPECT_EQ(ack->results(0).outcome(), v1::CHANGE_OUTCOME_APPLIED) << ack->results(0).ShortDebugString();
    return ack->results(1);
  };

  const v1::ChangeResult in_east = consent_given_on_kiritimati_today(*east);
  EXPECT_EQ(in_east.outcome(), v1::CHANGE_OUTCOME_APPLIED) << in_east.ShortDebugString();

  const v1::ChangeResult in_west = consent_given_on_kiritimati_today(*west);
  EXPECT_EQ(in_west.outcome(), v1::CHANGE_OUTCOME_REJECTED) << in_west.ShortDebugString();
  EXPECT_EQ(in_west.field(), "given_on");
  EXPECT_NE(in_west.reason().find("is in the future"), std::string::npos) << in_west.ShortDebugString();
}

TEST_F(ServerValidationTest, AnUnknownTimeZoneIsRefusedNamingTheOption) {
  CliResult r = RunCli({"hub", "add", "--data", deployment_.data, "--name", "Nowhere", "--time-zone", "Mars/Base"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--time-zone"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Mars/Base"), std::string::npos) << r.err;
}

// A device learns its hub's zone with the Hub record it pulls; before that it reckons in
// London.
TEST_F(ServerValidationTest, ADeviceReckonsTodayInItsHubsTimeZoneOnceItHasSynced) {
  const std::string hub = AddHub("Line Islands", "Pacific/Kiritimati");
  DeviceOptions options;
  options.path = deployment_.dir / "kim.db";
  options.user_name = "Kim East";
  Result<std::unique_ptr<Device>> device = Device::Open(options);
  ASSERT_TRUE(device.ok()) << device.status().ToString();
  EXPECT_EQ((*device)->Today(), *LocalDateOfMillis(HybridClock::SystemMillis(), "Europe/London"));
  EnrolOptions enrol;
  enrol.server = "127.0.0.1:" + std::to_string(port());
  enrol.ca_pem = deployment_.ca_pem;
  enrol.code = Code(hub, "adviser", "Kim East");
  enrol.device_name = "Kim's tablet";
  Result<EnrolReport> enrolled = Enrol(**device, enrol);
  ASSERT_TRUE(enrolled.ok()) << enrolled.status().ToString();
  Result<SyncReport> synced = Sync(**device);
  ASSERT_TRUE(synced.ok()) << synced.status().ToString();
  EXPECT_EQ((*device)->Today(), *LocalDateOfMillis(HybridClock::SystemMillis(), "Pacific/Kiritimati"));
}

// The programme's own rules, as a device that skips the library would break them.

TEST_F(ServerValidationTest, APhoneNumberNotInItsStoredFormIsRefused) {
  v1::Participant p = Person();
  p.set_phone(DramaPhoneNumber(42));
  ExpectRefused(v1::RECORD_TYPE_PARTICIPANT, p, "phone",
                "is not in the form it is stored in ('" + DramaPhoneNumberE164(42) + "')");
  p.set_phone(DramaPhoneNumberE164(42));
  Create(v1::RECORD_TYPE_PARTICIPANT, p);
}

TEST_F(ServerValidationTest, AWarmHandoverWithoutConsentToShareIsRefused) {
  const Uuid priya = Participant();
  v1::Referral r;
  r.set_participant_id(priya.raw());
  r.set_kind(v1::REFERRAL_KIND_WARM_HANDOVER);
  r.set_partner_name("Leeds Credit Union");
  r.set_summary("debt advice before the job starts");
  r.set_made_on(Today());
  r.set_status(v1::REFERRAL_STATUS_MADE);
  // Consent to hold data is not consent to share.
  Create(v1::RECORD_TYPE_CONSENT, ConsentOf(priya, v1::CONSENT_PURPOSE_HOLD_DATA, Today()));
  ExpectRefused(v1::RECORD_TYPE_REFERRAL, r, "consent_id", "needs the participant's consent to");

  Create(v1::RECORD_TYPE_CONSENT, ConsentOf(priya, v1::CONSENT_PURPOSE_SHARE_WITH_PARTNERS, Today()));
  Create(v1::RECORD_TYPE_REFERRAL, r);
}

TEST_F(ServerValidationTest, ASustainmentSixDaysAfterItsJobStartIsRefused) {
  const Uuid priya = RegisteredDaysAgo(30);
  v1::Outcome start;
  start.set_participant_id(priya.raw());
  start.set_kind(v1::OUTCOME_KIND_JOB_START);
  start.set_employer("Leeds Teaching Hospitals");
  start.set_achieved_on(DaysAgo(6));
  start.set_status(v1::OUTCOME_STATUS_REPORTED);
  start.set_reported_by("Ann Adviser");
  const Uuid job = Create(v1::RECORD_TYPE_OUTCOME, start);

  v1::Outcome sustained;
  sustained.set_participant_id(priya.raw());
  sustained.set_kind(v1::OUTCOME_KIND_SUSTAINED_13_WEEKS);
  sustained.set_job_start_id(job.raw());
  sustained.set_achieved_on(Today());
  sustained.set_status(v1::OUTCOME_STATUS_REPORTED);
  sustained.set_reported_by("Ann Adviser");
  ExpectRefused(v1::RECORD_TYPE_OUTCOME, sustained, "achieved_on",
                "is 6 days after the job start (" + DaysAgo(6) + "); a 13-week sustainment is at least 91");
}

TEST_F(ServerValidationTest, ANoteDatedBeforeTheRegistrationIsRefused) {
  v1::CaseNote n = Note(Participant());
  n.set_written_at(DaysAgo(1) + "T16:00");
  ExpectRefused(v1::RECORD_TYPE_CASE_NOTE, n, "written_at", "is before the participant was registered");
}

TEST_F(ServerValidationTest, AConsentDatedTomorrowIsRefused) {
  const std::string tomorrow = FormatDate(CivilFromDays(DaysFromCivil(*ParseDate(Today())) + 1));
  ExpectRefused(v1::RECORD_TYPE_CONSENT, ConsentOf(Participant(), v1::CONSENT_PURPOSE_HOLD_DATA, tomorrow), "given_on",
                tomorrow + " is in the future");
}

TEST_F(ServerValidationTest, AnExitDatedBeforeTheRegistrationIsRefused) {
  ExpectRefused(v1::RECORD_TYPE_EXIT, ExitOf(Participant(), "2020-01-01"), "exited_on",
                "2020-01-01 is before the participant was registered");
}

// After an exit, a contact needs the person's consent to be tracked after exit.
TEST_F(ServerValidationTest, AContactAfterExitWithoutConsentToBeTrackedIsRefused) {
  const Uuid priya = RegisteredDaysAgo(30);
  Create(v1::RECORD_TYPE_EXIT, ExitOf(priya, DaysAgo(10)));

  v1::ContactAttempt c;
  c.set_participant_id(priya.raw());
  c.set_method(v1::CONTACT_METHOD_PHONE);
  c.set_result(v1::CONTACT_RESULT_REACHED);
  c.set_attempted_at(Now());
  ExpectRefused(v1::RECORD_TYPE_CONTACT_ATTEMPT, c, "attempted_at",
                "dated after the participant's exit (" + DaysAgo(10) +
                    ") needs the participant's consent to be tracked after exit");

  Create(v1::RECORD_TYPE_CONSENT, ConsentOf(priya, v1::CONSENT_PURPOSE_TRACK_AFTER_EXIT, DaysAgo(20)));
  Create(v1::RECORD_TYPE_CONTACT_ATTEMPT, c);
}

// A withdrawn consent stops what it covered from the day it was withdrawn.
TEST_F(ServerValidationTest, AReferralAfterTheConsentToShareWasWithdrawnIsRefused) {
  const Uuid priya = RegisteredDaysAgo(30);
  v1::Consent share = ConsentOf(priya, v1::CONSENT_PURPOSE_SHARE_WITH_PARTNERS, DaysAgo(20));
  share.set_withdrawn_on(DaysAgo(2));
  Create(v1::RECORD_TYPE_CONSENT, share);

  v1::Referral r;
  r.set_participant_id(priya.raw());
  r.set_kind(v1::REFERRAL_KIND_REFERRAL);
  r.set_partner_name("Leeds Credit Union");
  r.set_status(v1::REFERRAL_STATUS_MADE);
  r.set_made_on(DaysAgo(3));
  Create(v1::RECORD_TYPE_REFERRAL, r);  // while the consent stood

  r.set_made_on(Today());
  ExpectRefused(v1::RECORD_TYPE_REFERRAL, r, "consent_id", "(withdrawn on " + DaysAgo(2) + ")");
}

TEST_F(ServerValidationTest, AValidationFileSubmittedWithoutConsentToHoldDataIsRefused) {
  v1::Validation v;
  v.set_participant_id(Participant().raw());
  v.set_status(v1::VALIDATION_STATUS_SUBMITTED);
  v.set_rules_version("2026-04");
  v.set_status_changed_on(Today());
  v.set_submitted_by("Ann Adviser");
  ExpectRefused(v1::RECORD_TYPE_VALIDATION, v, "status", "needs the participant's consent to");
}

TEST_F(ServerValidationTest, AnOutcomeEvidencedWithoutEvidenceIsRefused) {
  v1::Participant p = Person();
  p.set_adviser("Ann Adviser");
  const Uuid priya = Create(v1::RECORD_TYPE_PARTICIPANT, p);
  v1::Outcome o;
  o.set_participant_id(priya.raw());
  o.set_kind(v1::OUTCOME_KIND_EDUCATION_ENTRY);
  o.set_achieved_on(Today());
  o.set_status(v1::OUTCOME_STATUS_REPORTED);
  o.set_reported_by("Ann Adviser");
  const Uuid outcome = Create(v1::RECORD_TYPE_OUTCOME, o);

  v1::Outcome evidenced;
  evidenced.set_status(v1::OUTCOME_STATUS_EVIDENCED);
  evidenced.set_evidenced_by("Ann Adviser");
  Result<v1::ChangeResult> r =
      adviser_->PushOne(HostileDevice::Edit(v1::RECORD_TYPE_OUTCOME, outcome, evidenced, {"status", "evidenced_by"}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome(), v1::CHANGE_OUTCOME_REJECTED) << r->ShortDebugString();
  EXPECT_EQ(r->field(), "evidence_ids") << r->ShortDebugString();
  EXPECT_NE(r->reason().find("link at least one evidence item"), std::string::npos) << r->ShortDebugString();
}

// Exit and re-open write the participant's status beside the exit; the server takes both
// from a device that syncs between them, and refuses a status moved without an exit.
TEST_F(ServerValidationTest, AnExitAndItsReopeningSyncAndAStatusMovedWithoutOneIsRefused) {
  DeviceOptions options;
  options.path = deployment_.dir / "ann.db";
  options.user_name = "Ann Adviser";
  Result<std::unique_ptr<Device>> device = Device::Open(options);
  ASSERT_TRUE(device.ok()) << device.status().ToString();
  EnrolOptions enrol;
  enrol.server = "127.0.0.1:" + std::to_string(port());
  enrol.ca_pem = deployment_.ca_pem;
  enrol.code = Code(deployment_.hub_id, "adviser", "Ann Adviser");
  enrol.device_name = "Ann's tablet";
  ASSERT_TRUE(Enrol(**device, enrol).ok());
  Result<v1::Record> priya = (*device)->RegisterParticipant(Person());
  ASSERT_TRUE(priya.ok()) << priya.status().ToString();
  const Uuid id = *Uuid::FromBytes(priya->id());
  auto sync_refusing_nothing = [&] {
    Result<SyncReport> synced = Sync(**device);
    ASSERT_TRUE(synced.ok()) << synced.status().ToString();
    EXPECT_EQ(synced->rejected, 0u);
  };
  sync_refusing_nothing();

  ASSERT_TRUE((*device)->ExitParticipant(ExitOf(id, Today())).ok());
  sync_refusing_nothing();
  ASSERT_TRUE((*device)->ReopenParticipant(id).ok());
  sync_refusing_nothing();

  // A raw push of the status alone: exited with no exit open.
  v1::Participant exited;
  exited.set_status(v1::PARTICIPANT_STATUS_EXITED);
  Result<v1::ChangeResult> r =
      adviser_->PushOne(HostileDevice::Edit(v1::RECORD_TYPE_PARTICIPANT, id, exited, {"status"}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome(), v1::CHANGE_OUTCOME_REJECTED) << r->ShortDebugString();
  EXPECT_EQ(r->field(), "status");
  EXPECT_NE(r->reason().find("no exit of theirs is recorded"), std::string::npos) << r->ShortDebugString();
}

// What the device's own paths refuse before any rule: a participant is never deleted, and a
// record linked to a participant stays theirs.
TEST_F(ServerValidationTest, AParticipantIsNotDeletedAndARecordKeepsItsParticipant) {
  const Uuid priya = Participant("Priya"), sam = Participant("Sam");
  v1::Change deletion = HostileDevice::Edit(v1::RECORD_TYPE_PARTICIPANT, priya, v1::Participant(), {});
  deletion.set_op(v1::CHANGE_OP_DELETE);
  Result<v1::ChangeResult> deleted = adviser_->PushOne(deletion);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->outcome(), v1::CHANGE_OUTCOME_REJECTED) << deleted->ShortDebugString();
  EXPECT_EQ(deleted->field(), "op");
  EXPECT_EQ(deleted->reason(), "a participant is exited, not deleted");

  const Uuid consent = Create(v1::RECORD_TYPE_CONSENT, ConsentOf(priya, v1::CONSENT_PURPOSE_HOLD_DATA, Today()));
  v1::Consent moved;
  moved.set_participant_id(sam.raw());
  Result<v1::ChangeResult> r =
      adviser_->PushOne(HostileDevice::Edit(v1::RECORD_TYPE_CONSENT, consent, moved, {"participant_id"}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome(), v1::CHANGE_OUTCOME_REJECTED) << r->ShortDebugString();
  EXPECT_EQ(r->field(), "participant_id");
  EXPECT_EQ(r->reason(), "cannot be changed");
}

}  // namespace
}  // namespace outreach::testing
