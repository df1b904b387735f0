// `outreach enrol` and `outreach sync` against a real `outreach-server` over TLS on
// loopback: two advisers' devices enrol, one registers a participant and syncs, the other
// syncs and has them. Refusals (bad code, unreadable CA, no enrolment) are one line.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/unit/capi/run_process.h"

namespace {

using Json = nlohmann::json;
using outreach::testing::BackgroundProcess;
using outreach::testing::ProcessResult;
using outreach::testing::RunProcess;
using outreach::testing::TempDir;

class CliSyncTest : public ::testing::Test {
 protected:
  Json Server(std::vector<std::string> args) {
    args.insert(args.begin(), OUTREACH_SERVER);
    args.insert(args.end(), {"--data", data_, "--json"});
    ProcessResult r = RunProcess(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Json::parse(r.out, nullptr, false);
  }
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
  const std::string data_ = dir_.File("server");
};

TEST_F(CliSyncTest, TwoDevicesEnrolAndSyncThroughARealServer) {
  Json init = Server({"init", "--hostname", "127.0.0.1"});
  const std::string ca = init["ca"];
  const std::string hub = Server({"hub", "add", "--name", "North"})["hub_id"];
  const std::string code_a = Server({"enrol", "--hub", hub, "--role", "adviser", "--name", "alex"})["code"];
  const std::string code_b = Server({"enrol", "--hub", hub, "--role", "adviser", "--name", "bo"})["code"];
  BackgroundProcess server({OUTREACH_SERVER, "serve", "--data", data_, "--listen", "127.0.0.1:0", "--json"});
  Json listening = Json::parse(server.ReadLine(30000), nullptr, false);
  ASSERT_TRUE(listening.contains("listening")) << listening;
  const std::string address = listening["listening"];

  const std::string a = dir_.File("a.db");
  const std::string b = dir_.File("b.db");
  ExpectOneLineNaming(Device(a, {"sync"}), "");  // not enrolled yet: refused, one line
  ExpectOneLineNaming(Device(a, {"enrol", "--server", address, "--ca", dir_.File("missing.pem"), "--code", code_a}),
                      "ca");
  ExpectOneLineNaming(Device(a, {"enrol", "--server", address, "--ca", ca, "--code", "WRONG-CODE"}), "code");

  Json enrolled = DeviceOk(a, {"enrol", "--server", address, "--ca", ca, "--code", code_a, "--name", "tablet-a"});
  EXPECT_EQ(enrolled["role"], "adviser");
  EXPECT_EQ(enrolled["hub_id"], hub);
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

}  // namespace
