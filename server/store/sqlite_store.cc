#include "server/store/sqlite_store.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <unordered_map>

#include "common/sqlite/database.h"
#include "server/store/field_versions.h"

namespace outreach::server {
namespace {

// The most log entries ReadLogEncoded makes room for before reading (a server may be run
// with pages far larger than any hub's log; the vector grows past this as it must).
constexpr uint32_t kLogEntriesReserved = 4096;

// Migration i (1-based) takes the schema from user_version i-1 to i. Append only.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE hubs (
  hub_id BLOB PRIMARY KEY,
  name TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  last_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE devices (
  device_id BLOB PRIMARY KEY,
  hub_id BLOB NOT NULL REFERENCES hubs(hub_id),
  role INTEGER NOT NULL,
  venue_id BLOB NOT NULL,
  user_name TEXT NOT NULL,
  device_name TEXT NOT NULL,
  reference_prefix TEXT NOT NULL UNIQUE,
  credential_hash BLOB NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0,
  enrolled_at_ms INTEGER NOT NULL,
  last_sync_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX devices_by_hub ON devices(hub_id);
CREATE TABLE enrolment_codes (
  code_hash BLOB PRIMARY KEY,
  hub_id BLOB NOT NULL REFERENCES hubs(hub_id),
  role INTEGER NOT NULL,
  user_name TEXT NOT NULL,
  venue_id BLOB NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE change_log (
  hub_id BLOB NOT NULL REFERENCES hubs(hub_id),
  server_seq INTEGER NOT NULL,
  record_id BLOB NOT NULL,
  hlc INTEGER NOT NULL,
  change BLOB NOT NULL,
  PRIMARY KEY (hub_id, server_seq)
) WITHOUT ROWID;
CREATE INDEX change_log_by_record ON change_log(record_id);
CREATE INDEX change_log_by_hlc ON change_log(hlc);
CREATE TABLE records (
  record_id BLOB PRIMARY KEY,
  hub_id BLOB NOT NULL REFERENCES hubs(hub_id),
  type INTEGER NOT NULL,
  participant_id BLOB,
  record BLOB NOT NULL,
  versions BLOB NOT NULL
);
CREATE INDEX records_by_type ON records(hub_id, type);
CREATE INDEX records_by_participant ON records(hub_id, participant_id) WHERE participant_id IS NOT NULL;
CREATE TABLE record_keys (
  hub_id BLOB NOT NULL,
  key TEXT NOT NULL,
  record_id BLOB NOT NULL REFERENCES records(record_id),
  PRIMARY KEY (hub_id, key, record_id)
) WITHOUT ROWID;
CREATE INDEX record_keys_by_record ON record_keys(record_id);
CREATE TABLE ledger (
  device_id BLOB NOT NULL REFERENCES devices(device_id),
  device_seq INTEGER NOT NULL,
  outcome INTEGER NOT NULL,
  server_seq INTEGER NOT NULL,
  reason TEXT NOT NULL,
  field TEXT NOT NULL,
  PRIMARY KEY (device_id, device_seq)
) WITHOUT ROWID;
CREATE TABLE audit (
  audit_id INTEGER PRIMARY KEY,
  at_ms INTEGER NOT NULL,
  hub_id BLOB NOT NULL,
  device_id BLOB NOT NULL,
  author TEXT NOT NULL,
  record_id BLOB NOT NULL,
  type INTEGER NOT NULL,
  field INTEGER NOT NULL,
  old_value BLOB NOT NULL,
  new_value BLOB NOT NULL,
  server_seq INTEGER NOT NULL
);
CREATE INDEX audit_by_record ON audit(record_id);
)sql",
};

constexpr int kMigrationCount = static_cast<int>(sizeof kMigrations / sizeof kMigrations[0]);
static_assert(kMigrationCount == SqliteStore::kSchemaVersion);

}  // namespace

// ---------------------------------------------------------------- row helpers

namespace {

// An audit row from columns 0-9 of a statement that selects at_ms, hub_id, device_id,
// author, record_id, type, field, old_value, new_value, server_seq in that order.
AuditRow AuditFrom(const sqlite::Statement& st) {
  AuditRow a;
  a.at_ms = st.ColInt(0);
  a.hub_id = st.ColId(1);
  a.device_id = st.ColId(2);
  a.author = st.ColText(3);
  a.record_id = st.ColId(4);
  a.type = static_cast<v1::RecordType>(st.ColInt(5));
  a.field = static_cast<uint32_t>(st.ColInt(6));
  a.old_value = st.ColBlob(7);
  a.new_value = st.ColBlob(8);
  a.server_seq = static_cast<uint64_t>(st.ColInt(9));
  return a;
}

}  // namespace

// ---------------------------------------------------------------- the transaction

#define OUTREACH_DEVICE_COLUMNS                                                                           \
  "SELECT device_id, hub_id, role, venue_id, user_name, device_name, reference_prefix, credential_hash, " \
  "revoked, enrolled_at_ms, last_sync_ms FROM devices"
#define OUTREACH_RECORD_COLUMNS "SELECT record_id, participant_id, record, versions FROM records"

// Caches, valid for this transaction only (the write lock is held throughout, so no
// other writer changes what they describe; a Read never writes):
// - hub_seq_: a hub's last assigned sequence number once AppendChange has read it. The
//   numbers are handed out from memory and the hub row is written once, by Flush()
//   before COMMIT; GetHub and ListHubs report the cached value.
// - stored_: a record's lookup keys as they stand in record_keys and its hub, type and
//   linked participant as the records row holds them (read with the record, or written
//   by PutRecord), so PutRecord rewrites keys and indexed columns only when they change.
// - pending_audit_: audit rows appended but not yet inserted; they are written in
//   batches before anything reads or redacts the audit table, and before COMMIT.
class SqliteStore::Txn final : public StoreTxn {
 public:
  Txn(sqlite::Database& conn, bool writable) : conn_(conn), writable_(writable) {}

  bool redacted() const { return redacted_; }

  // Writes what the caches and queues hold back. Called once, before COMMIT.
  Status Flush() {
    OUTREACH_RETURN_IF_ERROR(FlushAudit());
    for (const auto& [hub, seq] : hub_seq_) {
      auto s = Prepare("UPDATE hubs SET last_seq = ?2 WHERE hub_id = ?1");
      if (!s.ok()) return s.status();
      sqlite::Statement st = std::move(*s);
      st.Blob(1, hub).Int(2, static_cast<int64_t>(seq));
      OUTREACH_RETURN_IF_ERROR(Done(st.Step(), "advance hub sequence"));
    }
    hub_seq_.clear();
    return Status::Ok();
  }

