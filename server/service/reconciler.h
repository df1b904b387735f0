// Reconciler: merges changes into a hub's state inside one store transaction.
//
// A Reconciler lives for one StoreTxn. For each device change it checks the record
// (type, id, hub, field encodings), the device's right to write it (access_policy.h),
// bounds its clock stamp, and merges it under its record type's MergePolicy from the
// registry; then it appends what changed to the hub log, updates the derived state and
// writes audit rows, all in that transaction. Domain checks follow the merge: duplicate
// participants, a second claim of an outcome, a duplicate merge's redirects, a taken
// loser of a conflict. Erasure purges a participant and everything linked to it.
//
// A merged participant's records follow the merge even when they arrive after it: a
// register row the merge moved (deleted by the server, its participant MERGED) takes a
// later edit on the kept participant's row for the same session, and a record arriving
// linked to a merged participant is linked to the live end of its merged_into chain
// (a register row lands on that participant's row). See RegisterMove and Relink below.
//
// Server-authored changes (conflicts, reviews, redirects, erasures, resolutions) carry
// the server's HLC, an all-zero origin device and the author "server".
#pragma once

#include <google/protobuf/message.h>

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/hlc.h"
#include "common/record_registry.h"
#include "common/validation/record_rules.h"
#include "server/service/sync_service.h"
#include "server/store/store.h"

namespace outreach::server {

// What became of one device change (the PushAck result without its device_seq).
struct ChangeVerdict {
  v1::ChangeOutcome outcome = v1::CHANGE_OUTCOME_UNSPECIFIED;
  uint64_t server_seq = 0;  // 0 when nothing was appended
  std::string reason;
  std::string field;
};

class Reconciler {
 public:
  // `clock` must outlive the Reconciler; a device stamp more than `max_clock_skew_ms`
  // ahead of it is re-stamped. `formats`, when given, holds the format verdicts reached
  // for the push before its transaction (SyncService::Push), and keeps those reached as
  // the changes are checked; it must outlive the Reconciler.
  Reconciler(StoreTxn& txn, HybridClock& clock, int64_t max_clock_skew_ms,
             validation::FormatVerdicts* formats = nullptr);

  // Checks and merges one change from `device`. Refusals come back as REJECTED
  // verdicts; an error Status means the store failed and the transaction must abort.
  Result<ChangeVerdict> ApplyDeviceChange(const DeviceContext& device, const v1::Change& change);

  // Creates record `id` of `type` in `hub_id` with `body`, authored by the server.
  // Returns its server_seq.
  Result<uint64_t> CreateServerRecord(const Uuid& hub_id, const Uuid& id, v1::RecordType type,
                                      const google::protobuf::Message& body);

  // Gives server-managed record `rec` the body `body`, committing the fields that differ
  // as a server change. Returns its server_seq (0: nothing differed).
  Result<uint64_t> UpdateServerRecord(StoredRecord rec, const google::protobuf::Message& body);

  // Resolves open conflict `conflict_id` of `hub_id` as the server: kNotFound or
  // kFailedPrecondition (field "conflict_id") when there is no such open conflict.
  Status ResolveConflict(const Uuid& hub_id, const Uuid& conflict_id, v1::ConflictStatus resolution,
                         const std::string& resolved_by);

 private:
  struct Writer {
    Uuid device;         // nil = the server
    std::string author;  // the person, or "server"
  };
  // One field on which two writers disagreed.
  struct Disagreement {
    uint32_t field = 0;
    std::string winning_value, losing_value;
    FieldVersion winning, losing;
    std::string winning_author, losing_author;
  };

  static Writer Server() { return Writer{Uuid(), "server"}; }

  // A device's upsert of a register row of a merged participant, readdressed to the row
  // of the live participant it was merged into (same session).
  struct RegisterMove {
    v1::Change change;  // the device's change for `to`: record id and participant rewritten
    Uuid from_id;       // the row the device addressed
    // Its tombstone (deleted by the merge that moved it); nullopt: the device created
    // the row after the merge, and the server never held it.
    std::optional<StoredRecord> from;
    std::optional<StoredRecord> to;  // the kept participant's row; nullopt: none yet
    Uuid participant;                // the live participant the row now belongs to
    Uuid hub_id;
  };

  Result<ChangeVerdict> Upsert(const DeviceContext& device, const RecordTypeInfo& info, const v1::Change& change,
                               std::optional<StoredRecord> existing, const google::protobuf::Message& proposed,
                               StoredRecord fresh, Hlc hlc);
  Result<ChangeVerdict> Erase(const Writer& writer, StoredRecord participant, Hlc hlc, uint64_t device_seq);

