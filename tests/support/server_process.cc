#include "tests/support/server_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <thread>

#include <gtest/gtest.h>

namespace outreach::testing {
namespace {

#ifdef OUTREACH_TEST_ON_POSTGRES
// The store location of each deployment's data directory (filled by TestDeployment).
std::map<std::string, std::string>& StoreOfData() {
  static std::map<std::string, std::string> stores;
  return stores;
}
#endif

// The server binary and `args`, with --store added when the deployment in --data has a
// database of its own (OUTREACH_TEST_ON_POSTGRES).
std::vector<std::string> ServerArgv(const std::vector<std::string>& args) {
  std::vector<std::string> argv{OUTREACH_SERVER_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
#ifdef OUTREACH_TEST_ON_POSTGRES
  auto data = std::find(argv.begin(), argv.end(), "--data");
  if (data != argv.end() && data + 1 != argv.end() && std::find(argv.begin(), argv.end(), "--store") == argv.end()) {
    auto store = StoreOfData().find(*(data + 1));
    if (store != StoreOfData().end()) {
      argv.push_back("--store");
      argv.push_back(store->second);
    }
  }
#endif
  return argv;
}

// In a child: replaces its stdout/stderr and runs `argv` (null-terminated, made before the
// fork: the child of a threaded process does not allocate). Never returns.
[[noreturn]] void ExecServer(char* const* argv, int stdout_fd, int stderr_fd) {
  ::dup2(stdout_fd, STDOUT_FILENO);
  ::dup2(stderr_fd, STDERR_FILENO);
  ::execv(argv[0], argv);
  ::_exit(127);
}

}  // namespace

Json CliResult::json() const {
  Json parsed = Json::parse(out, nullptr, /*allow_exceptions=*/false);
  EXPECT_TRUE(parsed.is_object()) << "stdout is not one JSON object: " << out << "\nstderr: " << err;
  return parsed.is_object() ? parsed : Json::object();
}

CliResult RunCli(const std::vector<std::string>& args) {
  CliResult result;
  static_cast<ProcessResult&>(result) = RunProcess(ServerArgv(args));
  return result;
}

TestDeployment::TestDeployment() : data(dir / "data") {
#ifdef OUTREACH_TEST_ON_POSTGRES
  auto made = TestDatabase::Create();
  EXPECT_TRUE(made.ok()) << made.status().ToString();
  if (made.ok()) {
    database = std::move(*made);
    StoreOfData()[data] = database->url();
  }
#endif
  CliResult init = RunCli({"init", "--data", data, "--hostname", "localhost", "--json"});
  EXPECT_EQ(init.exit_code, 0) << init.err;
  CliResult hub = RunCli({"hub", "add", "--data", data, "--name", "North Hub", "--json"});
  EXPECT_EQ(hub.exit_code, 0) << hub.err;
  hub_id = hub.json().value("hub_id", "");
  ca_pem = ReadFileOrEmpty(data + "/ca.pem");
}

std::string TestDeployment::IssueCode(const std::string& role, const std::string& name, const std::string& venue,
                                      const std::string& hub) {
  std::vector<std::string> args{"enrol",  "--data", data,     "--hub", hub.empty() ? hub_id : hub,
                                "--role", role,     "--name", name,    "--json"};
  if (!venue.empty()) {
    args.push_back("--venue");
    args.push_back(venue);
  }
  CliResult enrol = RunCli(args);
  EXPECT_EQ(enrol.exit_code, 0) << enrol.err;
  return enrol.json().value("code", "");
}

std::string TestDeployment::AddHub(const std::string& name) {
  CliResult hub = RunCli({"hub", "add", "--data", data, "--name", name, "--json"});
  EXPECT_EQ(hub.exit_code, 0) << hub.err;
  return hub.json().value("hub_id", "");
}

ServerProcess::ServerProcess(const std::string& data, const std::vector<std::string>& extra_args,
                             const std::string& log_path)
    : log_path_(log_path) {
  std::vector<std::string> args{"serve", "--data", data, "--listen", "127.0.0.1:0", "--json"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<std::string> command = ServerArgv(args);
  std::vector<char*> argv;
  for (std::string& a : command) argv.push_back(a.data());
  argv.push_back(nullptr);
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) {
    ADD_FAILURE() << "pipe failed";
    return;
  }
  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::close(pipe_fds[0]);
    ExecServer(argv.data(), pipe_fds[1], log_fd);
  }
  ::close(pipe_fds[1]);
  ::close(log_fd);
  stdout_fd_ = pipe_fds[0];

  // The first stdout line is {"listening":"127.0.0.1:PORT"}.
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{stdout_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[256];
    ssize_t n = ::read(stdout_fd_, buf, sizeof buf);
    if (n <= 0) break;
    line.append(buf, static_cast<size_t>(n));
  }
  Json first = Json::parse(line, nullptr, false);
  const std::string address = first.is_object() ? first.value("listening", "") : "";
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    ADD_FAILURE() << "serve did not print its address; stdout: " << line << "\nlog: " << log();
    return;
  }
  port_ = static_cast<uint16_t>(std::stoi(address.substr(colon + 1)));
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0 && running()) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

bool ServerProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return true;
}

int ServerProcess::Stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(20ms);
  }
  return -1;
}

}  // namespace outreach::testing
