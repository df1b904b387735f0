// Erasure and duplicate decisions on the device: what stays, what goes, what is refused.
#include <gtest/gtest.h>

#include "common/field_value.h"
#include "tests/unit/client/device_test.h"
#include "tests/unit/client/test_util.h"

namespace outreach::testing {
namespace {

std::string FileBytes(const std::string& path) {
  std::string all;
  for (const std::string& p : {path, path + "-wal"}) {
    FILE* f = std::fopen(p.c_str(), "rb");
    if (f == nullptr) continue;
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) all.append(buf, n);
    std::fclose(f);
  }
  return all;
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
  Result<std::vector<v1::Change>> pending = device_->store().PendingChanges(100);
  ASSERT_TRUE(pending.ok());
  ASSERT_FALSE(pending->empty());
  EXPECT_EQ(pending->back().op(), v1::CHANGE_OP_ERASE);
  EXPECT_EQ(pending->back().record_id(), p.id());
  for (const v1::Change& c : *device_->store().ChangeLog()) {
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
  const size_t pending = *device_->store().PendingCount();
  EXPECT_FALSE(device_->EraseParticipant(IdOf(p)).ok());
  EXPECT_EQ(*device_->store().PendingCount(), pending);
}

TEST_F(ErasureTest, PulledErasureRedactsWhatThisDeviceWrote) {
  v1::Record p = Register("Ilse", "Brandtwhistle");
  v1::ChangesPage page;
  v1::Change* erase = page.add_changes();
  erase->set_record_id(p.id());
  erase->set_type(v1::RECORD_TYPE_PARTICIPANT);
  erase->set_op(v1::CHANGE_OP_ERASE);
  erase->set_hlc(device_->store().clock().Now().value());
  erase->set_server_seq(1);
  page.set_next_cursor(1);
  ASSERT_TRUE(device_->store().ApplyPulledPage(page).ok());
  EXPECT_TRUE(device_->Get(IdOf(p))->erased());
  EXPECT_EQ(FileBytes(path_).find("Brandtwhistle"), std::string::npos);
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
  c->set_hlc(device_->store().clock().Now().value());
  c->set_server_seq(1);
  for (const v1::FieldValue& fv : AllFields(review)) *c->add_fields() = fv;
  page.set_next_cursor(1);
  ASSERT_TRUE(device_->store().ApplyPulledPage(page).ok());

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
