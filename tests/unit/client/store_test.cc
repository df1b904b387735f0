// The sync-facing LocalStore API on real files: identity, outbox, acknowledgements,
// pulled pages, clock offset, wipe.
#include <google/protobuf/unknown_field_set.h>
#include <sqlite3.h>

#include <algorithm>
#include <map>

#include "client/journey/device_internals.h"
#include "common/field_value.h"
#include "common/reference.h"
#include "tests/unit/client/device_test.h"

namespace outreach::testing {
namespace {

using client::DeviceIdentity;
using client::LocalStore;
using E = ErrorCode;

class StoreTest : public DeviceTest {
 protected:
  LocalStore& store() { return StoreOf(*device_); }

  DeviceIdentity Identity() {
    DeviceIdentity id;
    id.device_id = Uuid::NewV7();
    id.credential = std::string("\x01\x02secret", 8);
    id.server = "127.0.0.1:7443";
    id.ca_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    id.hub_id = Uuid::Derive("hub", "north");
    id.role = v1::ROLE_ADVISER;
    id.user_name = "kim";
    id.reference_prefix = "H7QX";
    id.venue_id = venue_;
    return id;
  }

  // A change as the server would send it on pull.
  v1::Change Pulled(const Uuid& id, v1::RecordType type, const google::protobuf::Message& body, uint64_t server_seq,
                    Hlc hlc) {
    v1::Change c;
    c.set_record_id(id.raw());
    c.set_type(type);
    c.set_hlc(hlc.value());
    c.set_op(v1::CHANGE_OP_UPSERT);
    c.set_server_seq(server_seq);
    c.set_hub_id(Uuid::Derive("hub", "north").raw());
    c.set_origin_device(Uuid::NewV7().raw());
    c.set_author("other-adviser");
    for (auto& f : AllFields(body)) *c.add_fields() = f;
    return c;
  }

  Hlc Later(int64_t ms_ahead = 1000) { return Hlc::FromParts(now_ms_ + ms_ahead, 0); }
};

TEST_F(StoreTest, SavesAndLoadsTheIdentityAndSwitchesTheReferencePrefix) {
  Result<std::optional<DeviceIdentity>> none = store().LoadIdentity();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  v1::Record before = Register("Pre", "Enrolment");
  const std::string local_prefix = ReferenceNumber::Parse(before.participant().reference())->prefix;
  EXPECT_EQ(device_->user_name(), "alex");

  DeviceIdentity id = Identity();
  ASSERT_TRUE(store().SaveIdentity(id).ok());
  Result<std::optional<DeviceIdentity>> loaded = store().LoadIdentity();
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  const DeviceIdentity& got = **loaded;
  EXPECT_EQ(got.device_id, id.device_id);
  EXPECT_EQ(got.credential, id.credential);
  EXPECT_EQ(got.server, id.server);
  EXPECT_EQ(got.ca_pem, id.ca_pem);
  EXPECT_EQ(got.hub_id, id.hub_id);
  EXPECT_EQ(got.role, v1::ROLE_ADVISER);
  EXPECT_EQ(got.user_name, "kim");
  EXPECT_EQ(got.reference_prefix, "H7QX");
  EXPECT_EQ(got.venue_id, venue_);
  EXPECT_EQ(device_->device_id(), id.device_id);
  EXPECT_EQ(device_->user_name(), "kim");

  v1::Record after = Register("Post", "Enrolment");
  Result<ReferenceNumber> ref = ReferenceNumber::Parse(after.participant().reference());
  EXPECT_EQ(ref->prefix, "H7QX");
  EXPECT_NE(local_prefix, "H7QX");
  EXPECT_EQ(after.hub_id(), id.hub_id.raw());  // new records carry the hub
  EXPECT_EQ(after.participant().adviser(), "kim");
  EXPECT_EQ(store().PendingChanges(10)->back().hub_id(), id.hub_id.raw());

  DeviceIdentity bad = Identity();
  bad.reference_prefix = "TOOLONG";
  EXPECT_REFUSED(store().SaveIdentity(bad), E::kInvalidArgument, "reference_prefix");
  bad = Identity();
  bad.server.clear();
  EXPECT_REFUSED(store().SaveIdentity(bad), E::kInvalidArgument, "server");

  Reopen();  // survives a restart
  EXPECT_EQ(device_->device_id(), id.device_id);
}

TEST_F(StoreTest, APrefixThatLooksLikeANumberStaysText) {
  DeviceIdentity id = Identity();
  id.reference_prefix = "1E10";  // valid base32; SQLite would read it as 1e10 given the chance
  ASSERT_TRUE(store().SaveIdentity(id).ok());
  Reopen();
  EXPECT_EQ(ReferenceNumber::Parse(Register("Num", "Prefix").participant().reference())->prefix, "1E10");
}

TEST_F(StoreTest, AnEnrolledKioskWritesOnlyAttendanceAndEnquiries) {
  v1::Record p = Register("Sam", "Okafor");  // captured before enrolment
  v1::Record s = Session();
  DeviceIdentity kiosk = Identity();
  kiosk.role = v1::ROLE_KIOSK;
  ASSERT_TRUE(store().SaveIdentity(kiosk).ok());

  v1::Participant person;
  person.set_given_name("Kai");
  person.set_family_name("Lee");
  person.set_date_of_birth("2000-01-01");
  EXPECT_REFUSED(device_->RegisterParticipant(person), E::kPermissionDenied, "type");
  v1::Participant edit = p.participant();
  edit.set_phone("123");
  EXPECT_REFUSED(device_->UpdateParticipant(IdOf(p), edit), E::kPermissionDenied, "type");
  EXPECT_REFUSED(device_->Delete(IdOf(s)), E::kPermissionDenied, "type");
  v1::Attendance as_adviser;
  as_adviser.set_session_id(s.id());
  as_adviser.set_participant_id(p.id());
  as_adviser.set_status(v1::ATTENDANCE_STATUS_ATTENDED);
  as_adviser.set_marked_by(v1::MARKED_BY_ADVISER);
  EXPECT_REFUSED(device_->MarkAttendance(as_adviser), E::kPermissionDenied, "marked_by");

  as_adviser.clear_marked_by();
  Result<v1::Record> mark = device_->MarkAttendance(as_adviser);
  ASSERT_TRUE(mark.ok()) << mark.status().ToString();
  EXPECT_EQ(mark->attendance().marked_by(), v1::MARKED_BY_KIOSK);
  v1::Enquiry e;
  e.set_given_name("Kai");
  e.set_email("kai@example.org");
  e.set_consent_to_contact(true);
  EXPECT_TRUE(device_->RecordEnquiry(e).ok());
}

TEST_F(StoreTest, AcknowledgementsEmptyTheOutboxAndKeepRejections) {
  v1::Record a = Register("A", "One");
  v1::Record b = Register("B", "Two");
  v1::Record c = Register("C", "Three");
  Result<std::vector<v1::Change>> batch = store().PendingChanges(2);
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->size(), 2u);
  EXPECT_EQ((*batch)[0].device_seq(), 1u);
  EXPECT_EQ((*batch)[1].device_seq(), 2u);
  EXPECT_EQ(*store().PendingCount(), 3u);

