#include "tests/support/server_harness.h"

#include <openssl/ssl.h>

#include <optional>

#include <gtest/gtest.h>

#include "common/field_value.h"
#include "common/frame.h"
#include "common/hlc.h"

namespace outreach::testing {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

}  // namespace

TestPeer::TestPeer(uint16_t port, Options options) : port_(port), options_(std::move(options)) {
  Result<std::shared_ptr<TlsContext>> ctx = MakeClientTlsContext(options_.ca_pem);
  EXPECT_TRUE(ctx.ok()) << ctx.status().ToString();
  if (!ctx.ok()) return;
  tls_ = *ctx;
  if (!options_.offer_alpn) SSL_CTX_set_alpn_protos(tls_->native_handle(), nullptr, 0);
}

TestPeer::~TestPeer() {
  Close();
}

template <typename Start>
error_code TestPeer::RunWithDeadline(Start start, std::chrono::milliseconds within) {
  std::optional<error_code> result;
  start([&result](error_code ec, auto&&...) { result = ec; });
  io_.restart();
  io_.run_for(within);
  if (!result) {
    error_code ignored;
    stream_->next_layer().cancel(ignored);
    io_.restart();
    io_.run();
    return asio::error::timed_out;
  }
  // The server closed the connection (a reset is reported once: a later read on the
  // socket may then wait instead of failing again).
  if (*result == asio::error::connection_reset || *result == asio::error::eof ||
      *result == asio::ssl::error::stream_truncated) {
    peer_closed_ = true;
  }
  return *result;
}

Status TestPeer::ConnectPlain() {
  if (!tls_) return Status::Internal("no TLS context");
  stream_ = std::make_unique<asio::ssl::stream<tcp::socket>>(io_, *tls_);
  tls_connected_ = false;
  peer_closed_ = false;
  if (!options_.bind_address.empty()) {
    error_code ec;
    const asio::ip::address local = asio::ip::make_address(options_.bind_address, ec);
    if (!ec) stream_->next_layer().open(tcp::v4(), ec);
    if (!ec) stream_->next_layer().bind(tcp::endpoint(local, 0), ec);
    if (ec) return Status(ErrorCode::kUnavailable, "bind " + options_.bind_address + ": " + ec.message());
  }
  error_code ec = RunWithDeadline(
      [&](auto handler) {
        stream_->next_layer().async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), handler);
      },
      options_.timeout);
  if (ec) return Status(ErrorCode::kUnavailable, "connect: " + ec.message());
  return Status::Ok();
}

Status TestPeer::Connect() {
  OUTREACH_RETURN_IF_ERROR(ConnectPlain());
  OUTREACH_RETURN_IF_ERROR(PrepareClientConnection(stream_->native_handle(), options_.host));
  error_code ec = RunWithDeadline(
      [&](auto handler) { stream_->async_handshake(asio::ssl::stream_base::client, handler); }, options_.timeout);
  if (ec) return Status(ErrorCode::kUnavailable, "TLS handshake: " + ec.message());
  if (options_.offer_alpn) OUTREACH_RETURN_IF_ERROR(CheckAlpnAgreed(stream_->native_handle()));
  tls_connected_ = true;
  return Status::Ok();
}

Status TestPeer::SendRaw(const std::string& bytes) {
  if (!stream_) return Status::Internal("not connected");
  error_code ec = RunWithDeadline(
      [&](auto handler) {
        if (tls_connected_) {
          asio::async_write(*stream_, asio::buffer(bytes), handler);
        } else {
          asio::async_write(stream_->next_layer(), asio::buffer(bytes), handler);
        }
      },
      options_.timeout);
  if (ec) return Status(ErrorCode::kUnavailable, "write: " + ec.message());
  return Status::Ok();
}

Status TestPeer::Send(const v1::Envelope& envelope) {
  Result<std::string> frame = EncodeFrame(envelope);
  if (!frame.ok()) return frame.status();
  return SendRaw(*frame);
}

Result<size_t> TestPeer::ReadSome(char* data, size_t size, std::chrono::milliseconds within) {
  if (!stream_) return Status::Internal("not connected");
  size_t got = 0;
  error_code ec = RunWithDeadline(
      [&](auto handler) {
        auto done = [&got, handler](error_code e, size_t n) mutable {
          got = n;
          handler(e);
        };
        if (tls_connected_) {
          stream_->async_read_some(asio::buffer(data, size), done);
        } else {
          stream_->next_layer().async_read_some(asio::buffer(data, size), done);
        }
      },
      within);
  if (ec == asio::error::timed_out) return Status(ErrorCode::kTimeout, "nothing received in time");
  if (ec) return Status(ErrorCode::kUnavailable, "connection closed: " + ec.message());
  return got;
}

Status TestPeer::ReadExactly(char* data, size_t size) {
  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  size_t have = 0;
  while (have < size) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Status(ErrorCode::kTimeout, "frame not received in time");
    Result<size_t> n = ReadSome(data + have, size - have, left);
    if (!n.ok()) return n.status();
    have += *n;
  }
  return Status::Ok();
}

Result<v1::Envelope> TestPeer::Receive() {
  uint8_t header[kFrameHeaderBytes];
  OUTREACH_RETURN_IF_ERROR(ReadExactly(reinterpret_cast<char*>(header), sizeof header));
  Result<uint32_t> length = DecodeFrameLength(header, 64u << 20);
  if (!length.ok()) return length.status();
  std::string body(*length, '\0');
  OUTREACH_RETURN_IF_ERROR(ReadExactly(body.data(), body.size()));
  v1::Envelope envelope;
  OUTREACH_RETURN_IF_ERROR(DecodeFrameBody(body, &envelope));
  return envelope;
}

