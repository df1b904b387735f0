#include "common/sqlite/database.h"

#include <cstring>

namespace outreach::sqlite {

Result<std::unique_ptr<Database>> Database::Open(const std::string& path, const Options& options) {
  sqlite3* db = nullptr;
  // NOMUTEX: a connection is used by one thread at a time (see the header).
  const int rc = sqlite3_open_v2(path.c_str(), &db, options.flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Status::IoError("cannot open database " + path + ": " + msg);
  }
  if (options.busy_timeout_ms > 0) sqlite3_busy_timeout(db, options.busy_timeout_ms);
  return std::unique_ptr<Database>(new Database(path, db));
}

Database::~Database() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Status Database::Error(const char* what) const {
  const int code = sqlite3_errcode(db_);
  std::string msg = std::string(what) + " (" + path_ + "): " + sqlite3_errmsg(db_);
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) return Status::DataLoss(std::move(msg));
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) return Status(ErrorCode::kUnavailable, std::move(msg));
  return Status::IoError(std::move(msg));
}

Status Database::Check(int rc, const char* what) const {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return Status::Ok();
  return Error(what);
}

Status Database::Exec(const char* sql) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return Error("run SQL");
  return Status::Ok();
}

Status Database::Run(const char* sql) {
  auto st = Prepare(sql);
  if (!st.ok()) return st.status();
  const int rc = st->Step();
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return Error(sql);
  return Status::Ok();
}

Result<Statement> Database::Prepare(const char* sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return Statement(this, it->second);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
    return Error("prepare statement");
  }
  statements_.emplace(sql, stmt);
  return Statement(this, stmt);
}

Result<int64_t> Database::QueryInt(const char* sql) {
  auto st = Prepare(sql);
  if (!st.ok()) return st.status();
  const int rc = st->Step();
  if (rc == SQLITE_ROW) return st->ColInt(0);
  if (rc == SQLITE_DONE) return int64_t{0};
  return Error(sql);
}

Status Database::TruncateWal() {
  return Check(sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr),
               "truncate the write-ahead log");
}

Uuid Statement::ColId(int col) const {
  std::string_view raw = ColView(col);
  if (raw.size() != Uuid::kSize) return Uuid();
  Uuid::Bytes b;
  std::memcpy(b.data(), raw.data(), Uuid::kSize);
  return Uuid(b);
}

Transaction::Transaction(Database& db, Mode mode) : db_(db) {
  status_ = db_.Run(mode == Mode::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN");
  open_ = status_.ok();
}

Transaction::~Transaction() {
  if (open_) Rollback();
}

Status Transaction::Commit() {
  if (!open_) return status_.ok() ? Status::Internal("transaction already ended") : status_;
  open_ = false;
  Status st = db_.Run("COMMIT");
  if (!st.ok() && !db_.autocommit()) db_.Run("ROLLBACK");
  return st;
}

void Transaction::Rollback() {
  open_ = false;
  if (!db_.autocommit()) db_.Run("ROLLBACK");
}

Savepoint::Savepoint(Database& db) : db_(db) {
  status_ = db_.Run("SAVEPOINT sp");
  open_ = status_.ok();
}

Savepoint::~Savepoint() {
  if (open_) Rollback();
}

Status Savepoint::Release() {
  if (!open_) return status_.ok() ? Status::Internal("savepoint already ended") : status_;
  open_ = false;
  return db_.Run("RELEASE sp");
}

Status Savepoint::Rollback() {
  open_ = false;
  Status st = db_.Run("ROLLBACK TO sp");
  if (st.ok()) st = db_.Run("RELEASE sp");
  return st;
}

}  // namespace outreach::sqlite
