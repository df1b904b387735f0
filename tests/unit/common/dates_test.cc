#include "common/dates.h"

#include <gtest/gtest.h>

namespace outreach {
namespace {

// Unix milliseconds of `date` at hh:mm UTC.
int64_t UtcMillis(const char* date, int hh, int mm) {
  return (DaysFromCivil(*ParseDate(date)) * 86400 + hh * 3600 + mm * 60) * 1000;
}

TEST(LocalDateTest, LateEveningUtcInSummerIsTheNextDayInLondon) {
  // British Summer Time: 23:30 UTC is 00:30 the next day.
  EXPECT_EQ(*LocalDateOfMillis(UtcMillis("2026-07-14", 23, 30), "Europe/London"), "2026-07-15");
  EXPECT_EQ(*LocalDateOfMillis(UtcMillis("2026-07-14", 22, 59), "Europe/London"), "2026-07-14");
}

TEST(LocalDateTest, LateEveningUtcInWinterIsTheSameDayInLondon) {
  EXPECT_EQ(*LocalDateOfMillis(UtcMillis("2026-01-14", 23, 30), "Europe/London"), "2026-01-14");
}

TEST(LocalDateTest, AnEmptyZoneIsLondon) {
  EXPECT_EQ(*LocalDateOfMillis(UtcMillis("2026-07-14", 23, 30), ""), "2026-07-15");
  EXPECT_TRUE(IsKnownTimeZone(""));
}

TEST(LocalDateTest, OtherZonesFollowTheirOwnOffset) {
  EXPECT_EQ(*LocalDateOfMillis(UtcMillis("2026-07-14", 23, 30), "UTC"), "2026-07-14");
  EXPECT_EQ(*LocalDateOfMillis(UtcMillis("2026-07-14", 3, 0), "America/New_York"), "2026-07-13");
}

TEST(LocalDateTest, AnUnknownZoneIsRefusedNamingTheField) {
  EXPECT_FALSE(IsKnownTimeZone("Mars/Olympus_Mons"));
  Result<std::string> date = LocalDateOfMillis(0, "Mars/Olympus_Mons");
  ASSERT_FALSE(date.ok());
  EXPECT_EQ(date.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(date.status().field(), "time_zone");
  EXPECT_NE(date.status().message().find("Mars/Olympus_Mons"), std::string::npos);
}

}  // namespace
}  // namespace outreach
