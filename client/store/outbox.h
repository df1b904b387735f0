// The outbox: local edits on their way to the server.
//
// Commit writes an edit, in one transaction: the record (with its field versions) and
// its projection, a change_log row (the field-level change, stamped, with its base
// versions), and, for every change that leaves the device, an outbox row keyed by the
// next device_seq. An outbound change then goes through these states:
//
//                    Commit
//                      |
//                      v
//                   queued  (outbox row n; change_log n, outcome 0)
//         ack APPLIED, |  \ ack REJECTED              erasure of its record
//   DUPLICATE, CONFLICT|   \                          (from queued only)
//                      v    v                                 |
//           acknowledged    refused                           v
//  (outbox row gone,        (as acknowledged, plus a          dropped (outbox row gone,
//   outcome set)            rejected_change row; the edit     change-log values redacted)
//                           undone here: UndoRefusedChange)
//
// - device_seq counts outbound changes from 1 without gaps, except where an erasure
//   dropped edits (the server allows gaps). Restricted case notes never leave the
//   device: they are logged without a device_seq and never queued.
// - An acknowledgement of a device_seq not queued (a re-sent ack) changes nothing.
// Caller holds the store's mutex and, for the writes, a transaction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "client/store/local_store.h"
#include "common/hlc.h"
#include "common/sqlite/database.h"
#include "common/status.h"

namespace outreach::client::store {

// Who makes local edits (the front's cached identity): the stamp's device, the hub of
// records new to the file (empty before enrolment) and the author logged.
struct Writer {
  const Uuid& device_id;
  const std::string& hub_id;
  const std::string& author;
};

// Stamps and writes `edits` (see LocalStore::Commit) and persists the clock; returns
// the records as stored. An erasure among them is done here (erasure.h); the WAL is the
// caller's to checkpoint after the commit.
Result<std::vector<v1::Record>> CommitEdits(sqlite::Database& db, const std::vector<RecordEdit>& edits,
                                            const Writer& writer, HybridClock& clock);
// The next reference number (prefix + persisted counter, which is advanced), for a new
// participant's body.
Result<std::string> MintReference(sqlite::Database& db);
// See LocalStore::AcknowledgeChanges.
Status Acknowledge(sqlite::Database& db, const v1::PushAck& ack, HybridClock& clock);

// Queued changes in device_seq order, at most `limit`.
Result<std::vector<v1::Change>> Queued(sqlite::Database& db, size_t limit);
// The changes a statement selects as its column 0 (change_log.change), in its order;
// `what` names them in the error when one does not decode ("an outbox entry").
Result<std::vector<v1::Change>> LoadChanges(sqlite::Statement& s, const char* what);
Result<uint64_t> QueuedCount(sqlite::Database& db);
// Fields of `id` that a queued edit changed.
Result<std::set<uint32_t>> PendingFields(sqlite::Database& db, const Uuid& id);
// Raw ids of the records with a queued edit.
Result<std::set<std::string>> RecordsInOutbox(sqlite::Database& db);

}  // namespace outreach::client::store
