#include "common/record_registry.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace outreach {
namespace {

TEST(RecordRegistryTest, EveryRecordOneofFieldIsRegisteredWithMatchingNumber) {
  const auto* oneof = v1::Record::descriptor()->FindOneofByName("body");
  ASSERT_NE(oneof, nullptr);
  for (int i = 0; i < oneof->field_count(); ++i) {
    const auto* f = oneof->field(i);
    const RecordTypeInfo* info = FindRecordType(static_cast<v1::RecordType>(f->number()));
    ASSERT_NE(info, nullptr) << f->name();
    EXPECT_EQ(info->name, f->name());
    EXPECT_EQ(info->descriptor, f->message_type());
  }
  EXPECT_EQ(AllRecordTypes().size(), static_cast<size_t>(oneof->field_count()));
}

TEST(RecordRegistryTest, StateMachinesHaveLegalAndIllegalTransitions) {
  const RecordTypeInfo* referral = FindRecordTypeByName("referral");
  ASSERT_NE(referral, nullptr);
  EXPECT_EQ(referral->policy, MergePolicy::kStateMachine);
  EXPECT_TRUE(referral->IsLegalTransition(v1::REFERRAL_STATUS_MADE, v1::REFERRAL_STATUS_ACCEPTED));
  EXPECT_FALSE(referral->IsLegalTransition(v1::REFERRAL_STATUS_MADE, v1::REFERRAL_STATUS_COMPLETED));
  EXPECT_FALSE(referral->IsLegalTransition(v1::REFERRAL_STATUS_COMPLETED, v1::REFERRAL_STATUS_MADE));
  EXPECT_TRUE(referral->IsInitialState(v1::REFERRAL_STATUS_MADE));
  EXPECT_EQ(referral->StateName(v1::REFERRAL_STATUS_FIRST_APPOINTMENT), "first_appointment");
  for (const auto& info : AllRecordTypes()) {
    if (info.policy == MergePolicy::kStateMachine) {
      EXPECT_NE(info.state_field, nullptr) << info.name;
      EXPECT_FALSE(info.steps.empty()) << info.name;
    }
  }
}

TEST(RecordRegistryTest, PoliciesFollowTheDesign) {
  EXPECT_EQ(FindRecordTypeByName("case_note")->policy, MergePolicy::kAppendOnly);
  EXPECT_EQ(FindRecordTypeByName("assessment")->policy, MergePolicy::kAppendOnly);
  EXPECT_EQ(FindRecordTypeByName("attendance")->policy, MergePolicy::kKeyedRegister);
  EXPECT_EQ(FindRecordTypeByName("participant")->policy, MergePolicy::kLastWriterWins);
  EXPECT_EQ(FindRecordTypeByName("outcome")->policy, MergePolicy::kStateMachine);
  EXPECT_NE(FindRecordTypeByName("consent")->participant_field, nullptr);
  EXPECT_EQ(FindRecordTypeByName("no_such_type"), nullptr);
}

TEST(RecordRegistryTest, RecordBodyAccess) {
  v1::Record record;
  record.set_type(v1::RECORD_TYPE_CASE_NOTE);
  EXPECT_EQ(RecordBody(record), nullptr);
  auto* body = MutableRecordBody(&record);
  ASSERT_NE(body, nullptr);
  EXPECT_EQ(body->GetDescriptor(), v1::CaseNote::descriptor());
  EXPECT_TRUE(record.has_case_note());
  EXPECT_NE(NewRecordBody(v1::RECORD_TYPE_SESSION), nullptr);
}

TEST(RecordRegistryTest, EnumShortNames) {
  EXPECT_EQ(EnumValueShortName(v1::AttendanceStatus_descriptor()->FindValueByNumber(v1::ATTENDANCE_STATUS_LEFT_EARLY)),
            "left_early");
  Result<int> v = ParseEnumShortName(v1::AttendanceStatus_descriptor(), "did-not-attend", "status");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, v1::ATTENDANCE_STATUS_DID_NOT_ATTEND);
  Result<int> bad = ParseEnumShortName(v1::AttendanceStatus_descriptor(), "asleep", "status");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "status");
  EXPECT_NE(bad.status().message().find("attended"), std::string::npos);
  EXPECT_FALSE(ParseEnumShortName(v1::AttendanceStatus_descriptor(), "unspecified", "status").ok());
}

