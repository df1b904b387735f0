#include "client/store/local_store.h"

#include <google/protobuf/empty.pb.h>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "client/store/erasure.h"
#include "client/store/outbox.h"
#include "client/store/projections.h"
#include "client/store/pull_applier.h"
#include "client/store/record_row.h"
#include "client/store/schema.h"
#include "client/store/sync_state.h"
#include "common/field_value.h"
#include "common/record_registry.h"
#include "common/reference.h"
#include "common/sqlite/database.h"

namespace outreach::client {

using google::protobuf::Message;

namespace {

std::string Blob(sqlite3_stmt* s, int col) {
  const void* p = sqlite3_column_blob(s, col);
  int n = sqlite3_column_bytes(s, col);
  return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), static_cast<size_t>(n));
}

std::string Text(sqlite3_stmt* s, int col) {
  const unsigned char* p = sqlite3_column_text(s, col);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p));
}

Uuid UuidColumn(sqlite3_stmt* s, int col) {
  Result<Uuid> id = Uuid::FromBytes(Blob(s, col));
  return id.ok() ? *id : Uuid();
}

}  // namespace

// ---------------------------------------------------------------- helpers

// A cached statement in use: bindings by position from 1; reset when it goes out of scope.
class LocalStore::Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  ~Stmt() {
    if (s_ != nullptr) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return s_ != nullptr; }
  sqlite3_stmt* get() const { return s_; }
  Stmt& Int(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  // Blobs and texts are bound without a copy: what is bound must stay alive and
  // unchanged until the last Step(). Temporaries are refused at compile time (the
  // deleted overloads); a string_view is the caller's promise.
  Stmt& Blob(int i, std::string_view v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& Blob(int i, const std::string& v) { return Blob(i, std::string_view(v)); }
  Stmt& Blob(int i, std::string&& v) = delete;
  Stmt& Blob(int i, const Uuid& id) {
    return Blob(i, std::string_view(reinterpret_cast<const char*>(id.bytes().data()), Uuid::kSize));
  }
  Stmt& Blob(int i, Uuid&& id) = delete;
  Stmt& Text(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& Text(int i, const std::string& v) { return Text(i, std::string_view(v)); }
  Stmt& Text(int i, std::string&& v) = delete;
  Stmt& Text(int i, const char* v) { return Text(i, std::string_view(v)); }
  Stmt& Null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  int Step() { return sqlite3_step(s_); }

 private:
  sqlite3_stmt* s_;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back unless committed.
class LocalStore::Txn {
 public:
  explicit Txn(LocalStore* store) : txn_(*store->db_) {}
  const Status& status() const { return txn_.status(); }
  Status Commit() { return txn_.Commit(); }

 private:
  sqlite::Transaction txn_;
};

LocalStore::LocalStore(const StoreOptions& options)
    : path_(options.path), fallback_user_(options.user_name), clock_(options.clock) {}

LocalStore::~LocalStore() = default;

Status LocalStore::Error(const char* what) {
  return db_->Error(what);
}

Status LocalStore::Exec(const char* sql) {
  return db_->Exec(sql);
}

sqlite3_stmt* LocalStore::Prepare(const char* sql) {
  Result<sqlite::Statement> s = db_->Prepare(sql);
  return s.ok() ? s->get() : nullptr;
}

// ---------------------------------------------------------------- open, migrate, seed

Result<std::unique_ptr<LocalStore>> LocalStore::Open(const StoreOptions& options) {
  if (options.path.empty()) return Status::InvalidArgument("path", "no database file given");
  std::unique_ptr<LocalStore> store(new LocalStore(options));
  std::lock_guard<std::mutex> lock(store->mu_);
  OUTREACH_RETURN_IF_ERROR(store->Init());
  return store;
}

Status LocalStore::Init() {
  sqlite::Database::Options options;
  options.busy_timeout_ms = 5000;
  Result<std::unique_ptr<sqlite::Database>> db = sqlite::Database::Open(path_, options);
  if (!db.ok()) return db.status();
  db_ = std::move(db).value();
  // 4 KiB pages, whatever SQLite's build default (set before a new file's first table;
  // a file with tables keeps its own). Larger pages make a bulk pull's B-trees shallower
  // (16 KiB: about 20% less applier CPU) but every durable edit writes each page it
  // touches whole into the WAL: on the quiet machine a single attendance mark took 2.0x
  // a plain insert at 8 KiB and 2.8x at 16 KiB against 1.45x at 4 KiB (capture_bench,
  // docs/PERFORMANCE.md). The adviser waits on every edit; a pull runs in the background.
  OUTREACH_RETURN_IF_ERROR(Exec("PRAGMA page_size=4096"));
  // WAL + synchronous=FULL: every commit is fsynced, so a committed edit survives a power
  // cut (NORMAL could lose the last commits, i.e. an adviser's work).
  OUTREACH_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
  OUTREACH_RETURN_IF_ERROR(Exec("PRAGMA synchronous=FULL"));
  OUTREACH_RETURN_IF_ERROR(Exec("PRAGMA foreign_keys=ON"));
  // Deleted and overwritten content is zeroed, so an erasure leaves no personal data in
  // free pages of the file.
  OUTREACH_RETURN_IF_ERROR(Exec("PRAGMA secure_delete=ON"));
  // A 16 MiB page cache instead of SQLite's 2 MiB: applying a pulled page of 1,000
  // changes touches more pages than 2 MiB holds, and a full cache spills dirty pages to
  // the WAL mid-transaction and re-reads index pages (docs/PERFORMANCE.md, bootstrap).
  OUTREACH_RETURN_IF_ERROR(Exec("PRAGMA cache_size=-16384"));
  OUTREACH_RETURN_IF_ERROR(store::Migrate(*db_));
  OUTREACH_RETURN_IF_ERROR(store::InitStateIfNew(*db_));
  return LoadCachedState();
}

Result<int> LocalStore::SchemaVersion() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(Prepare("PRAGMA user_version"));
  if (!s.ok() || s.Step() != SQLITE_ROW) return Error("cannot read schema version");
  return sqlite3_column_int(s.get(), 0);
}

Status LocalStore::LoadCachedState() {
  {
    Stmt s(Prepare("SELECT value FROM sync_state WHERE key = 'device_id'"));
    if (!s.ok() || s.Step() != SQLITE_ROW) return Error("cannot read device id");
    device_id_ = UuidColumn(s.get(), 0);
  }
  hub_id_.clear();
  author_ = fallback_user_;
  {
    Stmt s(Prepare("SELECT device_id, hub_id, user_name FROM identity"));
    if (!s.ok()) return Error("cannot read identity");
    int rc = s.Step();
    if (rc == SQLITE_ROW) {
      device_id_ = UuidColumn(s.get(), 0);
      hub_id_ = Blob(s.get(), 1);
      author_ = Text(s.get(), 2);
    } else if (rc != SQLITE_DONE) {
      return Error("cannot read identity");
    }
  }
  Result<int64_t> hlc = store::StateInt(*db_, "hlc");
  if (!hlc.ok()) return hlc.status();
  clock_.Restore(Hlc(static_cast<uint64_t>(*hlc)));
  Result<int64_t> offset = store::StateInt(*db_, "clock_offset_ms");
  if (!offset.ok()) return offset.status();
  clock_.SetOffsetMs(*offset);
  return Status::Ok();
}

Uuid LocalStore::device_id() {
  std::lock_guard<std::mutex> lock(mu_);
  return device_id_;
}

// ---------------------------------------------------------------- sync-facing

Result<std::optional<DeviceIdentity>> LocalStore::LoadIdentity() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(
      Prepare("SELECT device_id, credential, server, ca_pem, hub_id, role, user_name, reference_prefix, venue_id FROM "
              "identity"));
  if (!s.ok()) return Error("cannot read identity");
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<DeviceIdentity>();
  if (rc != SQLITE_ROW) return Error("cannot read identity");
  DeviceIdentity id;
  id.device_id = UuidColumn(s.get(), 0);
  id.credential = Blob(s.get(), 1);
  id.server = Text(s.get(), 2);
  id.ca_pem = Text(s.get(), 3);
  id.hub_id = UuidColumn(s.get(), 4);
  id.role = static_cast<v1::Role>(sqlite3_column_int(s.get(), 5));
  id.user_name = Text(s.get(), 6);
  id.reference_prefix = Text(s.get(), 7);
  id.venue_id = UuidColumn(s.get(), 8);
  return std::optional<DeviceIdentity>(std::move(id));
}

Status LocalStore::SaveIdentity(const DeviceIdentity& identity) {
  if (identity.device_id.is_nil()) return Status::InvalidArgument("device_id", "is missing");
  if (identity.server.empty()) return Status::InvalidArgument("server", "is missing");
  if (identity.ca_pem.empty()) return Status::InvalidArgument("ca_pem", "is missing");
  if (!ReferenceNumber::Format(identity.reference_prefix, 1).ok()) {
    return Status::InvalidArgument("reference_prefix",
                                   "'" + identity.reference_prefix + "' is not a 4-character reference prefix");
  }
  std::lock_guard<std::mutex> lock(mu_);
  Txn txn(this);
  OUTREACH_RETURN_IF_ERROR(txn.status());
  {
    Stmt s(
        Prepare("INSERT OR REPLACE INTO identity(one, device_id, credential, server, ca_pem, hub_id, role, user_name, "
                "reference_prefix, venue_id) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    if (!s.ok()) return Error("cannot write identity");
    const std::string hub = identity.hub_id.is_nil() ? std::string() : identity.hub_id.raw();
    const std::string venue = identity.venue_id.is_nil() ? std::string() : identity.venue_id.raw();
    s.Blob(1, identity.device_id).Blob(2, identity.credential).Text(3, identity.server);
    s.Text(4, identity.ca_pem).Blob(5, hub);
    s.Int(6, identity.role).Text(7, identity.user_name).Text(8, identity.reference_prefix);
    s.Blob(9, venue);
    if (s.Step() != SQLITE_DONE) return Error("cannot write identity");
  }
  // Future references use the server's prefix; the counter carries on (unique either way).
  OUTREACH_RETURN_IF_ERROR(store::SetStateText(*db_, "reference_prefix", identity.reference_prefix));
  OUTREACH_RETURN_IF_ERROR(txn.Commit());
  return LoadCachedState();
}

Result<uint64_t> LocalStore::PullCursor() {
  std::lock_guard<std::mutex> lock(mu_);
  Result<int64_t> v = store::StateInt(*db_, "pull_cursor");
  if (!v.ok()) return v.status();
  return static_cast<uint64_t>(*v);
}

Result<std::vector<DatedRecord>> LocalStore::LoadDated(const std::vector<std::pair<Uuid, std::string>>& rows) {
  std::vector<DatedRecord> out;
  out.reserve(rows.size());
  for (const auto& [id, on] : rows) {
    Result<Row> row = store::LoadRow(*db_, id);
    if (!row.ok()) return row.status();
    out.push_back({row->ToRecord(), on});
  }
  return out;
}

Status LocalStore::SetClockOffsetMs(int64_t offset_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  Txn txn(this);
  OUTREACH_RETURN_IF_ERROR(txn.status());
  OUTREACH_RETURN_IF_ERROR(store::SetStateInt(*db_, "clock_offset_ms", offset_ms));
  OUTREACH_RETURN_IF_ERROR(txn.Commit());
  clock_.SetOffsetMs(offset_ms);
  return Status::Ok();
}

Status LocalStore::Wipe() {
  std::lock_guard<std::mutex> lock(mu_);
  {
    Txn txn(this);
    OUTREACH_RETURN_IF_ERROR(txn.status());
    OUTREACH_RETURN_IF_ERROR(Exec("DELETE FROM outbox; DELETE FROM rejected_change; DELETE FROM change_log;"));
    OUTREACH_RETURN_IF_ERROR(store::EmptyProjections(*db_));
    OUTREACH_RETURN_IF_ERROR(Exec("DELETE FROM record; DELETE FROM identity; DELETE FROM sync_state;"));
    OUTREACH_RETURN_IF_ERROR(txn.Commit());
  }
  OUTREACH_RETURN_IF_ERROR(store::InitStateIfNew(*db_));
  // Deleted pages are overwritten on disk by VACUUM, so no personal data lingers.
  OUTREACH_RETURN_IF_ERROR(Exec("VACUUM"));
  return LoadCachedState();
}

// ---------------------------------------------------------------- reads

Result<std::vector<v1::Record>> LocalStore::QueryRecords(sqlite3_stmt* stmt) {
  std::vector<Uuid> ids;
  {
    Stmt s(stmt);
    if (!s.ok()) return Error("cannot query records");
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) ids.push_back(UuidColumn(s.get(), 0));
    if (rc != SQLITE_DONE) return Error("cannot query records");
  }
  std::vector<v1::Record> out;
  out.reserve(ids.size());
  for (const Uuid& id : ids) {
    Result<Row> row = store::LoadRow(*db_, id);
    if (!row.ok()) return row.status();
    if (row->exists) out.push_back(row->ToRecord());
  }
  return out;
}

Result<std::optional<v1::Record>> LocalStore::Get(const Uuid& id) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<Row> row = store::LoadRow(*db_, id);
  if (!row.ok()) return row.status();
  if (!row->exists) return std::optional<v1::Record>();
  return std::optional<v1::Record>(row->ToRecord());
}

Result<std::vector<v1::Record>> LocalStore::ParticipantRecords(const Uuid& participant_id, v1::RecordType type) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite3_stmt* s =
      Prepare("SELECT id FROM record WHERE participant_id = ? AND type = ? AND deleted = 0 ORDER BY created_hlc, id");
  if (s == nullptr) return Error("cannot query records");
  sqlite3_bind_blob(s, 1, participant_id.bytes().data(), Uuid::kSize, SQLITE_TRANSIENT);
  sqlite3_bind_int(s, 2, type);
  return QueryRecords(s);
}