bool TestPeer::WaitClosed(std::chrono::milliseconds within) {
  if (peer_closed_) return true;
  const auto deadline = std::chrono::steady_clock::now() + within;
  char buf[4096];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    Result<size_t> n = ReadSome(buf, sizeof buf, left);
    if (!n.ok()) return n.status().code() != ErrorCode::kTimeout;
  }
}

void TestPeer::Close() {
  if (!stream_) return;
  error_code ignored;
  stream_->next_layer().shutdown(tcp::socket::shutdown_both, ignored);
  stream_->next_layer().close(ignored);
  stream_.reset();
}

v1::Envelope EnrolEnvelope(const std::string& code, const std::string& device_name) {
  v1::Envelope envelope;
  envelope.mutable_enrol()->set_code(code);
  envelope.mutable_enrol()->set_device_name(device_name);
  return envelope;
}

v1::Envelope HelloEnvelope(const std::string& device_id, const std::string& credential) {
  v1::Envelope envelope;
  v1::Hello* hello = envelope.mutable_hello();
  hello->set_protocol_version(v1::PROTOCOL_VERSION_1);
  hello->set_schema_version(1);
  hello->set_device_id(device_id);
  hello->set_credential(credential);
  hello->set_device_hlc(Hlc::FromParts(HybridClock::SystemMillis(), 0).value());
  hello->set_client_version("server_integration_test");
  return envelope;
}

v1::Envelope PullEnvelope(uint64_t cursor, uint32_t page_size) {
  v1::Envelope envelope;
  envelope.mutable_pull()->set_cursor(cursor);
  envelope.mutable_pull()->set_page_size(page_size);
  return envelope;
}

std::vector<v1::FieldValue> NewParticipantFields(const std::string& given, const std::string& family,
                                                 const std::string& date_of_birth) {
  v1::Participant body;
  body.set_given_name(given);
  body.set_family_name(family);
  body.set_date_of_birth(date_of_birth);
  return AllFields(body);
}

v1::Envelope PushEnvelope(uint64_t batch_id) {
  v1::Envelope envelope;
  envelope.mutable_push()->set_batch_id(batch_id);
  return envelope;
}

Status SayHello(TestPeer& peer, const v1::Enrolled& device) {
  OUTREACH_RETURN_IF_ERROR(peer.Connect());
  OUTREACH_RETURN_IF_ERROR(peer.Send(HelloEnvelope(device.device_id(), device.credential())));
  Result<v1::Envelope> welcome = peer.Receive();
  if (!welcome.ok()) return welcome.status();
  if (!welcome->has_welcome()) return Status::Internal("no welcome: " + welcome->ShortDebugString());
  return Status::Ok();
}

v1::Enrolled EnrolDevice(uint16_t port, TestDeployment& deployment, const std::string& role, const std::string& venue) {
  const std::string code = deployment.IssueCode(role, "Alex Adviser", venue);
  TestPeer peer(port, {.ca_pem = deployment.ca_pem});
  Status connected = peer.Connect();
  EXPECT_TRUE(connected.ok()) << connected.ToString();
  EXPECT_TRUE(peer.Send(EnrolEnvelope(code)).ok());
  Result<v1::Envelope> reply = peer.Receive();
  EXPECT_TRUE(reply.ok()) << reply.status().ToString();
  if (!reply.ok()) return {};
  EXPECT_TRUE(reply->has_enrolled()) << reply->ShortDebugString();
  return reply->enrolled();
}

bool ServesWellBehavedDevice(uint16_t port, TestDeployment& deployment) {
  v1::Enrolled enrolled = EnrolDevice(port, deployment);
  if (enrolled.device_id().empty()) return false;
  TestPeer peer(port, {.ca_pem = deployment.ca_pem});
  if (!peer.Connect().ok() || !peer.Send(HelloEnvelope(enrolled.device_id(), enrolled.credential())).ok()) {
    return false;
  }
  Result<v1::Envelope> welcome = peer.Receive();
  if (!welcome.ok() || !welcome->has_welcome()) {
    ADD_FAILURE() << "no welcome: " << (welcome.ok() ? welcome->ShortDebugString() : welcome.status().ToString());
    return false;
  }
  if (!peer.Send(PullEnvelope(0)).ok()) return false;
  Result<v1::Envelope> page = peer.Receive();
  if (!page.ok() || !page->has_changes_page()) {
    ADD_FAILURE() << "no changes page: " << (page.ok() ? page->ShortDebugString() : page.status().ToString());
    return false;
  }
  return true;
}

void ServerTest::StartServer(std::vector<std::string> extra_args) {
  std::vector<std::string> args{"--max-frame-bytes",      std::to_string(kMaxFrameBytes),
                                "--frame-timeout-ms",     std::to_string(kFrameTimeoutMs),
                                "--handshake-timeout-ms", std::to_string(kHandshakeTimeoutMs),
                                "--idle-timeout-ms",      std::to_string(kIdleTimeoutMs)};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  server_ = std::make_unique<ServerProcess>(deployment_.data, args, deployment_.dir / "server.log");
  ASSERT_NE(server_->port(), 0);
}

void ServerTest::TearDown() {
  if (!server_) return;
  ASSERT_TRUE(server_->running()) << "outreach-server exited early with status " << server_->exit_status() << "; log:\n"
                                  << log();
  EXPECT_EQ(server_->Stop(), 0) << "outreach-server did not shut down cleanly on SIGTERM; log:\n" << log();
}

TestPeer::Options ServerTest::PeerOptions() const {
  return {.ca_pem = deployment_.ca_pem};
}

}  // namespace outreach::testing
