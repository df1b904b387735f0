// outreach_enrol and outreach_sync (with its progress callback) through the real
// liboutreach.so against a real outreach-server over TLS on loopback.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "outreach/outreach.h"
#include "tests/support/server_process.h"

namespace {

using Json = nlohmann::json;
using outreach::testing::ServerProcess;
using outreach::testing::TempDir;
using outreach::testing::TestDeployment;

void Record(const outreach_sync_progress* progress, void* user_data) {
  static_cast<std::vector<outreach_sync_progress>*>(user_data)->push_back(*progress);
}

TEST(CApiSyncTest, EnrolThenSyncReportsProgressAndTheServerAcknowledges) {
  TestDeployment deployment;  // one hub
  ServerProcess server(deployment.data, {}, deployment.dir / "server.log");
  ASSERT_NE(server.port(), 0);
  const std::string& ca_pem = deployment.ca_pem;
  TempDir dir;
  outreach_device* device = nullptr;
  ASSERT_EQ(outreach_device_open((dir / "tablet.db").c_str(), nullptr, &device, nullptr), OUTREACH_OK);

  outreach_error* error = nullptr;
  outreach_sync_report report;
  EXPECT_NE(outreach_sync(device, nullptr, nullptr, &report, &error), OUTREACH_OK) << "not enrolled yet";
  ASSERT_NE(error, nullptr);
  EXPECT_NE(std::string(error->message), "");
  outreach_error_free(error);

  char* out = nullptr;
  EXPECT_EQ(outreach_enrol(device, OUTREACH_FORMAT_JSON, server.address().c_str(), ca_pem.c_str(), "NOT-A-CODE",
                           nullptr, &out, nullptr, &error),
            OUTREACH_UNAUTHENTICATED);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(out, nullptr);
  outreach_error_free(error);
  EXPECT_EQ(outreach_enrol(device, OUTREACH_FORMAT_JSON, server.address().c_str(), nullptr, "x", nullptr, &out, nullptr,
                           &error),
            OUTREACH_INVALID_ARGUMENT);
  ASSERT_NE(error, nullptr);
  EXPECT_STREQ(error->field, "ca_pem");
  outreach_error_free(error);

  const std::string code = deployment.IssueCode("adviser", "alex");
  ASSERT_EQ(outreach_enrol(device, OUTREACH_FORMAT_JSON, server.address().c_str(), ca_pem.c_str(), code.c_str(),
                           "tablet", &out, nullptr, &error),
            OUTREACH_OK)
      << (error != nullptr ? error->message : "");
  Json enrolled = Json::parse(out);
  outreach_free(out);
  EXPECT_EQ(enrolled["role"], "adviser");
  EXPECT_EQ(enrolled["user_name"], "alex");
  EXPECT_EQ(enrolled["hub_id"], deployment.hub_id);

  // The hub's partner (programme reference data) arrives with the first sync.
  outreach::testing::CliResult partner =
      outreach::testing::RunCli({"partner", "add", "--data", deployment.data, "--name", "Citizens Advice", "--kind",
                                 "referral_partner", "--hub", deployment.hub_id, "--json"});
  ASSERT_EQ(partner.exit_code, 0) << partner.err;

  const std::string body = R"({"given_name":"Sam","family_name":"Jones","date_of_birth":"1990-02-03"})";
  ASSERT_EQ(
      outreach_participant_register(device, OUTREACH_FORMAT_JSON, body.data(), body.size(), nullptr, nullptr, nullptr),
      OUTREACH_OK);
  std::vector<outreach_sync_progress> seen;
  ASSERT_EQ(outreach_sync(device, Record, &seen, &report, &error), OUTREACH_OK)
      << (error != nullptr ? error->message : "");
  EXPECT_GE(report.pushed, 1u);
  EXPECT_EQ(report.rejected, 0u);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front().phase, OUTREACH_SYNC_CONNECTING);
  EXPECT_EQ(seen.back().phase, OUTREACH_SYNC_DONE);
  EXPECT_EQ(seen.back().pushed, report.pushed);
  EXPECT_GE(seen.back().to_push, 1u);

  ASSERT_EQ(outreach_partners_list(device, OUTREACH_FORMAT_JSON, &out, nullptr, &error), OUTREACH_OK);
  Json partners = Json::parse(out);
  outreach_free(out);
  ASSERT_EQ(partners["records"].size(), 1u) << partners.dump();
  EXPECT_EQ(partners["records"][0]["id"], partner.json()["partner_id"]);
  EXPECT_EQ(partners["records"][0]["name"], "Citizens Advice");
  EXPECT_EQ(partners["records"][0]["kind"], "referral_partner");

  // Nothing left to push; a report pointer is optional.
  ASSERT_EQ(outreach_sync(device, nullptr, nullptr, &report, nullptr), OUTREACH_OK);
  EXPECT_EQ(report.pushed, 0u);
  EXPECT_EQ(outreach_sync(device, nullptr, nullptr, nullptr, nullptr), OUTREACH_OK);
  outreach_device_close(device);
}

}  // namespace
