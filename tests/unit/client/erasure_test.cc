// Erasure and duplicate decisions on the device: what stays, what goes, what is refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "client/journey/device_internals.h"
#include "client/store/local_store.h"
#include "common/field_value.h"
#include "tests/unit/client/device_test.h"
#include "tests/unit/client/test_util.h"

namespace outreach::testing {
namespace {

// Every file of the device whose name starts with the database file's name (the file,
// -wal, -shm, any -journal), each whole, one after the other.
std::string DeviceFilesBytes(const std::string& dir, const std::string& db_name) {
  std::string all;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().filename().string().rfind(db_name, 0) != 0) continue;
    FILE* f = std::fopen(entry.path().c_str(), "rb");
    if (f == nullptr) continue;
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) all.append(buf, n);
    std::fclose(f);
  }
  return all;
}

// Every file of the device at `path` (its database file): DeviceFilesBytes of its folder.
std::string FileBytes(const std::string& path) {
  const std::filesystem::path p(path);
  return DeviceFilesBytes(p.parent_path().string(), p.filename().string());
}

using ErasureTest = DeviceTest;

TEST_F(ErasureTest, ErasesTheParticipantAndLinkedRecordsLeavingNoPersonalData) {
  v1::Record p = Register("Zanele", "Vukovichova");
  v1::CaseNote note;
  note.set_participant_id(p.id());
  note.set_sensitivity(v1::NOTE_SENSITIVITY_NORMAL);
  note.set_text("Vukovichova wants warehouse work");
  Result<v1::Record> n = device_->AddCaseNote(note);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  v1::Record other = Register("Keep", "Safe");
  ASSERT_NE(FileBytes(path_).find("Vukovichova"), std::string::npos);

  Result<v1::Record> erased = device_->EraseParticipant(IdOf(p));
  ASSERT_TRUE(erased.ok()) << erased.status().ToString();
  EXPECT_TRUE(erased->erased());
  EXPECT_TRUE(device_->Get(IdOf(*n))->erased());
  EXPECT_TRUE(device_->Get(IdOf(*n))->case_note().text().empty());
  EXPECT_EQ(device_->Get(IdOf(other))->participant().family_name(), "Safe");
  EXPECT_TRUE(device_->FindParticipants("Vukovichova")->empty());

  // One ERASE change goes to the server; every change-log value about the person is gone.
  Result<std::vector<v1::Change>> pending = StoreOf(*device_).PendingChanges(100);
  ASSERT_TRUE(pending.ok());
  ASSERT_FALSE(pending->empty());
  EXPECT_EQ(pending->back().op(), v1::CHANGE_OP_ERASE);
  EXPECT_EQ(pending->back().record_id(), p.id());
  for (const v1::Change& c : *StoreOf(*device_).ChangeLog()) {
    if (c.record_id() != p.id() && c.record_id() != n->id()) continue;
    for (const v1::FieldValue& fv : c.fields()) EXPECT_TRUE(fv.value().empty());
  }
  EXPECT_EQ(FileBytes(path_).find("Vukovichova"), std::string::npos);
  Reopen();
  EXPECT_EQ(FileBytes(path_).find("Vukovichova"), std::string::npos);
  EXPECT_TRUE(device_->Get(IdOf(p))->erased());
}

TEST_F(ErasureTest, RefusesUnknownOrAlreadyErasedParticipants) {
  Result<v1::Record> unknown = device_->EraseParticipant(Uuid::NewV7());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().field(), "participant_id");
  v1::Record p = Register("Once", "Only");
  ASSERT_TRUE(device_->EraseParticipant(IdOf(p)).ok());
  const size_t pending = *StoreOf(*device_).PendingCount();
  EXPECT_FALSE(device_->EraseParticipant(IdOf(p)).ok());
  EXPECT_EQ(*StoreOf(*device_).PendingCount(), pending);
}

