// The `outreach` command line: the real binary on real database files.
//
// The contract (DESIGN.md): one JSON object on stdout with --json, human text otherwise;
// global options anywhere on the line; ids as strings; on failure a non-zero exit, one
// line on stderr naming the field, and nothing stored changed.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace {

using Json = nlohmann::json;
using outreach::testing::ProcessResult;
using outreach::testing::RunProcess;
using outreach::testing::TempDir;

const std::string kVenue = "0190f0c4-7b1e-7cc3-9a2e-1f0e3c5d6b7a";

class CliTest : public ::testing::Test {
 protected:
  ProcessResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), OUTREACH_CLI);
    return RunProcess(args, {{"OUTREACH_USER", "alex"}});
  }
  // Runs `args` on the test database with --json; expects success; the printed object.
  Json Ok(std::vector<std::string> args) {
    args.insert(args.end(), {"--db", db_, "--json"});
    ProcessResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << "one JSON object on one line: " << r.out;
    Json json = Json::parse(r.out, nullptr, false);
    EXPECT_TRUE(json.is_object()) << r.out;
    return json;
  }
  // Runs `args` on the test database; expects a refusal naming `field` in one stderr line
  // and the database unchanged.
  void ExpectRefused(std::vector<std::string> args, const std::string& field) {
    const Json before = Export();
    args.insert(args.end(), {"--db", db_});
    ProcessResult r = Run(args);
    EXPECT_NE(r.exit_code, 0) << r.out;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(field), std::string::npos) << "'" << field << "' not named in: " << r.err;
    EXPECT_EQ(Export(), before) << "a refused command changed the database";
  }
  Json Export() { return Ok({"export", "--format", "json"}); }
  Json AddParticipant(const std::string& given, const std::string& family) {
    return Ok({"participant", "add", "--given-name", given, "--family-name", family, "--date-of-birth", "1990-02-03"});
  }
  Json AddSession(const std::string& today, int capacity) {
    return Ok({"session", "add", "--venue", kVenue, "--kind", "group", "--title", "Job club", "--starts-at",
               today + "T10:00", "--capacity", std::to_string(capacity)});
  }

  TempDir dir_;
  const std::string db_ = dir_ / "device.db";
};

TEST_F(CliTest, ParticipantAddShowUpdateListFind) {
  Json p = AddParticipant("Sam", "Jones");
  ASSERT_TRUE(p["id"].is_string());
  EXPECT_EQ(p["id"].get<std::string>().size(), 36u);
  EXPECT_FALSE(p["reference"].get<std::string>().empty());
  EXPECT_EQ(p["given_name"], "Sam");
  EXPECT_EQ(p["adviser"], "alex");

  EXPECT_EQ(Ok({"participant", "show", p["id"]})["reference"], p["reference"]);
  // Stored E.164 and upper case, shown as a person in the UK dials it.
  Json updated = Ok({"participant", "update", p["id"], "--phone", "+44 113 4960123", "--postcode", "ng1 1aa"});
  EXPECT_EQ(updated["phone"], "0113 496 0123");
  EXPECT_EQ(updated["postcode"], "NG1 1AA");
  EXPECT_EQ(updated["given_name"], "Sam") << "fields not given are kept";
  AddParticipant("Ann", "Lee");
  EXPECT_EQ(Ok({"participant", "list"})["participants"].size(), 2u);
  Json found = Ok({"participant", "find", "--name", "jones"});
  ASSERT_EQ(found["participants"].size(), 1u);
  EXPECT_EQ(found["participants"][0]["phone"], "0113 496 0123");
  EXPECT_EQ(Ok({"participant", "caseload"})["participants"].size(), 2u);
}

TEST_F(CliTest, GlobalOptionsAnywhereAndHumanText) {
  ProcessResult before = Run({"--db", db_, "--json", "participant", "add", "--given-name", "Sam", "--family-name",
                              "Jones", "--date-of-birth", "1990-02-03"});
  ASSERT_EQ(before.exit_code, 0) << before.err;
  ProcessResult middle = Run({"participant", "--json", "list", "--db", db_});
  ASSERT_EQ(middle.exit_code, 0) << middle.err;
  EXPECT_EQ(Json::parse(middle.out)["participants"].size(), 1u);
  ProcessResult human = Run({"participant", "list", "--db", db_});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("given_name: Sam"), std::string::npos) << human.out;
  EXPECT_TRUE(Json::parse(human.out, nullptr, false).is_discarded()) << "human text is not JSON";
}

