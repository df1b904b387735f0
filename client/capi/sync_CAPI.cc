// outreach.h: enrolment and sync over outreach::Enrol / outreach::Sync (client/sync).
#include "client/capi/capi_support.h"
#include "client/capi/query_messages.h"
#include "outreach/sync.h"

using outreach::Device;
using outreach::Status;
using outreach::capi::Emit;
using outreach::capi::OptionalText;
using outreach::capi::Run;

// outreach_sync_phase mirrors SyncProgress::Phase value for value.
using Phase = outreach::SyncProgress::Phase;
static_assert(static_cast<int>(Phase::kConnecting) == OUTREACH_SYNC_CONNECTING);
static_assert(static_cast<int>(Phase::kPushing) == OUTREACH_SYNC_PUSHING);
static_assert(static_cast<int>(Phase::kPulling) == OUTREACH_SYNC_PULLING);
static_assert(static_cast<int>(Phase::kDone) == OUTREACH_SYNC_DONE);

extern "C" {

outreach_status outreach_enrol(outreach_device* device, outreach_format format, const char* server, const char* ca_pem,
                               const char* code, const char* device_name, char** out, size_t* out_size,
                               outreach_error** error) {
  return Run(device, format, out, out_size, error, [&](Device& d) -> Status {
    outreach::EnrolOptions options;
    options.server = OptionalText(server);
    options.ca_pem = OptionalText(ca_pem);
    options.code = OptionalText(code);
    options.device_name = OptionalText(device_name);
    if (options.server.empty()) return Status::InvalidArgument("server", "is required (host:port)");
    if (options.ca_pem.empty()) return Status::InvalidArgument("ca_pem", "is required");
    if (options.code.empty()) return Status::InvalidArgument("code", "is required");
    auto report = outreach::Enrol(d, options);
    if (!report.ok()) return report.status();
    return Emit(format, outreach::capi::ToMessage(*report), out, out_size);
  });
}

outreach_status outreach_sync(outreach_device* device, outreach_sync_progress_fn progress, void* user_data,
                              outreach_sync_report* report, outreach_error** error) {
  if (report != nullptr) *report = outreach_sync_report{};
  return Run(device, OUTREACH_FORMAT_JSON, nullptr, nullptr, error, [&](Device& d) -> Status {
    outreach::SyncProgressCallback callback;
    if (progress != nullptr) {
      callback = [progress, user_data](const outreach::SyncProgress& p) {
        outreach_sync_progress c{};
        c.phase = static_cast<outreach_sync_phase>(p.phase);
        c.pushed = p.pushed;
        c.to_push = p.to_push;
        c.pulled = p.pulled;
        progress(&c, user_data);
      };
    }
    auto result = outreach::Sync(d, outreach::SyncOptions{}, callback);
    if (!result.ok()) return result.status();
    if (report != nullptr) {
      report->pushed = result->pushed;
      report->pulled = result->pulled;
      report->conflicts = result->conflicts;
      report->rejected = result->rejected;
      report->clock_skew_ms = result->clock_skew_ms;
    }
    return Status::Ok();
  });
}

}  // extern "C"
