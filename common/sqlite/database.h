// The one SQLite layer both sides use: the device store (client/store/) and the server's
// embedded store (server/store/sqlite_store.cc). Every query of either goes through it.
//
//   Database     one connection and its cache of prepared statements
//   Statement    a cached statement in use: typed binds, steps, typed columns; resets
//                itself when it goes out of scope
//   Transaction  BEGIN [IMMEDIATE] ... COMMIT; rolls back unless committed
//   Savepoint    SAVEPOINT name ... RELEASE; rolls back to it unless released
//
// Errors become a Status naming what was being done and the file: a corrupt file is
// kDataLoss, a lock held past the busy timeout kUnavailable, anything else kIoError.
//
// Thread safety: none. A Database is used by one thread at a time (the device store
// holds its mutex; the server hands each connection to one thread at a time), so it is
// opened with SQLITE_OPEN_NOMUTEX.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"
#include "common/uuid.h"

namespace outreach::sqlite {

class Statement;

class Database {
 public:
  struct Options {
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int busy_timeout_ms = 10000;  // how long a statement waits for another connection's lock
  };
  // Opens `path`; fails with kIoError naming the path.
  static Result<std::unique_ptr<Database>> Open(const std::string& path, const Options& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }

  // Runs SQL text of one or more statements, uncached: DDL, pragmas, migrations.
  Status Exec(const char* sql);
  // Runs one cached statement that returns no row to the caller (BEGIN, COMMIT,
  // SAVEPOINT, ...): sqlite3_exec would parse its text again on every call.
  Status Run(const char* sql);
  // The cached prepared statement for `sql`, which must have static storage (every
  // caller passes a literal): the cache is keyed by its address. The returned Statement
  // resets it when it goes out of scope, so one SQL text is in use once at a time.
  Result<Statement> Prepare(const char* sql);
  // An integer from a one-row query such as "PRAGMA user_version" (0 when no row).
  Result<int64_t> QueryInt(const char* sql);
  // Copies every frame of the WAL into the main file and truncates the WAL to zero bytes
  // (after an erasure, so no old page image of the erased data stays in it). Fails when
  // a reader of another connection still holds old frames; the WAL is then reused later.
  Status TruncateWal();

  // The connection's last error as a Status: "<what> (<path>): <sqlite's message>".
  Status Error(const char* what) const;
  // Ok for SQLITE_OK, SQLITE_DONE and SQLITE_ROW; otherwise Error(what).
  Status Check(int rc, const char* what) const;
  // False while a transaction is open (SQLite may roll one back by itself on I/O errors).
  bool autocommit() const { return sqlite3_get_autocommit(db_) != 0; }
  int64_t changes() const { return sqlite3_changes64(db_); }

 private:
  Database(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}

  const std::string path_;
  sqlite3* const db_;                                          // owned
  std::unordered_map<const char*, sqlite3_stmt*> statements_;  // owned; keyed by the literal's address
};

// A cached statement in use: bindings by position from 1. Blobs and texts are bound
// without a copy (SQLITE_STATIC): what is bound must stay alive and unchanged until
// this Statement is destroyed or rebound. Temporaries are refused at compile time (the
// deleted overloads); a string_view is the caller's promise.
class Statement {
 public:
  Statement(const Database* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  Statement(Statement&& other) noexcept : db_(other.db_), s_(other.s_) { other.s_ = nullptr; }
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() {
    if (s_ != nullptr) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
  }

  sqlite3_stmt* get() const { return s_; }

  Statement& Int(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  // An empty blob stays a blob (not NULL): a zero-length blob is bound explicitly.
  Statement& Blob(int i, std::string_view v) {
    sqlite3_bind_blob(s_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Statement& Blob(int i, const std::string& v) { return Blob(i, std::string_view(v)); }
  Statement& Blob(int i, std::string&& v) = delete;
  // A record, hub or device id: its 16 raw bytes as a blob.
  Statement& Id(int i, const Uuid& id) {
    return Blob(i, std::string_view(reinterpret_cast<const char*>(id.bytes().data()), Uuid::kSize));
  }
  Statement& Id(int i, Uuid&& id) = delete;
  Statement& Text(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Statement& Text(int i, const std::string& v) { return Text(i, std::string_view(v)); }
  Statement& Text(int i, std::string&& v) = delete;
  Statement& Text(int i, const char* v) { return Text(i, std::string_view(v)); }
  Statement& Null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(s_); }
  // Steps a statement that returns no row: ok on SQLITE_DONE, else the error as a Status.
  Status Run(const char* what) { return db_->Check(Step(), what); }
  // The error of a Step() that returned `rc` (which was neither ROW nor DONE).
  Status Error(const char* what) const { return db_->Error(what); }

  bool IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  int64_t ColInt(int col) const { return sqlite3_column_int64(s_, col); }
  std::string ColBlob(int col) const { return std::string(ColView(col)); }
  std::string ColText(int col) const { return std::string(ColView(col)); }
  // The column's bytes, valid until the next Step() or the end of this Statement.
  std::string_view ColView(int col) const {
    const void* p = sqlite3_column_blob(s_, col);
    const int n = sqlite3_column_bytes(s_, col);
    return p == nullptr ? std::string_view() : std::string_view(static_cast<const char*>(p), static_cast<size_t>(n));
  }
  // An id column; the nil id when the column is not 16 bytes (NULL, say).
  Uuid ColId(int col) const;

 private:
  const Database* db_;
  sqlite3_stmt* s_;  // not owned (the Database's cache owns it); null once moved from
};

// BEGIN [IMMEDIATE] on construction; the destructor rolls back unless Commit() was called.
// Check status() before using the transaction.
class Transaction {
 public:
  enum class Mode { kDeferred, kImmediate };
  explicit Transaction(Database& db, Mode mode = Mode::kImmediate);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  const Status& status() const { return status_; }
  // COMMIT; on failure rolls back and returns the error.
  Status Commit();
  // ROLLBACK now (the destructor then does nothing).
  void Rollback();

 private:
  Database& db_;
  Status status_;
  bool open_ = false;
};

// SAVEPOINT on construction, inside an open transaction; Release() keeps its work,
// anything else rolls back to it (and releases it) in the destructor. Savepoints nest.
class Savepoint {
 public:
  explicit Savepoint(Database& db);
  ~Savepoint();
  Savepoint(const Savepoint&) = delete;
  Savepoint& operator=(const Savepoint&) = delete;

  const Status& status() const { return status_; }
  Status Release();
  // ROLLBACK TO and RELEASE now; the error if either failed.
  Status Rollback();

 private:
  Database& db_;
  Status status_;
  bool open_ = false;
};

}  // namespace outreach::sqlite