  Status InsertHub(const HubRow& hub) override {
    auto s = Prepare("INSERT INTO hubs (hub_id, name, created_at_ms, last_seq) VALUES (?1, ?2, ?3, 0)");
    if (!s.ok()) return s.status();
    sqlite::Statement st = std::move(*s);
    st.Id(1, hub.hub_id).Text(2, hub.name).Int(3, hub.created_at_ms);
    int rc = st.Step();
    if (rc == SQLITE_CONSTRAINT) {
      return Status(ErrorCode::kAlreadyExists, "hub " + hub.hub_id.ToString() + " already exists", "hub_id");
    }
    return Done(rc, "insert hub");
  }

  Result<std::optional<HubRow>> GetHub(const Uuid& hub_id) override {
    auto s = Prepare("SELECT hub_id, name, created_at_ms, last_seq FROM hubs WHERE hub_id = ?1");
    if (!s.ok()) return s.status();
    sqlite::Statement st = std::move(*s);
    st.Id(1, hub_id);
    int rc = st.Step();
    if (rc == SQLITE_DONE) return std::optional<HubRow>();
    if (rc != SQLITE_ROW) return Fail("read hub");
    return std::optional<HubRow>(HubFrom(st));
  }

  Result<std::vector<HubRow>> ListHubs() override {
    auto s = Prepare("SELECT hub_id, name, created_at_ms, last_seq FROM hubs ORDER BY created_at_ms, hub_id");
    if (!s.ok()) return s.status();
    sqlite::Statement st = std::move(*s);
    std::vector<HubRow> out;
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) out.push_back(HubFrom(st));
    if (rc != SQLITE_DONE) return Fail("list hubs");
    return out;
  }

  // Every SQLite transaction begins IMMEDIATE and so already holds the database's one
  // write lock: only the hub's existence is left to check.
  Status LockHub(const Uuid& hub_id) override {
    auto hub = GetHub(hub_id);
    if (!hub.ok()) return hub.status();
    if (!hub->has_value()) return Status::NotFound("no hub " + hub_id.ToString(), "hub_id");
    return Status::Ok();
  }

  Status InsertDevice(const DeviceRow& d) override {
    auto taken = ReferencePrefixTaken(d.reference_prefix);
    if (!taken.ok()) return taken.status();
    if (*taken) {
      return Status(ErrorCode::kAlreadyExists, "reference prefix " + d.reference_prefix + " is taken",
                    "reference_prefix");
    }
    auto s = Prepare(
        "INSERT INTO devices (device_id, hub_id, role, venue_id, user_name, device_name, reference_prefix, "
        "credential_hash, revoked, enrolled_at_ms, last_sync_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
        "?11)");
    if (!s.ok()) return s.status();
    sqlite::Statement st = std::move(*s);
    st.Id(1, d.device_id)
        .Id(2, d.hub_id)
        .Int(3, d.role)
        .Id(4, d.venue_id)
        .Text(5, d.user_name)
        .Text(6, d.device_name)
        .Text(7, d.reference_prefix)
        .Blob(8, d.credential_hash)
        .Int(9, d.revoked ? 1 : 0)
        .Int(10, d.enrolled_at_ms)
        .Int(11, d.last_sync_ms);
    int rc = st.Step();
    if (rc == SQLITE_CONSTRAINT) {
      return Status(ErrorCode::kAlreadyExists, "device " + d.device_id.ToString() + " already exists", "device_id");
    }
    return Done(rc, "insert device");
  }

  Result<std::optional<DeviceRow>> GetDevice(const Uuid& device_id) override {
    auto s = Prepare(OUTREACH_DEVICE_COLUMNS " WHERE device_id = ?1");
    if (!s.ok()) return s.status();
    sqlite::Statement st = std::move(*s);
    st.Id(1, device_id);
    int rc = st.Step();
    if (rc == SQLITE_DONE) return std::optional<DeviceRow>();
    if (rc != SQLITE_ROW) return Fail("read device");
    return std::optional<DeviceRow>(DeviceFrom(st));
  }

