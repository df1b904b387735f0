// Frame compression with the real outreach-server over TLS: agreed at hello, used both
// ways after the Welcome, never imposed on a device that did not ask, and bounded by the
// frame limit once decompressed. The device side is the client library's own
// SyncConnection (which offers zstd in every Hello); the older device is TestPeer, whose
// decoder accepts no compressed frame.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "client/sync/connection.h"
#include "common/compression.h"
#include "common/field_value.h"
#include "common/frame.h"
#include "common/hlc.h"
#include "common/uuid.h"
#include "tests/support/drama_numbers.h"
#include "tests/support/server_harness.h"

namespace outreach::testing {
namespace {

using client::SyncConnection;

v1::FieldValue ParticipantField(const std::string& name, const std::string& value) {
  v1::Participant body;
  const auto* field = v1::Participant::descriptor()->FindFieldByName(name);
  body.GetReflection()->SetString(&body, field, value);
  v1::FieldValue fv;
  fv.set_field(static_cast<uint32_t>(field->number()));
  fv.set_value(EncodeField(body, field));
  return fv;
}

// `count` new participants from one device, device_seq 1..count, hub_id empty (the
// device's own hub).
v1::Envelope RegistrationPush(int count) {
  v1::Envelope envelope = PushEnvelope(1);
  const int64_t now = HybridClock::SystemMillis();
  for (int i = 0; i < count; ++i) {
    v1::Change* change = envelope.mutable_push()->add_changes();
    change->set_record_id(Uuid::NewV7().raw());
    change->set_type(v1::RECORD_TYPE_PARTICIPANT);
    change->set_hlc(Hlc::FromParts(now, static_cast<uint32_t>(i)).value());
    change->set_device_seq(static_cast<uint64_t>(i + 1));
    change->set_op(v1::CHANGE_OP_UPSERT);
    for (v1::FieldValue& fv : NewParticipantFields("Robin", "Example " + std::to_string(i))) {
      *change->add_fields() = std::move(fv);
    }
    *change->add_fields() = ParticipantField("phone", DramaPhoneNumberE164(static_cast<uint64_t>(i)));
  }
  return envelope;
}

class CompressionTest : public ServerTest {
 protected:
  void SetUp() override { StartServer(); }

  // Connects `connection` for `device` and says hello; the Welcome.
  v1::Welcome Hello(SyncConnection& connection, const v1::Enrolled& device) {
    Result<client::ServerAddress> address = client::ServerAddress::Parse("127.0.0.1:" + std::to_string(port()));
    EXPECT_TRUE(address.ok());
    Status connected = connection.Connect(*address, deployment_.ca_pem, 5s);
    EXPECT_TRUE(connected.ok()) << connected.ToString();
    EXPECT_TRUE(connection.Send(HelloEnvelope(device.device_id(), device.credential()), 5s).ok());
    v1::Envelope reply;
    Status received = connection.Receive(&reply, 5s);
    EXPECT_TRUE(received.ok()) << received.ToString();
    EXPECT_TRUE(reply.has_welcome()) << reply.ShortDebugString();
    return reply.welcome();
  }

  // One request and its reply over `connection`, with the frame bytes each way.
  struct Exchange {
    v1::Envelope reply;
    uint64_t sent = 0;
    uint64_t received = 0;
  };
  Exchange Request(SyncConnection& connection, const v1::Envelope& request) {
    Exchange out;
    const uint64_t sent = connection.bytes_sent(), received = connection.bytes_received();
    Status st = connection.Send(request, 5s);
    EXPECT_TRUE(st.ok()) << st.ToString();
    st = connection.Receive(&out.reply, 5s);
    EXPECT_TRUE(st.ok()) << st.ToString() << "\n" << log();
    out.sent = connection.bytes_sent() - sent;
    out.received = connection.bytes_received() - received;
    return out;
  }

  // Registers `count` participants through a compressing connection; their record ids.
  std::set<std::string> Register(const v1::Enrolled& device, int count) {
    SyncConnection connection;
    Hello(connection, device);
    const v1::Envelope push = RegistrationPush(count);
    Exchange ack = Request(connection, push);
    EXPECT_EQ(ack.reply.push_ack().results_size(), count) << ack.reply.ShortDebugString();
    for (const v1::ChangeResult& result : ack.reply.push_ack().results()) {
      EXPECT_EQ(result.outcome(), v1::CHANGE_OUTCOME_APPLIED) << result.ShortDebugString();
    }
    std::set<std::string> ids;
    for (const v1::Change& change : push.push().changes()) ids.insert(change.record_id());
    return ids;
  }