  // Applies `fields` to `rec` (its current state, or a new record when `is_new`),
  // stamped (hlc, writer); writes state, log entry and audit rows. Returns the
  // server_seq, or 0 when nothing changed. `held_values`, when given, are the encodings
  // `rec` holds now of each of `fields` (the audit rows' old values), already read by
  // the caller; otherwise they are read here.
  Result<uint64_t> Commit(StoredRecord& rec, bool is_new, v1::ChangeOp op, const std::vector<v1::FieldValue>& fields,
                          Hlc hlc, const Writer& writer, uint64_t device_seq,
                          const std::vector<std::string>* held_values = nullptr);
  // Edits `rec`'s body with `edit` and commits the difference as a server change.
  Result<uint64_t> ServerEdit(StoredRecord rec, const std::function<void(google::protobuf::Message*)>& edit);

  Status RestateNamesForKiosks(const Uuid& hub_id, const google::protobuf::Message& link);
  Status RecordDisagreement(const StoredRecord& target, const Disagreement& d);
  // Opens a review for each live participant sharing a key `participant` gained with
  // this write (a key in `keys_before` was checked when it was gained: every pair it
  // makes already has its review, once per pair).
  Status CheckDuplicates(const StoredRecord& participant, const std::vector<std::string>& keys_before);
  Result<bool> CheckSecondClaim(const StoredRecord& outcome);
  Status MergeParticipants(const Uuid& hub_id, const Uuid& kept, const Uuid& merged);
  // A register row's id derives from its session and participant, so a merge moves it:
  // its fields go to the kept participant's row for that session (created if missing;
  // where both rows hold a field, the later stamp wins) and the old row is deleted, so
  // no session ever has two rows for one person. False (nothing done) when the kept
  // participant's row for the session was deleted: the caller then redirects in place.
  Result<bool> MoveRegisterRow(const Uuid& hub_id, const Uuid& kept, StoredRecord row);
  Status TakeLoser(const StoredRecord& conflict);

  // The live participant `participant` ended up merged into, following merged_into
  // through later merges. nullopt when `participant` is not a MERGED participant, or
  // when its chain loops or ends at a participant that is missing, erased or in
  // another hub (then nothing is redirected).
  Result<std::optional<Uuid>> FinalParticipant(const Uuid& hub_id, const Uuid& participant);
  // Whether `participant` may be a MERGED participant of `hub_id`: one indexed read
  // (kMergedKey) per Reconciler, then answered from memory, so the many writes that link
  // a live participant pay no read each.
  Result<bool> MaybeMerged(const Uuid& hub_id, const Uuid& participant);
  // Whether register row `row` (deleted) was deleted by the server (a merge moving it)
  // rather than by a device: its delete's audit row names no device.
  Result<bool> DeletedByServer(const StoredRecord& row);
  // The move for a device upsert of `change` onto register row `existing` (absent or
  // deleted), or nullopt when the row does not belong to a merged participant.
  Result<std::optional<RegisterMove>> FindRegisterMove(const RecordTypeInfo& info, const Uuid& hub_id,
                                                       const v1::Change& change,
                                                       const std::optional<StoredRecord>& existing);
  // After a moved change was applied: the row the device addressed ends deleted with the
  // values every device holds for it (see reconciler.cc).
  Status SettleMovedFrom(RegisterMove& move, const v1::Change& original);
  // Logs `logged` (a change to `rec`, shared reference data, logged in its `home` hub) in
  // each other hub `rec` now names; a hub not in `shared_before` gets the whole record
  // (shared_reference.h). The caller holds the lock of every hub it names.
  Status LogInSharingHubs(const StoredRecord& rec, const Uuid& home, const std::vector<Uuid>& shared_before,
                          const v1::Change& logged);
  // Links `rec` to `participant` as a server change (the merge's redirect).
  Result<uint64_t> Relink(StoredRecord& rec, const Uuid& participant);

  // The checks the device ran before it stored the record (common/validation: the forms
  // of the fields `change` sets, then the type's rules over the records `device` may read,
  // "today" in its hub's time zone), on `proposed`; `before` is the stored record of an
  // update. A refusal names the field; other errors are the store's.
  Status ValidateCapture(const DeviceContext& device, const RecordTypeInfo& info, const v1::Change& change,
                         const v1::Record* before, const google::protobuf::Message& proposed);
  // The date on the server's clock in `hub_id`'s time zone (its Hub record's), reckoned
  // once per Reconciler: a push's transaction lasts milliseconds, so a batch straddling
  // midnight is checked against the day it began.
  Result<std::string> HubToday(const Uuid& hub_id);

  Result<std::vector<std::string>> ComputeKeys(const StoredRecord& rec);
  Result<std::string> AuthorOf(const Uuid& device);

  StoreTxn& txn_;
  HybridClock& clock_;
  const int64_t max_clock_skew_ms_;
  // MaybeMerged's memory: the MERGED participants of merged_hub_, once read.
  std::optional<std::set<Uuid>> merged_;
  Uuid merged_hub_;
  validation::FormatVerdicts* formats_;  // may be null
  // HubToday's memory: a hub and its date.
  std::optional<std::pair<Uuid, std::string>> hub_today_;
};

}  // namespace outreach::server
