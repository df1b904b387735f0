// Opening a file made by schema version 1 (fixtures/v1.sqlite) migrates it to the current
// version without losing records or the pending outbox; a version-4 file's values get
// their formats' normal forms.
#include <filesystem>

#include "client/journey/device_internals.h"
#include "client/store/schema.h"
#include "common/field_value.h"
#include "common/reference.h"
#include "common/sqlite/database.h"
#include "tests/unit/client/device_test.h"

namespace outreach::testing {
namespace {

// The device file at `path` opened with the current library, as alex on 2026-03-01; null
// (the test failed) when it does not open.
std::unique_ptr<Device> OpenAsAlexOn20260301(const std::string& path) {
  DeviceOptions options;
  options.path = path;
  options.clock = [] { return MillisOf("2026-03-01"); };
  options.user_name = "alex";
  Result<std::unique_ptr<Device>> opened = Device::Open(options);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  return opened.ok() ? std::move(*opened) : nullptr;
}

class MigrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/device.db";
    std::filesystem::copy_file(OUTREACH_V1_FIXTURE, path_);
    ASSERT_EQ(QueryOne(path_, "PRAGMA user_version"), "1");
  }
  // The file opened with the current library, on 2026-03-01: null (the test failed) unless
  // it opened and migrated to the current schema version.
  std::unique_ptr<Device> OpenMigrated() {
    std::unique_ptr<Device> opened = OpenAsAlexOn20260301(path_);
    if (opened == nullptr) return nullptr;
    EXPECT_EQ(*StoreOf(*opened).SchemaVersion(), client::kSchemaVersion);
    return opened;
  }
  TempDir dir_;
  std::string path_;
};

TEST_F(MigrationTest, OpensAVersion1FileAndMigratesItForward) {
  std::unique_ptr<Device> opened = OpenMigrated();
  ASSERT_NE(opened, nullptr);
  Device& device = *opened;
  EXPECT_EQ(device.device_id(), *Uuid::Parse("0190f0c4-7b1e-7cc3-9a2e-1f0e3c5d6b7a"));

  // The name key added by version 2 was backfilled.
  Result<std::vector<v1::Record>> found = device.FindParticipants("maya o neill");
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  const Uuid maya = *Uuid::FromBytes(found->front().id());
  // The action plan projection added by version 2 was rebuilt from the held records.
  Result<std::vector<OverduePlan>> overdue = device.OverdueActionPlans();
  ASSERT_TRUE(overdue.ok());
  ASSERT_EQ(overdue->size(), 1u);
  EXPECT_EQ(overdue->front().reason, "not_agreed_within_one_month");
  EXPECT_EQ(overdue->front().due_on, "2026-02-05");

  // The outbox survived; new edits carry on the sequence, reference counter and clock.
  Result<std::vector<v1::Change>> pending = StoreOf(device).PendingChanges(10);
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].device_seq(), 1u);
  v1::Participant edit = found->front().participant();
  edit.set_phone("0113 496 0000");
  ASSERT_TRUE(device.UpdateParticipant(maya, edit).ok());
  v1::Participant p;
  p.set_given_name("Ben");
  p.set_family_name("Ng");
  p.set_date_of_birth("2001-01-01");
  Result<v1::Record> ben = device.RegisterParticipant(p);
  ASSERT_TRUE(ben.ok()) << ben.status().ToString();
  EXPECT_EQ(ReferenceNumber::Parse(ben->participant().reference())->counter, 2u);
  pending = StoreOf(device).PendingChanges(10);
  ASSERT_EQ(pending->size(), 4u);
  EXPECT_EQ((*pending)[2].device_seq(), 3u);
  EXPECT_EQ((*pending)[3].device_seq(), 4u);
  EXPECT_EQ((*pending)[2].fields(0).base_version(), 0u);  // phone was never set
  EXPECT_GT((*pending)[2].hlc(), (*pending)[1].hlc());

  // Version 4 packed the field versions into the record: an edit of a field the first
  // change set carries that change's stamp as its base version.
  edit = device.Get(maya)->participant();
  edit.set_family_name("O'Neil");
  ASSERT_TRUE(device.UpdateParticipant(maya, edit).ok());
  const v1::Change renamed = StoreOf(device).PendingChanges(10)->back();
  ASSERT_EQ(renamed.fields_size(), 1);
  EXPECT_EQ(renamed.fields(0).base_version(), (*pending)[0].hlc());
  EXPECT_EQ(QueryOne(path_, "SELECT count(*) FROM sqlite_master WHERE name = 'field_version'"), "0");

  // Version 2's rejected-changes list works on the migrated file.
  v1::PushAck ack;
  auto* r = ack.add_results();
  r->set_device_seq(1);
  r->set_outcome(v1::CHANGE_OUTCOME_REJECTED);
  r->set_reason("duplicate of an existing participant");
  ASSERT_TRUE(StoreOf(device).AcknowledgeChanges(ack).ok());
  EXPECT_EQ(device.RejectedChanges()->size(), 1u);
  EXPECT_EQ(QueryOne(path_, "PRAGMA integrity_check"), "ok");
  // The file keeps the page size it was made with.
  EXPECT_EQ(QueryOne(path_, "PRAGMA page_size"), "4096");
}

