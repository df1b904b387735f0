// The server harness, first half: the real outreach-server as a process. Run its command
// line (RunCli), make a deployment with one hub (TestDeployment), start `serve` as a child
// process (ServerProcess). Every test that needs a real server starts it through here
// (integration, sync, faults, security, and the C API and `outreach` CLI tests, which link
// only this half: no copy of the project's protobuf code beside liboutreach.so's);
// server_harness.h adds a device's side of the wire.
//
// Built twice (tests/support/CMakeLists.txt): outreach_test_server_process for the SQLite
// store, and outreach_test_server_process_postgres, which defines OUTREACH_TEST_ON_POSTGRES
// for itself and its users: every deployment then gets a database of its own on the test
// PostgreSQL, and every command run on its data directory gets `--store` for it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/process.h"
#ifdef OUTREACH_TEST_ON_POSTGRES
#include "tests/unit/server/postgres/test_database.h"
#endif

namespace outreach::testing {

using Json = nlohmann::json;
using namespace std::chrono_literals;

// One run of `outreach-server ARGS...`.
struct CliResult : ProcessResult {
  // stdout parsed as JSON (fails the test if it is not one JSON object).
  Json json() const;
};
CliResult RunCli(const std::vector<std::string>& args);

// A deployment made through the command line: init + one hub.
struct TestDeployment {
  TempDir dir;
  std::string data;    // dir/data
  std::string hub_id;  // the first hub
  std::string ca_pem;
#ifdef OUTREACH_TEST_ON_POSTGRES
  // Built for PostgreSQL: the deployment's store is a database of its own on the test
  // cluster, and every command and server run with `--data data` gets `--store` for it.
  std::unique_ptr<TestDatabase> database;
#endif

  TestDeployment();
  // The CA certificate devices pin (ca_pem's file).
  std::string ca_path() const {
    return data + "/ca.pem";
  }
  // `outreach-server enrol` (for `hub`, default hub_id); returns the one-time code.
  std::string IssueCode(const std::string& role = "adviser", const std::string& name = "Alex Adviser",
                        const std::string& venue = "", const std::string& hub = "");
  // `outreach-server hub add`; returns the new hub's id.
  std::string AddHub(const std::string& name);
};

// `outreach-server serve --data DATA --listen 127.0.0.1:0 --json EXTRA...` as a child
// process. Its stderr (the log) goes to a file.
class ServerProcess {
 public:
  ServerProcess(const std::string& data, const std::vector<std::string>& extra_args, const std::string& log_path);
  ~ServerProcess();  // SIGKILL if still running

  uint16_t port() const { return port_; }
  // "127.0.0.1:PORT", as a device is told to reach it.
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // SIGTERM, then waits; the exit status (-1 if it did not exit within `timeout`).
  int Stop(std::chrono::milliseconds timeout = 10s);
  bool running();
  // How the process ended when running() found it gone (-1 while it runs).
  int exit_status() const { return exit_status_; }
  std::string log() const { return ReadFileOrEmpty(log_path_); }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  uint16_t port_ = 0;
  int exit_status_ = -1;
  std::string log_path_;
};

}  // namespace outreach::testing