// Every bytes field of a body names another record, except the encoded values a conflict
// quotes: each must be declared as a link (the server checks links in one place), and
// every declared link and actor field exists.
TEST(RecordRegistryTest, EveryFieldThatNamesARecordIsADeclaredLink) {
  for (const auto& info : AllRecordTypes()) {
    for (const RecordLink& link : info.links) {
      ASSERT_NE(link.field, nullptr) << info.name;
      EXPECT_EQ(link.field->type(), google::protobuf::FieldDescriptor::TYPE_BYTES) << info.name;
      EXPECT_EQ(info.LinkOf(link.field->number()), &link);
    }
    for (const auto* actor : info.actor_fields) {
      ASSERT_NE(actor, nullptr) << info.name;
      EXPECT_EQ(actor->type(), google::protobuf::FieldDescriptor::TYPE_STRING) << info.name;
      EXPECT_TRUE(info.IsActorField(actor->number()));
    }
    if (info.participant_field != nullptr) {
      const RecordLink* link = info.LinkOf(info.participant_field->number());
      ASSERT_NE(link, nullptr) << info.name;
      EXPECT_EQ(link->target, v1::RECORD_TYPE_PARTICIPANT) << info.name;
    }
    for (int i = 0; i < info.descriptor->field_count(); ++i) {
      const auto* f = info.descriptor->field(i);
      if (f->type() != google::protobuf::FieldDescriptor::TYPE_BYTES) continue;
      const bool quoted_value = info.type == v1::RECORD_TYPE_CONFLICT && f->name().find("_value") != std::string::npos;
      EXPECT_EQ(info.LinkOf(f->number()) != nullptr, !quoted_value) << info.name << "." << f->name();
    }
  }
  EXPECT_EQ(FindRecordTypeByName("case_note")->LinkOf(6)->target, v1::RECORD_TYPE_CASE_NOTE);  // supersedes
  EXPECT_TRUE(FindRecordTypeByName("support_spend")->IsActorField(8));                         // decided_by
  EXPECT_FALSE(FindRecordTypeByName("participant")->IsActorField(24));  // adviser: a caseload, not an act
}

