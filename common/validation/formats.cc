#include "common/validation/formats.h"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <regex>

namespace outreach::validation {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

std::string Quoted(std::string_view text) {
  return "'" + std::string(text) + "'";
}

bool IsSpace(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

char Upper(char c) {
  return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
}

// `text` upper-cased, without any white space.
std::string Compact(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (!IsSpace(c)) out.push_back(Upper(c));
  }
  return out;
}

std::string_view Trimmed(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

// A domain label: letters, digits and inner hyphens.
bool IsDomainLabel(std::string_view label) {
  if (label.empty() || label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-'; });
}

// Whether `number` is valid by libphonenumber. A number of the default region's country
// code is tried against that region first: for +44 that is IsValidNumber's own first
// try (GB has no leading-digits pattern and comes first among the regions of +44), done
// without IsValidNumber's search for the region, which matches the same patterns again.
bool IsValidPhone(const PhoneNumberUtil& util, const PhoneNumber& number) {
  if (number.country_code() == util.GetCountryCodeForRegion(kDefaultPhoneRegion) &&
      util.IsValidNumberForRegion(number, kDefaultPhoneRegion)) {
    return true;
  }
  return util.IsValidNumber(number);
}

// `text` when it is a valid number already in its stored form (E.164), as every value a
// device pushes is: read digit by digit instead of by libphonenumber's parse, which costs
// twice the validity check. The country code is the shortest prefix (1-3 digits) that is
// one, as the parse reads it; anything unusual (a national number with a leading zero, a
// number that does not format back to `text`) is left to the parse.
std::optional<std::string> AlreadyStoredPhone(const PhoneNumberUtil& util, std::string_view text) {
  if (text.size() < 4 || text.size() > 16 || text[0] != '+' || text[1] == '0') return std::nullopt;
  if (!std::all_of(text.begin() + 1, text.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  for (size_t length = 1; length <= 3 && length + 2 <= text.size(); ++length) {
    const int code = std::stoi(std::string(text.substr(1, length)));
    std::string region;
    util.GetRegionCodeForCountryCode(code, &region);
    if (region == "ZZ") continue;
    const std::string_view national = text.substr(1 + length);
    if (national.front() == '0') return std::nullopt;
    PhoneNumber number;
    number.set_country_code(code);
    number.set_national_number(std::stoull(std::string(national)));
    std::string e164;
    util.Format(number, PhoneNumberUtil::E164, &e164);
    if (e164 != text || !IsValidPhone(util, number)) return std::nullopt;
    return e164;
  }
  return std::nullopt;
}

}  // namespace

Result<std::string> NormalisePhone(std::string_view text, std::string_view field) {
  // The library's one instance: its metadata and compiled patterns are built once.
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  if (std::optional<std::string> stored = AlreadyStoredPhone(util, text)) return *std::move(stored);
  PhoneNumber number;
  const bool international = Trimmed(text).starts_with('+');
  const std::string what = international ? "phone number" : "UK phone number";
  if (util.Parse(std::string(text), kDefaultPhoneRegion, &number) != PhoneNumberUtil::NO_PARSING_ERROR ||
      !IsValidPhone(util, number)) {
    return Status::InvalidArgument(std::string(field), Quoted(text) + " is not a valid " + what);
  }
  if (number.has_extension()) {
    return Status::InvalidArgument(std::string(field), Quoted(text) + " has an extension; give the number without it");
  }
  std::string e164;
  util.Format(number, PhoneNumberUtil::E164, &e164);
  return e164;
}

std::string PhoneForDisplay(std::string_view stored) {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  PhoneNumber number;
  if (util.Parse(std::string(stored), kDefaultPhoneRegion, &number) != PhoneNumberUtil::NO_PARSING_ERROR) {
    return std::string(stored);
  }
  std::string shown;
  util.FormatOutOfCountryCallingNumber(number, kDefaultPhoneRegion, &shown);
  return shown;
}

Result<std::string> NormalisePostcode(std::string_view text, std::string_view field) {
  // The format published with the Government's bulk data standard (BS 7666): outward
  // code A9, A99, AA9, AA99, A9A or AA9A with the letters each position may hold, and
  // inward code 9AA without C, I, K, M, O or V; GIR 0AA is Girobank's.
  static const std::regex kPostcode(
      "GIR 0AA|[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9]([0-9ABEHMNPRV-Y])?|[0-9][A-HJKPS-UW]) [0-9][ABD-HJLNP-UW-Z]{2}");
  std::string postcode = Compact(text);
  if (postcode.size() >= 5) postcode.insert(postcode.size() - 3, " ");
  if (!std::regex_match(postcode, kPostcode)) {
    return Status::InvalidArgument(std::string(field), Quoted(text) + " is not a UK postcode (e.g. SW1A 1AA)");
  }
  return postcode;
}

Result<std::string> NormaliseEmail(std::string_view text, std::string_view field) {
  const std::string_view email = Trimmed(text);
  const size_t at = email.rfind('@');
  const std::string_view local = at == std::string_view::npos ? std::string_view() : email.substr(0, at);
  const std::string_view domain = at == std::string_view::npos ? std::string_view() : email.substr(at + 1);
  bool ok = !local.empty() && std::none_of(email.begin(), email.end(), IsSpace) && local.find('@') == local.npos;
  size_t labels = 0;
  for (size_t start = 0; ok && start <= domain.size(); ++labels) {
    const size_t dot = std::min(domain.find('.', start), domain.size());
    ok = IsDomainLabel(domain.substr(start, dot - start));
    start = dot + 1;
  }
  if (!ok || labels < 2) {
    return Status::InvalidArgument(std::string(field),
                                   Quoted(text) +
                                       " is not an e-mail address (a name, '@' and a domain such as "
                                       "example.org)");
  }
  std::string normal(local);
  normal.push_back('@');
  for (char c : domain) normal.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return normal;
}

Result<std::string> NormaliseNiNumber(std::string_view text, std::string_view field) {
  static constexpr std::string_view kNotFirst = "DFIQUV", kNotSecond = "DFIOQUV";
  static constexpr std::array<std::string_view, 7> kNotAllocated = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"};
  const std::string ni = Compact(text);
  auto letter = [](char c) { return c >= 'A' && c <= 'Z'; };
  bool ok =
      ni.size() == 9 && letter(ni[0]) && letter(ni[1]) && kNotFirst.find(ni[0]) == kNotFirst.npos &&
      kNotSecond.find(ni[1]) == kNotSecond.npos &&
      std::find(kNotAllocated.begin(), kNotAllocated.end(), std::string_view(ni).substr(0, 2)) == kNotAllocated.end() &&
      ni[8] >= 'A' && ni[8] <= 'D';
  for (size_t i = 2; ok && i < 8; ++i) ok = std::isdigit(static_cast<unsigned char>(ni[i])) != 0;
  if (!ok) {
    return Status::InvalidArgument(std::string(field),
                                   Quoted(text) +
                                       " is not a National Insurance number (two letters, six digits, A-D; e.g. "
                                       "AB123456C)");
  }
  return ni;
}

}  // namespace outreach::validation
