// The pull applier: pulled pages of the hub's log, applied to the device's file.
//
// Two halves, on two threads:
// - PreparePage (LocalStore::PreparePulledPage), on the thread that receives pages:
//   for each change that could create a record, the record row and projection row the
//   store would write for it if the record were new to the file, copied into buffers of
//   the page's own (PreparedRecords). Touches no file and no state of any store.
// - PulledBatch (LocalStore::ApplyPulledPages), under the store's mutex: a batch of
//   consecutive pages, applied in ONE transaction with the last page's cursor.
//
// A change's preparation is used only when its record is new to the file, has no local
// edit waiting in the outbox and no other change in the batch; every other change is
// applied as without one, so the file ends up exactly the same either way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "client/store/local_store.h"
#include "client/store/projections.h"
#include "client/store/record_row.h"
#include "common/hlc.h"
#include "common/sqlite/database.h"
#include "common/status.h"

namespace outreach::client::store {

// What PreparePulledPage made of a page (the contents of the opaque PreparedPage).
class PreparedRecords final : public PreparedPage {
 public:
  // A column value: a number, or bytes at [at, at + size) of the page's buffer.
  struct Value {
    ValueKind kind = ValueKind::kNull;
    int64_t number = 0;
    uint32_t at = 0;
    uint32_t size = 0;
  };
  // The rows prepared for one change.
  struct Record {
    bool ready = false;  // false: the change takes the usual path
    Value body, versions, participant, occurred_on;
    const char* projection_sql = nullptr;  // the INSERT of its projection row; null: none
    uint32_t first_value = 0;              // its projection values: values[first, first + count)
    uint32_t value_count = 0;
  };

  std::string_view View(const Value& v) const { return std::string_view(bytes).substr(v.at, v.size); }

  std::vector<Record> records;  // by the change's position in the page
  std::vector<Value> values;
  std::string bytes;
};

// See LocalStore::PreparePulledPage.
std::unique_ptr<PreparedRecords> PreparePage(const v1::ChangesPage& page);

// One batch of pulled pages applied in one transaction. Made and used once, by
// LocalStore::ApplyPulledPages under the store's mutex:
//
//   Apply()
//     | nothing new and the cursor where it was ----------------------------> done
//     v
//   BEGIN (foreign keys off until the end)
//     v
//   Index      every record the batch touches, in first-touch order, with its count of
//              changes; which of them the file holds (one query per 500 ids) and which
//              have a local edit queued (one outbox read)
//     v
//   Stage      each change in log order, onto its record's row held in memory (loaded
//              on first touch if held; a record new to the file with one prepared
//              change keeps its preparation instead); an ERASE clears the row and
//              forgets its local traces at once
//     v
//   Write      each staged record once: from its preparation, or its row and
//              projection (left alone when its projected values did not change)
//     v
//   Erase      traces of the erased participants the server cannot name (erasure.h)
//     v
//   cursor, clock; COMMIT; after an erasure, the WAL checkpointed and truncated
//
// Equivalent to writing after each change, since nothing else reads or writes the
// records while the store's mutex is held.
class PulledBatch {
 public:
  // `hub_id`: the hub of records whose changes name none (the enrolled hub).
  PulledBatch(sqlite::Database& db, HybridClock& clock, const std::string& hub_id)
      : db_(db), clock_(clock), hub_id_(hub_id) {}
  PulledBatch(const PulledBatch&) = delete;
  PulledBatch& operator=(const PulledBatch&) = delete;

  // `prepared` is null or holds `count` entries, each null or the page's preparation.
  Status Apply(const v1::ChangesPage* const* pages, const PreparedRecords* const* prepared, size_t count,
               PulledBatchStats* stats);

 private:
  // A record the batch touches, held in memory while the batch applies: its changes are
  // applied to `row` in log order, and the result is written once. A record new to the
  // file whose one change in the batch was prepared is written from that preparation
  // (`ready`): the same row, made on the receiving thread.
  struct Staged {
    Row row;
    bool existed = false;                            // the file held the record before the batch
    uint64_t hlc = 0;                                // the stamp of its last change in the batch
    std::set<uint32_t> pending;                      // fields with a local edit waiting in the outbox
    const PreparedRecords* page = nullptr;           // with `ready`: its preparation
    const PreparedRecords::Record* ready = nullptr;  // null: `row` is written
    const v1::Change* change = nullptr;              // with `ready`: its one change
    // The projection of the record as the file held it (see ProjectionFingerprint): a
    // batch that changes none of its projected values (a new phone number) leaves the
    // projection row alone.
    std::optional<std::string> held_projection;
  };

  Status Index(const v1::ChangesPage* const* pages, size_t count, size_t changes);
  Status FindHeld();
  // Change `k` of a page (`prepared`: the page's preparation, or null) onto its record.
  Status Stage(const v1::ChangesPage& page, int k, const PreparedRecords* prepared);
  // The first change of the batch to a record: its preparation taken (`*taken`), or its
  // row loaded (a new one made) with its pending fields.
  Status FirstTouch(const v1::ChangesPage& page, int k, const PreparedRecords* prepared, const Uuid& id, Staged& st,
                    bool* taken);
  Status Write();
  // Writes a record new to the file, and its projection row, from its preparation.
  Status PutPrepared(const Staged& st);

  sqlite::Database& db_;
  HybridClock& clock_;
  const std::string& hub_id_;

  // Index
  std::set<std::string> in_outbox_;                // records with a local edit queued
  std::unordered_map<std::string, size_t> index_;  // raw record id -> position in staged_
  std::vector<const std::string*> ids_;            // first-touch order; point into index_'s keys
  std::vector<uint32_t> touches_;                  // changes per record, the same order
  std::unordered_set<std::string> held_;           // of them, records the file holds
  // Stage
  std::vector<Staged> staged_;  // the same order
  std::vector<bool> loaded_;
  std::set<std::string> erased_ids_;  // records the batch erases
  std::vector<Uuid> erased_participants_;
  uint64_t erase_hlc_ = 0;  // the latest ERASE stamp
  // Write
  uint64_t new_records_ = 0;  // staged records the file did not hold
};

}  // namespace outreach::client::store
