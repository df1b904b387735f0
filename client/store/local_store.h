// LocalStore: the device's SQLite file (one per device) and everything kept in it.
//
// LocalStore is the front: it holds the lock, the clock, the connection and what it
// caches of the identity, and each of its methods hands the work to the part that owns
// it. The parts, in this folder:
//   local_store.{h,cc}   this front: open, identity, clock offset, wipe
//   record_row.{h,cc}    the `record` table: a record's row, body, packed field versions
//   projections.{h,cc}   the typed `*_p` tables, declared per record type in one table
//   schema.{h,cc}        DDL, forward-only migrations, the state of a new file
//   stored_formats.{h,cc} version 5: stored values put in their format's normal form
//   sync_state.{h,cc}    the sync_state table (device id, HLC, cursor, counters)
//   outbox.{h,cc}        local edits committed, acknowledged, refused edits undone
//   pull_applier.{h,cc}  pulled pages prepared and applied
//   erasure.{h,cc}       a participant's data purged from the device
//   queries.cc           the reads the app makes
// All SQL goes through common/sqlite/database.h (cached statements, typed binds).
//
// Tables (see schema.cc for the DDL and the forward-only migrations run on open):
//   record          current state of every record: id, type, hub, deleted, erased, body
//                   (the serialised body message; unknown types/fields kept as bytes),
//                   and its field versions (per field, the HLC of the value held: the
//                   base version of the next local edit of that field)
//   change_log      every local edit as a v1::Change, with its outcome once acknowledged
//   outbox          the local edits not yet acknowledged by the server, by device_seq
//   rejected_change the local edits the server refused, with its reason, for the app
//   sync_state      device id, HLC, device_seq, reference prefix and counter, cursor
//   identity        the enrolment (one row at most)
//   *_p             typed projections the app queries (participants, sessions, ...)
//
// Invariants:
// - Nothing is written outside a transaction. An edit writes the record (with its field
//   versions), its projections, its change-log row and its outbox entry in ONE transaction.
// - device_seq counts outbound changes from 1 without gaps, except where an erasure
//   dropped edits of the erased person from the outbox (the server allows gaps).
//   Restricted case notes never leave the device: they are logged locally but take no
//   device_seq and no outbox entry.
// - Erasure (a local EraseParticipant, or a pulled ERASE) purges the participant and
//   every trace of them in one transaction: linked records (restricted notes and unsynced
//   work included), change-log values, outbox entries, rejected-list reasons, conflicts
//   about them; then the WAL is checkpointed and truncated (secure_delete is on).
// - The HLC is persisted with every edit and restored on open, so stamps never go back.
// - Durability: WAL with synchronous=FULL, so a committed edit survives a power cut.
//
// Thread safety: every public method takes the store's mutex; one LocalStore may be
// used from several threads (e.g. the app and a background sync).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/hlc.h"
#include "common/status.h"
#include "common/uuid.h"
#include "outreach/rejected_change.h"
#include "outreach/v1/records.pb.h"
#include "outreach/v1/sync.pb.h"

namespace outreach::sqlite {
class Database;
}

