// Reconciliation through SyncService::Push on a real SQLite store: every merge policy,
// conflict records and their resolution, convergence of two devices, duplicate
// participants and their merge, second outcome claims, and erasure.
#include <algorithm>

#include "tests/unit/server/server_fixture.h"

namespace outreach::server::testing {
namespace {

v1::Participant Person(const std::string& given, const std::string& family, const std::string& dob = "1990-01-02") {
  v1::Participant p;
  p.set_given_name(given);
  p.set_family_name(family);
  p.set_date_of_birth(dob);
  p.set_status(v1::PARTICIPANT_STATUS_ACTIVE);
  return p;
}

// What a device holds after applying `log` in order: record id -> Record.
std::map<std::string, v1::Record> Replay(const std::vector<v1::Change>& log) {
  std::map<std::string, v1::Record> state;
  for (const auto& c : log) {
    v1::Record& r = state[c.record_id()];
    r.set_id(c.record_id());
    r.set_type(c.type());
    auto* body = MutableRecordBody(&r);
    if (c.op() == v1::CHANGE_OP_ERASE) {
      body->Clear();
      r.set_erased(true);
      continue;
    }
    if (c.op() == v1::CHANGE_OP_DELETE) r.set_deleted(true);
    for (const auto& f : c.fields()) EXPECT_TRUE(ApplyField(body, f.field(), f.value()).ok());
  }
  return state;
}

class ReconcileTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    a_ = Enrol(v1::ROLE_ADVISER, "Asha");
    b_ = Enrol(v1::ROLE_ADVISER, "Ben");
    manager_ = Enrol(v1::ROLE_MANAGER, "Morag");
  }

  Uuid Create(TestDevice& d, v1::RecordType type, const google::protobuf::Message& body) {
    const Uuid id = Uuid::NewV7();
    v1::ChangeResult r = PushOne(d, Upsert(d, id, type, body));
    EXPECT_EQ(r.outcome(), v1::CHANGE_OUTCOME_APPLIED) << r.reason();
    return id;
  }

  std::vector<v1::Conflict> Conflicts() {
    std::vector<v1::Conflict> out;
    for (const auto& r : OfType(v1::RECORD_TYPE_CONFLICT)) out.push_back(r.record.conflict());
    return out;
  }

  TestDevice a_, b_, manager_;
};

// ---------------------------------------------------------------- last writer wins

TEST_F(ReconcileTest, SequentialEditFromTheCurrentVersionApplies) {
  const Uuid p = Create(a_, v1::RECORD_TYPE_PARTICIPANT, Person("Sam", "Jones"));
  v1::Participant edit;
  edit.set_phone("+441134960123");
  const uint32_t phone = FieldNumber(v1::Participant::descriptor(), "phone");
  EXPECT_EQ(PushOne(b_, Upsert(b_, p, v1::RECORD_TYPE_PARTICIPANT, edit, {{phone, 0}})).outcome(),
            v1::CHANGE_OUTCOME_APPLIED);
  edit.set_phone("+441134960456");
  EXPECT_EQ(PushOne(a_, Upsert(a_, p, v1::RECORD_TYPE_PARTICIPANT, edit, {{phone, VersionOf(p, phone)}})).outcome(),
            v1::CHANGE_OUTCOME_APPLIED);
  EXPECT_EQ(Get(p)->record.participant().phone(), "+441134960456");
  EXPECT_TRUE(Conflicts().empty());
}