Result<std::vector<DatedRecord>> LocalStore::Timeline(const Uuid& participant_id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<Uuid, std::string>> rows;
  {
    Stmt s(
        Prepare("SELECT id, occurred_on FROM record WHERE participant_id = ? AND deleted = 0 ORDER BY occurred_on, "
                "created_hlc, id"));
    if (!s.ok()) return Error("cannot query timeline");
    s.Blob(1, participant_id);
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) rows.emplace_back(UuidColumn(s.get(), 0), Text(s.get(), 1));
    if (rc != SQLITE_DONE) return Error("cannot query timeline");
  }
  return LoadDated(rows);
}

Result<std::vector<v1::Record>> LocalStore::RecordsOfType(v1::RecordType type, bool include_deleted) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite3_stmt* s = Prepare("SELECT id FROM record WHERE type = ? AND (deleted = 0 OR ?) ORDER BY id");
  if (s == nullptr) return Error("cannot query records");
  sqlite3_bind_int(s, 1, type);
  sqlite3_bind_int(s, 2, include_deleted ? 1 : 0);
  return QueryRecords(s);
}

Result<std::vector<v1::Record>> LocalStore::AllRecords() {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryRecords(Prepare("SELECT id FROM record ORDER BY type, id"));
}

Result<std::vector<v1::Record>> LocalStore::ParticipantsHeldBy(const std::string& adviser) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite3_stmt* s =
      Prepare("SELECT id FROM participant_p WHERE adviser = ? AND status = 1 ORDER BY family_name, given_name, id");
  if (s == nullptr) return Error("cannot query caseload");
  sqlite3_bind_text(s, 1, adviser.data(), static_cast<int>(adviser.size()), SQLITE_TRANSIENT);
  return QueryRecords(s);
}

