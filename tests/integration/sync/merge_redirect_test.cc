// Offline work against a participant that a manager merged into another while the device
// was offline: the real server (TLS on loopback), devices on their own SQLite files.
// Edits of register rows the merge moved land on the kept participant's rows, records
// created linked to the merged participant are linked to the kept one on arrival, along
// merged_into chains; a row someone deliberately deleted stays deleted. Every device ends
// with the same state, and the checks of the fault suite (nothing lost or duplicated)
// hold.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/faults/fault_suite.h"

namespace outreach::testing {
namespace {

class MergeRedirectTest : public FaultSuiteTest {
 protected:
  void SetUp() override {
    StartServer();
    venue_ = AddVenue("Library");
  }

  static v1::Record MustOk(Result<v1::Record> r) {
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : v1::Record{};
  }
  static Uuid IdOf(const v1::Record& r) { return *Uuid::FromBytes(r.id()); }

  static v1::Participant Person(const std::string& given) {
    v1::Participant p;
    p.set_given_name(given);
    p.set_family_name("Okafor");
    p.set_date_of_birth("1987-07-22");
    return p;
  }

  v1::Record Session(FieldDevice& d, const std::string& starts_at) {
    v1::Session session;
    session.set_venue_id(Uuid::Parse(venue_)->raw());
    session.set_kind(v1::SESSION_KIND_GROUP);
    session.set_title("Job club");
    session.set_starts_at(starts_at);
    session.set_duration_min(60);
    return MustOk(d->CreateSession(session));
  }

  static v1::Record Mark(FieldDevice& d, const v1::Record& session, const v1::Record& who,
                         v1::AttendanceStatus status) {
    v1::Attendance a;
    a.set_session_id(session.id());
    a.set_participant_id(who.id());
    a.set_status(status);
    if (status == v1::ATTENDANCE_STATUS_DID_NOT_ATTEND) a.set_reason(v1::NON_ATTENDANCE_REASON_CARING);
    return MustOk(d->MarkAttendance(a));
  }

  // The register row of (session, participant), as every device derives its id.
  static Uuid RowOf(const v1::Record& session, const v1::Record& who) {
    return Uuid::DeriveRegisterRow("attendance", session.id(), who.id());
  }

  // The review `manager` holds for the pair (a, b).
  static Uuid ReviewOf(FieldDevice& manager, const v1::Record& a, const v1::Record& b) {
    for (const v1::Record& r : *manager->Export()) {
      if (r.type() != v1::RECORD_TYPE_DUPLICATE_REVIEW) continue;
      const auto& review = r.duplicate_review();
      if ((review.participant_id() == a.id() && review.other_participant_id() == b.id()) ||
          (review.participant_id() == b.id() && review.other_participant_id() == a.id())) {
        return IdOf(r);
      }
    }
    ADD_FAILURE() << manager.name << " holds no review of the pair";
    return Uuid();
  }

  void Merge(FieldDevice& manager, const v1::Record& kept, const v1::Record& merged) {
    MustOk(manager->DecideDuplicate(ReviewOf(manager, kept, merged), v1::DUPLICATE_REVIEW_STATUS_MERGED, IdOf(kept)));
    EXPECT_EQ(SyncUntilDone(manager).rejected, 0u);
  }

  static v1::Record Held(FieldDevice& d, const Uuid& id) {
    Result<v1::Record> r = d->Get(id);
    EXPECT_TRUE(r.ok()) << d.name << ": " << id.ToString() << ": " << r.status().ToString();
    return r.ok() ? *r : v1::Record{};
  }

  static void ExpectNoRejected(FieldDevice& d) {
    Result<std::vector<RejectedChange>> rejected = d->RejectedChanges();
    ASSERT_TRUE(rejected.ok());
    for (const RejectedChange& r : *rejected) {
      ADD_FAILURE() << d.name << " has a rejected change: " << r.reason << " (" << r.field << ")";
    }
  }

  // No live register row names `merged`.
  static void ExpectNoLiveRowOf(FieldDevice& d, const v1::Record& merged) {
    for (const v1::Record& r : *d->Export()) {
      if (r.type() == v1::RECORD_TYPE_ATTENDANCE && !r.deleted()) {
        EXPECT_NE(r.attendance().participant_id(), merged.id()) << d.name << ": a live row names the merged person";
      }
    }
  }

