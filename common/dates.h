// Calendar dates as the records carry them: "YYYY-MM-DD" (proleptic Gregorian), and the
// date "today" is in a hub's time zone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

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

// The zone of a hub that names none.
inline constexpr std::string_view kDefaultTimeZone = "Europe/London";
// Whether `time_zone` is an IANA zone name the system's time zone database
// (/usr/share/zoneinfo) holds ("Europe/London", "UTC"); "" stands for kDefaultTimeZone.
bool IsKnownTimeZone(std::string_view time_zone);
// The calendar date ("YYYY-MM-DD") at Unix millisecond `unix_ms` on a clock in
// `time_zone` ("" = kDefaultTimeZone), daylight saving included: 23:30 UTC on a summer
// day is the next day in London. kInvalidArgument naming field "time_zone" for a zone the
// database does not hold.
Result<std::string> LocalDateOfMillis(int64_t unix_ms, std::string_view time_zone);

}  // namespace outreach