  v1::PushAck ack;
  ack.set_batch_id(1);
  auto* r1 = ack.add_results();
  r1->set_device_seq(1);
  r1->set_outcome(v1::CHANGE_OUTCOME_APPLIED);
  auto* r2 = ack.add_results();
  r2->set_device_seq(2);
  r2->set_outcome(v1::CHANGE_OUTCOME_REJECTED);
  r2->set_reason("the hub does not accept this programme strand");
  r2->set_field("programme_strand");
  ack.set_server_hlc(Later(5000).value());
  ASSERT_TRUE(store().AcknowledgeChanges(ack).ok());
  EXPECT_EQ(*store().PendingCount(), 1u);
  EXPECT_EQ(store().PendingChanges(10)->front().device_seq(), 3u);
  Result<std::vector<RejectedChange>> rejected = device_->RejectedChanges();
  ASSERT_EQ(rejected->size(), 1u);
  EXPECT_EQ((*rejected)[0].device_seq, 2u);
  EXPECT_EQ((*rejected)[0].record_id, IdOf(b));
  EXPECT_EQ((*rejected)[0].type, v1::RECORD_TYPE_PARTICIPANT);
  EXPECT_EQ((*rejected)[0].field, "programme_strand");
  EXPECT_EQ((*rejected)[0].reason, "the hub does not accept this programme strand");
  // B's creation was refused and the server sent nothing back: B is on no other device,
  // so it leaves this one too (its change-log row stays, for the rejected list).
  EXPECT_EQ(device_->Get(IdOf(b)).status().code(), E::kNotFound);
  EXPECT_EQ(device_->FindParticipants("two")->size(), 0u);
  EXPECT_TRUE(device_->Get(IdOf(a)).ok());
  EXPECT_TRUE(device_->Get(IdOf(c)).ok());
  EXPECT_EQ(store().ChangeLog()->size(), 3u);

  // A repeated ack changes nothing; the clock moved past the server's stamp.
  const std::string dump = Dump(path_);
  ASSERT_TRUE(store().AcknowledgeChanges(ack).ok());
  EXPECT_EQ(Dump(path_), dump);
  v1::Record d = Register("D", "Four");
  EXPECT_GT(store().PendingChanges(10)->back().hlc(), ack.server_hlc());
  EXPECT_EQ(store().PendingChanges(10)->back().device_seq(), 4u);