Result<std::vector<v1::Record>> LocalStore::FindParticipantsByName(const std::string& text) {
  std::vector<std::string> words;
  {
    std::string key = store::NameKey(text);
    size_t start = 0;
    while (start < key.size()) {
      size_t end = key.find(' ', start);
      if (end == std::string::npos) end = key.size();
      words.push_back(key.substr(start, end - start));
      start = end + 1;
    }
  }
  if (words.empty()) return std::vector<v1::Record>();
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Uuid> ids;
  {
    Stmt s(
        Prepare("SELECT id, name_key FROM participant_p WHERE instr(name_key, ?) > 0 ORDER BY family_name, "
                "given_name, id"));
    if (!s.ok()) return Error("cannot find participants");
    s.Text(1, words[0]);
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) {
      std::string key = Text(s.get(), 1);
      if (std::all_of(words.begin(), words.end(), [&](const std::string& w) { return key.find(w) != key.npos; })) {
        ids.push_back(UuidColumn(s.get(), 0));
      }
    }
    if (rc != SQLITE_DONE) return Error("cannot find participants");
  }
  std::vector<v1::Record> out;
  for (const Uuid& id : ids) {
    Result<Row> row = store::LoadRow(*db_, id);
    if (!row.ok()) return row.status();
    out.push_back(row->ToRecord());
  }
  return out;
}

