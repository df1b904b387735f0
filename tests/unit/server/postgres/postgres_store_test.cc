// The PostgreSQL store on a real throwaway PostgreSQL (test_database.h): the Store
// contract (store_contract.h, which server_test runs on SQLite), then what only PostgreSQL
// has: several connections and stores on one database at once (gap-free sequences while
// a reader pulls, deadlock retry, dropped connections), the schema version, the pull
// index, pipelined writes, timeouts.
#include "server/store/postgres_store.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <thread>

#include "server/store/store.h"
#include "tests/unit/server/postgres/test_database.h"
#include "tests/unit/server/store_contract.h"

namespace outreach::server {
namespace {

using outreach::testing::TestDatabase;
using testing::StoreContractTest;

using testing::ChangeOf;
using testing::Device;
using testing::Hub;

// ---------------------------------------------------------------- the contract

// A database of its own on the test PostgreSQL, dropped with it.
class PostgresUnderTest final : public testing::StoreUnderTest {
 public:
  explicit PostgresUnderTest(std::unique_ptr<TestDatabase> db) : db_(std::move(db)) {}
  std::string location() const override { return db_->url(); }
  Result<std::string> Query(const std::string& sql) override { return db_->Query(sql); }
  Status SetSchemaVersion(int version) override {
    auto done = db_->Query("UPDATE schema_version SET version = " + std::to_string(version));
    return done.ok() ? Status::Ok() : done.status();
  }