  v1::PushAck bad;
  bad.add_results()->set_device_seq(3);  // no outcome
  EXPECT_REFUSED(store().AcknowledgeChanges(bad), E::kProtocolError, "");
  (void)d;
}

TEST_F(StoreTest, AppliesPulledPagesKeepingFieldsWithPendingLocalEdits) {
  // Someone else's participant arrives.
  v1::Participant theirs;
  theirs.set_reference("H7QX-0001-0");
  theirs.set_given_name("Remote");
  theirs.set_family_name("Person");
  theirs.set_date_of_birth("1980-01-01");
  theirs.set_status(v1::PARTICIPANT_STATUS_ACTIVE);
  theirs.set_adviser("alex");
  const Uuid remote = Uuid::NewV7();
  // Our own participant with a pending phone edit.
  v1::Record mine = Register("Sam", "Okafor");
  v1::Participant edit = mine.participant();
  edit.set_phone("+441134960501");
  ASSERT_TRUE(device_->UpdateParticipant(IdOf(mine), edit).ok());
  const uint64_t pending_before = *store().PendingCount();

  v1::ChangesPage page;
  *page.add_changes() = Pulled(remote, v1::RECORD_TYPE_PARTICIPANT, theirs, 10, Later(1000));
  v1::Participant server_side;
  server_side.set_phone("+441134960601");
  server_side.set_postcode("LS1 4AP");
  *page.add_changes() = Pulled(IdOf(mine), v1::RECORD_TYPE_PARTICIPANT, server_side, 11, Later(2000));
  page.set_next_cursor(11);
  Status applied = store().ApplyPulledPage(page);
  ASSERT_TRUE(applied.ok()) << applied.ToString();

  EXPECT_EQ(*store().PullCursor(), 11u);
  EXPECT_EQ(*store().PendingCount(), pending_before);  // pulled changes never enter the outbox
  Result<v1::Record> got = device_->Get(remote);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->participant().given_name(), "Remote");
  EXPECT_EQ(got->hub_id(), Uuid::Derive("hub", "north").raw());
  EXPECT_EQ(device_->FindParticipants("remote")->size(), 1u);
  EXPECT_EQ(device_->Caseload()->size(), 2u);
  v1::Participant merged = device_->Get(IdOf(mine))->participant();
  EXPECT_EQ(merged.phone(), "+441134960501");  // local edit still pending: kept
  EXPECT_EQ(merged.postcode(), "LS1 4AP");     // applied

  // The next local edit of postcode is based on the server's version of it.
  merged.set_postcode("LS2 7HY");
  ASSERT_TRUE(device_->UpdateParticipant(IdOf(mine), merged).ok());
  const v1::Change last = store().PendingChanges(100)->back();
  ASSERT_EQ(last.fields_size(), 1);
  EXPECT_EQ(last.fields(0).base_version(), Later(2000).value());
  EXPECT_GT(last.hlc(), Later(2000).value());  // the clock moved past the pulled stamps

  // Once acknowledged, the server's value of phone applies on the next pull.
  v1::PushAck ack;
  Result<std::vector<v1::Change>> pushed = store().PendingChanges(100);
  for (const auto& c : *pushed) {
    auto* r = ack.add_results();
    r->set_device_seq(c.device_seq());
    r->set_outcome(v1::CHANGE_OUTCOME_APPLIED);
  }
  ASSERT_TRUE(store().AcknowledgeChanges(ack).ok());
  v1::ChangesPage page2;
  *page2.add_changes() = Pulled(IdOf(mine), v1::RECORD_TYPE_PARTICIPANT, server_side, 12, Later(9000));
  page2.set_next_cursor(12);
  ASSERT_TRUE(store().ApplyPulledPage(page2).ok());
  EXPECT_EQ(device_->Get(IdOf(mine))->participant().phone(), "+441134960601");
}

TEST_F(StoreTest, PulledDeletesErasuresAndUnknownDataAreHonoured) {
  v1::Record p = Register("Sam", "Okafor");
  v1::Record s = Session();
  v1::ChangesPage page;
  v1::Change del;
  del.set_record_id(s.id());
  del.set_type(v1::RECORD_TYPE_SESSION);
  del.set_op(v1::CHANGE_OP_DELETE);
  del.set_hlc(Later().value());
  del.set_server_seq(1);
  *page.add_changes() = del;
  v1::Change erase = del;
  erase.set_record_id(p.id());
  erase.set_type(v1::RECORD_TYPE_PARTICIPANT);
  erase.set_op(v1::CHANGE_OP_ERASE);
  erase.set_server_seq(2);
  *page.add_changes() = erase;

  // A record type this build does not know, and a field it does not know.
  const Uuid future = Uuid::NewV7();
  v1::Change unknown_type;
  unknown_type.set_record_id(future.raw());
  unknown_type.set_type(static_cast<v1::RecordType>(77));
  unknown_type.set_op(v1::CHANGE_OP_UPSERT);
  unknown_type.set_hlc(Later().value());
  unknown_type.set_server_seq(3);
  google::protobuf::UnknownFieldSet payload;
  payload.AddLengthDelimited(1, "future body");
  std::string bytes;
  payload.SerializeToString(&bytes);
  auto* fv = unknown_type.add_fields();
  fv->set_field(1);
  fv->set_value(bytes);
  *page.add_changes() = unknown_type;
  const Uuid remote = Uuid::NewV7();
  v1::Participant known;
  known.set_given_name("New");
  known.set_family_name("Field");
  known.set_date_of_birth("1985-02-03");
  known.set_status(v1::PARTICIPANT_STATUS_ACTIVE);
  v1::Change with_new_field = Pulled(remote, v1::RECORD_TYPE_PARTICIPANT, known, 4, Later());
  google::protobuf::UnknownFieldSet extra;
  extra.AddVarint(150, 42);  // a programme-specific field added later
  std::string extra_bytes;
  extra.SerializeToString(&extra_bytes);
  auto* f150 = with_new_field.add_fields();
  f150->set_field(150);
  f150->set_value(extra_bytes);
  *page.add_changes() = with_new_field;
  page.set_next_cursor(4);
  Status applied = store().ApplyPulledPage(page);
  ASSERT_TRUE(applied.ok()) << applied.ToString();

  EXPECT_TRUE(device_->Get(IdOf(s))->deleted());
  EXPECT_TRUE(device_->SessionsAtVenue(venue_)->empty());
  Result<v1::Record> erased = device_->Get(IdOf(p));
  ASSERT_TRUE(erased.ok());
  EXPECT_TRUE(erased->erased());
  EXPECT_EQ(erased->participant().ByteSizeLong(), 0u);
  EXPECT_TRUE(device_->FindParticipants("okafor")->empty());
  std::string hex = IdOf(p).ToString();
  hex.erase(std::remove(hex.begin(), hex.end(), '-'), hex.end());
  EXPECT_EQ(QueryOne(path_, "SELECT length(versions) FROM record WHERE id = x'" + hex + "'"), "0");

  Result<v1::Record> kept = device_->Get(future);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(static_cast<int>(kept->type()), 77);
  const auto& unknown = kept->GetReflection()->GetUnknownFields(*kept);
  ASSERT_EQ(unknown.field_count(), 1);
  EXPECT_EQ(unknown.field(0).number(), 77);
  EXPECT_EQ(unknown.field(0).length_delimited(), bytes);

  // The unknown field survives a local edit of the record and is not re-sent by it.
  v1::Participant edit = device_->Get(remote)->participant();
  edit.set_phone("+441134960002");
  ASSERT_TRUE(device_->UpdateParticipant(remote, edit).ok());
  const v1::Participant edited = device_->Get(remote)->participant();
  const auto& fields = edited.GetReflection()->GetUnknownFields(edited);
  ASSERT_EQ(fields.field_count(), 1);
  EXPECT_EQ(fields.field(0).number(), 150);
  EXPECT_EQ(store().PendingChanges(100)->back().fields_size(), 1);

  // A malformed page changes nothing, cursor included.
  v1::ChangesPage bad;
  v1::Change broken = del;
  broken.set_record_id("xyz");
  *bad.add_changes() = Pulled(Uuid::NewV7(), v1::RECORD_TYPE_PARTICIPANT, known, 5, Later());
  *bad.add_changes() = broken;
  bad.set_next_cursor(6);
  EXPECT_REFUSED(store().ApplyPulledPage(bad), E::kDataLoss, "");
  EXPECT_EQ(*store().PullCursor(), 4u);
}

