// `outreach enrol` and `outreach sync` against a real `outreach-server` over TLS on
// loopback: two advisers' devices enrol, one registers a participant and syncs, the other
// syncs and has them. Refusals (bad code, unreadable CA, no enrolment) are one line.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/server_process.h"

namespace {

using Json = nlohmann::json;
using outreach::testing::ProcessResult;
using outreach::testing::RunProcess;
using outreach::testing::ServerProcess;
using outreach::testing::TempDir;
using outreach::testing::TestDeployment;

class CliSyncTest : public ::testing::Test {
 protected:
  ProcessResult Device(const std::string& db, std::vector<std::string> args) {
    args.insert(args.begin(), OUTREACH_CLI);
    args.insert(args.end(), {"--db", db, "--json"});
    return RunProcess(args);
  }
  Json DeviceOk(const std::string& db, std::vector<std::string> args) {
    ProcessResult r = Device(db, std::move(args));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    return Json::parse(r.out, nullptr, false);
  }
  static void ExpectOneLineNaming(const ProcessResult& r, const std::string& field) {
    EXPECT_NE(r.exit_code, 0);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(field), std::string::npos) << r.err;
  }

  TempDir dir_;
  TestDeployment deployment_;  // one hub
  ServerProcess server_{deployment_.data, {}, deployment_.dir / "server.log"};
};

TEST_F(CliSyncTest, TwoDevicesEnrolAndSyncThroughARealServer) {
  ASSERT_NE(server_.port(), 0);
  const std::string address = server_.address();
  const std::string ca = deployment_.ca_path();
  const std::string code_a = deployment_.IssueCode("adviser", "alex");
  const std::string code_b = deployment_.IssueCode("adviser", "bo");

  const std::string a = dir_ / "a.db";
  const std::string b = dir_ / "b.db";
  ExpectOneLineNaming(Device(a, {"sync"}), "");  // not enrolled yet: refused, one line
  ExpectOneLineNaming(Device(a, {"enrol", "--server", address, "--ca", dir_ / "missing.pem", "--code", code_a}), "ca");
  ExpectOneLineNaming(Device(a, {"enrol", "--server", address, "--ca", ca, "--code", "WRONG-CODE"}), "code");

  Json enrolled = DeviceOk(a, {"enrol", "--server", address, "--ca", ca, "--code", code_a, "--name", "tablet-a"});
  EXPECT_EQ(enrolled["role"], "adviser");
  EXPECT_EQ(enrolled["hub_id"], deployment_.hub_id);
  DeviceOk(b, {"enrol", "--server", address, "--ca", ca, "--code", code_b});

  Json sam = DeviceOk(
      a, {"participant", "add", "--given-name", "Sam", "--family-name", "Jones", "--date-of-birth", "1990-02-03"});
  Json pushed = DeviceOk(a, {"sync"});
  EXPECT_GE(pushed["pushed"], 1);
  EXPECT_EQ(pushed["rejected"], 0);
  EXPECT_EQ(pushed["conflicts"], 0);
  for (const char* key : {"pushed", "pulled", "conflicts", "rejected"}) EXPECT_TRUE(pushed.contains(key)) << key;

  Json pulled = DeviceOk(b, {"sync"});
  EXPECT_GE(pulled["pulled"], 1);
  Json on_b = DeviceOk(b, {"participant", "show", sam["id"]});
  EXPECT_EQ(on_b["given_name"], "Sam");
  EXPECT_EQ(on_b["reference"], sam["reference"]);
  EXPECT_EQ(DeviceOk(a, {"sync"})["pushed"], 0) << "nothing left in the outbox";
}

TEST_F(CliSyncTest, ManagerMergesADuplicateAndErasesAPersonFromTheCommandLine) {
  ASSERT_NE(server_.port(), 0);
  const std::string address = server_.address();
  const std::string ca = deployment_.ca_path();
  const std::string a = dir_ / "a.db";
  const std::string m = dir_ / "m.db";
  DeviceOk(a, {"enrol", "--server", address, "--ca", ca, "--code", deployment_.IssueCode("adviser", "alex")});
  DeviceOk(m, {"enrol", "--server", address, "--ca", ca, "--code", deployment_.IssueCode("manager", "mo")});
  Json first = DeviceOk(
      a, {"participant", "add", "--given-name", "Dan", "--family-name", "Okafor", "--date-of-birth", "1987-07-22"});
  Json second = DeviceOk(
      a, {"participant", "add", "--given-name", "dan", "--family-name", "OKAFOR", "--date-of-birth", "1987-07-22"});
  Json gone = DeviceOk(
      a, {"participant", "add", "--given-name", "Erin", "--family-name", "Zelenkova", "--date-of-birth", "1970-01-01"});
  DeviceOk(a, {"sync"});
  DeviceOk(m, {"sync"});

  Json reviews = DeviceOk(m, {"duplicates"});
  ASSERT_EQ(reviews["duplicates"].size(), 1u) << reviews.dump();
  const std::string review = reviews["duplicates"][0]["id"];
  ExpectOneLineNaming(Device(m, {"duplicates", "decide", review, "--decision", "merged", "--keep", gone["id"]}),
                      "kept_participant_id");
  ExpectOneLineNaming(Device(m, {"duplicates", "decide", review, "--decision", "maybe"}), "decision");
  Json decided = DeviceOk(m, {"duplicates", "decide", review, "--decision", "merged", "--keep", first["id"]});
  EXPECT_EQ(decided["status"], "merged");
  Json erased = DeviceOk(m, {"participant", "erase", gone["id"]});
  EXPECT_EQ(erased["erased"], true);
  EXPECT_EQ(DeviceOk(m, {"sync"})["rejected"], 0);

  DeviceOk(a, {"sync"});
  EXPECT_TRUE(DeviceOk(a, {"duplicates"})["duplicates"].empty());
  Json merged = DeviceOk(a, {"participant", "show", second["id"]});
  EXPECT_EQ(merged["status"], "merged");
  EXPECT_EQ(merged["merged_into"], first["id"]);
  Json after = DeviceOk(a, {"show", gone["id"]});
  EXPECT_EQ(after["erased"], true);
  EXPECT_FALSE(after.contains("family_name") && after["family_name"] == "Zelenkova");
  ExpectOneLineNaming(Device(a, {"participant", "erase", "not-an-id"}), "id");
}

}  // namespace
