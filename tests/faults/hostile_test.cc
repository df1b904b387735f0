// Hostile input while the server serves a well-behaved device: malformed, truncated and
// oversized frames, a 4 GiB length prefix, valid frames out of order, TCP garbage and a
// client that never speaks TLS, a slow client that never finishes a frame, many
// connections that never say hello, a credential for another hub, a revoked credential,
// a kiosk reading and writing participants. Each gets a refusal or a close with a log
// line; the server stays up; the device's sync time before and during the attack is
// printed (never asserted).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <set>
#include <thread>

#include "client/journey/device_internals.h"
#include "common/frame.h"
#include "tests/faults/fault_suite.h"

namespace outreach::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::string Header(uint32_t length) {
  return std::string{static_cast<char>(length >> 24), static_cast<char>(length >> 16), static_cast<char>(length >> 8),
                     static_cast<char>(length)};
}

class HostileTest : public FaultSuiteTest {
 protected:
  void SetUp() override {
    server_args_ = {"--max-frame-bytes",      "65536", "--frame-timeout-ms", "1000",
                    "--handshake-timeout-ms", "1500",  "--idle-timeout-ms",  "3000"};
    StartServer();
  }
  TestPeer::Options Peer() const { return {.ca_pem = deployment_.ca_pem, .timeout = std::chrono::seconds(8)}; }

  // The refusal the server answers `bytes` with (after a TLS handshake), or a failure.
  void ExpectRefusal(const std::string& what, const std::string& bytes, v1::RefusalReason reason) {
    TestPeer peer(port(), Peer());
    ASSERT_TRUE(peer.Connect().ok()) << what;
    ASSERT_TRUE(peer.SendRaw(bytes).ok()) << what;
    Result<v1::Envelope> reply = peer.Receive();
    ASSERT_TRUE(reply.ok()) << what << ": " << reply.status().ToString();
    EXPECT_EQ(reply->refusal().reason(), reason) << what << ": " << reply->ShortDebugString();
    EXPECT_FALSE(reply->refusal().detail().empty()) << what;
    EXPECT_TRUE(peer.WaitClosed(std::chrono::seconds(5))) << what << ": the connection stayed open";
  }
  Result<v1::Envelope> HelloReply(const std::string& device_id, const std::string& credential) {
    TestPeer peer(port(), Peer());
    OUTREACH_RETURN_IF_ERROR(peer.Connect());
    OUTREACH_RETURN_IF_ERROR(peer.Send(HelloEnvelope(device_id, credential)));
    return peer.Receive();
  }
};