// A bulk pull applies several pages in one transaction (LocalStore::ApplyPulledPages):
// the result is the same as applying them one by one (a record touched on several
// pages holds its last values, each field the stamp of the change that set it last),
// the cursor is the last page's, and one bad change leaves the whole batch unapplied.
TEST_F(StoreTest, PagesAppliedInOneBatchEqualPagesAppliedOneByOne) {
  ASSERT_TRUE(store().SaveIdentity(Identity()).ok());
  v1::Record mine = Register("Sam", "Okafor");
  v1::Participant edit = mine.participant();
  edit.set_phone("+441134960501");
  ASSERT_TRUE(device_->UpdateParticipant(IdOf(mine), edit).ok());

  const Uuid remote = Uuid::NewV7();
  v1::Participant first;
  first.set_given_name("Remote");
  first.set_family_name("Person");
  first.set_date_of_birth("1980-01-01");
  first.set_status(v1::PARTICIPANT_STATUS_ACTIVE);
  first.set_phone("+441134960111");
  v1::Participant renamed;
  renamed.set_family_name("Renamed");
  v1::Participant theirs;
  theirs.set_phone("+441134960601");
  theirs.set_postcode("LS1 4AP");
  v1::Change created = Pulled(remote, v1::RECORD_TYPE_PARTICIPANT, first, 10, Later(1000));
  created.clear_hub_id();  // "the device's own hub"
  std::vector<v1::ChangesPage> pages(3);
  *pages[0].add_changes() = created;
  pages[0].set_next_cursor(10);
  pages[0].set_more(true);
  *pages[1].add_changes() = Pulled(IdOf(mine), v1::RECORD_TYPE_PARTICIPANT, theirs, 11, Later(2000));
  pages[1].set_next_cursor(11);
  pages[1].set_more(true);
  *pages[2].add_changes() = Pulled(remote, v1::RECORD_TYPE_PARTICIPANT, renamed, 12, Later(3000));
  pages[2].set_next_cursor(12);
  Status applied = store().ApplyPulledPages({&pages[0], &pages[1], &pages[2]});
  ASSERT_TRUE(applied.ok()) << applied.ToString();

  EXPECT_EQ(*store().PullCursor(), 12u);
  Result<v1::Record> got = device_->Get(remote);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->participant().given_name(), "Remote");
  EXPECT_EQ(got->participant().family_name(), "Renamed");
  EXPECT_EQ(got->hub_id(), Uuid::Derive("hub", "north").raw()) << "an empty hub id is the device's hub";
  EXPECT_EQ(device_->FindParticipants("renamed")->size(), 1u);
  EXPECT_TRUE(device_->FindParticipants("person")->empty());
  v1::Participant merged = device_->Get(IdOf(mine))->participant();
  EXPECT_EQ(merged.phone(), "+441134960501");  // local edit still pending: kept
  EXPECT_EQ(merged.postcode(), "LS1 4AP");

  // Field versions: the next local edit of each field is based on the stamp that set it.
  v1::Participant next = got->participant();
  next.set_given_name("Remy");
  next.set_family_name("Renamed-Again");
  next.set_phone("+441134960222");
  ASSERT_TRUE(device_->UpdateParticipant(remote, next).ok());
  std::map<std::string, uint64_t> base;
  const v1::Change last = store().PendingChanges(100)->back();
  for (const v1::FieldValue& fv : last.fields()) {
    base[v1::Participant::descriptor()->FindFieldByNumber(static_cast<int>(fv.field()))->name()] = fv.base_version();
  }
  EXPECT_EQ(base["given_name"], Later(1000).value());
  EXPECT_EQ(base["family_name"], Later(3000).value());
  EXPECT_EQ(base["phone"], Later(1000).value());

  // One bad change anywhere in a batch: nothing of the batch is applied, cursor included.
  std::vector<v1::ChangesPage> bad(2);
  const Uuid other = Uuid::NewV7();
  *bad[0].add_changes() = Pulled(other, v1::RECORD_TYPE_PARTICIPANT, first, 13, Later(4000));
  bad[0].set_next_cursor(13);
  bad[0].set_more(true);
  v1::Change wrong_type = Pulled(other, v1::RECORD_TYPE_SESSION, v1::Session(), 14, Later(5000));
  *bad[1].add_changes() = wrong_type;
  bad[1].set_next_cursor(14);
  EXPECT_REFUSED(store().ApplyPulledPages({&bad[0], &bad[1]}), E::kDataLoss, "");
  EXPECT_EQ(*store().PullCursor(), 12u);
  EXPECT_EQ(device_->Get(other).status().code(), E::kNotFound);
}

