// Seeds a hub's store before the server process starts on it: a "seeding" device is
// enrolled in-process and its changes go through the server's own SyncService::Push
// (dedupe, access checks, reconciliation, the hub log, derived state and audit), in
// batches of the service's largest push. Much faster than thousands of devices over
// TLS, and what lands in the store is exactly what such devices would have left.
#pragma once

#include <cstdint>
#include <string>

#include "bench/scenarios/hub_records.h"
#include "common/uuid.h"

namespace outreach::bench {

struct SeedReport {
  uint64_t changes = 0;  // changes appended to the hub log (participants, sessions, records)
  double seconds = 0;
};

// Pushes a hub of `shape` into the store at `store_location` (the server must not be
// running on it). Dies on any refused change.
SeedReport SeedHub(const std::string& store_location, const Uuid& hub_id, const HubShape& shape);

}  // namespace outreach::bench
