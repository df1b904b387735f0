// Human reference numbers for participants, minted offline without collision.
//
// Form: PREFIX-COUNTER-CHECK, e.g. "K7QX-0042-M".
// - PREFIX: 4 characters of Crockford base32, unique per device (issued at enrolment);
// - COUNTER: the device's own sequence, decimal, at least 4 digits;
// - CHECK: a Luhn mod 32 check character over prefix and counter, so a mistyped digit
//   or two swapped neighbours at a kiosk finds nobody instead of someone else.
// Parsing is forgiving the Crockford way: lower case, O for 0, I and L for 1.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace outreach {

struct ReferenceNumber {
  std::string prefix;
  uint64_t counter = 0;

  static constexpr size_t kPrefixLength = 4;

  // Formats a reference; the prefix must be kPrefixLength base32 characters, counter >= 1.
  static Result<std::string> Format(std::string_view prefix, uint64_t counter);
  // Parses and verifies the check character. Errors name the field "reference".
  static Result<ReferenceNumber> Parse(std::string_view text);
  // A random prefix (the server makes it unique among its devices).
  static std::string RandomPrefix();

  std::string ToString() const;  // canonical form
};

}  // namespace outreach