  // `a` and `b` hold the same records, but for record `except`. A rejected edit of a
  // deleted row stays in the body of the rejecting device's tombstone: the server sends
  // no current values for a deleted record (sync_service.cc FillCurrentValues).
  static void ExpectSameStateBut(FieldDevice& a, FieldDevice& b, const Uuid& except) {
    auto lines = [&](FieldDevice& d) {
      std::set<std::string> out;
      for (const v1::Record& r : *d->Export()) {
        if (r.type() == v1::RECORD_TYPE_INSTRUMENT || r.id() == except.raw()) continue;
        out.insert(r.ShortDebugString());
      }
      return out;
    };
    EXPECT_EQ(lines(a), lines(b)) << a.name << " and " << b.name << " hold different states";
  }

  // Ann and Bo (advisers) and Mo (a manager), with the same Dan registered twice: by Ann
  // (the one a merge keeps) and by Bo (the duplicate).
  struct Team {
    FieldDevice ann, bo, mo;
    v1::Record kept, dup;
  };
  Team AdvisersAndTwoDans() {
    Team t{NewDevice("ann"), NewDevice("bo"), NewDevice("mo", "manager"), {}, {}};
    t.kept = MustOk(t.ann->RegisterParticipant(Person("Dan")));
    t.dup = MustOk(t.bo->RegisterParticipant(Person("dan")));
    return t;
  }