// A version-1 file that holds attendance: its projection gains seen_on only at version 4,
// so the rebuild must wait for the last step (an earlier build rebuilt at version 2 with
// the current statements and could not open such a file).
TEST_F(MigrationTest, AVersion1FileWithAttendanceOpensAndItsRegisterIsRebuilt) {
  const Uuid session = *Uuid::Parse("0190f0c4-7b1e-7cc3-9a2e-1f0e3c5d6b7b");
  const Uuid row = *Uuid::Parse("0190f0c4-7b1e-7cc3-9a2e-1f0e3c5d6b7c");
  {
    auto db = sqlite::Database::Open(path_, {});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto held = (*db)->Prepare("SELECT id, hub_id FROM record WHERE type = ?1");
    ASSERT_TRUE(held.ok());
    held->Int(1, v1::RECORD_TYPE_PARTICIPANT);
    ASSERT_EQ(held->Step(), SQLITE_ROW);
    const std::string participant = held->ColBlob(0), hub = held->ColBlob(1);
    v1::Attendance a;
    a.set_session_id(session.raw());
    a.set_participant_id(participant);
    a.set_status(v1::ATTENDANCE_STATUS_ATTENDED);
    a.set_marked_by(v1::MARKED_BY_ADVISER);
    a.set_marked_at("2026-02-20T10:05");
    const std::string body = a.SerializeAsString();
    auto put = (*db)->Prepare(
        "INSERT INTO record (id, type, hub_id, body, participant_id, occurred_on, created_hlc, updated_hlc) "
        "VALUES (?1, ?2, ?3, ?4, ?5, '2026-02-20T10:05', 1, 1)");
    ASSERT_TRUE(put.ok()) << put.status().ToString();
    put->Id(1, row).Int(2, v1::RECORD_TYPE_ATTENDANCE).Blob(3, hub).Blob(4, body).Blob(5, participant);
    ASSERT_TRUE(put->Run("insert attendance").ok());
  }
  std::unique_ptr<Device> opened = OpenMigrated();
  ASSERT_NE(opened, nullptr);
  Device& device = *opened;
  Result<std::vector<v1::Record>> register_rows = StoreOf(device).AttendanceOf(session);
  ASSERT_TRUE(register_rows.ok()) << register_rows.status().ToString();
  ASSERT_EQ(register_rows->size(), 1u);
  EXPECT_EQ(register_rows->front().id(), row.raw());
  EXPECT_EQ(QueryOne(path_, "SELECT seen_on FROM attendance_p"), "2026-02-20");
}

// ---------------------------------------------------------------- version 5: formats

// A version-4 file holding values an older build stored without checking their format:
// the migration puts the ones that parse in their normal form, queues the normalisation
// of what the server already holds as an ordinary edit, rewrites what is still queued,
// and keeps what does not parse (listed for a person to correct).
class FormatMigrationTest : public ::testing::Test {
 protected:
  static v1::Participant Person(const std::string& given, const std::string& phone) {
    v1::Participant p;
    p.set_given_name(given);
    p.set_family_name("Okafor");
    p.set_date_of_birth("1990-05-01");
    p.set_phone(phone);
    return p;
  }
  // Written as an older build did: through the store, with no validation.
  Uuid Store(Device& device, const v1::Participant& body) {
    client::RecordEdit edit;
    const Uuid id = Uuid::NewV7();
    edit.record.set_id(id.raw());
    edit.record.set_type(v1::RECORD_TYPE_PARTICIPANT);
    *edit.record.mutable_participant() = body;
    Result<std::vector<v1::Record>> stored = StoreOf(device).Commit({edit});
    EXPECT_TRUE(stored.ok()) << stored.status().ToString();
    return id;
  }
  std::unique_ptr<Device> Open() { return OpenAsAlexOn20260301(path_); }
  static std::string PhoneIn(const v1::FieldValue& fv) {
    v1::Participant p;
    EXPECT_TRUE(ApplyField(&p, fv.field(), fv.value()).ok());
    return p.phone();
  }
  TempDir dir_;
  std::string path_ = dir_.path() + "/device.db";
};