 private:
  std::unique_ptr<TestDatabase> db_;
};

testing::StoreKind PostgresStoreKind() {
  return {"postgresql", []() -> Result<std::unique_ptr<testing::StoreUnderTest>> {
            auto db = TestDatabase::Create();
            if (!db.ok()) return db.status();
            return std::unique_ptr<testing::StoreUnderTest>(std::make_unique<PostgresUnderTest>(std::move(*db)));
          }};
}

INSTANTIATE_TEST_SUITE_P(Store, StoreContractTest, ::testing::Values(PostgresStoreKind()), testing::StoreKindName);

// ---------------------------------------------------------------- PostgreSQL only

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
  }
  std::unique_ptr<PostgresStore> Open(PostgresStore::Options options = {}) {
    auto store = PostgresStore::Open(db_->url(), options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }
  std::string Query(const std::string& sql) {
    auto out = db_->Query(sql);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : "";
  }
  std::unique_ptr<TestDatabase> db_;
};

TEST_F(PostgresStoreTest, CreatesTheSchemaOnceAtTheCurrentVersion) {
  auto first = Open();
  ASSERT_NE(first, nullptr);
  auto second = Open();  // a second server on the same database: nothing to migrate
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(Query("SELECT version FROM schema_version"), std::to_string(PostgresStore::kSchemaVersion));
  EXPECT_EQ(Query("SELECT count(*) FROM schema_version"), "1");
  EXPECT_EQ(first->Describe().rfind("postgresql://outreach@", 0), 0u) << first->Describe();
  EXPECT_NE(first->Describe().find(db_->name()), std::string::npos);
}

TEST_F(PostgresStoreTest, AnUnreachableDatabaseIsRefusedNamingTheStore) {
  auto dir = outreach::testing::TestClusterDir();
  ASSERT_TRUE(dir.ok());
  auto store = OpenStore("postgresql://outreach@/no_such_database_here?host=" + *dir);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(store.status().field(), "store");
  EXPECT_NE(store.status().message().find("no_such_database_here"), std::string::npos) << store.status().message();
}

TEST_F(PostgresStoreTest, PullAndLookupsUseIndexes) {
  { ASSERT_NE(Open(), nullptr); }
  // With sequential scans priced out, a plan without an index means there is none.
  auto plan = [&](const std::string& sql) { return Query("SET enable_seqscan = off; EXPLAIN " + sql); };
  const std::string log =
      plan("SELECT change FROM change_log WHERE hub_id = '\\x00' AND server_seq > 5 ORDER BY server_seq LIMIT 100");
  EXPECT_NE(log.find("Index Scan using change_log_pkey"), std::string::npos) << log;
  EXPECT_EQ(log.find("Sort"), std::string::npos) << log;
  EXPECT_EQ(log.find("Seq Scan"), std::string::npos) << log;
  const std::string by_participant =
      plan("SELECT record FROM records WHERE hub_id = '\\x00' AND participant_id = '\\x01' ORDER BY record_id");
  EXPECT_NE(by_participant.find("records_by_participant"), std::string::npos) << by_participant;
  const std::string by_key = plan("SELECT record_id FROM record_keys WHERE hub_id = '\\x00' AND key = 'x'");
  EXPECT_EQ(by_key.find("Seq Scan"), std::string::npos) << by_key;
  const std::string max_hlc = plan("SELECT max(hlc) FROM change_log");
  EXPECT_NE(max_hlc.find("change_log_by_hlc"), std::string::npos) << max_hlc;
}

// Writers on two stores (two pools, as two server processes would have) append to one
// hub, some rolling back after taking a number, while a reader pulls by cursor: every
// page the reader sees continues its cursor exactly (a late commit is never skipped)
// and the final log is 1..n without a gap.
TEST_F(PostgresStoreTest, ConcurrentWritersNeverLetACursorSkipANumber) {
  auto one = Open(), two = Open();
  ASSERT_NE(one, nullptr);
  ASSERT_NE(two, nullptr);
  HubRow hub = Hub("Busy");
  ASSERT_TRUE(one->Transact([&](StoreTxn& txn) { return txn.InsertHub(hub); }).ok());

  constexpr int kWriters = 6, kAppendsEach = 15;
  std::atomic<int> committed{0};
  std::atomic<bool> writing{true};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      Store& store = w % 2 ? *one : *two;
      for (int i = 0; i < kAppendsEach; ++i) {
        const bool roll_back = i % 5 == 4;
        Status st = store.Transact([&](StoreTxn& txn) -> Status {
          auto seq = txn.AppendChange(hub.hub_id, ChangeOf(Uuid::NewV7(), static_cast<uint64_t>(w * 1000 + i)));
          if (!seq.ok()) return seq.status();
          std::this_thread::sleep_for(std::chrono::microseconds(200 * (i % 3)));  // commit late
          return roll_back ? Status::FailedPrecondition("rolled back on purpose") : Status::Ok();
        });
        if (roll_back) {
          EXPECT_EQ(st.code(), ErrorCode::kFailedPrecondition);
        } else {
          EXPECT_TRUE(st.ok()) << st.ToString();
          ++committed;
        }
      }
    });
  }
  uint64_t cursor = 0;
  int pages = 0;
  // Pulls one page of at most 4 and says how many changes it held.
  auto pull = [&]() -> size_t {
    std::vector<v1::Change> page;
    Status st = two->Transact([&](StoreTxn& txn) -> Status {
      auto read = txn.ReadLog(hub.hub_id, cursor, 4);
      if (!read.ok()) return read.status();
      page = std::move(*read);
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    for (const v1::Change& c : page) {
      if (c.server_seq() != cursor + 1) {
        ADD_FAILURE() << "the cursor skipped from " << cursor << " to " << c.server_seq();
        return 0;
      }
      cursor = c.server_seq();
    }
    ++pages;
    return page.size();
  };
  std::thread reader([&] {
    while (writing) pull();
  });
  for (auto& t : writers) t.join();
  writing = false;
  reader.join();
  // The reader may trail the writers by many pages on a slow machine: drain what is
  // left, page by page, until a page comes back empty.
  while (pull() > 0) {
  }
  EXPECT_GT(pages, 2);
  EXPECT_EQ(cursor, static_cast<uint64_t>(committed.load()));
  EXPECT_EQ(Query("SELECT last_seq FROM hubs"), std::to_string(committed.load()));
  EXPECT_EQ(Query("SELECT count(*) = max(server_seq) FROM change_log"), "t");
}

// Two transactions lock two hubs in opposite orders: PostgreSQL breaks the deadlock by
// failing one (40P01); the store rolls it back and runs its body again, so both succeed.
TEST_F(PostgresStoreTest, ADeadlockIsRetriedAndBothTransactionsCommit) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  HubRow a = Hub("A"), b = Hub("B");
  ASSERT_TRUE(store
                  ->Transact([&](StoreTxn& txn) {
                    Status st = txn.InsertHub(a);
                    return st.ok() ? txn.InsertHub(b) : st;
                  })
                  .ok());
  std::atomic<int> runs{0};
  std::barrier both_locked_first(2);
  auto run = [&](const Uuid& first, const Uuid& second) {
    bool first_attempt = true;
    return store->Transact([&](StoreTxn& txn) -> Status {
      ++runs;
      OUTREACH_RETURN_IF_ERROR(txn.LockHub(first));
      if (first_attempt) {
        first_attempt = false;
        both_locked_first.arrive_and_wait();
      }
      OUTREACH_RETURN_IF_ERROR(txn.LockHub(second));
      auto seq = txn.AppendChange(first, ChangeOf(Uuid::NewV7(), 1));
      return seq.ok() ? Status::Ok() : seq.status();
    });
  };
  Status s1, s2;
  std::thread t1([&] { s1 = run(a.hub_id, b.hub_id); });
  std::thread t2([&] { s2 = run(b.hub_id, a.hub_id); });
  t1.join();
  t2.join();
  EXPECT_TRUE(s1.ok()) << s1.ToString();
  EXPECT_TRUE(s2.ok()) << s2.ToString();
  // One of the two ran again, at least. A row lock is not granted in queue order: the
  // re-run may take its first hub's row back before the survivor wakes, deadlock a second
  // time, and run once more (seen on a loaded 2-core machine: 4 runs, both committed).
  EXPECT_GE(runs.load(), 3);
  EXPECT_EQ(Query("SELECT string_agg(last_seq::text, ',') FROM hubs"), "1,1");
}