// A pull's receiving thread prepares the rows its changes would make as records new to
// the device (LocalStore::PreparePulledPage); the store writes a record from that only
// when it is new, has nothing in the outbox and has no other change in the batch. The
// file ends up exactly as without the preparations: records new and held, several
// changes of one record in a batch, deletes and erasures, every projection and an
// unknown record type.
TEST_F(StoreTest, PreparedPagesWriteExactlyWhatUnpreparedPagesDo) {
  const DeviceIdentity identity = Identity();
  ASSERT_TRUE(store().SaveIdentity(identity).ok());
  client::StoreOptions options;
  options.path = dir_.path() + "/prepared.db";
  options.clock = [this] { return now_ms_; };
  options.user_name = "alex";
  Result<std::unique_ptr<LocalStore>> opened = LocalStore::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  LocalStore& prepared_store = **opened;
  ASSERT_TRUE(prepared_store.SaveIdentity(identity).ok());

  uint64_t seq = 0;
  int64_t ms = 0;
  auto change = [&](const Uuid& id, v1::RecordType type, const google::protobuf::Message& body) {
    v1::Change c = Pulled(id, type, body, ++seq, Later(ms += 10));
    if (seq % 3 == 0) c.clear_hub_id();  // the device's own hub
    return c;
  };
  const Uuid person = Uuid::NewV7(), other = Uuid::NewV7(), session = Uuid::NewV7(), plan = Uuid::NewV7();
  v1::Participant p;
  p.set_given_name("Remote");
  p.set_family_name("O'Person");
  p.set_date_of_birth("1980-01-01");
  p.set_ni_number("QQ123456C");
  p.set_adviser("kim");
  p.set_status(v1::PARTICIPANT_STATUS_ACTIVE);
  p.set_registered_on("2026-11-01");
  v1::Session s;
  s.set_venue_id(venue_.raw());
  s.set_title("Job club");
  s.set_starts_at("2026-11-20T10:00");
  v1::Attendance attended;
  attended.set_session_id(session.raw());
  attended.set_participant_id(person.raw());
  attended.set_status(v1::ATTENDANCE_STATUS_ATTENDED);
  attended.set_marked_at("2026-11-20T10:05");
  v1::Attendance absent = attended;
  absent.set_participant_id(other.raw());
  absent.set_status(v1::ATTENDANCE_STATUS_DID_NOT_ATTEND);
  v1::Booking booking;
  booking.set_session_id(session.raw());
  booking.set_participant_id(person.raw());
  booking.set_status(v1::BOOKING_STATUS_BOOKED);
  booking.set_booked_on("2026-11-02");
  v1::ContactAttempt reached;
  reached.set_participant_id(person.raw());
  reached.set_result(v1::CONTACT_RESULT_REACHED);
  reached.set_attempted_at("2026-11-03T09:00");
  v1::ContactAttempt missed = reached;
  missed.set_result(v1::CONTACT_RESULT_NO_ANSWER);
  v1::ActionPlan action_plan;
  action_plan.set_participant_id(person.raw());
  action_plan.set_status(v1::PLAN_STATUS_DRAFT);
  action_plan.set_started_on("2026-11-01");
  v1::ActionStep step;
  step.set_plan_id(plan.raw());
  step.set_participant_id(person.raw());
  step.set_due_on("2026-12-01");
  step.set_status(v1::STEP_STATUS_OPEN);
  v1::Assessment assessment;
  assessment.set_participant_id(person.raw());
  assessment.set_completed_on("2026-11-04");
  assessment.add_scores()->set_domain("confidence");
  assessment.mutable_scores(0)->set_score(4);
  v1::Participant renamed;
  renamed.set_family_name("Renamed");

  std::vector<v1::ChangesPage> pages(4);
  // Batch 1 (pages 0 and 1): records new to the device, one of them changed twice, one
  // deleted and one erased in the batch that makes them, one of an unknown type.
  *pages[0].add_changes() = change(person, v1::RECORD_TYPE_PARTICIPANT, p);
  *pages[0].add_changes() = change(other, v1::RECORD_TYPE_PARTICIPANT, p);
  *pages[0].add_changes() = change(session, v1::RECORD_TYPE_SESSION, s);
  *pages[0].add_changes() =
      change(Uuid::DeriveRegisterRow("attendance", session.raw(), person.raw()), v1::RECORD_TYPE_ATTENDANCE, attended);
  *pages[0].add_changes() =
      change(Uuid::DeriveRegisterRow("attendance", session.raw(), other.raw()), v1::RECORD_TYPE_ATTENDANCE, absent);
  *pages[0].add_changes() = change(Uuid::NewV7(), v1::RECORD_TYPE_BOOKING, booking);
  *pages[0].add_changes() = change(Uuid::NewV7(), v1::RECORD_TYPE_CONTACT_ATTEMPT, reached);
  *pages[0].add_changes() = change(Uuid::NewV7(), v1::RECORD_TYPE_CONTACT_ATTEMPT, missed);
  pages[0].set_next_cursor(seq);
  pages[0].set_more(true);
  *pages[1].add_changes() = change(plan, v1::RECORD_TYPE_ACTION_PLAN, action_plan);
  *pages[1].add_changes() = change(Uuid::NewV7(), v1::RECORD_TYPE_ACTION_STEP, step);
  *pages[1].add_changes() = change(Uuid::NewV7(), v1::RECORD_TYPE_ASSESSMENT, assessment);
  *pages[1].add_changes() = change(other, v1::RECORD_TYPE_PARTICIPANT, renamed);
  const Uuid deleted = Uuid::NewV7(), erased = Uuid::NewV7();
  *pages[1].add_changes() = change(deleted, v1::RECORD_TYPE_SESSION, s);
  v1::Change delete_it = change(deleted, v1::RECORD_TYPE_SESSION, v1::Session());
  delete_it.set_op(v1::CHANGE_OP_DELETE);
  *pages[1].add_changes() = delete_it;
  *pages[1].add_changes() = change(erased, v1::RECORD_TYPE_CONTACT_ATTEMPT, reached);
  v1::Change erase_it = change(erased, v1::RECORD_TYPE_CONTACT_ATTEMPT, v1::ContactAttempt());
  erase_it.set_op(v1::CHANGE_OP_ERASE);
  *pages[1].add_changes() = erase_it;
  v1::Change unknown = change(Uuid::NewV7(), static_cast<v1::RecordType>(977), p);
  *pages[1].add_changes() = unknown;
  pages[1].set_next_cursor(seq);
  pages[1].set_more(true);
  // Batch 2 (pages 2 and 3): changes of records held, and more new ones.
  *pages[2].add_changes() = change(person, v1::RECORD_TYPE_PARTICIPANT, renamed);
  absent.set_status(v1::ATTENDANCE_STATUS_LATE);
  *pages[2].add_changes() =
      change(Uuid::DeriveRegisterRow("attendance", session.raw(), other.raw()), v1::RECORD_TYPE_ATTENDANCE, absent);
  pages[2].set_next_cursor(seq);
  pages[2].set_more(true);
  for (int i = 0; i < 20; ++i) *pages[3].add_changes() = change(Uuid::NewV7(), v1::RECORD_TYPE_PARTICIPANT, p);
  pages[3].set_next_cursor(seq);

  std::vector<std::unique_ptr<client::PreparedPage>> ready;
  for (const v1::ChangesPage& page : pages) ready.push_back(LocalStore::PreparePulledPage(page));
  client::PulledBatchStats first, second;
  ASSERT_TRUE(store().ApplyPulledPages({&pages[0], &pages[1]}).ok());
  Status applied = prepared_store.ApplyPulledPages({&pages[0], &pages[1]}, {ready[0].get(), ready[1].get()}, &first);
  ASSERT_TRUE(applied.ok()) << applied.ToString();
  ASSERT_TRUE(store().ApplyPulledPages({&pages[2], &pages[3]}).ok());
  applied = prepared_store.ApplyPulledPages({&pages[2], &pages[3]}, {ready[2].get(), ready[3].get()}, &second);
  ASSERT_TRUE(applied.ok()) << applied.ToString();
  EXPECT_EQ(first.records, 14u);
  EXPECT_EQ(first.new_records, 14u);
  EXPECT_EQ(second.records, 22u);
  EXPECT_EQ(second.new_records, 20u);

  // Every record (body, field versions, stamps, hub, participant, date) and projection
  // row, and the cursor and clock.
  const std::pair<const char*, const char*> tables[] = {
      {"record",
       "id, type, hub_id, deleted, erased, body, participant_id, occurred_on, created_hlc, updated_hlc, versions"},
      {"participant_p",
       "id, reference, given_name, family_name, date_of_birth, ni_number, adviser, status, registered_on, name_key"},
      {"session_p", "id, venue_id, day, starts_at"},
      {"booking_p", "id, session_id, participant_id, status"},
      {"attendance_p", "id, session_id, participant_id, status, seen_on"},
      {"seen_p", "id, participant_id, day"},
      {"action_plan_p", "id, participant_id, status, started_on, agreed_on, review_on"},
      {"action_step_p", "id, plan_id, status, due_on"},
      {"sync_state", "key, value"},
  };
  for (const auto& [table, columns] : tables) {
    std::string row;
    std::string_view rest = columns;
    while (!rest.empty()) {
      const size_t comma = rest.find(", ");
      row += (row.empty() ? "quote(" : " || '|' || quote(") + std::string(rest.substr(0, comma)) + ")";
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 2);
    }
    std::string sql = "SELECT " + row + " FROM " + table;
    if (std::string_view(table) == "sync_state") sql += " WHERE key IN ('hlc', 'pull_cursor')";
    sql += " ORDER BY 1";
    const std::vector<std::string> plain = QueryColumn(path_, sql);
    EXPECT_FALSE(plain.empty()) << table;
    EXPECT_EQ(QueryColumn(options.path, sql), plain) << table;
  }
  EXPECT_EQ(QueryOne(path_, "SELECT count(*) FROM record"), "35");  // with the seeded instrument
}