TEST_F(ErasureTest, PulledErasureRedactsWhatThisDeviceWrote) {
  v1::Record p = Register("Ilse", "Brandtwhistle");
  v1::ChangesPage page;
  v1::Change* erase = page.add_changes();
  erase->set_record_id(p.id());
  erase->set_type(v1::RECORD_TYPE_PARTICIPANT);
  erase->set_op(v1::CHANGE_OP_ERASE);
  erase->set_hlc(StoreOf(*device_).clock().Now().value());
  erase->set_server_seq(1);
  page.set_next_cursor(1);
  ASSERT_TRUE(StoreOf(*device_).ApplyPulledPage(page).ok());
  EXPECT_TRUE(device_->Get(IdOf(p))->erased());
  EXPECT_EQ(FileBytes(path_).find("Brandtwhistle"), std::string::npos);
}

// A device holding every kind of trace of participant P (Petronella Xanthopoulou) that
// the server cannot name when it erases her, beside participant Q's records, which must
// survive. The texts are distinctive so a scan of the files finds them.
class DeviceTracesTest : public DeviceTest {
 protected:
  static constexpr const char* kPFamily = "Xanthopoulou";
  static constexpr const char* kRestrictedText = "RESTRICTED-home-visit-disclosure-8841";
  static constexpr const char* kNormalText = "Normalnote-forklift-training-5512";
  static constexpr const char* kUnsyncedPhone = "+441134960777";              // P's edit not yet pushed
  static constexpr const char* kOfflineCallText = "Offline-call-notes-3321";  // P's call not yet pushed
  static constexpr const char* kRefusedPartner = "Refusedpartner-Qorvex";     // P's referral, create refused
  static constexpr const char* kRefusedPostcode = "ZX1 9QQ";                  // P's edit, refused
  static constexpr const char* kConflictLoser = "+441134960222";              // a conflict about P quotes it
  static constexpr const char* kQRestrictedText = "Q-restricted-stays-5678";
  static constexpr const char* kQNormalText = "Q-note-stays-1234";
  static constexpr const char* kQPhone = "+441134960888";

  void SetUp() override {
    DeviceTest::SetUp();
    p_ = Register("Petronella", kPFamily);
    q_ = Register("Quentin", "Keepworthy");
    normal_ = Note(p_, v1::NOTE_SENSITIVITY_NORMAL, kNormalText);
    restricted_ = Note(p_, v1::NOTE_SENSITIVITY_RESTRICTED, kRestrictedText);
    q_normal_ = Note(q_, v1::NOTE_SENSITIVITY_NORMAL, kQNormalText);
    q_restricted_ = Note(q_, v1::NOTE_SENSITIVITY_RESTRICTED, kQRestrictedText);
    // A sync: the server holds both people and both normal notes (restricted ones never leave).
    Acknowledge({}, {});

    // Refused by the server: a referral it never stored, and an edit of P (the server's
    // value, an empty postcode, comes back with the refusal).
    v1::Referral referral;
    referral.set_participant_id(p_.id());
    referral.set_kind(v1::REFERRAL_KIND_SIGNPOST);  // shares nothing: needs no consent
    referral.set_partner_name(kRefusedPartner);
    Result<v1::Record> ref = device_->MakeReferral(referral);
    ASSERT_TRUE(ref.ok()) << ref.status().ToString();
    referral_ = *ref;
    v1::Participant edit = device_->Get(IdOf(p_))->participant();
    edit.set_postcode(kRefusedPostcode);
    ASSERT_TRUE(device_->UpdateParticipant(IdOf(p_), edit).ok());
    Acknowledge({referral_.id(), p_.id()},
                std::string("partner ") + kRefusedPartner + " / postcode " + kRefusedPostcode + " refused");
    ASSERT_FALSE(device_->Get(IdOf(referral_)).ok());  // a refused create is gone from the records
    ASSERT_EQ(device_->RejectedChanges()->size(), 2u);

    // Not yet pushed: an edit of P, a call with P, an edit of Q.
    edit = device_->Get(IdOf(p_))->participant();
    edit.set_phone(kUnsyncedPhone);
    ASSERT_TRUE(device_->UpdateParticipant(IdOf(p_), edit).ok());
    v1::ContactAttempt call;
    call.set_participant_id(p_.id());
    call.set_method(v1::CONTACT_METHOD_PHONE);
    call.set_result(v1::CONTACT_RESULT_REACHED);
    call.set_note(kOfflineCallText);
    Result<v1::Record> c = device_->LogContact(call);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    call_ = *c;
    v1::Participant q_edit = q_.participant();
    q_edit.set_phone(kQPhone);
    ASSERT_TRUE(device_->UpdateParticipant(IdOf(q_), q_edit).ok());

    // Pulled: a conflict about P's phone, quoting both values.
    v1::Conflict conflict;
    conflict.set_record_id(p_.id());
    conflict.set_record_type(v1::RECORD_TYPE_PARTICIPANT);
    conflict.set_field(v1::Participant::kPhoneFieldNumber);
    v1::Participant loser;
    loser.set_phone(kConflictLoser);
    conflict.set_losing_value(EncodeField(loser, loser.GetDescriptor()->FindFieldByName("phone")));
    conflict.set_losing_author("bo");
    conflict.set_winning_author("alex");
    conflict.set_status(v1::CONFLICT_STATUS_OPEN);
    conflict_id_ = Uuid::NewV7();
    v1::ChangesPage page;
    *page.add_changes() = Upsert(conflict_id_, v1::RECORD_TYPE_CONFLICT, conflict);
    page.set_next_cursor(server_seq_);
    ASSERT_TRUE(StoreOf(*device_).ApplyPulledPage(page).ok());

    // Every trace is on the device before the erasure.
    const std::string files = DeviceFilesBytes(dir_.path(), "device.db");
    for (const char* text : PTraces()) ASSERT_NE(files.find(text), std::string::npos) << text;
  }

