// `outreach enrol` and `outreach sync` against a real `outreach-server` over TLS on
// loopback: two advisers' devices enrol, one registers a participant and syncs, the other
// syncs and has them. Refusals (bad code, unreadable CA, no enrolment) are one line. A
// kiosk's enquiry reaches the hub's adviser and manager, never another kiosk.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/server_process.h"

namespace {

using Json = nlohmann::json;
using outreach::testing::CliResult;
using outreach::testing::ProcessResult;
using outreach::testing::RunCli;
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

// Priya's eligibility file from the command line: the adviser submits it, the hub
// coordinator returns it and passes it, the adviser may not accept it, the manager does;
// every move is kept on the device, and the server's audit trail has every change.
TEST_F(CliSyncTest, AFileGoesFromAdviserToCoordinatorToManagerAndItsHistoryIsKept) {
  ASSERT_NE(server_.port(), 0);
  const std::string address = server_.address();
  const std::string ca = deployment_.ca_path();
  const std::string a = dir_ / "a.db";
  const std::string c = dir_ / "c.db";
  const std::string m = dir_ / "m.db";
  DeviceOk(a, {"enrol", "--server", address, "--ca", ca, "--code", deployment_.IssueCode("adviser", "alex")});
  Json coordinator =
      DeviceOk(c, {"enrol", "--server", address, "--ca", ca, "--code", deployment_.IssueCode("coordinator", "casey")});
  EXPECT_EQ(coordinator["role"], "coordinator");
  DeviceOk(m, {"enrol", "--server", address, "--ca", ca, "--code", deployment_.IssueCode("manager", "mo")});
  auto sync = [&](std::initializer_list<std::string> dbs) {
    for (const std::string& db : dbs) EXPECT_EQ(DeviceOk(db, {"sync"})["rejected"], 0) << db;
  };

  Json priya = DeviceOk(
      a, {"participant", "add", "--given-name", "Priya", "--family-name", "Shah", "--date-of-birth", "1991-03-14"});
  const std::string pid = priya["id"];
  DeviceOk(
      a, {"consent", "--participant", pid, "--purpose", "hold_data", "--wording-version", "v3", "--method", "signed"});
  Json passport = DeviceOk(a, {"evidence", "--participant", pid, "--kind", "passport"});
  Json file =
      DeviceOk(a, {"validation", "--participant", pid, "--evidence", passport["id"], "--rules-version", "2026-04"});
  const std::string id = file["id"];
  DeviceOk(a, {"validation", "move", id, "--to", "submitted"});
  sync({a, c});

  ExpectOneLineNaming(Device(c, {"validation", "move", id, "--to", "precheck_returned"}), "rejection_reasons");
  Json returned =
      DeviceOk(c, {"validation", "move", id, "--to", "precheck_returned", "--reason", "no_proof_of_ni,annex_form"});
  EXPECT_EQ(returned["prechecked_by"], "casey");
  sync({c, a});
  DeviceOk(a, {"validation", "move", id, "--to", "submitted"});
  sync({a, c});
  DeviceOk(c, {"validation", "move", id, "--to", "precheck_passed"});
  sync({c, a});
  // The adviser may not accept; the refusal says who may.
  ProcessResult own = Device(a, {"validation", "move", id, "--to", "accepted"});
  ExpectOneLineNaming(own, "status");
  EXPECT_NE(own.err.find("only a manager may"), std::string::npos) << own.err;
  sync({m});
  Json accepted = DeviceOk(m, {"validation", "move", id, "--to", "accepted"});
  EXPECT_EQ(accepted["decided_by"], "mo");
  sync({m, a});

  Json history = DeviceOk(a, {"validation", "history", id});
  EXPECT_EQ(history["status"], "accepted");
  std::vector<std::string> trail;
  for (const Json& move : history["moves"]) {
    trail.push_back(move.value("from_status", "") + ">" + move.value("to_status", "") + " " +
                    move.value("moved_by", ""));
  }
  EXPECT_EQ(trail, (std::vector<std::string>{">draft alex", "draft>submitted alex", "submitted>precheck_returned casey",
                                             "precheck_returned>submitted alex", "submitted>precheck_passed casey",
                                             "precheck_passed>accepted mo"}));
  EXPECT_EQ(history["moves"][2]["reasons"], Json::array({"no_proof_of_ni", "annex_form"}));

  // Spend: refused without a reason, approved by the coordinator.
  Json spend = DeviceOk(a, {"spend", "--participant", pid, "--category", "clothing", "--amount-pence", "2599"});
  sync({a, c});
  ExpectOneLineNaming(Device(c, {"spend", "decide", spend["id"], "--to", "refused"}), "refusal_reason");
  EXPECT_EQ(DeviceOk(c, {"spend", "decide", spend["id"], "--to", "approved"})["decided_by"], "casey");
  sync({c});

  // The server's audit trail: every change of the file, who made it, from which device.
  CliResult audit = RunCli({"audit", "--data", deployment_.data, "--record", id, "--json"});
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  Json trail_json = audit.json();
  EXPECT_EQ(trail_json["type"], "validation");
  std::vector<std::string> status_changes;
  for (const Json& change : trail_json["changes"]) {
    EXPECT_FALSE(change["device_id"].get<std::string>().empty());
    if (change["field"] == "status")
      status_changes.push_back(change["author"].get<std::string>() + ":" + change["new"].get<std::string>());
  }
  EXPECT_EQ(status_changes.size(), 6u) << audit.out;
  EXPECT_EQ(status_changes.back(), "mo:VALIDATION_STATUS_ACCEPTED") << audit.out;
  CliResult unknown = RunCli({"audit", "--data", deployment_.data, "--record", spend["id"].get<std::string>() + "x"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("record"), std::string::npos) << unknown.err;
}

TEST_F(CliSyncTest, AKiosksEnquiryReachesAdvisersNotOtherKiosksAndIsRegistered) {
  ASSERT_NE(server_.port(), 0);
  const std::string address = server_.address();
  const std::string ca = deployment_.ca_path();
  outreach::testing::CliResult venue =
      outreach::testing::RunCli({"venue", "add", "--data", deployment_.data, "--hub", deployment_.hub_id, "--name",
                                 "Central Library", "--kind", "library", "--json"});
  ASSERT_EQ(venue.exit_code, 0) << venue.err;
  const std::string venue_id = venue.json()["venue_id"];
  const std::string kiosk = dir_ / "kiosk.db";
  const std::string other_kiosk = dir_ / "other-kiosk.db";  // the same venue
  const std::string adviser = dir_ / "adviser.db";
  const std::string manager = dir_ / "manager.db";
  DeviceOk(kiosk, {"enrol", "--server", address, "--ca", ca, "--code",
                   deployment_.IssueCode("kiosk", "Library kiosk", venue_id)});
  DeviceOk(other_kiosk, {"enrol", "--server", address, "--ca", ca, "--code",
                         deployment_.IssueCode("kiosk", "Library kiosk 2", venue_id)});
  DeviceOk(adviser, {"enrol", "--server", address, "--ca", ca, "--code", deployment_.IssueCode("adviser", "alex")});
  DeviceOk(manager, {"enrol", "--server", address, "--ca", ca, "--code", deployment_.IssueCode("manager", "mo")});

  const std::vector<std::string> ann = {"enquiry", "--given-name",  "Ann",        "--family-name",  "Lee",
                                        "--phone", "0113 496 0789", "--interest", "help with a CV", "--venue",
                                        venue_id};
  ExpectOneLineNaming(Device(kiosk, ann), "consent_to_contact");
  std::vector<std::string> with_consent = ann;
  with_consent.push_back("--consent-to-contact");
  Json enquiry = DeviceOk(kiosk, with_consent);
  EXPECT_EQ(enquiry["consent_to_contact"], true);
  EXPECT_EQ(enquiry["source"], "self");
  ExpectOneLineNaming(Device(kiosk, {"enquiry", "list"}), "");  // a kiosk lists no one's enquiries
  Json pushed = DeviceOk(kiosk, {"sync"});
  EXPECT_EQ(pushed["pushed"], 1);
  EXPECT_EQ(pushed["rejected"], 0);

  DeviceOk(manager, {"sync"});
  Json at_manager = DeviceOk(manager, {"enquiry", "list"});
  ASSERT_EQ(at_manager["enquiries"].size(), 1u) << at_manager.dump();
  EXPECT_EQ(at_manager["enquiries"][0]["enquiry"]["interest"], "help with a CV");

  DeviceOk(adviser, {"sync"});
  Json open = DeviceOk(adviser, {"enquiry", "list", "--open"});
  ASSERT_EQ(open["enquiries"].size(), 1u) << open.dump();
  EXPECT_EQ(open["enquiries"][0]["enquiry"]["id"], enquiry["id"]);
  EXPECT_FALSE(open["enquiries"][0].contains("days_to_registration"));
  Json registered = DeviceOk(adviser, {"participant", "add", "--from-enquiry", enquiry["id"], "--date-of-birth",
                                       "1990-02-03", "--postcode", "NG1 1AA"});
  EXPECT_EQ(registered["given_name"], "Ann");
  EXPECT_EQ(registered["family_name"], "Lee");
  EXPECT_EQ(registered["referral_source"], "self");
  EXPECT_EQ(registered["adviser"], "alex");
  ExpectOneLineNaming(
      Device(adviser, {"participant", "add", "--from-enquiry", enquiry["id"], "--date-of-birth", "1990-02-03"}),
      "enquiry_id");
  Json converted = DeviceOk(adviser, {"enquiry", "list"});
  ASSERT_EQ(converted["enquiries"].size(), 1u);
  EXPECT_EQ(converted["enquiries"][0]["enquiry"]["participant_id"], registered["id"]);
  EXPECT_EQ(converted["enquiries"][0]["participant"]["id"], registered["id"]);
  EXPECT_EQ(converted["enquiries"][0]["days_to_registration"], 0) << "recorded and registered today";
  EXPECT_TRUE(DeviceOk(adviser, {"enquiry", "list", "--open"})["enquiries"].empty());
  Json synced = DeviceOk(adviser, {"sync"});
  EXPECT_EQ(synced["pushed"], 2) << "the registration and the enquiry's link";
  EXPECT_EQ(synced["rejected"], 0);

  DeviceOk(manager, {"sync"});
  Json linked = DeviceOk(manager, {"show", enquiry["id"]});
  EXPECT_EQ(linked["participant_id"], registered["id"]);
  EXPECT_EQ(DeviceOk(manager, {"enquiry", "list"})["enquiries"][0]["days_to_registration"], 0);

  // The other kiosk, at the same venue, receives neither the enquiry nor anything it says
  // about the person.
  DeviceOk(other_kiosk, {"sync"});
  Json at_other = DeviceOk(other_kiosk, {"export"});
  for (const Json& record : at_other["records"]) EXPECT_NE(record["type"], "enquiry") << record.dump();
  const std::string held = at_other.dump();
  EXPECT_EQ(held.find("help with a CV"), std::string::npos) << held;
  EXPECT_EQ(held.find("4960789"), std::string::npos) << held;  // the phone number, in any form
}

}  // namespace
