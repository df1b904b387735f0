// Erasure on this device: a local EraseParticipant (LocalStore::Commit of an ERASE) and
// a pulled ERASE (the pull applier) share these steps, in the transaction of the edit or
// the batch. An erased record keeps its id, type and hub; its body, field versions and
// projection go, and so does every trace the device keeps of it besides its row:
//
//   change_log       values redacted (field numbers, times and authors stay)
//   outbox           its edits dropped: nothing about the person is pushed afterwards
//                    (the server allows the gap in the device's sequence)
//   rejected_change  the refusal stays listed, with kErasedReason instead of the
//                    server's reason (which may quote the refused value)
//
// After the transaction commits, CheckpointAfterErasure truncates the WAL, which still
// holds the page images written before (secure_delete zeroes the main file's free pages).
// Caller holds the store's mutex.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "client/store/record_row.h"
#include "common/sqlite/database.h"
#include "common/status.h"

namespace outreach::client::store {

// What the rejected list says instead of the server's reason once the record is erased.
inline constexpr const char* kErasedReason = "erased: the participant's data was removed from this device";

// The in-memory half of PurgeRecord: erased, body and field versions cleared.
void ClearForErasure(Row& row);
// Erases `row` here, stamped `hlc`: ClearForErasure, ForgetLocalTraces, and the row
// written (its projection goes).
Status PurgeRecord(sqlite::Database& db, Row& row, uint64_t hlc);
// What the device keeps about a record besides its row: the values of its change-log
// rows (RedactChangeLog), its edits waiting in the outbox (dropped), and the server's
// reasons in the rejected list (replaced: they may quote a refused value).
Status ForgetLocalTraces(sqlite::Database& db, const Uuid& record_id);
// Every change-log row of the record keeps its field numbers but loses its values.
Status RedactChangeLog(sqlite::Database& db, const Uuid& record_id);
// After `participants` were erased here, in the same transaction: purges every other
// trace of them the device holds, which the server cannot name since it never held
// them: records still linked to them (the registry's participant link: restricted
// notes, records not yet pushed or not named yet), records a refused create removed
// (their change-log rows), and conflict records about any record erased. `erased`:
// raw ids of the records already erased; every record purged here is added.
Status PurgeParticipantTraces(sqlite::Database& db, const std::vector<Uuid>& participants, uint64_t hlc,
                              std::set<std::string>* erased);
// After a committed erasure: checkpoints and truncates the WAL.
Status CheckpointAfterErasure(sqlite::Database& db);

}  // namespace outreach::client::store
