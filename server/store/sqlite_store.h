// SqliteStore: the embedded default Store, one SQLite file.
//
// Settings, fixed at open:
// - journal_mode=WAL: readers (other processes, e.g. `outreach-server device list`
//   while `serve` runs) do not block the writer.
// - synchronous=FULL: a PushAck promises the device that its changes are kept; it then
//   drops them from its outbox. WAL with NORMAL may lose the last commits on power loss,
//   which would lose those changes for good, so every commit is synced.
// - foreign_keys=ON; busy_timeout so a second process waits instead of failing.
// - secure_delete=ON: bytes of overwritten or deleted rows are zeroed, so an erasure
//   leaves no trace of personal data in free space; after a transaction that redacted
//   history the WAL is checkpointed and truncated for the same reason.
// - The schema is created and migrated on open, tracked by PRAGMA user_version.
//
// Concurrency: one connection, used by one transaction at a time (mu_). Transactions
// begin IMMEDIATE, so a second process's writer waits on the busy timeout rather than
// failing at commit. Prepared statements are cached per SQL text for the connection's
// life.
#pragma once

#include <sqlite3.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "server/store/store.h"

namespace outreach::server {

class SqliteStore final : public Store {
 public:
  // Opens or creates the store file at `path` and migrates its schema.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Status Transact(const std::function<Status(StoreTxn&)>& body) override;
  std::string Describe() const override { return "sqlite:" + path_; }

  // The schema version this build writes (PRAGMA user_version after Open).
  static constexpr int kSchemaVersion = 1;

 private:
  class Txn;
  friend class Txn;

  SqliteStore(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  Status Exec(const char* sql);
  Status Migrate();
  // The cached prepared statement for `sql`, reset and with bindings cleared.
  Result<sqlite3_stmt*> Prepare(const char* sql);
  Status Error(const char* what) const;

  const std::string path_;
  std::mutex mu_;                                    // one transaction at a time on db_
  sqlite3* db_;                                      // owned
  std::map<std::string, sqlite3_stmt*> statements_;  // owned; guarded by mu_
};

}  // namespace outreach::server
