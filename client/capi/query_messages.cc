#include "client/capi/query_messages.h"

#include <utility>

namespace outreach::capi {

v1::capi::RecordList ToRecordList(std::vector<v1::Record> records) {
  v1::capi::RecordList list;
  for (v1::Record& record : records) *list.add_records() = std::move(record);
  return list;
}

v1::capi::WarningList ToWarningList(const std::vector<Warning>& warnings) {
  v1::capi::WarningList list;
  for (const Warning& w : warnings) {
    v1::capi::Warning* item = list.add_warnings();
    item->set_code(w.code);
    item->set_field(w.field);
    item->set_message(w.message);
  }
  return list;
}

v1::capi::DistanceTravelled ToMessage(const DistanceTravelled& distance) {
  v1::capi::DistanceTravelled message;
  message.set_instrument_id(distance.instrument_id);
  message.set_baseline_id(distance.baseline_id.raw());
  message.set_latest_id(distance.latest_id.raw());
  message.set_baseline_on(distance.baseline_on);
  message.set_latest_on(distance.latest_on);
  for (const DomainDistance& domain : distance.domains) {
    v1::capi::DomainDistance* item = message.add_domains();
    item->set_domain(domain.domain);
    item->set_baseline(domain.baseline);
    item->set_latest(domain.latest);
    item->set_change(domain.change);
  }
  message.set_total_baseline(distance.total_baseline);
  message.set_total_latest(distance.total_latest);
  message.set_total_change(distance.total_change);
  return message;
}

v1::capi::SessionRegisterList ToSessionRegisterList(std::vector<SessionRegister> sessions) {
  v1::capi::SessionRegisterList list;
  for (SessionRegister& session : sessions) {
    v1::capi::SessionRegister* item = list.add_sessions();
    *item->mutable_session() = std::move(session.session);
    for (RegisterLine& line : session.lines) {
      v1::capi::RegisterLine* out = item->add_lines();
      *out->mutable_participant() = std::move(line.participant);
      if (line.booking) *out->mutable_booking() = std::move(*line.booking);
      if (line.attendance) *out->mutable_attendance() = std::move(*line.attendance);
    }
  }
  return list;
}

v1::capi::Timeline ToTimeline(std::vector<TimelineEntry> entries) {
  v1::capi::Timeline timeline;
  for (TimelineEntry& entry : entries) {
    v1::capi::TimelineEntry* item = timeline.add_entries();
    item->set_on(entry.on);
    *item->mutable_record() = std::move(entry.record);
  }
  return timeline;
}

v1::capi::NotSeenList ToNotSeenList(std::vector<NotSeen> rows) {
  v1::capi::NotSeenList list;
  for (NotSeen& row : rows) {
    v1::capi::NotSeen* item = list.add_participants();
    *item->mutable_participant() = std::move(row.participant);
    item->set_last_seen_on(row.last_seen_on);
    item->set_days(row.days);
  }
  return list;
}

v1::capi::OverduePlanList ToOverduePlanList(std::vector<OverduePlan> plans) {
  v1::capi::OverduePlanList list;
  for (OverduePlan& plan : plans) {
    v1::capi::OverduePlan* item = list.add_plans();
    *item->mutable_plan() = std::move(plan.plan);
    item->set_reason(plan.reason);
    item->set_due_on(plan.due_on);
    if (plan.step) *item->mutable_step() = std::move(*plan.step);
  }
  return list;
}

v1::capi::RejectedChangeList ToRejectedChangeList(const std::vector<RejectedChange>& changes) {
  v1::capi::RejectedChangeList list;
  for (const RejectedChange& change : changes) {
    v1::capi::RejectedChange* item = list.add_changes();
    item->set_device_seq(change.device_seq);
    item->set_record_id(change.record_id.raw());
    item->set_type(change.type);
    item->set_reason(change.reason);
    item->set_field(change.field);
  }
  return list;
}

v1::capi::EnquiryList ToEnquiryList(std::vector<EnquiryLine> lines) {
  v1::capi::EnquiryList list;
  for (EnquiryLine& line : lines) {
    v1::capi::EnquiryLine* item = list.add_enquiries();
    *item->mutable_enquiry() = std::move(line.enquiry);
    if (line.participant) *item->mutable_participant() = std::move(*line.participant);
    if (line.days_to_registration) item->set_days_to_registration(*line.days_to_registration);
  }
  return list;
}

v1::capi::EnrolReport ToMessage(const EnrolReport& report) {
  v1::capi::EnrolReport message;
  message.set_device_id(report.device_id);
  message.set_hub_id(report.hub_id);
  message.set_role(report.role);
  message.set_user_name(report.user_name);
  message.set_reference_prefix(report.reference_prefix);
  return message;
}

}  // namespace outreach::capi