  v1::Record Note(const v1::Record& who, v1::NoteSensitivity sensitivity, const std::string& text) {
    v1::CaseNote note;
    note.set_participant_id(who.id());
    note.set_sensitivity(sensitivity);
    note.set_text(text);
    Result<v1::Record> n = device_->AddCaseNote(note);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : v1::Record();
  }

  // Acknowledges the whole outbox: the changes of `refused` records REJECTED with
  // `reason` (a participant's with the server's current value of each field, as the
  // server sends it), every other change APPLIED.
  void Acknowledge(const std::set<std::string>& refused, const std::string& reason) {
    Result<std::vector<v1::Change>> pending = StoreOf(*device_).PendingChanges(1000);
    ASSERT_TRUE(pending.ok());
    v1::PushAck ack;
    for (const v1::Change& c : *pending) {
      v1::ChangeResult* r = ack.add_results();
      r->set_device_seq(c.device_seq());
      if (refused.count(c.record_id()) == 0) {
        r->set_outcome(v1::CHANGE_OUTCOME_APPLIED);
        continue;
      }
      r->set_outcome(v1::CHANGE_OUTCOME_REJECTED);
      r->set_reason(reason);
      if (c.type() == v1::RECORD_TYPE_PARTICIPANT) {
        for (const v1::FieldValue& fv : c.fields()) {
          v1::FieldValue* current = r->add_current();
          current->set_field(fv.field());
          current->set_value(EncodeField(
              v1::Participant(), v1::Participant::descriptor()->FindFieldByNumber(static_cast<int>(fv.field()))));
          current->set_base_version(fv.base_version());
        }
      }
    }
    ASSERT_TRUE(StoreOf(*device_).AcknowledgeChanges(ack).ok());
  }

