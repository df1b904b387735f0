#include "server/store/postgres_store.h"

#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "server/store/field_versions.h"

namespace outreach::server {
namespace {

// Migration i (1-based) takes the schema from version i-1 to i. Append only.
// Integers are bigint throughout (results are read as int8); key is compared bytewise
// (COLLATE "C") so lookups and orderings match the SQLite store on any database locale.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE hubs (
  hub_id bytea PRIMARY KEY,
  name text NOT NULL,
  created_at_ms bigint NOT NULL,
  last_seq bigint NOT NULL DEFAULT 0
);
CREATE TABLE devices (
  device_id bytea PRIMARY KEY,
  hub_id bytea NOT NULL REFERENCES hubs(hub_id),
  role bigint NOT NULL,
  venue_id bytea NOT NULL,
  user_name text NOT NULL,
  device_name text NOT NULL,
  reference_prefix text NOT NULL UNIQUE,
  credential_hash bytea NOT NULL,
  revoked boolean NOT NULL DEFAULT false,
  enrolled_at_ms bigint NOT NULL,
  last_sync_ms bigint NOT NULL DEFAULT 0
);
CREATE INDEX devices_by_hub ON devices(hub_id, enrolled_at_ms, device_id);
CREATE TABLE enrolment_codes (
  code_hash bytea PRIMARY KEY,
  hub_id bytea NOT NULL REFERENCES hubs(hub_id),
  role bigint NOT NULL,
  user_name text NOT NULL,
  venue_id bytea NOT NULL,
  expires_at_ms bigint NOT NULL,
  used boolean NOT NULL DEFAULT false
);
CREATE TABLE change_log (
  hub_id bytea NOT NULL REFERENCES hubs(hub_id),
  server_seq bigint NOT NULL,
  record_id bytea NOT NULL,
  hlc bigint NOT NULL,
  change bytea NOT NULL,
  PRIMARY KEY (hub_id, server_seq)
);
CREATE INDEX change_log_by_record ON change_log(record_id);
CREATE INDEX change_log_by_hlc ON change_log(hlc);
CREATE TABLE records (
  record_id bytea PRIMARY KEY,
  hub_id bytea NOT NULL REFERENCES hubs(hub_id),
  type bigint NOT NULL,
  participant_id bytea,
  record bytea NOT NULL,
  versions bytea NOT NULL
);
CREATE INDEX records_by_type ON records(hub_id, type, record_id);
CREATE INDEX records_by_participant ON records(hub_id, participant_id, record_id)
  WHERE participant_id IS NOT NULL;
CREATE TABLE record_keys (
  hub_id bytea NOT NULL,
  key text COLLATE "C" NOT NULL,
  record_id bytea NOT NULL REFERENCES records(record_id),
  PRIMARY KEY (hub_id, key, record_id)
);
CREATE INDEX record_keys_by_record ON record_keys(record_id, key);
CREATE TABLE ledger (
  device_id bytea NOT NULL REFERENCES devices(device_id),
  device_seq bigint NOT NULL,
  outcome bigint NOT NULL,
  server_seq bigint NOT NULL,
  reason text NOT NULL,
  field text NOT NULL,
  PRIMARY KEY (device_id, device_seq)
);
CREATE TABLE audit (
  audit_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at_ms bigint NOT NULL,
  hub_id bytea NOT NULL,
  device_id bytea NOT NULL,
  author text NOT NULL,
  record_id bytea NOT NULL,
  type bigint NOT NULL,
  field bigint NOT NULL,
  old_value bytea NOT NULL,
  new_value bytea NOT NULL,
  server_seq bigint NOT NULL
);
CREATE INDEX audit_by_record ON audit(record_id, audit_id);
)sql",
};

constexpr int kMigrationCount = static_cast<int>(sizeof kMigrations / sizeof kMigrations[0]);
static_assert(kMigrationCount == PostgresStore::kSchemaVersion);

// Any constant: the advisory lock key that serialises schema migration across servers.
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(7130501)";

// Type OIDs (pg_type.h) of the parameters we send.
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kTextOid = 25;

using PgResult = std::unique_ptr<PGresult, decltype(&PQclear)>;

// Parameters of one statement, all in binary format.
class Params {
 public:
  Params& Bytes(std::string_view v) { return Add(kByteaOid, std::string(v)); }
  Params& Id(const Uuid& id) { return Bytes(id.raw()); }
  Params& Text(std::string_view v) { return Add(kTextOid, std::string(v)); }
  Params& Int(int64_t v) {
    std::string be(8, '\0');
    for (int i = 0; i < 8; ++i)
      be[static_cast<size_t>(i)] = static_cast<char>((static_cast<uint64_t>(v) >> (56 - 8 * i)) & 0xFF);
    return Add(kInt8Oid, std::move(be));
  }
  Params& Bool(bool v) { return Add(kBoolOid, std::string(1, v ? '\1' : '\0')); }
  Params& NullBytes() {
    types_.push_back(kByteaOid);
    values_.emplace_back();
    return *this;
  }

  int size() const { return static_cast<int>(values_.size()); }
  const std::vector<Oid>& types() const { return types_; }
  // Pointer arrays for libpq, valid while this object is unchanged.
  void Arrays(std::vector<const char*>* values, std::vector<int>* lengths, std::vector<int>* formats) const {
    for (const auto& v : values_) {
      values->push_back(v ? v->data() : nullptr);
      lengths->push_back(v ? static_cast<int>(v->size()) : 0);
      formats->push_back(1);
    }
  }

 private:
  Params& Add(Oid type, std::string value) {
    types_.push_back(type);
    values_.emplace_back(std::move(value));
    return *this;
  }
  std::vector<Oid> types_;
  std::vector<std::optional<std::string>> values_;
};

// Read access to a binary-format result.
class Rows {
 public:
  explicit Rows(PgResult result) : r_(std::move(result)) {}
  int size() const { return PQntuples(r_.get()); }
  bool IsNull(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string Bytes(int row, int col) const {
    return std::string(PQgetvalue(r_.get(), row, col), static_cast<size_t>(PQgetlength(r_.get(), row, col)));
  }
  int64_t Int(int row, int col) const {
    if (IsNull(row, col) || PQgetlength(r_.get(), row, col) != 8) return 0;
    const auto* p = reinterpret_cast<const uint8_t*>(PQgetvalue(r_.get(), row, col));
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
    return static_cast<int64_t>(v);
  }
  bool Bool(int row, int col) const {
    return !IsNull(row, col) && PQgetlength(r_.get(), row, col) == 1 && PQgetvalue(r_.get(), row, col)[0] != 0;
  }
  Uuid Id(int row, int col) const {
    if (PQgetlength(r_.get(), row, col) != static_cast<int>(Uuid::kSize)) return Uuid();
    Uuid::Bytes b;
    std::memcpy(b.data(), PQgetvalue(r_.get(), row, col), Uuid::kSize);
    return Uuid(b);
  }
  // A one-dimensional text[] in binary array format (NULL = empty).
  Result<std::vector<std::string>> TextArray(int row, int col) const {
    std::vector<std::string> out;
    if (IsNull(row, col)) return out;
    const auto* p = reinterpret_cast<const uint8_t*>(PQgetvalue(r_.get(), row, col));
    const size_t n = static_cast<size_t>(PQgetlength(r_.get(), row, col));
    size_t at = 0;
    auto u32 = [&](uint32_t* v) {
      if (at + 4 > n) return false;
      *v = (uint32_t{p[at]} << 24) | (uint32_t{p[at + 1]} << 16) | (uint32_t{p[at + 2]} << 8) | p[at + 3];
      at += 4;
      return true;
    };
    uint32_t ndim = 0, flags = 0, elem_type = 0, count = 0, lower = 0;
    if (!u32(&ndim) || !u32(&flags) || !u32(&elem_type)) return Status::DataLoss("a text array does not decode");
    if (ndim == 0) return out;
    if (ndim != 1 || !u32(&count) || !u32(&lower)) return Status::DataLoss("a text array does not decode");
    for (uint32_t i = 0; i < count; ++i) {
      uint32_t len = 0;
      if (!u32(&len) || len == 0xFFFFFFFFu || at + len > n) return Status::DataLoss("a text array does not decode");
      out.emplace_back(reinterpret_cast<const char*>(p + at), len);
      at += len;
    }
    return out;
  }
  // Rows changed by an INSERT/UPDATE/DELETE.
  int64_t Affected() const {
    const char* n = PQcmdTuples(r_.get());
    return n != nullptr && n[0] != '\0' ? std::strtoll(n, nullptr, 10) : 0;
  }

 private:
  PgResult r_;
};

std::string SqlState(const PGresult* r) {
  const char* s = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  return s != nullptr ? s : "";
}

// A serialization failure or a deadlock: the attempt may be re-run.
bool Retryable(const std::string& sqlstate) {
  return sqlstate == "40001" || sqlstate == "40P01";
}

// SQLSTATEs of the timeouts Options sets: the lock wait (lock_timeout), the statement
// (statement_timeout, or a cancel by an administrator), and the session ended for idling
// inside a transaction (idle_in_transaction_session_timeout: its transaction rolled back).
constexpr const char* kLockNotAvailable = "55P03";
constexpr const char* kQueryCanceled = "57014";
constexpr const char* kIdleInTransactionTimeout = "25P03";

std::string OneLine(const char* message) {
  std::string out = message != nullptr ? message : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  for (char& c : out) {
    if (c == '\n') c = ' ';
  }
  return out;
}

void IgnoreNotice(void*, const char*) {}

}  // namespace