Result<std::optional<v1::Record>> LocalStore::FindParticipantByReference(const std::string& canonical_reference) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite3_stmt* s = Prepare("SELECT id FROM participant_p WHERE reference = ? ORDER BY id LIMIT 1");
  if (s == nullptr) return Error("cannot find participant");
  sqlite3_bind_text(s, 1, canonical_reference.data(), static_cast<int>(canonical_reference.size()), SQLITE_TRANSIENT);
  Result<std::vector<v1::Record>> found = QueryRecords(s);
  if (!found.ok()) return found.status();
  if (found->empty()) return std::optional<v1::Record>();
  return std::optional<v1::Record>(std::move(found->front()));
}

Result<std::vector<v1::Record>> LocalStore::ParticipantsWithNiNumber(const std::string& ni, const Uuid& except) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite3_stmt* s = Prepare("SELECT id FROM participant_p WHERE ni_number = ? AND id <> ? ORDER BY id");
  if (s == nullptr) return Error("cannot find participants");
  sqlite3_bind_text(s, 1, ni.data(), static_cast<int>(ni.size()), SQLITE_TRANSIENT);
  sqlite3_bind_blob(s, 2, except.bytes().data(), Uuid::kSize, SQLITE_TRANSIENT);
  return QueryRecords(s);
}

