#include "common/reference.h"

#include <openssl/rand.h>

#include <cctype>
#include <cstdio>

namespace outreach {
namespace {

constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";  // Crockford base32
constexpr int kBase = 32;

// Value of a Crockford character, or -1. Accepts the usual misreadings.
int CodePoint(char c) {
  c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (c == 'O') c = '0';
  if (c == 'I' || c == 'L') c = '1';
  size_t pos = kAlphabet.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

// Luhn mod N: the check character for a string of code points.
char CheckCharacter(std::string_view canonical) {
  int factor = 2;
  int sum = 0;
  for (size_t i = canonical.size(); i-- > 0;) {
    int addend = factor * CodePoint(canonical[i]);
    factor = factor == 2 ? 1 : 2;
    addend = addend / kBase + addend % kBase;
    sum += addend;
  }
  int remainder = sum % kBase;
  return kAlphabet[(kBase - remainder) % kBase];
}

Status BadReference(std::string_view text, std::string why) {
  return Status::InvalidArgument("reference", "'" + std::string(text) + "' " + why);
}

}  // namespace

Result<std::string> ReferenceNumber::Format(std::string_view prefix, uint64_t counter) {
  if (prefix.size() != kPrefixLength) return BadReference(prefix, "is not a 4-character device prefix");
  std::string canonical;
  for (char c : prefix) {
    int v = CodePoint(c);
    if (v < 0) return BadReference(prefix, "has a character outside the reference alphabet");
    canonical.push_back(kAlphabet[v]);
  }
  if (counter == 0) return BadReference(prefix, "counter must start at 1");
  char digits[32];
  std::snprintf(digits, sizeof digits, "%04llu", static_cast<unsigned long long>(counter));
  canonical += digits;
  char check = CheckCharacter(canonical);
  return canonical.substr(0, kPrefixLength) + "-" + digits + "-" + check;
}

Result<ReferenceNumber> ReferenceNumber::Parse(std::string_view text) {
  std::string compact;
  for (char c : text) {
    if (c == '-' || c == ' ') continue;
    compact.push_back(c);
  }
  // prefix (4) + at least 4 digits + check (1)
  if (compact.size() < kPrefixLength + 4 + 1 || compact.size() > kPrefixLength + 20 + 1) {
    return BadReference(text, "is not a reference number (expected e.g. K7QX-0042-M)");
  }
  std::string canonical;
  for (size_t i = 0; i < compact.size(); ++i) {
    int v = CodePoint(compact[i]);
    if (v < 0) return BadReference(text, "has a character outside the reference alphabet");
    canonical.push_back(kAlphabet[v]);
  }
  ReferenceNumber ref;
  ref.prefix = canonical.substr(0, kPrefixLength);
  const std::string digits = canonical.substr(kPrefixLength, canonical.size() - kPrefixLength - 1);
  for (char c : digits) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return BadReference(text, "counter must be digits");
  }
  ref.counter = std::stoull(digits);
  if (ref.counter == 0) return BadReference(text, "counter must start at 1");
  if (CheckCharacter(canonical.substr(0, canonical.size() - 1)) != canonical.back()) {
    return BadReference(text, "fails its check character (mistyped?)");
  }
  return ref;
}

std::string ReferenceNumber::RandomPrefix() {
  unsigned char rnd[kPrefixLength];
  if (RAND_bytes(rnd, sizeof rnd) != 1) {
    for (auto& b : rnd) b = static_cast<unsigned char>(std::rand());
  }
  std::string out;
  for (unsigned char b : rnd) out.push_back(kAlphabet[b % kBase]);
  return out;
}

std::string ReferenceNumber::ToString() const {
  Result<std::string> s = Format(prefix, counter);
  return s.ok() ? s.value() : std::string();
}

}  // namespace outreach
