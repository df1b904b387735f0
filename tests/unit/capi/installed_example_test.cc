// The installed package as an app sees it: `cmake --install` the liboutreach component
// into a temporary prefix, build client/examples/kiosk_signin.c against it twice (a
// separate CMake project with find_package(Outreach), and a plain compiler line from
// pkg-config), and run both against a database prepared with the `outreach` command line.
// The pkg-config line is only -loutreach: that it links proves protobuf, SQLite and
// OpenSSL stay private to the shared library. outreach.h is the only header installed.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace {

using Json = nlohmann::json;
using outreach::testing::ProcessResult;
using outreach::testing::RunProcess;
using outreach::testing::TempDir;

const std::string kVenue = "01900000-0000-7000-8000-00000000a11e";

std::vector<std::string> Words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

class InstalledPackageTest : public ::testing::Test {
 protected:
  Json Cli(std::vector<std::string> args) {
    args.insert(args.begin(), OUTREACH_CLI);
    args.insert(args.end(), {"--db", db_, "--json"});
    ProcessResult r = RunProcess(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Json::parse(r.out, nullptr, false);
  }
  // The attendance row of `participant_id` in today's first session, or null.
  Json AttendanceOf(const Json& participant_id) {
    Json sessions = Cli({"session", "list", "--venue", kVenue})["sessions"];
    if (sessions.empty()) return nullptr;
    for (const Json& line : sessions[0]["lines"]) {
      if (line["participant"]["id"] == participant_id && line.contains("attendance")) return line["attendance"];
    }
    return nullptr;
  }
  void ExpectSignedInByKiosk(const Json& participant_id) {
    Json attendance = AttendanceOf(participant_id);
    ASSERT_TRUE(attendance.is_object()) << "no attendance recorded";
    EXPECT_EQ(attendance["status"], "attended");
    EXPECT_EQ(attendance["marked_by"], "kiosk");
  }

  TempDir dir_;
  const std::string prefix_ = dir_ / "prefix";
  const std::string db_ = dir_ / "kiosk.db";
};

TEST_F(InstalledPackageTest, ExampleBuildsAgainstTheInstalledTreeAndSignsAPersonIn) {
  ProcessResult install =
      RunProcess({OUTREACH_CMAKE, "--install", OUTREACH_BUILD_DIR, "--prefix", prefix_, "--component", "liboutreach"});
  ASSERT_EQ(install.exit_code, 0) << install.out << install.err;
  // The C API's header is the only one installed: the C++ API (outreach/device.h,
  // outreach/sync.h) is for in-tree use and has no stable ABI.
  std::vector<std::string> headers;
  const std::filesystem::path includedir = std::filesystem::path(prefix_) / OUTREACH_INSTALL_INCLUDEDIR;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(includedir)) {
    if (!entry.is_directory()) headers.push_back(std::filesystem::relative(entry.path(), includedir).string());
  }
  EXPECT_EQ(headers, std::vector<std::string>{"outreach/outreach.h"});

  // The day at the venue, prepared through the command line.
  Json sam =
      Cli({"participant", "add", "--given-name", "Sam", "--family-name", "Jones", "--date-of-birth", "1990-02-03"});
  Json ann =
      Cli({"participant", "add", "--given-name", "Ann", "--family-name", "Lee", "--date-of-birth", "1988-11-30"});
  const std::string today = sam["registered_on"];
  Json session = Cli({"session", "add", "--venue", kVenue, "--kind", "drop_in", "--title", "Drop-in", "--starts-at",
                      today + "T09:30"});
  ASSERT_TRUE(session["id"].is_string());

  // 1. A separate CMake project: find_package(Outreach) -> Outreach::outreach.
  const std::string build = dir_ / "example-build";
  ProcessResult configure =
      RunProcess({OUTREACH_CMAKE, "-S", OUTREACH_EXAMPLES_DIR, "-B", build, "-G", OUTREACH_CMAKE_GENERATOR,
                  "-DCMAKE_PREFIX_PATH=" + prefix_, "-DCMAKE_C_COMPILER=" OUTREACH_C_COMPILER,
                  "-DCMAKE_C_FLAGS=" OUTREACH_EXAMPLE_C_FLAGS});
  ASSERT_EQ(configure.exit_code, 0) << configure.out << configure.err;
  ProcessResult compile = RunProcess({OUTREACH_CMAKE, "--build", build});
  ASSERT_EQ(compile.exit_code, 0) << compile.out << compile.err;

  ProcessResult signin = RunProcess(
      {build + "/kiosk_signin", "--db", db_, "--venue", kVenue, "--reference", sam["reference"].get<std::string>()});
  ASSERT_EQ(signin.exit_code, 0) << signin.out << signin.err;
  EXPECT_NE(signin.out.find("Drop-in"), std::string::npos) << "lists today's sessions: " << signin.out;
  ExpectSignedInByKiosk(sam["id"]);
  EXPECT_TRUE(AttendanceOf(ann["id"]).is_null()) << "only the person who signed in";

  // 2. pkg-config: the compiler line an app's Makefile would use.
  const std::string libdir = prefix_ + "/" + OUTREACH_INSTALL_LIBDIR;
  ProcessResult flags =
      RunProcess({OUTREACH_PKG_CONFIG, "--cflags", "--libs", "outreach"}, {{"PKG_CONFIG_PATH", libdir + "/pkgconfig"}});
  ASSERT_EQ(flags.exit_code, 0) << flags.err;
  EXPECT_EQ(flags.out.find("protobuf"), std::string::npos) << flags.out;
  const std::string binary = dir_ / "kiosk_signin_pc";
  std::vector<std::string> cc = {OUTREACH_C_COMPILER, "-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror"};
  for (const std::string& flag : Words(OUTREACH_EXAMPLE_C_FLAGS)) cc.push_back(flag);
  cc.insert(cc.end(), {std::string(OUTREACH_EXAMPLES_DIR) + "/kiosk_signin.c", "-o", binary});
  for (const std::string& flag : Words(flags.out)) cc.push_back(flag);
  ProcessResult cc_result = RunProcess(cc);
  ASSERT_EQ(cc_result.exit_code, 0) << cc_result.err;

  const std::map<std::string, std::string> runtime = {{"LD_LIBRARY_PATH", libdir}};
  ProcessResult wrong = RunProcess(
      {binary, "--db", db_, "--venue", kVenue, "--reference", "ZZZZ-9999-Z", "--session", session["id"]}, runtime);
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("reference"), std::string::npos) << wrong.err;
  ProcessResult second = RunProcess({binary, "--db", db_, "--venue", kVenue, "--reference",
                                     ann["reference"].get<std::string>(), "--session", session["id"]},
                                    runtime);
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  ExpectSignedInByKiosk(ann["id"]);
}

}  // namespace
