// The results of outreach::Device queries as outreach.v1.capi messages (capi.proto), so
// the C API and the command line hand out the same shapes in protobuf and in JSON.
#pragma once

#include <vector>

#include "outreach/device.h"
#include "outreach/sync.h"
#include "outreach/v1/capi/capi.pb.h"

namespace outreach::capi {

v1::capi::RecordList ToRecordList(std::vector<v1::Record> records);
v1::capi::WarningList ToWarningList(const std::vector<Warning>& warnings);
v1::capi::DistanceTravelled ToMessage(const DistanceTravelled& distance);
v1::capi::SessionRegisterList ToSessionRegisterList(std::vector<SessionRegister> sessions);
v1::capi::Timeline ToTimeline(std::vector<TimelineEntry> entries);
v1::capi::NotSeenList ToNotSeenList(std::vector<NotSeen> rows);
v1::capi::OverduePlanList ToOverduePlanList(std::vector<OverduePlan> plans);
v1::capi::RejectedChangeList ToRejectedChangeList(const std::vector<RejectedChange>& changes);
v1::capi::EnquiryList ToEnquiryList(std::vector<EnquiryLine> lines);
v1::capi::EnrolReport ToMessage(const EnrolReport& report);

}  // namespace outreach::capi
