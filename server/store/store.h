// Store: the sync server's storage interface.
//
// One interface, two implementations: SQLite (embedded default, sqlite_store.h) and
// PostgreSQL (postgres_store.h: several server processes on one database). The service layer
// (server/service/) holds every rule; a store only keeps rows and answers indexed
// questions, so both implementations stay small and behave the same.
//
// Every read and write happens inside Store::Transact(), which runs `body` in one
// database transaction: either everything `body` did commits, or (on a non-ok Status,
// an exception, or a crash) nothing does. A store may run `body` more than once (a
// PostgreSQL serialization failure is retried), so `body` must not have effects outside
// the transaction other than filling its own outputs, which it should reset first.
//
// Invariants every implementation keeps:
// - The change log is per hub and append-only; AppendChange() gives the next server
//   sequence number of that hub (1, 2, 3 ... with no gaps), and a reader never sees
//   sequence n+1 committed before n (the per-hub counter is advanced in the same
//   transaction as the append, and holds a lock on the hub row until commit).
// - ReadLog() reads through an index on (hub, server_seq): never a scan of the hub.
// - Log, ledger and audit rows are never deleted; the erasure redaction
//   (RedactRecordHistory) keeps their ids, types, times and who, and removes values.
// - Writers of one hub are serialised: the service calls LockHub() before it reads the
//   state it is about to merge into, so two processes never both merge into the same
//   old state (no lost update), and dedupe by (device, device_seq) holds across them.
//
// For the PostgreSQL store (issue 7), the intended mapping: Transact = BEGIN ... COMMIT
// at READ COMMITTED, retried on serialization failure / deadlock (40001, 40P01) and on a
// unique violation of the ledger key (the retry then sees the ledger row: DUPLICATE);
// LockHub = SELECT ... FROM hubs WHERE hub_id = $1 FOR UPDATE; AppendChange = UPDATE
// hubs SET last_seq = last_seq + 1 ... RETURNING last_seq, then INSERT into change_log.
// Because the hub row stays locked until commit, commits of one hub happen in sequence
// order and a pulling cursor never skips a late-committing number.
//
// Thread-safety: Transact() and Read() may be called from several threads at once; a
// store serialises writers as its database requires. A StoreTxn is used by one thread
// only and must not outlive the Transact() or Read() call that handed it out.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/hlc.h"
#include "common/status.h"
#include "common/uuid.h"
#include "outreach/v1/records.pb.h"
#include "outreach/v1/sync.pb.h"

namespace outreach::server {

struct HubRow {
  Uuid hub_id;
  std::string name;
  int64_t created_at_ms = 0;
  uint64_t last_seq = 0;  // the hub log's last server_seq (0 = empty)
};

struct DeviceRow {
  Uuid device_id;
  Uuid hub_id;
  v1::Role role = v1::ROLE_UNSPECIFIED;
  Uuid venue_id;  // a kiosk's venue; nil otherwise
  std::string user_name;
  std::string device_name;
  std::string reference_prefix;  // unique per store
  std::string credential_hash;   // SHA-256 of the credential (32 raw bytes); never the secret
  bool revoked = false;
  int64_t enrolled_at_ms = 0;
  int64_t last_sync_ms = 0;  // 0 = never synced
};

struct EnrolmentCodeRow {
  std::string code_hash;  // SHA-256 of the code (32 raw bytes); never the code
  Uuid hub_id;
  v1::Role role = v1::ROLE_UNSPECIFIED;
  std::string user_name;
  Uuid venue_id;
  int64_t expires_at_ms = 0;
  bool used = false;
};

// The version of one field of a record's current state: the stamp of the change that
// set it and the device it came from (all-zero bytes = the server).
struct FieldVersion {
  Hlc hlc;
  Uuid origin;
  bool operator==(const FieldVersion&) const = default;
};

// The derived current state of one record.
struct StoredRecord {
  v1::Record record;                          // id, type, hub, deleted, erased, body
  std::map<uint32_t, FieldVersion> versions;  // per field number
  // The participant the record is linked to (registry participant_field), nil if none.
  Uuid participant_id;
  // Exact-match lookup keys computed by the service (e.g. normalised name + date of
  // birth of a participant, participant + kind of an outcome claim). Replaced on each
  // PutRecord; FindRecordsByKey() answers from an index on (hub, key).
  std::vector<std::string> keys;
};

// One entry of a hub's log in its serialised form (ReadLogEncoded).
struct LoggedChange {
  uint64_t server_seq = 0;
  std::string change;  // a serialised v1::Change
};

// What happened to one pushed change, remembered forever under (device, device_seq).
struct LedgerEntry {
  v1::ChangeOutcome outcome = v1::CHANGE_OUTCOME_UNSPECIFIED;
  uint64_t server_seq = 0;
  std::string reason;
  std::string field;
};

// One row of the audit trail: who changed which field of which record, when, from
// which device, from what to what. Values are the field encodings of field_value.h;
// erasure empties them.
struct AuditRow {
  int64_t at_ms = 0;
  Uuid hub_id;
  Uuid device_id;      // nil = the server
  std::string author;  // person (device user name) or "server"
  Uuid record_id;
  v1::RecordType type = v1::RECORD_TYPE_UNSPECIFIED;
  uint32_t field = 0;
  std::string old_value;
  std::string new_value;
  uint64_t server_seq = 0;
};

// The operations available inside one transaction. Errors are kIoError (database) or
// kDataLoss (a stored row does not decode); "not found" is an empty optional.
class StoreTxn {
 public:
  virtual ~StoreTxn() = default;

