// The outreach-server command line as a contract (DESIGN.md): one JSON object on stdout
// with --json, human text otherwise, global options anywhere, and bad input refused with
// one stderr line naming the field and a non-zero exit, changing nothing.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <utility>
#include <vector>

#include "tests/support/server_harness.h"

namespace outreach::testing {
namespace {

int FileMode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 0777);
}

// A failed command: non-zero exit, nothing on stdout, exactly one stderr line that
// mentions `field`.
void ExpectFailureNaming(const CliResult& result, const std::string& field) {
  EXPECT_NE(result.exit_code, 0);
  EXPECT_TRUE(result.out.empty()) << result.out;
  ASSERT_FALSE(result.err.empty());
  EXPECT_EQ(result.err.back(), '\n');
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_NE(result.err.find(field), std::string::npos) << "stderr does not name '" << field << "': " << result.err;
}

TEST(ServerCliTest, InitCreatesADeploymentAndRefusesToOverwriteIt) {
  TempDir dir;
  const std::string data = dir / "deployment";
  CliResult init = RunCli({"init", "--data", data, "--hostname", "hub.example.org", "--json"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  Json out = init.json();
  EXPECT_EQ(out["data"], data);
  EXPECT_EQ(out["ca"], data + "/ca.pem");
  for (const char* file : {"ca.pem", "server.pem", "ca-key.pem", "server-key.pem", "store.db"}) {
    EXPECT_TRUE(std::filesystem::exists(data + "/" + file)) << file;
  }
  EXPECT_EQ(FileMode(data + "/ca-key.pem"), 0600);
  EXPECT_EQ(FileMode(data + "/server-key.pem"), 0600);

  const std::string ca_before = ReadFileOrEmpty(data + "/ca.pem");
  const std::string key_before = ReadFileOrEmpty(data + "/server-key.pem");
  ExpectFailureNaming(RunCli({"init", "--data", data}), "data");
  EXPECT_EQ(ReadFileOrEmpty(data + "/ca.pem"), ca_before);
  EXPECT_EQ(ReadFileOrEmpty(data + "/server-key.pem"), key_before);
}

TEST(ServerCliTest, GlobalOptionsAreAcceptedBeforeAndAfterTheVerb) {
  TestDeployment deployment;
  CliResult before = RunCli({"--json", "--data", deployment.data, "hub", "add", "--name", "East"});
  ASSERT_EQ(before.exit_code, 0) << before.err;
  EXPECT_TRUE(before.json()["hub_id"].is_string());

  CliResult after = RunCli({"hub", "add", "--name", "West", "--data", deployment.data, "--json"});
  ASSERT_EQ(after.exit_code, 0) << after.err;
  const std::string west = after.json().value("hub_id", "");
  EXPECT_FALSE(west.empty());
  EXPECT_NE(west, before.json().value("hub_id", ""));

  // Without --json: human text, not JSON.
  CliResult human = RunCli({"hub", "add", "--data", deployment.data, "--name", "South"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_EQ(human.out.rfind("hub_id: ", 0), 0u) << human.out;
}

TEST(ServerCliTest, VenueEnrolAndConflictsListSpeakJson) {
  TestDeployment deployment;
  CliResult venue = RunCli({"venue", "add", "--data", deployment.data, "--hub", deployment.hub_id, "--name",
                            "Riverside Children's Centre", "--kind", "childrens_centre", "--json"});
  ASSERT_EQ(venue.exit_code, 0) << venue.err;
  const std::string venue_id = venue.json().value("venue_id", "");
  EXPECT_FALSE(venue_id.empty());
  EXPECT_EQ(venue.json()["kind"], "childrens_centre");

  CliResult kiosk = RunCli({"enrol", "--data", deployment.data, "--hub", deployment.hub_id, "--role", "kiosk", "--name",
                            "Riverside kiosk", "--venue", venue_id, "--json"});
  ASSERT_EQ(kiosk.exit_code, 0) << kiosk.err;
  EXPECT_TRUE(kiosk.json()["code"].is_string());
  EXPECT_FALSE(kiosk.json().value("code", "").empty());

  CliResult conflicts = RunCli({"conflicts", "list", "--hub", deployment.hub_id, "--data", deployment.data, "--json"});
  ASSERT_EQ(conflicts.exit_code, 0) << conflicts.err;
  EXPECT_TRUE(conflicts.json()["conflicts"].is_array());
  EXPECT_TRUE(conflicts.json()["conflicts"].empty());
}

// Issue 16: a programme's quarterly targets, per hub and per partner, set and replaced
// from the command line (the report sets achievements beside them).
TEST(ServerCliTest, AProgrammesQuarterlyTargetsAreSetPerHubOrPartnerAndListed) {
  TestDeployment deployment;
  const std::string& data = deployment.data;
  const std::string& hub = deployment.hub_id;
  const std::string other = deployment.AddHub("Elsewhere");
  CliResult programme =
      RunCli({"programme", "add", "--data", data, "--name", "BBO", "--funder", "ESF", "--hub", hub, "--json"});
  ASSERT_EQ(programme.exit_code, 0) << programme.err;
  const std::string id = programme.json()["programme_id"].get<std::string>();
  auto partner_in = [&](const std::string& in) {
    CliResult p = RunCli({"partner", "add", "--data", data, "--name", "Partner of " + in, "--kind", "delivery_partner",
                          "--hub", in, "--json"});
    EXPECT_EQ(p.exit_code, 0) << p.err;
    return p.json()["partner_id"].get<std::string>();
  };
  const std::string ours = partner_in(hub), theirs = partner_in(other);

  ASSERT_EQ(RunCli({"target", "add", "--data", data, "--programme", id, "--quarter", "2026-Q3", "--hub", hub,
                    "--starts", "40", "--women-percent", "55", "--job-starts", "10"})
                .exit_code,
            0);
  ASSERT_EQ(RunCli({"target", "add", "--data", data, "--programme", id, "--quarter", "2026-Q3", "--partner", ours,
                    "--starts", "12", "--spend-pence", "250000"})
                .exit_code,
            0);
  CliResult replaced = RunCli({"target", "add", "--data", data, "--programme", id, "--quarter", "2026-Q3", "--hub", hub,
                               "--starts", "45", "--json"});
  ASSERT_EQ(replaced.exit_code, 0) << replaced.err;
  const Json targets = replaced.json()["targets"];
  ASSERT_EQ(targets.size(), 2u) << targets.dump();
  EXPECT_EQ(targets[0]["hub_id"], hub);
  EXPECT_EQ(targets[0]["starts"], 45);
  EXPECT_EQ(targets[0]["women_percent"], 0);  // replaced whole, not merged
  EXPECT_EQ(targets[1]["partner_id"], ours);
  EXPECT_EQ(targets[1]["spend_pence"], 250000);
  CliResult listed = RunCli({"target", "list", "--data", data, "--programme", id, "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(listed.json()["targets"], targets);

  auto add = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{"target", "add", "--data", data, "--programme", id};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunCli(args);
  };
  ExpectFailureNaming(add({"--quarter", "2026-Q5", "--hub", hub}), "quarter");
  ExpectFailureNaming(add({"--quarter", "2026-Q1", "--hub", hub, "--partner", ours}), "hub_id");
  ExpectFailureNaming(add({"--quarter", "2026-Q1"}), "hub_id");
  ExpectFailureNaming(add({"--quarter", "2026-Q1", "--hub", other}), "hub_id");
  ExpectFailureNaming(add({"--quarter", "2026-Q1", "--partner", theirs}), "partner_id");
  ExpectFailureNaming(add({"--quarter", "2026-Q1", "--hub", hub, "--women-percent", "120"}), "women_percent");
}

TEST(ServerCliTest, BadInputIsOneStderrLineNamingTheField) {
  TestDeployment deployment;
  const std::string& data = deployment.data;
  const std::string& hub = deployment.hub_id;
  ExpectFailureNaming(
      RunCli({"venue", "add", "--data", data, "--hub", "not-an-id", "--name", "V", "--kind", "library"}), "hub");
  ExpectFailureNaming(RunCli({"venue", "add", "--data", data, "--hub", hub, "--name", "V", "--kind", "castle"}),
                      "kind");
  ExpectFailureNaming(RunCli({"enrol", "--data", data, "--hub", hub, "--role", "wizard", "--name", "N"}), "role");
  ExpectFailureNaming(
      RunCli({"enrol", "--data", data, "--hub", hub, "--role", "adviser", "--name", "N", "--venue", "nowhere"}),
      "venue");
  ExpectFailureNaming(RunCli({"hub", "add", "--data", data}), "--name");
  ExpectFailureNaming(RunCli({"partner", "add", "--data", data, "--hub", hub, "--name", "P", "--kind", "charity"}),
                      "kind");
  ExpectFailureNaming(RunCli({"partner", "add", "--data", data, "--hub", hub, "--name", "P", "--kind", "employer",
                              "--starts-on", "2026-05-01", "--ends-on", "2026-04-30"}),
                      "ends_on");
  ExpectFailureNaming(RunCli({"partner", "add", "--data", data, "--hub", hub, "--name", "P", "--kind", "employer",
                              "--starts-on", "2026-02-30"}),
                      "starts_on");
  ExpectFailureNaming(RunCli({"partner", "add", "--data", data, "--name", "P", "--kind", "employer"}), "--hub");
  ExpectFailureNaming(RunCli({"partner", "update", "--data", data, "--id", hub, "--name", "Q"}), "partner_id");
  ExpectFailureNaming(RunCli({"device", "revoke", "--data", data, "--device", "12"}), "device");
  ExpectFailureNaming(RunCli({"conflicts", "resolve", "--data", data, "--hub", hub, "--conflict",
                              "0190f0c4-7b1e-7cc3-9a2e-1f0e3c5d6b7a", "--keep", "both", "--by", "Sam"}),
                      "keep");
  ExpectFailureNaming(RunCli({"serve", "--data", data, "--listen", "nowhere"}), "listen");
  ExpectFailureNaming(RunCli({"serve", "--data", data, "--listen", "127.0.0.1:0", "--max-connections", "0"}),
                      "max_connections");
  for (auto [flag, field] : std::vector<std::pair<std::string, std::string>>{
           {"--hello-timeout-ms", "hello_timeout"},
           {"--max-session-ms", "max_session"},
           {"--max-unwelcomed-per-address", "max_unwelcomed_per_address"},
           {"--revocation-check-ms", "revocation_check_interval"},
           {"--enrol-failures-before-delay", "enrol_failures_before_delay"},
           {"--enrol-max-delay-ms", "enrol_max_delay"}}) {
    ExpectFailureNaming(RunCli({"serve", "--data", data, "--listen", "127.0.0.1:0", flag, "0"}), field);
  }
  ExpectFailureNaming(RunCli({"serve", "--data", data, "--listen", "127.0.0.1:0", "--max-unwelcomed", "-1"}),
                      "max_unwelcomed");
  CliResult unknown = RunCli({"frobnicate", "--data", data});
  ExpectFailureNaming(unknown, "frobnicate");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(unknown.err.rfind("outreach-server: invalid_argument: unknown verb 'frobnicate'; verbs are: init, hub, "
                              "venue, programme, partner, target, instrument, caseload, enrol, serve, ",
                              0),
            0u)
      << unknown.err;
  CliResult nested = RunCli({"hub", "frobnicate", "--data", data});
  EXPECT_EQ(nested.err, "outreach-server: invalid_argument: unknown verb 'frobnicate'; verbs are: add\n");
  CliResult none = RunCli({"device", "--data", data});
  EXPECT_EQ(none.err, "outreach-server: invalid_argument: a verb is required; verbs are: list, revoke\n");

  // A directory that holds no deployment is named, and not turned into one.
  TempDir empty;
  ExpectFailureNaming(RunCli({"hub", "add", "--data", empty.path(), "--name", "X"}), "data");
  EXPECT_FALSE(std::filesystem::exists(empty / "store.db"));

  // Nothing was added by the failures: still only the one hub's worth of devices (none).
  CliResult list = RunCli({"device", "list", "--data", data, "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(list.json()["devices"].empty());
}

// ---------------------------------------------------------------- the remembered store

// `init --store` records the location in the data directory: later commands on it use
// that store without --store, and the SQLite default is not created.
TEST(ServerCliTest, InitRecordsTheStoreAndLaterCommandsUseIt) {
  TempDir dir;
  const std::string data = dir / "deployment";
  const std::string elsewhere = dir / "elsewhere.db";
  CliResult init = RunCli({"init", "--data", data, "--hostname", "localhost", "--store", elsewhere, "--json"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_EQ(init.json()["store"], elsewhere);
  EXPECT_EQ(FileMode(data + "/store"), 0600);  // a URL may carry a password
  EXPECT_EQ(ReadFileOrEmpty(data + "/store"), elsewhere + "\n");

  CliResult hub = RunCli({"hub", "add", "--data", data, "--name", "North", "--json"});
  ASSERT_EQ(hub.exit_code, 0) << hub.err;
  CliResult code =
      RunCli({"enrol", "--data", data, "--hub", hub.json().value("hub_id", ""), "--role", "adviser", "--name", "Ann"});
  ASSERT_EQ(code.exit_code, 0) << code.err;
  EXPECT_FALSE(std::filesystem::exists(data + "/store.db"));
  EXPECT_TRUE(std::filesystem::exists(elsewhere));

  // The same store named again (as a path, or sqlite:PATH) is accepted.
  EXPECT_EQ(RunCli({"device", "list", "--data", data, "--store", elsewhere}).exit_code, 0);
  EXPECT_EQ(RunCli({"device", "list", "--data", data, "--store", "sqlite:" + elsewhere}).exit_code, 0);
  // Another one is refused, naming --store, and not created.
  ExpectFailureNaming(RunCli({"hub", "add", "--data", data, "--name", "X", "--store", data + "/store.db"}), "--store");
  EXPECT_FALSE(std::filesystem::exists(data + "/store.db"));
}

// A deployment on the default store refuses a --store naming another one.
TEST(ServerCliTest, AStoreOtherThanTheDeploymentsIsRefusedNamingStore) {
  TempDir dir;
  const std::string data = dir / "deployment";
  ASSERT_EQ(RunCli({"init", "--data", data, "--hostname", "localhost"}).exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(data + "/store"));
  CliResult refused = RunCli({"hub", "add", "--data", data, "--name", "X", "--store", dir / "other.db"});
  ExpectFailureNaming(refused, "--store");
  EXPECT_NE(refused.err.find(data + "/store.db"), std::string::npos) << refused.err;  // names the deployment's store
  EXPECT_FALSE(std::filesystem::exists(dir / "other.db"));
  ExpectFailureNaming(RunCli({"serve", "--data", data, "--listen", "127.0.0.1:0", "--store", dir / "other.db"}),
                      "--store");
  EXPECT_EQ(RunCli({"hub", "add", "--data", data, "--name", "Y", "--store", data + "/store.db"}).exit_code, 0);
}

// `store copy --data DIR --to NEW --switch` moves the deployment: its data is copied and
// its later commands use NEW.
TEST(ServerCliTest, StoreCopySwitchMovesTheDeploymentToTheNewStore) {
  TestDeployment deployment;
  const std::string& data = deployment.data;
  const std::string old_store = ReadFileOrEmpty(data + "/store");  // empty: the default DATA/store.db
#ifdef OUTREACH_TEST_ON_POSTGRES
  auto target_db = TestDatabase::Create();
  ASSERT_TRUE(target_db.ok()) << target_db.status().ToString();
  const std::string target = (*target_db)->url();
#else
  const std::string target = deployment.dir / "moved.db";
#endif
  // Without --data, --switch has no deployment to move.
  ExpectFailureNaming(RunCli({"store", "copy", "--to", target, "--switch"}), "data");

  CliResult copy = RunCli({"store", "copy", "--data", data, "--to", target, "--switch", "--json"});
  ASSERT_EQ(copy.exit_code, 0) << copy.err;
  EXPECT_EQ(copy.json()["hubs"], 1);
  EXPECT_EQ(copy.json()["switched"], true);
  EXPECT_EQ(ReadFileOrEmpty(data + "/store"), target + "\n");
  EXPECT_NE(ReadFileOrEmpty(data + "/store"), old_store);

  // Commands now reach the new store: the hub is there, and what is added lands there.
  CliResult code = RunCli({"enrol", "--data", data, "--hub", deployment.hub_id, "--role", "adviser", "--name", "Bo",
                           "--store", target, "--json"});
  ASSERT_EQ(code.exit_code, 0) << code.err;
  CliResult venue = RunCli({"venue", "add", "--data", data, "--hub", deployment.hub_id, "--name", "Library", "--kind",
                            "library", "--store", target, "--json"});
  ASSERT_EQ(venue.exit_code, 0) << venue.err;
  ServerProcess server(data, {"--store", target}, deployment.dir / "server.log");
  ASSERT_NE(server.port(), 0) << server.log();
  Result<v1::Envelope> enrolled = [&]() -> Result<v1::Envelope> {
    TestPeer peer(server.port(), {.ca_pem = deployment.ca_pem});
    OUTREACH_RETURN_IF_ERROR(peer.Connect());
    OUTREACH_RETURN_IF_ERROR(peer.Send(EnrolEnvelope(code.json().value("code", ""))));
    return peer.Receive();
  }();
  ASSERT_TRUE(enrolled.ok()) << enrolled.status().ToString();
  EXPECT_TRUE(enrolled->has_enrolled()) << enrolled->ShortDebugString();
  EXPECT_EQ(server.Stop(), 0) << server.log();
}

#ifdef OUTREACH_TEST_ON_POSTGRES
// On PostgreSQL: `init --store postgresql://...` once; hub add, enrol, device list and
// serve on the data directory then reach that database without --store.
TEST(ServerCliTest, APostgresDeploymentIsReachedWithoutRepeatingStore) {
  auto db = TestDatabase::Create();
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto other = TestDatabase::Create();
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  TempDir dir;
  const std::string data = dir / "deployment";  // not a TestDeployment: the harness adds no --store
  CliResult init = RunCli({"init", "--data", data, "--hostname", "localhost", "--store", (*db)->url(), "--json"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_EQ(init.json()["store"], (*db)->url());
  CliResult hub = RunCli({"hub", "add", "--data", data, "--name", "North", "--json"});
  ASSERT_EQ(hub.exit_code, 0) << hub.err;
  const std::string hub_id = hub.json().value("hub_id", "");
  CliResult code = RunCli({"enrol", "--data", data, "--hub", hub_id, "--role", "adviser", "--name", "Ann", "--json"});
  ASSERT_EQ(code.exit_code, 0) << code.err;
  EXPECT_FALSE(std::filesystem::exists(data + "/store.db"));
  auto hubs = (*db)->Query("SELECT count(*) FROM hubs");
  ASSERT_TRUE(hubs.ok()) << hubs.status().ToString();
  EXPECT_EQ(*hubs, "1");

  ServerProcess server(data, {}, dir / "server.log");
  ASSERT_NE(server.port(), 0) << server.log();
  TestPeer peer(server.port(), {.ca_pem = ReadFileOrEmpty(data + "/ca.pem")});
  ASSERT_TRUE(peer.Connect().ok());
  ASSERT_TRUE(peer.Send(EnrolEnvelope(code.json().value("code", ""))).ok());
  Result<v1::Envelope> enrolled = peer.Receive();
  ASSERT_TRUE(enrolled.ok()) << enrolled.status().ToString();
  EXPECT_TRUE(enrolled->has_enrolled()) << enrolled->ShortDebugString();
  peer.Close();
  EXPECT_EQ(server.Stop(), 0) << server.log();

  CliResult list = RunCli({"device", "list", "--data", data, "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.json()["devices"].size(), 1u);

  // Another database named with --store is refused before anything touches it.
  ExpectFailureNaming(RunCli({"hub", "add", "--data", data, "--name", "X", "--store", (*other)->url()}), "--store");
  auto tables = (*other)->Query("SELECT count(*) FROM pg_tables WHERE tablename = 'hubs'");
  ASSERT_TRUE(tables.ok()) << tables.status().ToString();
  EXPECT_EQ(*tables, "0");
}
#endif

}  // namespace
}  // namespace outreach::testing