namespace outreach::client {

// Saved at enrolment.
struct DeviceIdentity {
  Uuid device_id;
  std::string credential;
  std::string server;  // host:port
  std::string ca_pem;
  Uuid hub_id;
  v1::Role role = v1::ROLE_UNSPECIFIED;
  std::string user_name;
  std::string reference_prefix;
  Uuid venue_id;
};

// One record edit for LocalStore::Commit: the full new state of the record. The store
// works out which fields changed (against what it holds), their base versions, the
// HLC and device_seq, and writes everything in one transaction.
struct RecordEdit {
  v1::Record record;                       // id, type, body (hub filled by the store)
  v1::ChangeOp op = v1::CHANGE_OP_UPSERT;  // or CHANGE_OP_DELETE (tombstone), or
                                           // CHANGE_OP_ERASE (a participant: purges it and
                                           // every linked record here; the server does the
                                           // same and tells every other device)
};

// One row of a typed query: a record plus the date the query was about.
struct DatedRecord {
  v1::Record record;
  std::string on;  // YYYY-MM-DD (or YYYY-MM-DDTHH:MM) as the query defines it
};

// An action plan that is overdue (see LocalStore::OverduePlans).
struct OverdueItem {
  v1::Record plan;
  std::optional<v1::Record> step;  // for "step_overdue"
  std::string reason;              // "not_agreed_within_one_month", "review_overdue", "step_overdue"
  std::string date;                // started_on, review_on or the step's due_on
};

struct StoreOptions {
  std::string path;
  HybridClock::PhysicalClock clock = HybridClock::SystemMillis;
  // Author of local changes until the device is enrolled (then the enrolled user name).
  std::string user_name;
};

// Pulled changes made ready to write away from the store (LocalStore::PreparePulledPage,
// on the thread that receives the pages): for each change that could create a record,
// the row and projection row the store would write for it if the record were new to the
// file (serialised body, packed field versions, linked participant, date, projection
// values), copied into buffers of its own. LocalStore::ApplyPulledPages uses a change's
// preparation only when the record is new to the file, has no local edit waiting and
// no other change in the batch; every other change is applied as without one, so the
// file ends up exactly the same either way. Opaque: its contents are the pull
// applier's (pull_applier.h), and only PreparePulledPage makes one.
class PreparedPage {
 public:
  virtual ~PreparedPage();
  PreparedPage(const PreparedPage&) = delete;
  PreparedPage& operator=(const PreparedPage&) = delete;

 protected:
  PreparedPage() = default;
};

// How a batch of pulled pages went (LocalStore::ApplyPulledPages).
struct PulledBatchStats {
  uint64_t records = 0;      // distinct records the batch touched
  uint64_t new_records = 0;  // of them, records the file did not hold
};

class LocalStore {
 public:
  // Opens (creating if needed) the file, runs pending migrations, seeds reference data
  // into a new file, restores the HLC. Fails with kIoError / kDataLoss naming the path.
  static Result<std::unique_ptr<LocalStore>> Open(const StoreOptions& options);
  ~LocalStore();
  LocalStore(const LocalStore&) = delete;
  LocalStore& operator=(const LocalStore&) = delete;

  // ------------------------------------------------------------ sync-facing
  Result<std::optional<DeviceIdentity>> LoadIdentity();
  Status SaveIdentity(const DeviceIdentity& identity);           // also switches the reference prefix
  Result<std::vector<v1::Change>> PendingChanges(size_t limit);  // outbox, device_seq order
  Result<uint64_t> PendingCount();
  // One transaction: acknowledged entries leave the outbox; REJECTED ones are kept in
  // the rejected-changes list and undone here: their fields take back the server's
  // values sent with the refusal (ChangeResult.current) unless a later local edit of the
  // field is still pending; a refused create (the change that made the record here, with
  // no value sent back) removes the record; a refused delete makes the record live
  // again unless something has been applied to it since. Unknown device_seqs are
  // ignored (a re-sent ack).
  Status AcknowledgeChanges(const v1::PushAck& ack);
  Result<uint64_t> PullCursor();
  // One transaction: applies every change of the page in order, then the cursor.
  // Fields with a local edit still in the outbox keep their local value. A page with
  // no change that leaves the cursor where it was commits nothing.
  Status ApplyPulledPage(const v1::ChangesPage& page);
  // The same for consecutive pages in ONE transaction, with the last page's cursor (a
  // bulk pull commits, fsyncs and checkpoints once per batch instead of once per page).
  // The pages are the caller's (they may live on protobuf arenas).
  Status ApplyPulledPages(const std::vector<const v1::ChangesPage*>& pages);
  // The same, with each page's preparation (`prepared[i]` for `pages[i]`, or null), and
  // how the batch went in `stats` (may be null).
  Status ApplyPulledPages(const std::vector<const v1::ChangesPage*>& pages,
                          const std::vector<const PreparedPage*>& prepared, PulledBatchStats* stats);
  // Prepares a pulled page for ApplyPulledPages. Touches no file and no state of any
  // store, so it runs on any thread while the store applies other pages.
  static std::unique_ptr<PreparedPage> PreparePulledPage(const v1::ChangesPage& page);
  Status SetClockOffsetMs(int64_t offset_ms);  // server time minus ours; persisted
  // Revoked device: deletes every record, change, outbox entry, cursor and the identity;
  // the file stays valid and is as a new one (fresh local id and prefix, reference data).
  Status Wipe();

