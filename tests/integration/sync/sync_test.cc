// Devices capture offline on their own SQLite files, then sync through the real
// outreach-server process over TLS: enrolment, push, pull, convergence, merge
// policies, conflicts and their resolution, duplicates, revocation, access per change.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "client/journey/device_internals.h"
#include "common/field_value.h"
#include "common/record_registry.h"
#include "outreach/device.h"
#include "outreach/sync.h"
#include "tests/support/consents.h"
#include "tests/support/server_harness.h"

namespace outreach::testing {
namespace {

// One device: its own database file, enrolled with a fresh code.
struct TestDevice {
  std::string path;
  std::unique_ptr<Device> device;

  Device* operator->() { return device.get(); }
  Device& operator*() { return *device; }
};

class SyncTest : public ServerTest {
 protected:
  void SetUp() override { StartServer(); }

  std::string AddVenue(const std::string& name, const std::string& kind = "childrens_centre") {
    CliResult r = RunCli({"venue", "add", "--data", deployment_.data, "--hub", deployment_.hub_id, "--name", name,
                          "--kind", kind, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.json()["venue_id"].get<std::string>();
  }

  TestDevice NewDevice(const std::string& name, const std::string& role = "adviser", const std::string& venue = "",
                       TestDeployment* deployment = nullptr, uint16_t port = 0, const std::string& hub = "") {
    if (deployment == nullptr) deployment = &deployment_;
    TestDevice d;
    d.path = deployment->dir / (name + ".db");
    DeviceOptions options;
    options.path = d.path;
    options.user_name = name;
    auto opened = Device::Open(options);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    d.device = std::move(opened).value();
    EnrolOptions enrol;
    enrol.server = "127.0.0.1:" + std::to_string(port ? port : this->port());
    enrol.ca_pem = deployment->ca_pem;
    enrol.code = deployment->IssueCode(role, name, venue, hub);
    enrol.device_name = name + "'s tablet";
    Result<EnrolReport> report = Enrol(*d.device, enrol);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return d;
  }

  static SyncReport MustSync(TestDevice& d) {
    Result<SyncReport> r = Sync(*d.device);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : SyncReport{};
  }

  static v1::Record MustOk(Result<v1::Record> r) {
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : v1::Record{};
  }

  static v1::Participant Person(const std::string& given, const std::string& family, const std::string& dob) {
    v1::Participant p;
    p.set_given_name(given);
    p.set_family_name(family);
    p.set_date_of_birth(dob);
    return p;
  }

  // Pushes `changes` as one batch with `d`'s credential over a connection of its own:
  // what a device may send, whatever its outbox holds. Empty ack on failure.
  v1::PushAck PushRaw(TestDevice& d, const std::vector<v1::Change>& changes) {
    Result<std::optional<client::DeviceIdentity>> id = StoreOf(*d).LoadIdentity();
    EXPECT_TRUE(id.ok() && id->has_value());
    if (!id.ok() || !id->has_value() || changes.empty()) return {};
    TestPeer peer(port(), PeerOptions());
    EXPECT_TRUE(peer.Connect().ok());
    EXPECT_TRUE(peer.Send(HelloEnvelope((*id)->device_id.raw(), (*id)->credential)).ok());
    EXPECT_TRUE(peer.Receive().ok());
    v1::Envelope push = PushEnvelope(changes.front().device_seq());
    for (const v1::Change& c : changes) *push.mutable_push()->add_changes() = c;
    EXPECT_TRUE(peer.Send(push).ok());
    Result<v1::Envelope> ack = peer.Receive();
    EXPECT_TRUE(ack.ok() && ack->has_push_ack());
    return ack.ok() ? ack->push_ack() : v1::PushAck{};
  }

  // An upsert of record `id` setting every field `body` sets, as `d` would push it: for
  // PushRaw, which skips the device's own checks.
  static v1::Change RawUpsert(TestDevice& d, const Uuid& id, v1::RecordType type, const google::protobuf::Message& body,
                              uint64_t device_seq) {
    v1::Change c;
    c.set_record_id(id.raw());
    c.set_type(type);
    c.set_op(v1::CHANGE_OP_UPSERT);
    c.set_hlc(StoreOf(*d).clock().Now().value());
    c.set_device_seq(device_seq);
    for (v1::FieldValue& fv : AllFields(body)) *c.add_fields() = std::move(fv);
    return c;
  }

  // The device's state as text, one line per record, in (type, id) order.
  static std::string State(TestDevice& d) {
    Result<std::vector<v1::Record>> all = d->Export();
    EXPECT_TRUE(all.ok());
    std::vector<std::string> lines;
    for (const v1::Record& r : *all) {
      if (r.type() == v1::RECORD_TYPE_INSTRUMENT) continue;  // seeded locally
      lines.push_back(r.ShortDebugString());
    }
    std::sort(lines.begin(), lines.end());
    std::string out;
    for (auto& l : lines) out += l + "\n";
    return out;
  }
};

TEST_F(SyncTest, PushThenPullReachesAnotherDevice) {
  TestDevice ann = NewDevice("Ann");
  TestDevice bob = NewDevice("Bob");
  v1::Record p = MustOk(ann->RegisterParticipant(Person("Amina", "Khan", "1990-04-01")));
  SyncReport first = MustSync(ann);
  EXPECT_EQ(first.pushed, 1u);
  EXPECT_EQ(first.rejected, 0u);
  EXPECT_EQ(*StoreOf(*ann).PendingCount(), 0u);

  SyncReport second = MustSync(bob);
  EXPECT_GE(second.pulled, 1u);
  Result<v1::Record> got = bob->Get(*Uuid::FromBytes(p.id()));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->participant().given_name(), "Amina");
  EXPECT_EQ(got->participant().reference(), p.participant().reference());

  // Syncing again moves nothing.
  SyncReport again = MustSync(bob);
  EXPECT_EQ(again.pushed, 0u);
  EXPECT_EQ(again.pulled, 0u);
}

// The server here accepts frames of at most kMaxFrameBytes (64 KiB, its Welcome says so);
// 500 participants (the default push batch) encode to well over that. The device must
// split the outbox into batches that fit instead of sending one the server refuses
// (FRAME_TOO_LARGE), and every change must arrive.
TEST_F(SyncTest, APushOverTheServersFrameLimitIsSplitAndNothingIsLost) {
  TestDevice ann = NewDevice("Ann");
  TestDevice bob = NewDevice("Bob");
  constexpr int kPeople = 500;
  const std::string padding(60, 'x');
  for (int i = 0; i < kPeople; ++i) {
    MustOk(ann->RegisterParticipant(Person("Given" + padding + std::to_string(i), "Family", "1990-04-01")));
  }
  SyncReport pushed = MustSync(ann);
  EXPECT_EQ(pushed.pushed, static_cast<uint64_t>(kPeople));
  EXPECT_EQ(pushed.rejected, 0u);
  EXPECT_EQ(*StoreOf(*ann).PendingCount(), 0u);
  MustSync(bob);
  EXPECT_EQ(State(bob), State(ann));
}

TEST_F(SyncTest, ThreeDevicesConvergeAndAConflictIsKeptThenResolvedEverywhere) {
  TestDevice ann = NewDevice("Ann");
  TestDevice bob = NewDevice("Bob");
  TestDevice cat = NewDevice("Cat");
  v1::Record p = MustOk(ann->RegisterParticipant(Person("Sam", "Jones", "1985-02-03")));
  const Uuid pid = *Uuid::FromBytes(p.id());
  MustSync(ann);
  MustSync(bob);

  // Offline, both change the same phone number from the same base.
  v1::Participant a = p.participant();
  a.set_phone("+441134960001");
  MustOk(ann->UpdateParticipant(pid, a));
  v1::Participant b = p.participant();
  b.set_phone("+441134960002");
  b.set_postcode("NG1 1AA");  // a field only Bob changed: no conflict there
  MustOk(bob->UpdateParticipant(pid, b));

  EXPECT_EQ(MustSync(ann).conflicts, 0u);
  SyncReport bob_sync = MustSync(bob);
  EXPECT_EQ(bob_sync.conflicts, 1u);
  MustSync(ann);
  MustSync(cat);

  // Every device holds the same state, including one open conflict that keeps both values.
  EXPECT_EQ(State(ann), State(bob));
  EXPECT_EQ(State(bob), State(cat));
  Result<std::vector<v1::Record>> conflicts = cat->OpenConflicts();
  ASSERT_TRUE(conflicts.ok());
  ASSERT_EQ(conflicts->size(), 1u);
  const v1::Conflict& c = conflicts->front().conflict();
  EXPECT_EQ(c.record_id(), p.id());
  EXPECT_NE(c.winning_value(), c.losing_value());
  EXPECT_FALSE(c.winning_author().empty());
  EXPECT_FALSE(c.losing_author().empty());
  const std::string winner_phone = cat->Get(pid)->participant().phone();
  EXPECT_EQ(cat->Get(pid)->participant().postcode(), "NG1 1AA");

  // Cat resolves it by taking the losing value; the resolution reaches Ann and Bob.
  MustOk(cat->ResolveConflict(*Uuid::FromBytes(conflicts->front().id()), v1::CONFLICT_STATUS_TOOK_LOSER));
  MustSync(cat);
  MustSync(ann);
  MustSync(bob);
  MustSync(cat);
  const std::string loser_phone = winner_phone == "+441134960001" ? "+441134960002" : "+441134960001";
  for (TestDevice* d : {&ann, &bob, &cat}) {
    EXPECT_EQ((*d)->Get(pid)->participant().phone(), loser_phone) << d->path;
    EXPECT_TRUE((*d)->OpenConflicts()->empty()) << d->path;
  }
  EXPECT_EQ(State(ann), State(bob));
  EXPECT_EQ(State(bob), State(cat));
}

TEST_F(SyncTest, ResendingAfterALostAckDuplicatesNothing) {
  TestDevice ann = NewDevice("Ann");
  for (int i = 0; i < 5; ++i) MustOk(ann->RegisterParticipant(Person("P" + std::to_string(i), "Test", "1970-01-01")));
  // Take the outbox as it is, push it, then push the very same changes again by hand:
  // this is what a device does when the ack was lost.
  Result<std::vector<v1::Change>> pending = StoreOf(*ann).PendingChanges(100);
  ASSERT_TRUE(pending.ok());
  MustSync(ann);
  v1::PushAck ack = PushRaw(ann, *pending);
  ASSERT_EQ(ack.results_size(), 5);
  for (const auto& r : ack.results()) EXPECT_EQ(r.outcome(), v1::CHANGE_OUTCOME_DUPLICATE);

  TestDevice bob = NewDevice("Bob");
  MustSync(bob);
  EXPECT_EQ(bob->ListParticipants()->size(), 5u);
}

TEST_F(SyncTest, AttendanceAdviserMarkOutranksKiosk) {
  const std::string venue = AddVenue("Sure Start Bulwell");
  TestDevice ann = NewDevice("Ann");
  TestDevice kiosk = NewDevice("Kiosk", "kiosk", venue);
  v1::Record p = MustOk(ann->RegisterParticipant(Person("Lee", "Smith", "1992-05-06")));
  v1::Session s;
  s.set_venue_id(Uuid::Parse(venue)->raw());
  s.set_kind(v1::SESSION_KIND_GROUP);
  s.set_title("Job club");
  s.set_starts_at("2026-11-23T10:00");
  s.set_duration_min(90);
  v1::Record session = MustOk(ann->CreateSession(s));
  v1::Booking booking;
  booking.set_session_id(session.id());
  booking.set_participant_id(p.id());
  MustOk(ann->BookSession(booking));
  MustSync(ann);
  MustSync(kiosk);

  // The kiosk signs Lee in as attended; later the adviser marks Lee late (offline both).
  v1::Record signed_in = MustOk(kiosk->SignInByReference(*Uuid::FromBytes(session.id()), p.participant().reference()));
  v1::Attendance mark;
  mark.set_session_id(session.id());
  mark.set_participant_id(p.id());
  mark.set_status(v1::ATTENDANCE_STATUS_LATE);
  v1::Record adviser_mark = MustOk(ann->MarkAttendance(mark));
  EXPECT_EQ(signed_in.id(), adviser_mark.id());  // one row per (session, participant)

  MustSync(ann);    // the adviser's mark arrives first...
  MustSync(kiosk);  // ...the kiosk's later one must not overwrite it
  MustSync(ann);
  for (TestDevice* d : {&ann, &kiosk}) {
    Result<v1::Record> row = (*d)->Get(*Uuid::FromBytes(adviser_mark.id()));
    ASSERT_TRUE(row.ok());
    EXPECT_EQ(row->attendance().status(), v1::ATTENDANCE_STATUS_LATE) << d->path;
    EXPECT_EQ(row->attendance().marked_by(), v1::MARKED_BY_ADVISER) << d->path;
  }
}

TEST_F(SyncTest, KioskWritesAreCheckedPerChange) {
  const std::string venue = AddVenue("Library", "library");
  TestDevice ann = NewDevice("Ann");
  TestDevice kiosk = NewDevice("Kiosk", "kiosk", venue);
  v1::Record p = MustOk(ann->RegisterParticipant(Person("Jo", "Bloggs", "1980-02-02")));
  v1::Session s;
  s.set_venue_id(Uuid::Parse(venue)->raw());
  s.set_kind(v1::SESSION_KIND_DROP_IN);
  s.set_title("Drop-in");
  s.set_starts_at("2026-11-23T09:30");
  v1::Record session = MustOk(ann->CreateSession(s));
  v1::Booking b;
  b.set_session_id(session.id());
  b.set_participant_id(p.id());
  MustOk(ann->BookSession(b));
  MustSync(ann);
  MustSync(kiosk);

  // A kiosk may sign a person in, but not register one: the device refuses at once...
  MustOk(kiosk->SignInByReference(*Uuid::FromBytes(session.id()), p.participant().reference()));
  Result<v1::Record> refused = kiosk->RegisterParticipant(Person("Not", "Allowed", "1980-01-01"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kPermissionDenied);
  // ...and the server judges each change alone, whatever a device sends: the sign-in
  // applies, a participant smuggled into the same batch is rejected with a reason.
  Result<std::vector<v1::Change>> pending = StoreOf(*kiosk).PendingChanges(10);
  ASSERT_EQ(pending->size(), 1u);
  v1::Change smuggled;
  smuggled.set_record_id(Uuid::NewV7().raw());
  smuggled.set_type(v1::RECORD_TYPE_PARTICIPANT);
  smuggled.set_op(v1::CHANGE_OP_UPSERT);
  smuggled.set_hlc(pending->front().hlc() + 1);
  smuggled.set_device_seq(pending->front().device_seq() + 1);
  v1::Participant body = Person("Not", "Allowed", "1980-01-01");
  for (const v1::FieldValue& fv : AllFields(body)) *smuggled.add_fields() = fv;
  v1::PushAck ack = PushRaw(kiosk, {pending->front(), smuggled});
  ASSERT_EQ(ack.results_size(), 2);
  EXPECT_EQ(ack.results(0).outcome(), v1::CHANGE_OUTCOME_APPLIED);
  EXPECT_EQ(ack.results(1).outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_NE(ack.results(1).reason().find("kiosk"), std::string::npos) << ack.results(1).reason();
  // The device's own sync then finds its sign-in already applied.
  SyncReport r = MustSync(kiosk);
  EXPECT_EQ(r.pushed, 1u);
  EXPECT_EQ(r.rejected, 0u);

  MustSync(ann);
  EXPECT_EQ(ann->ListParticipants()->size(), 1u);
  Result<std::vector<SessionRegister>> today = ann->SessionsAtVenue(*Uuid::Parse(venue), "2026-11-23");
  ASSERT_TRUE(today.ok());
  ASSERT_EQ(today->size(), 1u);
  int attended = 0;
  for (const v1::Record& r : *ann->Export())
    if (r.type() == v1::RECORD_TYPE_ATTENDANCE && r.attendance().status() == v1::ATTENDANCE_STATUS_ATTENDED) ++attended;
  EXPECT_EQ(attended, 1);
}

TEST_F(SyncTest, KioskPullsOnlyItsVenueAndNamesNeeded) {
  const std::string here = AddVenue("Housing office", "housing_office");
  const std::string there = AddVenue("Children's centre");
  TestDevice ann = NewDevice("Ann");
  TestDevice kiosk = NewDevice("Kiosk", "kiosk", here);
  v1::Participant booked = Person("Booked", "Here", "1990-01-01");
  booked.set_phone("+441134960111");
  booked.set_ni_number("AB123456C");
  v1::Record p1 = MustOk(ann->RegisterParticipant(booked));
  v1::Record p2 = MustOk(ann->RegisterParticipant(Person("Elsewhere", "Only", "1991-01-01")));
  v1::CaseNote note;
  note.set_participant_id(p1.id());
  note.set_sensitivity(v1::NOTE_SENSITIVITY_NORMAL);
  note.set_text("Discussed CV");
  MustOk(ann->AddCaseNote(note));
  for (const std::string& venue : {here, there}) {
    v1::Session s;
    s.set_venue_id(Uuid::Parse(venue)->raw());
    s.set_kind(v1::SESSION_KIND_GROUP);
    s.set_title("Session at " + venue);
    s.set_starts_at("2026-11-23T10:00");
    v1::Record session = MustOk(ann->CreateSession(s));
    v1::Booking b;
    b.set_session_id(session.id());
    b.set_participant_id(venue == here ? p1.id() : p2.id());
    MustOk(ann->BookSession(b));
  }
  MustSync(ann);
  MustSync(kiosk);

  std::map<v1::RecordType, int> held;
  for (const v1::Record& r : *kiosk->Export()) held[r.type()]++;
  EXPECT_EQ(held[v1::RECORD_TYPE_SESSION], 1);
  EXPECT_EQ(held[v1::RECORD_TYPE_BOOKING], 1);
  EXPECT_EQ(held[v1::RECORD_TYPE_CASE_NOTE], 0);
  EXPECT_EQ(held[v1::RECORD_TYPE_PARTICIPANT], 1);
  Result<v1::Record> seen = kiosk->Get(*Uuid::FromBytes(p1.id()));
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(seen->participant().given_name(), "Booked");
  EXPECT_EQ(seen->participant().reference(), p1.participant().reference());
  EXPECT_TRUE(seen->participant().phone().empty());
  EXPECT_TRUE(seen->participant().ni_number().empty());
  EXPECT_TRUE(seen->participant().date_of_birth().empty());
  EXPECT_FALSE(kiosk->Get(*Uuid::FromBytes(p2.id())).ok());
}

TEST_F(SyncTest, HealthNotesReachOnlyHealthRolesAndRestrictedNotesNeverLeave) {
  TestDevice nurse = NewDevice("Nia", "health_worker");
  TestDevice ann = NewDevice("Ann");
  v1::Record p = MustOk(nurse->RegisterParticipant(Person("Kim", "Lo", "1975-03-04")));
  v1::CaseNote health;
  health.set_participant_id(p.id());
  health.set_sensitivity(v1::NOTE_SENSITIVITY_HEALTH);
  health.set_text("MSK referral discussed");
  v1::Record health_note = MustOk(nurse->AddCaseNote(health));
  v1::CaseNote restricted = health;
  restricted.set_sensitivity(v1::NOTE_SENSITIVITY_RESTRICTED);
  restricted.set_text("Disclosed at home visit");
  v1::Record restricted_note = MustOk(nurse->AddCaseNote(restricted));
  MustSync(nurse);
  MustSync(ann);
  TestDevice nurse2 = NewDevice("Noor", "health_worker");
  MustSync(nurse2);
  EXPECT_FALSE(ann->Get(*Uuid::FromBytes(health_note.id())).ok());
  EXPECT_TRUE(nurse2->Get(*Uuid::FromBytes(health_note.id())).ok());
  EXPECT_FALSE(nurse2->Get(*Uuid::FromBytes(restricted_note.id())).ok());
  EXPECT_TRUE(nurse->Get(*Uuid::FromBytes(restricted_note.id())).ok());  // still on the device that wrote it
}

TEST_F(SyncTest, IllegalConcurrentTransitionIsRejectedWithAReason) {
  TestDevice ann = NewDevice("Ann");
  TestDevice bob = NewDevice("Bob");
  v1::Record p = MustOk(ann->RegisterParticipant(Person("Ola", "Ade", "1988-08-08")));
  v1::Referral referral;
  referral.set_participant_id(p.id());
  referral.set_kind(v1::REFERRAL_KIND_REFERRAL);
  referral.set_partner_name("Debt advice");
  // A referral rests on the participant's consent to share with partners.
  MustOk(ann->RecordConsent(SignedConsent(p.id(), v1::CONSENT_PURPOSE_SHARE_WITH_PARTNERS)));
  v1::Record ref = MustOk(ann->MakeReferral(referral));
  MustSync(ann);
  MustSync(bob);
  const Uuid rid = *Uuid::FromBytes(ref.id());
  // Offline: Ann records a rejection; Bob records the partner's acceptance.
  MustOk(ann->MoveReferral(rid, v1::REFERRAL_STATUS_REJECTED, "not eligible"));
  MustOk(bob->MoveReferral(rid, v1::REFERRAL_STATUS_ACCEPTED));
  MustSync(ann);
  SyncReport r = MustSync(bob);
  EXPECT_EQ(r.rejected, 1u);
  Result<std::vector<RejectedChange>> rejected = bob->RejectedChanges();
  ASSERT_EQ(rejected->size(), 1u);
  EXPECT_EQ(rejected->front().field, "status");
  EXPECT_NE(rejected->front().reason.find("rejected"), std::string::npos) << rejected->front().reason;
}

TEST_F(SyncTest, DuplicateParticipantsBecomeAReviewItem) {
  TestDevice ann = NewDevice("Ann");
  TestDevice bob = NewDevice("Bob");
  MustOk(ann->RegisterParticipant(Person("Maria", "Lopez", "1979-12-01")));
  MustOk(bob->RegisterParticipant(Person("  maria ", "LOPEZ", "1979-12-01")));
  MustSync(ann);
  MustSync(bob);
  MustSync(ann);
  for (TestDevice* d : {&ann, &bob}) {
    int reviews = 0;
    for (const v1::Record& r : *(*d)->Export()) {
      if (r.type() == v1::RECORD_TYPE_DUPLICATE_REVIEW) {
        ++reviews;
        EXPECT_EQ(r.duplicate_review().match(), v1::DUPLICATE_MATCH_NAME_AND_DATE_OF_BIRTH);
      }
    }
    EXPECT_EQ(reviews, 1) << d->path;
  }
}

TEST_F(SyncTest, ManagerMergesDuplicatesAndEveryDeviceRedirectsLinkedRecords) {
  TestDevice ann = NewDevice("Ann");
  TestDevice bo = NewDevice("Bo");
  TestDevice manager = NewDevice("Mo", "manager");
  v1::Record kept = MustOk(ann->RegisterParticipant(Person("Dan", "Okafor", "1987-07-22")));
  v1::Participant again = Person("dan", "OKAFOR", "1987-07-22");
  again.set_ni_number("AB123456C");
  v1::Record dup = MustOk(bo->RegisterParticipant(again));
  v1::ContactAttempt contact;
  contact.set_participant_id(dup.id());
  contact.set_method(v1::CONTACT_METHOD_PHONE);
  contact.set_result(v1::CONTACT_RESULT_REACHED);
  v1::Record call = MustOk(bo->LogContact(contact));
  MustSync(ann);
  MustSync(bo);
  MustSync(manager);

  v1::Record review;
  for (const v1::Record& r : *manager->Export())
    if (r.type() == v1::RECORD_TYPE_DUPLICATE_REVIEW) review = r;
  ASSERT_EQ(review.type(), v1::RECORD_TYPE_DUPLICATE_REVIEW);
  MustOk(manager->DecideDuplicate(*Uuid::FromBytes(review.id()), v1::DUPLICATE_REVIEW_STATUS_MERGED,
                                  *Uuid::FromBytes(kept.id())));
  SyncReport r = MustSync(manager);
  EXPECT_EQ(r.rejected, 0u);
  MustSync(ann);
  MustSync(bo);
  MustSync(manager);

  for (TestDevice* d : {&ann, &bo, &manager}) {
    Result<v1::Record> merged = (*d)->Get(*Uuid::FromBytes(dup.id()));
    ASSERT_TRUE(merged.ok()) << d->path;
    EXPECT_EQ(merged->participant().status(), v1::PARTICIPANT_STATUS_MERGED) << d->path;
    EXPECT_EQ(merged->participant().merged_into(), kept.id()) << d->path;
    Result<v1::Record> moved = (*d)->Get(*Uuid::FromBytes(call.id()));
    ASSERT_TRUE(moved.ok()) << d->path;
    EXPECT_EQ(moved->contact_attempt().participant_id(), kept.id()) << d->path;
  }
  EXPECT_EQ(State(ann), State(bo));
  EXPECT_EQ(State(bo), State(manager));
}

TEST_F(SyncTest, AdviserCannotDecideADuplicateReview) {
  TestDevice ann = NewDevice("Ann");
  MustOk(ann->RegisterParticipant(Person("Eve", "Ray", "1970-01-01")));
  MustOk(ann->RegisterParticipant(Person("Eve", "Ray", "1970-01-01")));
  MustSync(ann);
  MustSync(ann);
  v1::Record review;
  for (const v1::Record& r : *ann->Export())
    if (r.type() == v1::RECORD_TYPE_DUPLICATE_REVIEW) review = r;
  ASSERT_EQ(review.type(), v1::RECORD_TYPE_DUPLICATE_REVIEW);
  // The registry's step says a manager decides: the device refuses, naming the state, and
  // captures nothing (the server's refusal of a raw push: ReconcileTest, SecurityTest).
  Result<v1::Record> decided =
      ann->DecideDuplicate(*Uuid::FromBytes(review.id()), v1::DUPLICATE_REVIEW_STATUS_NOT_DUPLICATE);
  ASSERT_FALSE(decided.ok());
  EXPECT_EQ(decided.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(decided.status().field(), "status");
  EXPECT_EQ(MustSync(ann).pushed, 0u);
}

// True if `needle` occurs in the bytes of `path` or of its -wal file.
bool FileHolds(const std::string& path, const std::string& needle) {
  for (const std::string& p : {path, path + "-wal"}) {
    if (ReadFileOrEmpty(p).find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST_F(SyncTest, ErasureReachesEveryDeviceAndLeavesNoPersonalData) {
  TestDevice ann = NewDevice("Ann");
  TestDevice bo = NewDevice("Bo");
  TestDevice manager = NewDevice("Mo", "manager");
  v1::Participant zara = Person("Zara", "Quinlanova", "1993-06-30");
  zara.set_phone("+441134960999");
  v1::Record p = MustOk(ann->RegisterParticipant(zara));
  v1::CaseNote note;
  note.set_participant_id(p.id());
  note.set_sensitivity(v1::NOTE_SENSITIVITY_NORMAL);
  note.set_text("Quinlanova asked about forklift training");
  v1::Record n = MustOk(ann->AddCaseNote(note));
  v1::Record kept = MustOk(ann->RegisterParticipant(Person("Keep", "Me", "1960-01-01")));
  MustSync(ann);
  MustSync(bo);
  MustSync(manager);
  ASSERT_TRUE(FileHolds(bo.path, "Quinlanova"));

  MustOk(manager->EraseParticipant(*Uuid::FromBytes(p.id())));
  EXPECT_EQ(MustSync(manager).rejected, 0u);
  MustSync(ann);
  MustSync(bo);
  for (TestDevice* d : {&ann, &bo, &manager}) {
    Result<v1::Record> erased = (*d)->Get(*Uuid::FromBytes(p.id()));
    ASSERT_TRUE(erased.ok()) << d->path;
    EXPECT_TRUE(erased->erased()) << d->path;
    EXPECT_TRUE(erased->participant().family_name().empty()) << d->path;
    Result<v1::Record> linked = (*d)->Get(*Uuid::FromBytes(n.id()));
    ASSERT_TRUE(linked.ok()) << d->path;
    EXPECT_TRUE(linked->erased()) << d->path;
    EXPECT_TRUE(linked->case_note().text().empty()) << d->path;
    EXPECT_EQ((*d)->Get(*Uuid::FromBytes(kept.id()))->participant().family_name(), "Me") << d->path;
  }
  EXPECT_EQ(State(ann), State(bo));
  EXPECT_EQ(State(bo), State(manager));
  // Nothing personal is left in any device's files (records, change log, free pages, WAL)...
  for (TestDevice* d : {&ann, &bo, &manager}) {
    EXPECT_FALSE(FileHolds(d->path, "Quinlanova")) << d->path;
    EXPECT_FALSE(FileHolds(d->path, "+441134960999")) << d->path;
  }
  // ...nor in the server's store.
#ifdef OUTREACH_TEST_ON_POSTGRES
  Result<std::string> holding = deployment_.database->Query(
      "SELECT (SELECT count(*) FROM change_log WHERE position('Quinlanova'::bytea in change) > 0) + "
      "(SELECT count(*) FROM records WHERE position('Quinlanova'::bytea in record) > 0) + "
      "(SELECT count(*) FROM audit WHERE position('Quinlanova'::bytea in old_value || new_value) > 0)");
  ASSERT_TRUE(holding.ok()) << holding.status().ToString();
  EXPECT_EQ(*holding, "0");
#else
  EXPECT_FALSE(FileHolds(deployment_.data + "/store.db", "Quinlanova"));
#endif
}

// Every file beside `db_path` whose name starts with its name (the file, -wal, -shm,
// any -journal), each whole, one after the other.
std::string DeviceFiles(const std::string& db_path) {
  const std::filesystem::path db(db_path);
  std::string all;
  for (const auto& entry : std::filesystem::directory_iterator(db.parent_path())) {
    if (entry.is_regular_file() && entry.path().filename().string().rfind(db.filename().string(), 0) == 0) {
      all += ReadFileOrEmpty(entry.path().string());
    }
  }
  return all;
}

// The issue's case: the adviser's restricted note never reaches the server, so the ERASE
// the server sends cannot name it; the adviser's device purges it (and every other
// record of the person it holds) itself when it applies the ERASE.
TEST_F(SyncTest, ErasureLeavesNoTraceOfARestrictedNoteOnTheDeviceThatWroteIt) {
  TestDevice ann = NewDevice("Ann");
  TestDevice manager = NewDevice("Mo", "manager");
  const std::string kRestricted = "Disclosed-at-home-visit-Wrexlomir-4471";
  v1::Participant person = Person("Ysolde", "Pembertonwick", "1991-09-17");
  person.set_ni_number("AB918273C");
  v1::Record p = MustOk(ann->RegisterParticipant(person));
  v1::CaseNote note;
  note.set_participant_id(p.id());
  note.set_sensitivity(v1::NOTE_SENSITIVITY_RESTRICTED);
  note.set_text(kRestricted);
  v1::Record restricted = MustOk(ann->AddCaseNote(note));
  note.set_sensitivity(v1::NOTE_SENSITIVITY_NORMAL);
  note.set_text("Pembertonwick wants to train as an electrician");
  v1::Record normal = MustOk(ann->AddCaseNote(note));
  v1::Record kept = MustOk(ann->RegisterParticipant(Person("Keep", "Mewell", "1960-01-01")));
  v1::CaseNote kept_note;
  kept_note.set_participant_id(kept.id());
  kept_note.set_sensitivity(v1::NOTE_SENSITIVITY_RESTRICTED);
  kept_note.set_text("Kept-restricted-note-2290");
  v1::Record kept_restricted = MustOk(ann->AddCaseNote(kept_note));
  EXPECT_EQ(MustSync(ann).rejected, 0u);
  MustSync(manager);
  ASSERT_FALSE(manager->Get(*Uuid::FromBytes(restricted.id())).ok());  // never left Ann's device
  const std::string before = DeviceFiles(ann.path);
  for (const std::string& text : {kRestricted, std::string("Pembertonwick"), std::string("AB918273C")}) {
    ASSERT_NE(before.find(text), std::string::npos) << text;
  }

  MustOk(manager->EraseParticipant(*Uuid::FromBytes(p.id())));
  EXPECT_EQ(MustSync(manager).rejected, 0u);
  SyncReport r = MustSync(ann);
  EXPECT_EQ(r.pushed, 0u);
  EXPECT_GE(r.pulled, 1u);

  // The person, the note the server held and the one it never saw: erased on Ann's device.
  for (const v1::Record* rec : {&p, &normal, &restricted}) {
    Result<v1::Record> held = ann->Get(*Uuid::FromBytes(rec->id()));
    ASSERT_TRUE(held.ok()) << held.status().ToString();
    EXPECT_TRUE(held->erased()) << held->ShortDebugString();
  }
  EXPECT_TRUE(ann->Get(*Uuid::FromBytes(p.id()))->participant().family_name().empty());
  EXPECT_TRUE(ann->Get(*Uuid::FromBytes(p.id()))->participant().ni_number().empty());
  EXPECT_TRUE(ann->Get(*Uuid::FromBytes(restricted.id()))->case_note().text().empty());
  EXPECT_TRUE(ann->FindParticipants("Pembertonwick")->empty());
  EXPECT_EQ(*StoreOf(*ann).PendingCount(), 0u);
  // No file of Ann's device holds the note, the names or the NI number.
  const std::string after = DeviceFiles(ann.path);
  for (const std::string& text :
       {kRestricted, std::string("Pembertonwick"), std::string("Ysolde"), std::string("AB918273C")}) {
    EXPECT_EQ(after.find(text), std::string::npos) << text;
  }
  // The other person's records, restricted note included, are as they were.
  EXPECT_EQ(ann->Get(*Uuid::FromBytes(kept.id()))->participant().family_name(), "Mewell");
  EXPECT_EQ(ann->Get(*Uuid::FromBytes(kept_restricted.id()))->case_note().text(), "Kept-restricted-note-2290");
  // Another sync changes nothing and pushes nothing about the person.
  SyncReport again = MustSync(ann);
  EXPECT_EQ(again.pushed, 0u);
  EXPECT_EQ(again.rejected, 0u);
}

TEST_F(SyncTest, AdviserErasureIsRefusedByTheServer) {
  TestDevice ann = NewDevice("Ann");
  v1::Record p = MustOk(ann->RegisterParticipant(Person("Ola", "Nordmann", "1982-02-02")));
  MustSync(ann);
  MustOk(ann->EraseParticipant(*Uuid::FromBytes(p.id())));
  SyncReport r = MustSync(ann);
  EXPECT_EQ(r.rejected, 1u);
  Result<std::vector<RejectedChange>> rejected = ann->RejectedChanges();
  ASSERT_EQ(rejected->size(), 1u);
  TestDevice bo = NewDevice("Bo");
  MustSync(bo);
  EXPECT_EQ(bo->Get(*Uuid::FromBytes(p.id()))->participant().family_name(), "Nordmann");
}

TEST_F(SyncTest, RevokedDeviceIsRefusedAndWiped) {
  TestDevice ann = NewDevice("Ann");
  MustOk(ann->RegisterParticipant(Person("Ada", "Byron", "1980-10-10")));
  MustSync(ann);
  const std::string device_id = (*StoreOf(*ann).LoadIdentity())->device_id.ToString();
  CliResult revoke = RunCli({"device", "revoke", "--data", deployment_.data, "--device", device_id, "--json"});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  Result<SyncReport> r = Sync(*ann.device);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnauthenticated);
  EXPECT_TRUE(ann->ListParticipants()->empty());
  EXPECT_FALSE(StoreOf(*ann).LoadIdentity()->has_value());
}

// Revoked while it syncs: the next request is refused with wipe (the server re-checks the
// device's standing on every push and pull), and the device wipes then, not a sync later.
TEST_F(SyncTest, ADeviceRevokedMidSyncIsWipedAtOnce) {
  TestDevice ann = NewDevice("Ann");
  for (int i = 0; i < 20; ++i)
    MustOk(ann->RegisterParticipant(Person("Ada" + std::to_string(i), "Byron", "1980-10-10")));
  const std::string device_id = (*StoreOf(*ann).LoadIdentity())->device_id.ToString();
  SyncOptions options;
  options.push_batch_size = 1;
  bool revoked = false;
  Result<SyncReport> r = Sync(*ann.device, options, [&](const SyncProgress& progress) {
    if (revoked || progress.phase != SyncProgress::Phase::kPushing || progress.pushed == 0) return;
    // After the first acknowledged batch, the hub revokes the tablet.
    CliResult revoke = RunCli({"device", "revoke", "--data", deployment_.data, "--device", device_id, "--json"});
    EXPECT_EQ(revoke.exit_code, 0) << revoke.err;
    revoked = true;
  });
  ASSERT_TRUE(revoked);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnauthenticated) << r.status().ToString();
  EXPECT_NE(r.status().message().find("wiped"), std::string::npos) << r.status().ToString();
  EXPECT_TRUE(ann->ListParticipants()->empty());
  EXPECT_FALSE(StoreOf(*ann).LoadIdentity()->has_value());
}

// A server that closes a new connection before TLS (its cap of connections without hello
// from this address is full) is busy, to be tried again: not a wrong CA, which no retry mends.
TEST_F(SyncTest, AServerClosingBeforeTlsIsBusyNotAWrongCa) {
  TestDevice ann = NewDevice("Ann");
  std::vector<std::unique_ptr<TestPeer>> silent;
  for (int i = 0; i < 8; ++i) {  // the default cap per address
    silent.push_back(std::make_unique<TestPeer>(port(), PeerOptions()));
    ASSERT_TRUE(silent.back()->ConnectPlain().ok());
  }
  Result<SyncReport> busy = Sync(*ann.device);
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.status().code(), ErrorCode::kUnavailable) << busy.status().ToString();
  silent.clear();  // the server frees their places as it sees them close
  Result<SyncReport> later = busy;
  for (int attempt = 0; attempt < 20 && !later.ok(); ++attempt) {
    std::this_thread::sleep_for(100ms);
    later = Sync(*ann.device);
  }
  EXPECT_TRUE(later.ok()) << later.status().ToString();
}

TEST_F(SyncTest, WrongCaIsRefusedByTheDevice) {
  TestDeployment other;  // another deployment's CA
  DeviceOptions options;
  options.path = deployment_.dir / "stray.db";
  auto device = Device::Open(options);
  ASSERT_TRUE(device.ok());
  EnrolOptions enrol;
  enrol.server = "127.0.0.1:" + std::to_string(port());
  enrol.ca_pem = other.ca_pem;
  enrol.code = deployment_.IssueCode();
  Result<EnrolReport> r = Enrol(**device, enrol);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnauthenticated) << r.status().ToString();
  EXPECT_FALSE(StoreOf(**device).LoadIdentity()->has_value());
}

TEST_F(SyncTest, ARejectionIsRepeatedWhenTheFirstAckWasLost) {
  TestDevice ann = NewDevice("Ann");
  v1::Record p = MustOk(ann->RegisterParticipant(Person("Ola", "Nordmann", "1982-02-02")));
  MustSync(ann);
  MustOk(ann->EraseParticipant(*Uuid::FromBytes(p.id())));  // an adviser may not erase
  Result<std::vector<v1::Change>> pending = StoreOf(*ann).PendingChanges(10);
  ASSERT_EQ(pending->size(), 1u);
  for (int attempt = 0; attempt < 2; ++attempt) {  // the second time as if the first ack was lost
    v1::PushAck ack = PushRaw(ann, {pending->front()});
    ASSERT_EQ(ack.results_size(), 1);
    EXPECT_EQ(ack.results(0).outcome(), v1::CHANGE_OUTCOME_REJECTED) << "attempt " << attempt;
    EXPECT_FALSE(ack.results(0).reason().empty()) << "attempt " << attempt;
  }
  // The device's own sync (its outbox still holds the change) also records the refusal.
  EXPECT_EQ(MustSync(ann).rejected, 1u);
  EXPECT_EQ(ann->RejectedChanges()->size(), 1u);
}

// Issue 16: a partner organisation is programme reference data shared by the hubs it
// holds contracts in. Created on the server, it reaches every device of those hubs (not
// kiosks, not other hubs), is named by referrals and consents there, and a hub added to
// it later receives the whole record.
TEST_F(SyncTest, APartnerReachesEveryDeviceOfItsHubsAndIsNamedByReferralsAndConsents) {
  const std::string north = deployment_.hub_id;
  const std::string south = deployment_.AddHub("South");
  const std::string east = deployment_.AddHub("East");
  CliResult added = RunCli({"partner", "add", "--data", deployment_.data, "--name", "Citizens Advice", "--kind",
                            "referral_partner", "--hub", north, "--hub", south, "--starts-on", "2026-01-01", "--json"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const std::string partner_text = added.json()["partner_id"].get<std::string>();
  const Uuid partner = *Uuid::Parse(partner_text);

  TestDevice ann = NewDevice("Ann");
  TestDevice sid = NewDevice("Sid", "adviser", "", nullptr, 0, south);
  TestDevice eve = NewDevice("Eve", "adviser", "", nullptr, 0, east);
  TestDevice kiosk = NewDevice("Library kiosk", "kiosk", AddVenue("Library", "library"));
  for (TestDevice* d : {&ann, &sid, &eve, &kiosk}) MustSync(*d);
  auto partners_of = [](TestDevice& d) {
    Result<std::vector<v1::Record>> held = StoreOf(*d).RecordsOfType(v1::RECORD_TYPE_PARTNER_ORGANISATION);
    EXPECT_TRUE(held.ok());
    return held.ok() ? *held : std::vector<v1::Record>{};
  };
  for (TestDevice* d : {&ann, &sid}) {
    Result<std::vector<v1::Record>> listed = (*d)->Partners();
    ASSERT_TRUE(listed.ok()) << listed.status().ToString();
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_EQ(listed->front().id(), partner.raw());
    EXPECT_EQ(listed->front().partner_organisation().name(), "Citizens Advice");
    EXPECT_EQ(listed->front().partner_organisation().starts_on(), "2026-01-01");
  }
  EXPECT_TRUE(partners_of(eve).empty());
  EXPECT_TRUE(partners_of(kiosk).empty());

  // In South: a consent naming the partner and a referral to it are accepted.
  v1::Record sam = MustOk(sid->RegisterParticipant(Person("Sam", "Okafor", "1990-03-04")));
  v1::Consent share = SignedConsent(sam.id(), v1::CONSENT_PURPOSE_SHARE_WITH_PARTNERS);
  share.add_partner_ids(partner.raw());
  MustOk(sid->RecordConsent(share));
  v1::Referral referral;
  referral.set_participant_id(sam.id());
  referral.set_kind(v1::REFERRAL_KIND_WARM_HANDOVER);
  referral.set_partner_id(partner.raw());
  referral.set_summary("Debt advice; mornings.");
  const v1::Record made = MustOk(sid->MakeReferral(referral));
  SyncReport sent = MustSync(sid);
  EXPECT_EQ(sent.pushed, 3u);  // the registration, the consent, the referral
  EXPECT_EQ(sent.rejected, 0u);
  EXPECT_EQ(sent.conflicts, 0u);
  CliResult audit =
      RunCli({"audit", "--data", deployment_.data, "--record", Uuid::FromBytes(made.id())->ToString(), "--json"});
  EXPECT_EQ(audit.exit_code, 0) << audit.err;

  // In East the partner is not there: the device refuses to name it, and so does the
  // server when a device pushes it anyway.
  v1::Record tom = MustOk(eve->RegisterParticipant(Person("Tom", "Reyes", "1985-07-08")));
  v1::Referral elsewhere = referral;
  elsewhere.set_participant_id(tom.id());
  Result<v1::Record> refused = eve->MakeReferral(elsewhere);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().field(), "partner_id");
  MustSync(eve);
  elsewhere.set_made_on(eve->Today());
  elsewhere.set_status(v1::REFERRAL_STATUS_MADE);
  v1::PushAck ack = PushRaw(eve, {RawUpsert(eve, Uuid::NewV7(), v1::RECORD_TYPE_REFERRAL, elsewhere, 1000)});
  ASSERT_EQ(ack.results_size(), 1);
  EXPECT_EQ(ack.results(0).outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_EQ(ack.results(0).field(), "partner_id") << ack.results(0).reason();

  // A manager's device does not edit shared reference data: the server manages it.
  TestDevice meg = NewDevice("Meg", "manager");
  MustSync(meg);
  v1::PartnerOrganisation renamed;
  renamed.set_name("CAB");
  ack = PushRaw(meg, {RawUpsert(meg, partner, v1::RECORD_TYPE_PARTNER_ORGANISATION, renamed, 1000)});
  ASSERT_EQ(ack.results_size(), 1);
  EXPECT_EQ(ack.results(0).outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_NE(ack.results(0).reason().find("managed on the server"), std::string::npos) << ack.results(0).reason();

  // East joins and the contract gets an end: East's device receives the whole record,
  // the others the change.
  CliResult updated = RunCli({"partner", "update", "--data", deployment_.data, "--id", partner_text, "--hub", east,
                              "--ends-on", "2027-03-31", "--json"});
  ASSERT_EQ(updated.exit_code, 0) << updated.err;
  EXPECT_EQ(updated.json()["hub_ids"].size(), 3u);
  for (TestDevice* d : {&ann, &sid, &eve, &kiosk}) MustSync(*d);
  for (TestDevice* d : {&ann, &sid, &eve}) {
    std::vector<v1::Record> held = partners_of(*d);
    ASSERT_EQ(held.size(), 1u);
    EXPECT_EQ(held.front().partner_organisation().name(), "Citizens Advice");
    EXPECT_EQ(held.front().partner_organisation().kind(), v1::PARTNER_KIND_REFERRAL_PARTNER);
    EXPECT_EQ(held.front().partner_organisation().starts_on(), "2026-01-01");
    EXPECT_EQ(held.front().partner_organisation().ends_on(), "2027-03-31");
    EXPECT_EQ(held.front().partner_organisation().hub_ids_size(), 3);
  }
  EXPECT_TRUE(partners_of(kiosk).empty());
  v1::Consent toms = SignedConsent(tom.id(), v1::CONSENT_PURPOSE_SHARE_WITH_PARTNERS);
  toms.add_partner_ids(partner.raw());
  MustOk(eve->RecordConsent(toms));
  MustOk(eve->MakeReferral(elsewhere));
  EXPECT_EQ(MustSync(eve).rejected, 0u);

  // The server lists it for each of its hubs.
  CliResult listed = RunCli({"partner", "list", "--data", deployment_.data, "--hub", east, "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  ASSERT_EQ(listed.json()["partners"].size(), 1u);
  EXPECT_EQ(listed.json()["partners"][0]["ends_on"], "2027-03-31");
}

// Issue 16: a programme is shared by the hubs that deliver it. Its devices receive it,
// and its age range and strands hold on the device and on the server (a raw push that
// skips the device's checks is refused the same); a hub delivers one programme.
TEST_F(SyncTest, AProgrammeReachesItsHubsAndItsRulesHoldOnDeviceAndServer) {
  const std::string north = deployment_.hub_id;
  const std::string south = deployment_.AddHub("South");
  const std::string east = deployment_.AddHub("East");
  CliResult added = RunCli({"programme", "add",       "--data",          deployment_.data,
                            "--name",    "BBO North", "--funder",        "ESF",
                            "--strand",  "BBO",       "--min-age",       "25",
                            "--max-age", "64",        "--rules-version", "2026-04",
                            "--hub",     north,       "--hub",           south,
                            "--json"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const std::string programme = added.json()["programme_id"].get<std::string>();
  CliResult second = RunCli({"programme", "add", "--data", deployment_.data, "--name", "Restart", "--funder", "DWP",
                             "--hub", south, "--json"});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("hub_ids: hub " + south + " belongs to programme " + programme + " already"),
            std::string::npos)
      << second.err;

  TestDevice ann = NewDevice("Ann");
  TestDevice sid = NewDevice("Sid", "adviser", "", nullptr, 0, south);
  TestDevice eve = NewDevice("Eve", "adviser", "", nullptr, 0, east);
  for (TestDevice* d : {&ann, &sid, &eve}) MustSync(*d);
  for (TestDevice* d : {&ann, &sid}) {
    Result<v1::Record> held = (*d)->Programme();
    ASSERT_TRUE(held.ok()) << held.status().ToString();
    EXPECT_EQ(Uuid::FromBytes(held->id())->ToString(), programme);
    EXPECT_EQ(held->programme().max_age(), 64u);
  }
  EXPECT_EQ(eve->Programme().status().code(), ErrorCode::kNotFound);

  // 18 years old today: outside 25 to 64.
  const std::string eighteen = std::to_string(std::stoi(sid->Today().substr(0, 4)) - 18) + "-01-01";
  Result<v1::Record> refused = sid->RegisterParticipant(Person("Kai", "Moss", eighteen));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().field(), "date_of_birth");
  uint64_t seq = 1000;
  auto new_person = [&](TestDevice& d, const std::string& dob, const std::string& strand) {
    v1::Participant p = Person("Kai", "Moss " + std::to_string(++seq), dob);
    p.set_programme_strand(strand);
    return RawUpsert(d, Uuid::NewV7(), v1::RECORD_TYPE_PARTICIPANT, p, seq);
  };

  v1::PushAck ack = PushRaw(
      sid, {new_person(sid, eighteen, ""), new_person(sid, "1990-01-01", "ESF"), new_person(sid, "1990-01-01", "BBO")});
  ASSERT_EQ(ack.results_size(), 3);
  EXPECT_EQ(ack.results(0).outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_EQ(ack.results(0).field(), "date_of_birth") << ack.results(0).reason();
  EXPECT_NE(ack.results(0).reason().find("BBO North takes people aged 25 to 64"), std::string::npos)
      << ack.results(0).reason();
  EXPECT_EQ(ack.results(1).outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_EQ(ack.results(1).field(), "programme_strand") << ack.results(1).reason();
  EXPECT_EQ(ack.results(2).outcome(), v1::CHANGE_OUTCOME_APPLIED) << ack.results(2).reason();
  // East delivers no programme yet: the default range (16 to 100) holds there.
  ack = PushRaw(eve, {new_person(eve, eighteen, "")});
  ASSERT_EQ(ack.results_size(), 1);
  EXPECT_EQ(ack.results(0).outcome(), v1::CHANGE_OUTCOME_APPLIED) << ack.results(0).reason();

  // East joins: its devices receive the programme and its rules.
  CliResult joined =
      RunCli({"programme", "update", "--data", deployment_.data, "--id", programme, "--hub", east, "--json"});
  ASSERT_EQ(joined.exit_code, 0) << joined.err;
  MustSync(eve);
  Result<v1::Record> eves = eve->Programme();
  ASSERT_TRUE(eves.ok()) << eves.status().ToString();
  EXPECT_EQ(eves->programme().rules_version(), "2026-04");
  EXPECT_EQ(eves->programme().strands_size(), 1);
  EXPECT_FALSE(eve->RegisterParticipant(Person("Lee", "Park", eighteen)).ok());
  CliResult listed = RunCli({"programme", "list", "--data", deployment_.data, "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  ASSERT_EQ(listed.json()["programmes"].size(), 1u);
  EXPECT_EQ(listed.json()["programmes"][0]["hub_ids"].size(), 3u);
}

// Issue 16: an adviser leaves; the server moves their whole caseload (200 people) and
// the one-to-one appointments to come with them to another adviser in one set of
// changes. The new adviser's device holds every person with every linked record after its
// next sync, and nothing is left on the old caseload.
TEST_F(SyncTest, ACaseloadTransferReachesTheNewAdviserCompleteAndEmptiesTheOld) {
  TestDevice ann = NewDevice("Ann");
  TestDevice bob = NewDevice("Bob");
  constexpr int kPeople = 200;
  std::vector<v1::Record> people;
  for (int i = 0; i < kPeople; ++i) {
    people.push_back(MustOk(ann->RegisterParticipant(Person("Pat", "Person " + std::to_string(i), "1980-01-01"))));
    MustOk(ann->RecordConsent(SignedConsent(people.back().id(), v1::CONSENT_PURPOSE_HOLD_DATA)));
  }
  const std::string venue = AddVenue("Library", "library");
  const std::string next_year = std::to_string(std::stoi(ann->Today().substr(0, 4)) + 1);
  auto session = [&](v1::SessionKind kind, const v1::Record& who) {
    v1::Session s;
    s.set_venue_id(Uuid::Parse(venue)->raw());
    s.set_kind(kind);
    s.set_title(kind == v1::SESSION_KIND_ONE_TO_ONE ? "Review" : "Job club");
    s.set_starts_at(next_year + "-01-15T10:00");
    v1::Record made = MustOk(ann->CreateSession(s));
    v1::Booking b;
    b.set_session_id(made.id());
    b.set_participant_id(who.id());
    MustOk(ann->BookSession(b));
    return made;
  };
  const v1::Record review = session(v1::SESSION_KIND_ONE_TO_ONE, people[0]);
  const v1::Record club = session(v1::SESSION_KIND_GROUP, people[1]);
  // Ten of them are attributed to a delivery partner.
  CliResult partner = RunCli({"partner", "add", "--data", deployment_.data, "--name", "Micro-hub Bulwell", "--kind",
                              "delivery_partner", "--hub", deployment_.hub_id, "--json"});
  ASSERT_EQ(partner.exit_code, 0) << partner.err;
  const std::string partner_id = partner.json()["partner_id"].get<std::string>();
  MustSync(ann);
  for (int i = 190; i < kPeople; ++i) {
    v1::Participant p = people[static_cast<size_t>(i)].participant();
    p.set_delivery_partner_id(Uuid::Parse(partner_id)->raw());
    MustOk(ann->UpdateParticipant(*Uuid::FromBytes(people[static_cast<size_t>(i)].id()), p));
  }
  EXPECT_EQ(MustSync(ann).rejected, 0u);
  MustSync(bob);

  // First the partner's ten, then the rest.
  CliResult of_partner = RunCli({"caseload", "transfer", "--data", deployment_.data, "--from", "Ann", "--to", "Bob",
                                 "--partner", partner_id, "--json"});
  ASSERT_EQ(of_partner.exit_code, 0) << of_partner.err;
  EXPECT_EQ(of_partner.json()["participants"], 10);
  EXPECT_EQ(of_partner.json()["sessions"], 0);

  CliResult nobody = RunCli({"caseload", "transfer", "--data", deployment_.data, "--from", "Ann", "--to", "Nobody"});
  EXPECT_EQ(nobody.exit_code, 1);
  EXPECT_NE(nobody.err.find("to: no adviser 'Nobody' is enrolled"), std::string::npos) << nobody.err;
  CliResult moved =
      RunCli({"caseload", "transfer", "--data", deployment_.data, "--from", "Ann", "--to", "Bob", "--json"});
  ASSERT_EQ(moved.exit_code, 0) << moved.err;
  EXPECT_EQ(moved.json()["participants"], kPeople - 10);
  EXPECT_EQ(moved.json()["sessions"], 1);

  MustSync(bob);
  MustSync(ann);
  Result<std::vector<v1::Record>> bobs = bob->Caseload();
  ASSERT_TRUE(bobs.ok());
  EXPECT_EQ(bobs->size(), static_cast<size_t>(kPeople));
  Result<std::vector<v1::Record>> anns = ann->Caseload();
  ASSERT_TRUE(anns.ok());
  EXPECT_TRUE(anns->empty());
  // Every linked record is on Bob's device, and both devices hold the same.
  Result<std::vector<v1::Record>> consents = StoreOf(*bob).RecordsOfType(v1::RECORD_TYPE_CONSENT);
  ASSERT_TRUE(consents.ok());
  EXPECT_EQ(consents->size(), static_cast<size_t>(kPeople));
  EXPECT_EQ(bob->Get(*Uuid::FromBytes(review.id()))->session().facilitator(), "Bob");
  EXPECT_EQ(bob->Get(*Uuid::FromBytes(club.id()))->session().facilitator(),
            "Ann");  // a group's session stays its facilitator's
  EXPECT_EQ(State(ann), State(bob));
  // Nothing is left to move.
  moved = RunCli({"caseload", "transfer", "--data", deployment_.data, "--from", "Ann", "--to", "Bob", "--json"});
  ASSERT_EQ(moved.exit_code, 0) << moved.err;
  EXPECT_EQ(moved.json()["participants"], 0);
}

// Issue 16: a manager publishes a new instrument version on the server for a programme;
// the devices of its hubs assess against it after their sync (the server checks the
// scores against the same record), hubs outside the programme neither hold it nor may
// push assessments of it, a hub that joins receives it, and a retired version takes no
// new assessments.
TEST_F(SyncTest, AnInstrumentVersionPublishedOnTheServerIsAssessedOnItsProgrammesDevices) {
  const std::string south = deployment_.AddHub("South");
  CliResult added = RunCli({"programme", "add", "--data", deployment_.data, "--name", "BBO North", "--funder", "ESF",
                            "--hub", deployment_.hub_id, "--json"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const std::string programme = added.json()["programme_id"].get<std::string>();
  const std::string file = deployment_.dir / "my-journey-2.json";
  {
    std::ofstream out(file);
    out << R"({"instrument_id": "my-journey", "version": 2, "name": "My Journey 2027", "domains": [
               {"key": "confidence", "label": "Confidence", "min_score": 0, "max_score": 10},
               {"key": "work_readiness", "label": "Ready for work", "min_score": 0, "max_score": 10}]})";
  }
  CliResult published =
      RunCli({"instrument", "add", "--data", deployment_.data, "--programme", programme, "--file", file, "--json"});
  ASSERT_EQ(published.exit_code, 0) << published.err;

  TestDevice ann = NewDevice("Ann");
  TestDevice sid = NewDevice("Sid", "adviser", "", nullptr, 0, south);
  MustSync(ann);
  MustSync(sid);
  auto versions = [](TestDevice& d) {
    std::vector<uint32_t> held;
    Result<std::vector<v1::Record>> all = d->Instruments();
    EXPECT_TRUE(all.ok());
    for (const v1::Record& r : *all) held.push_back(r.instrument().version());
    return held;
  };
  EXPECT_EQ(versions(ann), (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(versions(sid), (std::vector<uint32_t>{1}));

  auto assessment = [](const v1::Record& who, uint32_t version, std::vector<std::pair<std::string, int>> scores) {
    v1::Assessment a;
    a.set_participant_id(who.id());
    a.set_instrument_id("my-journey");
    a.set_instrument_version(version);
    for (const auto& [domain, score] : scores) {
      v1::DomainScore* s = a.add_scores();
      s->set_domain(domain);
      s->set_score(score);
    }
    return a;
  };
  v1::Record sam = MustOk(ann->RegisterParticipant(Person("Sam", "Okafor", "1990-03-04")));
  MustOk(ann->RecordAssessment(assessment(sam, 1,
                                          {{"communication", 2},
                                           {"confidence", 2},
                                           {"managing_feelings", 2},
                                           {"reliability", 2},
                                           {"setting_and_achieving_goals", 2},
                                           {"working_with_others", 2}})));
  MustOk(ann->RecordAssessment(assessment(sam, 2, {{"confidence", 4}, {"work_readiness", 3}})));
  SyncReport sent = MustSync(ann);
  EXPECT_EQ(sent.pushed, 3u);
  EXPECT_EQ(sent.rejected, 0u);
  EXPECT_EQ(ann->ComputeDistanceTravelled(*Uuid::FromBytes(sam.id()), "my-journey").status().code(),
            ErrorCode::kFailedPrecondition);

  // South is not in the programme: a v2 assessment pushed from there is refused.
  v1::Record tom = MustOk(sid->RegisterParticipant(Person("Tom", "Reyes", "1985-07-08")));
  MustSync(sid);
  v1::Assessment theirs = assessment(tom, 2, {{"confidence", 4}, {"work_readiness", 3}});
  theirs.set_completed_on(sid->Today());
  theirs.set_assessor("Sid");
  v1::PushAck ack = PushRaw(sid, {RawUpsert(sid, Uuid::NewV7(), v1::RECORD_TYPE_ASSESSMENT, theirs, 1000)});
  ASSERT_EQ(ack.results_size(), 1);
  EXPECT_EQ(ack.results(0).outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_EQ(ack.results(0).field(), "instrument_id") << ack.results(0).reason();

  // South joins the programme and receives its instrument.
  ASSERT_EQ(RunCli({"programme", "update", "--data", deployment_.data, "--id", programme, "--hub", south}).exit_code,
            0);
  MustSync(sid);
  EXPECT_EQ(versions(sid), (std::vector<uint32_t>{1, 2}));
  MustOk(sid->RecordAssessment(assessment(tom, 2, {{"confidence", 5}, {"work_readiness", 5}})));
  EXPECT_EQ(MustSync(sid).rejected, 0u);

  // Retired on the server: no new assessments of it.
  ASSERT_EQ(
      RunCli({"instrument", "retire", "--data", deployment_.data, "--id", "my-journey", "--version", "2"}).exit_code,
      0);
  MustSync(ann);
  Result<v1::Record> late = ann->RecordAssessment(assessment(sam, 2, {{"confidence", 6}, {"work_readiness", 6}}));
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.status().field(), "instrument_id");
}

TEST_F(SyncTest, CrossHubChangeIsRejectedAlone) {
  TestDevice ann = NewDevice("Ann");
  CliResult hub = RunCli({"hub", "add", "--data", deployment_.data, "--name", "South", "--json"});
  ASSERT_EQ(hub.exit_code, 0);
  const std::string other_hub = hub.json()["hub_id"].get<std::string>();
  v1::Record p = MustOk(ann->RegisterParticipant(Person("Ben", "Ng", "1999-09-09")));
  Result<std::vector<v1::Change>> pending = StoreOf(*ann).PendingChanges(10);
  ASSERT_EQ(pending->size(), 1u);
  // The same device pushes a second change claiming the other hub.
  v1::Change foreign = pending->front();
  foreign.set_record_id(Uuid::NewV7().raw());
  foreign.set_device_seq(pending->front().device_seq() + 100);
  foreign.set_hub_id(Uuid::Parse(other_hub)->raw());
  v1::PushAck ack = PushRaw(ann, {pending->front(), foreign});
  ASSERT_EQ(ack.results_size(), 2);
  EXPECT_EQ(ack.results(0).outcome(), v1::CHANGE_OUTCOME_APPLIED);
  EXPECT_EQ(ack.results(1).outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_NE(ack.results(1).reason().find("hub"), std::string::npos);
}

}  // namespace
}  // namespace outreach::testing
