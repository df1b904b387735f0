#include "server/store/sqlite_store.h"

#include "server/store/field_versions.h"

#include <cstring>

namespace outreach::server {
namespace {

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

// ---------------------------------------------------------------- statement helpers

namespace {

// Binds and reads one statement. Does not own it (the store's cache does).
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  ~Stmt() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Stmt& Blob(int i, std::string_view v) {
    // An empty blob must stay a blob (not NULL): bind a zero-length blob explicitly.
    sqlite3_bind_blob(s_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Id(int i, const Uuid& id) { return Blob(i, id.raw()); }
  Stmt& Text(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Int(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& Null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(s_); }

  std::string ColBlob(int i) const {
    const void* p = sqlite3_column_blob(s_, i);
    int n = sqlite3_column_bytes(s_, i);
    return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), static_cast<size_t>(n));
  }
  std::string ColText(int i) const {
    const unsigned char* p = sqlite3_column_text(s_, i);
    int n = sqlite3_column_bytes(s_, i);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
  }
  int64_t ColInt(int i) const { return sqlite3_column_int64(s_, i); }
  Uuid ColId(int i) const {
    std::string raw = ColBlob(i);
    if (raw.size() != Uuid::kSize) return Uuid();
    Uuid::Bytes b;
    std::memcpy(b.data(), raw.data(), Uuid::kSize);
    return Uuid(b);
  }

 private:
  sqlite3_stmt* s_;
};

}  // namespace

// ---------------------------------------------------------------- the transaction

class SqliteStore::Txn final : public StoreTxn {
 public:
  explicit Txn(SqliteStore& store) : store_(store) {}

  bool redacted() const { return redacted_; }

  Status InsertHub(const HubRow& hub) override {
    auto s = Prepare("INSERT INTO hubs (hub_id, name, created_at_ms, last_seq) VALUES (?1, ?2, ?3, 0)");
    if (!s.ok()) return s.status();
    Stmt st(*s);
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
    Stmt st(*s);
    st.Id(1, hub_id);
    int rc = st.Step();
    if (rc == SQLITE_DONE) return std::optional<HubRow>();
    if (rc != SQLITE_ROW) return Fail("read hub");
    return std::optional<HubRow>(HubFrom(st));
  }

  Result<std::vector<HubRow>> ListHubs() override {
    auto s = Prepare("SELECT hub_id, name, created_at_ms, last_seq FROM hubs ORDER BY created_at_ms, hub_id");
    if (!s.ok()) return s.status();
    Stmt st(*s);
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
    Stmt st(*s);
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
    auto s = Prepare(std::string(kDeviceColumns) + " WHERE device_id = ?1");
    if (!s.ok()) return s.status();
    Stmt st(*s);
    st.Id(1, device_id);
    int rc = st.Step();
    if (rc == SQLITE_DONE) return std::optional<DeviceRow>();
    if (rc != SQLITE_ROW) return Fail("read device");
    return std::optional<DeviceRow>(DeviceFrom(st));
  }

  Result<std::vector<DeviceRow>> ListDevices(const Uuid& hub_id) override {
    auto s = hub_id.is_nil()
                 ? Prepare(std::string(kDeviceColumns) + " ORDER BY enrolled_at_ms, device_id")
                 : Prepare(std::string(kDeviceColumns) + " WHERE hub_id = ?1 ORDER BY enrolled_at_ms, device_id");
    if (!s.ok()) return s.status();
    Stmt st(*s);
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
    Stmt st(*s);
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
    Stmt st(*s);
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
    Stmt st(*s);
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
    Stmt st(*s);
    st.Blob(1, code_hash);
    OUTREACH_RETURN_IF_ERROR(Done(st.Step(), "mark enrolment code used"));
    if (sqlite3_changes(store_.db_) != 1) return Status::NotFound("no such enrolment code", "code");
    return Status::Ok();
  }