  // The ERASE changes the server sends for P: P and every record of hers it holds.
  v1::Change Erase(const v1::Record& r) {
    v1::Change erase;
    erase.set_record_id(r.id());
    erase.set_type(r.type());
    erase.set_op(v1::CHANGE_OP_ERASE);
    erase.set_hlc(StoreOf(*device_).clock().Now().value());
    erase.set_server_seq(++server_seq_);
    erase.set_author("mo");
    return erase;
  }
  // A pulled upsert creating record `id` of `type` with every field of `body`.
  v1::Change Upsert(const Uuid& id, v1::RecordType type, const google::protobuf::Message& body) {
    v1::Change upsert;
    upsert.set_record_id(id.raw());
    upsert.set_type(type);
    upsert.set_op(v1::CHANGE_OP_UPSERT);
    upsert.set_hlc(StoreOf(*device_).clock().Now().value());
    upsert.set_server_seq(++server_seq_);
    for (const v1::FieldValue& fv : AllFields(body)) *upsert.add_fields() = fv;
    return upsert;
  }
  v1::Record ConflictRecord() { return *device_->Get(conflict_id_); }

  static std::vector<const char*> PTraces() {
    return {kPFamily,         kRestrictedText, kNormalText,      kUnsyncedPhone,
            kOfflineCallText, kRefusedPartner, kRefusedPostcode, kConflictLoser};
  }

  // Nothing of P anywhere on the device; Q's records as they were.
  void ExpectNoTraceOfP(bool local_erasure) {
    const std::string files = DeviceFilesBytes(dir_.path(), "device.db");
    for (const char* text : PTraces()) EXPECT_EQ(files.find(text), std::string::npos) << text;

    const std::set<std::string> p_records = {p_.id(),    normal_.id(),   restricted_.id(),
                                             call_.id(), referral_.id(), conflict_id_.raw()};
    for (const v1::Record* r : {&p_, &normal_, &restricted_, &call_}) {
      Result<v1::Record> held = device_->Get(IdOf(*r));
      ASSERT_TRUE(held.ok()) << held.status().ToString();
      EXPECT_TRUE(held->erased()) << held->ShortDebugString();
    }
    EXPECT_TRUE(device_->Get(IdOf(p_))->participant().family_name().empty());
    EXPECT_TRUE(device_->Get(IdOf(restricted_))->case_note().text().empty());
    EXPECT_TRUE(device_->Get(conflict_id_)->erased());
    EXPECT_TRUE(device_->Get(conflict_id_)->conflict().losing_value().empty());
    EXPECT_TRUE(device_->FindParticipants(kPFamily)->empty());
    EXPECT_TRUE(device_->OpenConflicts()->empty());

    // Nothing about P is pushed, but the manager's own ERASE.
    Result<std::vector<v1::Change>> pending = StoreOf(*device_).PendingChanges(1000);
    ASSERT_TRUE(pending.ok());
    size_t erases = 0;
    for (const v1::Change& c : *pending) {
      if (p_records.count(c.record_id()) == 0) continue;
      EXPECT_TRUE(local_erasure && c.op() == v1::CHANGE_OP_ERASE && c.record_id() == p_.id()) << c.ShortDebugString();
      ++erases;
    }
    EXPECT_EQ(erases, local_erasure ? 1u : 0u);
    // The refusals stay listed, without the server's reasons (which quoted the values).
    Result<std::vector<RejectedChange>> rejected = device_->RejectedChanges();
    ASSERT_EQ(rejected->size(), 2u);
    for (const RejectedChange& r : *rejected) {
      EXPECT_EQ(r.reason.find(kRefusedPartner), std::string::npos) << r.reason;
      EXPECT_EQ(r.reason.find(kRefusedPostcode), std::string::npos) << r.reason;
    }
    // The change log keeps what was done and when, not the values.
    for (const v1::Change& c : *StoreOf(*device_).ChangeLog()) {
      if (p_records.count(c.record_id()) == 0) continue;
      for (const v1::FieldValue& fv : c.fields()) EXPECT_TRUE(fv.value().empty()) << c.ShortDebugString();
    }

    // Q: untouched, its pending edit still queued.
    EXPECT_EQ(device_->Get(IdOf(q_))->participant().family_name(), "Keepworthy");
    EXPECT_EQ(device_->Get(IdOf(q_))->participant().phone(), kQPhone);
    EXPECT_EQ(device_->Get(IdOf(q_normal_))->case_note().text(), kQNormalText);
    EXPECT_EQ(device_->Get(IdOf(q_restricted_))->case_note().text(), kQRestrictedText);
    EXPECT_FALSE(device_->Get(IdOf(q_restricted_))->erased());
    EXPECT_EQ(device_->FindParticipants("Keepworthy")->size(), 1u);
    bool q_edit_pending = false;
    for (const v1::Change& c : *pending) q_edit_pending |= c.record_id() == q_.id();
    EXPECT_TRUE(q_edit_pending);
    EXPECT_NE(files.find(kQRestrictedText), std::string::npos);
  }

