// Attacks by an enrolled device whose app speaks the protocol itself (HostileDevice),
// against the real outreach-server over TLS with two hubs, North and South: links into
// another hub, merges across hubs, writing in another person's name, values that decide
// who reads a record, cursors past the log. Each is refused with a reason that names the
// field and tells nothing about records the device may not see, and no South data
// reaches any North device (the library's, the kiosk's, or the attacker's own pulls).
// Built twice: on the SQLite store and (security_test_postgres) on PostgreSQL.
#include <gtest/gtest.h>

#include <filesystem>
#include <limits>

#include "common/dates.h"
#include "common/hlc.h"
#include "common/record_registry.h"
#include "outreach/device.h"
#include "outreach/sync.h"
#include "tests/security/hostile_device.h"
#include "tests/support/server_harness.h"

namespace outreach::testing {
namespace {

constexpr const char* kSouthName = "Southwold";  // appears only in South's records

class SecurityTest : public ServerTest {
 protected:
  void SetUp() override {
    StartServer();
    CliResult south = RunCli({"hub", "add", "--data", deployment_.data, "--name", "South Hub", "--json"});
    ASSERT_EQ(south.exit_code, 0) << south.err;
    south_hub_ = south.json().value("hub_id", "");
    north_venue_ = AddVenue(deployment_.hub_id, "Oak Children's Centre");
  }

