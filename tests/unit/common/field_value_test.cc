#include "common/field_value.h"

#include <gtest/gtest.h>

#include "outreach/v1/records.pb.h"

namespace outreach {
namespace {

TEST(FieldValueTest, DiffListsOnlyChangedFieldsAndApplyReproducesThem) {
  v1::Participant before;
  before.set_given_name("Amina");
  before.set_phone("+441134960001");
  before.add_benefits(v1::BENEFIT_UNIVERSAL_CREDIT);
  v1::Participant after = before;
  after.set_phone("+441134960002");
  after.add_benefits(v1::BENEFIT_PIP);
  std::vector<v1::FieldValue> diff = DiffFields(before, after);
  ASSERT_EQ(diff.size(), 2u);
  v1::Participant applied = before;
  for (const auto& fv : diff) ASSERT_TRUE(ApplyField(&applied, fv.field(), fv.value()).ok());
  EXPECT_EQ(applied.SerializeAsString(), after.SerializeAsString());
}

TEST(FieldValueTest, ClearingAFieldIsAnEmptyValue) {
  v1::Participant p;
  p.set_email("a@example.org");
  v1::Participant cleared = p;
  cleared.clear_email();
  auto diff = DiffFields(p, cleared);
  ASSERT_EQ(diff.size(), 1u);
  EXPECT_TRUE(diff[0].value().empty());
  ASSERT_TRUE(ApplyField(&p, diff[0].field(), diff[0].value()).ok());
  EXPECT_TRUE(p.email().empty());
}

TEST(FieldValueTest, UnknownFieldsSurviveApplyAndReserialisation) {
  // A newer schema's field 150 arrives at an older device.
  v1::Participant p;
  p.set_given_name("Sam");
  std::string future_value =
      "\xb2\x09\x03"
      "new";  // field 150, length-delimited
  ASSERT_TRUE(ApplyField(&p, 150, future_value).ok());
  std::string bytes = p.SerializeAsString();
  v1::Participant again;
  ASSERT_TRUE(again.ParseFromString(bytes));
  EXPECT_EQ(again.GetReflection()->GetUnknownFields(again).field_count(), 1);
  // Setting it again replaces, not appends.
  ASSERT_TRUE(ApplyField(&again, 150, future_value).ok());
  EXPECT_EQ(again.GetReflection()->GetUnknownFields(again).field_count(), 1);
}

TEST(FieldValueTest, RefusesValueThatSetsAnotherField) {
  v1::Participant other;
  other.set_family_name("X");
  v1::Participant p;
  Status st = ApplyField(&p, 2, other.SerializeAsString());
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(p.family_name().empty());
  EXPECT_FALSE(ApplyField(&p, 2, "\xff\xff").ok());
}

TEST(FieldValueTest, DescribesValuesForPeople) {
  v1::Participant p;
  p.set_phone("+441134960123");
  auto fv = AllFields(p);
  ASSERT_EQ(fv.size(), 1u);
  EXPECT_EQ(DescribeFieldValue(v1::Participant::descriptor(), fv[0].field(), fv[0].value()), "\"+441134960123\"");
  // A list: its items; an empty one (the old value of a list first set) is empty.
  const uint32_t reasons = v1::Validation::descriptor()->FindFieldByName("rejection_reasons")->number();
  EXPECT_EQ(DescribeFieldValue(v1::Validation::descriptor(), reasons, ""), "");
  v1::Validation v;
  v.add_rejection_reasons(v1::VALIDATION_REJECTION_REASON_ANNEX_FORM);
  v.add_rejection_reasons(v1::VALIDATION_REJECTION_REASON_NO_PROOF_OF_NI);
  EXPECT_EQ(DescribeFieldValue(v1::Validation::descriptor(), reasons, AllFields(v)[0].value()),
            "VALIDATION_REJECTION_REASON_ANNEX_FORM, VALIDATION_REJECTION_REASON_NO_PROOF_OF_NI");
}

}  // namespace
}  // namespace outreach