// Pulled edits of records the device holds keep their projections (the tables the
// searches and reports read) in step with the records, whether or not the edit touches a
// projected value: a batch that leaves them alone (a new phone number) does not rewrite
// them, one that changes them (a name, a mark, a delete) does.
TEST_F(StoreTest, PulledEditsKeepProjectionsInStepWithTheirRecords) {
  ASSERT_TRUE(store().SaveIdentity(Identity()).ok());
  const Uuid person = Uuid::NewV7(), session = Uuid::NewV7();
  const Uuid mark = Uuid::NewV7();
  v1::Participant p;
  p.set_given_name("Remote");
  p.set_family_name("Person");
  p.set_date_of_birth("1980-01-01");
  p.set_status(v1::PARTICIPANT_STATUS_ACTIVE);
  p.set_registered_on("2026-11-02");
  v1::Session s;
  s.set_venue_id(venue_.raw());
  s.set_starts_at("2026-11-20T10:00");
  v1::Attendance a;
  a.set_session_id(session.raw());
  a.set_participant_id(person.raw());
  a.set_status(v1::ATTENDANCE_STATUS_DID_NOT_ATTEND);
  a.set_marked_at("2026-11-20T10:05");
  uint64_t seq = 0;
  int64_t ms = 1000;
  auto apply = [&](std::vector<std::pair<const Uuid*, const google::protobuf::Message*>> edits) {
    v1::ChangesPage page;
    for (auto [id, body] : edits) {
      const auto* d = body->GetDescriptor();
      const v1::RecordType type = d == v1::Participant::descriptor() ? v1::RECORD_TYPE_PARTICIPANT
                                  : d == v1::Session::descriptor()   ? v1::RECORD_TYPE_SESSION
                                                                     : v1::RECORD_TYPE_ATTENDANCE;
      *page.add_changes() = Pulled(*id, type, *body, ++seq, Later(ms += 1000));
    }
    page.set_next_cursor(seq);
    Status applied = store().ApplyPulledPage(page);
    ASSERT_TRUE(applied.ok()) << applied.ToString();
  };
  auto last_seen = [&]() -> std::string {
    for (const client::DatedRecord& r : *store().LastSeen()) {
      if (r.record.id() == person.raw()) return r.on;
    }
    return "not listed";
  };
  apply({{&person, &p}, {&session, &s}, {&mark, &a}});
  ASSERT_EQ(device_->FindParticipants("remote person")->size(), 1u);
  EXPECT_EQ(last_seen(), "2026-11-02");  // registration is the first sighting

  // Values no projection shows: the rows stand and still answer.
  v1::Participant phone;
  phone.set_phone("0113 496 0000");
  v1::Attendance note;
  note.set_reason_note("bus strike");
  apply({{&person, &phone}, {&mark, &note}});
  EXPECT_EQ(device_->Get(person)->participant().phone(), "0113 496 0000");
  EXPECT_EQ(device_->FindParticipants("remote person")->size(), 1u);
  ASSERT_EQ(store().AttendanceOf(session)->size(), 1u);
  EXPECT_EQ(store().AttendanceOf(session)->front().attendance().reason_note(), "bus strike");
  EXPECT_EQ(last_seen(), "2026-11-02");

  // Projected values: the rows follow, in one batch with an unprojected edit.
  v1::Participant renamed;
  renamed.set_family_name("Renamed");
  v1::Attendance attended;
  attended.set_status(v1::ATTENDANCE_STATUS_ATTENDED);
  apply({{&person, &phone}, {&person, &renamed}, {&mark, &attended}});
  EXPECT_TRUE(device_->FindParticipants("remote person")->empty());
  EXPECT_EQ(device_->FindParticipants("remote renamed")->size(), 1u);
  EXPECT_EQ(last_seen(), "2026-11-20");

  // A delete takes the row away.
  v1::ChangesPage gone;
  v1::Change del = Pulled(mark, v1::RECORD_TYPE_ATTENDANCE, v1::Attendance(), ++seq, Later(ms += 1000));
  del.set_op(v1::CHANGE_OP_DELETE);
  *gone.add_changes() = del;
  gone.set_next_cursor(seq);
  ASSERT_TRUE(store().ApplyPulledPage(gone).ok());
  EXPECT_TRUE(store().AttendanceOf(session)->empty());
  EXPECT_EQ(last_seen(), "2026-11-02");
}