TEST_F(ReconcileTest, ConcurrentEditsConflictTheLaterWinsAndBothDevicesConverge) {
  const Uuid p = Create(a_, v1::RECORD_TYPE_PARTICIPANT, Person("Sam", "Jones"));
  const uint32_t phone = FieldNumber(v1::Participant::descriptor(), "phone");
  v1::Participant with_phone;
  with_phone.set_phone("+441134960000");
  ASSERT_EQ(PushOne(a_, Upsert(a_, p, v1::RECORD_TYPE_PARTICIPANT, with_phone)).outcome(), v1::CHANGE_OUTCOME_APPLIED);
  const uint64_t base = VersionOf(p, phone);

  // Both edit offline from the same base; Ben's stamp is later but he pushes first.
  v1::Participant asha_edit, ben_edit;
  asha_edit.set_phone("+441134960111");
  ben_edit.set_phone("+441134960222");
  v1::Change asha_change = Upsert(a_, p, v1::RECORD_TYPE_PARTICIPANT, asha_edit, {{phone, base}});
  v1::Change ben_change = Upsert(b_, p, v1::RECORD_TYPE_PARTICIPANT, ben_edit, {{phone, base}});
  EXPECT_EQ(PushOne(b_, ben_change).outcome(), v1::CHANGE_OUTCOME_APPLIED);
  EXPECT_EQ(PushOne(a_, asha_change).outcome(), v1::CHANGE_OUTCOME_CONFLICT);
  EXPECT_EQ(Get(p)->record.participant().phone(), "+441134960222");

  const auto conflicts = Conflicts();
  ASSERT_EQ(conflicts.size(), 1u);
  const v1::Conflict& c = conflicts[0];
  EXPECT_EQ(c.record_id(), p.raw());
  EXPECT_EQ(c.field(), phone);
  EXPECT_EQ(c.field_name(), "phone");
  EXPECT_EQ(c.winning_author(), "Ben");
  EXPECT_EQ(c.losing_author(), "Asha");
  EXPECT_EQ(c.winning_hlc(), ben_change.hlc());
  EXPECT_EQ(c.losing_hlc(), asha_change.hlc());
  EXPECT_EQ(c.status(), v1::CONFLICT_STATUS_OPEN);
  v1::Participant loser;
  ASSERT_TRUE(loser.ParseFromString(c.losing_value()));
  EXPECT_EQ(loser.phone(), "+441134960111");

  // Both devices pull the hub log and hold the same records, conflict included.
  const auto state_a = Replay(PullAll(a_));
  const auto state_b = Replay(PullAll(b_));
  ASSERT_EQ(state_a.size(), state_b.size());
  for (const auto& [id, rec] : state_a) {
    ASSERT_TRUE(state_b.count(id));
    EXPECT_EQ(rec.SerializeAsString(), state_b.at(id).SerializeAsString());
  }
  EXPECT_EQ(state_a.at(p.raw()).participant().phone(), "+441134960222");
  EXPECT_EQ(state_a.at(p.raw()).participant().SerializeAsString(), Get(p)->record.participant().SerializeAsString());
  EXPECT_EQ(std::count_if(state_a.begin(), state_a.end(),
                          [](const auto& kv) { return kv.second.type() == v1::RECORD_TYPE_CONFLICT; }),
            1);
}

TEST_F(ReconcileTest, AnEarlierConcurrentEditLosesButIsKept) {
  const Uuid p = Create(a_, v1::RECORD_TYPE_PARTICIPANT, Person("Sam", "Jones"));
  const uint32_t postcode = FieldNumber(v1::Participant::descriptor(), "postcode");
  v1::Participant asha_edit, ben_edit;
  asha_edit.set_postcode("NG1 1AA");
  ben_edit.set_postcode("NG2 2BB");
  v1::Change asha_change = Upsert(a_, p, v1::RECORD_TYPE_PARTICIPANT, asha_edit);
  v1::Change ben_change = Upsert(b_, p, v1::RECORD_TYPE_PARTICIPANT, ben_edit);  // later stamp
  EXPECT_EQ(PushOne(b_, ben_change).outcome(), v1::CHANGE_OUTCOME_APPLIED);
  // Asha's stamp is earlier and she did not see Ben's value: she loses, her value is kept.
  const size_t log_before = Log(hub_).size();
  EXPECT_EQ(PushOne(a_, asha_change).outcome(), v1::CHANGE_OUTCOME_CONFLICT);
  EXPECT_EQ(Get(p)->record.participant().postcode(), "NG2 2BB");
  EXPECT_EQ(VersionOf(p, postcode), ben_change.hlc());
  ASSERT_EQ(Conflicts().size(), 1u);
  EXPECT_EQ(Conflicts()[0].losing_author(), "Asha");
  // Only the conflict record was logged, not Asha's losing value on the participant.
  EXPECT_EQ(Log(hub_).size(), log_before + 1);
}

TEST_F(ReconcileTest, IdenticalConcurrentValuesAreNotAConflict) {
  const Uuid p = Create(a_, v1::RECORD_TYPE_PARTICIPANT, Person("Sam", "Jones"));
  v1::Participant edit;
  edit.set_postcode("NG1 1AA");
  EXPECT_EQ(PushOne(a_, Upsert(a_, p, v1::RECORD_TYPE_PARTICIPANT, edit)).outcome(), v1::CHANGE_OUTCOME_APPLIED);
  EXPECT_EQ(PushOne(b_, Upsert(b_, p, v1::RECORD_TYPE_PARTICIPANT, edit)).outcome(), v1::CHANGE_OUTCOME_APPLIED);
  EXPECT_TRUE(Conflicts().empty());
}