  Result<uint64_t> AppendChange(const Uuid& hub_id, v1::Change change) override {
    // Advance the hub's counter first: in SQLite the transaction already holds the
    // write lock, so the number is ours until commit.
    auto s = Prepare("UPDATE hubs SET last_seq = last_seq + 1 WHERE hub_id = ?1 RETURNING last_seq");
    if (!s.ok()) return s.status();
    uint64_t seq = 0;
    {
      Stmt st(*s);
      st.Id(1, hub_id);
      int rc = st.Step();
      if (rc == SQLITE_DONE) return Status::NotFound("no hub " + hub_id.ToString(), "hub_id");
      if (rc != SQLITE_ROW) return Fail("advance hub sequence");
      seq = static_cast<uint64_t>(st.ColInt(0));
      if (st.Step() != SQLITE_DONE) return Fail("advance hub sequence");
    }
    change.set_server_seq(seq);
    std::string blob;
    if (!change.SerializeToString(&blob)) return Status::Internal("change does not serialise");
    auto ins =
        Prepare("INSERT INTO change_log (hub_id, server_seq, record_id, hlc, change) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!ins.ok()) return ins.status();
    Stmt st(*ins);
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
    Stmt st(*s);
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

  Result<Hlc> MaxLoggedHlc() override {
    auto s = Prepare("SELECT max(hlc) FROM change_log");
    if (!s.ok()) return s.status();
    Stmt st(*s);
    if (st.Step() != SQLITE_ROW) return Fail("read latest stamp");
    return Hlc(static_cast<uint64_t>(st.ColInt(0)));
  }

  Result<std::optional<StoredRecord>> GetRecord(const Uuid& record_id) override {
    auto s = Prepare(std::string(kRecordColumns) + " WHERE record_id = ?1");
    if (!s.ok()) return s.status();
    std::optional<StoredRecord> out;
    {
      Stmt st(*s);
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

  Status PutRecord(const StoredRecord& r) override {
    auto id = Uuid::FromBytes(r.record.id());
    if (!id.ok()) return id.status();
    std::string body;
    if (!r.record.SerializeToString(&body)) return Status::Internal("record does not serialise");
    {
      auto s = Prepare(
          "INSERT INTO records (record_id, hub_id, type, participant_id, record, versions) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (record_id) DO UPDATE SET hub_id = excluded.hub_id, "
          "type = excluded.type, participant_id = excluded.participant_id, record = excluded.record, "
          "versions = excluded.versions");
      if (!s.ok()) return s.status();
      Stmt st(*s);
      st.Id(1, *id).Blob(2, r.record.hub_id()).Int(3, r.record.type());
      if (r.participant_id.is_nil()) {
        st.Null(4);
      } else {
        st.Id(4, r.participant_id);
      }
      st.Blob(5, body).Blob(6, EncodeFieldVersions(r.versions));
      OUTREACH_RETURN_IF_ERROR(Done(st.Step(), "write record"));
    }
    {
      auto s = Prepare("DELETE FROM record_keys WHERE record_id = ?1");
      if (!s.ok()) return s.status();
      Stmt st(*s);
      st.Id(1, *id);
      OUTREACH_RETURN_IF_ERROR(Done(st.Step(), "replace record keys"));
    }
    for (const std::string& key : r.keys) {
      auto s = Prepare("INSERT OR IGNORE INTO record_keys (hub_id, key, record_id) VALUES (?1, ?2, ?3)");
      if (!s.ok()) return s.status();
      Stmt st(*s);
      st.Blob(1, r.record.hub_id()).Text(2, key).Id(3, *id);
      OUTREACH_RETURN_IF_ERROR(Done(st.Step(), "write record key"));
    }
    return Status::Ok();
  }

  Result<std::vector<StoredRecord>> ListRecordsByType(const Uuid& hub_id, v1::RecordType type) override {
    auto s = Prepare(std::string(kRecordColumns) + " WHERE hub_id = ?1 AND type = ?2 ORDER BY record_id");
    if (!s.ok()) return s.status();
    Stmt st(*s);
    st.Id(1, hub_id).Int(2, type);
    return Records(st);
  }

  Result<std::vector<StoredRecord>> FindRecordsByParticipant(const Uuid& hub_id, const Uuid& participant_id) override {
    auto s = Prepare(std::string(kRecordColumns) + " WHERE hub_id = ?1 AND participant_id = ?2 ORDER BY record_id");
    if (!s.ok()) return s.status();
    Stmt st(*s);
    st.Id(1, hub_id).Id(2, participant_id);
    return Records(st);
  }

  Result<std::vector<StoredRecord>> FindRecordsByKey(const Uuid& hub_id, const std::string& key) override {
    auto s = Prepare(
        "SELECT r.record_id, r.participant_id, r.record, r.versions FROM record_keys k "
        "JOIN records r ON r.record_id = k.record_id WHERE k.hub_id = ?1 AND k.key = ?2 ORDER BY r.record_id");
    if (!s.ok()) return s.status();
    Stmt st(*s);
    st.Id(1, hub_id).Text(2, key);
    return Records(st);
  }

  Result<std::optional<LedgerEntry>> GetLedger(const Uuid& device_id, uint64_t device_seq) override {
    auto s = Prepare("SELECT outcome, server_seq, reason, field FROM ledger WHERE device_id = ?1 AND device_seq = ?2");
    if (!s.ok()) return s.status();
    Stmt st(*s);
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
    Stmt st(*s);
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

  Status AppendAudit(const AuditRow& a) override {
    auto s = Prepare(
        "INSERT INTO audit (at_ms, hub_id, device_id, author, record_id, type, field, old_value, new_value, "
        "server_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    if (!s.ok()) return s.status();
    Stmt st(*s);
    st.Int(1, a.at_ms)
        .Id(2, a.hub_id)
        .Id(3, a.device_id)
        .Text(4, a.author)
        .Id(5, a.record_id)
        .Int(6, a.type)
        .Int(7, a.field)
        .Blob(8, a.old_value)
        .Blob(9, a.new_value)
        .Int(10, static_cast<int64_t>(a.server_seq));
    return Done(st.Step(), "append audit");
  }

  Result<std::vector<AuditRow>> ListAudit(const Uuid& record_id) override {
    auto s = Prepare(
        "SELECT at_ms, hub_id, device_id, author, record_id, type, field, old_value, new_value, server_seq "
        "FROM audit WHERE record_id = ?1 ORDER BY audit_id");
    if (!s.ok()) return s.status();
    Stmt st(*s);
    st.Id(1, record_id);
    std::vector<AuditRow> out;
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) {
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
      out.push_back(std::move(a));
    }
    if (rc != SQLITE_DONE) return Fail("read audit");
    return out;
  }

  Result<std::vector<EnrolmentCodeRow>> ListEnrolmentCodes() override {
    auto s = Prepare(
        "SELECT code_hash, hub_id, role, user_name, venue_id, expires_at_ms, used FROM enrolment_codes "
        "ORDER BY code_hash");
    if (!s.ok()) return s.status();
    Stmt st(*s);
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
    Stmt st(*s);
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
    auto s = Prepare(
        "SELECT at_ms, hub_id, device_id, author, record_id, type, field, old_value, new_value, server_seq, audit_id "
        "FROM audit WHERE hub_id = ?1 AND audit_id > ?2 ORDER BY audit_id LIMIT ?3");
    if (!s.ok()) return s.status();
    Stmt st(*s);
    st.Id(1, hub_id).Int(2, static_cast<int64_t>(after_position)).Int(3, limit);
    std::vector<std::pair<uint64_t, AuditRow>> out;
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) {
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
      out.emplace_back(static_cast<uint64_t>(st.ColInt(10)), std::move(a));
    }
    if (rc != SQLITE_DONE) return Fail("read audit");
    return out;
  }

  Status RedactRecordHistory(const Uuid& record_id) override {
    redacted_ = true;
    // Rewrite every logged change of the record with its values emptied.
    std::vector<std::pair<std::string, int64_t>> entries;  // (hub, seq)
    std::vector<std::string> blobs;
    {
      auto s = Prepare("SELECT hub_id, server_seq, change FROM change_log WHERE record_id = ?1");
      if (!s.ok()) return s.status();
      Stmt st(*s);
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
      Stmt st(*s);
      st.Blob(1, entries[i].first).Int(2, entries[i].second).Blob(3, blob);
      OUTREACH_RETURN_IF_ERROR(Done(st.Step(), "redact change log"));
    }
    auto s = Prepare("UPDATE audit SET old_value = x'', new_value = x'' WHERE record_id = ?1");
    if (!s.ok()) return s.status();
    Stmt st(*s);
    st.Id(1, record_id);
    return Done(st.Step(), "redact audit");
  }

 private:
  static constexpr const char* kDeviceColumns =
      "SELECT device_id, hub_id, role, venue_id, user_name, device_name, reference_prefix, credential_hash, "
      "revoked, enrolled_at_ms, last_sync_ms FROM devices";
  static constexpr const char* kRecordColumns = "SELECT record_id, participant_id, record, versions FROM records";

  Result<sqlite3_stmt*> Prepare(const std::string& sql) { return store_.Prepare(sql.c_str()); }
  Status Fail(const char* what) const { return store_.Error(what); }
  Status Done(int rc, const char* what) const {
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) return Status::Ok();
    return store_.Error(what);
  }

  Status UpdateOne(const char* sql, const Uuid& id, int64_t value, const char* noun, const char* field) {
    auto s = Prepare(sql);
    if (!s.ok()) return s.status();
    Stmt st(*s);
    st.Id(1, id);
    if (std::strstr(sql, "?2") != nullptr) st.Int(2, value);
    OUTREACH_RETURN_IF_ERROR(Done(st.Step(), "update"));
    if (sqlite3_changes(store_.db_) != 1) {
      return Status::NotFound(std::string("no ") + noun + " " + id.ToString(), field);
    }
    return Status::Ok();
  }

  static HubRow HubFrom(const Stmt& st) {
    HubRow h;
    h.hub_id = st.ColId(0);
    h.name = st.ColText(1);
    h.created_at_ms = st.ColInt(2);
    h.last_seq = static_cast<uint64_t>(st.ColInt(3));
    return h;
  }

  static DeviceRow DeviceFrom(const Stmt& st) {
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

  // From a row of kRecordColumns (keys not loaded).
  static Result<StoredRecord> RecordFrom(const Stmt& st) {
    StoredRecord r;
    r.participant_id = st.ColId(1);
    std::string body = st.ColBlob(2);
    if (!r.record.ParseFromString(body)) return Status::DataLoss("a stored record does not decode");
    auto versions = DecodeFieldVersions(st.ColBlob(3));
    if (!versions.ok()) return versions.status();
    r.versions = std::move(*versions);
    return r;
  }

  Result<std::vector<StoredRecord>> Records(Stmt& st) {
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
    Stmt st(*s);
    st.Blob(1, r->record.id());
    r->keys.clear();
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) r->keys.push_back(st.ColText(0));
    if (rc != SQLITE_DONE) return Fail("read record keys");
    return Status::Ok();
  }

  SqliteStore& store_;
  bool redacted_ = false;
};

// ---------------------------------------------------------------- the store

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path) {
  if (path.empty()) return Status::InvalidArgument("store", "the store path is empty");
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Status::IoError("cannot open store " + path + ": " + msg);
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, db));
  sqlite3_busy_timeout(db, 10000);
  OUTREACH_RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL"));
  OUTREACH_RETURN_IF_ERROR(store->Exec("PRAGMA synchronous=FULL"));
  OUTREACH_RETURN_IF_ERROR(store->Exec("PRAGMA foreign_keys=ON"));
  OUTREACH_RETURN_IF_ERROR(store->Exec("PRAGMA secure_delete=ON"));
  // A 64 MiB page cache instead of SQLite's 2 MiB: one push batch or pull page touches
  // the log, ledger, records, keys and audit indexes of a hub (docs/PERFORMANCE.md).
  OUTREACH_RETURN_IF_ERROR(store->Exec("PRAGMA cache_size=-65536"));
  OUTREACH_RETURN_IF_ERROR(store->Migrate());
  return store;
}

SqliteStore::~SqliteStore() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Status SqliteStore::Error(const char* what) const {
  return Status::IoError(std::string("store: ") + what + ": " + sqlite3_errmsg(db_));
}

Status SqliteStore::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::IoError("store " + path_ + ": " + msg);
  }
  return Status::Ok();
}