// A batch of many records keeps every pulled field's version (12 bytes per field in
// record.versions), the base version of the next local edit of the field.
TEST_F(StoreTest, ABigBatchKeepsEveryFieldVersion) {
  ASSERT_TRUE(store().SaveIdentity(Identity()).ok());
  std::vector<v1::ChangesPage> pages(2);
  std::vector<Uuid> ids;
  size_t fields = 0;
  for (int i = 0; i < 120; ++i) {
    v1::Participant p;
    p.set_given_name("Remote" + std::to_string(i));
    p.set_family_name("Person");
    p.set_date_of_birth("1980-01-01");
    p.set_status(v1::PARTICIPANT_STATUS_ACTIVE);
    if (i % 3 == 0) p.set_phone("0113 000 " + std::to_string(1000 + i));
    ids.push_back(Uuid::NewV7());
    v1::Change c = Pulled(ids.back(), v1::RECORD_TYPE_PARTICIPANT, p, 100 + i, Later(1000 + i));
    fields += static_cast<size_t>(c.fields_size());
    *pages[i < 60 ? 0 : 1].add_changes() = c;
  }
  pages[0].set_next_cursor(159);
  pages[0].set_more(true);
  pages[1].set_next_cursor(219);
  ASSERT_GT(fields, 256u);
  Status applied = store().ApplyPulledPages({&pages[0], &pages[1]});
  ASSERT_TRUE(applied.ok()) << applied.ToString();
  EXPECT_EQ(QueryOne(path_, "SELECT sum(length(versions)) / 12 FROM record"), std::to_string(fields));
  EXPECT_EQ(QueryOne(path_, "PRAGMA foreign_key_check"), "");
  EXPECT_EQ(device_->ListParticipants()->size(), 120u);
  for (int i : {0, 85, 119}) {
    v1::Participant edit = device_->Get(ids[i])->participant();
    edit.set_family_name("Edited");
    ASSERT_TRUE(device_->UpdateParticipant(ids[i], edit).ok());
    const v1::Change last = store().PendingChanges(1000)->back();
    ASSERT_EQ(last.fields_size(), 1);
    EXPECT_EQ(last.fields(0).base_version(), Later(1000 + i).value()) << "participant " << i;
  }
}