// ---------------------------------------------------------------- one connection

class PostgresStore::Connection {
 public:
  static Result<std::unique_ptr<Connection>> Connect(const std::string& conninfo, const Options& options) {
    PGconn* conn = PQconnectdb(conninfo.c_str());
    if (conn == nullptr) return Status(ErrorCode::kUnavailable, "cannot allocate a PostgreSQL connection", "store");
    std::unique_ptr<Connection> c(new Connection(conn));
    if (PQstatus(conn) != CONNECTION_OK) {
      return Status(ErrorCode::kUnavailable, "cannot connect to PostgreSQL: " + OneLine(PQerrorMessage(conn)), "store");
    }
    PQsetNoticeProcessor(conn, IgnoreNotice, nullptr);  // e.g. "relation exists, skipping"
    // The timeouts, each only where nothing (URL, role, database, postgresql.conf) set it:
    // pg_settings.source is 'default' exactly then. One round trip.
    const std::string timeouts =
        "SELECT set_config(s.name, s.value, false) FROM (VALUES ('lock_timeout', '" +
        std::to_string(options.lock_timeout_ms) + "'), ('statement_timeout', '" +
        std::to_string(options.statement_timeout_ms) + "'), ('idle_in_transaction_session_timeout', '" +
        std::to_string(options.idle_in_transaction_timeout_ms) +
        "')) AS s(name, value) JOIN pg_settings p ON p.name = s.name WHERE p.source = 'default'";
    PgResult set = c->Exec(timeouts.c_str());
    if (PQresultStatus(set.get()) != PGRES_TUPLES_OK) {
      return Status(ErrorCode::kUnavailable,
                    "cannot set the store's timeouts: " + OneLine(PQresultErrorMessage(set.get())), "store");
    }
    return c;
  }
  ~Connection() { PQfinish(conn_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Usable for the next transaction: connected, out of pipeline mode and outside any
  // transaction.
  bool healthy() const {
    return PQstatus(conn_) == CONNECTION_OK && PQpipelineStatus(conn_) == PQ_PIPELINE_OFF &&
           PQtransactionStatus(conn_) == PQTRANS_IDLE;
  }
  bool lost() const { return PQstatus(conn_) != CONNECTION_OK; }
  PGconn* raw() const { return conn_; }

  // A statement without parameters, text results (may hold several statements).
  PgResult Exec(const char* sql) { return PgResult(PQexec(conn_, sql), &PQclear); }

  // The name `sql` is prepared under on this connection, or nullptr if it is not yet.
  const std::string* PreparedName(const std::string& sql) const {
    auto it = prepared_.find(sql);
    return it == prepared_.end() ? nullptr : &it->second;
  }
  // A new name for `sql`, remembered at once (in pipeline mode the Parse is only sent;
  // Forget() it if its result is not a success).
  const std::string& NamePrepared(const std::string& sql) {
    std::string name = "s" + std::to_string(++prepared_count_);
    return prepared_.emplace(sql, std::move(name)).first->second;
  }
  void Forget(const std::string& sql) { prepared_.erase(sql); }

  // `sql` with binary parameters and results, prepared on this connection at first use.
  // Not in pipeline mode.
  PgResult Run(const std::string& sql, const Params& params) {
    auto it = prepared_.find(sql);
    if (it == prepared_.end()) {
      std::string name = "s" + std::to_string(++prepared_count_);
      PgResult prep(PQprepare(conn_, name.c_str(), sql.c_str(), params.size(), params.types().data()), &PQclear);
      if (PQresultStatus(prep.get()) != PGRES_COMMAND_OK) return prep;
      it = prepared_.emplace(sql, std::move(name)).first;
    }
    std::vector<const char*> values;
    std::vector<int> lengths, formats;
    params.Arrays(&values, &lengths, &formats);
    return PgResult(PQexecPrepared(conn_, it->second.c_str(), params.size(), values.data(), lengths.data(),
                                   formats.data(), /*resultFormat=binary*/ 1),
                    &PQclear);
  }

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {}
  PGconn* conn_;                                 // owned
  std::map<std::string, std::string> prepared_;  // SQL text -> statement name
  uint64_t prepared_count_ = 0;                  // names are never reused, even after Forget()
};

// ---------------------------------------------------------------- the transaction

// Pipelining (libpq pipeline mode, entered after BEGIN): a statement whose only answer
// is success or an error (record upsert and keys, change_log, audit, the hub counter, a
// ledger row known to be new) is SENT and not waited for (Defer). Everything sent is
// collected, in order, at the next statement that needs an answer (Query: one round
// trip for all of them) and at Commit (one round trip for the rest and COMMIT).
// Invariants: reads see every earlier write (one session, executed in order); the first
// failure, whenever it is collected, becomes failed_, which every later call returns and
// which aborts the transaction (the server skips everything after an error until the
// pipeline's sync, and the transaction is rolled back), so nothing of it is written.
class PostgresStore::Txn final : public StoreTxn {
 public:
  // `conn` is inside BEGIN, out of pipeline mode. `round_trips` counts waits for the server.
  Txn(Connection& conn, std::atomic<uint64_t>& round_trips) : conn_(conn), round_trips_(round_trips) {
    if (PQenterPipelineMode(conn_.raw()) != 1) {
      failed_ = Status::IoError("store: cannot enter pipeline mode: " + OneLine(PQerrorMessage(conn_.raw())));
    }
  }

  // The attempt hit a serialization failure or deadlock, or lost its connection
  // before commit: Transact re-runs it.
  bool must_retry() const { return retry_ || conn_.lost(); }

  // Outcome of Commit(): committed (status ok), or not, and whether re-running is safe.
  struct CommitOutcome {
    Status status;
    bool retry = false;
  };

  // Sends what is still deferred and COMMIT with the pipeline's sync (one round trip) and
  // leaves pipeline mode. If a deferred statement failed, the server skipped COMMIT: the
  // transaction is rolled back and its failure returned. If the connection was lost
  // after COMMIT was sent, the outcome is unknown (kUnavailable, not retried).
  CommitOutcome Commit() {
    PGconn* c = conn_.raw();
    if (failed_.ok()) FlushCounters();
    bool commit_sent = false;
    if (failed_.ok()) {
      if (PQsendQueryParams(c, "COMMIT", 0, nullptr, nullptr, nullptr, nullptr, 0) == 1) {
        pending_.push_back({Pending::kStatement, std::string(), "commit", Status::Ok()});
        commit_sent = true;
      } else {
        Note(SendFailed("commit"));
      }
    }
    ++round_trips_;
    PgResult commit(nullptr, &PQclear);
    const bool synced = PQpipelineSync(c) == 1;
    Collect(commit_sent ? &commit : nullptr);
    if (synced) ReadSync();
    PQexitPipelineMode(c);
    if (commit_sent && answerless_) {
      return {Status(ErrorCode::kUnavailable,
                     "lost the connection to PostgreSQL while committing; the outcome is unknown: " +
                         OneLine(PQerrorMessage(c)),
                     "store"),
              false};
    }
    if (!failed_.ok()) {  // before COMMIT: the server skipped it
      if (!conn_.lost()) conn_.Exec("ROLLBACK");
      return {failed_, must_retry()};
    }
    const ExecStatusType status = PQresultStatus(commit.get());
    if (status == PGRES_COMMAND_OK && std::strcmp(PQcmdStatus(commit.get()), "COMMIT") == 0) return {};
    if (status == PGRES_COMMAND_OK) {
      // COMMIT of an aborted transaction answers ROLLBACK: a statement failed and the
      // body went on as if it had not.
      return {Status::IoError("store: the transaction was rolled back after a failed statement"), false};
    }
    const std::string state = SqlState(commit.get());
    const bool lost = conn_.lost();
    const std::string message = OneLine(lost ? PQerrorMessage(c) : PQresultErrorMessage(commit.get()));
    if (!lost) conn_.Exec("ROLLBACK");
    // PostgreSQL ended the session for idling in this transaction (the process stalled
    // past idle_in_transaction_session_timeout): it rolled back, so running it again is safe.
    if (Retryable(state) || state == kIdleInTransactionTimeout)
      return {Status::IoError("store: commit: " + message), true};
    if (lost) {
      return {Status(ErrorCode::kUnavailable,
                     "lost the connection to PostgreSQL while committing; the outcome is unknown: " + message, "store"),
              false};
    }
    return {Status::IoError("store: commit: " + message), false};
  }

  // Rolls back: collects what was sent (failures noted, nothing more), leaves pipeline
  // mode and sends ROLLBACK. The connection is reusable afterwards unless it was lost.
  void Abandon() {
    PGconn* c = conn_.raw();
    if (conn_.lost()) return;
    if (PQpipelineSync(c) == 1) {
      Collect(nullptr);
      ReadSync();
    }
    PQexitPipelineMode(c);
    if (!conn_.lost()) conn_.Exec("ROLLBACK");
  }

  Status InsertHub(const HubRow& hub) override {
    FlushCounters();
    auto r = Write(
        "INSERT INTO hubs (hub_id, name, created_at_ms, last_seq) VALUES ($1, $2, $3, 0) "
        "ON CONFLICT DO NOTHING",
        Params().Id(hub.hub_id).Text(hub.name).Int(hub.created_at_ms), "insert hub");
    if (!r.ok()) return r.status();
    if (*r == 0) {
      return Status(ErrorCode::kAlreadyExists, "hub " + hub.hub_id.ToString() + " already exists", "hub_id");
    }
    return Status::Ok();
  }

  Result<std::optional<HubRow>> GetHub(const Uuid& hub_id) override {
    FlushCounters();
    auto rows = Query(std::string(kHubColumns) + " WHERE hub_id = $1", Params().Id(hub_id), "read hub");
    if (!rows.ok()) return rows.status();
    if (rows->size() == 0) return std::optional<HubRow>();
    return std::optional<HubRow>(HubFrom(*rows, 0));
  }

  Result<std::vector<HubRow>> ListHubs() override {
    FlushCounters();
    auto rows = Query(std::string(kHubColumns) + " ORDER BY created_at_ms, hub_id", Params(), "list hubs");
    if (!rows.ok()) return rows.status();
    std::vector<HubRow> out;
    for (int i = 0; i < rows->size(); ++i) out.push_back(HubFrom(*rows, i));
    return out;
  }

  // Also reads the hub's counter: while the row is locked nobody else can move it, so
  // AppendChange numbers from it in memory (see there).
  Status LockHub(const Uuid& hub_id) override {
    FlushCounters();
    auto rows = Query("SELECT last_seq FROM hubs WHERE hub_id = $1 FOR NO KEY UPDATE", Params().Id(hub_id), "lock hub");
    if (!rows.ok()) return rows.status();
    if (rows->size() == 0) return Status::NotFound("no hub " + hub_id.ToString(), "hub_id");
    seq_[hub_id] = static_cast<uint64_t>(rows->Int(0, 0));
    return Status::Ok();
  }

  Status InsertDevice(const DeviceRow& d) override {
    auto taken = ReferencePrefixTaken(d.reference_prefix);
    if (!taken.ok()) return taken.status();
    if (*taken) return PrefixTaken(d.reference_prefix);
    auto r = Write(
        "INSERT INTO devices (device_id, hub_id, role, venue_id, user_name, device_name, reference_prefix, "
        "credential_hash, revoked, enrolled_at_ms, last_sync_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
        "$11) ON CONFLICT DO NOTHING",
        Params()
            .Id(d.device_id)
            .Id(d.hub_id)
            .Int(d.role)
            .Id(d.venue_id)
            .Text(d.user_name)
            .Text(d.device_name)
            .Text(d.reference_prefix)
            .Bytes(d.credential_hash)
            .Bool(d.revoked)
            .Int(d.enrolled_at_ms)
            .Int(d.last_sync_ms),
        "insert device");
    if (!r.ok()) return r.status();
    if (*r == 1) return Status::Ok();
    // Another process may have taken the prefix since the check above.
    taken = ReferencePrefixTaken(d.reference_prefix);
    if (!taken.ok()) return taken.status();
    if (*taken) return PrefixTaken(d.reference_prefix);
    return Status(ErrorCode::kAlreadyExists, "device " + d.device_id.ToString() + " already exists", "device_id");
  }

  Result<std::optional<DeviceRow>> GetDevice(const Uuid& device_id) override {
    auto rows = Query(std::string(kDeviceColumns) + " WHERE device_id = $1", Params().Id(device_id), "read device");
    if (!rows.ok()) return rows.status();
    if (rows->size() == 0) return std::optional<DeviceRow>();
    return std::optional<DeviceRow>(DeviceFrom(*rows, 0));
  }

  Result<std::vector<DeviceRow>> ListDevices(const Uuid& hub_id) override {
    auto rows =
        hub_id.is_nil()
            ? Query(std::string(kDeviceColumns) + " ORDER BY enrolled_at_ms, device_id", Params(), "list devices")
            : Query(std::string(kDeviceColumns) + " WHERE hub_id = $1 ORDER BY enrolled_at_ms, device_id",
                    Params().Id(hub_id), "list devices");
    if (!rows.ok()) return rows.status();
    std::vector<DeviceRow> out;
    for (int i = 0; i < rows->size(); ++i) out.push_back(DeviceFrom(*rows, i));
    return out;
  }

  Result<bool> ReferencePrefixTaken(const std::string& prefix) override {
    auto rows = Query("SELECT device_id FROM devices WHERE reference_prefix = $1", Params().Text(prefix),
                      "check reference prefix");
    if (!rows.ok()) return rows.status();
    return rows->size() > 0;
  }

  Status SetDeviceRevoked(const Uuid& device_id) override {
    return UpdateOne("UPDATE devices SET revoked = true WHERE device_id = $1", Params().Id(device_id),
                     "no device " + device_id.ToString(), "device_id");
  }

  Status SetDeviceLastSync(const Uuid& device_id, int64_t at_ms) override {
    return UpdateOne("UPDATE devices SET last_sync_ms = $2 WHERE device_id = $1", Params().Id(device_id).Int(at_ms),
                     "no device " + device_id.ToString(), "device_id");
  }

  Status InsertEnrolmentCode(const EnrolmentCodeRow& c) override {
    auto r = Write(
        "INSERT INTO enrolment_codes (code_hash, hub_id, role, user_name, venue_id, expires_at_ms, used) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        Params()
            .Bytes(c.code_hash)
            .Id(c.hub_id)
            .Int(c.role)
            .Text(c.user_name)
            .Id(c.venue_id)
            .Int(c.expires_at_ms)
            .Bool(c.used),
        "insert enrolment code");
    if (!r.ok()) return r.status();
    if (*r == 0) return Status(ErrorCode::kAlreadyExists, "enrolment code already issued", "code");
    return Status::Ok();
  }

  // Locks the code's row: a concurrent enrolment with the same code waits for this
  // transaction, then reads the code as used.
  Result<std::optional<EnrolmentCodeRow>> GetEnrolmentCode(const std::string& code_hash) override {
    auto rows = Query(
        "SELECT code_hash, hub_id, role, user_name, venue_id, expires_at_ms, used FROM enrolment_codes "
        "WHERE code_hash = $1 FOR UPDATE",
        Params().Bytes(code_hash), "read enrolment code");
    if (!rows.ok()) return rows.status();
    if (rows->size() == 0) return std::optional<EnrolmentCodeRow>();
    return std::optional<EnrolmentCodeRow>(CodeFrom(*rows, 0));
  }

  Status MarkEnrolmentCodeUsed(const std::string& code_hash) override {
    return UpdateOne("UPDATE enrolment_codes SET used = true WHERE code_hash = $1", Params().Bytes(code_hash),
                     "no such enrolment code", "code");
  }

  // See the file comment of postgres_store.h: the hub row stays locked from the UPDATE
  // (or LockHub) until this transaction ends, so numbers of one hub commit in order,
  // without gaps. Once this transaction holds the row lock, seq_ is the counter: the next
  // number is taken in memory and the row is written once, before the next read of
  // hubs and at commit (FlushCounters), with the log row deferred.
  Result<uint64_t> AppendChange(const Uuid& hub_id, v1::Change change) override {
    uint64_t seq = 0;
    auto known = seq_.find(hub_id);
    if (known != seq_.end()) {
      if (!failed_.ok()) return failed_;
      seq = ++known->second;
      dirty_.insert(hub_id);
    } else {
      auto rows = Query("UPDATE hubs SET last_seq = last_seq + 1 WHERE hub_id = $1 RETURNING last_seq",
                        Params().Id(hub_id), "advance hub sequence");
      if (!rows.ok()) return rows.status();
      if (rows->size() == 0) return Status::NotFound("no hub " + hub_id.ToString(), "hub_id");
      seq = static_cast<uint64_t>(rows->Int(0, 0));
      seq_[hub_id] = seq;
    }
    change.set_server_seq(seq);
    std::string blob;
    if (!change.SerializeToString(&blob)) return Status::Internal("change does not serialise");
    OUTREACH_RETURN_IF_ERROR(
        Defer("INSERT INTO change_log (hub_id, server_seq, record_id, hlc, change) VALUES ($1, $2, $3, $4, $5)",
              Params()
                  .Id(hub_id)
                  .Int(static_cast<int64_t>(seq))
                  .Bytes(change.record_id())
                  .Int(static_cast<int64_t>(change.hlc()))
                  .Bytes(blob),
              "append change"));
    return seq;
  }

  Result<std::vector<v1::Change>> ReadLog(const Uuid& hub_id, uint64_t after_seq, uint32_t limit) override {
    auto rows =
        Query("SELECT change FROM change_log WHERE hub_id = $1 AND server_seq > $2 ORDER BY server_seq LIMIT $3",
              Params().Id(hub_id).Int(static_cast<int64_t>(after_seq)).Int(limit), "read change log");
    if (!rows.ok()) return rows.status();
    std::vector<v1::Change> out;
    out.reserve(static_cast<size_t>(rows->size()));
    for (int i = 0; i < rows->size(); ++i) {
      v1::Change c;
      if (!c.ParseFromString(rows->Bytes(i, 0))) {
        return Status::DataLoss("a logged change of hub " + hub_id.ToString() + " does not decode");
      }
      out.push_back(std::move(c));
    }
    return out;
  }

  Result<std::vector<LoggedChange>> ReadLogEncoded(const Uuid& hub_id, uint64_t after_seq, uint32_t limit) override {
    auto rows = Query(
        "SELECT server_seq, change FROM change_log WHERE hub_id = $1 AND server_seq > $2 ORDER BY server_seq LIMIT $3",
        Params().Id(hub_id).Int(static_cast<int64_t>(after_seq)).Int(limit), "read change log");
    if (!rows.ok()) return rows.status();
    std::vector<LoggedChange> out(static_cast<size_t>(rows->size()));
    for (int i = 0; i < rows->size(); ++i) {
      out[static_cast<size_t>(i)].server_seq = static_cast<uint64_t>(rows->Int(i, 0));
      out[static_cast<size_t>(i)].change = rows->Bytes(i, 1);
    }
    return out;
  }

  Result<Hlc> MaxLoggedHlc() override {
    auto rows = Query("SELECT max(hlc) FROM change_log", Params(), "read latest stamp");
    if (!rows.ok()) return rows.status();
    return Hlc(static_cast<uint64_t>(rows->Int(0, 0)));
  }

  // A record this transaction wrote is answered from memory (see written_).
  Result<std::optional<StoredRecord>> GetRecord(const Uuid& record_id) override {
    if (!failed_.ok()) return failed_;
    auto mine = written_.find(record_id);
    if (mine != written_.end()) return std::optional<StoredRecord>(mine->second);
    auto rows = Records(std::string(kRecordColumns) + " WHERE r.record_id = $1", Params().Id(record_id));
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return std::optional<StoredRecord>();
    return std::optional<StoredRecord>(std::move(rows->front()));
  }

  // The keys are rewritten only when they differ from those this transaction last wrote
  // for the record (written_), which are then still the stored ones.
  Status PutRecord(const StoredRecord& r) override {
    auto id = Uuid::FromBytes(r.record.id());
    if (!id.ok()) return id.status();
    // As GetRecord reads them back: bytewise order (COLLATE "C"), each once.
    std::vector<std::string> sorted = r.keys;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    auto mine = written_.find(*id);
    const bool same_keys =
        mine != written_.end() && mine->second.keys == sorted && mine->second.record.hub_id() == r.record.hub_id();
    std::string body;
    if (!r.record.SerializeToString(&body)) return Status::Internal("record does not serialise");
    Params record;
    record.Id(*id).Bytes(r.record.hub_id()).Int(r.record.type());
    if (r.participant_id.is_nil()) {
      record.NullBytes();
    } else {
      record.Id(r.participant_id);
    }
    record.Bytes(body).Bytes(EncodeFieldVersions(r.versions));
    OUTREACH_RETURN_IF_ERROR(
        Defer("INSERT INTO records (record_id, hub_id, type, participant_id, record, versions) "
              "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (record_id) DO UPDATE SET hub_id = excluded.hub_id, "
              "type = excluded.type, participant_id = excluded.participant_id, record = excluded.record, "
              "versions = excluded.versions",
              record, "write record"));
    StoredRecord& kept = written_[*id];
    kept = r;
    kept.keys = sorted;
    if (same_keys) return Status::Ok();
    OUTREACH_RETURN_IF_ERROR(
        Defer("DELETE FROM record_keys WHERE record_id = $1", Params().Id(*id), "replace record keys"));
    if (r.keys.empty()) return Status::Ok();
    // All keys in one statement: (hub, key_i, record) for i = 1..n.
    std::string sql = "INSERT INTO record_keys (hub_id, key, record_id) VALUES ";
    Params keys;
    keys.Bytes(r.record.hub_id()).Id(*id);
    for (size_t i = 0; i < r.keys.size(); ++i) {
      sql += (i ? ", ($1, $" : "($1, $") + std::to_string(i + 3) + ", $2)";
      keys.Text(r.keys[i]);
    }
    sql += " ON CONFLICT DO NOTHING";
    return Defer(sql, keys, "write record keys");
  }

  Result<std::vector<StoredRecord>> ListRecordsByType(const Uuid& hub_id, v1::RecordType type) override {
    return Records(std::string(kRecordColumns) + " WHERE r.hub_id = $1 AND r.type = $2 ORDER BY r.record_id",
                   Params().Id(hub_id).Int(type));
  }

  Result<std::vector<StoredRecord>> FindRecordsByParticipant(const Uuid& hub_id, const Uuid& participant_id) override {
    return Records(std::string(kRecordColumns) + " WHERE r.hub_id = $1 AND r.participant_id = $2 ORDER BY r.record_id",
                   Params().Id(hub_id).Id(participant_id));
  }

  Result<std::vector<StoredRecord>> FindRecordsByKey(const Uuid& hub_id, const std::string& key) override {
    return Records(std::string(kRecordColumns) +
                       " JOIN record_keys k ON k.record_id = r.record_id WHERE k.hub_id = $1 AND k.key = $2 "
                       "ORDER BY r.record_id",
                   Params().Id(hub_id).Text(key));
  }

  Result<std::optional<LedgerEntry>> GetLedger(const Uuid& device_id, uint64_t device_seq) override {
    auto rows = Query("SELECT outcome, server_seq, reason, field FROM ledger WHERE device_id = $1 AND device_seq = $2",
                      Params().Id(device_id).Int(static_cast<int64_t>(device_seq)), "read ledger");
    if (!rows.ok()) return rows.status();
    LedgerSeen& seen = ledger_[device_id];
    if (rows->size() == 0) {
      seen.absent.insert(device_seq);
      return std::optional<LedgerEntry>();
    }
    seen.present.insert(device_seq);
    LedgerEntry e;
    e.outcome = static_cast<v1::ChangeOutcome>(rows->Int(0, 0));
    e.server_seq = static_cast<uint64_t>(rows->Int(0, 1));
    e.reason = rows->Bytes(0, 2);
    e.field = rows->Bytes(0, 3);
    return std::optional<LedgerEntry>(std::move(e));
  }

  // A key this transaction read as absent (GetLedger, ReadLedger) is inserted deferred,
  // without ON CONFLICT: the primary key still refuses a row another transaction wrote
  // meanwhile (a caller that did not hold the hub lock), and that unique violation aborts
  // this attempt, nothing written, and Transact runs the body again (store.h: the rerun
  // reads the row and answers DUPLICATE); if attempts run out, kAlreadyExists naming
  // device_seq. A key read as present, or written by this transaction, is refused at once;
  // any other key is inserted with ON CONFLICT DO NOTHING and waited for, as before.
  Status PutLedger(const Uuid& device_id, uint64_t device_seq, const LedgerEntry& e) override {
    const Status exists(ErrorCode::kAlreadyExists,
                        "device sequence " + std::to_string(device_seq) + " already recorded", "device_seq");
    // The ledger row's values, $1..$6 of both inserts below.
    auto row = [&] {
      return Params()
          .Id(device_id)
          .Int(static_cast<int64_t>(device_seq))
          .Int(e.outcome)
          .Int(static_cast<int64_t>(e.server_seq))
          .Text(e.reason)
          .Text(e.field);
    };
    LedgerSeen& seen = ledger_[device_id];
    if (seen.present.count(device_seq) > 0) return exists;
    if (seen.absent.count(device_seq) > 0) {
      OUTREACH_RETURN_IF_ERROR(
          Defer("INSERT INTO ledger (device_id, device_seq, outcome, server_seq, reason, field) "
                "VALUES ($1, $2, $3, $4, $5, $6)",
                row(), "write ledger", exists));
      seen.absent.erase(device_seq);
      seen.present.insert(device_seq);
      return Status::Ok();
    }
    auto r = Write(
        "INSERT INTO ledger (device_id, device_seq, outcome, server_seq, reason, field) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        row(), "write ledger");
    if (!r.ok()) return r.status();
    // The key exists. Two pushes of one device cannot race here: the service holds the
    // hub lock before it reads the ledger (store.h), so this is a caller's mistake.
    seen.present.insert(device_seq);
    if (*r == 0) return exists;
    return Status::Ok();
  }

  Status AppendAudit(const AuditRow& a) override {
    return Defer(
        "INSERT INTO audit (at_ms, hub_id, device_id, author, record_id, type, field, old_value, new_value, "
        "server_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        Params()
            .Int(a.at_ms)
            .Id(a.hub_id)
            .Id(a.device_id)
            .Text(a.author)
            .Id(a.record_id)
            .Int(a.type)
            .Int(a.field)
            .Bytes(a.old_value)
            .Bytes(a.new_value)
            .Int(static_cast<int64_t>(a.server_seq)),
        "append audit");
  }

  Result<std::vector<AuditRow>> ListAudit(const Uuid& record_id) override {
    auto rows = Query(std::string(kAuditColumns) + " FROM audit WHERE record_id = $1 ORDER BY audit_id",
                      Params().Id(record_id), "read audit");
    if (!rows.ok()) return rows.status();
    std::vector<AuditRow> out;
    for (int i = 0; i < rows->size(); ++i) out.push_back(AuditFrom(*rows, i));
    return out;
  }

  Result<std::vector<EnrolmentCodeRow>> ListEnrolmentCodes() override {
    auto rows = Query(
        "SELECT code_hash, hub_id, role, user_name, venue_id, expires_at_ms, used FROM enrolment_codes "
        "ORDER BY code_hash",
        Params(), "list enrolment codes");
    if (!rows.ok()) return rows.status();
    std::vector<EnrolmentCodeRow> out;
    for (int i = 0; i < rows->size(); ++i) out.push_back(CodeFrom(*rows, i));
    return out;
  }

  Result<std::vector<std::pair<uint64_t, LedgerEntry>>> ReadLedger(const Uuid& device_id, uint64_t after_seq,
                                                                   uint32_t limit) override {
    auto rows = Query(
        "SELECT device_seq, outcome, server_seq, reason, field FROM ledger WHERE device_id = $1 AND device_seq > $2 "
        "ORDER BY device_seq LIMIT $3",
        Params().Id(device_id).Int(static_cast<int64_t>(after_seq)).Int(limit), "read ledger");
    if (!rows.ok()) return rows.status();
    // Every key from after_seq + 1 to the last row read (or to after_seq + limit when
    // fewer than `limit` rows came) that is not among the rows is absent.
    LedgerSeen& seen = ledger_[device_id];
    const uint64_t last = rows->size() == 0 && limit == 0 ? after_seq
                          : static_cast<int64_t>(rows->size()) < static_cast<int64_t>(limit)
                              ? after_seq + limit
                              : static_cast<uint64_t>(rows->Int(rows->size() - 1, 0));
    std::set<uint64_t> here;
    for (int i = 0; i < rows->size(); ++i) here.insert(static_cast<uint64_t>(rows->Int(i, 0)));
    if (last - after_seq <= 100'000) {  // bounds the memory a huge range could take
      for (uint64_t k = after_seq + 1; k <= last && k > after_seq; ++k) {
        if (here.count(k) > 0) {
          seen.present.insert(k);
          seen.absent.erase(k);
        } else if (seen.present.count(k) == 0) {
          seen.absent.insert(k);
        }
      }
    } else {
      seen.present.insert(here.begin(), here.end());
    }
    std::vector<std::pair<uint64_t, LedgerEntry>> out;
    for (int i = 0; i < rows->size(); ++i) {
      LedgerEntry e;
      e.outcome = static_cast<v1::ChangeOutcome>(rows->Int(i, 1));
      e.server_seq = static_cast<uint64_t>(rows->Int(i, 2));
      e.reason = rows->Bytes(i, 3);
      e.field = rows->Bytes(i, 4);
      out.emplace_back(static_cast<uint64_t>(rows->Int(i, 0)), std::move(e));
    }
    return out;
  }

  Result<std::vector<std::pair<uint64_t, AuditRow>>> ReadAudit(const Uuid& hub_id, uint64_t after_position,
                                                               uint32_t limit) override {
    auto rows = Query(std::string(kAuditColumns) +
                          ", audit_id FROM audit WHERE hub_id = $1 AND audit_id > $2 "
                          "ORDER BY audit_id LIMIT $3",
                      Params().Id(hub_id).Int(static_cast<int64_t>(after_position)).Int(limit), "read audit");
    if (!rows.ok()) return rows.status();
    std::vector<std::pair<uint64_t, AuditRow>> out;
    for (int i = 0; i < rows->size(); ++i)
      out.emplace_back(static_cast<uint64_t>(rows->Int(i, 10)), AuditFrom(*rows, i));
    return out;
  }

  // The old row versions stay in the table's free space until VACUUM reclaims them
  // (docs/OPERATIONS.md: erasure on PostgreSQL).
  Status RedactRecordHistory(const Uuid& record_id) override {
    auto rows =
        Query("SELECT hub_id, server_seq, change FROM change_log WHERE record_id = $1 ORDER BY hub_id, server_seq",
              Params().Id(record_id), "read change log for erasure");
    if (!rows.ok()) return rows.status();
    for (int i = 0; i < rows->size(); ++i) {
      v1::Change c;
      if (!c.ParseFromString(rows->Bytes(i, 2))) return Status::DataLoss("a logged change does not decode");
      for (auto& f : *c.mutable_fields()) f.clear_value();
      std::string blob;
      c.SerializeToString(&blob);
      OUTREACH_RETURN_IF_ERROR(Defer("UPDATE change_log SET change = $3 WHERE hub_id = $1 AND server_seq = $2",
                                     Params().Bytes(rows->Bytes(i, 0)).Int(rows->Int(i, 1)).Bytes(blob),
                                     "redact change log"));
    }
    return Defer("UPDATE audit SET old_value = '', new_value = '' WHERE record_id = $1", Params().Id(record_id),
                 "redact audit");
  }

 private:
  static constexpr const char* kHubColumns = "SELECT hub_id, name, created_at_ms, last_seq FROM hubs";
  static constexpr const char* kDeviceColumns =
      "SELECT device_id, hub_id, role, venue_id, user_name, device_name, reference_prefix, credential_hash, "
      "revoked, enrolled_at_ms, last_sync_ms FROM devices";
  static constexpr const char* kAuditColumns =
      "SELECT at_ms, hub_id, device_id, author, record_id, type, field, old_value, new_value, server_seq";
  // A record with its keys in one row (keys ordered bytewise, NULL when none).
  static constexpr const char* kRecordColumns =
      "SELECT r.participant_id, r.record, r.versions, "
      "(SELECT array_agg(rk.key ORDER BY rk.key) FROM record_keys rk WHERE rk.record_id = r.record_id) "
      "FROM records r";

  // One statement sent in the pipeline and not yet collected.
  struct Pending {
    enum Kind { kPrepare, kStatement } kind;
    std::string sql;   // kPrepare: forgotten on the connection unless it succeeds
    const char* what;  // names the statement in an error
    Status on_unique;  // kStatement: if not ok, a unique violation (23505) is this, retried
  };
  // Statements sent before a wait; more are collected at once (bounds the results the
  // server buffers for us while we still send).
  static constexpr size_t kMaxPending = 256;

  // Runs a statement expected to return rows (or a command with RETURNING): sends it
  // after everything deferred and waits for all of them (one round trip).
  Result<Rows> Query(const std::string& sql, const Params& params, const char* what) {
    if (!failed_.ok()) return failed_;
    if (!Send(sql, params, what, Status::Ok())) {
      Note(SendFailed(what));
      return failed_;
    }
    PgResult r(nullptr, &PQclear);
    RoundTrip(&r);
    if (!failed_.ok()) return failed_;
    const ExecStatusType status = PQresultStatus(r.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      Note(Fail(r.get(), what));
      return failed_;
    }
    return Rows(std::move(r));
  }

  // Sends a statement whose only answer is success or failure, without waiting for it.
  // Ok unless an earlier failure is known; its own failure comes at a later call.
  Status Defer(const std::string& sql, const Params& params, const char* what, Status on_unique = Status::Ok()) {
    if (!failed_.ok()) return failed_;
    if (!Send(sql, params, what, std::move(on_unique))) Note(SendFailed(what));
    if (failed_.ok() && pending_.size() >= kMaxPending) RoundTrip(nullptr);
    return failed_;
  }

  // Queues the Parse (first use on this connection) and the Bind/Execute of `sql`.
  // False if libpq refused (the connection is unusable).
  bool Send(const std::string& sql, const Params& params, const char* what, Status on_unique) {
    PGconn* c = conn_.raw();
    const std::string* name = conn_.PreparedName(sql);
    if (name == nullptr) {
      name = &conn_.NamePrepared(sql);
      if (PQsendPrepare(c, name->c_str(), sql.c_str(), params.size(), params.types().data()) != 1) {
        conn_.Forget(sql);
        return false;
      }
      pending_.push_back({Pending::kPrepare, sql, what, Status::Ok()});
    }
    std::vector<const char*> values;
    std::vector<int> lengths, formats;
    params.Arrays(&values, &lengths, &formats);
    if (PQsendQueryPrepared(c, name->c_str(), params.size(), values.data(), lengths.data(), formats.data(),
                            /*resultFormat=binary*/ 1) != 1) {
      return false;
    }
    pending_.push_back({Pending::kStatement, std::string(), what, std::move(on_unique)});
    return true;
  }

  Status SendFailed(const char* what) const {
    return Status::IoError(std::string("store: ") + what + ": " + OneLine(PQerrorMessage(conn_.raw())));
  }

  // Ends the pipeline's segment with a sync, then collects everything sent (see
  // Collect). A sync, not a flush request: after it the server reports itself idle in
  // the transaction, which arms idle_in_transaction_session_timeout while this process
  // works between statements, so a stalled process still loses the hub lock (a flush
  // request leaves the server mid-protocol, where that timeout never fires). Inside
  // BEGIN a sync commits nothing.
  void RoundTrip(PgResult* target) {
    ++round_trips_;
    PGconn* c = conn_.raw();
    // A failed send leaves libpq reading what the server said before it closed; the
    // statements then collect that error or none (answerless_).
    const bool synced = PQpipelineSync(c) == 1;
    if (!synced) Note(SendFailed("send"));
    Collect(target);
    if (synced) ReadSync();
  }

  // Collects the results of everything sent, in order. The first failure becomes
  // failed_ (the server skipped what followed it: PGRES_PIPELINE_ABORTED). With
  // `target`, the last entry's result is the caller's: moved there, not judged.
  void Collect(PgResult* target) {
    PGconn* c = conn_.raw();
    while (!pending_.empty()) {
      Pending p = std::move(pending_.front());
      pending_.pop_front();
      const bool is_target = target != nullptr && pending_.empty();
      PgResult r(conn_.lost() ? nullptr : PQgetResult(c), &PQclear);
      if (r == nullptr) {  // no answer: the connection failed
        answerless_ = true;
        if (p.kind == Pending::kPrepare) conn_.Forget(p.sql);
        Note(Status::IoError(std::string("store: ") + p.what + ": " + OneLine(PQerrorMessage(c))));
        continue;
      }
      // The end of this statement's results.
      while (PGresult* more = PQgetResult(c)) PQclear(more);
      const ExecStatusType status = PQresultStatus(r.get());
      if (p.kind == Pending::kPrepare) {
        if (status != PGRES_COMMAND_OK) {
          conn_.Forget(p.sql);
          if (status != PGRES_PIPELINE_ABORTED) Note(Fail(r.get(), p.what));
        }
        continue;
      }
      if (is_target) {
        *target = std::move(r);
        continue;
      }
      if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_PIPELINE_ABORTED) continue;
      if (!p.on_unique.ok() && SqlState(r.get()) == "23505") {
        retry_ = true;  // the rerun reads the row this one did not see (PutLedger)
        Note(p.on_unique);
      } else {
        Note(Fail(r.get(), p.what));
      }
    }
  }

  // Reads up to the pipeline's sync result.
  void ReadSync() {
    PGconn* c = conn_.raw();
    while (!conn_.lost()) {
      PgResult r(PQgetResult(c), &PQclear);
      if (r == nullptr || PQresultStatus(r.get()) == PGRES_PIPELINE_SYNC) break;
    }
  }

  // The first failure of the transaction wins.
  void Note(Status st) {
    if (failed_.ok()) failed_ = std::move(st);
  }

  // Sends (deferred) the counters AppendChange advanced in memory.
  void FlushCounters() {
    for (const Uuid& hub : dirty_) {
      if (!Defer("UPDATE hubs SET last_seq = $2 WHERE hub_id = $1",
                 Params().Id(hub).Int(static_cast<int64_t>(seq_[hub])), "advance hub sequence")
               .ok()) {
        break;
      }
    }
    dirty_.clear();
  }
  // Runs a command; the number of rows it changed.
  Result<int64_t> Write(const std::string& sql, const Params& params, const char* what) {
    auto rows = Query(sql, params, what);
    if (!rows.ok()) return rows.status();
    return rows->Affected();
  }

  // A failed statement. A timeout is kUnavailable (field "store", so it reads
  // "unavailable: store: lock hub: ..."): the database is healthy but busy, and the
  // device should try again later; the transaction is aborted, so the body must return
  // this Status (Transact rolls back).
  Status Fail(const PGresult* r, const char* what) {
    const std::string state = SqlState(r);
    // A session ended for idling in its transaction was rolled back: safe to re-run.
    if (Retryable(state) || state == kIdleInTransactionTimeout) retry_ = true;
    const std::string message = OneLine(r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(conn_.raw()));
    if (state == kLockNotAvailable) {
      return Status(ErrorCode::kUnavailable,
                    std::string(what) +
                        ": another transaction held the lock longer than lock_timeout (the hub is busy or a "
                        "transaction is stuck); nothing was written, try again: " +
                        message,
                    "store");
    }
    if (state == kQueryCanceled) {
      return Status(ErrorCode::kUnavailable,
                    std::string(what) +
                        ": the statement ran longer than statement_timeout (or was cancelled); nothing was written, "
                        "try again: " +
                        message,
                    "store");
    }
    return Status::IoError(std::string("store: ") + what + ": " + message);
  }

  Status UpdateOne(const std::string& sql, const Params& params, const std::string& missing, const char* field) {
    auto n = Write(sql, params, "update");
    if (!n.ok()) return n.status();
    if (*n != 1) return Status::NotFound(missing, field);
    return Status::Ok();
  }

  static Status PrefixTaken(const std::string& prefix) {
    return Status(ErrorCode::kAlreadyExists, "reference prefix " + prefix + " is taken", "reference_prefix");
  }

  Result<std::vector<StoredRecord>> Records(const std::string& sql, const Params& params) {
    auto rows = Query(sql, params, "read records");
    if (!rows.ok()) return rows.status();
    std::vector<StoredRecord> out;
    out.reserve(static_cast<size_t>(rows->size()));
    for (int i = 0; i < rows->size(); ++i) {
      StoredRecord r;
      if (!rows->IsNull(i, 0)) r.participant_id = rows->Id(i, 0);
      if (!r.record.ParseFromString(rows->Bytes(i, 1))) return Status::DataLoss("a stored record does not decode");
      auto versions = DecodeFieldVersions(rows->Bytes(i, 2));
      if (!versions.ok()) return versions.status();
      r.versions = std::move(*versions);
      auto keys = rows->TextArray(i, 3);
      if (!keys.ok()) return keys.status();
      r.keys = std::move(*keys);
      out.push_back(std::move(r));
    }
    return out;
  }

  static EnrolmentCodeRow CodeFrom(const Rows& rows, int i) {
    EnrolmentCodeRow c;
    c.code_hash = rows.Bytes(i, 0);
    c.hub_id = rows.Id(i, 1);
    c.role = static_cast<v1::Role>(rows.Int(i, 2));
    c.user_name = rows.Bytes(i, 3);
    c.venue_id = rows.Id(i, 4);
    c.expires_at_ms = rows.Int(i, 5);
    c.used = rows.Bool(i, 6);
    return c;
  }

  static AuditRow AuditFrom(const Rows& rows, int i) {
    AuditRow a;
    a.at_ms = rows.Int(i, 0);
    a.hub_id = rows.Id(i, 1);
    a.device_id = rows.Id(i, 2);
    a.author = rows.Bytes(i, 3);
    a.record_id = rows.Id(i, 4);
    a.type = static_cast<v1::RecordType>(rows.Int(i, 5));
    a.field = static_cast<uint32_t>(rows.Int(i, 6));
    a.old_value = rows.Bytes(i, 7);
    a.new_value = rows.Bytes(i, 8);
    a.server_seq = static_cast<uint64_t>(rows.Int(i, 9));
    return a;
  }

  static HubRow HubFrom(const Rows& rows, int i) {
    HubRow h;
    h.hub_id = rows.Id(i, 0);
    h.name = rows.Bytes(i, 1);
    h.created_at_ms = rows.Int(i, 2);
    h.last_seq = static_cast<uint64_t>(rows.Int(i, 3));
    return h;
  }

  static DeviceRow DeviceFrom(const Rows& rows, int i) {
    DeviceRow d;
    d.device_id = rows.Id(i, 0);
    d.hub_id = rows.Id(i, 1);
    d.role = static_cast<v1::Role>(rows.Int(i, 2));
    d.venue_id = rows.Id(i, 3);
    d.user_name = rows.Bytes(i, 4);
    d.device_name = rows.Bytes(i, 5);
    d.reference_prefix = rows.Bytes(i, 6);
    d.credential_hash = rows.Bytes(i, 7);
    d.revoked = rows.Bool(i, 8);
    d.enrolled_at_ms = rows.Int(i, 9);
    d.last_sync_ms = rows.Int(i, 10);
    return d;
  }

  // What this transaction knows of one device's ledger keys (present: read or written;
  // absent: read as missing and not written since).
  struct LedgerSeen {
    std::set<uint64_t> present, absent;
  };

  Connection& conn_;
  std::atomic<uint64_t>& round_trips_;
  bool retry_ = false;
  Status failed_;                      // first failure; every later call returns it
  bool answerless_ = false;            // a statement got no answer: the connection failed
  std::deque<Pending> pending_;        // sent, not yet collected, in order
  std::map<Uuid, uint64_t> seq_;       // hubs this transaction row-locked -> their counter
  std::set<Uuid> dirty_;               // hubs whose counter is ahead of the row
  std::map<Uuid, LedgerSeen> ledger_;  // device -> its keys this transaction knows
  // Records this transaction wrote, as GetRecord would read them. Exact until commit: the
  // upsert row-locks the record, and every writer of a record (PutRecord) upserts that
  // row before its keys, so nobody else changes the row or its keys meanwhile.
  std::map<Uuid, StoredRecord> written_;
};

// ---------------------------------------------------------------- the store

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(const std::string& conninfo, Options options) {
  if (conninfo.empty()) return Status::InvalidArgument("store", "no PostgreSQL connection string given");
  if (options.max_connections == 0) return Status::InvalidArgument("max_connections", "must be at least 1");
  if (options.lock_timeout_ms < 0) return Status::InvalidArgument("lock_timeout_ms", "must not be negative");
  if (options.statement_timeout_ms < 0) return Status::InvalidArgument("statement_timeout_ms", "must not be negative");
  if (options.idle_in_transaction_timeout_ms < 0) {
    return Status::InvalidArgument("idle_in_transaction_timeout_ms", "must not be negative");
  }
  std::unique_ptr<PostgresStore> store(new PostgresStore(conninfo, options));
  auto conn = store->Acquire();
  if (!conn.ok()) return conn.status();
  PGconn* raw = (*conn)->raw();
  store->description_ =
      std::string("postgresql://") + PQuser(raw) + "@" + PQhost(raw) + ":" + PQport(raw) + "/" + PQdb(raw);
  store->Release(std::move(*conn));
  OUTREACH_RETURN_IF_ERROR(store->Migrate());
  return store;
}

PostgresStore::PostgresStore(std::string conninfo, Options options)
    : conninfo_(std::move(conninfo)), options_(options) {}

PostgresStore::~PostgresStore() = default;

Result<std::unique_ptr<PostgresStore::Connection>> PostgresStore::Acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (!idle_.empty()) {
      std::unique_ptr<Connection> c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
    if (open_ < options_.max_connections) break;
    idle_cv_.wait(lock);
  }
  ++open_;
  lock.unlock();
  auto c = Connection::Connect(conninfo_, options_);
  if (!c.ok()) {
    lock.lock();
    --open_;
    idle_cv_.notify_one();
  }
  return c;
}

void PostgresStore::Release(std::unique_ptr<Connection> connection) {
  std::lock_guard<std::mutex> lock(mu_);
  if (connection->healthy()) {
    idle_.push_back(std::move(connection));
  } else {
    --open_;  // closed as it goes out of scope
  }
  idle_cv_.notify_one();
}

Status PostgresStore::Migrate() {
  auto conn = Acquire();
  if (!conn.ok()) return conn.status();
  Connection& c = **conn;
  auto exec = [&](const char* sql, const char* what) -> Status {
    PgResult r = c.Exec(sql);
    const ExecStatusType status = PQresultStatus(r.get());
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Status::Ok();
    return Status::IoError(std::string("store: ") + what + ": " + OneLine(PQresultErrorMessage(r.get())));
  };
  Status st = [&]() -> Status {
    OUTREACH_RETURN_IF_ERROR(exec("BEGIN", "begin migration"));
    OUTREACH_RETURN_IF_ERROR(exec(kMigrationLock, "lock for migration"));
    OUTREACH_RETURN_IF_ERROR(
        exec("CREATE TABLE IF NOT EXISTS schema_version (version bigint NOT NULL)", "create schema_version"));
    PgResult r = c.Run("SELECT version FROM schema_version", Params());
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
      return Status::IoError("store: read schema version: " + OneLine(PQresultErrorMessage(r.get())));
    }
    Rows rows(std::move(r));
    const int64_t version = rows.size() > 0 ? rows.Int(0, 0) : 0;
    if (version > kSchemaVersion) {
      return Status::FailedPrecondition(description_ + " has schema version " + std::to_string(version) +
                                        ", newer than this server's " + std::to_string(kSchemaVersion) +
                                        "; upgrade the server");
    }
    for (int64_t v = version; v < kSchemaVersion; ++v) {
      OUTREACH_RETURN_IF_ERROR(exec(kMigrations[v], "migrate schema"));
    }
    if (version < kSchemaVersion) {
      OUTREACH_RETURN_IF_ERROR(exec("DELETE FROM schema_version", "write schema version"));
      const std::string set = "INSERT INTO schema_version (version) VALUES (" + std::to_string(kSchemaVersion) + ")";
      OUTREACH_RETURN_IF_ERROR(exec(set.c_str(), "write schema version"));
    }
    return exec("COMMIT", "commit migration");
  }();
  if (!st.ok()) c.Exec("ROLLBACK");
  Release(std::move(*conn));
  return st;
}