Status SqliteStore::Migrate() {
  std::lock_guard<std::mutex> lock(mu_);
  OUTREACH_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto rollback = [this](Status st) {
    Exec("ROLLBACK");
    return st;
  };
  int version = 0;
  {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &s, nullptr) != SQLITE_OK) {
      return rollback(Error("read schema version"));
    }
    if (sqlite3_step(s) == SQLITE_ROW) version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
  }
  if (version > kSchemaVersion) {
    return rollback(Status::FailedPrecondition("store " + path_ + " has schema version " + std::to_string(version) +
                                               ", newer than this server's " + std::to_string(kSchemaVersion) +
                                               "; upgrade the server"));
  }
  for (int v = version; v < kSchemaVersion; ++v) {
    Status st = Exec(kMigrations[v]);
    if (!st.ok()) return rollback(st);
  }
  Status st = Exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
  if (!st.ok()) return rollback(st);
  return Exec("COMMIT");
}

Result<sqlite3_stmt*> SqliteStore::Prepare(const char* sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
    return Error("prepare statement");
  }
  statements_.emplace(sql, stmt);
  return stmt;
}

Status SqliteStore::Transact(const std::function<Status(StoreTxn&)>& body) {
  std::lock_guard<std::mutex> lock(mu_);
  OUTREACH_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  Txn txn(*this);
  Status st;
  try {
    st = body(txn);
  } catch (...) {
    Exec("ROLLBACK");
    throw;
  }
  if (!st.ok()) {
    Exec("ROLLBACK");
    return st;
  }
  Status commit = Exec("COMMIT");
  if (!commit.ok()) {
    Exec("ROLLBACK");
    return commit;
  }
  // An erasure's old page images still sit in the WAL: fold them into the (zeroed,
  // secure_delete) main file and truncate the WAL. Best effort: a reader in another
  // process may hold old frames; they are overwritten as the WAL is reused.
  if (txn.redacted()) sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  return Status::Ok();
}

}  // namespace outreach::server