  Result<std::vector<DeviceRow>> ListDevices(const Uuid& hub_id) override {
    auto s = hub_id.is_nil() ? Prepare(OUTREACH_DEVICE_COLUMNS " ORDER BY enrolled_at_ms, device_id")
                             : Prepare(OUTREACH_DEVICE_COLUMNS " WHERE hub_id = ?1 ORDER BY enrolled_at_ms, device_id");
    if (!s.ok()) return s.status();
    sqlite::Statement st = std::move(*s);
    if (!hub_id.is_nil()) st.Id(1, hub_id);
    std::vector<DeviceRow> out;
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) out.push_back(DeviceFrom(st));
    if (rc != SQLITE_DONE) return Fail("list devices");
    return out;
  }

  Result<bool> ReferencePrefixTaken(const std::string& prefix) override {
    auto s = Prepare("SELECT 1 FROM devices WHERE reference_prefix = ?1");
    if (!s.ok()) return s.status();
    sqlite::Statement st = std::move(*s);
    st.Text(1, prefix);
    int rc = st.Step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Fail("check reference prefix");
    return rc == SQLITE_ROW;
  }

  Status SetDeviceRevoked(const Uuid& device_id) override {
    return UpdateOne("UPDATE devices SET revoked = 1 WHERE device_id = ?1", device_id, 0, "device", "device_id");
  }

  Status SetDeviceLastSync(const Uuid& device_id, int64_t at_ms) override {
    return UpdateOne("UPDATE devices SET last_sync_ms = ?2 WHERE device_id = ?1", device_id, at_ms, "device",
                     "device_id");
  }

  Status InsertEnrolmentCode(const EnrolmentCodeRow& c) override {
    auto s = Prepare(
        "INSERT INTO enrolment_codes (code_hash, hub_id, role, user_name, venue_id, expires_at_ms, used) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!s.ok()) return s.status();
    sqlite::Statement st = std::move(*s);
    st.Blob(1, c.code_hash)
        .Id(2, c.hub_id)
        .Int(3, c.role)
        .Text(4, c.user_name)
        .Id(5, c.venue_id)
        .Int(6, c.expires_at_ms)
        .Int(7, c.used ? 1 : 0);
    int rc = st.Step();
    if (rc == SQLITE_CONSTRAINT) return Status(ErrorCode::kAlreadyExists, "enrolment code already issued", "code");
    return Done(rc, "insert enrolment code");
  }

  Result<std::optional<EnrolmentCodeRow>> GetEnrolmentCode(const std::string& code_hash) override {
    auto s = Prepare(
        "SELECT code_hash, hub_id, role, user_name, venue_id, expires_at_ms, used FROM enrolment_codes "
        "WHERE code_hash = ?1");
    if (!s.ok()) return s.status();
    sqlite::Statement st = std::move(*s);
    st.Blob(1, code_hash);
    int rc = st.Step();
    if (rc == SQLITE_DONE) return std::optional<EnrolmentCodeRow>();
    if (rc != SQLITE_ROW) return Fail("read enrolment code");
    EnrolmentCodeRow c;
    c.code_hash = st.ColBlob(0);
    c.hub_id = st.ColId(1);
    c.role = static_cast<v1::Role>(st.ColInt(2));
    c.user_name = st.ColText(3);
    c.venue_id = st.ColId(4);
    c.expires_at_ms = st.ColInt(5);
    c.used = st.ColInt(6) != 0;
    return std::optional<EnrolmentCodeRow>(std::move(c));
  }

  Status MarkEnrolmentCodeUsed(const std::string& code_hash) override {
    auto s = Prepare("UPDATE enrolment_codes SET used = 1 WHERE code_hash = ?1");
    if (!s.ok()) return s.status();
    sqlite::Statement st = std::move(*s);
    st.Blob(1, code_hash);
    OUTREACH_RETURN_IF_ERROR(Done(st.Step(), "mark enrolment code used"));
    if (conn_.changes() != 1) return Status::NotFound("no such enrolment code", "code");
    return Status::Ok();
  }

  Result<uint64_t> AppendChange(const Uuid& hub_id, v1::Change change) override {
    if (!writable_) return Status::FailedPrecondition("store: a change cannot be appended in a read transaction");
    // The transaction holds the write lock from BEGIN IMMEDIATE to COMMIT, so the hub's
    // numbers are ours until then: read the counter once, count on in memory, and write
    // it back in Flush() (one UPDATE per hub per transaction, not one per change).
    std::string hub_key = hub_id.raw();
    auto cached = hub_seq_.find(hub_key);
    if (cached == hub_seq_.end()) {
      auto s = Prepare("SELECT last_seq FROM hubs WHERE hub_id = ?1");
      if (!s.ok()) return s.status();
      sqlite::Statement st = std::move(*s);
      st.Id(1, hub_id);
      int rc = st.Step();
      if (rc == SQLITE_DONE) return Status::NotFound("no hub " + hub_id.ToString(), "hub_id");
      if (rc != SQLITE_ROW) return Fail("read hub sequence");
      cached = hub_seq_.emplace(std::move(hub_key), static_cast<uint64_t>(st.ColInt(0))).first;
    }
    const uint64_t seq = ++cached->second;
    change.set_server_seq(seq);
    std::string blob;
    if (!change.SerializeToString(&blob)) return Status::Internal("change does not serialise");
    auto ins =
        Prepare("INSERT INTO change_log (hub_id, server_seq, record_id, hlc, change) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!ins.ok()) return ins.status();
    sqlite::Statement st = std::move(*ins);
    st.Id(1, hub_id)
        .Int(2, static_cast<int64_t>(seq))
        .Blob(3, change.record_id())
        .Int(4, static_cast<int64_t>(change.hlc()))
        .Blob(5, blob);
    OUTREACH_RETURN_IF_ERROR(Done(st.Step(), "append change"));
    return seq;
  }

  Result<std::vector<v1::Change>> ReadLog(const Uuid& hub_id, uint64_t after_seq, uint32_t limit) override {
    auto s =
        Prepare("SELECT change FROM change_log WHERE hub_id = ?1 AND server_seq > ?2 ORDER BY server_seq LIMIT ?3");
    if (!s.ok()) return s.status();
    sqlite::Statement st = std::move(*s);
    st.Id(1, hub_id).Int(2, static_cast<int64_t>(after_seq)).Int(3, limit);
    std::vector<v1::Change> out;
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) {
      std::string blob = st.ColBlob(0);
      v1::Change c;
      if (!c.ParseFromString(blob))
        return Status::DataLoss("a logged change of hub " + hub_id.ToString() + " does not decode");
      out.push_back(std::move(c));
    }
    if (rc != SQLITE_DONE) return Fail("read change log");
    return out;
  }

  Result<std::vector<LoggedChange>> ReadLogEncoded(const Uuid& hub_id, uint64_t after_seq, uint32_t limit) override {
    auto s = Prepare(
        "SELECT server_seq, change FROM change_log WHERE hub_id = ?1 AND server_seq > ?2 ORDER BY server_seq LIMIT ?3");
    if (!s.ok()) return s.status();
    sqlite::Statement st = std::move(*s);
    st.Id(1, hub_id).Int(2, static_cast<int64_t>(after_seq)).Int(3, limit);
    std::vector<LoggedChange> out;
    // A page is usually full (a device pulls after a day's work): grown one entry at a
    // time, the vector moved every entry's string ten times over.
    out.reserve(std::min<uint32_t>(limit, kLogEntriesReserved));
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) {
      LoggedChange& entry = out.emplace_back();
      entry.server_seq = static_cast<uint64_t>(st.ColInt(0));
      entry.change = st.ColBlob(1);
    }
    if (rc != SQLITE_DONE) return Fail("read change log");
    return out;
  }

  Result<Hlc> MaxLoggedHlc() override {
    auto s = Prepare("SELECT max(hlc) FROM change_log");
    if (!s.ok()) return s.status();
    sqlite::Statement st = std::move(*s);
    if (st.Step() != SQLITE_ROW) return Fail("read latest stamp");
    return Hlc(static_cast<uint64_t>(st.ColInt(0)));
  }

  Result<std::optional<StoredRecord>> GetRecord(const Uuid& record_id) override {
    auto written = written_.find(record_id.raw());
    if (written != written_.end()) return std::optional<StoredRecord>(written->second);
    auto s = Prepare(OUTREACH_RECORD_COLUMNS " WHERE record_id = ?1");
    if (!s.ok()) return s.status();
    std::optional<StoredRecord> out;
    {
      sqlite::Statement st = std::move(*s);
      st.Id(1, record_id);
      int rc = st.Step();
      if (rc == SQLITE_DONE) return out;
      if (rc != SQLITE_ROW) return Fail("read record");
      auto r = RecordFrom(st);
      if (!r.ok()) return r.status();
      out = std::move(*r);
    }
    OUTREACH_RETURN_IF_ERROR(LoadKeys(&*out));
    return out;
  }

  // Remembers what it wrote (written_), so GetRecord of the same record later in this
  // transaction reads memory instead of the table.
  Status PutRecord(const StoredRecord& r) override {
    written_.erase(r.record.id());
    OUTREACH_RETURN_IF_ERROR(WriteRecord(r));
    StoredRecord& copy = written_[r.record.id()];
    copy = r;
    copy.keys = stored_[r.record.id()].keys;  // as GetRecord reads them: sorted, each once
    return Status::Ok();
  }

  Status WriteRecord(const StoredRecord& r) {
    auto id = Uuid::FromBytes(r.record.id());
    if (!id.ok()) return id.status();
    std::string body;
    if (!r.record.SerializeToString(&body)) return Status::Internal("record does not serialise");
    const std::string versions = EncodeFieldVersions(r.versions);
    // A row this transaction read or wrote, with the same hub and type: an UPDATE of the
    // columns that change, so the indexes of the others (records_by_type, and
    // records_by_participant when the link stays) are left alone.
    auto known = stored_.find(r.record.id());
    bool updated = false;
    if (known != stored_.end() && known->second.hub_id == r.record.hub_id() && known->second.type == r.record.type()) {
      const bool same_link = known->second.participant_id == r.participant_id;
      auto s = same_link
                   ? Prepare("UPDATE records SET record = ?2, versions = ?3 WHERE record_id = ?1")
                   : Prepare("UPDATE records SET record = ?2, versions = ?3, participant_id = ?4 WHERE record_id = ?1");
      if (!s.ok()) return s.status();
      sqlite::Statement st = std::move(*s);
      st.Id(1, *id).Blob(2, body).Blob(3, versions);
      if (!same_link) {
        if (r.participant_id.is_nil()) {
          st.Null(4);
        } else {
          st.Id(4, r.participant_id);
        }
      }
      OUTREACH_RETURN_IF_ERROR(Done(st.Step(), "write record"));
      updated = conn_.changes() == 1;
    }
    if (!updated) {
      auto s = Prepare(
          "INSERT INTO records (record_id, hub_id, type, participant_id, record, versions) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (record_id) DO UPDATE SET hub_id = excluded.hub_id, "
          "type = excluded.type, participant_id = excluded.participant_id, record = excluded.record, "
          "versions = excluded.versions");
      if (!s.ok()) return s.status();
      sqlite::Statement st = std::move(*s);
      st.Id(1, *id).Blob(2, r.record.hub_id()).Int(3, r.record.type());
      if (r.participant_id.is_nil()) {
        st.Null(4);
      } else {
        st.Id(4, r.participant_id);
      }
      st.Blob(5, body).Blob(6, versions);
      OUTREACH_RETURN_IF_ERROR(Done(st.Step(), "write record"));
    }
    // The keys: rewritten only when they differ from what record_keys holds (most
    // writes change a field no key is made of). A record whose stored keys this
    // transaction has not seen gets its old keys deleted, whatever they were.
    std::vector<std::string> keys = SortedKeys(r.keys);
    const bool keys_known = known != stored_.end();
    Stored& held = keys_known ? known->second : stored_[r.record.id()];
    held.hub_id = r.record.hub_id();
    held.type = r.record.type();
    held.participant_id = r.participant_id;
    if (keys_known && held.keys == keys) return Status::Ok();
    if (!keys_known || !held.keys.empty()) {
      auto s = Prepare("DELETE FROM record_keys WHERE record_id = ?1");
      if (!s.ok()) return s.status();
      sqlite::Statement st = std::move(*s);
      st.Id(1, *id);
      OUTREACH_RETURN_IF_ERROR(Done(st.Step(), "replace record keys"));
    }
    held.keys.clear();  // until the new ones are written: a failure below leaves none known
    for (const std::string& key : keys) {
      auto s = Prepare("INSERT OR IGNORE INTO record_keys (hub_id, key, record_id) VALUES (?1, ?2, ?3)");
      if (!s.ok()) return s.status();
      sqlite::Statement st = std::move(*s);
      st.Blob(1, r.record.hub_id()).Text(2, key).Id(3, *id);
      OUTREACH_RETURN_IF_ERROR(Done(st.Step(), "write record key"));
    }
    held.keys = std::move(keys);
    return Status::Ok();
  }

  Result<std::vector<StoredRecord>> ListRecordsByType(const Uuid& hub_id, v1::RecordType type) override {
    auto s = Prepare(OUTREACH_RECORD_COLUMNS " WHERE hub_id = ?1 AND type = ?2 ORDER BY record_id");
    if (!s.ok()) return s.status();
    sqlite::Statement st = std::move(*s);
    st.Id(1, hub_id).Int(2, type);
    return Records(st);
  }

  Result<std::vector<StoredRecord>> FindRecordsByParticipant(const Uuid& hub_id, const Uuid& participant_id) override {
    auto s = Prepare(OUTREACH_RECORD_COLUMNS " WHERE hub_id = ?1 AND participant_id = ?2 ORDER BY record_id");
    if (!s.ok()) return s.status();
    sqlite::Statement st = std::move(*s);
    st.Id(1, hub_id).Id(2, participant_id);
    return Records(st);
  }

  Result<std::vector<StoredRecord>> FindRecordsByKey(const Uuid& hub_id, const std::string& key) override {
    auto s = Prepare(
        "SELECT r.record_id, r.participant_id, r.record, r.versions FROM record_keys k "
        "JOIN records r ON r.record_id = k.record_id WHERE k.hub_id = ?1 AND k.key = ?2 ORDER BY r.record_id");
    if (!s.ok()) return s.status();
    sqlite::Statement st = std::move(*s);
    st.Id(1, hub_id).Text(2, key);
    return Records(st);
  }

  Result<std::optional<LedgerEntry>> GetLedger(const Uuid& device_id, uint64_t device_seq) override {
    auto s = Prepare("SELECT outcome, server_seq, reason, field FROM ledger WHERE device_id = ?1 AND device_seq = ?2");
    if (!s.ok()) return s.status();
    sqlite::Statement st = std::move(*s);
    st.Id(1, device_id).Int(2, static_cast<int64_t>(device_seq));
    int rc = st.Step();
    if (rc == SQLITE_DONE) return std::optional<LedgerEntry>();
    if (rc != SQLITE_ROW) return Fail("read ledger");
    LedgerEntry e;
    e.outcome = static_cast<v1::ChangeOutcome>(st.ColInt(0));
    e.server_seq = static_cast<uint64_t>(st.ColInt(1));
    e.reason = st.ColText(2);
    e.field = st.ColText(3);
    return std::optional<LedgerEntry>(std::move(e));
  }

  Status PutLedger(const Uuid& device_id, uint64_t device_seq, const LedgerEntry& e) override {
    auto s = Prepare(
        "INSERT INTO ledger (device_id, device_seq, outcome, server_seq, reason, field) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!s.ok()) return s.status();
    sqlite::Statement st = std::move(*s);
    st.Id(1, device_id)
        .Int(2, static_cast<int64_t>(device_seq))
        .Int(3, e.outcome)
        .Int(4, static_cast<int64_t>(e.server_seq))
        .Text(5, e.reason)
        .Text(6, e.field);
    int rc = st.Step();
    if (rc == SQLITE_CONSTRAINT) {
      return Status(ErrorCode::kAlreadyExists, "device sequence " + std::to_string(device_seq) + " already recorded",
                    "device_seq");
    }
    return Done(rc, "write ledger");
  }

  // Queued, and written kAuditBatch rows per INSERT (see FlushAudit).
  Status AppendAudit(const AuditRow& a) override {
    if (!writable_) return Status::FailedPrecondition("store: an audit row cannot be written in a read transaction");
    pending_audit_.push_back(a);
    if (pending_audit_.size() >= kAuditBatch) return FlushAudit();
    return Status::Ok();
  }

  // Writes the queued audit rows, in the order they were appended (so audit_id keeps
  // that order): whole batches with the kAuditBatch-row INSERT, the rest one by one.
  // Called before anything reads or rewrites the audit table, and by Flush().
  Status FlushAudit() {
    size_t at = 0;
    while (pending_audit_.size() - at >= kAuditBatch) {
      auto s = Prepare(AuditInsertSql(kAuditBatch));
      if (!s.ok()) return s.status();
      sqlite::Statement st = std::move(*s);
      for (size_t i = 0; i < kAuditBatch; ++i) BindAudit(st, static_cast<int>(i * 10), pending_audit_[at + i]);
      OUTREACH_RETURN_IF_ERROR(Done(st.Step(), "append audit"));
      at += kAuditBatch;
    }
    for (; at < pending_audit_.size(); ++at) {
      auto s = Prepare(AuditInsertSql(1));
      if (!s.ok()) return s.status();
      sqlite::Statement st = std::move(*s);
      BindAudit(st, 0, pending_audit_[at]);
      OUTREACH_RETURN_IF_ERROR(Done(st.Step(), "append audit"));
    }
    pending_audit_.clear();
    return Status::Ok();
  }

  Result<std::vector<AuditRow>> ListAudit(const Uuid& record_id) override {
    OUTREACH_RETURN_IF_ERROR(FlushAudit());
    auto s = Prepare(
        "SELECT at_ms, hub_id, device_id, author, record_id, type, field, old_value, new_value, server_seq "
        "FROM audit WHERE record_id = ?1 ORDER BY audit_id");
    if (!s.ok()) return s.status();
    sqlite::Statement st = std::move(*s);
    st.Id(1, record_id);
    std::vector<AuditRow> out;
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) {
      out.push_back(AuditFrom(st));
    }
    if (rc != SQLITE_DONE) return Fail("read audit");
    return out;
  }

  Result<std::vector<EnrolmentCodeRow>> ListEnrolmentCodes() override {
    auto s = Prepare(
        "SELECT code_hash, hub_id, role, user_name, venue_id, expires_at_ms, used FROM enrolment_codes "
        "ORDER BY code_hash");
    if (!s.ok()) return s.status();
    sqlite::Statement st = std::move(*s);
    std::vector<EnrolmentCodeRow> out;
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) {
      EnrolmentCodeRow c;
      c.code_hash = st.ColBlob(0);
      c.hub_id = st.ColId(1);
      c.role = static_cast<v1::Role>(st.ColInt(2));
      c.user_name = st.ColText(3);
      c.venue_id = st.ColId(4);
      c.expires_at_ms = st.ColInt(5);
      c.used = st.ColInt(6) != 0;
      out.push_back(std::move(c));
    }
    if (rc != SQLITE_DONE) return Fail("list enrolment codes");
    return out;
  }

  Result<std::vector<std::pair<uint64_t, LedgerEntry>>> ReadLedger(const Uuid& device_id, uint64_t after_seq,
                                                                   uint32_t limit) override {
    auto s = Prepare(
        "SELECT device_seq, outcome, server_seq, reason, field FROM ledger WHERE device_id = ?1 AND device_seq > ?2 "
        "ORDER BY device_seq LIMIT ?3");
    if (!s.ok()) return s.status();
    sqlite::Statement st = std::move(*s);
    st.Id(1, device_id).Int(2, static_cast<int64_t>(after_seq)).Int(3, limit);
    std::vector<std::pair<uint64_t, LedgerEntry>> out;
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) {
      LedgerEntry e;
      e.outcome = static_cast<v1::ChangeOutcome>(st.ColInt(1));
      e.server_seq = static_cast<uint64_t>(st.ColInt(2));
      e.reason = st.ColText(3);
      e.field = st.ColText(4);
      out.emplace_back(static_cast<uint64_t>(st.ColInt(0)), std::move(e));
    }
    if (rc != SQLITE_DONE) return Fail("read ledger");
    return out;
  }

  // Walks the audit table's primary key from `after_position` and keeps the hub's rows.
  Result<std::vector<std::pair<uint64_t, AuditRow>>> ReadAudit(const Uuid& hub_id, uint64_t after_position,
                                                               uint32_t limit) override {
    OUTREACH_RETURN_IF_ERROR(FlushAudit());
    auto s = Prepare(
        "SELECT at_ms, hub_id, device_id, author, record_id, type, field, old_value, new_value, server_seq, audit_id "
        "FROM audit WHERE hub_id = ?1 AND audit_id > ?2 ORDER BY audit_id LIMIT ?3");
    if (!s.ok()) return s.status();
    sqlite::Statement st = std::move(*s);
    st.Id(1, hub_id).Int(2, static_cast<int64_t>(after_position)).Int(3, limit);
    std::vector<std::pair<uint64_t, AuditRow>> out;
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) {
      out.emplace_back(static_cast<uint64_t>(st.ColInt(10)), AuditFrom(st));
    }
    if (rc != SQLITE_DONE) return Fail("read audit");
    return out;
  }

  Status RedactRecordHistory(const Uuid& record_id) override {
    redacted_ = true;
    OUTREACH_RETURN_IF_ERROR(FlushAudit());
    // Rewrite every logged change of the record with its values emptied.
    std::vector<std::pair<std::string, int64_t>> entries;  // (hub, seq)
    std::vector<std::string> blobs;
    {
      auto s = Prepare("SELECT hub_id, server_seq, change FROM change_log WHERE record_id = ?1");
      if (!s.ok()) return s.status();
      sqlite::Statement st = std::move(*s);
      st.Id(1, record_id);
      int rc;
      while ((rc = st.Step()) == SQLITE_ROW) {
        entries.emplace_back(st.ColBlob(0), st.ColInt(1));
        blobs.push_back(st.ColBlob(2));
      }
      if (rc != SQLITE_DONE) return Fail("read change log for erasure");
    }
    for (size_t i = 0; i < entries.size(); ++i) {
      v1::Change c;
      if (!c.ParseFromString(blobs[i])) return Status::DataLoss("a logged change does not decode");
      for (auto& f : *c.mutable_fields()) f.clear_value();
      std::string blob;
      c.SerializeToString(&blob);
      auto s = Prepare("UPDATE change_log SET change = ?3 WHERE hub_id = ?1 AND server_seq = ?2");
      if (!s.ok()) return s.status();
      sqlite::Statement st = std::move(*s);
      st.Blob(1, entries[i].first).Int(2, entries[i].second).Blob(3, blob);
      OUTREACH_RETURN_IF_ERROR(Done(st.Step(), "redact change log"));
    }
    auto s = Prepare("UPDATE audit SET old_value = x'', new_value = x'' WHERE record_id = ?1");
    if (!s.ok()) return s.status();
    sqlite::Statement st = std::move(*s);
    st.Id(1, record_id);
    return Done(st.Step(), "redact audit");
  }

 private:
  // `sql` must have static storage (see sqlite::Database::Prepare).
  Result<sqlite::Statement> Prepare(const char* sql) { return conn_.Prepare(sql); }
  Status Fail(const char* what) const { return conn_.Error(what); }
  Status Done(int rc, const char* what) const { return conn_.Check(rc, what); }

  // Audit rows per multi-row INSERT: one statement's overhead (cursors opened, the
  // program run) is shared by them. 10 parameters a row: 640 of SQLite's 32,766.
  static constexpr size_t kAuditBatch = 64;

  // The INSERT of `rows` audit rows. The text is built once per size and lives for the
  // process, so its address keys the statement cache.
  static const char* AuditInsertSql(size_t rows) {
    static const std::string one = AuditInsertText(1);
    static const std::string batch = AuditInsertText(kAuditBatch);
    return rows == 1 ? one.c_str() : batch.c_str();
  }
  static std::string AuditInsertText(size_t rows) {
    std::string sql =
        "INSERT INTO audit (at_ms, hub_id, device_id, author, record_id, type, field, old_value, new_value, "
        "server_seq) VALUES ";
    for (size_t r = 0; r < rows; ++r) {
      sql += r == 0 ? "(" : ", (";
      for (size_t c = 1; c <= 10; ++c) sql += (c == 1 ? "?" : ", ?") + std::to_string(r * 10 + c);
      sql += ")";
    }
    return sql;
  }
  static void BindAudit(sqlite::Statement& st, int base, const AuditRow& a) {
    st.Int(base + 1, a.at_ms)
        .Id(base + 2, a.hub_id)
        .Id(base + 3, a.device_id)
        .Text(base + 4, a.author)
        .Id(base + 5, a.record_id)
        .Int(base + 6, a.type)
        .Int(base + 7, a.field)
        .Blob(base + 8, a.old_value)
        .Blob(base + 9, a.new_value)
        .Int(base + 10, static_cast<int64_t>(a.server_seq));
  }

  // Keys as record_keys holds them: a set, in order (as LoadKeys reads them).
  static std::vector<std::string> SortedKeys(std::vector<std::string> keys) {
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    return keys;
  }

  Status UpdateOne(const char* sql, const Uuid& id, int64_t value, const char* noun, const char* field) {
    auto s = Prepare(sql);
    if (!s.ok()) return s.status();
    sqlite::Statement st = std::move(*s);
    st.Id(1, id);
    if (std::strstr(sql, "?2") != nullptr) st.Int(2, value);
    OUTREACH_RETURN_IF_ERROR(Done(st.Step(), "update"));
    if (conn_.changes() != 1) {
      return Status::NotFound(std::string("no ") + noun + " " + id.ToString(), field);
    }
    return Status::Ok();
  }

  // A hub row, with the sequence numbers this transaction handed out (see Flush).
  HubRow HubFrom(const sqlite::Statement& st) const {
    HubRow h;
    h.hub_id = st.ColId(0);
    h.name = st.ColText(1);
    h.created_at_ms = st.ColInt(2);
    h.last_seq = static_cast<uint64_t>(st.ColInt(3));
    auto cached = hub_seq_.find(h.hub_id.raw());
    if (cached != hub_seq_.end()) h.last_seq = cached->second;
    return h;
  }

  static DeviceRow DeviceFrom(const sqlite::Statement& st) {
    DeviceRow d;
    d.device_id = st.ColId(0);
    d.hub_id = st.ColId(1);
    d.role = static_cast<v1::Role>(st.ColInt(2));
    d.venue_id = st.ColId(3);
    d.user_name = st.ColText(4);
    d.device_name = st.ColText(5);
    d.reference_prefix = st.ColText(6);
    d.credential_hash = st.ColBlob(7);
    d.revoked = st.ColInt(8) != 0;
    d.enrolled_at_ms = st.ColInt(9);
    d.last_sync_ms = st.ColInt(10);
    return d;
  }

  // From a row of OUTREACH_RECORD_COLUMNS (keys not loaded).
  static Result<StoredRecord> RecordFrom(const sqlite::Statement& st) {
    StoredRecord r;
    r.participant_id = st.ColId(1);
    std::string body = st.ColBlob(2);
    if (!r.record.ParseFromString(body)) return Status::DataLoss("a stored record does not decode");
    auto versions = DecodeFieldVersions(st.ColBlob(3));
    if (!versions.ok()) return versions.status();
    r.versions = std::move(*versions);
    return r;
  }

  Result<std::vector<StoredRecord>> Records(sqlite::Statement& st) {
    std::vector<StoredRecord> out;
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) {
      auto r = RecordFrom(st);
      if (!r.ok()) return r.status();
      out.push_back(std::move(*r));
    }
    if (rc != SQLITE_DONE) return Fail("read records");
    for (auto& r : out) OUTREACH_RETURN_IF_ERROR(LoadKeys(&r));
    return out;
  }

  Status LoadKeys(StoredRecord* r) {
    auto s = Prepare("SELECT key FROM record_keys WHERE record_id = ?1 ORDER BY key");
    if (!s.ok()) return s.status();
    sqlite::Statement st = std::move(*s);
    st.Blob(1, r->record.id());
    r->keys.clear();
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) r->keys.push_back(st.ColText(0));
    if (rc != SQLITE_DONE) return Fail("read record keys");
    Stored& held = stored_[r->record.id()];
    held.keys = r->keys;
    held.hub_id = r->record.hub_id();
    held.type = r->record.type();
    held.participant_id = r->participant_id;
    return Status::Ok();
  }

  sqlite::Database& conn_;
  const bool writable_;
  bool redacted_ = false;
  std::unordered_map<std::string, uint64_t> hub_seq_;  // raw hub id -> last seq
  // A record row as it stands in the store: its keys (as record_keys holds them) and the
  // indexed columns PutRecord may leave alone.
  struct Stored {
    std::vector<std::string> keys;
    std::string hub_id;
    int type = 0;
    Uuid participant_id;
  };
  std::unordered_map<std::string, Stored> stored_;  // raw record id -> the row as stored
  // The records this transaction wrote, as written: GetRecord answers them from here.
  std::unordered_map<std::string, StoredRecord> written_;  // raw record id -> record
  std::vector<AuditRow> pending_audit_;                    // appended, not yet inserted (FlushAudit)
};