TEST_F(StoreTest, ClockOffsetIsPersisted) {
  ASSERT_TRUE(store().SetClockOffsetMs(90'000).ok());
  EXPECT_EQ(store().clock().offset_ms(), 90'000);
  EXPECT_EQ(store().clock().PhysicalNow(), now_ms_ + 90'000);
  Reopen();
  EXPECT_EQ(store().clock().offset_ms(), 90'000);
  v1::Record p = Register("Sam", "Okafor");
  EXPECT_EQ(Hlc(store().PendingChanges(1)->front().hlc()).physical_ms(), now_ms_ + 90'000);
}

TEST_F(StoreTest, WipeLeavesAValidEmptyFile) {
  ASSERT_TRUE(store().SaveIdentity(Identity()).ok());
  v1::Record p = Register("Sam", "Okafor");
  v1::ChangesPage page;
  page.set_next_cursor(42);
  Status applied = store().ApplyPulledPage(page);
  ASSERT_TRUE(applied.ok()) << applied.ToString();
  const Uuid before = device_->device_id();

  ASSERT_TRUE(store().Wipe().ok());
  EXPECT_FALSE(store().LoadIdentity()->has_value());
  EXPECT_EQ(*store().PendingCount(), 0u);
  EXPECT_EQ(*store().PullCursor(), 0u);
  EXPECT_TRUE(store().ChangeLog()->empty());
  Result<std::vector<v1::Record>> all = device_->Export();
  ASSERT_EQ(all->size(), 1u);  // only the seeded instrument
  EXPECT_EQ(all->front().type(), v1::RECORD_TYPE_INSTRUMENT);
  EXPECT_NE(device_->device_id(), before);
  EXPECT_EQ(QueryOne(path_, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(Dump(path_).find(p.participant().family_name()), std::string::npos);

  // Usable again at once, and after a reopen.
  v1::Record q = Register("Ann", "Adams");
  EXPECT_EQ(store().PendingChanges(1)->front().device_seq(), 1u);
  Reopen();
  EXPECT_EQ(device_->ListParticipants()->size(), 1u);
}

TEST_F(StoreTest, RefusesAFileFromANewerBuildAndAnUnusablePath) {
  device_.reset();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  DeviceOptions options;
  options.path = path_;
  Result<std::unique_ptr<Device>> newer = Device::Open(options);
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().code(), E::kFailedPrecondition);
  options.path = dir_.path() + "/no/such/dir/device.db";
  Result<std::unique_ptr<Device>> missing = Device::Open(options);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), E::kIoError);
  options.path.clear();
  Result<std::unique_ptr<Device>> empty = Device::Open(options);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().field(), "path");
}

}  // namespace
}  // namespace outreach::testing