TEST_F(FormatMigrationTest, NormalisesStoredPhonesAndPostcodesAndKeepsWhatDoesNotParse) {
  Uuid messy, good, unparseable, queued;
  uint64_t messy_created = 0;
  {
    std::unique_ptr<Device> old = Open();
    ASSERT_NE(old, nullptr);
    v1::Participant m = Person("Messy", "0113 496 0123");
    m.set_postcode("ng1 1aa");
    messy = Store(*old, m);
    good = Store(*old, Person("Good", "+441134960124"));
    unparseable = Store(*old, Person("Unparseable", "0770090012345"));
    messy_created = StoreOf(*old).PendingChanges(10)->front().hlc();
    // The server took those three; the fourth is still queued.
    v1::PushAck ack;
    for (uint64_t seq = 1; seq <= 3; ++seq) {
      auto* r = ack.add_results();
      r->set_device_seq(seq);
      r->set_outcome(v1::CHANGE_OUTCOME_APPLIED);
    }
    ASSERT_TRUE(StoreOf(*old).AcknowledgeChanges(ack).ok());
    queued = Store(*old, Person("Queued", "020 7946 0000"));
  }
  {
    auto db = sqlite::Database::Open(path_, {});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)->Exec("PRAGMA user_version=4").ok());
  }

  std::unique_ptr<Device> opened = Open();
  ASSERT_NE(opened, nullptr);
  Device& device = *opened;
  EXPECT_EQ(*StoreOf(device).SchemaVersion(), 5);
  EXPECT_EQ(device.Get(messy)->participant().phone(), "+441134960123");
  EXPECT_EQ(device.Get(messy)->participant().postcode(), "NG1 1AA");
  EXPECT_EQ(device.Get(good)->participant().phone(), "+441134960124");
  EXPECT_EQ(device.Get(unparseable)->participant().phone(), "0770090012345");  // kept as it was
  EXPECT_EQ(device.Get(queued)->participant().phone(), "+442079460000");

  Result<std::vector<v1::Change>> pending = StoreOf(device).PendingChanges(10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 2u);
  // The queued registration now carries the normal form: the server never sees the other.
  const v1::Change& registration = (*pending)[0];
  EXPECT_EQ(registration.record_id(), queued.raw());
  EXPECT_EQ(registration.device_seq(), 4u);
  std::string queued_phone;
  for (const v1::FieldValue& fv : registration.fields()) {
    if (fv.field() == v1::Participant::kPhoneFieldNumber) queued_phone = PhoneIn(fv);
  }
  EXPECT_EQ(queued_phone, "+442079460000");
  // What the server holds is normalised by an ordinary edit of the two fields, based on
  // the versions held.
  const v1::Change& normalisation = (*pending)[1];
  EXPECT_EQ(normalisation.record_id(), messy.raw());
  EXPECT_EQ(normalisation.device_seq(), 5u);
  EXPECT_GT(normalisation.hlc(), registration.hlc());
  ASSERT_EQ(normalisation.fields_size(), 2);
  for (const v1::FieldValue& fv : normalisation.fields()) EXPECT_EQ(fv.base_version(), messy_created);
  v1::Participant sent;
  for (const v1::FieldValue& fv : normalisation.fields()) ASSERT_TRUE(ApplyField(&sent, fv.field(), fv.value()).ok());
  EXPECT_EQ(sent.phone(), "+441134960123");
  EXPECT_EQ(sent.postcode(), "NG1 1AA");

  // What does not parse is listed, and does not block an unrelated edit.
  Result<std::vector<StoredFormatProblem>> problems = device.StoredFormatProblems();
  ASSERT_TRUE(problems.ok());
  ASSERT_EQ(problems->size(), 1u);
  EXPECT_EQ(problems->front().record_id, unparseable);
  EXPECT_EQ(problems->front().field, "phone");
  EXPECT_EQ(problems->front().value, "0770090012345");
  EXPECT_EQ(problems->front().problem, "'0770090012345' is not a valid UK phone number");
  v1::Participant renamed = device.Get(unparseable)->participant();
  renamed.set_family_name("Okafor-Reid");
  EXPECT_TRUE(device.UpdateParticipant(unparseable, renamed).ok());
  EXPECT_EQ(QueryOne(path_, "PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace outreach::testing
