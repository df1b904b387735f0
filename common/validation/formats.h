// The formats of contact and identity values (phone numbers, UK postcodes, e-mail
// addresses, National Insurance numbers): each parses what a person types and returns the
// one form the value is stored in, or refuses it naming `field` and the format.
//
// Invariant: a stored value of one of these formats is in its normal form, so every device
// and the server hold it byte for byte the same; normalising a normal form returns it
// unchanged.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace outreach::validation {

// Numbers without a +country code are read as numbers of this region.
inline constexpr const char* kDefaultPhoneRegion = "GB";

// A phone number libphonenumber parses (region kDefaultPhoneRegion unless it starts with
// +country) and judges valid, in E.164: "07700 900123" -> "+447700900123".
Result<std::string> NormalisePhone(std::string_view text, std::string_view field = "phone");
// A stored (E.164) number as a person in the default region dials it: "07700 900123" for
// a UK number, "00 33 1 23 45 67 89" for another country's. A value that does not parse
// (stored before numbers were checked) is shown as it is.
std::string PhoneForDisplay(std::string_view stored);

// A UK postcode by the published format (outward code, then a digit and two letters;
// GIR 0AA too), in upper case with one space before the 3-character inward code:
// "sw1a1aa" -> "SW1A 1AA".
Result<std::string> NormalisePostcode(std::string_view text, std::string_view field = "postcode");

// An e-mail address: a local part, '@', and a domain of at least two dot-separated labels,
// with no spaces. Stored trimmed, with the domain in lower case.
Result<std::string> NormaliseEmail(std::string_view text, std::string_view field = "email");

// A National Insurance number by HMRC's published format: two prefix letters (the first
// not D, F, I, Q, U or V; the second not D, F, I, O, Q, U or V; not BG, GB, KN, NK, NT, TN
// or ZZ), six digits and a suffix A-D. Spaces and lower case are accepted on input; stored
// upper case without spaces: "ab 12 34 56 c" -> "AB123456C".
Result<std::string> NormaliseNiNumber(std::string_view text, std::string_view field = "ni_number");

}  // namespace outreach::validation
