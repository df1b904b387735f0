#include "common/dates.h"

#include <absl/time/civil_time.h>
#include <absl/time/time.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace outreach {
namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

int DaysInMonth(int year, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

}  // namespace

std::optional<Date> ParseDate(std::string_view text) {
  Date d;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  if (!Digits(text, 0, 4, &d.year) || !Digits(text, 5, 2, &d.month) || !Digits(text, 8, 2, &d.day)) {
    return std::nullopt;
  }
  if (d.year < 1900 || d.month < 1 || d.month > 12 || d.day < 1 || d.day > DaysInMonth(d.year, d.month)) {
    return std::nullopt;
  }
  return d;
}

std::optional<Date> ParseInstant(std::string_view text) {
  if (text.size() < 16 || text[10] != 'T' || text[13] != ':') return std::nullopt;
  std::optional<Date> d = ParseDate(text.substr(0, 10));
  int hh, mm;
  if (!d || !Digits(text, 11, 2, &hh) || !Digits(text, 14, 2, &mm) || hh > 23 || mm > 59) return std::nullopt;
  std::string_view rest = text.substr(16);
  int ss;
  if (!rest.empty() && rest[0] == ':') {
    if (!Digits(rest, 1, 2, &ss) || ss > 60) return std::nullopt;
    rest = rest.substr(3);
    if (!rest.empty() && rest[0] == '.') {
      size_t i = 1;
      while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) ++i;
      if (i == 1) return std::nullopt;
      rest = rest.substr(i);
    }
  }
  if (rest.empty() || rest == "Z") return d;
  int oh, om;
  if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' && Digits(rest, 1, 2, &oh) &&
      Digits(rest, 4, 2, &om) && oh <= 23 && om <= 59) {
    return d;
  }
  return std::nullopt;
}

std::string FormatDate(const Date& date) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", date.year, date.month, date.day);
  return buf;
}

// Howard Hinnant's days_from_civil / civil_from_days.
int64_t DaysFromCivil(const Date& date) {
  int64_t y = date.year - (date.month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t mp = (date.month + 9) % 12;
  const int64_t doy = (153 * mp + 2) / 5 + date.day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Date CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  Date d;
  d.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  d.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  d.year = static_cast<int>(yoe + era * 400 + (d.month <= 2 ? 1 : 0));
  return d;
}

Date AddMonths(const Date& date, int months) {
  int index = date.year * 12 + (date.month - 1) + months;
  Date out;
  out.year = index / 12;
  out.month = index % 12 + 1;
  out.day = std::min(date.day, DaysInMonth(out.year, out.month));
  return out;
}

std::string DateOfMillis(int64_t unix_ms) {
  int64_t days = unix_ms >= 0 ? unix_ms / 86400000 : -((-unix_ms + 86399999) / 86400000);
  return FormatDate(CivilFromDays(days));
}

std::string InstantOfMillis(int64_t unix_ms) {
  int64_t days = unix_ms >= 0 ? unix_ms / 86400000 : -((-unix_ms + 86399999) / 86400000);
  int64_t minute_of_day = (unix_ms - days * 86400000) / 60000;
  char buf[8];
  std::snprintf(buf, sizeof buf, "T%02d:%02d", static_cast<int>(minute_of_day / 60),
                static_cast<int>(minute_of_day % 60));
  return FormatDate(CivilFromDays(days)) + buf;
}

bool IsKnownTimeZone(std::string_view time_zone) {
  absl::TimeZone zone;
  return absl::LoadTimeZone(std::string(time_zone.empty() ? kDefaultTimeZone : time_zone), &zone);
}

Result<std::string> LocalDateOfMillis(int64_t unix_ms, std::string_view time_zone) {
  const std::string name(time_zone.empty() ? kDefaultTimeZone : time_zone);
  absl::TimeZone zone;  // absl caches each zone it loads: later calls read no file
  if (!absl::LoadTimeZone(name, &zone)) {
    return Status::InvalidArgument("time_zone",
                                   "'" + name + "' is not a time zone this system knows (e.g. Europe/London)");
  }
  const absl::CivilDay day = absl::ToCivilDay(absl::FromUnixMillis(unix_ms), zone);
  return FormatDate(Date{static_cast<int>(day.year()), day.month(), day.day()});
}

}  // namespace outreach
