#include "tests/unit/server/store_contract.h"

#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "server/store/field_versions.h"

namespace outreach::server::testing {
namespace {

// An SQLite store file in a temporary directory of its own, removed with it.
class SqliteUnderTest final : public StoreUnderTest {
 public:
  SqliteUnderTest() {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("outreach-contract-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "store.db").string();
  }
  ~SqliteUnderTest() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string location() const override { return "sqlite:" + path_; }

  // On a second, independent connection to the file.
  Result<std::string> Query(const std::string& sql) override {
    std::string out;
    Status st = WithConnection(SQLITE_OPEN_READONLY, [&](sqlite3* db) -> Status {
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
        return Status::IoError(sql + ": " + sqlite3_errmsg(db));
      }
      int rc;
      while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const unsigned char* text = sqlite3_column_text(stmt, 0);
        if (!out.empty()) out += "\n";
        out += text != nullptr ? reinterpret_cast<const char*>(text) : "";
      }
      sqlite3_finalize(stmt);
      return rc == SQLITE_DONE ? Status::Ok() : Status::IoError(sql + ": " + sqlite3_errmsg(db));
    });
    if (!st.ok()) return st;
    return out;
  }

  Status SetSchemaVersion(int version) override {
    return WithConnection(SQLITE_OPEN_READWRITE, [&](sqlite3* db) -> Status {
      const std::string sql = "PRAGMA user_version=" + std::to_string(version);
      if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
        return Status::IoError(sql + ": " + sqlite3_errmsg(db));
      }
      return Status::Ok();
    });
  }

 private:
  template <typename Use>
  Status WithConnection(int flags, Use use) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path_.c_str(), &db, flags, nullptr) != SQLITE_OK) {
      Status st = Status::IoError("open " + path_ + ": " + sqlite3_errmsg(db));
      sqlite3_close(db);
      return st;
    }
    Status st = use(db);
    sqlite3_close(db);
    return st;
  }

  std::filesystem::path dir_;
  std::string path_;
};

}  // namespace

HubRow Hub(const std::string& name) {
  HubRow h;
  h.hub_id = Uuid::NewV7();
  h.name = name;
  h.created_at_ms = 1;
  return h;
}

v1::Change ChangeOf(const Uuid& record, uint64_t hlc) {
  v1::Change c;
  c.set_record_id(record.raw());
  c.set_type(v1::RECORD_TYPE_SESSION);
  c.set_hlc(hlc);
  c.set_op(v1::CHANGE_OP_UPSERT);
  return c;
}

DeviceRow Device(const Uuid& hub, const std::string& prefix) {
  DeviceRow d;
  d.device_id = Uuid::NewV7();
  d.hub_id = hub;
  d.role = v1::ROLE_ADVISER;
  d.user_name = "Priya";
  d.device_name = "tablet";
  d.reference_prefix = prefix;
  d.credential_hash = std::string("\0\x01\xff\0", 4) + std::string(28, '\x7f');  // NULs survive
  d.enrolled_at_ms = 5;
  return d;
}

StoreKind SqliteStoreKind() {
  return {"sqlite", []() -> Result<std::unique_ptr<StoreUnderTest>> {
            return std::unique_ptr<StoreUnderTest>(std::make_unique<SqliteUnderTest>());
          }};
}

void StoreContractTest::SetUp() {
  auto made = GetParam().create();
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  under_test_ = std::move(*made);
}

