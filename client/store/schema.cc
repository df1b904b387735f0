#include "client/store/schema.h"

#include <map>
#include <string>

#include "client/store/projections.h"
#include "client/store/record_row.h"
#include "client/store/stored_formats.h"
#include "client/store/sync_state.h"
#include "common/instruments.h"
#include "common/reference.h"

namespace outreach::client {
namespace {

// Version 1: records, field versions, change log, outbox, sync state, identity and the
// first projections (participants, sessions, bookings, attendance, sightings).
constexpr const char* kV1 = R"sql(
-- value has no declared type (no affinity), so a prefix like '70E2' stays text.
CREATE TABLE sync_state(
  key TEXT PRIMARY KEY,
  value
) WITHOUT ROWID;

CREATE TABLE identity(
  one INTEGER PRIMARY KEY CHECK (one = 1),
  device_id BLOB NOT NULL,
  credential BLOB NOT NULL,
  server TEXT NOT NULL,
  ca_pem TEXT NOT NULL,
  hub_id BLOB NOT NULL,
  role INTEGER NOT NULL,
  user_name TEXT NOT NULL,
  reference_prefix TEXT NOT NULL,
  venue_id BLOB NOT NULL
);

CREATE TABLE record(
  id BLOB PRIMARY KEY,
  type INTEGER NOT NULL,
  hub_id BLOB NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  erased INTEGER NOT NULL DEFAULT 0,
  body BLOB NOT NULL,
  participant_id BLOB,
  occurred_on TEXT NOT NULL DEFAULT '',
  created_hlc INTEGER NOT NULL,
  updated_hlc INTEGER NOT NULL
);
CREATE INDEX record_by_type ON record(type, id);
CREATE INDEX record_by_participant ON record(participant_id, type, created_hlc);

CREATE TABLE field_version(
  record_id BLOB NOT NULL REFERENCES record(id) ON DELETE CASCADE,
  field INTEGER NOT NULL,
  hlc INTEGER NOT NULL,
  PRIMARY KEY (record_id, field)
) WITHOUT ROWID;

CREATE TABLE change_log(
  local_seq INTEGER PRIMARY KEY,
  device_seq INTEGER UNIQUE,
  record_id BLOB NOT NULL,
  type INTEGER NOT NULL,
  hlc INTEGER NOT NULL,
  op INTEGER NOT NULL,
  author TEXT NOT NULL,
  device_id BLOB NOT NULL,
  change BLOB NOT NULL,
  outcome INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE outbox(
  device_seq INTEGER PRIMARY KEY REFERENCES change_log(device_seq),
  record_id BLOB NOT NULL
);
CREATE INDEX outbox_by_record ON outbox(record_id);

CREATE TABLE participant_p(
  id BLOB PRIMARY KEY REFERENCES record(id) ON DELETE CASCADE,
  reference TEXT NOT NULL,
  given_name TEXT NOT NULL,
  family_name TEXT NOT NULL,
  date_of_birth TEXT NOT NULL,
  ni_number TEXT NOT NULL,
  adviser TEXT NOT NULL,
  status INTEGER NOT NULL,
  registered_on TEXT NOT NULL
);
CREATE INDEX participant_by_reference ON participant_p(reference);
CREATE INDEX participant_by_adviser ON participant_p(adviser, status);
CREATE INDEX participant_by_ni ON participant_p(ni_number);

CREATE TABLE session_p(
  id BLOB PRIMARY KEY REFERENCES record(id) ON DELETE CASCADE,
  venue_id BLOB NOT NULL,
  day TEXT NOT NULL,
  starts_at TEXT NOT NULL
);
CREATE INDEX session_by_venue_day ON session_p(venue_id, day, starts_at);

CREATE TABLE booking_p(
  id BLOB PRIMARY KEY REFERENCES record(id) ON DELETE CASCADE,
  session_id BLOB NOT NULL,
  participant_id BLOB NOT NULL,
  status INTEGER NOT NULL
);
CREATE INDEX booking_by_session ON booking_p(session_id);

CREATE TABLE attendance_p(
  id BLOB PRIMARY KEY REFERENCES record(id) ON DELETE CASCADE,
  session_id BLOB NOT NULL,
  participant_id BLOB NOT NULL,
  status INTEGER NOT NULL
);
CREATE INDEX attendance_by_session ON attendance_p(session_id);

-- A participant was seen on `day` (attended a session, or was reached).
CREATE TABLE seen_p(
  id BLOB PRIMARY KEY REFERENCES record(id) ON DELETE CASCADE,
  participant_id BLOB NOT NULL,
  day TEXT NOT NULL
);
CREATE INDEX seen_by_participant ON seen_p(participant_id, day);
)sql";

// Version 2: the rejected-changes list, a normalised name key for finding people (kept
// in step by the projection code, backfilled here), and action plan projections for the
// overdue query (rebuilt from the records already held).
constexpr const char* kV2 = R"sql(
CREATE TABLE rejected_change(
  device_seq INTEGER PRIMARY KEY,
  record_id BLOB NOT NULL,
  type INTEGER NOT NULL,
  reason TEXT NOT NULL,
  field TEXT NOT NULL
);

ALTER TABLE participant_p ADD COLUMN name_key TEXT NOT NULL DEFAULT '';

CREATE TABLE action_plan_p(
  id BLOB PRIMARY KEY REFERENCES record(id) ON DELETE CASCADE,
  participant_id BLOB NOT NULL,
  status INTEGER NOT NULL,
  started_on TEXT NOT NULL,
  agreed_on TEXT NOT NULL,
  review_on TEXT NOT NULL
);
CREATE INDEX action_plan_by_participant ON action_plan_p(participant_id);

CREATE TABLE action_step_p(
  id BLOB PRIMARY KEY REFERENCES record(id) ON DELETE CASCADE,
  plan_id BLOB NOT NULL,
  status INTEGER NOT NULL,
  due_on TEXT NOT NULL
);
CREATE INDEX action_step_by_plan ON action_step_p(plan_id);
)sql";

// Version 3: an index to find every change-log row of a record, so an erasure can
// redact the values the device itself once wrote or received.
constexpr const char* kV3 = R"sql(
CREATE INDEX change_log_by_record ON change_log(record_id);
)sql";