Result<std::vector<v1::Record>> LocalStore::SessionsAt(const Uuid& venue_id, const std::string& day) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite3_stmt* s = Prepare("SELECT id FROM session_p WHERE venue_id = ? AND day = ? ORDER BY starts_at, id");
  if (s == nullptr) return Error("cannot query sessions");
  sqlite3_bind_blob(s, 1, venue_id.bytes().data(), Uuid::kSize, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 2, day.data(), static_cast<int>(day.size()), SQLITE_TRANSIENT);
  return QueryRecords(s);
}

Result<std::vector<v1::Record>> LocalStore::BookingsOf(const Uuid& session_id) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite3_stmt* s = Prepare("SELECT id FROM booking_p WHERE session_id = ? ORDER BY id");
  if (s == nullptr) return Error("cannot query bookings");
  sqlite3_bind_blob(s, 1, session_id.bytes().data(), Uuid::kSize, SQLITE_TRANSIENT);
  return QueryRecords(s);
}

Result<std::vector<v1::Record>> LocalStore::AttendanceOf(const Uuid& session_id) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite3_stmt* s = Prepare("SELECT id FROM attendance_p WHERE session_id = ? ORDER BY id");
  if (s == nullptr) return Error("cannot query attendance");
  sqlite3_bind_blob(s, 1, session_id.bytes().data(), Uuid::kSize, SQLITE_TRANSIENT);
  return QueryRecords(s);
}