TEST_F(ReconcileTest, CreateOfAnExistingIdMergesFieldByField) {
  const Uuid p = Uuid::NewV7();
  v1::Participant first = Person("Sam", "Jones");
  v1::Participant second = Person("Samuel", "Jones");
  EXPECT_EQ(PushOne(a_, Upsert(a_, p, v1::RECORD_TYPE_PARTICIPANT, first)).outcome(), v1::CHANGE_OUTCOME_APPLIED);
  EXPECT_EQ(PushOne(b_, Upsert(b_, p, v1::RECORD_TYPE_PARTICIPANT, second)).outcome(), v1::CHANGE_OUTCOME_CONFLICT);
  EXPECT_EQ(Get(p)->record.participant().given_name(), "Samuel");
  ASSERT_EQ(Conflicts().size(), 1u);
  EXPECT_EQ(Conflicts()[0].field_name(), "given_name");
}

// ---------------------------------------------------------------- conflict resolution

TEST_F(ReconcileTest, TakingTheLoserIsASyncedChangeFromADeviceOrTheServer) {
  const Uuid p = Create(a_, v1::RECORD_TYPE_PARTICIPANT, Person("Sam", "Jones"));
  v1::Participant asha_edit, ben_edit;
  asha_edit.set_phone("+441134960111");
  ben_edit.set_phone("+441134960222");
  v1::Change asha_change = Upsert(a_, p, v1::RECORD_TYPE_PARTICIPANT, asha_edit);
  PushOne(b_, Upsert(b_, p, v1::RECORD_TYPE_PARTICIPANT, ben_edit));
  PushOne(a_, asha_change);
  auto listed = admin_->ListConflicts(hub_);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  const Uuid conflict_id = (*listed)[0].conflict_id;

  // A device resolves it: take the loser.
  v1::Conflict resolution;
  resolution.set_status(v1::CONFLICT_STATUS_TOOK_LOSER);
  resolution.set_resolved_by("Asha");
  const uint32_t status = FieldNumber(v1::Conflict::descriptor(), "status");
  v1::ChangeResult r = PushOne(
      a_, Upsert(a_, conflict_id, v1::RECORD_TYPE_CONFLICT, resolution, {{status, VersionOf(conflict_id, status)}}));
  EXPECT_EQ(r.outcome(), v1::CHANGE_OUTCOME_APPLIED) << r.reason();
  EXPECT_EQ(Get(p)->record.participant().phone(), "+441134960111");
  EXPECT_TRUE(admin_->ListConflicts(hub_)->empty());
  ASSERT_EQ(admin_->ListConflicts(hub_, true)->size(), 1u);
  // A third device sees the resolution and the new value.
  TestDevice third = Enrol(v1::ROLE_ADVISER, "Cal");
  const auto state = Replay(PullAll(third));
  EXPECT_EQ(state.at(p.raw()).participant().phone(), "+441134960111");
  EXPECT_EQ(state.at(conflict_id.raw()).conflict().status(), v1::CONFLICT_STATUS_TOOK_LOSER);

  // Resolving again is refused (in Ben's own name: who resolves is the device's person).
  resolution.set_status(v1::CONFLICT_STATUS_KEPT_WINNER);
  resolution.set_resolved_by("Ben");
  v1::ChangeResult again = PushOne(b_, Upsert(b_, conflict_id, v1::RECORD_TYPE_CONFLICT, resolution));
  EXPECT_EQ(again.outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_EQ(again.field(), "status");
  EXPECT_EQ(admin_->ResolveConflict(hub_, conflict_id, v1::CONFLICT_STATUS_KEPT_WINNER, "Morag").code(),
            ErrorCode::kFailedPrecondition);
  // Devices cannot delete conflicts, nor invent them.
  v1::ChangeResult del = PushOne(b_, Op(b_, conflict_id, v1::RECORD_TYPE_CONFLICT, v1::CHANGE_OP_DELETE));
  EXPECT_EQ(del.outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_EQ(del.field(), "op");
  EXPECT_FALSE(Get(conflict_id)->record.deleted());
  EXPECT_EQ(PushOne(a_, Upsert(a_, Uuid::NewV7(), v1::RECORD_TYPE_CONFLICT, resolution)).outcome(),
            v1::CHANGE_OUTCOME_REJECTED);
}

TEST_F(ReconcileTest, AdministrationResolvesConflicts) {
  const Uuid p = Create(a_, v1::RECORD_TYPE_PARTICIPANT, Person("Sam", "Jones"));
  v1::Participant asha_edit, ben_edit;
  asha_edit.set_email("a@example.org");
  ben_edit.set_email("b@example.org");
  v1::Change asha_change = Upsert(a_, p, v1::RECORD_TYPE_PARTICIPANT, asha_edit);
  PushOne(b_, Upsert(b_, p, v1::RECORD_TYPE_PARTICIPANT, ben_edit));
  PushOne(a_, asha_change);
  const Uuid conflict_id = (*admin_->ListConflicts(hub_))[0].conflict_id;
  ASSERT_TRUE(admin_->ResolveConflict(hub_, conflict_id, v1::CONFLICT_STATUS_TOOK_LOSER, "Morag").ok());
  EXPECT_EQ(Get(p)->record.participant().email(), "a@example.org");
  EXPECT_EQ(Get(conflict_id)->record.conflict().resolved_by(), "Morag");
  const auto log = Log(hub_);
  EXPECT_EQ(log.back().author(), "server");
  EXPECT_EQ(log.back().record_id(), p.raw());
  const auto state = Replay(PullAll(b_));
  EXPECT_EQ(state.at(p.raw()).participant().email(), "a@example.org");
}

// ---------------------------------------------------------------- append-only

TEST_F(ReconcileTest, AppendOnlyRecordsAreImmutable) {
  const Uuid p = Create(a_, v1::RECORD_TYPE_PARTICIPANT, Person("Sam", "Jones"));
  v1::CaseNote note = NoteOn(p, v1::NOTE_SENSITIVITY_NORMAL, "Met at the library");
  const Uuid n = Uuid::NewV7();
  v1::Change create = Upsert(a_, n, v1::RECORD_TYPE_CASE_NOTE, note);
  EXPECT_EQ(PushOne(a_, create).outcome(), v1::CHANGE_OUTCOME_APPLIED);
  // Re-created with identical content (new device sequence): fine, nothing logged.
  const size_t log_size = Log(hub_).size();
  EXPECT_EQ(PushOne(a_, Upsert(a_, n, v1::RECORD_TYPE_CASE_NOTE, note)).outcome(), v1::CHANGE_OUTCOME_APPLIED);
  EXPECT_EQ(Log(hub_).size(), log_size);

  note.set_text("Met at the jobcentre");
  v1::ChangeResult edit = PushOne(b_, Upsert(b_, n, v1::RECORD_TYPE_CASE_NOTE, note));
  EXPECT_EQ(edit.outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_EQ(edit.reason(), "case notes are append-only; write a new note that supersedes");
  v1::ChangeResult del = PushOne(b_, Op(b_, n, v1::RECORD_TYPE_CASE_NOTE, v1::CHANGE_OP_DELETE));
  EXPECT_EQ(del.outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_EQ(Get(n)->record.case_note().text(), "Met at the library");
  EXPECT_FALSE(Get(n)->record.deleted());
}

// ---------------------------------------------------------------- state machines

TEST_F(ReconcileTest, StateMachinesAcceptOnlyLegalTransitionsFromTheServersState) {
  const Uuid p = Create(a_, v1::RECORD_TYPE_PARTICIPANT, Person("Sam", "Jones"));
  v1::Referral referral = SignpostOf(p);
  referral.set_summary("Debt advice");
  referral.set_status(v1::REFERRAL_STATUS_ACCEPTED);
  const Uuid r = Uuid::NewV7();
  v1::ChangeResult bad_start = PushOne(a_, Upsert(a_, r, v1::RECORD_TYPE_REFERRAL, referral));
  EXPECT_EQ(bad_start.outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_EQ(bad_start.field(), "status");
  EXPECT_FALSE(Get(r).has_value());

  referral.set_status(v1::REFERRAL_STATUS_MADE);
  ASSERT_EQ(PushOne(a_, Upsert(a_, r, v1::RECORD_TYPE_REFERRAL, referral)).outcome(), v1::CHANGE_OUTCOME_APPLIED);
  v1::Referral to_completed;
  to_completed.set_status(v1::REFERRAL_STATUS_COMPLETED);
  v1::ChangeResult skip = PushOne(b_, Upsert(b_, r, v1::RECORD_TYPE_REFERRAL, to_completed));
  EXPECT_EQ(skip.outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_EQ(skip.reason(),
            "a referral cannot move from made to completed: from made it moves to accepted, rejected or withdrawn "
            "(adviser, health worker, coordinator, manager)");
  EXPECT_EQ(skip.field(), "status");

  // Two devices move it concurrently: the first legal move wins, the second is illegal
  // from the state the server now holds.
  v1::Referral accept, reject;
  accept.set_status(v1::REFERRAL_STATUS_ACCEPTED);
  reject.set_status(v1::REFERRAL_STATUS_REJECTED);
  reject.set_rejection_reason("not eligible");
  EXPECT_EQ(PushOne(a_, Upsert(a_, r, v1::RECORD_TYPE_REFERRAL, accept)).outcome(), v1::CHANGE_OUTCOME_APPLIED);
  v1::ChangeResult late = PushOne(b_, Upsert(b_, r, v1::RECORD_TYPE_REFERRAL, reject));
  EXPECT_EQ(late.outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_EQ(late.reason(),
            "a referral cannot move from accepted to rejected: from accepted it moves to first_appointment or "
            "withdrawn (adviser, health worker, coordinator, manager)");
  EXPECT_EQ(Get(r)->record.referral().status(), v1::REFERRAL_STATUS_ACCEPTED);
  EXPECT_TRUE(Get(r)->record.referral().rejection_reason().empty()) << "a rejected change changes nothing";
}

// ---------------------------------------------------------------- keyed register

TEST_F(ReconcileTest, AttendanceIsKeyedAndAnAdvisersMarkOutranksAKiosks) {
  TestDevice kiosk = Enrol(v1::ROLE_KIOSK, "Centre kiosk", centre_);
  const Uuid session = Create(a_, v1::RECORD_TYPE_SESSION, SessionAt(centre_));
  const Uuid p = Create(a_, v1::RECORD_TYPE_PARTICIPANT, Person("Sam", "Jones"));
  const Uuid row = Uuid::DeriveRegisterRow("attendance", session.raw(), p.raw());
  auto mark = [&](v1::AttendanceStatus status, v1::MarkedBy by) { return MarkOf(session, p, status, by); };

  v1::ChangeResult wrong_id = PushOne(a_, Upsert(a_, Uuid::NewV7(), v1::RECORD_TYPE_ATTENDANCE,
                                                 mark(v1::ATTENDANCE_STATUS_ATTENDED, v1::MARKED_BY_ADVISER)));
  EXPECT_EQ(wrong_id.outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_EQ(wrong_id.field(), "record_id");

  // The adviser marks Sam late; later the kiosk (a later stamp) marks him present.
  ASSERT_EQ(
      PushOne(a_, Upsert(a_, row, v1::RECORD_TYPE_ATTENDANCE, mark(v1::ATTENDANCE_STATUS_LATE, v1::MARKED_BY_ADVISER)))
          .outcome(),
      v1::CHANGE_OUTCOME_APPLIED);
  const uint32_t status = FieldNumber(v1::Attendance::descriptor(), "status");
  const uint32_t by = FieldNumber(v1::Attendance::descriptor(), "marked_by");
  v1::ChangeResult k = PushOne(
      kiosk, Upsert(kiosk, row, v1::RECORD_TYPE_ATTENDANCE, mark(v1::ATTENDANCE_STATUS_ATTENDED, v1::MARKED_BY_KIOSK),
                    {{status, VersionOf(row, status)}, {by, VersionOf(row, by)}}));
  EXPECT_EQ(k.outcome(), v1::CHANGE_OUTCOME_CONFLICT);
  EXPECT_EQ(Get(row)->record.attendance().status(), v1::ATTENDANCE_STATUS_LATE);
  EXPECT_EQ(Get(row)->record.attendance().marked_by(), v1::MARKED_BY_ADVISER);
  bool kept = false;
  for (const auto& c : Conflicts()) {
    v1::Attendance losing;
    losing.ParseFromString(c.losing_value());
    if (c.record_id() == row.raw() && c.field() == status && losing.status() == v1::ATTENDANCE_STATUS_ATTENDED) {
      kept = true;
      EXPECT_EQ(c.losing_author(), "Centre kiosk");
      EXPECT_EQ(c.winning_author(), "Asha");
    }
  }
  EXPECT_TRUE(kept) << "the kiosk's mark was dropped instead of kept as a conflict";
}

TEST_F(ReconcileTest, AnAdvisersConcurrentMarkBeatsAnEarlierKioskMarkRegardlessOfTime) {
  TestDevice kiosk = Enrol(v1::ROLE_KIOSK, "Centre kiosk", centre_);
  const Uuid session = Create(a_, v1::RECORD_TYPE_SESSION, SessionAt(centre_));
  v1::Participant sam = Person("Sam", "Jones");
  sam.set_venue_id(centre_.raw());  // registered at the centre: its kiosk may sign Sam in
  const Uuid p = Create(a_, v1::RECORD_TYPE_PARTICIPANT, sam);
  const Uuid row = Uuid::DeriveRegisterRow("attendance", session.raw(), p.raw());
  const v1::Attendance adviser_mark = MarkOf(session, p, v1::ATTENDANCE_STATUS_DID_NOT_ATTEND, v1::MARKED_BY_ADVISER);
  const v1::Attendance kiosk_mark = MarkOf(session, p, v1::ATTENDANCE_STATUS_ATTENDED, v1::MARKED_BY_KIOSK);
  // The adviser's mark is stamped first (offline), the kiosk's later, and the kiosk syncs first.
  v1::Change adviser_change = Upsert(a_, row, v1::RECORD_TYPE_ATTENDANCE, adviser_mark);
  v1::Change kiosk_change = Upsert(kiosk, row, v1::RECORD_TYPE_ATTENDANCE, kiosk_mark);
  ASSERT_EQ(PushOne(kiosk, kiosk_change).outcome(), v1::CHANGE_OUTCOME_APPLIED);
  EXPECT_EQ(PushOne(a_, adviser_change).outcome(), v1::CHANGE_OUTCOME_CONFLICT);
  EXPECT_EQ(Get(row)->record.attendance().status(), v1::ATTENDANCE_STATUS_DID_NOT_ATTEND);
  EXPECT_EQ(Get(row)->record.attendance().marked_by(), v1::MARKED_BY_ADVISER);
}

// ---------------------------------------------------------------- outcome claims

TEST_F(ReconcileTest, ASecondClaimOfTheSameOutcomeKindIsAConflict) {
  const Uuid p = Create(a_, v1::RECORD_TYPE_PARTICIPANT, Person("Sam", "Jones"));
  v1::Outcome o = OutcomeOf(p, v1::OUTCOME_KIND_JOB_START, "Acme");
  o.set_reported_by("Asha");
  Create(a_, v1::RECORD_TYPE_OUTCOME, o);
  const Uuid second = Uuid::NewV7();
  o.set_employer("Acme Ltd");
  o.set_reported_by("Ben");
  EXPECT_EQ(PushOne(b_, Upsert(b_, second, v1::RECORD_TYPE_OUTCOME, o)).outcome(), v1::CHANGE_OUTCOME_CONFLICT);
  EXPECT_TRUE(Get(second).has_value()) << "the second claim is stored for review";
  ASSERT_EQ(Conflicts().size(), 1u);
  EXPECT_EQ(Conflicts()[0].record_id(), second.raw());
  EXPECT_EQ(Conflicts()[0].winning_author(), "Asha");
  EXPECT_EQ(Conflicts()[0].losing_author(), "Ben");
  // Another kind is a separate claim.
  v1::Outcome other = o;
  other.set_kind(v1::OUTCOME_KIND_QUALIFICATION);
  EXPECT_EQ(PushOne(b_, Upsert(b_, Uuid::NewV7(), v1::RECORD_TYPE_OUTCOME, other)).outcome(),
            v1::CHANGE_OUTCOME_APPLIED);
}

// ---------------------------------------------------------------- duplicates

TEST_F(ReconcileTest, LikelyDuplicatesBecomeOneReviewAndAMergeRedirectsEverything) {
  const Uuid first = Create(a_, v1::RECORD_TYPE_PARTICIPANT, Person("Sam", "O'Neill", "1988-03-04"));
  EXPECT_TRUE(OfType(v1::RECORD_TYPE_DUPLICATE_REVIEW).empty());
  const Uuid second = Create(b_, v1::RECORD_TYPE_PARTICIPANT, Person(" sam", "ONEILL ", "1988-03-04"));
  auto reviews = OfType(v1::RECORD_TYPE_DUPLICATE_REVIEW);
  ASSERT_EQ(reviews.size(), 1u);
  const v1::DuplicateReview& review = reviews[0].record.duplicate_review();
  EXPECT_EQ(review.participant_id(), first.raw());
  EXPECT_EQ(review.other_participant_id(), second.raw());
  EXPECT_EQ(review.match(), v1::DUPLICATE_MATCH_NAME_AND_DATE_OF_BIRTH);
  EXPECT_EQ(review.status(), v1::DUPLICATE_REVIEW_STATUS_OPEN);

  // Editing either again does not open a second review for the pair.
  v1::Participant edit;
  edit.set_phone("+441164960000");
  PushOne(b_, Upsert(b_, second, v1::RECORD_TYPE_PARTICIPANT, edit));
  EXPECT_EQ(OfType(v1::RECORD_TYPE_DUPLICATE_REVIEW).size(), 1u);

  // Linked records of the second registration.
  const Uuid session = Create(b_, v1::RECORD_TYPE_SESSION, SessionAt(centre_));
  const Uuid booking_id = Create(b_, v1::RECORD_TYPE_BOOKING, BookingOf(session, second));
  const Uuid note_id =
      Create(b_, v1::RECORD_TYPE_CASE_NOTE, NoteOn(second, v1::NOTE_SENSITIVITY_NORMAL, "first meeting"));

  const Uuid review_id = Uuid::FromBytes(reviews[0].record.id()).value();
  v1::DuplicateReview decision;
  decision.set_status(v1::DUPLICATE_REVIEW_STATUS_MERGED);
  decision.set_kept_participant_id(first.raw());
  decision.set_decided_by("Asha");
  v1::ChangeResult not_allowed = PushOne(a_, Upsert(a_, review_id, v1::RECORD_TYPE_DUPLICATE_REVIEW, decision));
  EXPECT_EQ(not_allowed.outcome(), v1::CHANGE_OUTCOME_REJECTED);

  decision.set_decided_by("Morag");
  v1::DuplicateReview bad = decision;
  bad.set_kept_participant_id(Uuid::NewV7().raw());
  v1::ChangeResult wrong_kept = PushOne(manager_, Upsert(manager_, review_id, v1::RECORD_TYPE_DUPLICATE_REVIEW, bad));
  EXPECT_EQ(wrong_kept.outcome(), v1::CHANGE_OUTCOME_REJECTED);
  EXPECT_EQ(wrong_kept.field(), "kept_participant_id");

  v1::ChangeResult merged = PushOne(manager_, Upsert(manager_, review_id, v1::RECORD_TYPE_DUPLICATE_REVIEW, decision));
  ASSERT_EQ(merged.outcome(), v1::CHANGE_OUTCOME_APPLIED) << merged.reason();
  EXPECT_EQ(Get(booking_id)->record.booking().participant_id(), first.raw());
  EXPECT_EQ(Get(note_id)->record.case_note().participant_id(), first.raw());
  EXPECT_EQ(Get(second)->record.participant().status(), v1::PARTICIPANT_STATUS_MERGED);
  EXPECT_EQ(Get(second)->record.participant().merged_into(), first.raw());

  // Every device receives the redirects.
  const auto state = Replay(PullAll(a_));
  EXPECT_EQ(state.at(booking_id.raw()).booking().participant_id(), first.raw());
  EXPECT_EQ(state.at(note_id.raw()).case_note().participant_id(), first.raw());
  EXPECT_EQ(state.at(second.raw()).participant().status(), v1::PARTICIPANT_STATUS_MERGED);
  EXPECT_EQ(state.at(review_id.raw()).duplicate_review().status(), v1::DUPLICATE_REVIEW_STATUS_MERGED);
}

TEST_F(ReconcileTest, SameNationalInsuranceNumberIsALikelyDuplicate) {
  v1::Participant one = Person("Alex", "Smith", "1970-01-01");
  one.set_ni_number("AB123456C");
  v1::Participant two = Person("Alexander", "Smyth", "1971-01-01");
  two.set_ni_number("AB123456C");
  Create(a_, v1::RECORD_TYPE_PARTICIPANT, one);
  Create(b_, v1::RECORD_TYPE_PARTICIPANT, two);
  auto reviews = OfType(v1::RECORD_TYPE_DUPLICATE_REVIEW);
  ASSERT_EQ(reviews.size(), 1u);
  EXPECT_EQ(reviews[0].record.duplicate_review().match(), v1::DUPLICATE_MATCH_NI_NUMBER);
  // Different people are not flagged.
  Create(a_, v1::RECORD_TYPE_PARTICIPANT, Person("Alex", "Smith", "1999-09-09"));
  EXPECT_EQ(OfType(v1::RECORD_TYPE_DUPLICATE_REVIEW).size(), 1u);
}

// ---------------------------------------------------------------- erasure

TEST_F(ReconcileTest, ErasurePurgesPersonalDataEverywhereOnTheServerAndReachesDevices) {
  const std::string name = "Zebedee";
  const std::string family = "Quarternion";
  v1::Participant person = Person(name, family, "1975-05-05");
  person.set_phone("+441134960654");
  const Uuid p = Create(a_, v1::RECORD_TYPE_PARTICIPANT, person);
  const Uuid note_id =
      Create(a_, v1::RECORD_TYPE_CASE_NOTE, NoteOn(p, v1::NOTE_SENSITIVITY_NORMAL, "Zebedee wants warehouse work"));
  // A conflict about the participant's phone keeps both values.
  v1::Participant x, y;
  x.set_phone("+441134960657");
  y.set_phone("+441134960658");
  v1::Change ax = Upsert(a_, p, v1::RECORD_TYPE_PARTICIPANT, x);
  PushOne(b_, Upsert(b_, p, v1::RECORD_TYPE_PARTICIPANT, y));
  ASSERT_EQ(PushOne(a_, ax).outcome(), v1::CHANGE_OUTCOME_CONFLICT);
  const std::vector<v1::Change> before_erasure = PullAll(b_);
  const uint64_t cursor = before_erasure.back().server_seq();
  ASSERT_NE(FileBytes().find(name), std::string::npos) << "the test's name never reached the file";

  v1::ChangeResult erased = PushOne(manager_, Op(manager_, p, v1::RECORD_TYPE_PARTICIPANT, v1::CHANGE_OP_ERASE));
  ASSERT_EQ(erased.outcome(), v1::CHANGE_OUTCOME_APPLIED) << erased.reason();

  auto rec = Get(p);
  ASSERT_TRUE(rec.has_value());
  EXPECT_TRUE(rec->record.erased());
  EXPECT_TRUE(rec->record.participant().given_name().empty());
  EXPECT_TRUE(rec->record.participant().phone().empty());
  EXPECT_TRUE(Get(note_id)->record.erased());
  EXPECT_TRUE(Get(note_id)->record.case_note().text().empty());
  EXPECT_EQ(Get(note_id)->record.case_note().participant_id(), p.raw()) << "ids are kept";
  for (const auto& c : Conflicts()) EXPECT_TRUE(c.losing_value().empty() && c.winning_value().empty());
  // The audit trail keeps who and when, not what.
  Status st = service_->store().Transact([&](StoreTxn& txn) -> Status {
    auto audit = txn.ListAudit(p);
    EXPECT_FALSE(audit->empty());
    for (const auto& row : *audit) {
      EXPECT_TRUE(row.old_value.empty() && row.new_value.empty());
      EXPECT_FALSE(row.author.empty());
      EXPECT_GT(row.at_ms, 0);
    }
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok());

  // Devices receive ERASE for the participant and the linked records at their next sync.
  std::set<std::string> erased_ids;
  for (const auto& c : PullAll(b_, cursor)) {
    if (c.op() == v1::CHANGE_OP_ERASE) erased_ids.insert(c.record_id());
  }
  EXPECT_TRUE(erased_ids.count(p.raw()));
  EXPECT_TRUE(erased_ids.count(note_id.raw()));
  // The log no longer holds the values anywhere, for a device starting from scratch too.
  TestDevice fresh = Enrol(v1::ROLE_ADVISER, "New adviser");
  for (const auto& c : PullAll(fresh)) {
    for (const auto& f : c.fields()) EXPECT_EQ(f.value().find(name), std::string::npos);
  }
  // Later writes to the erased record are refused.
  EXPECT_EQ(PushOne(a_, Upsert(a_, p, v1::RECORD_TYPE_PARTICIPANT, person)).outcome(), v1::CHANGE_OUTCOME_REJECTED);

  // No trace of the name in the store's files, open or closed.
  EXPECT_EQ(FileBytes().find(name), std::string::npos);
  EXPECT_EQ(FileBytes().find(family), std::string::npos);
  Reopen();
  admin_.reset();
  service_.reset();
  EXPECT_EQ(FileBytes().find(name), std::string::npos);
  // Nor of the phone numbers: the registered one and both values of the conflict.
  for (const char* number : {"1134960654", "1134960657", "1134960658"}) {
    EXPECT_EQ(FileBytes().find(number), std::string::npos) << number;
  }
  Open();
}

}  // namespace
}  // namespace outreach::server::testing
