// Projections: the typed `*_p` tables the app's queries read (participants by adviser,
// name, reference or NI number; sessions by venue and day; bookings and attendance of a
// session; sightings; action plans and steps). They hold nothing the `record` table does
// not: each is a pure function of a live record (neither deleted nor erased), so a
// projection row is rewritten whenever its record is, dropped when the record stops
// being live, and every projection can be rebuilt from the records held.
//
// Every projection is declared once, in the table in projections.cc: its record type,
// its table, and its columns (body fields as they are, the day of a date-time field, or
// a value computed from the body). The statements that clear, insert and empty it are
// made from that declaration, and Projections() is the one list RebuildProjections and
// the store's Wipe go through.
//
// Every projection table is keyed by record id (column `id`, REFERENCES record(id) ON
// DELETE CASCADE) and has at most one row per record.
#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "client/store/record_row.h"
#include "common/sqlite/database.h"
#include "common/status.h"

namespace outreach::client::store {

// A column value as it is bound: its kind decides the bind (texts and blobs compare
// differently in SQLite).
enum class ValueKind : uint8_t { kNull, kInt, kText, kBlob };

// Binds a value by its kind (texts and blobs without a copy, see sqlite::Statement).
inline void BindValue(sqlite::Statement& s, int i, ValueKind kind, int64_t number, std::string_view bytes) {
  switch (kind) {
    case ValueKind::kInt: s.Int(i, number); return;
    case ValueKind::kText: s.Text(i, bytes); return;
    case ValueKind::kBlob: s.Blob(i, bytes); return;
    case ValueKind::kNull: break;
  }
  s.Null(i);
}

struct ProjectionDef;

// Lower-case ASCII letters and digits, every other run of characters one space: the
// participant_p.name_key of a name, and the words FindParticipantsByName looks for.
std::string NameKey(std::string_view text);

// A record's projection row: which projection (null: its type has none), and the values
// of the row (value 0 is the record id), if it has one. Texts and blobs point into the
// body the row was made from, the id given, or the caller's scratch string.
struct Projection {
  struct Value {
    ValueKind kind = ValueKind::kNull;
    int64_t number = 0;
    std::string_view bytes;
  };
  static constexpr int kMaxValues = 10;

  const ProjectionDef* def = nullptr;
  bool has_row = false;
  int count = 0;
  Value values[kMaxValues];

  // The INSERT of the row (null: no row).
  const char* insert_sql() const;
  Projection& Int(int64_t v) {
    values[count++] = {ValueKind::kInt, v, {}};
    return *this;
  }
  Projection& Text(std::string_view v) {
    values[count++] = {ValueKind::kText, 0, v};
    return *this;
  }
  Projection& Blob(std::string_view v) {
    values[count++] = {ValueKind::kBlob, 0, v};
    return *this;
  }
  Projection& Null() {
    values[count++] = {};
    return *this;
  }
};

// One projection, as declared in projections.cc with its statements made from it.
struct ProjectionDef {
  v1::RecordType type;
  std::string table;       // e.g. "participant_p"
  std::string clear_sql;   // DELETE of one record's row
  std::string empty_sql;   // DELETE of every row
  std::string insert_sql;  // INSERT of one row, every column bound
  std::string what;        // names the projection in errors
};

// Every projection, one per record type that has one. The statements' texts live as
// long as the program, so they key the statement cache.
const std::vector<const ProjectionDef*>& Projections();

// The projection row of a record of `type` with `body`; `live`: neither deleted nor
// erased (a record that is not live has none). `scratch` holds computed values.
void ProjectionOf(int type, const google::protobuf::Message& body, bool live, std::string_view id, std::string* scratch,
                  Projection* p);

// A projection row as one string (its statement and every value, length-prefixed):
// equal strings, equal rows. It owns its bytes, so it outlives the body it was taken from.
std::string Fingerprint(const Projection& p);
// The fingerprint of the projection row `row` has.
std::string ProjectionFingerprint(const Row& row);

// Writes the projection row of `row` (see PutRow for `had_projections` and `held_projection`).
Status WriteProjection(sqlite::Database& db, const Row& row, bool had_projections = true,
                       const std::string* held_projection = nullptr);

// Empties every projection table (the first half of a rebuild; Wipe).
Status EmptyProjections(sqlite::Database& db);
// Rewrites every projection from the records held (used by migrations that reshape
// them). Reads only the columns every schema version has, so it runs at any step.
Status RebuildProjections(sqlite::Database& db);

}  // namespace outreach::client::store
