// The SQLite store on real files: the Store contract (store_contract.h, which
// postgres_store_test runs on PostgreSQL), then what only SQLite has: its settings, reads
// on pooled connections beside the writer, group commit, and the indexes that pulls and
// the reconciler rely on.
#include "server/store/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <set>
#include <stdexcept>
#include <thread>

#include "server/store/field_versions.h"
#include "server/store/sqlite_store.h"
#include "tests/unit/server/store_contract.h"

namespace outreach::server {
namespace {

using testing::ChangeOf;
using testing::Hub;
using testing::SqliteStoreKind;
using testing::StoreContractTest;
using testing::StoreKindName;

INSTANTIATE_TEST_SUITE_P(Store, StoreContractTest, ::testing::Values(SqliteStoreKind()), StoreKindName);

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("outreach-store-test-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "store.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Store> Open() {
    auto store = OpenStore("sqlite:" + path_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // One value from a query on a second, independent connection to the file.
  std::string Query(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    std::string out;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    while (sqlite3_step(st) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(st, sqlite3_column_count(st) - 1);
      if (!out.empty()) out += "\n";
      out += text ? reinterpret_cast<const char*>(text) : "";
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(StoreTest, OpensInWalModeAtTheCurrentSchemaVersion) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Query("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(Query("PRAGMA user_version"), std::to_string(SqliteStore::kSchemaVersion));
  EXPECT_EQ(store->Describe(), "sqlite:" + path_);
}

// The packed field versions keep their stored layout (files written before hold it):
// per field, its number (4 bytes) and stamp (8 bytes) little-endian, then the origin's 16.
TEST(FieldVersionsTest, PackedLayoutIsStableAndReadsBack) {
  Uuid::Bytes raw;
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<uint8_t>(0xA0 + i);
  const Uuid origin(raw);
  std::map<uint32_t, FieldVersion> versions{{7, FieldVersion{Hlc(0x0102030405060708ull), origin}},
                                            {0x01020304, FieldVersion{Hlc(1), Uuid()}}};
  const std::string packed = EncodeFieldVersions(versions);
  std::string expected("\x07\0\0\0\x08\x07\x06\x05\x04\x03\x02\x01", 12);
  expected += origin.raw();
  expected += std::string("\x04\x03\x02\x01\x01\0\0\0\0\0\0\0", 12);
  expected += Uuid().raw();
  EXPECT_EQ(packed, expected);
  auto back = DecodeFieldVersions(packed);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, versions);
}

TEST_F(StoreTest, AnUnreachablePostgresqlLocationIsRefusedNamingTheStore) {
  auto store = OpenStore("postgresql://outreach@/outreach?host=" + dir_.string());  // no server there
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(store.status().field(), "store");
}

TEST_F(StoreTest, UnopenablePathIsAnIoError) {
  auto store = OpenStore((dir_ / "no-such-dir" / "store.db").string());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), ErrorCode::kIoError);
}

// A Read runs beside an open write transaction (it does not wait for the writer) and
// sees only what was committed; a write inside it fails.
TEST_F(StoreTest, ReadsRunBesideTheWriterOnACommittedSnapshot) {
  auto store = Open();
  HubRow a = Hub("A"), b = Hub("B");
  ASSERT_TRUE(store->Transact([&](StoreTxn& txn) { return txn.InsertHub(a); }).ok());
  std::promise<void> written, release;
  std::thread writer([&] {
    Status st = store->Transact([&](StoreTxn& txn) -> Status {
      OUTREACH_RETURN_IF_ERROR(txn.InsertHub(b));
      written.set_value();
      release.get_future().wait();  // holds the write transaction open
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
  });
  written.get_future().wait();
  size_t hubs_seen = 0;
  Status read = store->Read([&](StoreTxn& txn) -> Status {
    auto hubs = txn.ListHubs();
    if (!hubs.ok()) return hubs.status();
    hubs_seen = hubs->size();
    return Status::Ok();
  });
  release.set_value();
  writer.join();
  ASSERT_TRUE(read.ok()) << read.ToString();
  EXPECT_EQ(hubs_seen, 1u);  // b was not committed yet
  ASSERT_TRUE(store
                  ->Read([&](StoreTxn& txn) -> Status {
                    auto hubs = txn.ListHubs();
                    if (!hubs.ok()) return hubs.status();
                    hubs_seen = hubs->size();
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(hubs_seen, 2u);
  Status write = store->Read([&](StoreTxn& txn) { return txn.InsertHub(Hub("C")); });
  EXPECT_FALSE(write.ok());
  Status append = store->Read([&](StoreTxn& txn) -> Status {
    auto seq = txn.AppendChange(a.hub_id, ChangeOf(Uuid::NewV7(), 1));
    return seq.ok() ? Status::Ok() : seq.status();
  });
  EXPECT_FALSE(append.ok());
  EXPECT_EQ(Query("SELECT count(*) FROM hubs"), "2");
  EXPECT_EQ(Query("SELECT count(*) FROM change_log"), "0");
}

// Group commit: transactions that queue while the writer is busy commit together, once;
// one that fails (a Status or an exception) is rolled back alone, leaving no sequence
// number, audit row or other write behind, and the others' work stands, gap-free.
TEST_F(StoreTest, QueuedTransactionsCommitAsOneGroupAndAFailingOneRollsBackAlone) {
  auto opened = SqliteStore::Open(path_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  SqliteStore& store = **opened;
  HubRow a = Hub("A");
  ASSERT_TRUE(store.Transact([&](StoreTxn& txn) { return txn.InsertHub(a); }).ok());
  const uint64_t commits_before = store.commits();

  // One change and one audit row of `record`, as a push writes them.
  auto push = [&](StoreTxn& txn, const Uuid& record) -> Status {
    auto seq = txn.AppendChange(a.hub_id, ChangeOf(record, 5));
    if (!seq.ok()) return seq.status();
    AuditRow audit;
    audit.hub_id = a.hub_id;
    audit.record_id = record;
    audit.author = "test";
    audit.field = 1;
    audit.server_seq = *seq;
    return txn.AppendAudit(audit);
  };

  // The first holds the writer until the others are queued behind it.
  const Uuid first = Uuid::NewV7();
  std::promise<void> inside, release;
  std::future<Status> holder = std::async(std::launch::async, [&] {
    return store.Transact([&](StoreTxn& txn) -> Status {
      OUTREACH_RETURN_IF_ERROR(push(txn, first));
      inside.set_value();
      release.get_future().wait();
      return Status::Ok();
    });
  });
  inside.get_future().wait();
  const Uuid good1 = Uuid::NewV7(), good2 = Uuid::NewV7(), refused = Uuid::NewV7(), thrown = Uuid::NewV7();
  const HubRow stray = Hub("written by the refused one");
  std::future<Status> ok1 =
      std::async(std::launch::async, [&] { return store.Transact([&](StoreTxn& txn) { return push(txn, good1); }); });
  std::future<Status> bad = std::async(std::launch::async, [&] {
    return store.Transact([&](StoreTxn& txn) -> Status {
      OUTREACH_RETURN_IF_ERROR(push(txn, refused));
      OUTREACH_RETURN_IF_ERROR(txn.InsertHub(stray));
      return Status::InvalidArgument("device_seq", "refused after writing");
    });
  });
  std::future<Status> throws = std::async(std::launch::async, [&] {
    return store.Transact([&](StoreTxn& txn) -> Status {
      OUTREACH_RETURN_IF_ERROR(push(txn, thrown));
      throw std::runtime_error("body threw");
    });
  });
  std::future<Status> ok2 =
      std::async(std::launch::async, [&] { return store.Transact([&](StoreTxn& txn) { return push(txn, good2); }); });
  for (int i = 0; i < 10000 && store.waiting() < 4; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(store.waiting(), 4u);
  release.set_value();

  EXPECT_TRUE(holder.get().ok());
  EXPECT_TRUE(ok1.get().ok());
  EXPECT_TRUE(ok2.get().ok());
  Status refusal = bad.get();
  EXPECT_EQ(refusal.field(), "device_seq");
  EXPECT_EQ(refusal.code(), ErrorCode::kInvalidArgument);
  EXPECT_THROW(throws.get(), std::runtime_error);  // the exception reaches its own caller
  // The holder's commit, then one for the four queued behind it.
  EXPECT_EQ(store.commits() - commits_before, 2u);

  // The three that succeeded hold 1..3, gap-free; nothing of the other two stands.
  EXPECT_EQ(Query("SELECT group_concat(server_seq) FROM (SELECT server_seq FROM change_log ORDER BY server_seq)"),
            "1,2,3");
  EXPECT_EQ(Query("SELECT last_seq FROM hubs WHERE name = 'A'"), "3");
  EXPECT_EQ(Query("SELECT count(*) FROM hubs"), "1");
  EXPECT_EQ(Query("SELECT count(*) FROM audit"), "3");
  std::set<std::string> logged;
  ASSERT_TRUE(store
                  .Read([&](StoreTxn& txn) -> Status {
                    auto log = txn.ReadLog(a.hub_id, 0, 10);
                    if (!log.ok()) return log.status();
                    for (const v1::Change& c : *log) logged.insert(c.record_id());
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(logged, (std::set<std::string>{first.raw(), good1.raw(), good2.raw()}));
}

TEST_F(StoreTest, PullAndLookupsUseIndexesNotScans) {
  { ASSERT_NE(Open(), nullptr); }
  auto plan = [&](const std::string& sql) { return Query("EXPLAIN QUERY PLAN " + sql); };
  const std::string log = plan(
      "SELECT change FROM change_log WHERE hub_id = x'00' AND server_seq > 5 "
      "ORDER BY server_seq LIMIT 100");
  EXPECT_NE(log.find("SEARCH change_log USING PRIMARY KEY"), std::string::npos) << log;
  EXPECT_EQ(log.find("SCAN"), std::string::npos) << log;
  EXPECT_EQ(log.find("TEMP B-TREE"), std::string::npos) << log;
  const std::string by_participant =
      plan("SELECT record FROM records WHERE hub_id = x'00' AND participant_id = x'01' ORDER BY record_id");
  EXPECT_NE(by_participant.find("records_by_participant"), std::string::npos) << by_participant;
  const std::string by_key = plan(
      "SELECT r.record FROM record_keys k JOIN records r ON r.record_id = k.record_id "
      "WHERE k.hub_id = x'00' AND k.key = 'x'");
  EXPECT_EQ(by_key.find("SCAN"), std::string::npos) << by_key;
}

}  // namespace
}  // namespace outreach::server
