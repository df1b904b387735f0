// Several devices pushing at the same moment to the real server over TLS, as at a day's
// end: pushes of one hub that meet at the store are committed together (group commit,
// server/store/sqlite_store.h). Each device must still get its own correct ack, the hub
// log must hold each change exactly once, gap-free, a push refused inside the group must
// not take the others with it, and a push re-sent after a lost ack is deduplicated.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>
#include <vector>

#include "common/field_value.h"
#include "common/hlc.h"
#include "common/uuid.h"
#include "tests/support/server_harness.h"

namespace outreach::testing {
namespace {

constexpr int kDevices = 6;
constexpr int kChangesPerPush = 40;

// A push of `count` new participants, device_seq 1..count, names unique to `device`.
v1::Envelope NewParticipantsPush(int device, int count) {
  v1::Envelope envelope = PushEnvelope(static_cast<uint64_t>(device) + 1);
  const int64_t now = HybridClock::SystemMillis();
  for (int i = 0; i < count; ++i) {
    v1::Change* change = envelope.mutable_push()->add_changes();
    change->set_record_id(Uuid::NewV7().raw());
    change->set_type(v1::RECORD_TYPE_PARTICIPANT);
    change->set_hlc(Hlc::FromParts(now, static_cast<uint32_t>(i)).value());
    change->set_device_seq(static_cast<uint64_t>(i) + 1);
    change->set_op(v1::CHANGE_OP_UPSERT);
    for (v1::FieldValue& fv :
         NewParticipantFields("Burst", "Device" + std::to_string(device) + " Person" + std::to_string(i))) {
      *change->add_fields() = std::move(fv);
    }
  }
  return envelope;
}

class ConcurrentPushTest : public ServerTest {
 protected:
  void SetUp() override { StartServer(); }

  // Connects and says hello; fails the test unless welcomed.
  void Welcome(TestPeer& peer, const v1::Enrolled& device) {
    ASSERT_TRUE(peer.Connect().ok());
    ASSERT_TRUE(peer.Send(HelloEnvelope(device.device_id(), device.credential())).ok());
    Result<v1::Envelope> welcome = peer.Receive();
    ASSERT_TRUE(welcome.ok()) << welcome.status().ToString();
    ASSERT_TRUE(welcome->has_welcome()) << welcome->ShortDebugString();
  }