TEST_F(CliTest, BadInputExitsNonZeroWithOneLineNamingTheField) {
  Json p = AddParticipant("Sam", "Jones");
  const std::string today = p["registered_on"];
  Json session = AddSession(today, 1);

  ExpectRefused({"participant", "add", "--given-name", "Ann", "--family-name", "Lee", "--date-of-birth", "2990-01-01"},
                "date_of_birth");
  ExpectRefused({"participant", "add", "--given-name", "Ann", "--date-of-birth", "1990-01-01"}, "family_name");
  ExpectRefused({"participant", "add", "--given-name", "Ann", "--family-name", "Lee", "--date-of-birth", "1990-13-01"},
                "date_of_birth");
  ExpectRefused({"participant", "add", "--given-name", "Ann", "--family-name", "Lee", "--date-of-birth", "1990-01-01",
                 "--ni-number", "12345"},
                "ni_number");
  ExpectRefused({"participant", "update", p["id"], "--email", "not an address", "--phone", "0115 000"}, "email");
  ExpectRefused({"participant", "update", p["id"], "--phone", "0770090012345"}, "phone");
  ExpectRefused({"participant", "update", p["id"], "--postcode", "hello world"}, "postcode");
  ExpectRefused({"participant", "show", "not-an-id"}, "id");
  ExpectRefused(
      {"session", "add", "--venue", kVenue, "--kind", "party", "--title", "x", "--starts-at", today + "T10:00"},
      "kind");
  ExpectRefused({"session", "add", "--venue", kVenue, "--kind", "group", "--title", "x", "--starts-at",
                 today + "T10:00", "--capacity", "lots"},
                "capacity");
  ExpectRefused({"attend", "--session", "nope", "--participant", p["id"], "--status", "attended"}, "session_id");
  ExpectRefused({"attend", "--session", session["id"], "--participant", p["id"], "--status", "did_not_attend"},
                "reason");
  ExpectRefused({"assess", "--participant", p["id"], "--instrument", "my-journey", "--instrument-version", "1",
                 "--score", "communication"},
                "scores");
  ExpectRefused({"assess", "--participant", p["id"], "--instrument", "my-journey", "--instrument-version", "1",
                 "--score", "communication=9"},
                "scores");
  ExpectRefused({"export", "--format", "csv"}, "format");
  ExpectRefused({"participant", "add", "--nickname", "x"}, "--nickname");

  ProcessResult no_db = Run({"participant", "list"});
  EXPECT_EQ(no_db.exit_code, 2);
  EXPECT_EQ(no_db.err, "outreach: invalid_argument: db: is required (--db FILE)\n");
}