// Version 4: bulk pulls write fewer B-trees.
// - A record's field versions move into `record.versions` (per field, in field-number
//   order, u32 field number and u64 HLC, little-endian: 12 bytes each; packed from the
//   old `field_version` rows by LocalStore, which then drops that table). They are read
//   and written with the record anyway; a table of their own cost about five random
//   B-tree inserts per pulled record.
// - The projections become WITHOUT ROWID tables keyed by record id: one B-tree per
//   table instead of a rowid table plus its primary-key index. They hold nothing but what
//   `record` does, so they are dropped here and rebuilt from the records held.
// - The day a mark says the person was seen is a column of the attendance projection,
//   not indexed, no longer a `seen_p` row of its own (with a random insert into a
//   participant index for every mark: ~20% of a bulk pull's CPU); the last-seen report
//   groups the projection instead. `seen_p` keeps the contact attempts that reached
//   someone.
constexpr const char* kV4 = R"sql(
ALTER TABLE record ADD COLUMN versions BLOB NOT NULL DEFAULT x'';

DROP TABLE participant_p;
DROP TABLE session_p;
DROP TABLE booking_p;
DROP TABLE attendance_p;
DROP TABLE seen_p;
DROP TABLE action_plan_p;
DROP TABLE action_step_p;

CREATE TABLE participant_p(
  id BLOB PRIMARY KEY REFERENCES record(id) ON DELETE CASCADE,
  reference TEXT NOT NULL,
  given_name TEXT NOT NULL,
  family_name TEXT NOT NULL,
  date_of_birth TEXT NOT NULL,
  ni_number TEXT NOT NULL,
  adviser TEXT NOT NULL,
  status INTEGER NOT NULL,
  registered_on TEXT NOT NULL,
  name_key TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX participant_by_reference ON participant_p(reference);
CREATE INDEX participant_by_adviser ON participant_p(adviser, status);
CREATE INDEX participant_by_ni ON participant_p(ni_number);

CREATE TABLE session_p(
  id BLOB PRIMARY KEY REFERENCES record(id) ON DELETE CASCADE,
  venue_id BLOB NOT NULL,
  day TEXT NOT NULL,
  starts_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX session_by_venue_day ON session_p(venue_id, day, starts_at);

CREATE TABLE booking_p(
  id BLOB PRIMARY KEY REFERENCES record(id) ON DELETE CASCADE,
  session_id BLOB NOT NULL,
  participant_id BLOB NOT NULL,
  status INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX booking_by_session ON booking_p(session_id);

-- seen_on: the day of a mark that says the person was there (attended, late, left
-- early); NULL otherwise.
CREATE TABLE attendance_p(
  id BLOB PRIMARY KEY REFERENCES record(id) ON DELETE CASCADE,
  session_id BLOB NOT NULL,
  participant_id BLOB NOT NULL,
  status INTEGER NOT NULL,
  seen_on TEXT
) WITHOUT ROWID;
CREATE INDEX attendance_by_session ON attendance_p(session_id);

-- A contact attempt reached the participant on `day`.
CREATE TABLE seen_p(
  id BLOB PRIMARY KEY REFERENCES record(id) ON DELETE CASCADE,
  participant_id BLOB NOT NULL,
  day TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX seen_by_participant ON seen_p(participant_id, day);

CREATE TABLE action_plan_p(
  id BLOB PRIMARY KEY REFERENCES record(id) ON DELETE CASCADE,
  participant_id BLOB NOT NULL,
  status INTEGER NOT NULL,
  started_on TEXT NOT NULL,
  agreed_on TEXT NOT NULL,
  review_on TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX action_plan_by_participant ON action_plan_p(participant_id);

CREATE TABLE action_step_p(
  id BLOB PRIMARY KEY REFERENCES record(id) ON DELETE CASCADE,
  plan_id BLOB NOT NULL,
  status INTEGER NOT NULL,
  due_on TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX action_step_by_plan ON action_step_p(plan_id);
)sql";

}  // namespace

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> migrations = {
      {1, kV1, false, false},
      {2, kV2, true, false},
      {3, kV3, false, false},
      {4, kV4, true, true},
      // Version 5: no DDL; phone numbers, postcodes, e-mail and NI numbers in normal form.
      {5, "", false, false, true},
  };
  return migrations;
}

namespace store {
namespace {

// Version 4: every field_version row into its record's `versions`, then the table goes.
Status PackFieldVersions(sqlite::Database& db) {
  std::map<std::string, std::map<uint32_t, uint64_t>> packed;  // raw record id -> versions
  {
    Result<sqlite::Statement> s = db.Prepare("SELECT record_id, field, hlc FROM field_version");
    if (!s.ok()) return s.status();
    int rc;
    while ((rc = s->Step()) == SQLITE_ROW) {
      packed[s->ColBlob(0)][static_cast<uint32_t>(s->ColInt(1))] = static_cast<uint64_t>(s->ColInt(2));
    }
    if (rc != SQLITE_DONE) return s->Error("cannot read field versions");
  }
  for (const auto& [id, versions] : packed) {
    Result<sqlite::Statement> s = db.Prepare("UPDATE record SET versions = ? WHERE id = ?");
    if (!s.ok()) return s.status();
    const std::string packed_versions = EncodeVersions(versions);
    s->Blob(1, packed_versions).Blob(2, id);
    OUTREACH_RETURN_IF_ERROR(s->Run("cannot write field versions"));
  }
  return db.Exec("DROP TABLE field_version");
}

// The "my-journey" instrument, version 1, as reference data: stored without a change or
// outbox entry and with no field versions, so any server copy of it wins.
Status SeedReferenceData(sqlite::Database& db) {
  Row row;
  row.id = MyJourneyInstrumentId();
  row.type = v1::RECORD_TYPE_INSTRUMENT;
  row.body = std::make_unique<v1::Instrument>(MyJourneyInstrument());
  return PutRow(db, row, 0);
}

}  // namespace

Status Migrate(sqlite::Database& db, HybridClock& clock, const std::string& fallback_author) {
  Result<int64_t> version = db.QueryInt("PRAGMA user_version");
  if (!version.ok()) return version.status();
  if (*version > kSchemaVersion) {
    return Status::FailedPrecondition(db.path() + " has schema version " + std::to_string(*version) +
                                      ", newer than this build (" + std::to_string(kSchemaVersion) +
                                      "); upgrade the app");
  }
  if (*version == kSchemaVersion) return Status::Ok();
  // Every pending step in one transaction, so a file is either as it was or current. The
  // projections are rebuilt once, after the last step: the rebuild writes the projection
  // tables as this build declares them, which an intermediate version may not have yet
  // (a version-1 file holding attendance could not be opened when version 2 rebuilt them).
  sqlite::Transaction txn(db);
  OUTREACH_RETURN_IF_ERROR(txn.status());
  bool rebuild_projections = false, normalise_formats = false;
  for (const Migration& m : Migrations()) {
    if (m.version <= *version) continue;
    OUTREACH_RETURN_IF_ERROR(db.Exec(m.sql));
    if (m.packs_field_versions) OUTREACH_RETURN_IF_ERROR(PackFieldVersions(db));
    rebuild_projections = rebuild_projections || m.rebuilds_projections;
    normalise_formats = normalise_formats || m.normalises_formats;
  }
  if (rebuild_projections) OUTREACH_RETURN_IF_ERROR(RebuildProjections(db));
  // Edits write records and projections as this build does: after the rebuild.
  if (normalise_formats) OUTREACH_RETURN_IF_ERROR(NormaliseStoredFormats(db, clock, fallback_author));
  const std::string bump = "PRAGMA user_version=" + std::to_string(kSchemaVersion);
  OUTREACH_RETURN_IF_ERROR(db.Exec(bump.c_str()));
  return txn.Commit();
}

Status InitStateIfNew(sqlite::Database& db) {
  {
    Result<sqlite::Statement> s = db.Prepare("SELECT 1 FROM sync_state WHERE key = 'device_id'");
    if (!s.ok()) return s.status();
    const int rc = s->Step();
    if (rc == SQLITE_ROW) return Status::Ok();
    if (rc != SQLITE_DONE) return s->Error("cannot read sync state");
  }
  sqlite::Transaction txn(db);
  OUTREACH_RETURN_IF_ERROR(txn.status());
  {
    Result<sqlite::Statement> put = db.Prepare("INSERT OR REPLACE INTO sync_state(key, value) VALUES ('device_id', ?)");
    if (!put.ok()) return put.status();
    const Uuid device_id = Uuid::NewV7();
    put->Id(1, device_id);
    OUTREACH_RETURN_IF_ERROR(put->Run("cannot write sync state"));
  }
  OUTREACH_RETURN_IF_ERROR(SetStateText(db, "reference_prefix", ReferenceNumber::RandomPrefix()));
  OUTREACH_RETURN_IF_ERROR(SetStateInt(db, "reference_counter", 0));
  OUTREACH_RETURN_IF_ERROR(SetStateInt(db, "hlc", 0));
  OUTREACH_RETURN_IF_ERROR(SetStateInt(db, "clock_offset_ms", 0));
  OUTREACH_RETURN_IF_ERROR(SetStateInt(db, "pull_cursor", 0));
  OUTREACH_RETURN_IF_ERROR(SeedReferenceData(db));
  return txn.Commit();
}

}  // namespace store

}  // namespace outreach::client