  v1::Record p_, q_, normal_, restricted_, q_normal_, q_restricted_, referral_, call_;
  Uuid conflict_id_;
  uint64_t server_seq_ = 0;
};

// The adviser's device applies the ERASE page the server sends after a manager erased P
// (P, her normal note and the conflict about her: what the server holds); everything
// else of hers on the device goes in the same transaction.
TEST_F(DeviceTracesTest, APulledErasureLeavesNoTraceOfTheParticipantInAnyFile) {
  v1::ChangesPage page;
  *page.add_changes() = Erase(p_);
  *page.add_changes() = Erase(normal_);
  *page.add_changes() = Erase(ConflictRecord());
  page.set_next_cursor(server_seq_);
  ASSERT_TRUE(StoreOf(*device_).ApplyPulledPage(page).ok());
  ExpectNoTraceOfP(/*local_erasure=*/false);
  EXPECT_EQ(*StoreOf(*device_).PullCursor(), server_seq_);
  Reopen();
  ExpectNoTraceOfP(/*local_erasure=*/false);
}

// The same through the prepared path of a bulk pull, with the page cut right after P's
// ERASE (the records the server names arrive in the next batch): the device purges
// what it holds of P at once; the next batch changes nothing more.
TEST_F(DeviceTracesTest, APreparedBatchCutAfterTheParticipantsErasePurgesEverythingOfHers) {
  v1::Session session;
  session.set_venue_id(venue_.raw());
  session.set_kind(v1::SESSION_KIND_GROUP);
  session.set_title("Job club");
  session.set_starts_at("2026-11-30T10:00");
  const Uuid session_id = Uuid::NewV7();
  v1::ChangesPage first;
  *first.add_changes() = Upsert(session_id, v1::RECORD_TYPE_SESSION, session);
  *first.add_changes() = Erase(p_);
  first.set_next_cursor(server_seq_);
  first.set_more(true);
  std::unique_ptr<client::PreparedPage> prepared = client::LocalStore::PreparePulledPage(first);
  client::PulledBatchStats stats;
  ASSERT_TRUE(StoreOf(*device_).ApplyPulledPages({&first}, {prepared.get()}, &stats).ok());
  EXPECT_EQ(stats.new_records, 1u);
  EXPECT_EQ(device_->Get(session_id)->session().title(), "Job club");
  ExpectNoTraceOfP(/*local_erasure=*/false);

  v1::ChangesPage second;
  *second.add_changes() = Erase(normal_);
  *second.add_changes() = Erase(ConflictRecord());
  second.set_next_cursor(server_seq_);
  ASSERT_TRUE(StoreOf(*device_).ApplyPulledPages({&second}, {nullptr}, nullptr).ok());
  ExpectNoTraceOfP(/*local_erasure=*/false);
}

// A manager erasing on their own device runs the same purge; only the ERASE is pushed.
TEST_F(DeviceTracesTest, ALocalErasureLeavesNoTraceAndPushesOnlyTheErase) {
  Result<v1::Record> erased = device_->EraseParticipant(IdOf(p_));
  ASSERT_TRUE(erased.ok()) << erased.status().ToString();
  ExpectNoTraceOfP(/*local_erasure=*/true);
  Reopen();
  ExpectNoTraceOfP(/*local_erasure=*/true);
}

