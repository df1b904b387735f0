// The forms every record body is checked for (common/validation/forms.h): the whole body
// on the device (CheckForms), the fields a pushed change sets on the server (CheckFormsOf).
#include "common/validation/forms.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/record_registry.h"

namespace outreach::validation {
namespace {

std::string Refusal(const Status& status) {
  return status.ok() ? std::string() : status.field() + ": " + status.message();
}

uint32_t NumberOf(const char* field) {
  return static_cast<uint32_t>(v1::Participant::descriptor()->FindFieldByName(field)->number());
}

TEST(FormsTest, EverySetFieldIsCheckedAndTheFirstBadOneNamed) {
  v1::Participant p;
  p.set_given_name("Priya");
  p.set_date_of_birth("1990-02-30");
  EXPECT_EQ(Refusal(CheckForms(p)), "date_of_birth: '1990-02-30' is not a real date in the form YYYY-MM-DD");
  p.set_date_of_birth("1990-02-28");
  p.set_merged_into("short");
  EXPECT_EQ(Refusal(CheckForms(p)), "merged_into: is not a record id (16 bytes)");
  p.clear_merged_into();
  EXPECT_TRUE(CheckForms(p).ok());
}

// A pushed change is checked for the fields it sets: the others are the stored record's,
// checked when they were written, and one that predates a check must not block an edit.
TEST(FormsTest, APushedChangeIsCheckedForTheFieldsItSets) {
  v1::Participant p;
  p.set_date_of_birth("1990-02-30");  // held from before the check
  p.set_registered_on("2026-13-01");
  const std::vector<uint32_t> phone{NumberOf("phone")};
  EXPECT_TRUE(CheckFormsOf(p, phone).ok());
  const std::vector<uint32_t> registered{NumberOf("phone"), NumberOf("registered_on")};
  EXPECT_EQ(Refusal(CheckFormsOf(p, registered)),
            "registered_on: '2026-13-01' is not a real date in the form YYYY-MM-DD");
  const std::vector<uint32_t> unknown{9999};
  EXPECT_TRUE(CheckFormsOf(p, unknown).ok());
}

TEST(FormsTest, TheWholeBodyIsBoundedWhicheverFieldsAChangeSets) {
  v1::Participant p;
  const std::string large(kMaxFieldBytes, 'x');
  p.set_given_name(large);
  p.set_family_name(large);
  p.set_language(large);
  p.set_referring_organisation(large);
  p.set_programme_strand(large);
  const std::vector<uint32_t> phone{NumberOf("phone")};
  const Status status = CheckFormsOf(p, phone);
  EXPECT_EQ(status.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(status.message().find("a record holds at most " + std::to_string(kMaxRecordBodyBytes)), std::string::npos)
      << status.message();
  EXPECT_EQ(Refusal(CheckForms(p)), Refusal(status));
}

}  // namespace
}  // namespace outreach::validation