// ---------------------------------------------------------------- the store

namespace {

// Opens a connection to `path` with the settings every connection shares: the layer's
// (one thread at a time, a 10 s busy timeout).
Result<std::unique_ptr<sqlite::Database>> OpenConnection(const std::string& path, int flags) {
  sqlite::Database::Options options;
  options.flags = flags;
  options.busy_timeout_ms = 10000;
  return sqlite::Database::Open(path, options);
}

}  // namespace

SqliteStore::SqliteStore(std::string path, Options options, std::unique_ptr<sqlite::Database> writer)
    : path_(std::move(path)), options_(options), writer_(std::move(writer)) {}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path, Options options) {
  if (path.empty()) return Status::InvalidArgument("store", "the store path is empty");
  if (options.max_readers < 1) return Status::InvalidArgument("max_readers", "must be at least 1");
  auto opened = OpenConnection(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!opened.ok()) return opened.status();
  std::unique_ptr<sqlite::Database> writer = std::move(*opened);
  OUTREACH_RETURN_IF_ERROR(writer->Exec("PRAGMA journal_mode=WAL"));
  OUTREACH_RETURN_IF_ERROR(writer->Exec("PRAGMA synchronous=FULL"));
  OUTREACH_RETURN_IF_ERROR(writer->Exec("PRAGMA foreign_keys=ON"));
  OUTREACH_RETURN_IF_ERROR(writer->Exec("PRAGMA secure_delete=ON"));
  OUTREACH_RETURN_IF_ERROR(writer->Exec("PRAGMA temp_store=MEMORY"));
  // A 64 MiB page cache instead of SQLite's 2 MiB: one push batch touches the log,
  // ledger, records, keys and audit indexes of a hub (docs/PERFORMANCE.md).
  OUTREACH_RETURN_IF_ERROR(writer->Exec("PRAGMA cache_size=-65536"));
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, options, std::move(writer)));
  OUTREACH_RETURN_IF_ERROR(store->Migrate());
  return store;
}

SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<sqlite::Database>> SqliteStore::OpenReader() {
  auto opened = OpenConnection(path_, SQLITE_OPEN_READWRITE);
  if (!opened.ok()) return opened.status();
  std::unique_ptr<sqlite::Database> reader = std::move(*opened);
  // query_only: a write through a reader fails (SQLITE_READONLY) instead of competing
  // with the writer for the lock.
  OUTREACH_RETURN_IF_ERROR(reader->Exec("PRAGMA query_only=ON"));
  OUTREACH_RETURN_IF_ERROR(reader->Exec("PRAGMA temp_store=MEMORY"));
  // 16 MiB each: pulls read the log's recent end, which the OS page cache holds anyway.
  OUTREACH_RETURN_IF_ERROR(reader->Exec("PRAGMA cache_size=-16384"));
  return reader;
}

Status SqliteStore::Migrate() {
  std::lock_guard<std::mutex> lock(write_mu_);
  sqlite::Database& db = *writer_;
  sqlite::Transaction txn(db, sqlite::Transaction::Mode::kImmediate);
  OUTREACH_RETURN_IF_ERROR(txn.status());
  auto version = db.QueryInt("PRAGMA user_version");
  if (!version.ok()) return version.status();  // rolled back by txn
  if (*version > kSchemaVersion) {
    return Status::FailedPrecondition("store " + path_ + " has schema version " + std::to_string(*version) +
                                      ", newer than this server's " + std::to_string(kSchemaVersion) +
                                      "; upgrade the server");
  }
  for (int64_t v = *version; v < kSchemaVersion; ++v) OUTREACH_RETURN_IF_ERROR(db.Exec(kMigrations[v]));
  OUTREACH_RETURN_IF_ERROR(db.Exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str()));
  return txn.Commit();
}

