// A participant's consent as the tests record it: signed, on the wording in force.
#pragma once

#include <string>

#include "outreach/v1/records.pb.h"

namespace outreach::testing {

// `participant_id` raw (16 bytes); `given_on` empty: the device fills in today.
inline v1::Consent SignedConsent(const std::string& participant_id, v1::ConsentPurpose purpose,
                                 const std::string& given_on = "") {
  v1::Consent c;
  c.set_participant_id(participant_id);
  c.set_purpose(purpose);
  c.set_wording_version("2024-03");
  c.set_method(v1::CONSENT_METHOD_SIGNED);
  if (!given_on.empty()) c.set_given_on(given_on);
  return c;
}

}  // namespace outreach::testing
