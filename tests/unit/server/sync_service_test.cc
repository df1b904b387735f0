// SyncService on a real SQLite store: enrolment, hello, push (dedupe, per-change access
// refusals, clock bound), pull (cursor, pages, role filters) and administration.
#include "server/service/sync_service.h"

#include <thread>

#include "common/frame.h"
#include "server/service/secrets.h"
#include "tests/unit/server/server_fixture.h"

namespace outreach::server::testing {
namespace {

v1::Participant Person(const std::string& given, const std::string& family, const std::string& dob = "1990-01-02") {
  v1::Participant p;
  p.set_given_name(given);
  p.set_family_name(family);
  p.set_date_of_birth(dob);
  p.set_phone("+441134960001");
  p.set_status(v1::PARTICIPANT_STATUS_ACTIVE);
  return p;
}

class SyncServiceTest : public ServerTest {};

// ---------------------------------------------------------------- enrolment and hello

TEST_F(SyncServiceTest, EnrolmentCodeIsOneTimeAndOnlyTheCredentialHashIsStored) {
  auto code = admin_->IssueEnrolmentCode(hub_, v1::ROLE_ADVISER, "Priya");
  ASSERT_TRUE(code.ok());
  v1::Enrol request;
  request.set_code(*code);
  request.set_device_name("tablet 3");
  v1::Refusal refusal;
  auto enrolled = service_->Enrol(request, &refusal);
  ASSERT_TRUE(enrolled.ok()) << enrolled.status().ToString();
  EXPECT_EQ(enrolled->credential().size(), 32u);
  EXPECT_EQ(enrolled->hub_id(), hub_.raw());
  EXPECT_EQ(enrolled->role(), v1::ROLE_ADVISER);
  EXPECT_EQ(enrolled->user_name(), "Priya");
  EXPECT_EQ(enrolled->reference_prefix().size(), 4u);
  EXPECT_EQ(enrolled->ca_pem(), "-----CA PEM-----");

  auto again = service_->Enrol(request, &refusal);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(refusal.reason(), v1::REFUSAL_REASON_BAD_ENROLMENT_CODE);
  // The same answer as an unknown or expired code (UnknownUsedAndExpiredCodesGetOneAnswer).
  EXPECT_EQ(refusal.detail(), "this enrolment code is not valid or has expired");

  auto devices = admin_->ListDevices(hub_);
  ASSERT_TRUE(devices.ok());
  ASSERT_EQ(devices->size(), 1u);
  EXPECT_EQ((*devices)[0].device_name, "tablet 3");
  EXPECT_EQ((*devices)[0].reference_prefix, enrolled->reference_prefix());
  EXPECT_EQ(FileBytes().find(enrolled->credential()), std::string::npos) << "the secret itself was stored";
  EXPECT_NE(FileBytes().find(Sha256(enrolled->credential())), std::string::npos);
}

// An unknown, a used and an expired code get one and the same answer, so a reply never
// tells a guesser that a code exists.
TEST_F(SyncServiceTest, UnknownUsedAndExpiredCodesGetOneAnswer) {
  v1::Enrol request;
  request.set_code("AAAA-BBBB-CCCC-DDDD");
  v1::Refusal refusal;
  EXPECT_FALSE(service_->Enrol(request, &refusal).ok());
  EXPECT_EQ(refusal.reason(), v1::REFUSAL_REASON_BAD_ENROLMENT_CODE);
  const std::string unknown_answer = refusal.detail();
  EXPECT_EQ(unknown_answer, "this enrolment code is not valid or has expired");

  EnrolmentCodeRow expired;
  expired.code_hash = EnrolmentCodeHash("EXPI-RED0-CODE-0001");
  expired.hub_id = hub_;
  expired.role = v1::ROLE_ADVISER;
  expired.user_name = "Late";
  expired.expires_at_ms = HybridClock::SystemMillis() - 1000;
  ASSERT_TRUE(service_->store().Transact([&](StoreTxn& txn) { return txn.InsertEnrolmentCode(expired); }).ok());
  request.set_code("expi-red0-code-0001");  // typed in lower case: still the same code
  refusal.Clear();
  auto r = service_->Enrol(request, &refusal);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(refusal.reason(), v1::REFUSAL_REASON_BAD_ENROLMENT_CODE);
  EXPECT_EQ(refusal.detail(), unknown_answer);
  EXPECT_EQ(r.status().message(), unknown_answer);
}

TEST_F(SyncServiceTest, HelloChecksProtocolDeviceCredentialAndRevocation) {
  TestDevice d = Enrol(v1::ROLE_ADVISER, "Priya");
  v1::Hello hello;
  hello.set_protocol_version(1);
  hello.set_device_id(d.ctx.device_id.raw());
  hello.set_credential(d.credential);
  const int64_t ahead = HybridClock::SystemMillis() + 60'000;
  hello.set_device_hlc(Hlc::FromParts(ahead, 0).value());
  v1::Welcome welcome;
  v1::Refusal refusal;
  auto ok = service_->Authenticate(hello, &welcome, &refusal);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->role, v1::ROLE_ADVISER);
  EXPECT_EQ(welcome.hub_id(), hub_.raw());
  EXPECT_EQ(welcome.user_name(), "Priya");
  EXPECT_EQ(welcome.max_clock_skew_ms(), service_->options().max_clock_skew_ms);
  EXPECT_EQ(welcome.max_push_changes(), service_->options().max_push_changes);
  EXPECT_NEAR(static_cast<double>(welcome.clock_skew_ms()), 60'000.0, 5'000.0);
  EXPECT_GT(welcome.server_hlc(), 0u);

  v1::Hello bad = hello;
  bad.set_protocol_version(2);
  EXPECT_FALSE(service_->Authenticate(bad, &welcome, &refusal).ok());
  EXPECT_EQ(refusal.reason(), v1::REFUSAL_REASON_UNSUPPORTED_PROTOCOL);

  bad = hello;
  bad.set_device_id(Uuid::NewV7().raw());
  EXPECT_FALSE(service_->Authenticate(bad, &welcome, &refusal).ok());
  EXPECT_EQ(refusal.reason(), v1::REFUSAL_REASON_UNKNOWN_DEVICE);

  bad = hello;
  bad.set_credential(std::string(32, 'x'));
  EXPECT_FALSE(service_->Authenticate(bad, &welcome, &refusal).ok());
  EXPECT_EQ(refusal.reason(), v1::REFUSAL_REASON_BAD_CREDENTIAL);
  EXPECT_FALSE(refusal.wipe());

