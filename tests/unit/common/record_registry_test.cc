#include "common/record_registry.h"

#include <gtest/gtest.h>

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
      EXPECT_FALSE(info.transitions.empty()) << info.name;
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

}  // namespace
}  // namespace outreach
