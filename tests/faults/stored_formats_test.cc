// Devices upgraded to schema version 5 (client/store/stored_formats.h) put the values the
// hub holds from before formats were checked in their normal form: every device that does
// sends the same ordinary edit, the server takes it once without a conflict, and the
// server and every device, one enrolled afterwards too, converge on one form.
#include <gtest/gtest.h>

#include "client/journey/device_internals.h"
#include "common/sqlite/database.h"
#include "server/service/reconciler.h"
#include "server/store/sqlite_store.h"
#include "tests/faults/fault_suite.h"

namespace outreach::testing {
namespace {

class StoredFormatsTest : public FaultSuiteTest {
 protected:
  static v1::Participant Person(const std::string& given, const std::string& phone) {
    v1::Participant p;
    p.set_given_name(given);
    p.set_family_name("Okafor");
    p.set_date_of_birth("1990-05-01");
    p.set_phone(phone);
    return p;
  }
  // The device's file back at schema version 4, opened by this build.
  void Upgrade(FieldDevice& d) {
    d.device.reset();
    {
      auto db = sqlite::Database::Open(d.path, {});
      ASSERT_TRUE(db.ok()) << db.status().ToString();
      ASSERT_TRUE((*db)->Exec("PRAGMA user_version=4").ok());
    }
    Reopen(d);
  }
};

TEST_F(StoredFormatsTest, DevicesNormalisingTheSameValueConvergeWithTheServer) {
  // What the server holds from an older build, before it starts.
  const Uuid hub = *Uuid::Parse(deployment_.hub_id);
  const Uuid messy = Uuid::NewV7(), unparseable = Uuid::NewV7();
  {
    Result<std::unique_ptr<server::SqliteStore>> store = server::SqliteStore::Open(deployment_.data + "/store.db");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    HybridClock clock;
    Status planted = (*store)->Transact([&](server::StoreTxn& txn) {
      server::Reconciler reconciler(txn, clock, 60000);
      v1::Participant p = Person("Messy", "0113 496 0123");
      p.set_postcode("ls1 4ap");
      OUTREACH_RETURN_IF_ERROR(reconciler.CreateServerRecord(hub, messy, v1::RECORD_TYPE_PARTICIPANT, p).status());
      return reconciler
          .CreateServerRecord(hub, unparseable, v1::RECORD_TYPE_PARTICIPANT, Person("Unparseable", "0770090012345"))
          .status();
    });
    ASSERT_TRUE(planted.ok()) << planted.ToString();
  }
  StartServer();
  FieldDevice ann = NewDevice("ann"), bob = NewDevice("bob");
  SyncUntilDone(ann);
  SyncUntilDone(bob);
  ASSERT_EQ(bob->Get(messy)->participant().phone(), "0113 496 0123");

  Upgrade(ann);
  Upgrade(bob);
  EXPECT_EQ(ann->Get(messy)->participant().phone(), "+441134960123");
  EXPECT_EQ(*StoreOf(*bob).PendingCount(), 1u);  // the normalisation, queued like any edit
  SyncUntilDone(ann);
  SyncUntilDone(bob);
  SyncUntilDone(ann);
  FieldDevice cat = NewDevice("cat");
  SyncUntilDone(cat);

  for (FieldDevice* d : {&ann, &bob, &cat}) {
    SCOPED_TRACE(d->name);
    const v1::Participant held = (*d)->Get(messy)->participant();
    EXPECT_EQ(held.phone(), "+441134960123");
    EXPECT_EQ(held.postcode(), "LS1 4AP");
    EXPECT_EQ((*d)->Get(unparseable)->participant().phone(), "0770090012345");  // kept, and listed
    ASSERT_EQ((*d)->StoredFormatProblems()->size(), 1u);
    EXPECT_TRUE((*d)->RejectedChanges()->empty());
    EXPECT_TRUE(StoreOf(**d).RecordsOfType(v1::RECORD_TYPE_CONFLICT)->empty()) << "identical values conflicted";
    EXPECT_EQ(*StoreOf(**d).PendingCount(), 0u);
  }
  ExpectSameState(ann, bob);
  ExpectSameState(ann, cat);
  CheckNothingLostOrDuplicated({&ann, &bob, &cat}, ann);
}

}  // namespace
}  // namespace outreach::testing
