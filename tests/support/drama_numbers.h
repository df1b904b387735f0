// Phone numbers for test and demo data: Ofcom's ranges for TV and radio drama, never a real
// person's, that libphonenumber holds valid (its metadata leaves out the drama mobile range
// 07700 900xxx, so those are refused like any unallocated number).
#pragma once

#include <cstdint>
#include <string>

namespace outreach::testing {

// One of 10,000 distinct numbers, as a person types it: "0113 496 0042" for 42.
inline std::string DramaPhoneNumber(uint64_t i) {
  static constexpr const char* kRanges[] = {"0113 496 0", "0114 496 0", "0116 496 0", "0117 496 0", "0118 496 0",
                                            "0121 496 0", "0131 496 0", "0141 496 0", "0151 496 0", "0161 496 0"};
  const std::string digits = std::to_string(1000 + i % 1000).substr(1);
  return kRanges[(i / 1000) % 10] + digits;
}

// The same number in the form it is stored in (E.164): "+441134960042" for 42, what a
// change pushed without the library's normalisation must carry.
inline std::string DramaPhoneNumberE164(uint64_t i) {
  std::string e164 = "+44";
  for (char c : DramaPhoneNumber(i).substr(1)) {
    if (c != ' ') e164.push_back(c);
  }
  return e164;
}

}  // namespace outreach::testing
