// CopyStore on real stores: a hub's SQLite store, filled through the real service
// (enrolments, pushes, a conflict, a rejected change, an unused code, a revoked device),
// copied to PostgreSQL and back to a new SQLite file. All three hold the same rows, and a
// service on the copy goes on where the original stopped (dedupe, next sequence number).
#include "server/store/store_copy.h"

#include <gtest/gtest.h>

#include "server/store/postgres_store.h"
#include "tests/unit/server/postgres/test_database.h"
#include "tests/unit/server/server_fixture.h"

namespace outreach::server::testing {
namespace {

using outreach::testing::TestDatabase;

std::string Hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

// Everything a store holds, as text, through the Store interface.
std::string Dump(Store& store) {
  std::string out;
  Status st = store.Transact([&](StoreTxn& txn) -> Status {
    out.clear();
    auto hubs = txn.ListHubs();
    if (!hubs.ok()) return hubs.status();
    for (const HubRow& h : *hubs) {
      out += "hub " + h.hub_id.ToString() + " " + h.name + " " + std::to_string(h.created_at_ms) + " " +
             std::to_string(h.last_seq) + "\n";
      for (int t = 1; t < v1::RecordType_descriptor()->value_count(); ++t) {
        auto type = static_cast<v1::RecordType>(v1::RecordType_descriptor()->value(t)->number());
        auto records = txn.ListRecordsByType(h.hub_id, type);
        if (!records.ok()) return records.status();
        for (const StoredRecord& r : *records) {
          out += "record " + r.record.ShortDebugString() + " p=" + r.participant_id.ToString();
          for (const auto& [field, v] : r.versions) {
            out += " v" + std::to_string(field) + "=" + std::to_string(v.hlc.value()) + "/" + v.origin.ToString();
          }
          for (const std::string& key : r.keys) out += " k=" + key;
          out += "\n";
          auto audit = txn.ListAudit(*Uuid::FromBytes(r.record.id()));
          if (!audit.ok()) return audit.status();
          for (const AuditRow& a : *audit) {
            out += "  audit " + std::to_string(a.at_ms) + " " + a.device_id.ToString() + " " + a.author + " " +
                   std::to_string(a.field) + " " + Hex(a.old_value) + " " + Hex(a.new_value) + " " +
                   std::to_string(a.server_seq) + "\n";
          }
        }
      }
      auto log = txn.ReadLog(h.hub_id, 0, 1000000);
      if (!log.ok()) return log.status();
      for (const v1::Change& c : *log) out += "log " + c.ShortDebugString() + "\n";
    }
    auto devices = txn.ListDevices(Uuid());
    if (!devices.ok()) return devices.status();
    for (const DeviceRow& d : *devices) {
      out += "device " + d.device_id.ToString() + " " + d.hub_id.ToString() + " " + std::to_string(d.role) + " " +
             d.venue_id.ToString() + " " + d.user_name + " " + d.device_name + " " + d.reference_prefix + " " +
             Hex(d.credential_hash) + " " + std::to_string(d.revoked) + " " + std::to_string(d.enrolled_at_ms) + " " +
             std::to_string(d.last_sync_ms) + "\n";
      auto ledger = txn.ReadLedger(d.device_id, 0, 1000000);
      if (!ledger.ok()) return ledger.status();
      for (const auto& [seq, e] : *ledger) {
        out += "  ledger " + std::to_string(seq) + " " + std::to_string(e.outcome) + " " +
               std::to_string(e.server_seq) + " " + e.reason + " " + e.field + "\n";
      }
    }
    auto codes = txn.ListEnrolmentCodes();
    if (!codes.ok()) return codes.status();
    for (const EnrolmentCodeRow& c : *codes) {
      out += "code " + Hex(c.code_hash) + " " + c.hub_id.ToString() + " " + std::to_string(c.role) + " " + c.user_name +
             " " + c.venue_id.ToString() + " " + std::to_string(c.expires_at_ms) + " " + std::to_string(c.used) + "\n";
    }
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

class StoreCopyTest : public ServerTest {
 protected:
  // A day at the hub, through the real service on the SQLite store.
  void FillTheHub() {
    ann_ = Enrol(v1::ROLE_ADVISER, "Ann");
    bob_ = Enrol(v1::ROLE_ADVISER, "Bob");
    TestDevice kiosk = Enrol(v1::ROLE_KIOSK, "Kiosk", centre_);
    participant_ = Uuid::NewV7();
    v1::Participant sam;
    sam.set_given_name("Sam");
    sam.set_family_name("Jones");
    sam.set_date_of_birth("1985-02-03");
    ASSERT_EQ(PushOne(ann_, Upsert(ann_, participant_, v1::RECORD_TYPE_PARTICIPANT, sam)).outcome(),
              v1::CHANGE_OUTCOME_APPLIED);
    const uint64_t base = VersionOf(participant_, FieldNumber(v1::Participant::descriptor(), "given_name"));
    const uint32_t phone = FieldNumber(v1::Participant::descriptor(), "phone");
    v1::Participant a, b;
    a.set_phone("+441134960001");
    b.set_phone("+441134960002");
    PushOne(ann_, Upsert(ann_, participant_, v1::RECORD_TYPE_PARTICIPANT, a, {{phone, base}}));
    PushOne(bob_, Upsert(bob_, participant_, v1::RECORD_TYPE_PARTICIPANT, b, {{phone, base}}));
    v1::Change bad = Upsert(bob_, Uuid::NewV7(), v1::RECORD_TYPE_PARTICIPANT, sam);
    bad.set_device_seq(0);
    EXPECT_EQ(PushOne(bob_, bad).outcome(), v1::CHANGE_OUTCOME_REJECTED);
    ASSERT_TRUE(admin_->IssueEnrolmentCode(hub_, v1::ROLE_MANAGER, "Manager", Uuid()).ok());
    ASSERT_TRUE(admin_->RevokeDevice(kiosk.ctx.device_id).ok());
  }

  TestDevice ann_, bob_;
  Uuid participant_;
};

TEST_F(StoreCopyTest, SqliteToPostgresqlAndBackKeepsEveryRow) {
  FillTheHub();
  const std::string original = Dump(service_->store());
  ASSERT_NE(original.find("ledger"), std::string::npos);
  ASSERT_NE(original.find("audit"), std::string::npos);
  ASSERT_NE(original.find("code "), std::string::npos);

  auto db = TestDatabase::Create();
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto pg = OpenStore((*db)->url());
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  auto there = CopyStore(service_->store(), **pg);
  ASSERT_TRUE(there.ok()) << there.status().ToString();
  EXPECT_EQ(there->hubs, 1u);
  EXPECT_EQ(there->devices, 3u);
  EXPECT_GT(there->changes, 3u);
  EXPECT_GT(there->ledger_entries, 2u);
  EXPECT_GT(there->audit_rows, 0u);
  EXPECT_EQ(Dump(**pg), original);

  auto back = OpenStore("sqlite:" + (dir_ / "back.db").string());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  auto again = CopyStore(**pg, **back);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(Dump(**back), original);

  // Copying into a store that is in use is refused, and changes nothing there.
  auto refused = CopyStore(service_->store(), **pg);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().field(), "to");
  EXPECT_EQ(Dump(**pg), original);

  // A service on the PostgreSQL copy goes on where the SQLite one stopped: Ann's last
  // push is a duplicate there, and her next change takes the next number.
  const uint64_t last = Log(hub_).back().server_seq();
  service_ = std::make_unique<SyncService>(std::move(*pg), "-----CA PEM-----");
  admin_ = std::make_unique<Administration>(service_->store());
  ann_.next_seq = 1;
  v1::Participant sam;
  sam.set_given_name("Sam");
  EXPECT_EQ(PushOne(ann_, Upsert(ann_, participant_, v1::RECORD_TYPE_PARTICIPANT, sam)).outcome(),
            v1::CHANGE_OUTCOME_DUPLICATE);
  ann_.next_seq = 100;
  v1::Participant moved;
  moved.set_postcode("NG1 1AA");
  v1::ChangeResult next = PushOne(ann_, Upsert(ann_, participant_, v1::RECORD_TYPE_PARTICIPANT, moved));
  EXPECT_EQ(next.outcome(), v1::CHANGE_OUTCOME_APPLIED);
  EXPECT_EQ(next.server_seq(), last + 1);
}

TEST_F(StoreCopyTest, AFailedCopyLeavesTheTargetEmpty) {
  FillTheHub();
  auto db = TestDatabase::Create();
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto pg = OpenStore((*db)->url());
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  // The target refuses audit rows, the last thing copied for a hub: the copy must stop
  // there and leave nothing of what it wrote before.
  auto broken = (*db)->Query("ALTER TABLE audit ADD CONSTRAINT no_audit CHECK (false)");
  ASSERT_TRUE(broken.ok()) << broken.status().ToString();
  auto copy = CopyStore(service_->store(), **pg);
  ASSERT_FALSE(copy.ok());
  EXPECT_EQ(copy.status().code(), ErrorCode::kIoError);
  EXPECT_EQ(*(*db)->Query("SELECT count(*) FROM hubs"), "0");
  EXPECT_EQ(*(*db)->Query("SELECT count(*) FROM change_log"), "0");
}

}  // namespace
}  // namespace outreach::server::testing