// The server restarts PostgreSQL (or a proxy drops idle connections): pooled connections
// are dead. The next transactions notice, reconnect and succeed.
TEST_F(PostgresStoreTest, DroppedConnectionsAreReplaced) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  HubRow a = Hub("A");
  ASSERT_TRUE(store->Transact([&](StoreTxn& txn) { return txn.InsertHub(a); }).ok());
  Query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> "
      "pg_backend_pid()");
  for (int i = 0; i < 3; ++i) {
    Status st = store->Transact([&](StoreTxn& txn) -> Status {
      auto seq = txn.AppendChange(a.hub_id, ChangeOf(Uuid::NewV7(), 1));
      return seq.ok() ? Status::Ok() : seq.status();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  EXPECT_EQ(Query("SELECT last_seq FROM hubs"), "3");
}

// A body that ignores a failed statement cannot commit half its work: PostgreSQL has
// aborted the transaction, and Transact reports it.
TEST_F(PostgresStoreTest, ABodyThatIgnoresAFailedStatementCommitsNothing) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  HubRow a = Hub("A");
  ASSERT_TRUE(store->Transact([&](StoreTxn& txn) { return txn.InsertHub(a); }).ok());
  Status st = store->Transact([&](StoreTxn& txn) -> Status {
    (void)txn.AppendChange(a.hub_id, ChangeOf(Uuid::NewV7(), 1));
    // A device of a hub that does not exist breaks the foreign key.
    (void)txn.InsertDevice(Device(Uuid::NewV7(), "NOHB"));
    return Status::Ok();
  });
  EXPECT_EQ(st.code(), ErrorCode::kIoError);
  EXPECT_EQ(Query("SELECT count(*) FROM change_log"), "0");
  EXPECT_EQ(Query("SELECT last_seq FROM hubs"), "0");
}

// A day's-end push on PostgreSQL in the shape the sync service gives it: the hub lock,
// the device, the batch's ledger range, then per change a record read, its upsert, a log
// entry, an audit row and a ledger row. `on_ledger_read` runs right after the ledger
// range was read (as absent).
Status PushShaped(
    StoreTxn& txn, const HubRow& hub, const DeviceRow& device, uint64_t first, uint64_t count,
    const std::function<void()>& on_ledger_read = [] {}) {
  OUTREACH_RETURN_IF_ERROR(txn.LockHub(hub.hub_id));
  auto hlc = txn.MaxLoggedHlc();
  if (!hlc.ok()) return hlc.status();
  auto d = txn.GetDevice(device.device_id);
  if (!d.ok()) return d.status();
  auto seen = txn.ReadLedger(device.device_id, first - 1, static_cast<uint32_t>(count));
  if (!seen.ok()) return seen.status();
  on_ledger_read();
  for (uint64_t k = first; k < first + count; ++k) {
    const Uuid record = Uuid::NewV7();
    auto stored = txn.GetRecord(record);
    if (!stored.ok()) return stored.status();
    StoredRecord r;
    r.record.set_id(record.raw());
    r.record.set_type(v1::RECORD_TYPE_SESSION);
    r.record.set_hub_id(hub.hub_id.raw());
    r.record.mutable_session()->set_title("Job club " + std::to_string(k));
    r.keys = {"k" + std::to_string(k)};
    OUTREACH_RETURN_IF_ERROR(txn.PutRecord(r));
    auto seq = txn.AppendChange(hub.hub_id, ChangeOf(record, 100 + k));
    if (!seq.ok()) return seq.status();
    AuditRow row;
    row.at_ms = 3;
    row.hub_id = hub.hub_id;
    row.device_id = device.device_id;
    row.author = "Priya";
    row.record_id = record;
    row.type = v1::RECORD_TYPE_SESSION;
    row.field = 5;
    row.new_value = "Job club";
    row.server_seq = *seq;
    OUTREACH_RETURN_IF_ERROR(txn.AppendAudit(row));
    LedgerEntry e;
    e.outcome = v1::CHANGE_OUTCOME_APPLIED;
    e.server_seq = *seq;
    OUTREACH_RETURN_IF_ERROR(txn.PutLedger(device.device_id, k, e));
  }
  return txn.SetDeviceLastSync(device.device_id, 1234);
}

// The writes of a push are pipelined (sent without waiting), yet a push commits all of
// them with numbers that continue the hub's counter without gaps, and a later push
// continues from there; a ledger key the push wrote itself is refused at once.
TEST_F(PostgresStoreTest, APipelinedPushCommitsEveryRowAndNumbersWithoutGaps) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  HubRow a = Hub("A");
  DeviceRow device = Device(a.hub_id, "K7QX");
  ASSERT_TRUE(store
                  ->Transact([&](StoreTxn& txn) -> Status {
                    OUTREACH_RETURN_IF_ERROR(txn.InsertHub(a));
                    return txn.InsertDevice(device);
                  })
                  .ok());
  const uint64_t before = store->round_trips();
  Status st = store->Transact([&](StoreTxn& txn) { return PushShaped(txn, a, device, 1, 50); });
  ASSERT_TRUE(st.ok()) << st.ToString();
  const uint64_t trips = store->round_trips() - before;
  // A figure, not a check (performance is measured, never asserted).
  std::printf("round trips for a push of 50 changes: %llu (%.2f per change)\n", static_cast<unsigned long long>(trips),
              static_cast<double>(trips) / 50);
  st = store->Transact([&](StoreTxn& txn) -> Status {
    OUTREACH_RETURN_IF_ERROR(PushShaped(txn, a, device, 51, 10));
    EXPECT_EQ(txn.PutLedger(device.device_id, 55, LedgerEntry{}).field(), "device_seq");
    auto hub = txn.GetHub(a.hub_id);  // reads the counter written from memory
    EXPECT_TRUE(hub.ok() && hub->has_value());
    EXPECT_EQ((*hub)->last_seq, 60u);
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Query("SELECT last_seq FROM hubs"), "60");
  EXPECT_EQ(Query("SELECT count(*) || ' ' || min(server_seq) || ' ' || max(server_seq) FROM change_log"), "60 1 60");
  EXPECT_EQ(Query("SELECT count(*) || ' ' || min(device_seq) || ' ' || max(device_seq) FROM ledger"), "60 1 60");
  EXPECT_EQ(Query("SELECT count(*) FROM audit"), "60");
  EXPECT_EQ(Query("SELECT count(*) FROM records"), "60");
  EXPECT_EQ(Query("SELECT count(*) FROM record_keys"), "60");
  EXPECT_EQ(Query("SELECT count(*) FROM change_log c JOIN ledger l ON l.server_seq = c.server_seq"), "60");
}

// A pipelined write that fails aborts the whole batch whenever its error is collected.
// Here another session (a caller not holding the hub lock) writes a ledger key after the
// push read it as absent: the push's deferred INSERT meets the primary key. Collected at
// COMMIT or at the next read, the attempt is rolled back and run again (store.h); the
// rerun reads the key as present and is refused at once with kAlreadyExists naming
// device_seq. Nothing of either attempt is written, and the store goes on working.
TEST_F(PostgresStoreTest, APipelinedWriteThatFailsAbortsTheBatchAndWritesNothing) {
  auto store = Open();
  auto other = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_NE(other, nullptr);
  HubRow a = Hub("A");
  DeviceRow device = Device(a.hub_id, "K7QX");
  ASSERT_TRUE(store
                  ->Transact([&](StoreTxn& txn) -> Status {
                    OUTREACH_RETURN_IF_ERROR(txn.InsertHub(a));
                    return txn.InsertDevice(device);
                  })
                  .ok());
  // Writes the key once, during the first attempt.
  auto sneak_in = [&](uint64_t device_seq) {
    return [&, device_seq, done = std::make_shared<bool>(false)] {
      if (*done) return;
      *done = true;
      Status st = other->Transact([&](StoreTxn& txn) {
        LedgerEntry e;
        e.outcome = v1::CHANGE_OUTCOME_REJECTED;
        e.reason = "written by another session";
        return txn.PutLedger(device.device_id, device_seq, e);
      });
      EXPECT_TRUE(st.ok()) << st.ToString();
    };
  };
  // Key 5, the last change's: its error is collected with COMMIT.
  int runs = 0;
  const auto sneak_in_5 = sneak_in(5);
  Status st = store->Transact([&](StoreTxn& txn) {
    ++runs;
    return PushShaped(txn, a, device, 1, 5, sneak_in_5);
  });
  EXPECT_EQ(st.code(), ErrorCode::kAlreadyExists) << st.ToString();
  EXPECT_EQ(st.field(), "device_seq");
  EXPECT_EQ(runs, 2);
  // Key 6, the first change's of the next push: collected at the next change's record read.
  std::vector<Status> attempts;
  const auto sneak_in_6 = sneak_in(6);
  st = store->Transact([&](StoreTxn& txn) {
    attempts.push_back(PushShaped(txn, a, device, 6, 5, sneak_in_6));
    return attempts.back();
  });
  EXPECT_EQ(st.code(), ErrorCode::kAlreadyExists) << st.ToString();
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].field(), "device_seq");  // from the collected violation
  EXPECT_EQ(attempts[1].field(), "device_seq");
  EXPECT_EQ(Query("SELECT count(*) FROM change_log"), "0");
  EXPECT_EQ(Query("SELECT count(*) FROM audit"), "0");
  EXPECT_EQ(Query("SELECT count(*) FROM records"), "0");
  EXPECT_EQ(Query("SELECT count(*) FROM record_keys"), "0");
  EXPECT_EQ(Query("SELECT last_seq || ' ' || (SELECT last_sync_ms FROM devices) FROM hubs"), "0 0");
  EXPECT_EQ(Query("SELECT string_agg(device_seq::text, ',' ORDER BY device_seq) FROM ledger"), "5,6");
  // The same connection serves the next push, from number 1.
  st = store->Transact([&](StoreTxn& txn) { return PushShaped(txn, a, device, 11, 3); });
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Query("SELECT string_agg(server_seq::text, ',' ORDER BY server_seq) FROM change_log"), "1,2,3");
}