  // Pulls the hub log after `cursor` to its end: server_seq -> record id; `cursor`
  // ends at the last number pulled.
  void PullAll(TestPeer& peer, uint64_t& cursor, std::map<uint64_t, std::string>& logged) {
    for (bool more = true; more;) {
      ASSERT_TRUE(peer.Send(PullEnvelope(cursor, 100)).ok());
      Result<v1::Envelope> page = peer.Receive();
      ASSERT_TRUE(page.ok() && page->has_changes_page()) << (page.ok() ? page->ShortDebugString() : "");
      for (const v1::Change& c : page->changes_page().changes()) {
        EXPECT_TRUE(logged.emplace(c.server_seq(), c.record_id()).second) << "server_seq " << c.server_seq();
      }
      ASSERT_GE(page->changes_page().next_cursor(), cursor);
      cursor = page->changes_page().next_cursor();
      more = page->changes_page().more();
    }
  }
};

TEST_F(ConcurrentPushTest, PushesAtOnceAreEachAckedAndLoggedOnceAndARefusedOneLosesNoOthers) {
  // Device 0 is revoked after its hello: its push is refused inside the store
  // transaction (the device row is read there), after the others may have joined it.
  std::vector<v1::Enrolled> devices;
  for (int d = 0; d <= kDevices; ++d) devices.push_back(EnrolDevice(port(), deployment_));
  std::vector<std::unique_ptr<TestPeer>> peers;
  for (int d = 0; d <= kDevices; ++d) {
    peers.push_back(std::make_unique<TestPeer>(port(), PeerOptions()));
    Welcome(*peers.back(), devices[static_cast<size_t>(d)]);
  }
  const std::string revoked = Uuid::FromBytes(devices[0].device_id()).value().ToString();
  CliResult revoke = RunCli({"device", "revoke", "--device", revoked, "--data", deployment_.data, "--json"});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;

  // What the hub holds already (the server logs changes of its own at enrolment).
  uint64_t before = 0;
  std::map<uint64_t, std::string> existing;
  PullAll(*peers[1], before, existing);

  std::vector<v1::Envelope> pushes;
  for (int d = 0; d <= kDevices; ++d) pushes.push_back(NewParticipantsPush(d, kChangesPerPush));
  // Every push is on the wire before any reply is read.
  for (int d = 0; d <= kDevices; ++d)
    ASSERT_TRUE(peers[static_cast<size_t>(d)]->Send(pushes[static_cast<size_t>(d)]).ok());
  std::vector<Result<v1::Envelope>> replies(kDevices + 1, Status::Internal("no reply"));
  {
    std::vector<std::thread> readers;
    for (int d = 0; d <= kDevices; ++d) {
      readers.emplace_back([&, d] { replies[static_cast<size_t>(d)] = peers[static_cast<size_t>(d)]->Receive(); });
    }
    for (std::thread& t : readers) t.join();
  }

  ASSERT_TRUE(replies[0].ok()) << replies[0].status().ToString();
  ASSERT_TRUE(replies[0]->has_refusal()) << replies[0]->ShortDebugString();
  EXPECT_EQ(replies[0]->refusal().reason(), v1::REFUSAL_REASON_DEVICE_REVOKED);

  std::map<uint64_t, std::string> seq_to_record;  // every server_seq acked, to its record
  std::map<int, std::vector<uint64_t>> acked;     // device -> server_seq per change
  for (int d = 1; d <= kDevices; ++d) {
    const Result<v1::Envelope>& reply = replies[static_cast<size_t>(d)];
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    ASSERT_TRUE(reply->has_push_ack()) << reply->ShortDebugString();
    const v1::PushAck& ack = reply->push_ack();
    EXPECT_EQ(ack.batch_id(), static_cast<uint64_t>(d) + 1);
    ASSERT_EQ(ack.results_size(), kChangesPerPush);
    for (int i = 0; i < kChangesPerPush; ++i) {
      const v1::ChangeResult& r = ack.results(i);
      EXPECT_EQ(r.device_seq(), static_cast<uint64_t>(i) + 1);
      EXPECT_EQ(r.outcome(), v1::CHANGE_OUTCOME_APPLIED) << r.ShortDebugString();
      EXPECT_TRUE(
          seq_to_record.emplace(r.server_seq(), pushes[static_cast<size_t>(d)].push().changes(i).record_id()).second)
          << "server_seq " << r.server_seq() << " acked twice";
      acked[d].push_back(r.server_seq());
    }
  }
  ASSERT_EQ(seq_to_record.size(), static_cast<size_t>(kDevices * kChangesPerPush));
  // Gap-free: the pushes hold the hub's next N numbers, nothing of the refused push among them.
  EXPECT_EQ(seq_to_record.begin()->first, before + 1);
  EXPECT_EQ(seq_to_record.rbegin()->first, before + static_cast<uint64_t>(kDevices * kChangesPerPush));

  // A device that lost its ack sends the batch again: every change is a DUPLICATE with
  // the number it was given the first time.
  {
    TestPeer again(port(), PeerOptions());
    Welcome(again, devices[1]);
    ASSERT_TRUE(again.Send(pushes[1]).ok());
    Result<v1::Envelope> reply = again.Receive();
    ASSERT_TRUE(reply.ok() && reply->has_push_ack()) << (reply.ok() ? reply->ShortDebugString() : "");
    ASSERT_EQ(reply->push_ack().results_size(), kChangesPerPush);
    for (int i = 0; i < kChangesPerPush; ++i) {
      EXPECT_EQ(reply->push_ack().results(i).outcome(), v1::CHANGE_OUTCOME_DUPLICATE);
      EXPECT_EQ(reply->push_ack().results(i).server_seq(), acked[1][static_cast<size_t>(i)]);
    }
  }

  // The hub log, pulled by device 1: each acked change exactly once, at its number, and
  // nothing of the refused device.
  std::set<std::string> refused_records;
  for (const v1::Change& c : pushes[0].push().changes()) refused_records.insert(c.record_id());
  std::map<uint64_t, std::string> logged;
  uint64_t cursor = before;
  PullAll(*peers[1], cursor, logged);
  for (const auto& [seq, record] : logged) {
    EXPECT_EQ(refused_records.count(record), 0u) << "a change of the refused push was logged at " << seq;
  }
  EXPECT_EQ(logged, seq_to_record);
}

}  // namespace
}  // namespace outreach::testing