TEST_F(HostileTest, AttacksAreRefusedAndLoggedWhileADeviceKeepsSyncing) {
  FieldDevice ann = NewDevice("ann");
  for (int i = 0; i < 100; ++i) {
    v1::Participant p;
    p.set_given_name("Person" + std::to_string(i));
    p.set_family_name("Served");
    p.set_date_of_birth("1970-03-03");
    ASSERT_TRUE(ann->RegisterParticipant(p).ok());
  }
  SyncUntilDone(ann);
  const Result<std::optional<client::DeviceIdentity>> ann_id = StoreOf(*ann).LoadIdentity();
  ASSERT_TRUE(ann_id.ok() && ann_id->has_value());

  // Credentials for the identity attacks: a device of another hub, a revoked device, a kiosk.
  CliResult south = RunCli({"hub", "add", "--data", deployment_.data, "--name", "South", "--json"});
  ASSERT_EQ(south.exit_code, 0) << south.err;
  CliResult south_code = RunCli({"enrol", "--data", deployment_.data, "--hub", south.json().value("hub_id", ""),
                                 "--role", "adviser", "--name", "Sid", "--json"});
  ASSERT_EQ(south_code.exit_code, 0) << south_code.err;
  v1::Enrolled southerner;
  {
    TestPeer peer(port(), Peer());
    ASSERT_TRUE(peer.Connect().ok());
    ASSERT_TRUE(peer.Send(EnrolEnvelope(south_code.json().value("code", ""))).ok());
    Result<v1::Envelope> reply = peer.Receive();
    ASSERT_TRUE(reply.ok() && reply->has_enrolled());
    southerner = reply->enrolled();
  }
  v1::Enrolled revoked = EnrolDevice(port(), deployment_);
  CliResult revoke = RunCli({"device", "revoke", "--data", deployment_.data, "--device",
                             Uuid::FromBytes(revoked.device_id())->ToString(), "--json"});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  const std::string venue = AddVenue("Library");
  v1::Enrolled kiosk = EnrolDevice(port(), deployment_, "kiosk", venue);

  std::atomic<uint64_t> attacks{0};
  std::vector<std::pair<std::string, std::function<void()>>> attack_kinds = {
      {"malformed frame",
       [&] { ExpectRefusal("malformed", Header(10) + std::string(10, '\xff'), v1::REFUSAL_REASON_PROTOCOL_ERROR); }},
      {"oversized frame",
       [&] { ExpectRefusal("oversized", Header(1u << 20) + "x", v1::REFUSAL_REASON_FRAME_TOO_LARGE); }},
      {"4 GiB length prefix", [&] { ExpectRefusal("4 GiB", Header(0xffffffffu), v1::REFUSAL_REASON_FRAME_TOO_LARGE); }},
      {"pull before hello",
       [&] { ExpectRefusal("out of order", *EncodeFrame(PullEnvelope(0)), v1::REFUSAL_REASON_PROTOCOL_ERROR); }},
      {"hello twice",
       [&] {
         TestPeer peer(port(), Peer());
         ASSERT_TRUE(peer.Connect().ok());
         v1::Envelope hello = HelloEnvelope((*ann_id)->device_id.raw(), (*ann_id)->credential);
         ASSERT_TRUE(peer.Send(hello).ok());
         ASSERT_TRUE(peer.Receive().ok());
         ASSERT_TRUE(peer.Send(hello).ok());
         Result<v1::Envelope> reply = peer.Receive();
         ASSERT_TRUE(reply.ok());
         EXPECT_EQ(reply->refusal().reason(), v1::REFUSAL_REASON_PROTOCOL_ERROR);
       }},
      {"truncated frame",
       [&] {
         TestPeer peer(port(), Peer());
         ASSERT_TRUE(peer.Connect().ok());
         ASSERT_TRUE(peer.SendRaw(Header(100) + std::string(10, 'a')).ok());
         peer.Close();
       }},
      {"TCP garbage",
       [&] {
         TestPeer peer(port(), Peer());
         ASSERT_TRUE(peer.ConnectPlain().ok());
         ASSERT_TRUE(peer.SendRaw("GET / HTTP/1.1\r\nHost: outreach\r\n\r\n").ok());
         EXPECT_TRUE(peer.WaitClosed(std::chrono::seconds(5)));
       }},
      {"non-TLS client saying nothing",
       [&] {
         TestPeer peer(port(), Peer());
         ASSERT_TRUE(peer.ConnectPlain().ok());
         EXPECT_TRUE(peer.WaitClosed(std::chrono::seconds(5)));
       }},
      {"slow client never finishing a frame",
       [&] {
         TestPeer peer(port(), Peer());
         ASSERT_TRUE(peer.Connect().ok());
         ASSERT_TRUE(peer.SendRaw(Header(60)).ok());
         bool closed = false;
         for (int i = 0; i < 20 && !closed; ++i) {
           closed = !peer.SendRaw("z").ok() || peer.WaitClosed(std::chrono::milliseconds(300));
         }
         EXPECT_TRUE(closed) << "a slow client held its session open";
       }},
      {"20 connections that never say hello, from one address",
       [&] {
         // An address of its own each time (127.0.0.20, .21, ...): at most 8 of them
         // (--max-unwelcomed-per-address) get a handshake, the rest are closed before TLS.
         static std::atomic<int> runs{0};
         TestPeer::Options from = Peer();
         from.bind_address = "127.0.0." + std::to_string(20 + runs++ % 200);
         std::vector<std::unique_ptr<TestPeer>> idle;
         int handshaken = 0;
         for (int i = 0; i < 20; ++i) {
           idle.push_back(std::make_unique<TestPeer>(port(), from));
           handshaken += idle.back()->Connect().ok();
         }
         EXPECT_EQ(handshaken, 8) << "one address held more connections without hello than its cap";
         for (auto& peer : idle) EXPECT_TRUE(peer->WaitClosed(std::chrono::seconds(8)));
       }},
      {"another hub's credential",
       [&] {
         Result<v1::Envelope> reply = HelloReply((*ann_id)->device_id.raw(), southerner.credential());
         ASSERT_TRUE(reply.ok());
         EXPECT_EQ(reply->refusal().reason(), v1::REFUSAL_REASON_BAD_CREDENTIAL) << reply->ShortDebugString();
         // With its own id it is welcome, but only to its own hub: it reads nothing of
         // North and cannot write into it.
         TestPeer peer(port(), Peer());
         ASSERT_TRUE(peer.Connect().ok());
         ASSERT_TRUE(peer.Send(HelloEnvelope(southerner.device_id(), southerner.credential())).ok());
         ASSERT_TRUE(peer.Receive().ok());
         ASSERT_TRUE(peer.Send(PullEnvelope(0, 1000)).ok());
         Result<v1::Envelope> page = peer.Receive();
         ASSERT_TRUE(page.ok());
         // Pulled changes leave hub_id empty (the device's own hub), so North's records
         // are recognised by id: everything Ann's device holds.
         std::set<std::string> north;
         for (const v1::Record& r : *ann->Export()) {
           if (r.type() != v1::RECORD_TYPE_INSTRUMENT) north.insert(r.id());  // seeded on every device
         }
         ASSERT_FALSE(north.empty());
         for (const v1::Change& c : page->changes_page().changes()) {
           EXPECT_EQ(north.count(c.record_id()), 0u) << "another hub's device read North's data";
           EXPECT_NE(c.hub_id(), Uuid::Parse(deployment_.hub_id)->raw()) << "another hub's device read North's data";
           EXPECT_NE(c.type(), v1::RECORD_TYPE_PARTICIPANT) << "another hub's device read a participant";
         }
         Result<std::vector<v1::Change>> log = StoreOf(*ann).ChangeLog();
         ASSERT_TRUE(log.ok() && !log->empty());
         v1::Envelope push = PushEnvelope(1);
         v1::Change intrusion = log->front();  // an edit of a North participant
         intrusion.set_device_seq(1 + attacks.load());
         *push.mutable_push()->add_changes() = intrusion;
         ASSERT_TRUE(peer.Send(push).ok());
         Result<v1::Envelope> ack = peer.Receive();
         ASSERT_TRUE(ack.ok());
         ASSERT_EQ(ack->push_ack().results_size(), 1);
         const v1::ChangeResult& result = ack->push_ack().results(0);
         EXPECT_TRUE(result.outcome() == v1::CHANGE_OUTCOME_REJECTED ||
                     result.outcome() == v1::CHANGE_OUTCOME_DUPLICATE)
             << result.ShortDebugString();
       }},
      {"unknown device",
       [&] {
         Result<v1::Envelope> reply = HelloReply(Uuid::NewV7().raw(), "not a credential");
         ASSERT_TRUE(reply.ok());
         EXPECT_EQ(reply->refusal().reason(), v1::REFUSAL_REASON_UNKNOWN_DEVICE) << reply->ShortDebugString();
       }},
      {"revoked credential",
       [&] {
         Result<v1::Envelope> reply = HelloReply(revoked.device_id(), revoked.credential());
         ASSERT_TRUE(reply.ok());
         EXPECT_EQ(reply->refusal().reason(), v1::REFUSAL_REASON_DEVICE_REVOKED) << reply->ShortDebugString();
         EXPECT_TRUE(reply->refusal().wipe());
       }},
      {"kiosk reading and writing participants",
       [&] {
         TestPeer peer(port(), Peer());
         ASSERT_TRUE(peer.Connect().ok());
         ASSERT_TRUE(peer.Send(HelloEnvelope(kiosk.device_id(), kiosk.credential())).ok());
         ASSERT_TRUE(peer.Receive().ok());
         uint64_t cursor = 0;
         int participants = 0;
         for (bool more = true; more;) {
           ASSERT_TRUE(peer.Send(PullEnvelope(cursor, 500)).ok());
           Result<v1::Envelope> page = peer.Receive();
           ASSERT_TRUE(page.ok() && page->has_changes_page());
           for (const v1::Change& c : page->changes_page().changes())
             participants += c.type() == v1::RECORD_TYPE_PARTICIPANT;
           cursor = page->changes_page().next_cursor();
           more = page->changes_page().more();
         }
         EXPECT_EQ(participants, 0) << "a kiosk read participants not booked at its venue";
         Result<std::vector<v1::Change>> log = StoreOf(*ann).ChangeLog();
         ASSERT_TRUE(log.ok() && !log->empty());
         v1::Envelope push = PushEnvelope(1);
         v1::Change edit = log->front();
         edit.set_device_seq(1 + attacks.load());
         *push.mutable_push()->add_changes() = edit;
         ASSERT_TRUE(peer.Send(push).ok());
         Result<v1::Envelope> ack = peer.Receive();
         ASSERT_TRUE(ack.ok());
         ASSERT_EQ(ack->push_ack().results_size(), 1);
         EXPECT_TRUE(ack->push_ack().results(0).outcome() == v1::CHANGE_OUTCOME_REJECTED ||
                     ack->push_ack().results(0).outcome() == v1::CHANGE_OUTCOME_DUPLICATE);
       }},
  };

  // Ann's sync time on a quiet server.
  auto timed_sync = [&](int i) {
    v1::Participant p;
    p.set_given_name("New" + std::to_string(i));
    p.set_family_name("Served");
    p.set_date_of_birth("1971-04-04");
    EXPECT_TRUE(ann->RegisterParticipant(p).ok());
    const auto start = Clock::now();
    Result<SyncReport> r = TrySync(ann);
    EXPECT_TRUE(r.ok()) << "the well-behaved device failed to sync: " << r.status().ToString();
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  };
  std::vector<double> before, during;
  for (int i = 0; i < 5; ++i) before.push_back(timed_sync(i));

  // Every attack at least once, from three attacker threads, while Ann syncs.
  std::atomic<bool> stop{false};
  std::atomic<size_t> next{0};
  std::vector<std::thread> attackers;
  for (int t = 0; t < 3; ++t) {
    attackers.emplace_back([&] {
      while (true) {
        const size_t i = next++;
        if (i >= attack_kinds.size() && stop) return;
        attack_kinds[i % attack_kinds.size()].second();
        ++attacks;
      }
    });
  }
  for (int i = 0; i < 8 || next < attack_kinds.size(); ++i) during.push_back(timed_sync(100 + i));
  stop = true;
  for (std::thread& t : attackers) t.join();
  Tally::Get().faults_injected += attacks;

  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf(
      "[hostile] %llu attacks of %zu kinds; well-behaved sync: median %.1f ms before (max %.1f), median %.1f ms "
      "during (max %.1f) over %zu syncs\n",
      static_cast<unsigned long long>(attacks.load()), attack_kinds.size(), median(before),
      *std::max_element(before.begin(), before.end()), median(during), *std::max_element(during.begin(), during.end()),
      during.size());

  ASSERT_TRUE(server_->running()) << server_->log();
  EXPECT_TRUE(ServesWellBehavedDevice(port(), deployment_));
  // Give the server a moment to log the last closes, then check there is a line per kind.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const std::string log = server_->log();
  for (const char* line :
       {"PROTOCOL_ERROR", "FRAME_TOO_LARGE", "TLS handshake failed", "TLS handshake not completed",
        "frame not completed within", "idle for", "peer closed the connection while reading a frame", "BAD_CREDENTIAL",
        "UNKNOWN_DEVICE", "DEVICE_REVOKED", "refused: connection closed before TLS"}) {
    EXPECT_NE(log.find(line), std::string::npos) << "no log line with \"" << line << "\"";
  }
  FieldDevice bob = NewDevice("bob");
  SyncUntilDone(bob);
  ExpectSameState(ann, bob);
  CheckNothingLostOrDuplicated({&ann}, bob);
}

}  // namespace
}  // namespace outreach::testing