// ---------------------------------------------------------------- timeouts

// A second session of the test's own (plain libpq, as another server process or a DBA's
// psql would be) that holds a hub's row lock in an open transaction until released.
class LockHolder {
 public:
  LockHolder(const std::string& url, const Uuid& hub_id) : conn_(PQconnectdb(url.c_str())) {
    EXPECT_EQ(PQstatus(conn_), CONNECTION_OK) << PQerrorMessage(conn_);
    Exec("BEGIN");
    Exec("SELECT hub_id FROM hubs WHERE hub_id = '\\x" + Hex(hub_id.raw()) + "' FOR UPDATE");
  }
  ~LockHolder() { PQfinish(conn_); }
  void Release() { Exec("ROLLBACK"); }

 private:
  static std::string Hex(const std::string& bytes) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) {
      out.push_back(digits[b >> 4]);
      out.push_back(digits[b & 15]);
    }
    return out;
  }
  void Exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    EXPECT_TRUE(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK)
        << sql << ": " << PQresultErrorMessage(r);
    if (sql.rfind("SELECT", 0) == 0) {
      EXPECT_EQ(PQntuples(r), 1) << "the hub row was not locked";
    }
    PQclear(r);
  }
  PGconn* conn_;
};

class PostgresTimeoutTest : public PostgresStoreTest {
 protected:
  void SetUp() override {
    PostgresStoreTest::SetUp();
    auto store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Transact([&](StoreTxn& txn) { return txn.InsertHub(hub_); }).ok());
  }
  // A push's shape: the hub lock, then an append. Its Status and how long it took.
  static std::pair<Status, double> Push(Store& store, const Uuid& hub) {
    const auto start = std::chrono::steady_clock::now();
    Status st = store.Transact([&](StoreTxn& txn) -> Status {
      OUTREACH_RETURN_IF_ERROR(txn.LockHub(hub));
      auto seq = txn.AppendChange(hub, ChangeOf(Uuid::NewV7(), 7));
      return seq.ok() ? Status::Ok() : seq.status();
    });
    return {st, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
  }
  HubRow hub_ = Hub("Held");
};