std::unique_ptr<Store> StoreContractTest::Open() {
  if (under_test_ == nullptr) return nullptr;
  auto store = OpenStore(under_test_->location());
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

std::string StoreContractTest::Query(const std::string& sql) {
  auto out = under_test_->Query(sql);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : "";
}

namespace {

// ---------------------------------------------------------------- sequence numbers

TEST_P(StoreContractTest, SequenceNumbersAreGapFreePerHubAndReadInOrder) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
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
  Status st = store->Transact([&](StoreTxn& txn) -> Status {
    auto page = txn.ReadLog(a.hub_id, 1, 10);
    EXPECT_TRUE(page.ok());
    EXPECT_EQ(page->size(), 2u);
    EXPECT_EQ((*page)[0].server_seq(), 2u);
    EXPECT_EQ((*page)[1].server_seq(), 3u);
    EXPECT_EQ(txn.ReadLog(a.hub_id, 0, 2)->size(), 2u);
    EXPECT_EQ((*txn.GetHub(a.hub_id))->last_seq, 3u);
    EXPECT_EQ(txn.MaxLoggedHlc()->value(), 22u);
    EXPECT_EQ(txn.ListHubs()->size(), 2u);
    EXPECT_TRUE(txn.LockHub(a.hub_id).ok());
    EXPECT_EQ(txn.LockHub(Uuid::NewV7()).field(), "hub_id");
    EXPECT_EQ(txn.AppendChange(Uuid::NewV7(), ChangeOf(Uuid::NewV7(), 1)).status().code(), ErrorCode::kNotFound);
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
}

TEST_P(StoreContractTest, AHubReportsTheNumbersItsTransactionHandedOut) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
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

// ---------------------------------------------------------------- rollback

TEST_P(StoreContractTest, AFailedTransactionLeavesNothingBehindAndTheStoreStaysUsable) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
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
  // A duplicate hub is refused naming the field, and the first survives.
  Status dup = store->Transact([&](StoreTxn& txn) { return txn.InsertHub(a); });
  EXPECT_EQ(dup.code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(dup.field(), "hub_id");
  EXPECT_EQ(Query("SELECT name FROM hubs"), "A");
  // Refused inside a transaction, the same transaction goes on working.
  std::vector<v1::Change> log;
  st = store->Transact([&](StoreTxn& txn) -> Status {
    Status dup = txn.InsertHub(a);
    EXPECT_EQ(dup.code(), ErrorCode::kAlreadyExists);
    EXPECT_EQ(dup.field(), "hub_id");
    auto seq = txn.AppendChange(a.hub_id, ChangeOf(Uuid::NewV7(), 6));
    if (!seq.ok()) return seq.status();
    EXPECT_EQ(*seq, 1u);  // the rolled-back number was given back
    auto read = txn.ReadLog(a.hub_id, 0, 10);
    if (!read.ok()) return read.status();
    log = *read;
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].hlc(), 6u);
  // An exception in the body rolls back too, and propagates.
  EXPECT_THROW((void)store->Transact([&](StoreTxn& txn) -> Status {
    (void)txn.AppendChange(a.hub_id, ChangeOf(Uuid::NewV7(), 7));
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  st = store->Transact([&](StoreTxn& txn) -> Status {
    EXPECT_EQ((*txn.GetHub(a.hub_id))->last_seq, 1u);
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
}

// Audit rows are written in batches; they must read back complete and in the order
// appended, inside the transaction that appended them and after it.
TEST_P(StoreContractTest, AuditRowsReadBackInTheOrderAppended) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
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

// ---------------------------------------------------------------- rows and records

TEST_P(StoreContractTest, EveryRowSurvivesReopeningBitForBit) {
  HubRow a = Hub("Ärztehaus Nord");
  const Uuid record = Uuid::NewV7(), other = Uuid::NewV7(), participant = Uuid::NewV7();
  DeviceRow device = Device(a.hub_id, "K7QX");
  EnrolmentCodeRow code;
  code.code_hash = std::string("\0code\0", 6);
  code.hub_id = a.hub_id;
  code.role = v1::ROLE_KIOSK;
  code.user_name = "Kiosk";
  code.venue_id = Uuid::NewV7();
  code.expires_at_ms = 99;
  const std::string body_bytes("\0\x01\x02\xff binary", 11);
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    Status st = store->Transact([&](StoreTxn& txn) -> Status {
      OUTREACH_RETURN_IF_ERROR(txn.InsertHub(a));
      OUTREACH_RETURN_IF_ERROR(txn.InsertDevice(device));
      OUTREACH_RETURN_IF_ERROR(txn.InsertEnrolmentCode(code));
      StoredRecord r;
      r.record.set_id(record.raw());
      r.record.set_type(v1::RECORD_TYPE_SESSION);
      r.record.set_hub_id(a.hub_id.raw());
      r.record.mutable_session()->set_title("Job club");
      r.versions[5] = FieldVersion{Hlc(77), device.device_id};
      r.versions[9] = FieldVersion{Hlc(~uint64_t{0} >> 1), Uuid()};
      r.participant_id = participant;
      r.keys = {"k2", "K1", "k1"};
      OUTREACH_RETURN_IF_ERROR(txn.PutRecord(r));
      StoredRecord o = r;
      o.record.set_id(other.raw());
      o.participant_id = Uuid();
      o.keys = {"k1"};
      OUTREACH_RETURN_IF_ERROR(txn.PutRecord(o));
      LedgerEntry e;
      e.outcome = v1::CHANGE_OUTCOME_REJECTED;
      e.server_seq = 0;
      e.reason = "no such venue";
      e.field = "venue_id";
      OUTREACH_RETURN_IF_ERROR(txn.PutLedger(device.device_id, 1, e));
      v1::Change c = ChangeOf(record, 77);
      c.add_fields()->set_value(body_bytes);
      auto seq = txn.AppendChange(a.hub_id, c);
      if (!seq.ok()) return seq.status();
      AuditRow row;
      row.at_ms = 3;
      row.hub_id = a.hub_id;
      row.device_id = device.device_id;
      row.author = "Priya";
      row.record_id = record;
      row.type = v1::RECORD_TYPE_SESSION;
      row.field = 5;
      row.old_value = "";
      row.new_value = body_bytes;
      row.server_seq = *seq;
      return txn.AppendAudit(row);
    });
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  Status st = store->Transact([&](StoreTxn& txn) -> Status {
    auto d = txn.GetDevice(device.device_id);
    EXPECT_TRUE(d.ok() && d->has_value());
    EXPECT_EQ((*d)->credential_hash, device.credential_hash);
    EXPECT_EQ((*d)->reference_prefix, "K7QX");
    EXPECT_EQ((*d)->enrolled_at_ms, 5);
    EXPECT_FALSE((*d)->revoked);
    EXPECT_EQ(txn.ListDevices(a.hub_id)->size(), 1u);
    EXPECT_EQ(txn.ListDevices(Uuid())->size(), 1u);
    EXPECT_EQ(txn.ListDevices(Uuid::NewV7())->size(), 0u);
    EXPECT_EQ((*txn.GetHub(a.hub_id))->name, "Ärztehaus Nord");
    auto c = txn.GetEnrolmentCode(code.code_hash);
    EXPECT_TRUE(c.ok() && c->has_value());
    EXPECT_EQ((*c)->venue_id, code.venue_id);
    EXPECT_EQ((*c)->role, v1::ROLE_KIOSK);
    EXPECT_FALSE((*c)->used);
    EXPECT_TRUE(txn.MarkEnrolmentCodeUsed(code.code_hash).ok());
    EXPECT_TRUE((*txn.GetEnrolmentCode(code.code_hash))->used);
    EXPECT_EQ(txn.MarkEnrolmentCodeUsed("nope").field(), "code");
    EXPECT_FALSE(txn.GetEnrolmentCode("nope")->has_value());
    auto r = txn.GetRecord(record);
    EXPECT_TRUE(r.ok() && r->has_value());
    EXPECT_EQ((*r)->record.session().title(), "Job club");
    EXPECT_EQ((*r)->versions.at(5), (FieldVersion{Hlc(77), device.device_id}));
    EXPECT_EQ((*r)->versions.at(9).hlc, Hlc(~uint64_t{0} >> 1));
    EXPECT_EQ((*r)->participant_id, participant);
    EXPECT_EQ((*r)->keys, (std::vector<std::string>{"K1", "k1", "k2"}));  // bytewise order
    EXPECT_EQ(txn.FindRecordsByKey(a.hub_id, "k1")->size(), 2u);
    EXPECT_EQ(txn.FindRecordsByKey(a.hub_id, "k2")->size(), 1u);
    EXPECT_EQ(txn.FindRecordsByKey(Uuid::NewV7(), "k1")->size(), 0u);
    EXPECT_EQ(txn.FindRecordsByParticipant(a.hub_id, participant)->size(), 1u);
    EXPECT_EQ(txn.ListRecordsByType(a.hub_id, v1::RECORD_TYPE_SESSION)->size(), 2u);
    EXPECT_TRUE((*txn.GetRecord(other))->participant_id.is_nil());
    EXPECT_FALSE(txn.GetRecord(Uuid::NewV7())->has_value());
    auto e = txn.GetLedger(device.device_id, 1);
    EXPECT_TRUE(e.ok() && e->has_value());
    EXPECT_EQ((*e)->outcome, v1::CHANGE_OUTCOME_REJECTED);
    EXPECT_EQ((*e)->field, "venue_id");
    EXPECT_FALSE(txn.GetLedger(device.device_id, 2)->has_value());
    auto log = txn.ReadLog(a.hub_id, 0, 10);
    EXPECT_EQ(log->size(), 1u);
    EXPECT_EQ((*log)[0].fields(0).value(), body_bytes);
    auto audit = txn.ListAudit(record);
    EXPECT_EQ(audit->size(), 1u);
    EXPECT_EQ((*audit)[0].new_value, body_bytes);
    EXPECT_EQ((*audit)[0].author, "Priya");
    EXPECT_TRUE(txn.SetDeviceLastSync(device.device_id, 1234).ok());
    EXPECT_TRUE(txn.SetDeviceRevoked(device.device_id).ok());
    EXPECT_EQ(txn.SetDeviceRevoked(Uuid::NewV7()).code(), ErrorCode::kNotFound);
    EXPECT_TRUE((*txn.GetDevice(device.device_id))->revoked);
    EXPECT_EQ((*txn.GetDevice(device.device_id))->last_sync_ms, 1234);
    // Unique keys are refused naming the field, and the transaction goes on.
    EXPECT_TRUE(*txn.ReferencePrefixTaken("K7QX"));
    EXPECT_EQ(txn.InsertDevice(Device(a.hub_id, "K7QX")).field(), "reference_prefix");
    DeviceRow again = Device(a.hub_id, "ZZ99");
    again.device_id = device.device_id;
    EXPECT_EQ(txn.InsertDevice(again).field(), "device_id");
    EXPECT_EQ(txn.PutLedger(device.device_id, 1, LedgerEntry{}).field(), "device_seq");
    EXPECT_EQ(txn.InsertEnrolmentCode(code).code(), ErrorCode::kAlreadyExists);
    EXPECT_TRUE(txn.ListHubs().ok());
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
}

TEST_P(StoreContractTest, LookupKeysAlwaysMatchTheRecordsLastWrite) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
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
TEST_P(StoreContractTest, ARecordReadsBackAsWrittenAndItsIndexesFollowEveryWrite) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
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

// A record the transaction wrote is read back from memory exactly as the database would
// give it (keys in bytewise order, each once), and its keys are rewritten only when they
// change; what is committed is the last write.
TEST_P(StoreContractTest, ARecordWrittenInTheTransactionReadsBackAsStored) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  HubRow a = Hub("A");
  const Uuid id = Uuid::NewV7();
  auto check = [&](StoreTxn& txn, const std::string& title, const std::vector<std::string>& keys) {
    auto got = txn.GetRecord(id);
    ASSERT_TRUE(got.ok() && got->has_value());
    EXPECT_EQ((*got)->record.session().title(), title);
    EXPECT_EQ((*got)->keys, keys);
    EXPECT_TRUE((*got)->participant_id.is_nil());
    EXPECT_EQ((*got)->versions.at(5).hlc.value(), 77u);
  };
  auto put = [&](StoreTxn& txn, const std::string& title, std::vector<std::string> keys) {
    StoredRecord r;
    r.record.set_id(id.raw());
    r.record.set_type(v1::RECORD_TYPE_SESSION);
    r.record.set_hub_id(a.hub_id.raw());
    r.record.mutable_session()->set_title(title);
    r.versions[5] = FieldVersion{Hlc(77), Uuid()};
    r.keys = std::move(keys);
    return txn.PutRecord(r);
  };
  Status st = store->Transact([&](StoreTxn& txn) -> Status {
    OUTREACH_RETURN_IF_ERROR(txn.InsertHub(a));
    OUTREACH_RETURN_IF_ERROR(put(txn, "one", {"kb", "K1", "ka", "kb"}));
    check(txn, "one", {"K1", "ka", "kb"});
    OUTREACH_RETURN_IF_ERROR(put(txn, "two", {"ka", "K1", "kb"}));  // same keys
    check(txn, "two", {"K1", "ka", "kb"});
    auto found = txn.FindRecordsByKey(a.hub_id, "ka");
    EXPECT_TRUE(found.ok() && found->size() == 1u);
    OUTREACH_RETURN_IF_ERROR(put(txn, "three", {"kc"}));  // other keys
    check(txn, "three", {"kc"});
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  st = store->Transact([&](StoreTxn& txn) -> Status {
    check(txn, "three", {"kc"});  // from the database now
    EXPECT_TRUE(txn.FindRecordsByKey(a.hub_id, "ka")->empty());
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Query("SELECT key FROM record_keys ORDER BY key"), "kc");
}

// ---------------------------------------------------------------- erasure and schema

TEST_P(StoreContractTest, RedactionEmptiesLoggedValuesAndAuditButKeepsTheRows) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
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
                    row.old_value = "Xanthippe-Old";
                    row.new_value = "Xanthippe-Secret";
                    OUTREACH_RETURN_IF_ERROR(txn.AppendAudit(row));
                    return txn.RedactRecordHistory(record);
                  })
                  .ok());
  Status st = store->Transact([&](StoreTxn& txn) -> Status {
    auto log = txn.ReadLog(a.hub_id, 0, 10);
    EXPECT_EQ(log->size(), 1u);
    EXPECT_EQ((*log)[0].fields(0).field(), 5u);
    EXPECT_TRUE((*log)[0].fields(0).value().empty());
    auto audit = txn.ListAudit(record);
    EXPECT_EQ(audit->size(), 1u);
    EXPECT_TRUE((*audit)[0].new_value.empty());
    EXPECT_TRUE((*audit)[0].old_value.empty());
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
}

// A store written by a newer server is refused, whichever way it is opened.
TEST_P(StoreContractTest, ANewerSchemaIsRefused) {
  { ASSERT_NE(Open(), nullptr); }
  Status marked = under_test_->SetSchemaVersion(99);
  ASSERT_TRUE(marked.ok()) << marked.ToString();
  auto store = OpenStore(under_test_->location());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("upgrade the server"), std::string::npos) << store.status().message();
}

}  // namespace
}  // namespace outreach::server::testing