  ASSERT_TRUE(admin_->RevokeDevice(d.ctx.device_id).ok());
  refusal.Clear();
  auto revoked = service_->Authenticate(hello, &welcome, &refusal);
  ASSERT_FALSE(revoked.ok());
  EXPECT_EQ(refusal.reason(), v1::REFUSAL_REASON_DEVICE_REVOKED);
  EXPECT_TRUE(refusal.wipe());
  // A session opened before the revocation can push no more.
  v1::Push push;
  push.add_changes()->CopyFrom(Upsert(d, Uuid::NewV7(), v1::RECORD_TYPE_PARTICIPANT, Person("A", "B")));
  EXPECT_EQ(service_->Push(d.ctx, push).status().code(), ErrorCode::kUnauthenticated);
}

// ---------------------------------------------------------------- push

TEST_F(SyncServiceTest, ResentBatchIsAllDuplicateAndChangesNothing) {
  TestDevice d = Enrol(v1::ROLE_ADVISER, "Priya");
  std::vector<v1::Change> batch;
  for (int i = 0; i < 3; ++i) {
    batch.push_back(Upsert(d, Uuid::NewV7(), v1::RECORD_TYPE_PARTICIPANT, Person("P" + std::to_string(i), "X")));
  }
  v1::PushAck first = Push(d, batch, 7);
  EXPECT_EQ(first.batch_id(), 7u);
  ASSERT_EQ(first.results_size(), 3);
  for (const auto& r : first.results()) EXPECT_EQ(r.outcome(), v1::CHANGE_OUTCOME_APPLIED) << r.reason();
  const size_t log_size = Log(hub_).size();
  const std::string bytes_before = Get(Uuid::FromBytes(batch[0].record_id()).value())->record.SerializeAsString();

  v1::PushAck again = Push(d, batch, 7);
  ASSERT_EQ(again.results_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(again.results(i).outcome(), v1::CHANGE_OUTCOME_DUPLICATE);
    EXPECT_EQ(again.results(i).server_seq(), first.results(i).server_seq());
    EXPECT_EQ(again.results(i).device_seq(), batch[i].device_seq());
  }
  EXPECT_EQ(Log(hub_).size(), log_size);
  EXPECT_EQ(Get(Uuid::FromBytes(batch[0].record_id()).value())->record.SerializeAsString(), bytes_before);
}

TEST_F(SyncServiceTest, ANumberRepeatedWithinABatchIsADuplicateWhetherNumbersAreDenseOrSparse) {
  TestDevice d = Enrol(v1::ROLE_ADVISER, "Priya");
  // Dense numbers (read from the ledger as one range): 1, 2, and 2 again for another record.
  v1::Change a = Upsert(d, Uuid::NewV7(), v1::RECORD_TYPE_PARTICIPANT, Person("A", "X"));
  v1::Change b = Upsert(d, Uuid::NewV7(), v1::RECORD_TYPE_PARTICIPANT, Person("B", "X"));
  v1::Change b_again = Upsert(d, Uuid::NewV7(), v1::RECORD_TYPE_PARTICIPANT, Person("C", "X"));
  b_again.set_device_seq(b.device_seq());
  v1::PushAck dense = Push(d, {a, b, b_again});
  ASSERT_EQ(dense.results_size(), 3);
  EXPECT_EQ(dense.results(0).outcome(), v1::CHANGE_OUTCOME_APPLIED);
  EXPECT_EQ(dense.results(1).outcome(), v1::CHANGE_OUTCOME_APPLIED);
  EXPECT_EQ(dense.results(2).outcome(), v1::CHANGE_OUTCOME_DUPLICATE);
  EXPECT_EQ(dense.results(2).server_seq(), dense.results(1).server_seq());
  EXPECT_FALSE(Get(Uuid::FromBytes(b_again.record_id()).value()).has_value());

  // Numbers far apart (looked up one by one): the same outcomes.
  v1::Change far = Upsert(d, Uuid::NewV7(), v1::RECORD_TYPE_PARTICIPANT, Person("D", "X"));
  far.set_device_seq(1'000'000);
  v1::Change far_again = Upsert(d, Uuid::NewV7(), v1::RECORD_TYPE_PARTICIPANT, Person("E", "X"));
  far_again.set_device_seq(1'000'000);
  v1::PushAck sparse = Push(d, {a, far, far_again}, 2);
  ASSERT_EQ(sparse.results_size(), 3);
  EXPECT_EQ(sparse.results(0).outcome(), v1::CHANGE_OUTCOME_DUPLICATE);
  EXPECT_EQ(sparse.results(0).server_seq(), dense.results(0).server_seq());
  EXPECT_EQ(sparse.results(1).outcome(), v1::CHANGE_OUTCOME_APPLIED);
  EXPECT_EQ(sparse.results(2).outcome(), v1::CHANGE_OUTCOME_DUPLICATE);
  EXPECT_EQ(sparse.results(2).server_seq(), sparse.results(1).server_seq());
  EXPECT_FALSE(Get(Uuid::FromBytes(far_again.record_id()).value()).has_value());
}

TEST_F(SyncServiceTest, OversizedBatchIsRefusedWhole) {
  auto store = OpenStore((dir_ / "small.db").string());
  ASSERT_TRUE(store.ok());
  SyncServiceOptions options;
  options.max_push_changes = 2;
  SyncService small(std::move(*store), "", options);
  v1::Push push;
  for (int i = 0; i < 3; ++i) push.add_changes();
  auto r = small.Push(DeviceContext{}, push);
  EXPECT_EQ(r.status().code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(r.status().field(), "changes");
}

TEST_F(SyncServiceTest, MalformedChangesAreRejectedAloneNamingTheField) {
  TestDevice d = Enrol(v1::ROLE_ADVISER, "Priya");
  v1::Change unknown_type = Upsert(d, Uuid::NewV7(), v1::RECORD_TYPE_PARTICIPANT, Person("A", "B"));
  unknown_type.set_type(static_cast<v1::RecordType>(99));
  v1::Change short_id = Upsert(d, Uuid::NewV7(), v1::RECORD_TYPE_PARTICIPANT, Person("A", "B"));
  short_id.set_record_id("abc");
  v1::Change bad_value = Upsert(d, Uuid::NewV7(), v1::RECORD_TYPE_PARTICIPANT, Person("A", "B"));
  bad_value.mutable_fields(0)->set_value("\xff\xff\xff");
  v1::Change good = Upsert(d, Uuid::NewV7(), v1::RECORD_TYPE_PARTICIPANT, Person("Good", "One"));
  v1::PushAck ack = Push(d, {unknown_type, short_id, bad_value, good});
  ASSERT_EQ(ack.results_size(), 4);
  EXPECT_EQ(ack.results(0).outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_EQ(ack.results(0).field(), "type");
  EXPECT_EQ(ack.results(1).outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_EQ(ack.results(1).field(), "record_id");
  EXPECT_EQ(ack.results(2).outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_EQ(ack.results(2).field(), "given_name");
  EXPECT_EQ(ack.results(3).outcome(), v1::CHANGE_OUTCOME_APPLIED);
  EXPECT_FALSE(Get(Uuid::FromBytes(bad_value.record_id()).value()).has_value());
  EXPECT_TRUE(Get(Uuid::FromBytes(good.record_id()).value()).has_value());
}

TEST_F(SyncServiceTest, ChangeForAnotherHubIsRejected) {
  auto other = admin_->AddHub("South Hub");
  ASSERT_TRUE(other.ok());
  TestDevice d = Enrol(v1::ROLE_ADVISER, "Priya");
  v1::Change c = Upsert(d, Uuid::NewV7(), v1::RECORD_TYPE_PARTICIPANT, Person("A", "B"));
  c.set_hub_id(other->raw());
  const size_t before = Log(*other).size();
  v1::ChangeResult r = PushOne(d, c);
  EXPECT_EQ(r.outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_EQ(r.field(), "hub_id");
  EXPECT_NE(r.reason().find("only to the hub it is enrolled for"), std::string::npos) << r.reason();
  EXPECT_EQ(r.reason().find(other->ToString()), std::string::npos) << r.reason();
  EXPECT_EQ(Log(*other).size(), before);

  // A record of the other hub cannot be reached by naming our own hub either.
  TestDevice south = Enrol(v1::ROLE_ADVISER, "Sam", Uuid(), *other);
  const Uuid theirs = Uuid::NewV7();
  ASSERT_EQ(PushOne(south, Upsert(south, theirs, v1::RECORD_TYPE_PARTICIPANT, Person("C", "D"))).outcome(),
            v1::CHANGE_OUTCOME_APPLIED);
  v1::ChangeResult r2 = PushOne(d, Upsert(d, theirs, v1::RECORD_TYPE_PARTICIPANT, Person("E", "F")));
  EXPECT_EQ(r2.outcome(), v1::CHANGE_OUTCOME_REJECTED);
  // Refused in the words of an id no one holds: nothing says the record is South's.
  EXPECT_EQ(r2.field(), "record_id");
  EXPECT_EQ(r2.reason(), "record " + theirs.ToString() + " is not available to this device");
  EXPECT_EQ(r2.current_size(), 0);
  EXPECT_EQ(Get(theirs)->record.participant().given_name(), "C");
}

TEST_F(SyncServiceTest, NotesAreCheckedBySensitivityPerChange) {
  TestDevice adviser = Enrol(v1::ROLE_ADVISER, "Priya");
  TestDevice health = Enrol(v1::ROLE_HEALTH_WORKER, "Hana");
  const Uuid person = Uuid::NewV7();
  ASSERT_EQ(PushOne(adviser, Upsert(adviser, person, v1::RECORD_TYPE_PARTICIPANT, Person("A", "B"))).outcome(),
            v1::CHANGE_OUTCOME_APPLIED);
  auto note = [&](v1::NoteSensitivity s, const std::string& text) { return NoteOn(person, s, text); };
  v1::PushAck ack =
      Push(adviser,
           {Upsert(adviser, Uuid::NewV7(), v1::RECORD_TYPE_CASE_NOTE, note(v1::NOTE_SENSITIVITY_RESTRICTED, "private")),
            Upsert(adviser, Uuid::NewV7(), v1::RECORD_TYPE_CASE_NOTE, note(v1::NOTE_SENSITIVITY_HEALTH, "back pain")),
            Upsert(adviser, Uuid::NewV7(), v1::RECORD_TYPE_CASE_NOTE,
                   note(v1::NOTE_SENSITIVITY_NORMAL, "came to job club"))});
  ASSERT_EQ(ack.results_size(), 3);
  EXPECT_EQ(ack.results(0).outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_EQ(ack.results(0).reason(), "restricted notes never leave the device");
  EXPECT_EQ(ack.results(0).field(), "sensitivity");
  EXPECT_EQ(ack.results(1).outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_EQ(ack.results(1).field(), "sensitivity");
  EXPECT_EQ(ack.results(2).outcome(), v1::CHANGE_OUTCOME_APPLIED);

  EXPECT_EQ(PushOne(health, Upsert(health, Uuid::NewV7(), v1::RECORD_TYPE_CASE_NOTE,
                                   note(v1::NOTE_SENSITIVITY_HEALTH, "back pain")))
                .outcome(),
            v1::CHANGE_OUTCOME_APPLIED);
  EXPECT_EQ(PushOne(health, Upsert(health, Uuid::NewV7(), v1::RECORD_TYPE_CASE_NOTE,
                                   note(v1::NOTE_SENSITIVITY_RESTRICTED, "private")))
                .outcome(),
            v1::CHANGE_OUTCOME_REJECTED);

  // Health notes reach only health workers; the restricted note reached nobody.
  auto text_seen = [&](const TestDevice& d, const std::string& text) {
    for (const auto& c : PullAll(d)) {
      if (c.type() != v1::RECORD_TYPE_CASE_NOTE) continue;
      for (const auto& f : c.fields()) {
        if (f.value().find(text) != std::string::npos) return true;
      }
    }
    return false;
  };
  EXPECT_TRUE(text_seen(health, "back pain"));
  EXPECT_FALSE(text_seen(adviser, "back pain"));
  EXPECT_TRUE(text_seen(adviser, "job club"));
  EXPECT_FALSE(text_seen(health, "private"));
  EXPECT_EQ(FileBytes().find("private"), std::string::npos);
}

TEST_F(SyncServiceTest, ReferenceDataAndErasureNeedAManager) {
  TestDevice adviser = Enrol(v1::ROLE_ADVISER, "Priya");
  TestDevice manager = Enrol(v1::ROLE_MANAGER, "Morag");
  v1::Venue venue;
  venue.set_name("Leeds Central Library");
  venue.set_kind(v1::VENUE_KIND_LIBRARY);
  v1::ChangeResult r = PushOne(adviser, Upsert(adviser, Uuid::NewV7(), v1::RECORD_TYPE_VENUE, venue));
  EXPECT_EQ(r.outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_EQ(r.field(), "type");
  EXPECT_EQ(PushOne(manager, Upsert(manager, Uuid::NewV7(), v1::RECORD_TYPE_VENUE, venue)).outcome(),
            v1::CHANGE_OUTCOME_APPLIED);
  // Reference data several hubs share is managed on the server, not from a device.
  v1::Programme programme;
  programme.set_name("Towards Work");
  r = PushOne(manager, Upsert(manager, Uuid::NewV7(), v1::RECORD_TYPE_PROGRAMME, programme));
  EXPECT_EQ(r.outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_EQ(r.field(), "type");
  EXPECT_NE(r.reason().find("managed on the server (outreach-server programme add|update)"), std::string::npos)
      << r.reason();

  const Uuid person = Uuid::NewV7();
  ASSERT_EQ(PushOne(adviser, Upsert(adviser, person, v1::RECORD_TYPE_PARTICIPANT, Person("A", "B"))).outcome(),
            v1::CHANGE_OUTCOME_APPLIED);
  v1::ChangeResult erase = PushOne(adviser, Op(adviser, person, v1::RECORD_TYPE_PARTICIPANT, v1::CHANGE_OP_ERASE));
  EXPECT_EQ(erase.outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_EQ(erase.field(), "op");
  EXPECT_EQ(Get(person)->record.participant().given_name(), "A");
}

TEST_F(SyncServiceTest, KioskWritesOnlyItsVenuesAttendanceAndNewEnquiries) {
  TestDevice adviser = Enrol(v1::ROLE_ADVISER, "Priya");
  TestDevice kiosk = Enrol(v1::ROLE_KIOSK, "Centre kiosk", centre_);
  ASSERT_EQ(kiosk.ctx.venue_id, centre_);
  const Uuid here = Uuid::NewV7(), there = Uuid::NewV7(), person = Uuid::NewV7();
  const v1::Session s = SessionAt(centre_, "Job club");
  const v1::Session t = SessionAt(office_, "CV clinic");
  v1::Participant sam = Person("Sam", "Jones");
  sam.set_venue_id(centre_.raw());  // registered at the centre: its kiosk may sign Sam in
  Push(adviser, {Upsert(adviser, here, v1::RECORD_TYPE_SESSION, s), Upsert(adviser, there, v1::RECORD_TYPE_SESSION, t),
                 Upsert(adviser, person, v1::RECORD_TYPE_PARTICIPANT, sam)});

  auto mark = [&](const Uuid& session) {
    return Upsert(kiosk, Uuid::DeriveRegisterRow("attendance", session.raw(), person.raw()), v1::RECORD_TYPE_ATTENDANCE,
                  MarkOf(session, person, v1::ATTENDANCE_STATUS_ATTENDED, v1::MARKED_BY_KIOSK));
  };
  const v1::Enquiry enquiry = EnquiryAt(centre_, "Walk", "In");
  const Uuid enquiry_id = Uuid::NewV7();
  v1::Participant rename = Person("Hacked", "Name");
  v1::PushAck ack = Push(kiosk, {mark(there), mark(here), Upsert(kiosk, enquiry_id, v1::RECORD_TYPE_ENQUIRY, enquiry),
                                 Upsert(kiosk, person, v1::RECORD_TYPE_PARTICIPANT, rename),
                                 Upsert(kiosk, enquiry_id, v1::RECORD_TYPE_ENQUIRY, enquiry)});
  ASSERT_EQ(ack.results_size(), 5);
  EXPECT_EQ(ack.results(0).outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_EQ(ack.results(0).field(), "session_id");
  EXPECT_EQ(ack.results(1).outcome(), v1::CHANGE_OUTCOME_APPLIED) << ack.results(1).reason();
  EXPECT_EQ(ack.results(2).outcome(), v1::CHANGE_OUTCOME_APPLIED) << ack.results(2).reason();
  EXPECT_EQ(ack.results(3).outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_EQ(ack.results(3).field(), "type");
  EXPECT_EQ(ack.results(4).outcome(), v1::CHANGE_OUTCOME_REJECTED);  // an existing enquiry is not the kiosk's to touch
  v1::Enquiry changed = enquiry;
  changed.set_phone("0800");
  v1::ChangeResult edit = PushOne(kiosk, Upsert(kiosk, enquiry_id, v1::RECORD_TYPE_ENQUIRY, changed));
  EXPECT_EQ(edit.outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_EQ(Get(person)->record.participant().given_name(), "Sam");

  // Marking as an adviser from a kiosk is refused.
  const v1::Attendance lie = MarkOf(here, person, v1::ATTENDANCE_STATUS_ATTENDED, v1::MARKED_BY_ADVISER);
  v1::ChangeResult r = PushOne(kiosk, Upsert(kiosk, Uuid::DeriveRegisterRow("attendance", here.raw(), person.raw()),
                                             v1::RECORD_TYPE_ATTENDANCE, lie));
  EXPECT_EQ(r.outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_EQ(r.field(), "marked_by");
}

TEST_F(SyncServiceTest, StampsFarAheadAreReplacedByTheServersClock) {
  TestDevice d = Enrol(v1::ROLE_ADVISER, "Priya");
  const int64_t year_ahead = HybridClock::SystemMillis() + 365LL * 24 * 3600 * 1000;
  const Uuid person = Uuid::NewV7();
  v1::ChangeResult r =
      PushOne(d, Upsert(d, person, v1::RECORD_TYPE_PARTICIPANT, Person("A", "B"), {}, Hlc::FromParts(year_ahead, 0)));
  ASSERT_EQ(r.outcome(), v1::CHANGE_OUTCOME_APPLIED);
  const auto log = Log(hub_);
  const Hlc logged(log.back().hlc());
  EXPECT_LT(logged.physical_ms(), HybridClock::SystemMillis() + service_->options().max_clock_skew_ms);
  EXPECT_EQ(VersionOf(person, 2), logged.value());

  // A later honest edit from another device, made without seeing the first, wins.
  TestDevice other = Enrol(v1::ROLE_ADVISER, "Omar");
  v1::Participant p;
  p.set_given_name("Corrected");
  EXPECT_EQ(PushOne(other, Upsert(other, person, v1::RECORD_TYPE_PARTICIPANT, p)).outcome(),
            v1::CHANGE_OUTCOME_CONFLICT);
  EXPECT_EQ(Get(person)->record.participant().given_name(), "Corrected");

  // A stamp within the bound moves the server clock past it.
  const Hlc near = Hlc::FromParts(HybridClock::SystemMillis() + 60'000, 3);
  p.set_given_name("Again");
  PushOne(other, Upsert(other, person, v1::RECORD_TYPE_PARTICIPANT, p, {{2, VersionOf(person, 2)}}, near));
  EXPECT_GT(service_->clock().Now(), near);
}

// ---------------------------------------------------------------- pull

TEST_F(SyncServiceTest, PullPagesByCursorAndRecordsLastSync) {
  TestDevice d = Enrol(v1::ROLE_ADVISER, "Priya");
  std::vector<v1::Change> batch;
  for (int i = 0; i < 20; ++i)
    batch.push_back(Upsert(d, Uuid::NewV7(), v1::RECORD_TYPE_PARTICIPANT, Person("P" + std::to_string(i), "Q")));
  Push(d, batch);
  const size_t total = Log(hub_).size();
  v1::Pull pull;
  pull.set_page_size(5);
  auto page = service_->Pull(d.ctx, pull);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->changes_size(), 5);
  EXPECT_TRUE(page->more());
  EXPECT_EQ(page->next_cursor(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(page->changes(i).server_seq(), static_cast<uint64_t>(i + 1));
  const auto all = PullAll(d, 0, 6);
  EXPECT_EQ(all.size(), total);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].server_seq(), i + 1);
  const v1::Change& mine = all.back();
  EXPECT_EQ(mine.origin_device(), d.ctx.device_id.raw());
  EXPECT_EQ(mine.author(), "Priya");
  pull.set_cursor(total);
  page = service_->Pull(d.ctx, pull);
  EXPECT_EQ(page->changes_size(), 0);
  EXPECT_FALSE(page->more());
  EXPECT_EQ(page->next_cursor(), total);
  auto devices = admin_->ListDevices(hub_);
  EXPECT_GT((*devices)[0].last_sync_ms, 0);
}

TEST_F(SyncServiceTest, PullPagesAreCutBeforeTheyOutgrowTheFrame) {
  TestDevice d = Enrol(v1::ROLE_ADVISER, "Priya");
  const Uuid person = Uuid::NewV7();
  std::vector<v1::Change> batch{Upsert(d, person, v1::RECORD_TYPE_PARTICIPANT, Person("Sam", "Jones"))};
  for (int i = 0; i < 10; ++i) {
    batch.push_back(
        Upsert(d, Uuid::NewV7(), v1::RECORD_TYPE_CASE_NOTE,
               NoteOn(person, v1::NOTE_SENSITIVITY_NORMAL, std::string(20'000, static_cast<char>('a' + i)))));
  }
  Push(d, batch);
  const size_t total = Log(hub_).size();
  // By count (up to 1,000 a page) one page would carry all ten notes, about 200 KB, in a
  // frame of 64 KiB.
  constexpr uint32_t kFrameLimit = 64 * 1024;
  std::vector<v1::Change> all;
  uint64_t cursor = 0;
  int pages = 0;
  for (; pages < 100; ++pages) {
    v1::Pull pull;
    pull.set_cursor(cursor);
    auto page = service_->Pull(d.ctx, pull, SyncService::MaxPageBytes(kFrameLimit));
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_GT(page->changes_size(), 0);
    v1::Envelope reply;
    *reply.mutable_changes_page() = *page;
    EXPECT_TRUE(EncodeFrame(reply, kFrameLimit).ok()) << "page " << pages << " is " << page->ByteSizeLong() << " bytes";
    for (const auto& c : page->changes()) all.push_back(c);
    EXPECT_GT(page->next_cursor(), cursor);
    cursor = page->next_cursor();
    if (!page->more()) break;
  }
  EXPECT_GE(pages + 1, 4);  // 200 KB in pages of at most 64 KiB
  ASSERT_EQ(all.size(), total);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].server_seq(), i + 1);  // nothing skipped
  EXPECT_EQ(cursor, total);

  // Within the default limit (the 8 MiB frame) the same log is one page.
  auto one = service_->Pull(d.ctx, v1::Pull());
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(static_cast<size_t>(one->changes_size()), total);
  EXPECT_FALSE(one->more());

  // A change larger than the limit on its own is sent alone, and the cursor moves past it.
  v1::Pull from_note;
  from_note.set_cursor(total - 10);
  auto alone = service_->Pull(d.ctx, from_note, 1000);
  ASSERT_TRUE(alone.ok());
  ASSERT_EQ(alone->changes_size(), 1);
  EXPECT_EQ(alone->next_cursor(), total - 9);
  EXPECT_TRUE(alone->more());
}

TEST_F(SyncServiceTest, KioskPullsOnlyItsVenueAndNamesItNeeds) {
  TestDevice adviser = Enrol(v1::ROLE_ADVISER, "Priya");
  TestDevice kiosk = Enrol(v1::ROLE_KIOSK, "Centre kiosk", centre_);
  const Uuid here = Uuid::NewV7(), there = Uuid::NewV7();
  const Uuid booked = Uuid::NewV7(), stranger = Uuid::NewV7(), elsewhere = Uuid::NewV7();
  const v1::Session s = SessionAt(centre_, "Job club");
  const v1::Session t = SessionAt(office_, "Housing surgery");
  const v1::Booking b = BookingOf(here, booked);
  const v1::Booking b2 = BookingOf(there, elsewhere);
  const v1::CaseNote note = NoteOn(booked, v1::NOTE_SENSITIVITY_NORMAL, "note text");
  v1::PushAck pushed = Push(
      adviser, {Upsert(adviser, here, v1::RECORD_TYPE_SESSION, s), Upsert(adviser, there, v1::RECORD_TYPE_SESSION, t),
                Upsert(adviser, booked, v1::RECORD_TYPE_PARTICIPANT, Person("Booked", "Person")),
                Upsert(adviser, stranger, v1::RECORD_TYPE_PARTICIPANT, Person("Not", "Here")),
                Upsert(adviser, elsewhere, v1::RECORD_TYPE_PARTICIPANT, Person("Other", "Venue")),
                Upsert(adviser, Uuid::NewV7(), v1::RECORD_TYPE_BOOKING, b),
                Upsert(adviser, Uuid::NewV7(), v1::RECORD_TYPE_BOOKING, b2),
                Upsert(adviser, Uuid::NewV7(), v1::RECORD_TYPE_CASE_NOTE, note)});
  for (const v1::ChangeResult& r : pushed.results()) ASSERT_EQ(r.outcome(), v1::CHANGE_OUTCOME_APPLIED) << r.reason();
  // Another hub, with a kiosk of its own: nothing of it reaches this hub's kiosk.
  auto south = admin_->AddHub("South Hub");
  ASSERT_TRUE(south.ok()) << south.status().ToString();
  const std::string own_hub = hub_.raw();
  const auto seen = PullAll(kiosk, 0, 3);
  std::set<std::string> ids;
  for (const auto& c : seen) {
    ids.insert(c.record_id());
    // Its own hub's record (its time zone is what "today" is at the kiosk): its name and
    // zone, no one's personal data.
    EXPECT_TRUE(c.type() == v1::RECORD_TYPE_SESSION || c.type() == v1::RECORD_TYPE_BOOKING ||
                c.type() == v1::RECORD_TYPE_PARTICIPANT ||
                (c.type() == v1::RECORD_TYPE_HUB && c.record_id() == own_hub))
        << c.type();
    EXPECT_EQ(c.hub_id(), own_hub);
    if (c.type() == v1::RECORD_TYPE_PARTICIPANT) {
      for (const auto& f : c.fields()) {
        EXPECT_TRUE(f.field() == 1 || f.field() == 2 || f.field() == 3) << "kiosk saw participant field " << f.field();
      }
    }
  }
  EXPECT_TRUE(ids.count(here.raw()));
  EXPECT_FALSE(ids.count(there.raw()));
  EXPECT_TRUE(ids.count(booked.raw()));
  EXPECT_FALSE(ids.count(stranger.raw()));
  EXPECT_FALSE(ids.count(elsewhere.raw()));
  EXPECT_TRUE(ids.count(own_hub)) << "the kiosk learns its hub's time zone";
  EXPECT_FALSE(ids.count(south->raw()));
  EXPECT_FALSE(ids.count(centre_.raw())) << "kiosks get no reference data but their hub's record";
}

// The page the server sends (PullEncoded: changes as stored, not parsed again) is the
// page Pull returns with the device's own hub left out of each change: the same changes,
// filtered the same way for every role (notes by sensitivity, a conflict, a kiosk's venue
// and names), cut at the same places, with the same cursor and `more`.
TEST_F(SyncServiceTest, AnEncodedPullPageIsThePulledPageWithoutTheOwnHub) {
  TestDevice adviser = Enrol(v1::ROLE_ADVISER, "Priya");
  TestDevice other = Enrol(v1::ROLE_ADVISER, "Omar");
  TestDevice health = Enrol(v1::ROLE_HEALTH_WORKER, "Hana");
  TestDevice kiosk = Enrol(v1::ROLE_KIOSK, "Centre kiosk", centre_);
  const Uuid here = Uuid::NewV7(), there = Uuid::NewV7(), booked = Uuid::NewV7(), stranger = Uuid::NewV7();
  const v1::Session s = SessionAt(centre_, "Job club");
  const v1::Session t = SessionAt(office_, "Housing surgery");
  const v1::Booking b = BookingOf(here, booked);
  auto note = [&](v1::NoteSensitivity sensitivity, const std::string& text) {
    return NoteOn(booked, sensitivity, text);
  };
  Push(adviser, {Upsert(adviser, here, v1::RECORD_TYPE_SESSION, s), Upsert(adviser, there, v1::RECORD_TYPE_SESSION, t),
                 Upsert(adviser, booked, v1::RECORD_TYPE_PARTICIPANT, Person("Booked", "Person")),
                 Upsert(adviser, stranger, v1::RECORD_TYPE_PARTICIPANT, Person("Not", "Here")),
                 Upsert(adviser, Uuid::NewV7(), v1::RECORD_TYPE_BOOKING, b),
                 Upsert(adviser, Uuid::NewV7(), v1::RECORD_TYPE_CASE_NOTE,
                        note(v1::NOTE_SENSITIVITY_NORMAL, std::string(3000, 'n')))});
  PushOne(health, Upsert(health, Uuid::NewV7(), v1::RECORD_TYPE_CASE_NOTE, note(v1::NOTE_SENSITIVITY_HEALTH, "pain")));
  // Two advisers change the same name from the same base: a conflict record.
  const std::map<uint32_t, uint64_t> base{{1, 0}, {2, 0}, {3, 0}};
  PushOne(adviser, Upsert(adviser, stranger, v1::RECORD_TYPE_PARTICIPANT, Person("Now", "Here")));
  EXPECT_EQ(PushOne(other, Upsert(other, stranger, v1::RECORD_TYPE_PARTICIPANT, Person("Not", "There"), base,
                                  Hlc::FromParts(1, 0)))
                .outcome(),
            v1::CHANGE_OUTCOME_CONFLICT);
  bool conflict_logged = false;
  for (const v1::Change& c : Log(hub_)) conflict_logged = conflict_logged || c.type() == v1::RECORD_TYPE_CONFLICT;
  EXPECT_TRUE(conflict_logged);

  const std::string own_hub = hub_.raw();
  for (const TestDevice* d : {&adviser, &health, &kiosk}) {
    for (const auto& [page_size, max_bytes] : {std::pair<uint32_t, size_t>{0, 1'000'000}, {3, 1'000'000}, {0, 2000}}) {
      uint64_t cursor = 0;
      size_t pulled = 0;
      for (int pages = 0; pages < 1000; ++pages) {
        v1::Pull pull;
        pull.set_cursor(cursor);
        pull.set_page_size(page_size);
        auto parsed = service_->Pull(d->ctx, pull, max_bytes);
        auto encoded = service_->PullEncoded(d->ctx, pull, max_bytes);
        ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
        ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
        for (v1::Change& c : *parsed->mutable_changes()) {
          EXPECT_EQ(c.hub_id(), own_hub);
          c.clear_hub_id();
        }
        v1::ChangesPage sent;
        ASSERT_TRUE(sent.ParseFromString(*encoded));
        EXPECT_EQ(sent.SerializeAsString(), parsed->SerializeAsString())
            << d->ctx.user_name << " page " << pages << " from " << cursor;
        pulled += static_cast<size_t>(parsed->changes_size());
        cursor = parsed->next_cursor();
        if (!parsed->more()) break;
      }
      EXPECT_GT(pulled, 0u) << d->ctx.user_name;
    }
  }
}

TEST_F(SyncServiceTest, KioskReceivesNamesOfSomeoneBookedAfterItsLastPull) {
  TestDevice adviser = Enrol(v1::ROLE_ADVISER, "Priya");
  TestDevice kiosk = Enrol(v1::ROLE_KIOSK, "Centre kiosk", centre_);
  const Uuid session = Uuid::NewV7(), next_week = Uuid::NewV7(), person = Uuid::NewV7();
  v1::Participant p = Person("Latecomer", "Booked");
  p.set_reference("K7QX-0001-X");
  Push(adviser, {Upsert(adviser, session, v1::RECORD_TYPE_SESSION, SessionAt(centre_)),
                 Upsert(adviser, next_week, v1::RECORD_TYPE_SESSION, SessionAt(centre_, "Job club, next week")),
                 Upsert(adviser, person, v1::RECORD_TYPE_PARTICIPANT, p)});
  const auto first = PullAll(kiosk);
  for (const auto& c : first) EXPECT_NE(c.record_id(), person.raw());
  const uint64_t cursor = Log(hub_).back().server_seq();

  ASSERT_EQ(
      PushOne(adviser, Upsert(adviser, Uuid::NewV7(), v1::RECORD_TYPE_BOOKING, BookingOf(session, person))).outcome(),
      v1::CHANGE_OUTCOME_APPLIED);
  std::map<uint32_t, std::string> names;
  std::map<uint32_t, uint64_t> stamps;
  for (const auto& c : PullAll(kiosk, cursor)) {
    if (c.record_id() != person.raw()) continue;
    for (const auto& f : c.fields()) {
      names[f.field()] = f.value();
      stamps[f.field()] = c.hlc();
    }
  }
  ASSERT_EQ(names.size(), 3u) << "reference, given and family name";
  v1::Participant got;
  for (const auto& [field, value] : names) ASSERT_TRUE(ApplyField(&got, field, value).ok());
  EXPECT_EQ(got.given_name(), "Latecomer");
  EXPECT_EQ(got.reference(), "K7QX-0001-X");
  // Restated at their stored versions: the state did not change.
  EXPECT_EQ(stamps[2], VersionOf(person, 2));
  // A second booking at the same venue restates nothing more.
  const size_t log_size = Log(hub_).size();
  ASSERT_EQ(
      PushOne(adviser, Upsert(adviser, Uuid::NewV7(), v1::RECORD_TYPE_BOOKING, BookingOf(next_week, person))).outcome(),
      v1::CHANGE_OUTCOME_APPLIED);
  EXPECT_EQ(Log(hub_).size(), log_size + 1);
}

// ---------------------------------------------------------------- administration

TEST_F(SyncServiceTest, AdministrationErrorsNameTheField) {
  EXPECT_EQ(admin_->AddHub("  ").status().field(), "name");
  EXPECT_EQ(admin_->AddVenue(Uuid::NewV7(), "X", v1::VENUE_KIND_LIBRARY).status().field(), "hub_id");
  EXPECT_EQ(admin_->AddVenue(hub_, "X", v1::VENUE_KIND_UNSPECIFIED).status().field(), "kind");
  EXPECT_EQ(admin_->IssueEnrolmentCode(hub_, v1::ROLE_KIOSK, "Kiosk").status().field(), "venue_id");
  EXPECT_EQ(admin_->IssueEnrolmentCode(hub_, v1::ROLE_KIOSK, "Kiosk", Uuid::NewV7()).status().field(), "venue_id");
  EXPECT_EQ(admin_->IssueEnrolmentCode(hub_, v1::ROLE_UNSPECIFIED, "X").status().field(), "role");
  EXPECT_EQ(admin_->IssueEnrolmentCode(hub_, v1::ROLE_ADVISER, "").status().field(), "name");
  EXPECT_EQ(admin_->IssueEnrolmentCode(Uuid::NewV7(), v1::ROLE_ADVISER, "X").status().field(), "hub_id");
  EXPECT_EQ(admin_->RevokeDevice(Uuid::NewV7()).field(), "device_id");
  EXPECT_EQ(admin_->ListConflicts(Uuid::NewV7()).status().field(), "hub_id");
  EXPECT_EQ(admin_->ResolveConflict(hub_, Uuid::NewV7(), v1::CONFLICT_STATUS_KEPT_WINNER, "Morag").field(),
            "conflict_id");
  EXPECT_EQ(admin_->ResolveConflict(hub_, Uuid::NewV7(), v1::CONFLICT_STATUS_OPEN, "Morag").field(), "resolution");
  // The hub and venues are records in the hub's log, so devices learn them.
  const auto log = Log(hub_);
  ASSERT_GE(log.size(), 3u);
  EXPECT_EQ(log[0].type(), v1::RECORD_TYPE_HUB);
  EXPECT_EQ(log[1].type(), v1::RECORD_TYPE_VENUE);
  EXPECT_EQ(log[0].author(), "server");
  EXPECT_EQ(log[0].origin_device(), Uuid().raw());
}

TEST_F(SyncServiceTest, ReopenedStoreKeepsDevicesRecordsAndTheLedger) {
  TestDevice d = Enrol(v1::ROLE_ADVISER, "Priya");
  const Uuid person = Uuid::NewV7();
  v1::Change c = Upsert(d, person, v1::RECORD_TYPE_PARTICIPANT, Person("Kept", "Safe"));
  ASSERT_EQ(PushOne(d, c).outcome(), v1::CHANGE_OUTCOME_APPLIED);
  Reopen();
  EXPECT_GT(service_->clock().Now(), Hlc(c.hlc())) << "the clock restarts after every logged stamp";
  v1::Hello hello;
  hello.set_protocol_version(1);
  hello.set_device_id(d.ctx.device_id.raw());
  hello.set_credential(d.credential);
  v1::Welcome welcome;
  v1::Refusal refusal;
  ASSERT_TRUE(service_->Authenticate(hello, &welcome, &refusal).ok());
  EXPECT_EQ(Get(person)->record.participant().given_name(), "Kept");
  EXPECT_EQ(PushOne(d, c).outcome(), v1::CHANGE_OUTCOME_DUPLICATE);
}

TEST_F(SyncServiceTest, AuditTrailRecordsWhoWhenDeviceFieldAndBothValues) {
  TestDevice a = Enrol(v1::ROLE_ADVISER, "Priya");
  TestDevice b = Enrol(v1::ROLE_ADVISER, "Omar");
  const Uuid person = Uuid::NewV7();
  PushOne(a, Upsert(a, person, v1::RECORD_TYPE_PARTICIPANT, Person("Sam", "Jones")));
  const uint32_t phone = FieldNumber(v1::Participant::descriptor(), "phone");
  v1::Participant edit;
  edit.set_phone("+441164960000");
  v1::ChangeResult r =
      PushOne(b, Upsert(b, person, v1::RECORD_TYPE_PARTICIPANT, edit, {{phone, VersionOf(person, phone)}}));
  ASSERT_EQ(r.outcome(), v1::CHANGE_OUTCOME_APPLIED);
  std::vector<AuditRow> audit;
  ASSERT_TRUE(service_->store()
                  .Transact([&](StoreTxn& txn) -> Status {
                    auto rows = txn.ListAudit(person);
                    if (!rows.ok()) return rows.status();
                    audit = std::move(*rows);
                    return Status::Ok();
                  })
                  .ok());
  const AuditRow* change = nullptr;
  for (const auto& row : audit) {
    if (row.server_seq == r.server_seq() && row.field == phone) change = &row;
  }
  ASSERT_NE(change, nullptr);
  EXPECT_EQ(change->author, "Omar");
  EXPECT_EQ(change->device_id, b.ctx.device_id);
  EXPECT_EQ(change->hub_id, hub_);
  EXPECT_EQ(change->type, v1::RECORD_TYPE_PARTICIPANT);
  EXPECT_GT(change->at_ms, 0);
  v1::Participant old_value, new_value;
  ASSERT_TRUE(old_value.ParseFromString(change->old_value));
  ASSERT_TRUE(new_value.ParseFromString(change->new_value));
  EXPECT_EQ(old_value.phone(), "+441134960001");
  EXPECT_EQ(new_value.phone(), "+441164960000");
}

TEST_F(SyncServiceTest, ConcurrentPushesKeepTheHubLogGapFree) {
  constexpr int kDevices = 4, kBatches = 5, kPerBatch = 10;
  std::vector<TestDevice> devices;
  for (int i = 0; i < kDevices; ++i) devices.push_back(Enrol(v1::ROLE_ADVISER, "Adviser " + std::to_string(i)));
  std::vector<std::vector<v1::Push>> pushes(kDevices);
  for (int i = 0; i < kDevices; ++i) {
    for (int b = 0; b < kBatches; ++b) {
      v1::Push push;
      for (int c = 0; c < kPerBatch; ++c) {
        *push.add_changes() = Upsert(devices[i], Uuid::NewV7(), v1::RECORD_TYPE_PARTICIPANT,
                                     Person("P" + std::to_string(i * 1000 + b * 100 + c), "Q"));
      }
      pushes[i].push_back(push);
    }
  }
  const size_t before = Log(hub_).size();
  std::vector<std::thread> threads;
  std::atomic<int> applied{0};
  for (int i = 0; i < kDevices; ++i) {
    threads.emplace_back([&, i] {
      for (const auto& push : pushes[i]) {
        auto ack = service_->Push(devices[i].ctx, push);
        if (!ack.ok()) continue;
        for (const auto& r : ack->results()) applied += r.outcome() == v1::CHANGE_OUTCOME_APPLIED;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(applied.load(), kDevices * kBatches * kPerBatch);
  const auto log = Log(hub_);
  EXPECT_EQ(log.size(), before + kDevices * kBatches * kPerBatch);
  for (size_t i = 0; i < log.size(); ++i) ASSERT_EQ(log[i].server_seq(), i + 1);
}

// Pulls run beside pushes (on the SQLite store, on read-only connections with snapshots
// of their own); a cursor must still never pass a change that commits later.
TEST_F(SyncServiceTest, PullsDuringConcurrentPushesNeverSkipAChange) {
  constexpr int kDevices = 3, kBatches = 8, kPerBatch = 10;
  std::vector<TestDevice> devices;
  for (int i = 0; i < kDevices; ++i) devices.push_back(Enrol(v1::ROLE_ADVISER, "Adviser " + std::to_string(i)));
  TestDevice reader = Enrol(v1::ROLE_ADVISER, "Reader");
  std::vector<std::vector<v1::Push>> pushes(kDevices);
  for (int i = 0; i < kDevices; ++i) {
    for (int b = 0; b < kBatches; ++b) {
      v1::Push push;
      for (int c = 0; c < kPerBatch; ++c) {
        *push.add_changes() = Upsert(devices[i], Uuid::NewV7(), v1::RECORD_TYPE_PARTICIPANT,
                                     Person("R" + std::to_string(i * 1000 + b * 100 + c), "S"));
      }
      pushes[i].push_back(push);
    }
  }
  std::atomic<bool> pushing{true};
  std::vector<uint64_t> seen;  // every server_seq the reader pulled, in order
  uint64_t cursor = 0;
  std::thread puller([&] {
    // Small pages, over and over, while the pushes commit; then once more to catch up.
    for (bool last = false; !last;) {
      last = !pushing.load();
      for (;;) {
        v1::Pull pull;
        pull.set_cursor(cursor);
        pull.set_page_size(7);
        auto page = service_->Pull(reader.ctx, pull);
        if (!page.ok()) {
          ADD_FAILURE() << page.status().ToString();
          return;
        }
        for (const auto& c : page->changes()) seen.push_back(c.server_seq());
        cursor = page->next_cursor();
        if (!page->more()) break;
      }
    }
  });
  std::vector<std::thread> threads;
  for (int i = 0; i < kDevices; ++i) {
    threads.emplace_back([&, i] {
      for (const auto& push : pushes[i]) EXPECT_TRUE(service_->Push(devices[i].ctx, push).ok());
    });
  }
  for (auto& t : threads) t.join();
  pushing = false;
  puller.join();
  const auto log = Log(hub_);
  ASSERT_EQ(seen.size(), log.size());
  for (size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], i + 1) << "the cursor skipped a change";
}

TEST_F(SyncServiceTest, AdministrationThroughASecondStoreHandleWhileServing) {
  // `outreach-server enrol` runs as its own process on the store `serve` has open.
  auto second = OpenStore(location_);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  Administration other(**second);
  auto code = other.IssueEnrolmentCode(hub_, v1::ROLE_ADVISER, "Late joiner");
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  v1::Enrol request;
  request.set_code(*code);
  v1::Refusal refusal;
  ASSERT_TRUE(service_->Enrol(request, &refusal).ok()) << refusal.detail();
  auto venue = other.AddVenue(hub_, "Library", v1::VENUE_KIND_LIBRARY);
  ASSERT_TRUE(venue.ok());
  TestDevice d = Enrol(v1::ROLE_ADVISER, "Priya");
  PushOne(d, Upsert(d, Uuid::NewV7(), v1::RECORD_TYPE_PARTICIPANT, Person("A", "B")));
  const auto log = Log(hub_);
  for (size_t i = 0; i < log.size(); ++i) ASSERT_EQ(log[i].server_seq(), i + 1);
  EXPECT_EQ(other.ListDevices(hub_)->size(), 2u);
}

}  // namespace
}  // namespace outreach::server::testing
