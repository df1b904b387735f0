// The network layer of the real outreach-server: TLS, framing, limits and timeouts.
// Each hostile peer must be refused or closed with a logged reason, and a well-behaved
// device must still be served afterwards.
#include <gtest/gtest.h>

#include <thread>

#include "common/frame.h"
#include "common/pki.h"
#include "tests/support/server_harness.h"

namespace outreach::testing {
namespace {

// Expects the next frame to be a Refusal for `reason`, then the connection to close.
void ExpectRefusedAndClosed(TestPeer& peer, v1::RefusalReason reason) {
  Result<v1::Envelope> reply = peer.Receive();
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  ASSERT_TRUE(reply->has_refusal()) << reply->ShortDebugString();
  EXPECT_EQ(reply->refusal().reason(), reason) << reply->refusal().ShortDebugString();
  EXPECT_FALSE(reply->refusal().detail().empty());
  EXPECT_TRUE(peer.WaitClosed(3s)) << "the server kept the connection open after a refusal";
}

std::string Header(uint32_t length) {
  std::string h(4, '\0');
  h[0] = static_cast<char>(length >> 24);
  h[1] = static_cast<char>(length >> 16);
  h[2] = static_cast<char>(length >> 8);
  h[3] = static_cast<char>(length);
  return h;
}

class TransportTest : public ServerTest {
 protected:
  void SetUp() override { StartServer(); }
};

TEST_F(TransportTest, NonTlsGarbageIsClosedAndTheServerKeepsServing) {
  TestPeer peer(port(), PeerOptions());
  ASSERT_TRUE(peer.ConnectPlain().ok());
  ASSERT_TRUE(peer.SendRaw("GET / HTTP/1.1\r\nHost: hub\r\n\r\n").ok());
  EXPECT_TRUE(peer.WaitClosed(3s));
  EXPECT_TRUE(ServesWellBehavedDevice(port(), deployment_));
  EXPECT_NE(log().find("TLS handshake failed"), std::string::npos) << log();
}

TEST_F(TransportTest, SilentTcpPeerIsClosedAfterTheHandshakeTimeout) {
  TestPeer peer(port(), PeerOptions());
  ASSERT_TRUE(peer.ConnectPlain().ok());
  EXPECT_FALSE(peer.WaitClosed(std::chrono::milliseconds(kHandshakeTimeoutMs / 3))) << "closed before the timeout";
  EXPECT_TRUE(peer.WaitClosed(5s));
  EXPECT_NE(log().find("TLS handshake not completed"), std::string::npos) << log();
}

TEST_F(TransportTest, TlsClientWithoutAlpnIsClosed) {
  TestPeer::Options options = PeerOptions();
  options.offer_alpn = false;
  TestPeer peer(port(), options);
  Status connected = peer.Connect();
  if (connected.ok()) {
    // The handshake may complete (no ALPN offered at all); the server then closes
    // without a single frame.
    EXPECT_FALSE(peer.Receive().ok());
  }
  EXPECT_TRUE(ServesWellBehavedDevice(port(), deployment_));
  EXPECT_NE(log().find("ALPN"), std::string::npos) << log();
}

TEST_F(TransportTest, ClientPinnedToAnotherCaRefusesTheServer) {
  TestPeer::Options options = PeerOptions();
  options.ca_pem = GenerateCertificateAuthority("Some other deployment").value().certificate_pem;
  TestPeer stranger(port(), options);
  EXPECT_FALSE(stranger.Connect().ok());

  TestPeer::Options wrong_name = PeerOptions();
  wrong_name.host = "hub.example.org";  // not among the certificate's names
  TestPeer misdirected(port(), wrong_name);
  EXPECT_FALSE(misdirected.Connect().ok());

  TestPeer pinned(port(), PeerOptions());
  EXPECT_TRUE(pinned.Connect().ok());
  TestPeer::Options by_name = PeerOptions();
  by_name.host = "localhost";
  TestPeer named(port(), by_name);
  EXPECT_TRUE(named.Connect().ok());
}

TEST_F(TransportTest, FourGibLengthPrefixIsRefusedWithoutBuffering) {
  TestPeer peer(port(), PeerOptions());
  ASSERT_TRUE(peer.Connect().ok());
  ASSERT_TRUE(peer.SendRaw(std::string(4, '\xff')).ok());
  ExpectRefusedAndClosed(peer, v1::REFUSAL_REASON_FRAME_TOO_LARGE);
  EXPECT_TRUE(ServesWellBehavedDevice(port(), deployment_));
  EXPECT_NE(log().find("peer 127.0.0.1:"), std::string::npos) << log();
  EXPECT_NE(log().find("REFUSAL_REASON_FRAME_TOO_LARGE"), std::string::npos) << log();
}

TEST_F(TransportTest, FrameOverTheConfiguredLimitIsRefused) {
  TestPeer peer(port(), PeerOptions());
  Status connected = peer.Connect();
  ASSERT_TRUE(connected.ok()) << connected.ToString() << "\n" << log();
  // A real envelope one byte too large to fit, sent whole.
  v1::Envelope big = EnrolEnvelope("code", std::string(kMaxFrameBytes, 'x'));
  Result<std::string> frame = EncodeFrame(big, 2 * kMaxFrameBytes);
  ASSERT_TRUE(frame.ok());
  ASSERT_GT(frame->size() - kFrameHeaderBytes, kMaxFrameBytes);
  Status sent = peer.SendRaw(*frame);
  ASSERT_TRUE(sent.ok()) << sent.ToString() << "\n" << log();
  ExpectRefusedAndClosed(peer, v1::REFUSAL_REASON_FRAME_TOO_LARGE);
  EXPECT_TRUE(ServesWellBehavedDevice(port(), deployment_));
}

TEST_F(TransportTest, UndecodableFrameIsAProtocolError) {
  TestPeer peer(port(), PeerOptions());
  ASSERT_TRUE(peer.Connect().ok());
  ASSERT_TRUE(peer.SendRaw(Header(6) + std::string(6, '\xff')).ok());
  ExpectRefusedAndClosed(peer, v1::REFUSAL_REASON_PROTOCOL_ERROR);
  EXPECT_TRUE(ServesWellBehavedDevice(port(), deployment_));
}

TEST_F(TransportTest, EnvelopeWithoutAMessageIsAProtocolError) {
  TestPeer peer(port(), PeerOptions());
  ASSERT_TRUE(peer.Connect().ok());
  ASSERT_TRUE(peer.Send(v1::Envelope()).ok());
  ExpectRefusedAndClosed(peer, v1::REFUSAL_REASON_PROTOCOL_ERROR);
}

TEST_F(TransportTest, PushOrPullBeforeHelloIsAProtocolError) {
  TestPeer pusher(port(), PeerOptions());
  ASSERT_TRUE(pusher.Connect().ok());
  ASSERT_TRUE(pusher.Send(PushEnvelope(1)).ok());
  ExpectRefusedAndClosed(pusher, v1::REFUSAL_REASON_PROTOCOL_ERROR);

  TestPeer puller(port(), PeerOptions());
  ASSERT_TRUE(puller.Connect().ok());
  ASSERT_TRUE(puller.Send(PullEnvelope(0)).ok());
  ExpectRefusedAndClosed(puller, v1::REFUSAL_REASON_PROTOCOL_ERROR);

  // A server-side message from a device is out of order too.
  TestPeer impostor(port(), PeerOptions());
  ASSERT_TRUE(impostor.Connect().ok());
  v1::Envelope welcome;
  welcome.mutable_welcome()->set_protocol_version(1);
  ASSERT_TRUE(impostor.Send(welcome).ok());
  ExpectRefusedAndClosed(impostor, v1::REFUSAL_REASON_PROTOCOL_ERROR);
  EXPECT_TRUE(ServesWellBehavedDevice(port(), deployment_));
}

TEST_F(TransportTest, SlowClientIsClosedAfterTheFrameTimeout) {
  // Half a header, then nothing.
  TestPeer header_only(port(), PeerOptions());
  ASSERT_TRUE(header_only.Connect().ok());
  ASSERT_TRUE(header_only.SendRaw(Header(100).substr(0, 2)).ok());
  // A whole header and part of the body, then nothing.
  TestPeer part_body(port(), PeerOptions());
  ASSERT_TRUE(part_body.Connect().ok());
  ASSERT_TRUE(part_body.SendRaw(Header(100) + std::string(10, 'x')).ok());

  EXPECT_FALSE(header_only.WaitClosed(std::chrono::milliseconds(kFrameTimeoutMs / 4))) << "closed before the timeout";
  EXPECT_TRUE(header_only.WaitClosed(5s));
  EXPECT_TRUE(part_body.WaitClosed(5s));
  EXPECT_NE(log().find("frame not completed within"), std::string::npos) << log();
  EXPECT_TRUE(ServesWellBehavedDevice(port(), deployment_));
}

TEST_F(TransportTest, IdleConnectionIsClosedAfterTheIdleTimeout) {
  TestPeer peer(port(), PeerOptions());
  ASSERT_TRUE(peer.Connect().ok());
  // Longer than the frame timeout: an idle peer is not a slow frame.
  EXPECT_FALSE(peer.WaitClosed(std::chrono::milliseconds(kFrameTimeoutMs + 500)));
  EXPECT_TRUE(peer.WaitClosed(std::chrono::milliseconds(kIdleTimeoutMs + 3000)));
  EXPECT_NE(log().find("idle for"), std::string::npos) << log();
}

TEST_F(TransportTest, SigtermClosesOpenConnectionsAndExitsCleanly) {
  TestPeer idle(port(), PeerOptions());
  ASSERT_TRUE(idle.Connect().ok());
  EXPECT_EQ(server_->Stop(), 0) << log();
  EXPECT_TRUE(idle.WaitClosed(3s));
  EXPECT_NE(log().find("server shutting down"), std::string::npos) << log();
  server_.reset();  // stopped already
}

class ConnectionLimitTest : public ServerTest {
 protected:
  void SetUp() override { StartServer({"--max-connections", "2", "--max-unwelcomed", "4"}); }