  std::string AddVenue(const std::string& hub, const std::string& name) {
    CliResult r = RunCli({"venue", "add", "--data", deployment_.data, "--hub", hub, "--name", name, "--kind",
                          "childrens_centre", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.json().value("venue_id", "");
  }

  std::string Code(const std::string& hub, const std::string& role, const std::string& name,
                   const std::string& venue = "") {
    std::vector<std::string> args{"enrol",  "--data", deployment_.data, "--hub", hub,
                                  "--role", role,     "--name",         name,    "--json"};
    if (!venue.empty()) args.insert(args.end(), {"--venue", venue});
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.json().value("code", "");
  }

  // A device running the library, on its own file in the deployment's directory.
  std::unique_ptr<Device> LibraryDevice(const std::string& name, const std::string& hub, const std::string& role,
                                        const std::string& venue = "") {
    DeviceOptions options;
    options.path = PathOf(name);
    options.user_name = name;
    auto opened = Device::Open(options);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    if (!opened.ok()) return nullptr;
    EnrolOptions enrol;
    enrol.server = "127.0.0.1:" + std::to_string(port());
    enrol.ca_pem = deployment_.ca_pem;
    enrol.code = Code(hub, role, name, venue);
    enrol.device_name = name + "'s tablet";
    Result<EnrolReport> report = Enrol(**opened, enrol);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return std::move(opened).value();
  }

  std::unique_ptr<HostileDevice> Hostile(const std::string& name, const std::string& role,
                                         const std::string& venue = "") {
    auto device = HostileDevice::Enrol(port(), deployment_.ca_pem, Code(deployment_.hub_id, role, name, venue));
    EXPECT_TRUE(device.ok()) << device.status().ToString();
    return device.ok() ? std::move(device).value() : nullptr;
  }

  static void MustSync(Device& d) {
    Result<SyncReport> r = Sync(d);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  static v1::Participant NorthPerson(const std::string& given) {
    v1::Participant p;
    p.set_given_name(given);
    p.set_family_name("Northam");
    p.set_date_of_birth("1990-01-01");
    return p;
  }
  static Uuid MustCreate(Result<v1::Record> r) {
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *Uuid::FromBytes(r->id()) : Uuid();
  }

  // A South participant, registered and synced by a South adviser; `consent` gets their
  // consent record.
  Uuid SouthParticipant(Uuid* consent = nullptr) {
    south_ = LibraryDevice("Sam South", south_hub_, "adviser");
    v1::Participant p;
    p.set_given_name("Sina");
    p.set_family_name(kSouthName);
    p.set_date_of_birth("1988-02-03");
    p.set_ni_number("AB123456C");
    const Uuid id = MustCreate(south_->RegisterParticipant(p));
    v1::Consent c;
    c.set_participant_id(id.raw());
    c.set_purpose(v1::CONSENT_PURPOSE_HOLD_DATA);
    c.set_method(v1::CONSENT_METHOD_SIGNED);
    c.set_wording_version("v1");
    const Uuid consent_id = MustCreate(south_->RecordConsent(c));
    if (consent != nullptr) *consent = consent_id;
    MustSync(*south_);
    return id;
  }

  // The file of the library device enrolled as `name`.
  std::string PathOf(const std::string& name) const { return deployment_.dir / (name + ".db"); }

  // True when any byte of any file of the device at `path` (database, WAL, shared
  // memory, journal) holds `text`.
  bool AnyFileHolds(const std::string& path, const std::string& text) const {
    for (const auto& entry : std::filesystem::directory_iterator(deployment_.dir.path())) {
      const std::string name = entry.path().string();
      if (name.rfind(path, 0) == 0 && ReadFileOrEmpty(name).find(text) != std::string::npos) return true;
    }
    return false;
  }

  // The one refusal for a record a device may not see, whatever the reason.
  static std::string NotAvailable(const Uuid& id) {
    return "record " + id.ToString() + " is not available to this device";
  }

  std::string south_hub_;
  std::string north_venue_;
  std::unique_ptr<Device> south_;
};

// Applied: the raw device sends no base versions, so a field it changes that was set
// before is applied as a concurrent write (CONFLICT: its later stamp wins, the value it
// replaced kept in a conflict record).
#define EXPECT_APPLIES(result)                                                                   \
  do {                                                                                           \
    ASSERT_TRUE((result).ok()) << (result).status().ToString();                                  \
    EXPECT_NE((result)->outcome(), v1::CHANGE_OUTCOME_REJECTED) << (result)->ShortDebugString(); \
  } while (0)

#define EXPECT_REJECTED(result, expected_field)                                                  \
  do {                                                                                           \
    ASSERT_TRUE((result).ok()) << (result).status().ToString();                                  \
    EXPECT_EQ((result)->outcome(), v1::CHANGE_OUTCOME_REJECTED) << (result)->ShortDebugString(); \
    EXPECT_EQ((result)->field(), expected_field) << (result)->ShortDebugString();                \
  } while (0)

TEST_F(SecurityTest, ALinkIntoAnotherHubIsRefusedInTheWordsOfAnIdNoOneHolds) {
  Uuid south_consent;
  const Uuid south = SouthParticipant(&south_consent);

  auto north = LibraryDevice("Nia North", deployment_.hub_id, "adviser");
  v1::Session s;
  s.set_venue_id(Uuid::Parse(north_venue_)->raw());
  s.set_kind(v1::SESSION_KIND_GROUP);
  s.set_title("Job club");
  s.set_starts_at("2026-12-08T10:00");
  const Uuid session = MustCreate(north->CreateSession(s));
  const v1::Participant np = NorthPerson("Nell");
  const Uuid north_person = MustCreate(north->RegisterParticipant(np));
  MustSync(*north);
  auto kiosk = LibraryDevice("Oak kiosk", deployment_.hub_id, "kiosk", north_venue_);
  MustSync(*kiosk);

  auto hal = Hostile("Hal Hostile", "adviser");
  auto hostile_kiosk = Hostile("Oak kiosk 2", "kiosk", north_venue_);
  ASSERT_TRUE(hal && hostile_kiosk);

  // A booking of North's session for South's participant.
  v1::Booking booking;
  booking.set_session_id(session.raw());
  booking.set_participant_id(south.raw());
  booking.set_status(v1::BOOKING_STATUS_BOOKED);
  auto booked = hal->PushOne(HostileDevice::Upsert(v1::RECORD_TYPE_BOOKING, Uuid::NewV7(), booking));
  EXPECT_REJECTED(booked, "participant_id");
  EXPECT_EQ(booked->reason(), NotAvailable(south));
  // An id no one holds is refused in the same words: the reply tells nothing of South.
  const Uuid nobody = Uuid::NewV7();
  booking.set_participant_id(nobody.raw());
  auto unknown = hal->PushOne(HostileDevice::Upsert(v1::RECORD_TYPE_BOOKING, Uuid::NewV7(), booking));
  EXPECT_REJECTED(unknown, "participant_id");
  EXPECT_EQ(unknown->reason(), NotAvailable(nobody));

  // A kiosk marking South's participant at its own session.
  v1::Attendance mark;
  mark.set_session_id(session.raw());
  mark.set_participant_id(south.raw());
  mark.set_status(v1::ATTENDANCE_STATUS_ATTENDED);
  mark.set_marked_by(v1::MARKED_BY_KIOSK);
  const Uuid row = Uuid::DeriveRegisterRow("attendance", session.raw(), south.raw());
  auto marked = hostile_kiosk->PushOne(HostileDevice::Upsert(v1::RECORD_TYPE_ATTENDANCE, row, mark));
  EXPECT_REJECTED(marked, "participant_id");

  // A referral of a North participant naming South's consent.
  v1::Referral referral;
  referral.set_participant_id(north_person.raw());
  referral.set_kind(v1::REFERRAL_KIND_REFERRAL);
  referral.set_status(v1::REFERRAL_STATUS_MADE);
  referral.set_consent_id(south_consent.raw());
  auto referred = hal->PushOne(HostileDevice::Upsert(v1::RECORD_TYPE_REFERRAL, Uuid::NewV7(), referral));
  EXPECT_REJECTED(referred, "consent_id");

  // A direct write of South's record, and a change claiming South's hub.
  v1::Participant phone;
  phone.set_phone("+441134960123");
  auto direct = hal->PushOne(HostileDevice::Edit(v1::RECORD_TYPE_PARTICIPANT, south, phone, {"phone"}));
  EXPECT_REJECTED(direct, "record_id");
  EXPECT_EQ(direct->reason(), NotAvailable(south));
  EXPECT_EQ(direct->current_size(), 0);
  v1::Change claimed = HostileDevice::Upsert(v1::RECORD_TYPE_PARTICIPANT, Uuid::NewV7(), np);
  claimed.set_hub_id(Uuid::Parse(south_hub_)->raw());
  auto other_hub = hal->PushOne(claimed);
  EXPECT_REJECTED(other_hub, "hub_id");
  EXPECT_EQ(other_hub->reason().find(south_hub_), std::string::npos) << other_hub->reason();

  // Nothing of South reached North: not the attacker's pulls, not the adviser's tablet,
  // not the kiosk.
  MustSync(*north);
  MustSync(*kiosk);
  auto pulled = hal->PullAll();
  ASSERT_TRUE(pulled.ok()) << pulled.status().ToString();
  auto kiosk_pulled = hostile_kiosk->PullAll();
  ASSERT_TRUE(kiosk_pulled.ok()) << kiosk_pulled.status().ToString();
  for (const auto* log : {&*pulled, &*kiosk_pulled}) {
    for (const v1::Change& c : *log) {
      EXPECT_NE(c.record_id(), south.raw()) << c.ShortDebugString();
      EXPECT_EQ(c.SerializeAsString().find(kSouthName), std::string::npos) << c.ShortDebugString();
    }
  }
  EXPECT_FALSE(north->Get(south).ok());
  EXPECT_FALSE(kiosk->Get(south).ok());
  EXPECT_TRUE(AnyFileHolds(PathOf("Sam South"), kSouthName));  // the check can see a name
  EXPECT_FALSE(AnyFileHolds(PathOf("Nia North"), kSouthName));
  EXPECT_FALSE(AnyFileHolds(PathOf("Oak kiosk"), kSouthName));
}

TEST_F(SecurityTest, AMergeStaysInItsHub) {
  const Uuid south = SouthParticipant();
  auto north = LibraryDevice("Nia North", deployment_.hub_id, "adviser");
  const Uuid first = MustCreate(north->RegisterParticipant(NorthPerson("Nell")));
  const Uuid second = MustCreate(north->RegisterParticipant(NorthPerson("Nel")));  // the manager reviews the two
  MustSync(*north);
  auto mona = Hostile("Mona Manager", "manager");
  ASSERT_TRUE(mona);

  // A review between a North participant and South's: refused.
  v1::DuplicateReview review;
  review.set_participant_id(first.raw());
  review.set_other_participant_id(south.raw());
  review.set_match(v1::DUPLICATE_MATCH_NAME_AND_DATE_OF_BIRTH);
  review.set_status(v1::DUPLICATE_REVIEW_STATUS_OPEN);
  auto across = mona->PushOne(HostileDevice::Upsert(v1::RECORD_TYPE_DUPLICATE_REVIEW, Uuid::NewV7(), review));
  EXPECT_REJECTED(across, "other_participant_id");

  // A review within North, decided to keep South's participant: refused.
  review.set_other_participant_id(second.raw());
  const Uuid review_id = Uuid::NewV7();
  auto opened = mona->PushOne(HostileDevice::Upsert(v1::RECORD_TYPE_DUPLICATE_REVIEW, review_id, review));
  ASSERT_TRUE(opened.ok());
  ASSERT_EQ(opened->outcome(), v1::CHANGE_OUTCOME_APPLIED) << opened->reason();
  review.set_status(v1::DUPLICATE_REVIEW_STATUS_MERGED);
  review.set_kept_participant_id(south.raw());
  review.set_decided_by("Mona Manager");
  auto kept_south = mona->PushOne(HostileDevice::Edit(v1::RECORD_TYPE_DUPLICATE_REVIEW, review_id, review,
                                                      {"status", "kept_participant_id", "decided_by"}));
  EXPECT_REJECTED(kept_south, "kept_participant_id");
  // Decided in someone else's name: refused.
  review.set_kept_participant_id(first.raw());
  review.set_decided_by("Someone Else");
  auto impostor = mona->PushOne(HostileDevice::Edit(v1::RECORD_TYPE_DUPLICATE_REVIEW, review_id, review,
                                                    {"status", "kept_participant_id", "decided_by"}));
  EXPECT_REJECTED(impostor, "decided_by");
  // Within the hub, in her own name: merged.
  review.set_decided_by("Mona Manager");
  auto merged = mona->PushOne(HostileDevice::Edit(v1::RECORD_TYPE_DUPLICATE_REVIEW, review_id, review,
                                                  {"status", "kept_participant_id", "decided_by"}));
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(merged->outcome(), v1::CHANGE_OUTCOME_APPLIED) << merged->reason();

  // South's participant is untouched on South's devices.
  MustSync(*south_);
  Result<v1::Record> held = south_->Get(south);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_EQ(held->participant().status(), v1::PARTICIPANT_STATUS_ACTIVE);
  EXPECT_TRUE(held->participant().merged_into().empty());
  MustSync(*north);
  EXPECT_EQ(north->Get(second)->participant().status(), v1::PARTICIPANT_STATUS_MERGED);
}

TEST_F(SecurityTest, WhoActedAndWhoMayReadAreTheServersToCheck) {
  auto north = LibraryDevice("Nia North", deployment_.hub_id, "adviser");
  const Uuid person = MustCreate(north->RegisterParticipant(NorthPerson("Nell")));
  MustSync(*north);
  auto health = LibraryDevice("Hana Health", deployment_.hub_id, "health_worker");
  MustSync(*health);
  v1::CaseNote health_note;
  health_note.set_participant_id(person.raw());
  health_note.set_sensitivity(v1::NOTE_SENSITIVITY_HEALTH);
  health_note.set_text("talking therapy twice a week");
  const Uuid health_note_id = MustCreate(health->AddCaseNote(health_note));
  MustSync(*health);
  auto hal = Hostile("Hal Hostile", "adviser");
  ASSERT_TRUE(hal);

  // A sensitivity the schema does not define would be read as ordinary by every role.
  v1::CaseNote note;
  note.set_participant_id(person.raw());
  note.set_text("odd note");
  const std::string today = *LocalDateOfMillis(HybridClock::SystemMillis(), "");  // the hub's (London)
  note.set_written_at(today + "T00:00");
  note.set_author("Hal Hostile");
  note.set_sensitivity(static_cast<v1::NoteSensitivity>(9));
  auto undefined = hal->PushOne(HostileDevice::Upsert(v1::RECORD_TYPE_CASE_NOTE, Uuid::NewV7(), note));
  EXPECT_REJECTED(undefined, "sensitivity");
  note.clear_sensitivity();
  auto unsaid = hal->PushOne(HostileDevice::Upsert(v1::RECORD_TYPE_CASE_NOTE, Uuid::NewV7(), note));
  EXPECT_REJECTED(unsaid, "sensitivity");

  // Written in another person's name.
  note.set_sensitivity(v1::NOTE_SENSITIVITY_NORMAL);
  note.set_author("Nia North");
  auto forged = hal->PushOne(HostileDevice::Upsert(v1::RECORD_TYPE_CASE_NOTE, Uuid::NewV7(), note));
  EXPECT_REJECTED(forged, "author");
  note.set_author("Hal Hostile");
  auto own = hal->PushOne(HostileDevice::Upsert(v1::RECORD_TYPE_CASE_NOTE, Uuid::NewV7(), note));
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->outcome(), v1::CHANGE_OUTCOME_APPLIED) << own->reason();

  v1::SupportSpend spend;
  spend.set_participant_id(person.raw());
  spend.set_category(v1::SPEND_CATEGORY_TRAVEL);
  spend.set_amount_pence(20000);
  spend.set_status(v1::SPEND_STATUS_REQUESTED);
  spend.set_requested_by("Hal Hostile");
  spend.set_requested_on(today);
  const Uuid spend_id = Uuid::NewV7();
  auto requested = hal->PushOne(HostileDevice::Upsert(v1::RECORD_TYPE_SUPPORT_SPEND, spend_id, spend));
  ASSERT_TRUE(requested.ok());
  ASSERT_EQ(requested->outcome(), v1::CHANGE_OUTCOME_APPLIED) << requested->reason();
  spend.set_status(v1::SPEND_STATUS_APPROVED);
  spend.set_decided_by("Mona Manager");
  auto approved =
      hal->PushOne(HostileDevice::Edit(v1::RECORD_TYPE_SUPPORT_SPEND, spend_id, spend, {"status", "decided_by"}));
  EXPECT_REJECTED(approved, "decided_by");

  // A health note is, to an adviser, a record that is not available: neither a
  // superseding note nor a direct edit learns what it is.
  note.set_supersedes(health_note_id.raw());
  auto superseding = hal->PushOne(HostileDevice::Upsert(v1::RECORD_TYPE_CASE_NOTE, Uuid::NewV7(), note));
  EXPECT_REJECTED(superseding, "supersedes");
  EXPECT_EQ(superseding->reason(), NotAvailable(health_note_id));
  v1::CaseNote text;
  text.set_text("read me");
  auto edit = hal->PushOne(HostileDevice::Edit(v1::RECORD_TYPE_CASE_NOTE, health_note_id, text, {"text"}));
  EXPECT_REJECTED(edit, "record_id");
  EXPECT_EQ(edit->reason(), NotAvailable(health_note_id));
  EXPECT_EQ(edit->current_size(), 0);

  // A cursor past the end of the log is refused, not read as "from the start".
  for (const uint64_t cursor : {uint64_t{1} << 63, std::numeric_limits<uint64_t>::max(), uint64_t{1} << 40}) {
    ASSERT_TRUE(hal->Hello().ok());
    auto reply = hal->PullReply(cursor);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    EXPECT_TRUE(reply->has_refusal()) << cursor << ": " << reply->ShortDebugString();
    EXPECT_EQ(reply->refusal().reason(), v1::REFUSAL_REASON_PROTOCOL_ERROR);
    EXPECT_NE(reply->refusal().detail().find("cursor"), std::string::npos) << reply->refusal().detail();
  }
  ASSERT_TRUE(hal->Hello().ok());
  auto all = hal->PullAll();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  for (const v1::Change& c : *all) EXPECT_NE(c.record_id(), health_note_id.raw());
}

// Who may take each step of a state machine, four eyes, and the history a file keeps,
// against devices that skip the library: each refusal names the field and why, and
// nothing reaches the hub's log; the right person's move applies.
TEST_F(SecurityTest, RolesFourEyesAndKeptHistoryAreTheServersToCheck) {
  auto mona = LibraryDevice("Mona Manager", deployment_.hub_id, "manager");
  const Uuid person = MustCreate(mona->RegisterParticipant(NorthPerson("Nell")));
  v1::Consent consent;
  consent.set_participant_id(person.raw());
  consent.set_purpose(v1::CONSENT_PURPOSE_HOLD_DATA);
  consent.set_method(v1::CONSENT_METHOD_SIGNED);
  consent.set_wording_version("v1");
  MustCreate(mona->RecordConsent(consent));
  v1::Validation opened;
  opened.set_participant_id(person.raw());
  opened.set_rules_version("2026-04");
  opened.set_status(v1::VALIDATION_STATUS_SUBMITTED);
  const Uuid file_id = MustCreate(mona->OpenValidation(opened));
  v1::SupportSpend asked;
  asked.set_participant_id(person.raw());
  asked.set_category(v1::SPEND_CATEGORY_TRAVEL);
  asked.set_amount_pence(20000);
  const Uuid spend_id = MustCreate(mona->RequestSpend(asked));
  MustSync(*mona);
  auto hal = Hostile("Hal Hostile", "adviser");
  auto cora = Hostile("Cora Coordinator", "coordinator");
  auto mona_raw = Hostile("Mona Manager", "manager");  // Mona's second device, without the library
  auto max = Hostile("Max Manager", "manager");
  ASSERT_TRUE(hal && cora && mona_raw && max);
  auto logged = [&] {
    auto all = max->PullAll();
    EXPECT_TRUE(all.ok()) << all.status().ToString();
    return all.ok() ? all->size() : size_t{0};
  };
  // The file moved by `who` to `to`, with its move appended and the step's actor field set.
  v1::Validation file = mona->Get(file_id)->validation();
  auto moved = [&](v1::ValidationStatus to, const std::string& who, const char* actor) {
    v1::Validation next = file;
    v1::ValidationMove* move = next.add_moves();
    move->set_from_status(file.status());
    move->set_to_status(to);
    move->set_moved_by(who);
    move->set_moved_at("2026-11-23T10:00");
    next.set_status(to);
    next.GetReflection()->SetString(&next, next.GetDescriptor()->FindFieldByName(actor), who);
    return HostileDevice::Edit(v1::RECORD_TYPE_VALIDATION, file_id, next, {"status", actor, "moves"});
  };
  const size_t before = logged();

  // An adviser may not pre-check; a coordinator may.
  auto by_adviser = hal->PushOne(moved(v1::VALIDATION_STATUS_PRECHECK_PASSED, "Hal Hostile", "prechecked_by"));
  EXPECT_REJECTED(by_adviser, "status");
  EXPECT_EQ(by_adviser->reason(),
            "an adviser may not move a validation from submitted to precheck_passed: only a coordinator or "
            "manager may");
  EXPECT_EQ(logged(), before);
  auto prechecked = cora->PushOne(moved(v1::VALIDATION_STATUS_PRECHECK_PASSED, "Cora Coordinator", "prechecked_by"));
  EXPECT_APPLIES(prechecked);
  MustSync(*mona);
  file = mona->Get(file_id)->validation();
  ASSERT_EQ(file.status(), v1::VALIDATION_STATUS_PRECHECK_PASSED);
  ASSERT_EQ(file.moves_size(), 2);
  const size_t prechecked_log = logged();

  // No one accepts a file they submitted; an adviser accepts none; the history is kept.
  auto own = mona_raw->PushOne(moved(v1::VALIDATION_STATUS_ACCEPTED, "Mona Manager", "decided_by"));
  EXPECT_REJECTED(own, "submitted_by");
  EXPECT_EQ(own->reason(),
            "you (Mona Manager) submitted this validation; another person must move it from precheck_passed to "
            "accepted");
  auto adviser_accepts = hal->PushOne(moved(v1::VALIDATION_STATUS_ACCEPTED, "Hal Hostile", "decided_by"));
  EXPECT_REJECTED(adviser_accepts, "status");
  v1::Change forgetful = moved(v1::VALIDATION_STATUS_ACCEPTED, "Max Manager", "decided_by");
  {
    v1::Validation shortened = file;
    shortened.mutable_moves()->DeleteSubrange(0, 1);
    v1::ValidationMove* move = shortened.add_moves();
    move->set_from_status(v1::VALIDATION_STATUS_PRECHECK_PASSED);
    move->set_to_status(v1::VALIDATION_STATUS_ACCEPTED);
    move->set_moved_by("Max Manager");
    shortened.set_status(v1::VALIDATION_STATUS_ACCEPTED);
    shortened.set_decided_by("Max Manager");
    forgetful = HostileDevice::Edit(v1::RECORD_TYPE_VALIDATION, file_id, shortened, {"status", "decided_by", "moves"});
  }
  auto dropped = max->PushOne(forgetful);
  EXPECT_REJECTED(dropped, "moves");
  EXPECT_EQ(logged(), prechecked_log);
  auto accepted = max->PushOne(moved(v1::VALIDATION_STATUS_ACCEPTED, "Max Manager", "decided_by"));
  EXPECT_APPLIES(accepted);

  // Spend: never approved by its requester, nor by an adviser; a coordinator approves.
  v1::SupportSpend spend;
  MustSync(*mona);
  spend = mona->Get(spend_id)->support_spend();
  spend.set_status(v1::SPEND_STATUS_APPROVED);
  const size_t spend_log = logged();
  spend.set_decided_by("Mona Manager");
  auto self_approved =
      mona_raw->PushOne(HostileDevice::Edit(v1::RECORD_TYPE_SUPPORT_SPEND, spend_id, spend, {"status", "decided_by"}));
  EXPECT_REJECTED(self_approved, "requested_by");
  spend.set_decided_by("Hal Hostile");
  auto adviser_approved =
      hal->PushOne(HostileDevice::Edit(v1::RECORD_TYPE_SUPPORT_SPEND, spend_id, spend, {"status", "decided_by"}));
  EXPECT_REJECTED(adviser_approved, "status");
  EXPECT_EQ(logged(), spend_log);
  spend.set_decided_by("Cora Coordinator");
  auto approved =
      cora->PushOne(HostileDevice::Edit(v1::RECORD_TYPE_SUPPORT_SPEND, spend_id, spend, {"status", "decided_by"}));
  EXPECT_APPLIES(approved);
  MustSync(*mona);
  EXPECT_EQ(mona->Get(file_id)->validation().status(), v1::VALIDATION_STATUS_ACCEPTED);
  EXPECT_EQ(mona->Get(file_id)->validation().decided_by(), "Max Manager");
  EXPECT_EQ(mona->Get(spend_id)->support_spend().status(), v1::SPEND_STATUS_APPROVED);
  EXPECT_EQ(mona->Get(spend_id)->support_spend().decided_by(), "Cora Coordinator");
}

}  // namespace
}  // namespace outreach::testing