Status PostgresStore::Transact(const std::function<Status(StoreTxn&)>& body) {
  thread_local std::minstd_rand jitter(std::random_device{}());
  Status last = Status(ErrorCode::kUnavailable, "the transaction did not run", "store");
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    if (attempt > 1) {
      // Back off a little, more with each attempt, jittered so retries do not collide again.
      const int ceiling = std::min(attempt, 10) * 4;
      std::this_thread::sleep_for(std::chrono::milliseconds(1 + jitter() % static_cast<unsigned>(ceiling)));
    }
    auto conn = Acquire();
    if (!conn.ok()) return conn.status();
    Connection& c = **conn;
    ++round_trips_;
    PgResult begin = c.Exec("BEGIN ISOLATION LEVEL READ COMMITTED");
    if (PQresultStatus(begin.get()) != PGRES_COMMAND_OK) {
      last = Status(ErrorCode::kUnavailable,
                    "cannot begin a transaction: " + OneLine(PQresultErrorMessage(begin.get())), "store");
      const bool lost = c.lost();
      Release(std::move(*conn));
      if (lost) continue;  // a pooled connection the server dropped: try a fresh one
      return last;
    }
    Txn txn(c, round_trips_);
    Status st;
    try {
      st = body(txn);
    } catch (...) {
      txn.Abandon();
      Release(std::move(*conn));
      throw;
    }
    if (txn.must_retry()) {
      last = st.ok()
                 ? Status(ErrorCode::kUnavailable,
                          "the transaction could not complete (serialization failures or lost connections)", "store")
                 : st;
      txn.Abandon();
      Release(std::move(*conn));
      continue;
    }
    if (!st.ok()) {
      txn.Abandon();
      Release(std::move(*conn));
      return st;
    }
    Txn::CommitOutcome outcome = txn.Commit();
    Release(std::move(*conn));
    if (outcome.status.ok()) return Status::Ok();
    if (outcome.retry) {
      last = outcome.status;
      continue;
    }
    return outcome.status;
  }
  return last;
}

}  // namespace outreach::server
