// The server harness, second half: talk to a real outreach-server (server_process.h starts
// it) over TLS like a device would (TestPeer), envelope builders, and a fixture with a
// running server. Nothing here replaces project code: the peer uses the project's TLS
// contexts and frame codec.
//
// Built twice (tests/support/CMakeLists.txt): outreach_test_server for the SQLite store and
// outreach_test_server_postgres (see server_process.h).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/asio.h"
#include "common/status.h"
#include "common/tls.h"
#include "outreach/v1/sync.pb.h"
#include "tests/support/server_process.h"

namespace outreach::testing {

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

// The fields of a new participant as a device pushes them, encoded as the wire carries
// them: given and family name and a date of birth, what the device's validation requires
// (the server runs the same checks on every pushed upsert). A test appends the fields it
// is about.
std::vector<v1::FieldValue> NewParticipantFields(const std::string& given, const std::string& family,
                                                 const std::string& date_of_birth = "1990-01-02");

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
