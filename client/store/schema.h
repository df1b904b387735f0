// The local file's schema: forward-only migrations, one per version, run on open, and
// the state of a new file (its own device id, reference prefix, counters, reference data).
//
// PRAGMA user_version holds the version of the file. Open() applies every migration
// above it in order, all in one transaction with the user_version bump, so a crash
// mid-migration leaves the file at the previous version. A file newer than this build
// (user_version > kSchemaVersion) is refused, never downgraded.
//
// A migration is DDL (`sql`) plus, where a version reshapes data already held, steps
// run in the same transaction: a rebuild of the projections from the `record` table
// (projections.h), and the packing of the old `field_version` rows into
// `record.versions` (version 4), and the normalisation of the values stored before
// their formats were checked (version 5, stored_formats.h), which queues its edits in the
// outbox like any local edit.
#pragma once

#include <string>
#include <vector>

#include "common/hlc.h"
#include "common/sqlite/database.h"
#include "common/status.h"

namespace outreach::client {

inline constexpr int kSchemaVersion = 5;

struct Migration {
  int version;      // the user_version after this step
  const char* sql;  // DDL (and pure-SQL data moves), executed as one script
  bool rebuilds_projections;
  bool packs_field_versions;        // field_version rows -> record.versions, then DROP TABLE
  bool normalises_formats = false;  // stored values put in their format's normal form (stored_formats.h)
};

// Every migration, in version order (index 0 makes version 1 from an empty file).
const std::vector<Migration>& Migrations();

namespace store {

// Applies every migration above the file's user_version, all in one transaction. A file
// newer than this build fails with kFailedPrecondition naming it. `clock` and
// `fallback_author` stamp and sign the edits a migration queues (the store's clock and
// the author of local changes until enrolment).
Status Migrate(sqlite::Database& db, HybridClock& clock, const std::string& fallback_author);

// A file with no device id (new, or wiped): in one transaction, mints the local device
// id and a random reference prefix, zeroes the counters, the clock and the cursor, and
// seeds the reference data. A file that has one is left alone.
Status InitStateIfNew(sqlite::Database& db);

}  // namespace store

}  // namespace outreach::client