  // ------------------------------------------------------------ used by outreach::Device
  // The local device id: the enrolled one, else the one minted when the file was made.
  Uuid device_id();
  // The enrolled hub's time zone as the Hub record pulled for it gives it; empty before
  // enrolment or before that record arrives (common/dates.h then reckons in London).
  // Cached: read when the file opens, the identity changes and pulled pages are applied.
  std::string hub_time_zone();
  HybridClock& clock() { return clock_; }
  // Stamps and writes the edits in one transaction; returns the records as stored.
  // An edit that changes nothing is skipped (no change is logged for it).
  Result<std::vector<v1::Record>> Commit(const std::vector<RecordEdit>& edits);
  // Like Commit, but first mints the next reference number (prefix + persisted counter)
  // into the participant body of edits[0], inside the same transaction.
  Result<std::vector<v1::Record>> CommitNewParticipant(std::vector<RecordEdit> edits);
  Result<std::optional<v1::Record>> Get(const Uuid& id);
  // Records of `type` linked to a participant, in creation order.
  Result<std::vector<v1::Record>> ParticipantRecords(const Uuid& participant_id, v1::RecordType type);
  // Every record linked to a participant (and the participant), ordered by their date.
  Result<std::vector<DatedRecord>> Timeline(const Uuid& participant_id);
  // Every record of a type, in id order (deleted ones excluded unless asked).
  Result<std::vector<v1::Record>> RecordsOfType(v1::RecordType type, bool include_deleted = false);
  // Every record the device holds, ordered by (type, id).
  Result<std::vector<v1::Record>> AllRecords();
  // Participants whose adviser is `adviser` and status active, by family then given name.
  Result<std::vector<v1::Record>> ParticipantsHeldBy(const std::string& adviser);
  // Participants whose normalised name contains every word of `text`.
  Result<std::vector<v1::Record>> FindParticipantsByName(const std::string& text);
  Result<std::optional<v1::Record>> FindParticipantByReference(const std::string& canonical_reference);
  // Participants with the same NI number (normalised) other than `except`.
  Result<std::vector<v1::Record>> ParticipantsWithNiNumber(const std::string& ni, const Uuid& except);
  // Sessions at a venue starting on a day (YYYY-MM-DD), by start time.
  Result<std::vector<v1::Record>> SessionsAt(const Uuid& venue_id, const std::string& day);
  // Bookings (any status) and attendance rows of a session.
  Result<std::vector<v1::Record>> BookingsOf(const Uuid& session_id);
  Result<std::vector<v1::Record>> AttendanceOf(const Uuid& session_id);
  // Active participants with the last day they were seen (attended a session or were
  // reached by a contact attempt; registration counts as a first sighting).
  Result<std::vector<DatedRecord>> LastSeen();
  // Plans overdue on `today`: drafts started on or before `month_before_today`, agreed
  // plans whose review date has passed, open steps past due in plans not closed.
  Result<std::vector<OverdueItem>> OverduePlans(const std::string& today, const std::string& month_before_today);
  Result<std::vector<RejectedChange>> RejectedChanges();
  // Local change log (every local edit, acknowledged or not), in commit order.
  Result<std::vector<v1::Change>> ChangeLog();
  // PRAGMA user_version of the open file.
  Result<int> SchemaVersion();

 private:
  explicit LocalStore(const StoreOptions& options);

  // Caller holds mu_.
  Status Init();
  Status LoadCachedState();
  Status LoadHubTimeZone();

  std::unique_ptr<sqlite::Database> db_;
  const std::string path_;
  const std::string fallback_user_;
  HybridClock clock_;
  std::mutex mu_;
  // Cached from the file (refreshed by SaveIdentity and Wipe), guarded by mu_.
  Uuid device_id_;
  std::string hub_id_;  // raw bytes; empty before enrolment
  std::string author_;
  std::string hub_time_zone_;
};

}  // namespace outreach::client
