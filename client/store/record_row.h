// Record rows: one row of the `record` table per record the device holds, and how a
// record is kept in it.
//
//   record(id, type, hub_id, deleted, erased, body, participant_id, occurred_on,
//          created_hlc, updated_hlc, versions)
//
// - body: the serialised body message of the record's type. A type this build does not
//   know is kept as bytes (its fields as unknown fields), so nothing a newer device
//   wrote is lost.
// - versions: the record's field versions, packed (EncodeVersions): per field, the HLC
//   of the value held, which is the base version of the next local edit of the field.
// - participant_id, occurred_on: derived from the body (DeriveColumns) whenever the row
//   is written, for the participant's timeline. Never set on their own.
//
// PutRow writes a record with its projection row (projections.h); WriteWholeRow writes
// a row alone from columns already encoded (a pulled page's preparation). Caller holds
// the store's mutex.
#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/sqlite/database.h"
#include "common/status.h"
#include "common/uuid.h"
#include "outreach/v1/records.pb.h"

namespace outreach::client::store {

// A record as held in the `record` table, with its body decoded.
struct Row {
  bool exists = false;
  Uuid id;
  int type = 0;
  std::string hub_id;
  bool deleted = false;
  bool erased = false;
  std::unique_ptr<google::protobuf::Message> body;
  uint64_t created_hlc = 0;
  uint64_t updated_hlc = 0;  // as read; PutRow writes the stamp it is given
  // field -> HLC of the value held: the base version of the next local edit of it.
  std::map<uint32_t, uint64_t> versions;
  // Set by LoadRow when the file holds the row: its participant link as stored (empty
  // for none). PutRow then UPDATEs the row in place.
  std::optional<std::string> held_participant;

  // From a `record` row read as (type, *, deleted, erased, body, ...): exists, type,
  // deleted, erased and the decoded body; `id` names the record in the error.
  Status DecodeFrom(const sqlite::Statement& s);
  v1::Record ToRecord() const;
};

// An empty body of `type` (of an unknown type: a message that keeps every field as bytes).
std::unique_ptr<google::protobuf::Message> NewBody(int type);

// record.versions: per field, in field-number order, u32 field number and u64 HLC, both
// little-endian (schema version 4).
std::string EncodeVersions(const std::map<uint32_t, uint64_t>& versions);
// Status::DataLoss unless `blob` is a whole number of entries; `id` names the record.
Result<std::map<uint32_t, uint64_t>> DecodeVersions(std::string_view blob, const Uuid& id);

// The record row's participant_id (empty: none, bound as NULL) and occurred_on, as
// derived from its body.
void DeriveColumns(int type, std::string_view raw_id, const google::protobuf::Message& body, std::string* participant,
                   std::string* occurred_on);

// The record's row (Row::exists false when absent).
Result<Row> LoadRow(sqlite::Database& db, const Uuid& id);

// Writes the record row of `row` (the `updated_hlc` is `hlc`; a row new to the file is
// created at `hlc`) and its projection. `had_projections` false: the record is new to
// the file, so there are no projection rows to clear first. `held_projection`: the
// ProjectionFingerprint of the record as the file holds it, when known; a projection
// that has not changed is not rewritten.
Status PutRow(sqlite::Database& db, const Row& row, uint64_t hlc, bool had_projections = true,
              const std::string* held_projection = nullptr);

// Writes a whole record row from its encoded columns (an INSERT, or an overwrite of the
// row with the same id keeping its created_hlc). `participant` empty: NULL. The views
// must stay valid for the call only.
Status WriteWholeRow(sqlite::Database& db, const Uuid& id, int type, std::string_view hub_id, bool deleted, bool erased,
                     std::string_view body, std::string_view participant, std::string_view occurred_on,
                     uint64_t created_hlc, uint64_t updated_hlc, std::string_view versions);

}  // namespace outreach::client::store
