// The records of a bench hub, as its devices would have made them: participants, then
// sessions of 25 people each with their attendance marks and assessments (every third
// record an assessment). Shared by the scenarios' seeding (seed.h, through the server's
// SyncService) and the device micro-benchmark (bench/micro, applied as pulled pages).
#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <functional>
#include <string>

#include "common/uuid.h"
#include "outreach/v1/records.pb.h"

namespace outreach::bench {

struct HubShape {
  uint64_t participants = 0;
  // Attendance marks and assessments together (two marks per assessment), over
  // sessions of 25 people each.
  uint64_t records = 0;
};

using RecordSink = std::function<void(v1::RecordType type, const Uuid& id, const google::protobuf::Message& body)>;

// Calls `add` for every record of a hub of `shape`, in the order a hub logs them. The
// records are what devices capture (they pass the device's validation, which the server
// runs too); the assessments score the "my-journey" instrument every device and the
// server hold built in (common/instruments.h).
// `prefix` is the reference prefix of the participants; `venue` the sessions' venue.
void ForEachHubRecord(const HubShape& shape, const std::string& prefix, const Uuid& venue, const RecordSink& add);

}  // namespace outreach::bench
