// outreach::RejectedChange: a local edit the server refused, as the C++ API reports it
// (Device::RejectedChanges) and the device's store keeps it.
//
// Part of the in-tree C++ API (see outreach/device.h): not installed, no stable ABI.
#pragma once

#include <cstdint>
#include <string>

#include "common/uuid.h"
#include "outreach/v1/records.pb.h"

namespace outreach {

// A local change the server refused (PushAck outcome REJECTED).
struct RejectedChange {
  uint64_t device_seq = 0;
  Uuid record_id;
  v1::RecordType type = v1::RECORD_TYPE_UNSPECIFIED;
  std::string reason;
  std::string field;
};

}  // namespace outreach
