// SqliteStore: the embedded default Store, one SQLite file.
//
// Settings, fixed at open:
// - journal_mode=WAL: readers (the pool below, and other processes, e.g.
//   `outreach-server device list` while `serve` runs) do not block the writer.
// - synchronous=FULL: a PushAck promises the device that its changes are kept; it then
//   drops them from its outbox. WAL with NORMAL may lose the last commits on power loss,
//   which would lose those changes for good, so every commit is synced.
// - foreign_keys=ON; busy_timeout so a second process waits instead of failing.
// - secure_delete=ON: bytes of overwritten or deleted rows are zeroed, so an erasure
//   leaves no trace of personal data in free space; after a transaction that redacted
//   history the WAL is checkpointed and truncated for the same reason.
// - temp_store=MEMORY: statement journals and sorters stay in memory (no temporary
//   files per statement).
// - The schema is created and migrated on open, tracked by PRAGMA user_version.
//
// Concurrency: one writer connection and a small pool of read-only connections.
// - Transact() runs on the writer connection, one transaction at a time (write_mu_).
//   Transactions begin IMMEDIATE, so a second process's writer waits on the busy
//   timeout rather than failing at commit.
// - Group commit: Transact() calls that arrive while the writer is busy queue up; the
//   next one to find no leader runs the queued bodies (up to kMaxGroup, oldest first) in
//   ONE transaction, each inside a savepoint, and commits once (one fsync for the group).
//   A body that fails (non-ok Status or exception) is rolled back to its savepoint alone
//   and its caller gets its Status (or exception); the others stand. Every caller returns
//   only after the COMMIT that holds its work is durable (or failed: then nothing of the
//   group was written and each caller gets the error). A body runs on the leader's
//   thread while its caller waits. Each body gets a fresh Txn (its caches, sequence
//   counter and audit queue are written by its own Flush() before its savepoint is
//   released), so a rolled-back body leaves no number, key or audit row behind. If
//   SQLite itself aborts the transaction (I/O error, full disk) every caller of the
//   group gets an error and nothing of it stands.
// - Read() runs on a pooled reader connection (query_only) in a deferred transaction,
//   concurrently with the writer and with other reads: a WAL snapshot taken at its first
//   statement. Up to `max_readers` are opened on demand; a Read waits for a free one.
// - Invariant (a pulling cursor never skips a change): sequence numbers are assigned
//   only inside write transactions, every write transaction of every process holds
//   SQLite's one write lock from BEGIN IMMEDIATE to COMMIT, and a hub's numbers are
//   assigned in order within it, so transactions commit in sequence order. A reader's
//   snapshot is a prefix of the commits, hence of every hub's log: if it sees n, it sees
//   1..n-1 too, and a cursor at n is never passed by a later commit of a number <= n.
// - Every query goes through the SQLite layer (common/sqlite/database.h): prepared
//   statements are cached per connection and per SQL text for its life.
// - Erasure: after a transaction that redacted history, the writer waits until no Read
//   is in progress (new ones wait too), then checkpoints and truncates the WAL, so no
//   in-process reader pins frames that still hold the erased values.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/store/store.h"

namespace outreach::sqlite {
class Database;
}

namespace outreach::server {

class SqliteStore final : public Store {
 public:
  struct Options {
    int max_readers = 4;  // pooled read-only connections, opened on demand
  };

  // Opens or creates the store file at `path` and migrates its schema.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path) { return Open(path, Options()); }
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path, Options options);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Status Transact(const std::function<Status(StoreTxn&)>& body) override;
  Status Read(const std::function<Status(StoreTxn&)>& body) override;
  std::string Describe() const override { return "sqlite:" + path_; }

  // Write transactions committed since open (a group of bodies counts once).
  uint64_t commits() const { return commits_.load(); }
  // Transact() calls queued for the next group (not yet running).
  size_t waiting() {
    std::lock_guard<std::mutex> lock(group_mu_);
    return group_queue_.size();
  }

  // The most bodies one group commit runs.
  static constexpr size_t kMaxGroup = 64;

  // The schema version this build writes (PRAGMA user_version after Open).
  static constexpr int kSchemaVersion = 1;

 private:
  class Txn;
  // One Transact() call waiting for, or in, a group. Owned by the calling thread's stack;
  // the leader fills result/error, then sets done under group_mu_.
  struct GroupMember {
    const std::function<Status(StoreTxn&)>* body = nullptr;
    Status result;
    std::exception_ptr error;
    bool done = false;
  };
  // Runs `group` in one transaction on the writer (see the file comment).
  void RunGroup(const std::vector<GroupMember*>& group);

  SqliteStore(std::string path, Options options, std::unique_ptr<sqlite::Database> writer);
  Status Migrate();
  Result<std::unique_ptr<sqlite::Database>> OpenReader();
  // Waits until no Read is in progress and holds new ones back until `EndDrain`.
  void DrainReaders();
  void EndDrain();

  const std::string path_;
  const Options options_;

  std::mutex write_mu_;                       // one write transaction at a time on writer_
  std::unique_ptr<sqlite::Database> writer_;  // guarded by write_mu_
  std::atomic<uint64_t> commits_{0};

  std::mutex group_mu_;
  std::condition_variable group_cv_;
  std::deque<GroupMember*> group_queue_;  // waiting for a leader; guarded by group_mu_
  bool group_leading_ = false;            // a leader is running a group; guarded by group_mu_

  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<sqlite::Database>> idle_readers_;  // guarded by readers_mu_
  int readers_open_ = 0;                                         // idle or in use; guarded by readers_mu_
  int readers_busy_ = 0;                                         // Reads in progress; guarded by readers_mu_
  bool draining_ = false;                                        // new Reads wait; guarded by readers_mu_
};

}  // namespace outreach::server
