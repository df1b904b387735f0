// outreach.h: the queries apps need, returned as outreach.v1.capi messages.
#include <utility>
#include <vector>

#include "client/capi/capi_support.h"
#include "client/capi/query_messages.h"

using outreach::Device;
using outreach::Result;
using outreach::Status;
using outreach::capi::Emit;
using outreach::capi::OptionalText;
using outreach::capi::ParseId;
using outreach::capi::Run;

namespace {

// Emits a query result converted to its message by `convert`, or returns its error.
template <typename T, typename Convert>
Status EmitResult(outreach_format format, Result<T> result, Convert convert, char** out, size_t* out_size) {
  if (!result.ok()) return result.status();
  return Emit(format, convert(std::move(result).value()), out, out_size);
}

Status EmitList(outreach_format format, Result<std::vector<outreach::v1::Record>> records, char** out,
                size_t* out_size) {
  return EmitResult(format, std::move(records), outreach::capi::ToRecordList, out, out_size);
}

}  // namespace

extern "C" {

outreach_status outreach_check_before_submission(outreach_device* device, outreach_format format,
                                                 const char* participant_id, char** out, size_t* out_size,
                                                 outreach_error** error) {
  return Run(device, format, out, out_size, error, [&](Device& d) -> Status {
    auto id = ParseId(participant_id, "participant_id");
    if (!id.ok()) return id.status();
    return EmitResult(format, d.CheckBeforeSubmission(*id), outreach::capi::ToWarningList, out, out_size);
  });
}

outreach_status outreach_distance_travelled(outreach_device* device, outreach_format format, const char* participant_id,
                                            const char* instrument_id, char** out, size_t* out_size,
                                            outreach_error** error) {
  return Run(device, format, out, out_size, error, [&](Device& d) -> Status {
    auto id = ParseId(participant_id, "participant_id");
    if (!id.ok()) return id.status();
    if (instrument_id == nullptr || *instrument_id == '\0') {
      return Status::InvalidArgument("instrument_id", "is required");
    }
    return EmitResult(
        format, d.ComputeDistanceTravelled(*id, instrument_id),
        [](const outreach::DistanceTravelled& t) { return outreach::capi::ToMessage(t); }, out, out_size);
  });
}

outreach_status outreach_participants_list(outreach_device* device, outreach_format format, char** out,
                                           size_t* out_size, outreach_error** error) {
  return Run(device, format, out, out_size, error,
             [&](Device& d) { return EmitList(format, d.ListParticipants(), out, out_size); });
}

outreach_status outreach_enquiries_list(outreach_device* device, outreach_format format, char** out, size_t* out_size,
                                        outreach_error** error) {
  return Run(device, format, out, out_size, error, [&](Device& d) {
    return EmitResult(format, d.ListEnquiries(), outreach::capi::ToEnquiryList, out, out_size);
  });
}

outreach_status outreach_instruments_list(outreach_device* device, outreach_format format, char** out, size_t* out_size,
                                          outreach_error** error) {
  return Run(device, format, out, out_size, error,
             [&](Device& d) { return EmitList(format, d.Instruments(), out, out_size); });
}

outreach_status outreach_programme_show(outreach_device* device, outreach_format format, char** out, size_t* out_size,
                                        outreach_error** error) {
  return Run(device, format, out, out_size, error,
             [&](Device& d) { return outreach::capi::EmitRecord(format, d.Programme(), out, out_size); });
}

outreach_status outreach_partners_list(outreach_device* device, outreach_format format, char** out, size_t* out_size,
                                       outreach_error** error) {
  return Run(device, format, out, out_size, error,
             [&](Device& d) { return EmitList(format, d.Partners(), out, out_size); });
}

outreach_status outreach_participants_find(outreach_device* device, outreach_format format, const char* name,
                                           char** out, size_t* out_size, outreach_error** error) {
  return Run(device, format, out, out_size, error, [&](Device& d) -> Status {
    if (name == nullptr || *name == '\0') return Status::InvalidArgument("name", "is required");
    return EmitList(format, d.FindParticipants(name), out, out_size);
  });
}

outreach_status outreach_participant_by_reference(outreach_device* device, outreach_format format,
                                                  const char* reference, char** out, size_t* out_size,
                                                  outreach_error** error) {
  return Run(device, format, out, out_size, error, [&](Device& d) -> Status {
    if (reference == nullptr || *reference == '\0') return Status::InvalidArgument("reference", "is required");
    auto found = d.FindByReference(reference);
    if (!found.ok()) return found.status();
    if (!found->has_value()) {
      return Status::NotFound("nobody has reference '" + std::string(reference) + "'", "reference");
    }
    return Emit(format, **found, out, out_size);
  });
}

outreach_status outreach_caseload(outreach_device* device, outreach_format format, const char* adviser, char** out,
                                  size_t* out_size, outreach_error** error) {
  return Run(device, format, out, out_size, error,
             [&](Device& d) { return EmitList(format, d.Caseload(OptionalText(adviser)), out, out_size); });
}

outreach_status outreach_sessions_at_venue(outreach_device* device, outreach_format format, const char* venue_id,
                                           const char* day, char** out, size_t* out_size, outreach_error** error) {
  return Run(device, format, out, out_size, error, [&](Device& d) -> Status {
    auto id = ParseId(venue_id, "venue_id");
    if (!id.ok()) return id.status();
    return EmitResult(format, d.SessionsAtVenue(*id, OptionalText(day)), outreach::capi::ToSessionRegisterList, out,
                      out_size);
  });
}

outreach_status outreach_timeline(outreach_device* device, outreach_format format, const char* participant_id,
                                  char** out, size_t* out_size, outreach_error** error) {
  return Run(device, format, out, out_size, error, [&](Device& d) -> Status {
    auto id = ParseId(participant_id, "participant_id");
    if (!id.ok()) return id.status();
    return EmitResult(format, d.Timeline(*id), outreach::capi::ToTimeline, out, out_size);
  });
}

outreach_status outreach_participant_records(outreach_device* device, outreach_format format,
                                             const char* participant_id, const char* type, char** out, size_t* out_size,
                                             outreach_error** error) {
  return Run(device, format, out, out_size, error, [&](Device& d) -> Status {
    auto id = ParseId(participant_id, "participant_id");
    if (!id.ok()) return id.status();
    if (type == nullptr || *type == '\0') return Status::InvalidArgument("type", "is required");
    const outreach::RecordTypeInfo* info = outreach::FindRecordTypeByName(type);
    if (info == nullptr) return Status::InvalidArgument("type", "'" + std::string(type) + "' is not a record type");
    return EmitList(format, d.ParticipantRecords(*id, info->type), out, out_size);
  });
}

outreach_status outreach_not_seen(outreach_device* device, outreach_format format, int days, char** out,
                                  size_t* out_size, outreach_error** error) {
  return Run(device, format, out, out_size, error, [&](Device& d) -> Status {
    if (days < 0) return Status::InvalidArgument("days", "must not be negative");
    return EmitResult(format, d.NotSeenFor(days), outreach::capi::ToNotSeenList, out, out_size);
  });
}

outreach_status outreach_overdue_action_plans(outreach_device* device, outreach_format format, char** out,
                                              size_t* out_size, outreach_error** error) {
  return Run(device, format, out, out_size, error, [&](Device& d) {
    return EmitResult(format, d.OverdueActionPlans(), outreach::capi::ToOverduePlanList, out, out_size);
  });
}

outreach_status outreach_conflicts(outreach_device* device, outreach_format format, char** out, size_t* out_size,
                                   outreach_error** error) {
  return Run(device, format, out, out_size, error,
             [&](Device& d) { return EmitList(format, d.OpenConflicts(), out, out_size); });
}

outreach_status outreach_duplicates(outreach_device* device, outreach_format format, char** out, size_t* out_size,
                                    outreach_error** error) {
  return Run(device, format, out, out_size, error,
             [&](Device& d) { return EmitList(format, d.OpenDuplicateReviews(), out, out_size); });
}

outreach_status outreach_rejected_changes(outreach_device* device, outreach_format format, char** out, size_t* out_size,
                                          outreach_error** error) {
  return Run(device, format, out, out_size, error, [&](Device& d) {
    return EmitResult(format, d.RejectedChanges(), outreach::capi::ToRejectedChangeList, out, out_size);
  });
}

outreach_status outreach_export(outreach_device* device, outreach_format format, char** out, size_t* out_size,
                                outreach_error** error) {
  return Run(device, format, out, out_size, error,
             [&](Device& d) { return EmitList(format, d.Export(), out, out_size); });
}

}  // extern "C"
