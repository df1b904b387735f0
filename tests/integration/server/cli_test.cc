// The outreach-server command line as a contract (DESIGN.md): one JSON object on stdout
// with --json, human text otherwise, global options anywhere, and bad input refused with
// one stderr line naming the field and a non-zero exit, changing nothing.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "tests/integration/server/server_harness.h"

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
  ExpectFailureNaming(RunCli({"device", "revoke", "--data", data, "--device", "12"}), "device");
  ExpectFailureNaming(RunCli({"conflicts", "resolve", "--data", data, "--hub", hub, "--conflict",
                              "0190f0c4-7b1e-7cc3-9a2e-1f0e3c5d6b7a", "--keep", "both", "--by", "Sam"}),
                      "keep");
  ExpectFailureNaming(RunCli({"serve", "--data", data, "--listen", "nowhere"}), "listen");
  ExpectFailureNaming(RunCli({"serve", "--data", data, "--listen", "127.0.0.1:0", "--max-connections", "0"}),
                      "max_connections");
  ExpectFailureNaming(RunCli({"frobnicate", "--data", data}), "frobnicate");

  // A directory that holds no deployment is named, and not turned into one.
  TempDir empty;
  ExpectFailureNaming(RunCli({"hub", "add", "--data", empty.path(), "--name", "X"}), "data");
  EXPECT_FALSE(std::filesystem::exists(empty / "store.db"));

  // Nothing was added by the failures: still only the one hub's worth of devices (none).
  CliResult list = RunCli({"device", "list", "--data", data, "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(list.json()["devices"].empty());
}

}  // namespace
}  // namespace outreach::testing