  // Expects the next frame to be a Refusal for `reason`, then the connection to close.
  static void ExpectRefusedAndClosed(TestPeer& peer, v1::RefusalReason reason) {
    Result<v1::Envelope> reply = peer.Receive();
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    ASSERT_TRUE(reply->has_refusal()) << reply->ShortDebugString();
    EXPECT_EQ(reply->refusal().reason(), reason) << reply->refusal().ShortDebugString();
    EXPECT_TRUE(peer.WaitClosed(3s)) << "the server kept the connection open after a refusal";
  }

  // A TestPeer welcomed for `device`, offering zstd or not.
  std::unique_ptr<TestPeer> WelcomedPeer(const v1::Enrolled& device, bool offer_zstd) {
    auto peer = std::make_unique<TestPeer>(port(), PeerOptions());
    EXPECT_TRUE(peer->Connect().ok());
    v1::Envelope hello = HelloEnvelope(device.device_id(), device.credential());
    if (offer_zstd) hello.mutable_hello()->add_compression(v1::COMPRESSION_ZSTD);
    EXPECT_TRUE(peer->Send(hello).ok());
    Result<v1::Envelope> welcome = peer->Receive();
    EXPECT_TRUE(welcome.ok() && welcome->has_welcome()) << log();
    if (welcome.ok()) {
      EXPECT_EQ(welcome->welcome().compression(), offer_zstd ? v1::COMPRESSION_ZSTD : v1::COMPRESSION_NONE);
    }
    return peer;
  }
};

TEST_F(CompressionTest, ADeviceThatOffersZstdPushesAndPullsCompressedFrames) {
  const v1::Enrolled writer = EnrolDevice(port(), deployment_);
  const v1::Enrolled reader = EnrolDevice(port(), deployment_);

  SyncConnection pushing;
  EXPECT_EQ(Hello(pushing, writer).compression(), v1::COMPRESSION_ZSTD);
  EXPECT_EQ(pushing.compression(), v1::COMPRESSION_ZSTD);
  const v1::Envelope push = RegistrationPush(300);
  Exchange ack = Request(pushing, push);
  // On the wire the push is a fraction of its Envelope; the server decoded all of it.
  EXPECT_LT(ack.sent * 2, push.ByteSizeLong()) << ack.sent << " bytes sent for " << push.ByteSizeLong();
  ASSERT_EQ(ack.reply.push_ack().results_size(), 300) << ack.reply.ShortDebugString();
  for (const v1::ChangeResult& result : ack.reply.push_ack().results()) {
    EXPECT_EQ(result.outcome(), v1::CHANGE_OUTCOME_APPLIED) << result.ShortDebugString();
  }
  EXPECT_LT(ack.received, ack.reply.ByteSizeLong()) << "the acknowledgement came back plain";

  SyncConnection pulling;
  EXPECT_EQ(Hello(pulling, reader).compression(), v1::COMPRESSION_ZSTD);
  Exchange page = Request(pulling, PullEnvelope(0, 1000));
  ASSERT_TRUE(page.reply.has_changes_page()) << page.reply.ShortDebugString();
  EXPECT_LT(page.received * 2, page.reply.ByteSizeLong())
      << page.received << " bytes received for a page of " << page.reply.ByteSizeLong();
  std::set<std::string> pulled;
  for (const v1::Change& change : page.reply.changes_page().changes()) {
    // The device's own hub travels as an empty hub_id.
    EXPECT_TRUE(change.hub_id().empty()) << change.ShortDebugString();
    EXPECT_FALSE(change.author().empty());
    if (change.origin_device() == writer.device_id()) pulled.insert(change.record_id());
  }
  std::set<std::string> pushed;
  for (const v1::Change& change : push.push().changes()) pushed.insert(change.record_id());
  EXPECT_EQ(pulled, pushed);
}

TEST_F(CompressionTest, ADeviceThatDoesNotAskGetsPlainFrames) {
  const v1::Enrolled writer = EnrolDevice(port(), deployment_);
  const v1::Enrolled reader = EnrolDevice(port(), deployment_);
  const std::set<std::string> pushed = Register(writer, 300);

  // TestPeer decodes plain frames only: a compressed page would fail its Receive.
  std::unique_ptr<TestPeer> older = WelcomedPeer(reader, /*offer_zstd=*/false);
  ASSERT_TRUE(older->Send(PullEnvelope(0, 1000)).ok());
  Result<v1::Envelope> page = older->Receive();
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  std::set<std::string> pulled;
  for (const v1::Change& change : page->changes_page().changes()) {
    if (change.origin_device() == writer.device_id()) pulled.insert(change.record_id());
  }
  EXPECT_EQ(pulled, pushed);

  // The client library told not to offer: the same, and it sends plain frames too.
  SyncConnection plain;
  plain.set_offer_compression(false);
  EXPECT_EQ(Hello(plain, reader).compression(), v1::COMPRESSION_NONE);
  EXPECT_EQ(plain.compression(), v1::COMPRESSION_NONE);
  Exchange again = Request(plain, PullEnvelope(0, 1000));
  EXPECT_EQ(again.received, kFrameHeaderBytes + again.reply.ByteSizeLong());
  EXPECT_EQ(again.reply.changes_page().changes_size(), page->changes_page().changes_size());
}

TEST_F(CompressionTest, CompressedFrameBeforeAgreementIsAProtocolError) {
  const v1::Enrolled device = EnrolDevice(port(), deployment_);
  const std::string frame = EncodeFrame(RegistrationPush(100), kMaxFrameBytes, v1::COMPRESSION_ZSTD).value();

  // After a Welcome that agreed nothing.
  std::unique_ptr<TestPeer> peer = WelcomedPeer(device, /*offer_zstd=*/false);
  ASSERT_TRUE(peer->SendRaw(frame).ok());
  ExpectRefusedAndClosed(*peer, v1::REFUSAL_REASON_PROTOCOL_ERROR);
  EXPECT_NE(log().find("no compression was agreed"), std::string::npos) << log();

  // As the first frame, before any hello.
  TestPeer early(port(), PeerOptions());
  ASSERT_TRUE(early.Connect().ok());
  ASSERT_TRUE(early.SendRaw(frame).ok());
  ExpectRefusedAndClosed(early, v1::REFUSAL_REASON_PROTOCOL_ERROR);
  EXPECT_TRUE(ServesWellBehavedDevice(port(), deployment_));
}

TEST_F(CompressionTest, TheFrameLimitBoundsWhatACompressedFrameExpandsTo) {
  const v1::Enrolled device = EnrolDevice(port(), deployment_);

  // A zip bomb: 16 MiB of zeros in a frame of a few hundred bytes.
  {
    std::unique_ptr<TestPeer> peer = WelcomedPeer(device, /*offer_zstd=*/true);
    v1::Envelope bomb;
    bomb.mutable_compressed()->set_codec(v1::COMPRESSION_ZSTD);
    bomb.mutable_compressed()->set_size(16u << 20);
    bomb.mutable_compressed()->set_data(Compress(v1::COMPRESSION_ZSTD, std::string(16u << 20, '\0')).value());
    ASSERT_TRUE(peer->Send(bomb).ok());
    ExpectRefusedAndClosed(*peer, v1::REFUSAL_REASON_FRAME_TOO_LARGE);
  }
  // A real push whose Envelope is over the 64 KiB limit, compressed to well under it.
  {
    std::unique_ptr<TestPeer> peer = WelcomedPeer(device, /*offer_zstd=*/true);
    const v1::Envelope push = RegistrationPush(1000);
    ASSERT_GT(push.ByteSizeLong(), kMaxFrameBytes);
    const std::string frame = EncodeFrame(push, 4 * kMaxFrameBytes, v1::COMPRESSION_ZSTD).value();
    ASSERT_LT(frame.size(), kMaxFrameBytes);
    ASSERT_TRUE(peer->SendRaw(frame).ok());
    ExpectRefusedAndClosed(*peer, v1::REFUSAL_REASON_FRAME_TOO_LARGE);
  }
  // Corrupt data.
  {
    std::unique_ptr<TestPeer> peer = WelcomedPeer(device, /*offer_zstd=*/true);
    std::string frame = EncodeFrame(RegistrationPush(100), kMaxFrameBytes, v1::COMPRESSION_ZSTD).value();
    frame[frame.size() / 2] ^= 0x5A;
    ASSERT_TRUE(peer->SendRaw(frame).ok());
    ExpectRefusedAndClosed(*peer, v1::REFUSAL_REASON_PROTOCOL_ERROR);
  }
  EXPECT_NE(log().find("compressed.size"), std::string::npos) << log();
  EXPECT_NE(log().find("compressed.data"), std::string::npos) << log();
  EXPECT_TRUE(ServesWellBehavedDevice(port(), deployment_));
}

}  // namespace
}  // namespace outreach::testing