// Another session holds the hub lock: the push waits lock_timeout, then fails with a
// retryable kUnavailable naming the store and the timeout, writing nothing; once the lock
// is released the same push succeeds.
TEST_F(PostgresTimeoutTest, APushWaitingTooLongForTheHubFailsCleanlyThenSucceeds) {
  PostgresStore::Options options;
  options.lock_timeout_ms = 300;
  auto store = Open(options);
  ASSERT_NE(store, nullptr);
  LockHolder holder(db_->url(), hub_.hub_id);
  auto [st, seconds] = Push(*store, hub_.hub_id);
  EXPECT_EQ(st.code(), ErrorCode::kUnavailable) << st.ToString();
  EXPECT_EQ(st.field(), "store");
  EXPECT_NE(st.message().find("lock_timeout"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("try again"), std::string::npos) << st.message();
  EXPECT_GE(seconds, 0.25);
  EXPECT_LT(seconds, 5.0);
  EXPECT_EQ(Query("SELECT last_seq FROM hubs"), "0");
  EXPECT_EQ(Query("SELECT count(*) FROM change_log"), "0");

  holder.Release();
  auto [after, unused] = Push(*store, hub_.hub_id);
  EXPECT_TRUE(after.ok()) << after.ToString();
  EXPECT_EQ(Query("SELECT last_seq FROM hubs"), "1");
}

// With no lock timeout, statement_timeout bounds the wait instead (57014).
TEST_F(PostgresTimeoutTest, AStatementRunningTooLongFailsCleanly) {
  PostgresStore::Options options;
  options.lock_timeout_ms = 0;
  options.statement_timeout_ms = 300;
  auto store = Open(options);
  ASSERT_NE(store, nullptr);
  LockHolder holder(db_->url(), hub_.hub_id);
  auto [st, seconds] = Push(*store, hub_.hub_id);
  EXPECT_EQ(st.code(), ErrorCode::kUnavailable) << st.ToString();
  EXPECT_EQ(st.field(), "store");
  EXPECT_NE(st.message().find("statement_timeout"), std::string::npos) << st.message();
  EXPECT_GE(seconds, 0.25);
  EXPECT_LT(seconds, 5.0);
  holder.Release();
  EXPECT_TRUE(Push(*store, hub_.hub_id).first.ok());
  EXPECT_EQ(Query("SELECT last_seq FROM hubs"), "1");
}

// A timeout the operator set (here in the URL) wins over the store's default (15 s).
TEST_F(PostgresTimeoutTest, TheOperatorsSettingWinsOverTheDefault) {
  auto store = PostgresStore::Open(db_->url() + "&options=-c%20lock_timeout%3D200");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  LockHolder holder(db_->url(), hub_.hub_id);
  auto [st, seconds] = Push(**store, hub_.hub_id);
  EXPECT_EQ(st.code(), ErrorCode::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find("lock_timeout"), std::string::npos) << st.message();
  EXPECT_LT(seconds, 5.0);
  holder.Release();
}

// A server process stalls inside a transaction holding the hub lock: PostgreSQL ends its
// session after idle_in_transaction_session_timeout, so another process's push gets the
// hub; the stalled transaction, rolled back, runs again when it resumes and commits.
TEST_F(PostgresTimeoutTest, AStalledTransactionLosesItsLockAndRunsAgain) {
  PostgresStore::Options options;
  options.idle_in_transaction_timeout_ms = 300;
  auto stalled = Open(options);
  auto other = Open();
  ASSERT_NE(stalled, nullptr);
  ASSERT_NE(other, nullptr);
  std::atomic<int> runs{0};
  std::atomic<bool> locked{false};
  Status stalled_status;
  std::thread stall([&] {
    stalled_status = stalled->Transact([&](StoreTxn& txn) -> Status {
      OUTREACH_RETURN_IF_ERROR(txn.LockHub(hub_.hub_id));
      if (++runs == 1) {
        locked = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(2000));  // stalled, holding the lock
      }
      auto seq = txn.AppendChange(hub_.hub_id, ChangeOf(Uuid::NewV7(), 9));
      return seq.ok() ? Status::Ok() : seq.status();
    });
  });
  while (!locked) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto [st, seconds] = Push(*other, hub_.hub_id);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_LT(seconds, 1.8);  // got the hub while the other was still stalled
  stall.join();
  EXPECT_TRUE(stalled_status.ok()) << stalled_status.ToString();
  EXPECT_EQ(runs.load(), 2);
  EXPECT_EQ(Query("SELECT last_seq FROM hubs"), "2");
  EXPECT_EQ(Query("SELECT count(*) FROM change_log"), "2");
}

TEST_F(PostgresStoreTest, NegativeTimeoutsAreRefusedNamingTheOption) {
  PostgresStore::Options options;
  options.lock_timeout_ms = -1;
  auto store = PostgresStore::Open(db_->url(), options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().field(), "lock_timeout_ms");
}

}  // namespace
}  // namespace outreach::server