// A file from an older build keeps a stored value that misses its format (its NI number
// uses a prefix HMRC does not allocate); `validation check` lists it, record and rule.
TEST_F(CliTest, ValidationCheckListsStoredValuesThatMissTheirFormat) {
  AddParticipant("Sam", "Jones");
  EXPECT_EQ(Ok({"validation", "check"})["problems"], Json::array());

  const std::string old = dir_ / "older.db";
  std::filesystem::copy_file(OUTREACH_V1_FIXTURE, old);
  ProcessResult r = Run({"validation", "check", "--db", old, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json problems = Json::parse(r.out)["problems"];
  ASSERT_EQ(problems.size(), 1u) << r.out;
  EXPECT_EQ(problems[0]["type"], "participant");
  EXPECT_EQ(problems[0]["field"], "ni_number");
  EXPECT_EQ(problems[0]["value"], "QQ123456C");
  EXPECT_EQ(problems[0]["problem"],
            "'QQ123456C' is not a National Insurance number (two letters, six digits, A-D; e.g. AB123456C)");
  EXPECT_EQ(problems[0]["record_id"].get<std::string>().size(), 36u);
  ProcessResult human = Run({"validation", "check", "--db", old});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("field: ni_number"), std::string::npos) << human.out;
}

// One line of `outreach ARGS --help` that shows `option` (empty when none does).
std::string HelpLine(const std::string& help, const std::string& option) {
  size_t at = help.find("  " + option + " ");
  if (at == std::string::npos) return "";
  size_t end = help.find('\n', at);
  return help.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

TEST_F(CliTest, HelpMarksRequiredOptionsAndGivesForms) {
  ProcessResult add = Run({"participant", "add", "--help"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_NE(HelpLine(add.out, "--date-of-birth").find("YYYY-MM-DD REQUIRED"), std::string::npos) << add.out;
  EXPECT_NE(HelpLine(add.out, "--given-name").find("TEXT REQUIRED"), std::string::npos) << add.out;
  EXPECT_NE(HelpLine(add.out, "--family-name").find("REQUIRED"), std::string::npos) << add.out;
  // Filled in by the library when not given: not required.
  EXPECT_NE(HelpLine(add.out, "--registered-on").find("YYYY-MM-DD"), std::string::npos) << add.out;
  EXPECT_EQ(HelpLine(add.out, "--registered-on").find("REQUIRED"), std::string::npos) << add.out;
  EXPECT_EQ(HelpLine(add.out, "--postcode").find("REQUIRED"), std::string::npos) << add.out;
  EXPECT_NE(HelpLine(add.out, "--referral-date").find("YYYY-MM-DD"), std::string::npos) << add.out;
  EXPECT_NE(HelpLine(add.out, "--venue").find("UUID"), std::string::npos) << add.out;
  EXPECT_NE(HelpLine(add.out, "--from-enquiry").find("UUID"), std::string::npos) << add.out;
  EXPECT_NE(add.out.find("gender: one of female, male"), std::string::npos) << add.out;

  ProcessResult session = Run({"session", "add", "--help"});
  ASSERT_EQ(session.exit_code, 0) << session.err;
  EXPECT_NE(HelpLine(session.out, "--starts-at").find("YYYY-MM-DDTHH:MM REQUIRED"), std::string::npos) << session.out;
  EXPECT_NE(HelpLine(session.out, "--venue").find("UUID REQUIRED"), std::string::npos) << session.out;
  EXPECT_NE(HelpLine(session.out, "--kind").find("CHOICE REQUIRED"), std::string::npos) << session.out;
  EXPECT_NE(session.out.find("kind: one of one_to_one, group, drop_in"), std::string::npos) << session.out;

  ProcessResult enquiry = Run({"enquiry", "--help"});
  ASSERT_EQ(enquiry.exit_code, 0) << enquiry.err;
  EXPECT_NE(HelpLine(enquiry.out, "--consent-to-contact").find("REQUIRED"), std::string::npos) << enquiry.out;
  EXPECT_NE(HelpLine(enquiry.out, "--received-at").find("YYYY-MM-DDTHH:MM"), std::string::npos) << enquiry.out;
  EXPECT_EQ(HelpLine(enquiry.out, "--received-at").find("REQUIRED"), std::string::npos) << enquiry.out;
  EXPECT_NE(HelpLine(enquiry.out, "--phone").find("this or email: one is REQUIRED"), std::string::npos) << enquiry.out;
  EXPECT_EQ(HelpLine(enquiry.out, "--participant"), "") << "set by registering the enquiry, not given";

  // A verb's own required options do not stand in the way of its sub-verbs.
  ProcessResult move = Run({"validation", "move", "--help"});
  EXPECT_EQ(move.exit_code, 0) << move.err;
}

TEST_F(CliTest, AnUnknownVerbNamesTheVerbs) {
  ProcessResult top = Run({"frobnicate", "--db", db_});
  EXPECT_EQ(top.exit_code, 2);
  EXPECT_EQ(top.out, "");
  EXPECT_EQ(top.err.rfind("outreach: unknown verb 'frobnicate'; verbs are: participant, enquiry, session, ", 0), 0u)
      << top.err;
  EXPECT_NE(top.err.find(", instrument, "), std::string::npos) << top.err;
  EXPECT_EQ(std::count(top.err.begin(), top.err.end(), '\n'), 1) << top.err;

  ProcessResult nested = Run({"--db", db_, "participant", "frobnicate"});
  EXPECT_EQ(nested.exit_code, 2);
  EXPECT_EQ(nested.err.rfind("outreach: unknown verb 'frobnicate'; verbs are: add, update, show, ", 0), 0u)
      << nested.err;

  ProcessResult none = Run({"participant", "--db", db_});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_EQ(none.err.rfind("outreach: a verb is required; verbs are: add, ", 0), 0u) << none.err;

  ProcessResult option = Run({"participant", "show", "--db", db_});  // not about a verb: CLI11's own words
  EXPECT_EQ(option.exit_code, 2);
  EXPECT_NE(option.err.find("ID"), std::string::npos) << option.err;
  EXPECT_EQ(option.err.find("verb"), std::string::npos) << option.err;
  EXPECT_FALSE(std::filesystem::exists(db_)) << "nothing opened";
}

TEST_F(CliTest, InstrumentListShowsDomainsAndScaleForAssess) {
  Json list = Ok({"instrument", "list"});
  ASSERT_EQ(list["instruments"].size(), 1u) << list.dump();
  const Json& journey = list["instruments"][0];
  EXPECT_EQ(journey["instrument_id"], "my-journey");
  EXPECT_EQ(journey["version"], 1);
  EXPECT_FALSE(journey["title"].get<std::string>().empty());
  ASSERT_EQ(journey["domains"].size(), 6u);
  EXPECT_EQ(journey["domains"][0]["order"], 1);
  EXPECT_EQ(journey["domains"][0]["key"], "communication");
  EXPECT_FALSE(journey["domains"][0]["label"].get<std::string>().empty());
  EXPECT_EQ(journey["domains"][0]["min"], 1);
  EXPECT_EQ(journey["domains"][0]["max"], 6);

  // What the list shows is what assess takes.
  Json p = AddParticipant("Sam", "Jones");
  std::vector<std::string> assess = {"assess", "--participant", p["id"], "--instrument", "my-journey"};
  for (const Json& domain : journey["domains"]) {
    assess.push_back("--score");
    assess.push_back(domain["key"].get<std::string>() + "=" + std::to_string(domain["max"].get<int>()));
  }
  EXPECT_EQ(Ok(assess)["scores"].size(), 6u);

  ProcessResult unknown =
      Run({"assess", "--participant", p["id"], "--instrument", "my-journey", "--score", "bravery=3", "--db", db_});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("scores: 'bravery' is not a domain of my-journey; its domains are: communication, "),
            std::string::npos)
      << unknown.err;

  ProcessResult human = Run({"instrument", "list", "--db", db_});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("key: communication"), std::string::npos) << human.out;
}

TEST_F(CliTest, EnquiryNeedsConsentAndAnAdviserRegistersIt) {
  const std::vector<std::string> kai = {"enquiry",    "--given-name", "Kai",     "--email", "kai@example.org",
                                        "--interest", "a first job",  "--venue", kVenue};
  ExpectRefused(kai, "consent_to_contact");
  std::vector<std::string> consenting = kai;
  consenting.push_back("--consent-to-contact");
  Json enquiry = Ok(consenting);
  EXPECT_EQ(enquiry["consent_to_contact"], true);
  EXPECT_EQ(enquiry["interest"], "a first job");

  Json open = Ok({"enquiry", "list", "--open"});
  ASSERT_EQ(open["enquiries"].size(), 1u) << open.dump();
  ExpectRefused({"participant", "add", "--from-enquiry", "nope", "--date-of-birth", "1990-02-03"}, "enquiry_id");
  ExpectRefused({"participant", "add", "--from-enquiry", enquiry["id"]}, "family_name");  // the enquiry has none
  ExpectRefused({"participant", "add", "--from-enquiry", enquiry["id"], "--family-name", "Moss"}, "date_of_birth");
  Json person = Ok({"participant", "add", "--from-enquiry", enquiry["id"], "--date-of-birth", "2001-05-06",
                    "--family-name", "Moss"});
  EXPECT_EQ(person["given_name"], "Kai");
  EXPECT_EQ(person["family_name"], "Moss");
  EXPECT_EQ(person["email"], "kai@example.org");
  EXPECT_EQ(person["referral_date"], enquiry["received_at"].get<std::string>().substr(0, 10));
  ExpectRefused({"participant", "add", "--from-enquiry", enquiry["id"], "--date-of-birth", "2001-05-06"}, "enquiry_id");

  EXPECT_TRUE(Ok({"enquiry", "list", "--open"})["enquiries"].empty());
  Json all = Ok({"enquiry", "list"});
  ASSERT_EQ(all["enquiries"].size(), 1u);
  EXPECT_EQ(all["enquiries"][0]["participant"]["id"], person["id"]);
  EXPECT_EQ(all["enquiries"][0]["enquiry"]["participant_id"], person["id"]);
  EXPECT_EQ(all["enquiries"][0]["days_to_registration"], 0);
}

TEST_F(CliTest, SessionBookingAttendanceAndKioskSignIn) {
  Json sam = AddParticipant("Sam", "Jones");
  Json ann = AddParticipant("Ann", "Lee");
  Json kim = AddParticipant("Kim", "Patel");
  const std::string today = sam["registered_on"];
  Json session = AddSession(today, 2);
  EXPECT_EQ(session["capacity"], 2);

  Ok({"book", "--session", session["id"], "--participant", sam["id"]});
  Ok({"book", "--session", session["id"], "--participant", ann["id"]});
  ExpectRefused({"book", "--session", session["id"], "--participant", kim["id"]}, "capacity");

  Json dna = Ok({"attend", "--session", session["id"], "--participant", ann["id"], "--status", "did_not_attend",
                 "--reason", "medical_appointment"});
  EXPECT_EQ(dna["reason"], "medical_appointment");
  EXPECT_EQ(dna["marked_by"], "adviser");
  Json signed_in = Ok({"sign-in", "--session", session["id"], "--reference", sam["reference"]});
  EXPECT_EQ(signed_in["status"], "attended");
  EXPECT_EQ(signed_in["marked_by"], "kiosk");
  ExpectRefused({"sign-in", "--session", session["id"], "--reference", "ZZZZ-9999-Z"}, "reference");

  Json list = Ok({"session", "list", "--venue", kVenue});
  ASSERT_EQ(list["sessions"].size(), 1u);
  const Json& lines = list["sessions"][0]["lines"];
  ASSERT_EQ(lines.size(), 2u);
  int attended = 0;
  for (const Json& line : lines) {
    if (line["attendance"]["status"] == "attended") ++attended;
  }
  EXPECT_EQ(attended, 1);
  EXPECT_EQ(Ok({"session", "list", "--venue", kVenue, "--day", "2001-01-01"})["sessions"].size(), 0u);
}

TEST_F(CliTest, OneVerbPerRecordThroughTheJourney) {
  Json p = AddParticipant("Sam", "Jones");
  const std::string pid = p["id"];

  Json consent = Ok({"consent", "--participant", pid, "--purpose", "share_with_partners", "--wording-version", "v3",
                     "--method", "verbal"});
  EXPECT_EQ(consent["method"], "verbal");
  EXPECT_FALSE(Ok({"consent", "withdraw", consent["id"]})["withdrawn_on"].get<std::string>().empty());
  // Consents the steps below rest on: submitting the file, and the warm handover.
  Ok({"consent", "--participant", pid, "--purpose", "hold_data", "--wording-version", "v3", "--method", "signed"});
  Ok({"consent", "--participant", pid, "--purpose", "share_with_partners", "--wording-version", "v3", "--method",
      "signed"});
  Json evidence = Ok({"evidence", "--participant", pid, "--kind", "benefit_letter"});
  Json validation = Ok({"validation", "--participant", pid, "--evidence", evidence["id"], "--rules-version", "2024-1"});
  EXPECT_EQ(Ok({"validation", "move", validation["id"], "--to", "submitted"})["status"], "submitted");
  // The pre-check is a coordinator's (cli_sync_test takes the file through them).
  ExpectRefused(
      {"validation", "move", validation["id"], "--to", "precheck_returned", "--reason", "no_proof_of_ni,annex_form"},
      "status");
  Json history = Ok({"validation", "history", validation["id"]});
  EXPECT_EQ(history["status"], "submitted");
  ASSERT_EQ(history["moves"].size(), 2u) << history.dump();
  EXPECT_EQ(history["moves"][1]["from_status"], "draft");
  EXPECT_EQ(history["moves"][1]["to_status"], "submitted");
  EXPECT_EQ(history["moves"][1]["moved_by"], "alex");
  ExpectRefused({"validation", "history", pid}, "id");
  EXPECT_TRUE(Ok({"validation", "check", "--participant", pid}).is_object());

  Json barrier = Ok({"barrier", "--participant", pid, "--kind", "childcare"});
  EXPECT_EQ(Ok({"update", barrier["id"], "--set", "status=reduced"})["status"], "reduced");
  ExpectRefused({"update", barrier["id"], "--set", "colour=blue"}, "colour");
  Ok({"segment", "--participant", pid, "--readiness", "amber"});

  std::vector<std::string> assess = {"assess",     "--participant",        pid, "--instrument",
                                     "my-journey", "--instrument-version", "1"};
  for (const char* domain : {"communication", "confidence", "managing_feelings", "reliability",
                             "setting_and_achieving_goals", "working_with_others"}) {
    assess.push_back("--score");
    assess.push_back(std::string(domain) + "=3");
  }
  Json assessment = Ok(assess);
  EXPECT_EQ(assessment["scores"].size(), 6u);
  Json distance = Ok({"distance", "--participant", pid});
  EXPECT_EQ(distance["total_change"], 0) << "one completion: no change yet";
  EXPECT_EQ(distance["domains"].size(), 6u);

  Json plan = Ok({"plan", "--participant", pid});
  Json step = Ok({"plan", "step", "--plan", plan["id"], "--participant", pid, "--description", "Write a CV", "--due-on",
                  "2030-01-31", "--mandatory"});
  EXPECT_EQ(step["mandatory"], true);
  EXPECT_EQ(step["plan_id"], plan["id"]);
  EXPECT_TRUE(Ok({"overdue"}).is_object());

  Ok({"contact", "--participant", pid, "--method", "text", "--result", "no_answer"});
  Json referral =
      Ok({"refer", "--participant", pid, "--kind", "warm_handover", "--partner-name", "Shelter", "--summary", "x"});
  EXPECT_EQ(Ok({"refer", "move", referral["id"], "--to", "accepted"})["status"], "accepted");
  ExpectRefused({"refer", "move", referral["id"], "--to", "made"}, "status");
  Json spend = Ok({"spend", "--participant", pid, "--category", "clothing", "--amount-pence", "2599"});
  EXPECT_EQ(spend["amount_pence"], 2599);
  EXPECT_EQ(spend["requested_by"], "alex");
  // Decided by a coordinator or manager, not the requester (cli_sync_test).
  ExpectRefused({"spend", "decide", spend["id"], "--to", "approved"}, "status");
  Json outcome = Ok({"outcome", "--participant", pid, "--kind", "job_start", "--employer", "Acme", "--hours-per-week",
                     "16.5", "--contract", "permanent", "--evidence", evidence["id"]});
  EXPECT_EQ(outcome["hours_per_week"], 16.5);
  EXPECT_EQ(Ok({"outcome", "move", outcome["id"], "--to", "evidenced"})["status"], "evidenced");
  // A sustainment names its job start (--job-start), and comes 13 weeks after it, not today.
  ExpectRefused({"outcome", "--participant", pid, "--kind", "sustained_13_weeks", "--job-start", outcome["id"]},
                "achieved_on");
  ExpectRefused({"outcome", "--participant", pid, "--kind", "sustained_13_weeks"}, "job_start_id");
  Ok({"note", "--participant", pid, "--sensitivity", "health", "--text", "Back pain; adjust hours."});
  Ok({"exit", "--participant", pid, "--reason", "entered_work", "--destination", "employment"});
  EXPECT_EQ(Ok({"show", pid})["status"], "exited");
  Ok({"reopen", "--participant", pid});
  EXPECT_EQ(Ok({"show", pid})["status"], "active");
  EXPECT_GE(Ok({"participant", "timeline", pid})["entries"].size(), 12u);
  EXPECT_EQ(Ok({"conflicts"})["conflicts"].size(), 0u);

  // Export: every record, ordered by (type, id), the same twice.
  Json all = Export();
  EXPECT_EQ(Export(), all);
  std::vector<std::string> types;
  for (const Json& record : all["records"]) {
    if (types.empty() || types.back() != record["type"]) types.push_back(record["type"]);
  }
  std::vector<std::string> unique = types;
  std::sort(unique.begin(), unique.end());
  EXPECT_EQ(std::unique(unique.begin(), unique.end()), unique.end()) << "each type appears in one run";
  for (const char* type :
       {"participant", "consent", "evidence_item", "validation", "assessment", "barrier", "segment", "action_plan",
        "action_step", "contact_attempt", "referral", "support_spend", "outcome", "case_note", "exit"}) {
    EXPECT_NE(std::find(types.begin(), types.end(), type), types.end()) << type;
  }
}

}  // namespace
