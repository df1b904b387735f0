// The SQLite store on real files: settings, schema version, the per-hub log, rollback,
// reopening, and the indexes that pulls and the reconciler rely on.
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

namespace outreach::server {
namespace {

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

  static HubRow Hub(const std::string& name) {
    HubRow h;
    h.hub_id = Uuid::NewV7();
    h.name = name;
    h.created_at_ms = 1;
    return h;
  }

  static v1::Change ChangeOf(const Uuid& record, uint64_t hlc) {
    v1::Change c;
    c.set_record_id(record.raw());
    c.set_type(v1::RECORD_TYPE_SESSION);
    c.set_hlc(hlc);
    c.set_op(v1::CHANGE_OP_UPSERT);
    return c;
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

TEST_F(StoreTest, ANewerSchemaIsRefused) {
  { ASSERT_NE(Open(), nullptr); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto store = OpenStore(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), ErrorCode::kFailedPrecondition);
}

TEST_F(StoreTest, SequenceNumbersAreGapFreePerHub) {
  auto store = Open();
  HubRow a = Hub("A"), b = Hub("B");
  std::vector<uint64_t> seq_a, seq_b;
  ASSERT_TRUE(store
                  ->Transact([&](StoreTxn& txn) -> Status {
                    OUTREACH_RETURN_IF_ERROR(txn.InsertHub(a));
                    OUTREACH_RETURN_IF_ERROR(txn.InsertHub(b));
                    for (int i = 0; i < 3; ++i) {
                      auto sa = txn.AppendChange(a.hub_id, ChangeOf(Uuid::NewV7(), 10 + i));
                      auto sb = txn.AppendChange(b.hub_id, ChangeOf(Uuid::NewV7(), 20 + i));
                      if (!sa.ok()) return sa.status();
                      if (!sb.ok()) return sb.status();
                      seq_a.push_back(*sa);
                      seq_b.push_back(*sb);
                    }
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(seq_a, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(seq_b, (std::vector<uint64_t>{1, 2, 3}));
  ASSERT_TRUE(store
                  ->Transact([&](StoreTxn& txn) -> Status {
                    auto page = txn.ReadLog(a.hub_id, 1, 10);
                    EXPECT_TRUE(page.ok());
                    EXPECT_EQ(page->size(), 2u);
                    EXPECT_EQ((*page)[0].server_seq(), 2u);
                    EXPECT_EQ((*page)[1].server_seq(), 3u);
                    auto hub = txn.GetHub(a.hub_id);
                    EXPECT_EQ((*hub)->last_seq, 3u);
                    auto max = txn.MaxLoggedHlc();
                    EXPECT_EQ(max->value(), 22u);
                    auto hubs = txn.ListHubs();
                    EXPECT_EQ(hubs->size(), 2u);
                    EXPECT_TRUE(txn.LockHub(a.hub_id).ok());
                    EXPECT_EQ(txn.LockHub(Uuid::NewV7()).field(), "hub_id");
                    return Status::Ok();
                  })
                  .ok());
}

TEST_F(StoreTest, AHubReportsTheNumbersItsTransactionHandedOut) {
  auto store = Open();
  HubRow a = Hub("A");
  ASSERT_TRUE(store
                  ->Transact([&](StoreTxn& txn) -> Status {
                    OUTREACH_RETURN_IF_ERROR(txn.InsertHub(a));
                    for (uint64_t i = 1; i <= 3; ++i) {
                      auto seq = txn.AppendChange(a.hub_id, ChangeOf(Uuid::NewV7(), i));
                      if (!seq.ok()) return seq.status();
                      EXPECT_EQ(*seq, i);
                      auto hub = txn.GetHub(a.hub_id);
                      if (!hub.ok()) return hub.status();
                      EXPECT_EQ((*hub)->last_seq, i);
                      auto hubs = txn.ListHubs();
                      if (!hubs.ok()) return hubs.status();
                      EXPECT_EQ(hubs->at(0).last_seq, i);
                    }
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(Query("SELECT last_seq FROM hubs"), "3");
  // The next transaction continues from the stored number.
  ASSERT_TRUE(store
                  ->Transact([&](StoreTxn& txn) -> Status {
                    auto seq = txn.AppendChange(a.hub_id, ChangeOf(Uuid::NewV7(), 4));
                    if (!seq.ok()) return seq.status();
                    EXPECT_EQ(*seq, 4u);
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(Query("SELECT last_seq FROM hubs"), "4");
  EXPECT_EQ(Query("SELECT count(*) FROM change_log"), "4");
}

TEST_F(StoreTest, LookupKeysAlwaysMatchTheRecordsLastWrite) {
  auto store = Open();
  HubRow a = Hub("A");
  const Uuid one = Uuid::NewV7(), two = Uuid::NewV7();
  auto record = [&](const Uuid& id, std::vector<std::string> keys) {
    StoredRecord r;
    r.record.set_id(id.raw());
    r.record.set_type(v1::RECORD_TYPE_SESSION);
    r.record.set_hub_id(a.hub_id.raw());
    r.record.mutable_session()->set_title("Job club");
    r.keys = std::move(keys);
    return r;
  };
  auto holders = [&](StoreTxn& txn, const std::string& key) {
    std::vector<std::string> ids;
    auto found = txn.FindRecordsByKey(a.hub_id, key);
    EXPECT_TRUE(found.ok());
    if (found.ok()) {
      for (const auto& r : *found) ids.push_back(r.record.id());
    }
    return ids;
  };
  ASSERT_TRUE(store
                  ->Transact([&](StoreTxn& txn) -> Status {
                    OUTREACH_RETURN_IF_ERROR(txn.InsertHub(a));
                    OUTREACH_RETURN_IF_ERROR(txn.PutRecord(record(one, {"k2", "k1"})));
                    return txn.PutRecord(record(two, {"k5"}));
                  })
                  .ok());
  ASSERT_TRUE(store
                  ->Transact([&](StoreTxn& txn) -> Status {
                    // Read, then written with the same keys in another order, then new ones.
                    auto r = txn.GetRecord(one);
                    if (!r.ok()) return r.status();
                    EXPECT_EQ((*r)->keys, (std::vector<std::string>{"k1", "k2"}));
                    OUTREACH_RETURN_IF_ERROR(txn.PutRecord(record(one, {"k1", "k2", "k1"})));
                    EXPECT_EQ(holders(txn, "k1"), std::vector<std::string>{one.raw()});
                    OUTREACH_RETURN_IF_ERROR(txn.PutRecord(record(one, {"k3"})));
                    EXPECT_TRUE(holders(txn, "k1").empty());
                    EXPECT_EQ(holders(txn, "k3"), std::vector<std::string>{one.raw()});
                    // Written without being read first: its old keys go all the same.
                    OUTREACH_RETURN_IF_ERROR(txn.PutRecord(record(two, {"k4"})));
                    EXPECT_TRUE(holders(txn, "k5").empty());
                    EXPECT_EQ(holders(txn, "k4"), std::vector<std::string>{two.raw()});
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(Query("SELECT key FROM record_keys ORDER BY key"), "k3\nk4");
}

// A record written in a transaction reads back from it as the table would give it
// (body, versions, link, keys sorted and once each), and every index follows each write:
// the body and versions alone, a new participant link, a new type.
TEST_F(StoreTest, ARecordReadsBackAsWrittenAndItsIndexesFollowEveryWrite) {
  auto store = Open();
  HubRow a = Hub("A");
  const Uuid id = Uuid::NewV7(), first = Uuid::NewV7(), second = Uuid::NewV7(), origin = Uuid::NewV7();
  auto record = [&](v1::RecordType type, const std::string& title, const Uuid& participant, uint64_t hlc) {
    StoredRecord r;
    r.record.set_id(id.raw());
    r.record.set_type(type);
    r.record.set_hub_id(a.hub_id.raw());
    r.record.mutable_session()->set_title(title);
    r.participant_id = participant;
    r.versions[1] = FieldVersion{Hlc(hlc), origin};
    r.keys = {"k2", "k1", "k2"};
    return r;
  };
  auto ids = [](const Result<std::vector<StoredRecord>>& found) {
    std::vector<std::string> out;
    EXPECT_TRUE(found.ok());
    if (found.ok()) {
      for (const auto& r : *found) out.push_back(r.record.id());
    }
    return out;
  };
  auto expect_reads_as = [&](StoreTxn& txn, const StoredRecord& written) {
    auto got = txn.GetRecord(id);
    ASSERT_TRUE(got.ok() && got->has_value());
    EXPECT_EQ((*got)->record.SerializeAsString(), written.record.SerializeAsString());
    EXPECT_EQ((*got)->participant_id, written.participant_id);
    ASSERT_EQ((*got)->versions.size(), 1u);
    EXPECT_EQ((*got)->versions.at(1).hlc, written.versions.at(1).hlc);
    EXPECT_EQ((*got)->versions.at(1).origin, origin);
    EXPECT_EQ((*got)->keys, (std::vector<std::string>{"k1", "k2"}));
  };
  const std::vector<std::string> just_id{id.raw()};
  ASSERT_TRUE(store
                  ->Transact([&](StoreTxn& txn) -> Status {
                    OUTREACH_RETURN_IF_ERROR(txn.InsertHub(a));
                    return txn.PutRecord(record(v1::RECORD_TYPE_BOOKING, "one", first, 1));
                  })
                  .ok());
  StoredRecord last = record(v1::RECORD_TYPE_ATTENDANCE, "four", second, 4);
  ASSERT_TRUE(store
                  ->Transact([&](StoreTxn& txn) -> Status {
                    auto read = txn.GetRecord(id);
                    if (!read.ok()) return read.status();
                    // The body and versions change; hub, type and link stay.
                    StoredRecord two = record(v1::RECORD_TYPE_BOOKING, "two", first, 2);
                    OUTREACH_RETURN_IF_ERROR(txn.PutRecord(two));
                    expect_reads_as(txn, two);
                    EXPECT_EQ(ids(txn.FindRecordsByParticipant(a.hub_id, first)), just_id);
                    // Linked to another participant.
                    StoredRecord three = record(v1::RECORD_TYPE_BOOKING, "three", second, 3);
                    OUTREACH_RETURN_IF_ERROR(txn.PutRecord(three));
                    expect_reads_as(txn, three);
                    EXPECT_TRUE(ids(txn.FindRecordsByParticipant(a.hub_id, first)).empty());
                    EXPECT_EQ(ids(txn.FindRecordsByParticipant(a.hub_id, second)), just_id);
                    // Of another type.
                    OUTREACH_RETURN_IF_ERROR(txn.PutRecord(last));
                    expect_reads_as(txn, last);
                    EXPECT_TRUE(ids(txn.ListRecordsByType(a.hub_id, v1::RECORD_TYPE_BOOKING)).empty());
                    EXPECT_EQ(ids(txn.ListRecordsByType(a.hub_id, v1::RECORD_TYPE_ATTENDANCE)), just_id);
                    return Status::Ok();
                  })
                  .ok());
  ASSERT_TRUE(store
                  ->Read([&](StoreTxn& txn) -> Status {
                    expect_reads_as(txn, last);
                    EXPECT_EQ(ids(txn.FindRecordsByParticipant(a.hub_id, second)), just_id);
                    EXPECT_EQ(ids(txn.ListRecordsByType(a.hub_id, v1::RECORD_TYPE_ATTENDANCE)), just_id);
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(Query("SELECT count(*) FROM records"), "1");
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

// Audit rows are written in batches; they must read back complete and in the order
// appended, inside the transaction that appended them and after it.
TEST_F(StoreTest, AuditRowsReadBackInTheOrderAppended) {
  auto store = Open();
  HubRow a = Hub("A");
  const Uuid record = Uuid::NewV7();
  constexpr uint32_t kRows = 150;  // two whole batches and some
  auto row = [&](uint32_t i) {
    AuditRow r;
    r.at_ms = 1000 + i;
    r.hub_id = a.hub_id;
    r.author = "Priya";
    r.record_id = record;
    r.type = v1::RECORD_TYPE_SESSION;
    r.field = i;
    r.new_value = "value " + std::to_string(i);
    r.server_seq = i;
    return r;
  };
  ASSERT_TRUE(store
                  ->Transact([&](StoreTxn& txn) -> Status {
                    OUTREACH_RETURN_IF_ERROR(txn.InsertHub(a));
                    for (uint32_t i = 0; i < kRows; ++i) OUTREACH_RETURN_IF_ERROR(txn.AppendAudit(row(i)));
                    auto listed = txn.ListAudit(record);
                    if (!listed.ok()) return listed.status();
                    EXPECT_EQ(listed->size(), kRows);
                    for (uint32_t i = 0; i < listed->size(); ++i) EXPECT_EQ((*listed)[i].field, i);
                    OUTREACH_RETURN_IF_ERROR(txn.AppendAudit(row(kRows)));  // queued again, then committed
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(Query("SELECT count(*) FROM audit"), std::to_string(kRows + 1));
  ASSERT_TRUE(store
                  ->Read([&](StoreTxn& txn) -> Status {
                    auto read = txn.ReadAudit(a.hub_id, 0, 1000);
                    if (!read.ok()) return read.status();
                    EXPECT_EQ(read->size(), kRows + 1);
                    for (uint32_t i = 0; i < read->size(); ++i) {
                      EXPECT_EQ((*read)[i].second.field, i);
                      EXPECT_EQ((*read)[i].second.new_value, "value " + std::to_string(i));
                      EXPECT_EQ((*read)[i].second.author, "Priya");
                      if (i > 0) {
                        EXPECT_GT((*read)[i].first, (*read)[i - 1].first);
                      }
                    }
                    return Status::Ok();
                  })
                  .ok());
  // A transaction that fails leaves none of its queued rows behind.
  Status failed = store->Transact([&](StoreTxn& txn) -> Status {
    OUTREACH_RETURN_IF_ERROR(txn.AppendAudit(row(999)));
    return Status::InvalidArgument("x", "refused after writing");
  });
  EXPECT_EQ(failed.field(), "x");
  EXPECT_EQ(Query("SELECT count(*) FROM audit"), std::to_string(kRows + 1));
}

TEST_F(StoreTest, AFailedTransactionLeavesNothingBehind) {
  auto store = Open();
  HubRow a = Hub("A");
  ASSERT_TRUE(store->Transact([&](StoreTxn& txn) { return txn.InsertHub(a); }).ok());
  Status st = store->Transact([&](StoreTxn& txn) -> Status {
    auto seq = txn.AppendChange(a.hub_id, ChangeOf(Uuid::NewV7(), 5));
    if (!seq.ok()) return seq.status();
    return Status::InvalidArgument("x", "refused after writing");
  });
  EXPECT_EQ(st.field(), "x");
  EXPECT_EQ(Query("SELECT count(*) FROM change_log"), "0");
  EXPECT_EQ(Query("SELECT last_seq FROM hubs"), "0");
  // A duplicate hub is refused, naming the field, and the first survives.
  Status dup = store->Transact([&](StoreTxn& txn) { return txn.InsertHub(a); });
  EXPECT_EQ(dup.code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(Query("SELECT name FROM hubs"), "A");
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

TEST_F(StoreTest, ReopenedStoreKeepsEverything) {
  HubRow a = Hub("A");
  const Uuid record = Uuid::NewV7();
  const Uuid device = Uuid::NewV7();
  {
    auto store = Open();
    ASSERT_TRUE(store
                    ->Transact([&](StoreTxn& txn) -> Status {
                      OUTREACH_RETURN_IF_ERROR(txn.InsertHub(a));
                      DeviceRow d;
                      d.device_id = device;
                      d.hub_id = a.hub_id;
                      d.role = v1::ROLE_ADVISER;
                      d.user_name = "Priya";
                      d.reference_prefix = "K7QX";
                      d.credential_hash = std::string(32, '\x01');
                      OUTREACH_RETURN_IF_ERROR(txn.InsertDevice(d));
                      StoredRecord r;
                      r.record.set_id(record.raw());
                      r.record.set_type(v1::RECORD_TYPE_SESSION);
                      r.record.set_hub_id(a.hub_id.raw());
                      r.record.mutable_session()->set_title("Job club");
                      r.versions[5] = FieldVersion{Hlc(77), device};
                      r.keys = {"k1", "k2"};
                      OUTREACH_RETURN_IF_ERROR(txn.PutRecord(r));
                      LedgerEntry e;
                      e.outcome = v1::CHANGE_OUTCOME_APPLIED;
                      e.server_seq = 1;
                      OUTREACH_RETURN_IF_ERROR(txn.PutLedger(device, 1, e));
                      auto seq = txn.AppendChange(a.hub_id, ChangeOf(record, 77));
                      return seq.ok() ? Status::Ok() : seq.status();
                    })
                    .ok());
  }
  auto store = Open();
  ASSERT_TRUE(store
                  ->Transact([&](StoreTxn& txn) -> Status {
                    auto d = txn.GetDevice(device);
                    EXPECT_TRUE(d.ok() && d->has_value());
                    EXPECT_EQ((*d)->user_name, "Priya");
                    auto r = txn.GetRecord(record);
                    EXPECT_TRUE(r.ok() && r->has_value());
                    EXPECT_EQ((*r)->record.session().title(), "Job club");
                    EXPECT_EQ((*r)->versions.at(5), (FieldVersion{Hlc(77), device}));
                    EXPECT_EQ((*r)->keys, (std::vector<std::string>{"k1", "k2"}));
                    auto by_key = txn.FindRecordsByKey(a.hub_id, "k2");
                    EXPECT_EQ(by_key->size(), 1u);
                    auto e = txn.GetLedger(device, 1);
                    EXPECT_TRUE(e.ok() && e->has_value());
                    auto log = txn.ReadLog(a.hub_id, 0, 10);
                    EXPECT_EQ(log->size(), 1u);
                    // The reference prefix stays unique across the store.
                    EXPECT_TRUE(*txn.ReferencePrefixTaken("K7QX"));
                    DeviceRow other;
                    other.device_id = Uuid::NewV7();
                    other.hub_id = a.hub_id;
                    other.reference_prefix = "K7QX";
                    other.credential_hash = std::string(32, '\x02');
                    EXPECT_EQ(txn.InsertDevice(other).field(), "reference_prefix");
                    return Status::Ok();
                  })
                  .ok());
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

TEST_F(StoreTest, RedactionEmptiesLoggedValuesAndAuditButKeepsTheRows) {
  auto store = Open();
  HubRow a = Hub("A");
  const Uuid record = Uuid::NewV7();
  ASSERT_TRUE(store
                  ->Transact([&](StoreTxn& txn) -> Status {
                    OUTREACH_RETURN_IF_ERROR(txn.InsertHub(a));
                    v1::Change c = ChangeOf(record, 9);
                    auto* f = c.add_fields();
                    f->set_field(5);
                    f->set_value("Xanthippe-Secret");
                    auto seq = txn.AppendChange(a.hub_id, c);
                    if (!seq.ok()) return seq.status();
                    AuditRow row;
                    row.hub_id = a.hub_id;
                    row.record_id = record;
                    row.field = 5;
                    row.new_value = "Xanthippe-Secret";
                    OUTREACH_RETURN_IF_ERROR(txn.AppendAudit(row));
                    return txn.RedactRecordHistory(record);
                  })
                  .ok());
  ASSERT_TRUE(store
                  ->Transact([&](StoreTxn& txn) -> Status {
                    auto log = txn.ReadLog(a.hub_id, 0, 10);
                    EXPECT_EQ(log->size(), 1u);
                    EXPECT_EQ((*log)[0].fields(0).field(), 5u);
                    EXPECT_TRUE((*log)[0].fields(0).value().empty());
                    auto audit = txn.ListAudit(record);
                    EXPECT_EQ(audit->size(), 1u);
                    EXPECT_TRUE((*audit)[0].new_value.empty());
                    return Status::Ok();
                  })
                  .ok());
}

}  // namespace
}  // namespace outreach::server
