// Calendar dates as the records carry them: "YYYY-MM-DD" (proleptic Gregorian, UTC).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace outreach {

struct Date {
  int year = 0;
  int month = 0;  // 1-12
  int day = 0;    // 1-31
};

// Strict "YYYY-MM-DD" naming a real calendar date (2023-02-29 is not one).
std::optional<Date> ParseDate(std::string_view text);
// Strict "YYYY-MM-DDTHH:MM", optionally followed by ":SS", fractions and a zone
// ("Z" or "+HH:MM"), as RFC 3339 allows. Returns the date part.
std::optional<Date> ParseInstant(std::string_view text);
std::string FormatDate(const Date& date);
// Days since 1970-01-01.
int64_t DaysFromCivil(const Date& date);
Date CivilFromDays(int64_t days);
// The same day `months` later (or earlier), clamped to the month's end (01-31 + 1 = 02-28).
Date AddMonths(const Date& date, int months);
// The UTC date and minute ("YYYY-MM-DD", "YYYY-MM-DDTHH:MM") of a Unix millisecond.
std::string DateOfMillis(int64_t unix_ms);
std::string InstantOfMillis(int64_t unix_ms);

}  // namespace outreach
