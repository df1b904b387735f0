// Test harness for the real outreach-server: run its command line, start `serve` as a
// child process, and talk to it over TLS like a device would (TestPeer). Nothing here
// replaces project code: the server is the built binary, the peer uses the project's
// TLS contexts and frame codec.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/asio.h"
#include "common/status.h"
#include "common/tls.h"
#include "outreach/v1/sync.pb.h"
#ifdef OUTREACH_TEST_ON_POSTGRES
#include "tests/unit/server/postgres/test_database.h"
#endif

namespace outreach::testing {

using Json = nlohmann::json;
using namespace std::chrono_literals;

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string ReadFileOrEmpty(const std::string& path);

// One run of `outreach-server ARGS...`.
struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
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
  // `outreach-server enrol`; returns the one-time code.
  std::string IssueCode(const std::string& role = "adviser", const std::string& name = "Alex Adviser",
                        const std::string& venue = "");
};

// `outreach-server serve --data DATA --listen 127.0.0.1:0 --json EXTRA...` as a child
// process. Its stderr (the log) goes to a file.
class ServerProcess {
 public:
  ServerProcess(const std::string& data, const std::vector<std::string>& extra_args, const std::string& log_path);
  ~ServerProcess();  // SIGKILL if still running

  uint16_t port() const { return port_; }
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

// A device's side of one connection, with a deadline on every step.
class TestPeer {
 public:
  struct Options {
    std::string ca_pem;              // the CA to pin
    std::string host = "127.0.0.1";  // the name the server certificate must carry
    bool offer_alpn = true;
    std::chrono::milliseconds timeout = 5s;
    // The local address to connect from (e.g. "127.0.0.7": Linux accepts any 127.x.y.z
    // on loopback), so tests can be many peers; empty: the system's choice.
    std::string bind_address{};
  };
  TestPeer(uint16_t port, Options options);
  ~TestPeer();

  // TCP connect + TLS handshake (+ ALPN check when offered).
  Status Connect();
  // TCP only: for peers that never speak TLS.
  Status ConnectPlain();

  Status Send(const v1::Envelope& envelope);
  Status SendRaw(const std::string& bytes);  // over TLS if connected so, else plain TCP
  // The next frame; an error if the connection closed or nothing came in time.
  Result<v1::Envelope> Receive();
  // True if the server closes the connection within `within` (reading and discarding
  // anything it still sends); false if it is still open then.
  bool WaitClosed(std::chrono::milliseconds within);
  void Close();

 private:
  // Runs one async operation with the deadline; the operation's error (timed_out on expiry).
  template <typename Start>
  boost::system::error_code RunWithDeadline(Start start, std::chrono::milliseconds within);
  Result<size_t> ReadSome(char* data, size_t size, std::chrono::milliseconds within);
  Status ReadExactly(char* data, size_t size);

  boost::asio::io_context io_;
  std::shared_ptr<TlsContext> tls_;
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>> stream_;
  bool tls_connected_ = false;
  bool peer_closed_ = false;  // a read or write found the connection closed by the server
  uint16_t port_;
  Options options_;
};

// Envelope builders.
v1::Envelope EnrolEnvelope(const std::string& code, const std::string& device_name = "test tablet");
v1::Envelope HelloEnvelope(const std::string& device_id, const std::string& credential);
v1::Envelope PullEnvelope(uint64_t cursor, uint32_t page_size = 100);
v1::Envelope PushEnvelope(uint64_t batch_id);

// Connects `peer` and says hello as `device`: Ok on a Welcome, an error (the refusal
// among it) otherwise.
Status SayHello(TestPeer& peer, const v1::Enrolled& device);

// Enrols a device over the wire with a fresh code; fails the test on error.
v1::Enrolled EnrolDevice(uint16_t port, TestDeployment& deployment, const std::string& role = "adviser",
                         const std::string& venue = "");

// A well-behaved device: enrols with a fresh code, says hello, pulls one page. True if
// every step got the expected reply (the server is still serving).
bool ServesWellBehavedDevice(uint16_t port, TestDeployment& deployment);

// A deployment and a running server with short timeouts, stopped (and checked to exit
// cleanly on SIGTERM) after each test.
class ServerTest : public ::testing::Test {
 protected:
  static constexpr uint32_t kMaxFrameBytes = 65536;
  static constexpr int kFrameTimeoutMs = 1000;
  static constexpr int kHandshakeTimeoutMs = 1500;
  static constexpr int kIdleTimeoutMs = 3000;

  void StartServer(std::vector<std::string> extra_args = {});
  void TearDown() override;

  TestPeer::Options PeerOptions() const;
  uint16_t port() const { return server_->port(); }
  std::string log() const { return server_->log(); }

  TestDeployment deployment_;
  std::unique_ptr<ServerProcess> server_;
};

}  // namespace outreach::testing
