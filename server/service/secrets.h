// Secrets the server hands out (device credentials, enrolment codes) and the hashes it
// keeps instead of them.
//
// Both secrets are high-entropy (a 32-byte credential; an 80-bit code that is also
// one-time and expiring), so a plain SHA-256 is enough to keep them unusable if the
// store leaks; no slow password hash is needed.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace outreach::server {

// SHA-256 of `data`: 32 raw bytes.
std::string Sha256(std::string_view data);

// `n` bytes from OpenSSL's CSPRNG.
Result<std::string> RandomBytes(size_t n);

// A new enrolment code: 16 Crockford base32 characters in groups of four,
// e.g. "7K2Q-XM4D-9RTA-B3NW", easy to read aloud and type.
Result<std::string> NewEnrolmentCode();

// The hash under which an enrolment code is stored. Typing is forgiven the Crockford
// way (case, dashes and spaces ignored; O read as 0, I and L as 1).
std::string EnrolmentCodeHash(std::string_view code);

// Compares two hashes in constant time.
bool HashesEqual(std::string_view a, std::string_view b);

}  // namespace outreach::server
