// Enrolment and sync for a device (C++ API). Implemented in client/sync/.
//
// Part of the in-tree C++ API (see outreach/device.h): not installed, no stable ABI.
// Apps use the C API (outreach/outreach.h: outreach_enrol, outreach_sync).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"

namespace outreach {

class Device;

struct EnrolOptions {
  std::string server;       // "host:port"
  std::string ca_pem;       // the hub's CA certificate, pinned from now on
  std::string code;         // one-time enrolment code
  std::string device_name;  // shown in `outreach-server device list`
};

struct EnrolReport {
  std::string device_id;
  std::string hub_id;
  std::string role;  // "adviser", "health_worker", "coordinator", "manager", "kiosk"
  std::string user_name;
  std::string reference_prefix;
};

struct SyncProgress {
  enum class Phase { kConnecting, kPushing, kPulling, kDone };
  Phase phase = Phase::kConnecting;
  uint64_t pushed = 0;   // changes acknowledged so far
  uint64_t to_push = 0;  // changes in the outbox at the start
  uint64_t pulled = 0;   // changes applied so far
};
using SyncProgressCallback = std::function<void(const SyncProgress&)>;

struct SyncOptions {
  uint32_t push_batch_size = 500;
  uint32_t pull_page_size = 1000;
  int timeout_ms = 30000;  // per network step
};

struct SyncReport {
  uint64_t pushed = 0;     // changes the server acknowledged (applied, duplicate or conflict)
  uint64_t pulled = 0;     // changes applied from the server
  uint64_t conflicts = 0;  // of ours that the server recorded as conflicts
  uint64_t rejected = 0;   // of ours that the server refused (kept in the rejected list)
  int64_t clock_skew_ms = 0;
};

// Exchanges an enrolment code for a device credential and stores it with the CA.
Result<EnrolReport> Enrol(Device& device, const EnrolOptions& options);

// Pushes the outbox, then pulls until up to date. Reports success only when the server
// acknowledged every pushed change. A revoked device gets kUnauthenticated and its
// cache is wiped.
Result<SyncReport> Sync(Device& device, const SyncOptions& options = {}, SyncProgressCallback progress = {});

}  // namespace outreach
