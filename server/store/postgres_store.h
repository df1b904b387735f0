// PostgresStore: the Store for deployments that outgrow one machine. Several
// outreach-server processes share one PostgreSQL database and serve the same hubs.
//
// Mapping of the Store contract (store.h) onto PostgreSQL:
// - Transact() = BEGIN (READ COMMITTED) ... COMMIT on a pooled connection. A statement
//   failing with a serialization failure or a deadlock (SQLSTATE 40001, 40P01) aborts
//   the attempt; it is rolled back and `body` runs again on a fresh transaction (the
//   Store contract allows it). A connection lost before COMMIT was sent is replaced and
//   the attempt re-run too; one lost during COMMIT is reported (kUnavailable), since
//   whether it committed is unknown.
// - Inside a transaction the connection is in libpq pipeline mode: statements whose only
//   answer is success or an error (record upsert and keys, change_log, audit, the hub
//   counter, a ledger row the transaction read as absent) are sent without waiting and
//   collected at the next statement that needs an answer or at COMMIT, so a push waits
//   for the server about once per read instead of once per statement. A failure
//   collected late still aborts the transaction: that call, every later one and the
//   commit return it, and nothing of the transaction is written.
// - LockHub() = SELECT ... FOR NO KEY UPDATE of the hub row: writers of one hub queue on
//   that row lock until commit, while inserts that only reference the hub (foreign keys
//   take KEY SHARE) do not wait. Every read after it sees what earlier writers committed
//   (READ COMMITTED takes a new snapshot per statement).
// - AppendChange() = UPDATE hubs SET last_seq = last_seq + 1 ... RETURNING, then INSERT
//   into change_log; once the transaction holds the hub row (LockHub reads last_seq with
//   the lock), the numbers are taken in memory and last_seq is written once, before the
//   next read of hubs and at COMMIT. Invariant (gap-free cursors): the UPDATE row-locks the hub until
//   this transaction ends, so the transaction holding sequence n commits (or rolls back,
//   giving n back) before any other can take n+1. A reader therefore never sees n+1
//   committed while n is still to come, and a cursor at n never skips a late commit.
// - GetEnrolmentCode() locks the code row (FOR UPDATE): two enrolments racing on one
//   code queue, and the second reads it as used.
// - Inserts that may meet a unique key use ON CONFLICT DO NOTHING and report
//   kAlreadyExists, so the transaction stays usable as it does on SQLite. That includes
//   the dedupe ledger: no retry is needed there, because the service takes LockHub()
//   before GetLedger(), so a push in another process has committed its ledger rows
//   before this one reads them (DUPLICATE across processes).
//
// Schema: created and migrated on Open, tracked in the schema_version table, under a
// transaction-scoped advisory lock so servers starting together migrate once. Ids and
// bodies are bytea; every parameter and result travels in binary (no quoting, NUL-safe).
//
// Connections: a pool of up to Options::max_connections, opened on demand; each keeps
// its own prepared statements (named per SQL text, prepared on first use) and gets the
// Options' timeouts when it connects. Transact() may be called from many threads; each
// call holds one connection until it returns.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/store/store.h"

namespace outreach::server {

class PostgresStore final : public Store {
 public:
  struct Options {
    size_t max_connections = 8;  // per store (per server process)
    int max_attempts = 30;       // of one Transact, counting serialization retries
    // Timeouts set on every pooled connection (milliseconds; 0 = none), so a stuck
    // transaction cannot hang a sync: a push that waits longer than `lock_timeout_ms`
    // for the hub lock (SQLSTATE 55P03), or a statement that runs longer than
    // `statement_timeout_ms` (57014), fails with kUnavailable (field "store": retry
    // later) and its transaction is rolled back; a session idle inside a transaction
    // for `idle_in_transaction_timeout_ms` (a stalled server process holding a hub
    // lock) is ended by PostgreSQL, releasing its locks. Each applies only where the
    // operator left the parameter at PostgreSQL's default: a value set in the URL
    // (`?options=-c%20lock_timeout%3D5s`), for the role or database (ALTER ROLE/DATABASE
    // ... SET), or in postgresql.conf wins.
    // Invariants: the device waits 30 s per network step, so a push queueing for the
    // hub longer than that is futile; statement_timeout > lock_timeout so a lock wait
    // is reported as such.
    int lock_timeout_ms = 15'000;
    int statement_timeout_ms = 30'000;
    int idle_in_transaction_timeout_ms = 60'000;
  };

  // Connects to `conninfo` (a libpq URI "postgresql://user@host:port/db?..." or
  // "key=value" string) and migrates the schema. kUnavailable if the database cannot
  // be reached; kFailedPrecondition if its schema is newer than this build.
  static Result<std::unique_ptr<PostgresStore>> Open(const std::string& conninfo, Options options);
  static Result<std::unique_ptr<PostgresStore>> Open(const std::string& conninfo) { return Open(conninfo, Options()); }
  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  Status Transact(const std::function<Status(StoreTxn&)>& body) override;
  // "postgresql://user@host:port/db" (never the password).
  std::string Describe() const override { return description_; }

  // Waits for the server so far (each statement answered, or batch of pipelined ones,
  // BEGIN and COMMIT), for measuring; never part of any result.
  uint64_t round_trips() const { return round_trips_.load(std::memory_order_relaxed); }

  // The schema version this build writes (schema_version.version after Open).
  static constexpr int kSchemaVersion = 1;

  class Connection;  // one libpq connection and its prepared statements

 private:
  class Txn;

  PostgresStore(std::string conninfo, Options options);
  Result<std::unique_ptr<Connection>> Acquire();
  void Release(std::unique_ptr<Connection> connection);
  Status Migrate();

  const std::string conninfo_;
  const Options options_;
  std::string description_;

  std::mutex mu_;
  std::condition_variable idle_cv_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  size_t open_ = 0;                                // connections handed out or idle; guarded by mu_
  std::atomic<uint64_t> round_trips_{0};           // see round_trips()
};

}  // namespace outreach::server