// Group commit (see sqlite_store.h). A caller queues its body and waits; whichever caller
// finds no leader becomes it, takes the queue (up to kMaxGroup bodies, oldest first), runs
// them on the writer in one transaction and wakes their callers once it has committed.
Status SqliteStore::Transact(const std::function<Status(StoreTxn&)>& body) {
  GroupMember me;
  me.body = &body;
  std::unique_lock<std::mutex> lock(group_mu_);
  group_queue_.push_back(&me);
  while (!me.done) {
    if (group_leading_) {
      group_cv_.wait(lock);
      continue;
    }
    group_leading_ = true;
    std::vector<GroupMember*> group;
    while (!group_queue_.empty() && group.size() < kMaxGroup) {
      group.push_back(group_queue_.front());
      group_queue_.pop_front();
    }
    lock.unlock();
    RunGroup(group);
    lock.lock();
    for (GroupMember* m : group) m->done = true;
    group_leading_ = false;
    group_cv_.notify_all();
  }
  lock.unlock();
  if (me.error) std::rethrow_exception(me.error);
  return me.result;
}

void SqliteStore::RunGroup(const std::vector<GroupMember*>& group) {
  std::lock_guard<std::mutex> lock(write_mu_);
  sqlite::Database& db = *writer_;
  const auto fail_all = [&group](const Status& st) {
    for (GroupMember* m : group) {
      if (!m->error && m->result.ok()) m->result = st;
    }
  };
  // Rolled back on every return below that does not commit it.
  sqlite::Transaction group_txn(db, sqlite::Transaction::Mode::kImmediate);
  if (!group_txn.status().ok()) return fail_all(group_txn.status());
  bool redacted = false;
  size_t committed_members = 0;  // bodies whose work stands in the open transaction
  for (GroupMember* m : group) {
    // With one body the savepoint is not needed: its failure rolls back everything.
    const bool alone = group.size() == 1;
    std::optional<sqlite::Savepoint> savepoint;
    if (!alone) {
      savepoint.emplace(db);
      if (!savepoint->status().ok()) {
        m->result = savepoint->status();
        continue;
      }
    }
    Txn txn(db, /*writable=*/true);
    Status st;
    try {
      st = (*m->body)(txn);
    } catch (...) {
      m->error = std::current_exception();
      st = Status::Internal("transaction body threw");
    }
    if (st.ok()) st = txn.Flush();
    if (db.autocommit()) {
      // SQLite rolled the whole transaction back by itself (an I/O error, a full disk):
      // the group's earlier bodies are undone with it; their callers get this error and
      // nothing of theirs stands (the devices push again).
      if (!m->error) m->result = st.ok() ? db.Error("transaction rolled back") : st;
      fail_all(Status(ErrorCode::kUnavailable, "store: the group transaction was rolled back: " +
                                                   (st.ok() ? db.Error("commit").message() : st.message())));
      return;
    }
    if (!st.ok() || m->error) {
      if (!m->error) m->result = st;
      if (alone) {
        group_txn.Rollback();
        return;
      }
      // Only this body's work is undone; the others' stands.
      Status undone = savepoint->Rollback();
      if (!undone.ok()) {
        group_txn.Rollback();
        return fail_all(undone);
      }
      continue;
    }
    if (!alone) {
      Status released = savepoint->Release();
      if (!released.ok()) {
        group_txn.Rollback();
        return fail_all(released);
      }
    }
    redacted = redacted || txn.redacted();
    ++committed_members;
  }
  if (committed_members == 0) {
    group_txn.Rollback();
    return;
  }
  Status commit = group_txn.Commit();  // rolls back if it fails
  if (!commit.ok()) return fail_all(commit);
  ++commits_;
  // An erasure's old page images still sit in the WAL: fold them into the (zeroed,
  // secure_delete) main file and truncate the WAL, with no in-process Read holding a
  // snapshot that pins them. Best effort: a reader in another process may hold old
  // frames; they are overwritten as the WAL is reused.
  if (redacted) {
    DrainReaders();
    (void)db.TruncateWal();
    EndDrain();
  }
}

