// The sync_state table: one value per key, the device's own counters and settings.
//
//   device_id          the local id minted when the file is made (the enrolled id is
//                      the identity table's)
//   hlc                the last stamp the clock gave or saw, persisted with every edit
//   clock_offset_ms    server time minus ours, as the last sync measured it
//   pull_cursor        the hub log position the device has applied up to
//   reference_prefix   the prefix of the reference numbers this device mints
//   reference_counter  the last reference number minted
//
// Caller holds the store's mutex.
#pragma once

#include <cstdint>
#include <string>

#include "common/hlc.h"
#include "common/sqlite/database.h"
#include "common/status.h"

namespace outreach::client::store {

// The integer under `key` (0 when the key is absent).
Result<int64_t> StateInt(sqlite::Database& db, const char* key);
Status SetStateInt(sqlite::Database& db, const char* key, int64_t value);
Status SetStateText(sqlite::Database& db, const char* key, const std::string& value);
// The clock's last stamp under "hlc", so stamps never go back after a restart.
Status PersistClock(sqlite::Database& db, const HybridClock& clock);

}  // namespace outreach::client::store