  std::string venue_;
};

// Ann was offline while Mo merged Dan's duplicate (registered by Bo) into Dan. Offline,
// she changed the duplicate's mark in the first session (a row the merge moved to Dan's
// row) and, not knowing of the merge, marked the duplicate in the third session and
// logged a call, a plan and a referral for them. All of it lands on Dan's records,
// nothing is rejected, and every device ends with the same state.
TEST_F(MergeRedirectTest, OfflineWorkOnAMergedParticipantLandsOnTheKeptOne) {
  auto [ann, bo, mo, kept, dup] = AdvisersAndTwoDans();
  const v1::Record s1 = Session(ann, "2026-11-23T10:00");
  const v1::Record s3 = Session(ann, "2026-11-25T10:00");
  SyncUntilDone(ann);
  SyncUntilDone(bo);
  Mark(bo, s1, dup, v1::ATTENDANCE_STATUS_ATTENDED);  // Dan himself has no row for s1
  for (FieldDevice* d : {&bo, &ann, &mo}) SyncUntilDone(*d);

  // Offline on Ann's tablet.
  Mark(ann, s1, dup, v1::ATTENDANCE_STATUS_LEFT_EARLY);
  Mark(ann, s3, dup, v1::ATTENDANCE_STATUS_LATE);
  v1::ContactAttempt call;
  call.set_participant_id(dup.id());
  call.set_method(v1::CONTACT_METHOD_PHONE);
  call.set_result(v1::CONTACT_RESULT_REACHED);
  const v1::Record contact = MustOk(ann->LogContact(call));
  v1::ActionPlan plan;
  plan.set_participant_id(dup.id());
  plan.set_status(v1::PLAN_STATUS_DRAFT);
  plan.set_started_on(dup.participant().registered_on());  // the journey starts at registration
  const v1::Record action_plan = MustOk(ann->CreateActionPlan(plan));
  v1::Referral referral;
  referral.set_participant_id(dup.id());
  referral.set_kind(v1::REFERRAL_KIND_SIGNPOST);
  referral.set_partner_name("Food bank");
  const v1::Record referred = MustOk(ann->MakeReferral(referral));

  Merge(mo, kept, dup);
  SyncUntilDone(bo);
  const SyncReport back = SyncUntilDone(ann);
  EXPECT_EQ(back.rejected, 0u);
  EXPECT_EQ(back.conflicts, 0u);
  for (FieldDevice* d : {&bo, &mo, &ann}) SyncUntilDone(*d);

  for (FieldDevice* d : {&ann, &bo, &mo}) {
    ExpectNoRejected(*d);
    const v1::Record row1 = Held(*d, RowOf(s1, kept));
    EXPECT_FALSE(row1.deleted()) << d->name;
    EXPECT_EQ(row1.attendance().participant_id(), kept.id()) << d->name;
    EXPECT_EQ(row1.attendance().status(), v1::ATTENDANCE_STATUS_LEFT_EARLY) << d->name << ": Ann's edit is lost";
    const v1::Record row3 = Held(*d, RowOf(s3, kept));
    EXPECT_FALSE(row3.deleted()) << d->name;
    EXPECT_EQ(row3.attendance().participant_id(), kept.id()) << d->name;
    EXPECT_EQ(row3.attendance().status(), v1::ATTENDANCE_STATUS_LATE) << d->name << ": Ann's new mark is lost";
    EXPECT_TRUE(Held(*d, RowOf(s1, dup)).deleted()) << d->name;
    EXPECT_TRUE(Held(*d, RowOf(s3, dup)).deleted()) << d->name;
    EXPECT_EQ(Held(*d, IdOf(contact)).contact_attempt().participant_id(), kept.id()) << d->name;
    EXPECT_EQ(Held(*d, IdOf(action_plan)).action_plan().participant_id(), kept.id()) << d->name;
    EXPECT_EQ(Held(*d, IdOf(referred)).referral().participant_id(), kept.id()) << d->name;
    EXPECT_TRUE((*d)->OpenConflicts()->empty()) << d->name;
    ExpectNoLiveRowOf(*d, dup);
    CheckNoRecordTwice(*d);
  }
  ExpectSameState(ann, bo);
  ExpectSameState(ann, mo);
  CheckNothingLostOrDuplicated({&ann, &bo, &mo}, ann);
}

// Both people had a row for the session; the merge moved the duplicate's later mark to
// Dan's row, and Bo then changed Dan's row. Ann, offline since before the merge, changed
// the duplicate's row afterwards: her edit and Bo's are concurrent different values on
// the row the merge made one. The later (Ann's) wins and a conflict keeps Bo's value.
TEST_F(MergeRedirectTest, AConcurrentEditOfTheKeptRowIsAConflict) {
  auto [ann, bo, mo, kept, dup] = AdvisersAndTwoDans();
  const v1::Record s2 = Session(ann, "2026-11-24T10:00");
  SyncUntilDone(ann);
  SyncUntilDone(bo);
  Mark(ann, s2, kept, v1::ATTENDANCE_STATUS_DID_NOT_ATTEND);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // Bo's stamp is the later
  Mark(bo, s2, dup, v1::ATTENDANCE_STATUS_LATE);              // the later mark: the merge keeps it
  for (FieldDevice* d : {&ann, &bo, &mo, &ann}) SyncUntilDone(*d);

  Merge(mo, kept, dup);
  SyncUntilDone(bo);
  ASSERT_EQ(Held(bo, RowOf(s2, kept)).attendance().status(), v1::ATTENDANCE_STATUS_LATE);
  Mark(bo, s2, kept, v1::ATTENDANCE_STATUS_ATTENDED);
  SyncUntilDone(bo);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // Ann's stamp is the later
  Mark(ann, s2, dup, v1::ATTENDANCE_STATUS_LEFT_EARLY);       // offline: the duplicate's row

  const SyncReport back = SyncUntilDone(ann);
  EXPECT_EQ(back.rejected, 0u);
  EXPECT_EQ(back.conflicts, 1u);
  for (FieldDevice* d : {&bo, &mo, &ann}) SyncUntilDone(*d);

  for (FieldDevice* d : {&ann, &bo, &mo}) {
    ExpectNoRejected(*d);
    EXPECT_EQ(Held(*d, RowOf(s2, kept)).attendance().status(), v1::ATTENDANCE_STATUS_LEFT_EARLY) << d->name;
    EXPECT_TRUE(Held(*d, RowOf(s2, dup)).deleted()) << d->name;
    Result<std::vector<v1::Record>> open = (*d)->OpenConflicts();
    ASSERT_TRUE(open.ok());
    ASSERT_EQ(open->size(), 1u) << d->name;
    const v1::Conflict& c = open->front().conflict();
    EXPECT_EQ(c.record_id(), RowOf(s2, kept).raw()) << d->name;
    v1::Attendance losing, winning;
    ASSERT_TRUE(losing.ParseFromString(c.losing_value()));
    ASSERT_TRUE(winning.ParseFromString(c.winning_value()));
    EXPECT_EQ(losing.status(), v1::ATTENDANCE_STATUS_ATTENDED) << d->name << ": Bo's value is not kept";
    EXPECT_EQ(winning.status(), v1::ATTENDANCE_STATUS_LEFT_EARLY) << d->name;
    ExpectNoLiveRowOf(*d, dup);
    CheckNoRecordTwice(*d);
  }
  ExpectSameState(ann, bo);
  ExpectSameState(ann, mo);
  CheckNothingLostOrDuplicated({&ann, &bo, &mo}, ann);
}

// Bo deliberately deleted the duplicate's mark before the merge: the merge did not move
// it, and Ann's offline edit of it is rejected as before, not redirected.
TEST_F(MergeRedirectTest, ARowDeletedBeforeTheMergeStaysDeleted) {
  auto [ann, bo, mo, kept, dup] = AdvisersAndTwoDans();
  const v1::Record s1 = Session(ann, "2026-11-23T10:00");
  SyncUntilDone(ann);
  SyncUntilDone(bo);
  Mark(bo, s1, dup, v1::ATTENDANCE_STATUS_ATTENDED);
  for (FieldDevice* d : {&bo, &ann, &mo}) SyncUntilDone(*d);

  Mark(ann, s1, dup, v1::ATTENDANCE_STATUS_LATE);  // offline
  MustOk(bo->Delete(RowOf(s1, dup)));
  SyncUntilDone(bo);
  SyncUntilDone(mo);
  Merge(mo, kept, dup);

  const SyncReport back = SyncUntilDone(ann);
  EXPECT_EQ(back.rejected, 1u);
  Result<std::vector<RejectedChange>> rejected = ann->RejectedChanges();
  ASSERT_TRUE(rejected.ok());
  ASSERT_EQ(rejected->size(), 1u);
  EXPECT_EQ(rejected->front().field, "record_id");
  EXPECT_NE(rejected->front().reason.find("deleted"), std::string::npos) << rejected->front().reason;
  for (FieldDevice* d : {&bo, &mo, &ann}) SyncUntilDone(*d);

  for (FieldDevice* d : {&ann, &bo, &mo}) {
    EXPECT_TRUE(Held(*d, RowOf(s1, dup)).deleted()) << d->name;
    Result<v1::Record> moved = (*d)->Get(RowOf(s1, kept));
    EXPECT_FALSE(moved.ok() && !moved->deleted()) << d->name << ": the deleted mark came back on the kept person";
  }
  ExpectSameState(bo, mo);
  ExpectSameStateBut(ann, bo, RowOf(s1, dup));
  CheckNothingLostOrDuplicated({&ann, &bo, &mo}, mo);
}

// The merge moved the duplicate's mark to Dan's row and Bo then deliberately deleted
// Dan's row: Ann's offline edit of the duplicate's row does not bring it back.
TEST_F(MergeRedirectTest, AKeptRowDeletedAfterTheMergeStaysDeleted) {
  auto [ann, bo, mo, kept, dup] = AdvisersAndTwoDans();
  const v1::Record s1 = Session(ann, "2026-11-23T10:00");
  SyncUntilDone(ann);
  SyncUntilDone(bo);
  Mark(bo, s1, dup, v1::ATTENDANCE_STATUS_ATTENDED);
  for (FieldDevice* d : {&bo, &ann, &mo}) SyncUntilDone(*d);

  Mark(ann, s1, dup, v1::ATTENDANCE_STATUS_LATE);  // offline
  Merge(mo, kept, dup);
  SyncUntilDone(bo);
  MustOk(bo->Delete(RowOf(s1, kept)));
  SyncUntilDone(bo);

  const SyncReport back = SyncUntilDone(ann);
  EXPECT_EQ(back.rejected, 1u);
  Result<std::vector<RejectedChange>> rejected = ann->RejectedChanges();
  ASSERT_TRUE(rejected.ok());
  ASSERT_EQ(rejected->size(), 1u);
  EXPECT_EQ(rejected->front().field, "record_id");
  EXPECT_NE(rejected->front().reason.find("deleted"), std::string::npos) << rejected->front().reason;
  for (FieldDevice* d : {&bo, &mo, &ann}) SyncUntilDone(*d);

  for (FieldDevice* d : {&ann, &bo, &mo}) {
    EXPECT_TRUE(Held(*d, RowOf(s1, kept)).deleted()) << d->name;
    EXPECT_TRUE(Held(*d, RowOf(s1, dup)).deleted()) << d->name;
  }
  ExpectSameState(bo, mo);
  ExpectSameStateBut(ann, bo, RowOf(s1, dup));
  CheckNothingLostOrDuplicated({&ann, &bo, &mo}, mo);
}

// X was merged into Y, then Y into Z; a third decision keeping X (made from the review
// of X and Z) merges nobody, since X's chain already ends at Z: no loop forms. Ann,
// offline through all of it, edited X's mark, marked X again and logged a call for X:
// everything lands on Z, the live end of the chain.
TEST_F(MergeRedirectTest, WorkOnAParticipantMergedTwiceFollowsTheChain) {
  FieldDevice ann = NewDevice("ann");
  FieldDevice bo = NewDevice("bo");
  FieldDevice mo = NewDevice("mo", "manager");
  const v1::Record x = MustOk(ann->RegisterParticipant(Person("Dan")));
  const v1::Record z = MustOk(ann->RegisterParticipant(Person("DAN")));
  const v1::Record s1 = Session(ann, "2026-11-23T10:00");
  const v1::Record s2 = Session(ann, "2026-11-24T10:00");
  SyncUntilDone(ann);
  SyncUntilDone(bo);
  const v1::Record y = MustOk(bo->RegisterParticipant(Person("dan")));
  Mark(bo, s1, x, v1::ATTENDANCE_STATUS_ATTENDED);
  for (FieldDevice* d : {&bo, &ann, &mo}) SyncUntilDone(*d);

  // Offline on Ann's tablet.
  Mark(ann, s1, x, v1::ATTENDANCE_STATUS_LATE);
  Mark(ann, s2, x, v1::ATTENDANCE_STATUS_ATTENDED);
  v1::ContactAttempt call;
  call.set_participant_id(x.id());
  call.set_method(v1::CONTACT_METHOD_PHONE);
  call.set_result(v1::CONTACT_RESULT_NO_ANSWER);
  const v1::Record contact = MustOk(ann->LogContact(call));

  Merge(mo, y, x);
  Merge(mo, z, y);
  Merge(mo, x, z);  // X's chain ends at Z already: nothing to merge
  SyncUntilDone(bo);
  const SyncReport back = SyncUntilDone(ann);
  EXPECT_EQ(back.rejected, 0u);
  for (FieldDevice* d : {&bo, &mo, &ann}) SyncUntilDone(*d);

  for (FieldDevice* d : {&ann, &bo, &mo}) {
    ExpectNoRejected(*d);
    EXPECT_EQ(Held(*d, IdOf(x)).participant().merged_into(), y.id()) << d->name;
    EXPECT_EQ(Held(*d, IdOf(y)).participant().merged_into(), z.id()) << d->name;
    EXPECT_NE(Held(*d, IdOf(z)).participant().status(), v1::PARTICIPANT_STATUS_MERGED)
        << d->name << ": the third decision closed a loop";
    const v1::Record row1 = Held(*d, RowOf(s1, z));
    EXPECT_FALSE(row1.deleted()) << d->name;
    EXPECT_EQ(row1.attendance().status(), v1::ATTENDANCE_STATUS_LATE) << d->name;
    const v1::Record row2 = Held(*d, RowOf(s2, z));
    EXPECT_FALSE(row2.deleted()) << d->name;
    EXPECT_EQ(row2.attendance().participant_id(), z.id()) << d->name;
    EXPECT_EQ(row2.attendance().status(), v1::ATTENDANCE_STATUS_ATTENDED) << d->name;
    for (const v1::Record* gone : {&x, &y}) {
      EXPECT_TRUE(Held(*d, RowOf(s1, *gone)).deleted()) << d->name;
      ExpectNoLiveRowOf(*d, *gone);
    }
    EXPECT_EQ(Held(*d, IdOf(contact)).contact_attempt().participant_id(), z.id()) << d->name;
    CheckNoRecordTwice(*d);
  }
  ExpectSameState(ann, bo);
  ExpectSameState(ann, mo);
  CheckNothingLostOrDuplicated({&ann, &bo, &mo}, ann);
}

}  // namespace
}  // namespace outreach::testing