// The timeline date of every type, as the device's timeline has always placed records
// (client/store derives its occurred_on column from it): each names a date or instant
// field of the body.
TEST(RecordRegistryTest, TimelineDateFieldsAreDatesOfTheBody) {
  const std::map<v1::RecordType, std::string> expected = {
      {v1::RECORD_TYPE_PARTICIPANT, "registered_on"},
      {v1::RECORD_TYPE_CONSENT, "given_on"},
      {v1::RECORD_TYPE_EVIDENCE_ITEM, "captured_on"},
      {v1::RECORD_TYPE_VALIDATION, "status_changed_on"},
      {v1::RECORD_TYPE_ASSESSMENT, "completed_on"},
      {v1::RECORD_TYPE_BARRIER, "identified_on"},
      {v1::RECORD_TYPE_SEGMENT, "set_on"},
      {v1::RECORD_TYPE_ACTION_PLAN, "started_on"},
      {v1::RECORD_TYPE_ACTION_STEP, "due_on"},
      {v1::RECORD_TYPE_SESSION, "starts_at"},
      {v1::RECORD_TYPE_BOOKING, "booked_on"},
      {v1::RECORD_TYPE_ATTENDANCE, "marked_at"},
      {v1::RECORD_TYPE_CONTACT_ATTEMPT, "attempted_at"},
      {v1::RECORD_TYPE_REFERRAL, "made_on"},
      {v1::RECORD_TYPE_SUPPORT_SPEND, "requested_on"},
      {v1::RECORD_TYPE_OUTCOME, "achieved_on"},
      {v1::RECORD_TYPE_CASE_NOTE, "written_at"},
      {v1::RECORD_TYPE_EXIT, "exited_on"},
      {v1::RECORD_TYPE_ENQUIRY, "received_at"},
  };
  for (const auto& info : AllRecordTypes()) {
    auto it = expected.find(info.type);
    const std::string want = it == expected.end() ? "" : it->second;
    EXPECT_EQ(TimelineDateField(info.type), want) << info.name;
    if (want.empty()) {
      EXPECT_EQ(info.date_field, nullptr) << info.name;
      continue;
    }
    ASSERT_NE(info.date_field, nullptr) << info.name;
    EXPECT_EQ(info.date_field->containing_type(), info.descriptor) << info.name;
    EXPECT_EQ(info.date_field->type(), google::protobuf::FieldDescriptor::TYPE_STRING) << info.name;
    EXPECT_FALSE(info.date_field->is_repeated()) << info.name;
    const std::string& name = info.date_field->name();
    const auto ends = [&](std::string_view suffix) {
      return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    EXPECT_TRUE(ends("_on") || ends("_at")) << info.name << "." << name << " is checked as a date or instant by name";
  }
  EXPECT_STREQ(TimelineDateField(static_cast<v1::RecordType>(9999)), "");
}

// Keyed registers name the field that keys a row with the participant and rank who
// marked it: an adviser's mark outranks a kiosk's, and a kiosk writes as the kiosk.
TEST(RecordRegistryTest, RegistersDeclareTheirKeyAndMarkRanks) {
  for (const auto& info : AllRecordTypes()) {
    if (info.policy != MergePolicy::kKeyedRegister) {
      EXPECT_EQ(info.register_key_field, nullptr) << info.name;
      EXPECT_EQ(info.rank_field, nullptr) << info.name;
      continue;
    }
    ASSERT_NE(info.register_key_field, nullptr) << info.name;
    ASSERT_NE(info.participant_field, nullptr) << info.name;
    EXPECT_NE(info.LinkOf(info.register_key_field->number()), nullptr) << info.name;
    ASSERT_NE(info.rank_field, nullptr) << info.name;
    EXPECT_EQ(info.rank_field->type(), google::protobuf::FieldDescriptor::TYPE_ENUM) << info.name;
    for (const auto& [value, rank] : info.ranks) {
      EXPECT_NE(info.rank_field->enum_type()->FindValueByNumber(value), nullptr) << info.name;
      EXPECT_GT(rank, 0) << info.name;
    }
  }
  const RecordTypeInfo& attendance = *FindRecordType(v1::RECORD_TYPE_ATTENDANCE);
  EXPECT_EQ(attendance.register_key_field->name(), "session_id");
  EXPECT_GT(attendance.Rank(v1::MARKED_BY_ADVISER), attendance.Rank(v1::MARKED_BY_KIOSK));
  EXPECT_EQ(attendance.Rank(v1::MARKED_BY_KIOSK), 1);
  EXPECT_EQ(attendance.Rank(v1::MARKED_BY_ADVISER), 2);
  EXPECT_EQ(attendance.Rank(v1::MARKED_BY_UNSPECIFIED), 0);
  EXPECT_EQ(attendance.RankOfWriter(v1::ROLE_KIOSK), 1);
  for (v1::Role role : {v1::ROLE_ADVISER, v1::ROLE_HEALTH_WORKER, v1::ROLE_MANAGER, v1::ROLE_UNSPECIFIED}) {
    EXPECT_EQ(attendance.RankOfWriter(role), 2) << role;
  }
  v1::Attendance marked;
  marked.set_marked_by(v1::MARKED_BY_KIOSK);
  EXPECT_EQ(attendance.RankOf(marked), 1);
  EXPECT_EQ(FindRecordType(v1::RECORD_TYPE_BOOKING)->RankOf(v1::Booking()), 0);
}

// A duplicate merge relinks every record of the person merged but the ones about the
// people themselves.
TEST(RecordRegistryTest, OnlyReviewsAndConflictsStayWhenDuplicatesMerge) {
  for (const auto& info : AllRecordTypes()) {
    const bool stays = info.type == v1::RECORD_TYPE_DUPLICATE_REVIEW || info.type == v1::RECORD_TYPE_CONFLICT;
    EXPECT_EQ(info.follows_merge, !stays) << info.name;
  }
}

// The registry's own entries come from declarations a test can make too.
TEST(RecordRegistryTest, DeclaringATypeResolvesItsFieldsByName) {
  const RecordTypeInfo info = DeclareRecordType(
      {.type = static_cast<v1::RecordType>(900),
       .name = "booking_copy",
       .policy = MergePolicy::kLastWriterWins,
       .descriptor = v1::Booking::descriptor(),
       .personal = true,
       .date = "booked_on",
       .links = {{"session_id", v1::RECORD_TYPE_SESSION}, {"participant_id", v1::RECORD_TYPE_PARTICIPANT}},
       .state = "no_such_field"});
  EXPECT_EQ(info.name, "booking_copy");
  EXPECT_EQ(info.participant_field, v1::Booking::descriptor()->FindFieldByName("participant_id"));
  EXPECT_EQ(info.date_field->name(), "booked_on");
  EXPECT_EQ(info.LinkOf(1)->target, v1::RECORD_TYPE_SESSION);
  EXPECT_EQ(info.state_field, nullptr);  // a name the body does not have
  EXPECT_TRUE(info.follows_merge);
  EXPECT_EQ(FindRecordType(static_cast<v1::RecordType>(900)), nullptr);  // not in the built-in registry
}

}  // namespace
}  // namespace outreach