Status SqliteStore::Read(const std::function<Status(StoreTxn&)>& body) {
  std::unique_ptr<sqlite::Database> reader;
  {
    std::unique_lock<std::mutex> lock(readers_mu_);
    readers_cv_.wait(lock,
                     [this] { return !draining_ && (!idle_readers_.empty() || readers_open_ < options_.max_readers); });
    if (!idle_readers_.empty()) {
      reader = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    } else {
      ++readers_open_;  // reserved; opened below, outside the lock
    }
    ++readers_busy_;
  }
  // Gives the connection back (or its reservation, if it could not be opened).
  auto release = [this, &reader] {
    {
      std::lock_guard<std::mutex> lock(readers_mu_);
      if (reader) {
        idle_readers_.push_back(std::move(reader));
      } else {
        --readers_open_;
      }
      --readers_busy_;
    }
    readers_cv_.notify_all();
  };
  if (!reader) {
    auto opened = OpenReader();
    if (!opened.ok()) {
      release();
      return opened.status();
    }
    reader = std::move(*opened);
  }
  sqlite::Database& db = *reader;
  Status st, end;
  {
    // Ended (committed or rolled back) before the connection goes back to the pool.
    sqlite::Transaction read_txn(db, sqlite::Transaction::Mode::kDeferred);
    if (!read_txn.status().ok()) {
      release();
      return read_txn.status();
    }
    Txn txn(db, /*writable=*/false);
    try {
      st = body(txn);
    } catch (...) {
      read_txn.Rollback();
      release();
      throw;
    }
    // Nothing was written: ending the read transaction either way releases the snapshot.
    if (st.ok()) {
      end = read_txn.Commit();  // rolls back if it fails
    } else {
      read_txn.Rollback();
    }
  }
  release();
  if (!st.ok()) return st;
  return end;
}

void SqliteStore::DrainReaders() {
  std::unique_lock<std::mutex> lock(readers_mu_);
  draining_ = true;
  readers_cv_.wait(lock, [this] { return readers_busy_ == 0; });
}

void SqliteStore::EndDrain() {
  {
    std::lock_guard<std::mutex> lock(readers_mu_);
    draining_ = false;
  }
  readers_cv_.notify_all();
}

}  // namespace outreach::server
