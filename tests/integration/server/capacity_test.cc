// Capacity and standing, on the real server over TLS on loopback: a revoked device's open
// sessions are cut at once, a session ends at its maximum length, a connection that does
// not say hello in time is closed, connections without hello are capped per address and
// cannot crowd out devices, and enrolment codes cannot be guessed quickly. Many peers
// come from many loopback addresses (127.0.x.y, bound before connecting).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/uuid.h"
#include "tests/support/server_harness.h"

namespace outreach::testing {
namespace {

using Clock = std::chrono::steady_clock;

int64_t MsSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class CapacityTest : public ServerTest {
 protected:
  TestPeer::Options From(const std::string& address) const {
    TestPeer::Options options = PeerOptions();
    options.bind_address = address;
    return options;
  }

  CliResult Revoke(const v1::Enrolled& device) {
    return RunCli({"device", "revoke", "--data", deployment_.data, "--device",
                   Uuid::FromBytes(device.device_id())->ToString(), "--json"});
  }

  // One enrolment attempt with `code` from `address`: the reply.
  Result<v1::Envelope> TryEnrol(const std::string& address, const std::string& code) {
    TestPeer peer(port(), From(address));
    OUTREACH_RETURN_IF_ERROR(peer.Connect());
    OUTREACH_RETURN_IF_ERROR(peer.Send(EnrolEnvelope(code)));
    return peer.Receive();
  }
};

void ExpectRevoked(const Result<v1::Envelope>& reply) {
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  ASSERT_TRUE(reply->has_refusal()) << reply->ShortDebugString();
  EXPECT_EQ(reply->refusal().reason(), v1::REFUSAL_REASON_DEVICE_REVOKED) << reply->ShortDebugString();
  EXPECT_TRUE(reply->refusal().wipe());
}

// ---------------------------------------------------------------- revocation

TEST_F(CapacityTest, RevokingADeviceCutsItsOpenSessionsWithinASecond) {
  StartServer();
  const v1::Enrolled device = EnrolDevice(port(), deployment_);
  // Two sessions of the device: one pulling in a loop, one idle after its hello.
  TestPeer pulling(port(), PeerOptions());
  TestPeer idle(port(), PeerOptions());
  ASSERT_TRUE(SayHello(pulling, device).ok());
  ASSERT_TRUE(SayHello(idle, device).ok());
  ASSERT_TRUE(pulling.Send(PullEnvelope(0)).ok());
  ASSERT_TRUE(pulling.Receive().ok());

  std::atomic<bool> revoked{false};
  Clock::time_point revoked_at;
  std::thread revoker([&] {
    std::this_thread::sleep_for(300ms);
    CliResult revoke = Revoke(device);
    revoked_at = Clock::now();
    revoked = true;
    EXPECT_EQ(revoke.exit_code, 0) << revoke.err;
  });
  // Pull until the server cuts the session: every reply before is a page.
  Result<v1::Envelope> last = Status::Internal("nothing received");
  int pages = 0;
  const auto give_up = Clock::now() + 10s;
  while (Clock::now() < give_up) {
    if (!pulling.Send(PullEnvelope(0)).ok()) break;
    last = pulling.Receive();
    if (!last.ok() || !last->has_changes_page()) break;
    ++pages;
    std::this_thread::sleep_for(20ms);
  }
  revoker.join();
  ASSERT_TRUE(revoked);
  const int64_t pulling_cut_ms = MsSince(revoked_at);
  EXPECT_GT(pages, 0);
  ExpectRevoked(last);
  EXPECT_LE(pulling_cut_ms, 1000) << "the pulling session was cut " << pulling_cut_ms << " ms after the revoke";

  // The idle session was told without asking.
  ExpectRevoked(idle.Receive());
  EXPECT_LE(MsSince(revoked_at), 1000) << "the idle session was not cut within a second";

  // Nothing more on either connection, and a new hello is refused.
  for (TestPeer* peer : {&pulling, &idle}) {
    (void)peer->Send(PullEnvelope(0));  // may fail: the server closes
    EXPECT_FALSE(peer->Receive().ok()) << "a revoked session answered a request";
    EXPECT_TRUE(peer->WaitClosed(3s));
  }
  TestPeer again(port(), PeerOptions());
  ASSERT_TRUE(again.Connect().ok());
  ASSERT_TRUE(again.Send(HelloEnvelope(device.device_id(), device.credential())).ok());
  ExpectRevoked(again.Receive());
  EXPECT_NE(log().find("refused: session of revoked device"), std::string::npos) << log();
  // Another device is not affected.
  EXPECT_TRUE(ServesWellBehavedDevice(port(), deployment_));
}

// ---------------------------------------------------------------- session length

TEST_F(CapacityTest, ASessionEndsAtItsFirstIdlePointPastTheMaximumLength) {
  constexpr int kMaxSessionMs = 1500;
  StartServer({"--max-session-ms", std::to_string(kMaxSessionMs)});
  const v1::Enrolled device = EnrolDevice(port(), deployment_);

  TestPeer busy(port(), PeerOptions());
  TestPeer idle(port(), PeerOptions());
  const auto start = Clock::now();
  ASSERT_TRUE(SayHello(busy, device).ok());
  ASSERT_TRUE(SayHello(idle, device).ok());
  // A request every 100 ms: each one is answered whole until the session ends, then the
  // next answer is the refusal.
  Result<v1::Envelope> last = Status::Internal("nothing received");
  while (MsSince(start) < kMaxSessionMs + 3000) {
    ASSERT_TRUE(busy.Send(PullEnvelope(0)).ok());
    last = busy.Receive();
    if (!last.ok() || !last->has_changes_page()) break;
    std::this_thread::sleep_for(100ms);
  }
  const int64_t ended_ms = MsSince(start);
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  ASSERT_TRUE(last->has_refusal()) << last->ShortDebugString();
  EXPECT_EQ(last->refusal().reason(), v1::REFUSAL_REASON_SERVER_BUSY);
  EXPECT_FALSE(last->refusal().wipe());
  EXPECT_NE(last->refusal().detail().find("maximum length"), std::string::npos) << last->ShortDebugString();
  EXPECT_GE(ended_ms, kMaxSessionMs);
  EXPECT_LE(ended_ms, kMaxSessionMs + 1000);
  EXPECT_TRUE(busy.WaitClosed(3s));

  // The idle session is told at the limit, without asking.
  Result<v1::Envelope> told = idle.Receive();
  ASSERT_TRUE(told.ok()) << told.status().ToString();
  EXPECT_EQ(told->refusal().reason(), v1::REFUSAL_REASON_SERVER_BUSY) << told->ShortDebugString();
  EXPECT_LE(MsSince(start), kMaxSessionMs + 1000);
  EXPECT_TRUE(idle.WaitClosed(3s));

  // A new hello starts a new session.
  TestPeer again(port(), PeerOptions());
  ASSERT_TRUE(SayHello(again, device).ok());
  ASSERT_TRUE(again.Send(PullEnvelope(0)).ok());
  Result<v1::Envelope> page = again.Receive();
  ASSERT_TRUE(page.ok() && page->has_changes_page());
}

// ---------------------------------------------------------------- hello deadline

TEST_F(CapacityTest, AConnectionThatDoesNotSayHelloInTimeIsClosed) {
  constexpr int kHelloTimeoutMs = 1000;  // under the idle (3 s) and handshake (1.5 s) timeouts
  StartServer({"--hello-timeout-ms", std::to_string(kHelloTimeoutMs)});
  const v1::Enrolled device = EnrolDevice(port(), deployment_);

  const auto start = Clock::now();
  TestPeer silent_tls(port(), PeerOptions());
  TestPeer silent_tcp(port(), PeerOptions());
  ASSERT_TRUE(silent_tls.Connect().ok());
  ASSERT_TRUE(silent_tcp.ConnectPlain().ok());
  // A welcomed session is not bound by the hello deadline.
  TestPeer device_peer(port(), PeerOptions());
  ASSERT_TRUE(SayHello(device_peer, device).ok());

  EXPECT_FALSE(silent_tls.WaitClosed(std::chrono::milliseconds(kHelloTimeoutMs / 2)));
  EXPECT_TRUE(silent_tls.WaitClosed(std::chrono::milliseconds(kHelloTimeoutMs + 1000)));
  EXPECT_LT(MsSince(start), kHelloTimeoutMs + 1000) << "closed by a later timeout, not the hello deadline";
  EXPECT_TRUE(silent_tcp.WaitClosed(1s));
  EXPECT_NE(log().find("no hello within 1000 ms"), std::string::npos) << log();

  std::this_thread::sleep_for(std::chrono::milliseconds(kHelloTimeoutMs));
  ASSERT_TRUE(device_peer.Send(PullEnvelope(0)).ok());
  Result<v1::Envelope> page = device_peer.Receive();
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_TRUE(page->has_changes_page()) << page->ShortDebugString();
}

// ---------------------------------------------------------------- connections without hello

TEST_F(CapacityTest, OneAddressCannotHoldMoreThanItsCapOfConnectionsWithoutHello) {
  StartServer({"--max-unwelcomed-per-address", "8"});
  std::vector<std::unique_ptr<TestPeer>> peers;
  for (int i = 0; i < 12; ++i) {
    peers.push_back(std::make_unique<TestPeer>(port(), From("127.0.0.7")));
    ASSERT_TRUE(peers.back()->ConnectPlain().ok()) << i;
    std::this_thread::sleep_for(5ms);  // accepted in order
  }
  // The four over the cap are closed at once; the first eight stay.
  for (int i = 8; i < 12; ++i) EXPECT_TRUE(peers[i]->WaitClosed(1s)) << "connection " << i << " was held";
  for (int i = 0; i < 8; ++i) EXPECT_FALSE(peers[i]->WaitClosed(10ms)) << "connection " << i << " was closed";
  // Still over: a TLS connection from the same address gets no handshake.
  TestPeer over(port(), From("127.0.0.7"));
  EXPECT_FALSE(over.Connect().ok());
  // Other addresses are served, devices included.
  TestPeer other(port(), From("127.0.0.8"));
  EXPECT_TRUE(other.Connect().ok());
  EXPECT_TRUE(ServesWellBehavedDevice(port(), deployment_));
  // One closed frees its place.
  peers[0]->Close();
  std::this_thread::sleep_for(200ms);
  TestPeer next(port(), From("127.0.0.7"));
  EXPECT_TRUE(next.Connect().ok());
  // Five refusals, one log line (rate-limited per address).
  EXPECT_EQ(Count(log(), "refused: connection closed before TLS"), 1u) << log();
}

TEST_F(CapacityTest, FourHundredSilentConnectionsDoNotKeepADeviceFromSyncing) {
  StartServer();  // --max-connections 256: at most 64 without hello, 8 per address
  const auto start = Clock::now();
  std::vector<std::unique_ptr<TestPeer>> silent;
  int tls_handshakes = 0;
  for (int i = 0; i < 400; ++i) {
    // 50 addresses, 8 each; half of them plain TCP, half TLS without hello.
    TestPeer::Options options = From("127.0.2." + std::to_string(2 + i / 8));
    options.timeout = 2s;
    silent.push_back(std::make_unique<TestPeer>(port(), options));
    if (i % 2 == 0) {
      ASSERT_TRUE(silent.back()->ConnectPlain().ok()) << i;
    } else {
      tls_handshakes += silent.back()->Connect().ok();  // an evicted one may fail its handshake
    }
  }
  EXPECT_GT(tls_handshakes, 100);

  // While they are held, a device from 127.0.0.1 enrols, says hello, pushes and pulls.
  const v1::Enrolled device = EnrolDevice(port(), deployment_);
  ASSERT_FALSE(device.device_id().empty());
  TestPeer peer(port(), PeerOptions());
  ASSERT_TRUE(SayHello(peer, device).ok());
  ASSERT_TRUE(peer.Send(PushEnvelope(1)).ok());
  Result<v1::Envelope> ack = peer.Receive();
  ASSERT_TRUE(ack.ok()) << ack.status().ToString();
  EXPECT_TRUE(ack->has_push_ack()) << ack->ShortDebugString();
  ASSERT_TRUE(peer.Send(PullEnvelope(0)).ok());
  Result<v1::Envelope> page = peer.Receive();
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_TRUE(page->has_changes_page()) << page->ShortDebugString();
  EXPECT_TRUE(ServesWellBehavedDevice(port(), deployment_));

  // The server holds at most a quarter of --max-connections of them.
  size_t open = 0;
  for (auto& s : silent) open += !s->WaitClosed(20ms);  // a closed one answers at once
  EXPECT_LE(open, 64u);
  EXPECT_GT(open, 0u);
  EXPECT_LT(MsSince(start), 15'000);
  EXPECT_NE(log().find("closed to make room"), std::string::npos) << log();
}

// ---------------------------------------------------------------- enrolment codes

TEST_F(CapacityTest, FailedEnrolmentsSlowAnAddressDownAndGetOneAnswer) {
  StartServer();
  const std::string used = deployment_.IssueCode();
  const std::string good = deployment_.IssueCode();
  const std::string for_other = deployment_.IssueCode();
  ASSERT_TRUE(TryEnrol("127.0.0.2", used).ok());  // now used

  // From 127.0.0.3: a used code and unknown ones get one and the same answer.
  std::vector<Result<v1::Envelope>> replies;
  const auto start = Clock::now();
  replies.push_back(TryEnrol("127.0.0.3", used));
  for (int i = 1; i < 20; ++i) replies.push_back(TryEnrol("127.0.0.3", "ZZZZ-ZZZZ-ZZZZ-" + std::to_string(1000 + i)));
  const int64_t elapsed_ms = MsSince(start);
  std::string answer;
  int bad_code = 0, throttled = 0;
  for (size_t i = 0; i < replies.size(); ++i) {
    ASSERT_TRUE(replies[i].ok()) << i << ": " << replies[i].status().ToString();
    const v1::Refusal& r = replies[i]->refusal();
    if (r.reason() == v1::REFUSAL_REASON_BAD_ENROLMENT_CODE) {
      ++bad_code;
      if (answer.empty()) answer = r.detail();
      EXPECT_EQ(r.detail(), answer) << "attempt " << i << " answered differently";
    } else {
      ++throttled;
      EXPECT_EQ(r.reason(), v1::REFUSAL_REASON_SERVER_BUSY) << i << ": " << replies[i]->ShortDebugString();
      EXPECT_NE(r.detail().find("too many failed enrolment attempts"), std::string::npos) << r.detail();
    }
  }
  EXPECT_EQ(answer, "this enrolment code is not valid or has expired");
  // Five free failures, then a wait of 1 s, 2 s, ...: in the time taken, at most 5 plus
  // one per second passed could be tried.
  EXPECT_LE(bad_code, 5 + static_cast<int>(elapsed_ms / 1000)) << "attempts took " << elapsed_ms << " ms";
  EXPECT_EQ(replies.back()->refusal().reason(), v1::REFUSAL_REASON_SERVER_BUSY) << "the 20th attempt was served";
  EXPECT_GE(throttled, 10);

  // A good code from the slowed address is refused while it waits (and not used up by
  // that); another address enrols at once.
  Result<v1::Envelope> early = TryEnrol("127.0.0.3", good);
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->refusal().reason(), v1::REFUSAL_REASON_SERVER_BUSY) << early->ShortDebugString();
  Result<v1::Envelope> other = TryEnrol("127.0.0.2", for_other);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->has_enrolled()) << other->ShortDebugString();

  // Once the wait is over the good code enrols; the success clears the address.
  Result<v1::Envelope> later = Status::Internal("not tried");
  for (int i = 0; i < 40; ++i) {
    later = TryEnrol("127.0.0.3", good);
    if (!later.ok() || later->has_enrolled()) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(later.ok()) << later.status().ToString();
  EXPECT_TRUE(later->has_enrolled()) << later->ShortDebugString();
  Result<v1::Envelope> fresh = TryEnrol("127.0.0.3", "ZZZZ-ZZZZ-ZZZZ-0000");
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->refusal().reason(), v1::REFUSAL_REASON_BAD_ENROLMENT_CODE) << fresh->ShortDebugString();
  EXPECT_NE(log().find("refused: enrolment attempt refused"), std::string::npos) << log();
}

}  // namespace
}  // namespace outreach::testing