  // Hubs. InsertHub fails with kAlreadyExists on a duplicate id.
  virtual Status InsertHub(const HubRow& hub) = 0;
  virtual Result<std::optional<HubRow>> GetHub(const Uuid& hub_id) = 0;
  virtual Result<std::vector<HubRow>> ListHubs() = 0;
  // Serialises this transaction with every other writer of `hub_id` until it ends
  // (kNotFound, field "hub_id", when there is no such hub).
  virtual Status LockHub(const Uuid& hub_id) = 0;

  // Devices. InsertDevice fails with kAlreadyExists when the id or the reference
  // prefix is taken (field "reference_prefix" for the latter).
  virtual Status InsertDevice(const DeviceRow& device) = 0;
  virtual Result<std::optional<DeviceRow>> GetDevice(const Uuid& device_id) = 0;
  virtual Result<std::vector<DeviceRow>> ListDevices(const Uuid& hub_id) = 0;  // nil = all
  virtual Result<bool> ReferencePrefixTaken(const std::string& prefix) = 0;
  virtual Status SetDeviceRevoked(const Uuid& device_id) = 0;
  virtual Status SetDeviceLastSync(const Uuid& device_id, int64_t at_ms) = 0;

  // One-time enrolment codes.
  virtual Status InsertEnrolmentCode(const EnrolmentCodeRow& code) = 0;
  virtual Result<std::optional<EnrolmentCodeRow>> GetEnrolmentCode(const std::string& code_hash) = 0;
  virtual Status MarkEnrolmentCodeUsed(const std::string& code_hash) = 0;

  // The per-hub change log. AppendChange stores `change` (its server_seq set to the
  // assigned number) and returns that number. ReadLog returns up to `limit` entries of
  // `hub_id` with server_seq > `after_seq`, in order.
  virtual Result<uint64_t> AppendChange(const Uuid& hub_id, v1::Change change) = 0;
  virtual Result<std::vector<v1::Change>> ReadLog(const Uuid& hub_id, uint64_t after_seq, uint32_t limit) = 0;
  // The same entries as ReadLog, each as its serialised v1::Change (server_seq set), as
  // stored: a pull page is written from them without parsing each and serialising it
  // again. The default serialises what ReadLog returns.
  virtual Result<std::vector<LoggedChange>> ReadLogEncoded(const Uuid& hub_id, uint64_t after_seq, uint32_t limit);
  // The latest HLC of any logged change (zero when the log is empty): the server's
  // clock restarts after it.
  virtual Result<Hlc> MaxLoggedHlc() = 0;

  // Derived current state.
  virtual Result<std::optional<StoredRecord>> GetRecord(const Uuid& record_id) = 0;
  virtual Status PutRecord(const StoredRecord& record) = 0;  // insert or replace
  // Records of `hub_id` by type / linked participant / lookup key (each indexed).
  virtual Result<std::vector<StoredRecord>> ListRecordsByType(const Uuid& hub_id, v1::RecordType type) = 0;
  virtual Result<std::vector<StoredRecord>> FindRecordsByParticipant(const Uuid& hub_id,
                                                                     const Uuid& participant_id) = 0;
  virtual Result<std::vector<StoredRecord>> FindRecordsByKey(const Uuid& hub_id, const std::string& key) = 0;

  // The dedupe ledger.
  virtual Result<std::optional<LedgerEntry>> GetLedger(const Uuid& device_id, uint64_t device_seq) = 0;
  virtual Status PutLedger(const Uuid& device_id, uint64_t device_seq, const LedgerEntry& entry) = 0;

  // The audit trail.
  virtual Status AppendAudit(const AuditRow& row) = 0;
  virtual Result<std::vector<AuditRow>> ListAudit(const Uuid& record_id) = 0;

  // Whole-store reads, for copying a store to another (store_copy.h). Every enrolment
  // code; up to `limit` ledger entries of a device with device_seq > `after_seq`, in
  // order, as (device_seq, entry); up to `limit` audit rows of a hub in the order written,
  // as (position, row), after the row at `after_position` (0 = from the start).
  virtual Result<std::vector<EnrolmentCodeRow>> ListEnrolmentCodes() = 0;
  virtual Result<std::vector<std::pair<uint64_t, LedgerEntry>>> ReadLedger(const Uuid& device_id, uint64_t after_seq,
                                                                           uint32_t limit) = 0;
  virtual Result<std::vector<std::pair<uint64_t, AuditRow>>> ReadAudit(const Uuid& hub_id, uint64_t after_position,
                                                                       uint32_t limit) = 0;

  // Erasure: every logged change of `record_id` keeps its field numbers but loses their
  // values; every audit row of it loses old and new values.
  virtual Status RedactRecordHistory(const Uuid& record_id) = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Runs `body` in one transaction (see the file comment). Returns body's Status, or
  // the store's own error if it could not begin or commit (then nothing was written).
  virtual Status Transact(const std::function<Status(StoreTxn&)>& body) = 0;

  // Runs `body`, which only reads, in one transaction that sees a consistent snapshot
  // (every hub's log in it is a gap-free prefix, as for Transact). A store may run it
  // concurrently with writers and other reads (the SQLite store does, on a pool of
  // read-only connections); a write inside it fails. `body` must not call the store
  // again. The default runs it as a Transact.
  virtual Status Read(const std::function<Status(StoreTxn&)>& body) { return Transact(body); }

  // What the store is, for logs: "sqlite:/var/outreach/store.db".
  virtual std::string Describe() const = 0;
};

// Opens (creating and migrating as needed) the store at `location`:
// - a filesystem path, or "sqlite:PATH": the SQLite store;
// - "postgresql://..." (or "postgres://..."): the PostgreSQL store (postgres_store.h).
Result<std::unique_ptr<Store>> OpenStore(const std::string& location);

}  // namespace outreach::server