Result<std::vector<DatedRecord>> LocalStore::LastSeen() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<Uuid, std::string>> rows;
  {
    Stmt s(
        // attendance_p.seen_on has no index (a mark's write stays cheap): the report
        // groups the marks once, as a whole caseload report would.
        Prepare("SELECT p.id, max(p.registered_on, coalesce((SELECT max(day) FROM seen_p WHERE participant_id = p.id), "
                "''), coalesce(a.day, '')) FROM participant_p p LEFT JOIN (SELECT participant_id, max(seen_on) AS day "
                "FROM attendance_p WHERE seen_on IS NOT NULL GROUP BY participant_id) a ON a.participant_id = p.id "
                "WHERE p.status = 1 ORDER BY 2, p.family_name, p.given_name, p.id"));
    if (!s.ok()) return Error("cannot query last seen");
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) rows.emplace_back(UuidColumn(s.get(), 0), Text(s.get(), 1));
    if (rc != SQLITE_DONE) return Error("cannot query last seen");
  }
  return LoadDated(rows);
}

Result<std::vector<OverdueItem>> LocalStore::OverduePlans(const std::string& today,
                                                          const std::string& month_before_today) {
  std::lock_guard<std::mutex> lock(mu_);
  struct Hit {
    Uuid plan, step;
    std::string reason, date;
  };
  std::vector<Hit> hits;
  {
    Stmt s(Prepare(
        "SELECT id, x'', 'not_agreed_within_one_month', started_on FROM action_plan_p WHERE status = 1 AND "
        "started_on <> '' AND started_on <= ?1 "
        "UNION ALL SELECT id, x'', 'review_overdue', review_on FROM action_plan_p WHERE status = 2 AND review_on <> '' "
        "AND review_on < ?2 "
        "UNION ALL SELECT p.id, s.id, 'step_overdue', s.due_on FROM action_step_p s JOIN action_plan_p p ON p.id = "
        "s.plan_id WHERE p.status <> 3 AND s.status = 1 AND s.due_on <> '' AND s.due_on < ?2 "
        "ORDER BY 4, 1, 2"));
    if (!s.ok()) return Error("cannot query overdue plans");
    s.Text(1, month_before_today).Text(2, today);
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) {
      hits.push_back({UuidColumn(s.get(), 0), UuidColumn(s.get(), 1), Text(s.get(), 2), Text(s.get(), 3)});
    }
    if (rc != SQLITE_DONE) return Error("cannot query overdue plans");
  }
  std::vector<OverdueItem> out;
  for (const Hit& h : hits) {
    OverdueItem item;
    Result<Row> plan = store::LoadRow(*db_, h.plan);
    if (!plan.ok()) return plan.status();
    item.plan = plan->ToRecord();
    if (!h.step.is_nil()) {
      Result<Row> step = store::LoadRow(*db_, h.step);
      if (!step.ok()) return step.status();
      item.step = step->ToRecord();
    }
    item.reason = h.reason;
    item.date = h.date;
    out.push_back(std::move(item));
  }
  return out;
}

Result<std::vector<RejectedChange>> LocalStore::RejectedChanges() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(Prepare("SELECT device_seq, record_id, type, reason, field FROM rejected_change ORDER BY device_seq"));
  if (!s.ok()) return Error("cannot read rejected changes");
  std::vector<RejectedChange> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    RejectedChange r;
    r.device_seq = static_cast<uint64_t>(sqlite3_column_int64(s.get(), 0));
    r.record_id = UuidColumn(s.get(), 1);
    r.type = static_cast<v1::RecordType>(sqlite3_column_int(s.get(), 2));
    r.reason = Text(s.get(), 3);
    r.field = Text(s.get(), 4);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return Error("cannot read rejected changes");
  return out;
}

Result<std::vector<v1::Change>> LocalStore::ChangeLog() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(Prepare("SELECT change FROM change_log ORDER BY local_seq"));
  if (!s.ok()) return Error("cannot read change log");
  std::vector<v1::Change> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    v1::Change c;
    if (!c.ParseFromString(Blob(s.get(), 0))) return Status::DataLoss("a change log entry does not decode");
    out.push_back(std::move(c));
  }
  if (rc != SQLITE_DONE) return Error("cannot read change log");
  return out;
}

}  // namespace outreach::client
