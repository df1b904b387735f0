// A stuck transaction must not hang a sync: the real outreach-server on PostgreSQL, a
// device (liboutreach) pushing while another session (plain libpq, as a stalled server
// process or an administrator's psql would) holds its hub's row lock. The push is refused
// with SERVER_BUSY within the lock timeout, the change stays in the device's outbox, and the next
// sync after the lock is released delivers it.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <chrono>

#include "client/journey/device_internals.h"
#include "outreach/device.h"
#include "outreach/sync.h"
#include "tests/support/server_harness.h"
#include "tests/unit/server/postgres/test_database.h"

namespace outreach::testing {
namespace {

// Runs `sql` on `conn`; fails the test on an error.
void Exec(PGconn* conn, const std::string& sql) {
  PGresult* r = PQexec(conn, sql.c_str());
  EXPECT_TRUE(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK)
      << sql << ": " << PQresultErrorMessage(r);
  PQclear(r);
}

TEST(HubLockTest, APushBlockedByAStuckTransactionFailsWithinTheLockTimeoutThenSyncs) {
  auto made = TestDatabase::Create();
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  TestDatabase& db = **made;
  TempDir dir;
  const std::string data = dir / "data";
  ASSERT_EQ(RunCli({"init", "--data", data, "--hostname", "localhost", "--store", db.url()}).exit_code, 0);
  CliResult hub = RunCli({"hub", "add", "--data", data, "--name", "North", "--json"});
  ASSERT_EQ(hub.exit_code, 0) << hub.err;
  const std::string hub_id = hub.json().value("hub_id", "");
  CliResult code = RunCli({"enrol", "--data", data, "--hub", hub_id, "--role", "adviser", "--name", "Ann", "--json"});
  ASSERT_EQ(code.exit_code, 0) << code.err;
  // The operator's way to shorten the store's default (15 s): a setting on the database.
  ASSERT_TRUE(db.Query("ALTER DATABASE " + db.name() + " SET lock_timeout = '500ms'").ok());

  ServerProcess server(data, {}, dir / "server.log");
  ASSERT_NE(server.port(), 0) << server.log();
  DeviceOptions options;
  options.path = dir / "tablet.db";
  options.user_name = "Ann";
  auto device = Device::Open(options);
  ASSERT_TRUE(device.ok()) << device.status().ToString();
  EnrolOptions enrol;
  enrol.server = "127.0.0.1:" + std::to_string(server.port());
  enrol.ca_pem = ReadFileOrEmpty(data + "/ca.pem");
  enrol.code = code.json().value("code", "");
  ASSERT_TRUE(Enrol(**device, enrol).ok());
  v1::Participant person;
  person.set_given_name("Sam");
  person.set_family_name("Stuck");
  person.set_date_of_birth("1990-01-02");
  ASSERT_TRUE((*device)->RegisterParticipant(person).ok());

  PGconn* holder = PQconnectdb(db.url().c_str());
  ASSERT_EQ(PQstatus(holder), CONNECTION_OK) << PQerrorMessage(holder);
  Exec(holder, "BEGIN");
  Exec(holder, "SELECT hub_id FROM hubs FOR UPDATE");  // the only hub

  auto logged_before = db.Query("SELECT count(*) FROM change_log");
  ASSERT_TRUE(logged_before.ok());
  const auto start = std::chrono::steady_clock::now();
  Result<SyncReport> blocked = Sync(**device);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(blocked.ok());
  // The server answers a busy store with Refusal SERVER_BUSY (retry later), which the
  // device reports as kUnavailable "server busy: ..." rather than a protocol error.
  EXPECT_EQ(blocked.status().code(), ErrorCode::kUnavailable) << blocked.status().ToString();
  EXPECT_NE(blocked.status().message().find("server busy"), std::string::npos) << blocked.status().ToString();
  EXPECT_NE(blocked.status().message().find("lock_timeout"), std::string::npos) << blocked.status().ToString();
  EXPECT_LT(seconds, 10.0);  // the lock timeout, not the device's 30 s network deadline
  auto pending = StoreOf(**device).PendingChanges(100);
  ASSERT_TRUE(pending.ok());
  EXPECT_FALSE(pending->empty()) << "the refused push left the outbox";
  auto logged = db.Query("SELECT count(*) FROM change_log");
  ASSERT_TRUE(logged.ok());
  EXPECT_EQ(*logged, *logged_before);  // nothing of the push was written

  Exec(holder, "ROLLBACK");
  PQfinish(holder);
  Result<SyncReport> after = Sync(**device);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->pushed, pending->size());
  pending = StoreOf(**device).PendingChanges(100);
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty());
  EXPECT_EQ(server.Stop(), 0) << server.log();
}

}  // namespace
}  // namespace outreach::testing
