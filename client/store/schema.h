// The local file's schema: forward-only migrations, one per version, run on open, and
// the state of a new file (its own device id, reference prefix, counters, reference data).
//
// PRAGMA user_version holds the version of the file. Open() applies every migration
// above it in order, each in its own transaction with the user_version bump, so a crash
// mid-migration leaves the file at the previous version. A file newer than this build
// (user_version > kSchemaVersion) is refused, never downgraded.
//
// A migration is DDL (`sql`) plus, where a version reshapes data already held, steps
// run in the same transaction: a rebuild of the projections from the `record` table
// (projections.h), and the packing of the old `field_version` rows into
// `record.versions` (version 4).
#pragma once

#include <vector>

#include "common/sqlite/database.h"
#include "common/status.h"

namespace outreach::client {

inline constexpr int kSchemaVersion = 4;

struct Migration {
  int version;      // the user_version after this step
  const char* sql;  // DDL (and pure-SQL data moves), executed as one script
  bool rebuilds_projections;
  bool packs_field_versions;  // field_version rows -> record.versions, then DROP TABLE
};

// Every migration, in version order (index 0 makes version 1 from an empty file).
const std::vector<Migration>& Migrations();

namespace store {

// Applies every migration above the file's user_version, each in its own transaction.
// A file newer than this build fails with kFailedPrecondition naming it.
Status Migrate(sqlite::Database& db);

// A file with no device id (new, or wiped): in one transaction, mints the local device
// id and a random reference prefix, zeroes the counters, the clock and the cursor, and
// seeds the reference data. A file that has one is left alone.
Status InitStateIfNew(sqlite::Database& db);

}  // namespace store

}  // namespace outreach::client