// A power cut before the commit leaves everything as it was: the purge is in the pulled
// batch's transaction, so a batch that fails leaves P whole (and the cursor where it was).
TEST_F(DeviceTracesTest, AFailedBatchLeavesThePurgeUndone) {
  v1::ChangesPage page;
  *page.add_changes() = Erase(p_);
  v1::Change* bad = page.add_changes();  // an operation this build does not know fails the batch
  bad->set_record_id(Uuid::NewV7().raw());
  bad->set_type(v1::RECORD_TYPE_CASE_NOTE);
  bad->set_op(static_cast<v1::ChangeOp>(99));
  bad->set_hlc(StoreOf(*device_).clock().Now().value());
  bad->set_server_seq(++server_seq_);
  page.set_next_cursor(server_seq_);
  const std::string before = Dump(path_);
  EXPECT_FALSE(StoreOf(*device_).ApplyPulledPage(page).ok());
  EXPECT_EQ(Dump(path_), before);
  EXPECT_EQ(device_->Get(IdOf(restricted_))->case_note().text(), kRestrictedText);
}

TEST_F(ErasureTest, DuplicateDecisionsAreCheckedOnTheDevice) {
  v1::Record a = Register("Dan", "Okafor");
  v1::Record b = Register("Dan", "Okafor");
  // A review arrives from the server.
  v1::DuplicateReview review;
  review.set_participant_id(a.id());
  review.set_other_participant_id(b.id());
  review.set_match(v1::DUPLICATE_MATCH_NAME_AND_DATE_OF_BIRTH);
  review.set_status(v1::DUPLICATE_REVIEW_STATUS_OPEN);
  const Uuid review_id = Uuid::NewV7();
  v1::ChangesPage page;
  v1::Change* c = page.add_changes();
  c->set_record_id(review_id.raw());
  c->set_type(v1::RECORD_TYPE_DUPLICATE_REVIEW);
  c->set_op(v1::CHANGE_OP_UPSERT);
  c->set_hlc(StoreOf(*device_).clock().Now().value());
  c->set_server_seq(1);
  for (const v1::FieldValue& fv : AllFields(review)) *c->add_fields() = fv;
  page.set_next_cursor(1);
  ASSERT_TRUE(StoreOf(*device_).ApplyPulledPage(page).ok());

  // A manager decides a duplicate review.
  Result<v1::Record> adviser = device_->DecideDuplicate(review_id, v1::DUPLICATE_REVIEW_STATUS_NOT_DUPLICATE);
  ASSERT_FALSE(adviser.ok());
  EXPECT_EQ(adviser.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(adviser.status().field(), "status");
  ActAs(v1::ROLE_MANAGER, "alex");

  Result<v1::Record> stranger =
      device_->DecideDuplicate(review_id, v1::DUPLICATE_REVIEW_STATUS_MERGED, IdOf(Register("Other", "Person")));
  ASSERT_FALSE(stranger.ok());
  EXPECT_EQ(stranger.status().field(), "kept_participant_id");
  Result<v1::Record> reopen = device_->DecideDuplicate(review_id, v1::DUPLICATE_REVIEW_STATUS_OPEN);
  ASSERT_FALSE(reopen.ok());
  EXPECT_EQ(reopen.status().field(), "decision");

  Result<v1::Record> merged = device_->DecideDuplicate(review_id, v1::DUPLICATE_REVIEW_STATUS_MERGED, IdOf(a));
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(merged->duplicate_review().kept_participant_id(), a.id());
  EXPECT_EQ(merged->duplicate_review().decided_by(), "alex");
  EXPECT_FALSE(device_->DecideDuplicate(review_id, v1::DUPLICATE_REVIEW_STATUS_NOT_DUPLICATE).ok());
}

}  // namespace
}  // namespace outreach::testing