  // True if a new connection is served (a Pull before Hello gets PROTOCOL_ERROR, not
  // SERVER_BUSY).
  bool NotBusy() {
    TestPeer probe(port(), PeerOptions());
    if (!probe.Connect().ok() || !probe.Send(PullEnvelope(0)).ok()) return false;
    Result<v1::Envelope> reply = probe.Receive();
    return reply.ok() && reply->has_refusal() && reply->refusal().reason() == v1::REFUSAL_REASON_PROTOCOL_ERROR;
  }
  static bool Welcomed(TestPeer& peer, const v1::Enrolled& device) {
    if (!peer.Connect().ok() || !peer.Send(HelloEnvelope(device.device_id(), device.credential())).ok()) return false;
    Result<v1::Envelope> welcome = peer.Receive();
    return welcome.ok() && welcome->has_welcome();
  }
};

// The limit counts devices past hello: connections that never say hello have caps of
// their own (capacity_test.cc) and cannot make the server busy for devices.
TEST_F(ConnectionLimitTest, OverTheLimitOfDevicesIsRefusedBusyUntilAConnectionCloses) {
  TestPeer silent_1(port(), PeerOptions());
  TestPeer silent_2(port(), PeerOptions());
  ASSERT_TRUE(silent_1.Connect().ok());
  ASSERT_TRUE(silent_2.Connect().ok());
  EXPECT_TRUE(NotBusy()) << "connections without hello made the server busy";

  const v1::Enrolled a = EnrolDevice(port(), deployment_);
  const v1::Enrolled b = EnrolDevice(port(), deployment_);
  TestPeer first(port(), PeerOptions());
  TestPeer second(port(), PeerOptions());
  ASSERT_TRUE(Welcomed(first, a));
  ASSERT_TRUE(Welcomed(second, b));

  TestPeer third(port(), PeerOptions());
  ASSERT_TRUE(third.Connect().ok());
  ExpectRefusedAndClosed(third, v1::REFUSAL_REASON_SERVER_BUSY);

  first.Close();
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    served = NotBusy();
    if (!served) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(served) << log();
}

}  // namespace
}  // namespace outreach::testing
