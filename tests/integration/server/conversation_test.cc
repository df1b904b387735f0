// The conversation with the real outreach-server over TLS: enrolment, hello, order
// rules, refusals (and wipe for a revoked device), push and pull after welcome.
#include <gtest/gtest.h>

#include "common/uuid.h"
#include "tests/integration/server/server_harness.h"

namespace outreach::testing {
namespace {

class ConversationTest : public ServerTest {
 protected:
  void SetUp() override { StartServer(); }

  // Connects and says hello; returns the reply.
  Result<v1::Envelope> Hello(TestPeer& peer, const std::string& device_id, const std::string& credential) {
    OUTREACH_RETURN_IF_ERROR(peer.Connect());
    OUTREACH_RETURN_IF_ERROR(peer.Send(HelloEnvelope(device_id, credential)));
    return peer.Receive();
  }

  void ExpectRefusal(const Result<v1::Envelope>& reply, v1::RefusalReason reason) {
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    ASSERT_TRUE(reply->has_refusal()) << reply->ShortDebugString();
    EXPECT_EQ(reply->refusal().reason(), reason) << reply->refusal().ShortDebugString();
  }
};

TEST_F(ConversationTest, EnrolmentCodeIsExchangedOnceForACredentialAndTheCa) {
  const std::string code = deployment_.IssueCode("adviser", "Alex Adviser");
  TestPeer peer(port(), PeerOptions());
  ASSERT_TRUE(peer.Connect().ok());
  ASSERT_TRUE(peer.Send(EnrolEnvelope(code, "Alex's tablet")).ok());
  Result<v1::Envelope> reply = peer.Receive();
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  ASSERT_TRUE(reply->has_enrolled()) << reply->ShortDebugString();
  const v1::Enrolled& enrolled = reply->enrolled();
  EXPECT_EQ(enrolled.device_id().size(), Uuid::kSize);
  EXPECT_FALSE(enrolled.credential().empty());
  EXPECT_EQ(enrolled.role(), v1::ROLE_ADVISER);
  EXPECT_EQ(enrolled.user_name(), "Alex Adviser");
  EXPECT_EQ(enrolled.ca_pem(), deployment_.ca_pem);
  EXPECT_EQ(Uuid::FromBytes(enrolled.hub_id()).value().ToString(), deployment_.hub_id);
  EXPECT_FALSE(enrolled.reference_prefix().empty());
  EXPECT_TRUE(peer.WaitClosed(3s)) << "an enrolment is a conversation of its own";

  // The same code a second time is refused.
  TestPeer again(port(), PeerOptions());
  ASSERT_TRUE(again.Connect().ok());
  ASSERT_TRUE(again.Send(EnrolEnvelope(code)).ok());
  ExpectRefusal(again.Receive(), v1::REFUSAL_REASON_BAD_ENROLMENT_CODE);
  EXPECT_TRUE(again.WaitClosed(3s));

  // The device appears in `device list`.
  CliResult list = RunCli({"device", "list", "--data", deployment_.data, "--hub", deployment_.hub_id, "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  Json devices = list.json()["devices"];
  ASSERT_EQ(devices.size(), 1u) << list.out;
  EXPECT_EQ(devices[0]["device_id"], Uuid::FromBytes(enrolled.device_id()).value().ToString());
  EXPECT_EQ(devices[0]["role"], "adviser");
  EXPECT_EQ(devices[0]["device_name"], "Alex's tablet");
  EXPECT_EQ(devices[0]["revoked"], false);
}

TEST_F(ConversationTest, HelloWithTheCredentialIsWelcomedThenPushAndPullInAnyOrder) {
  v1::Enrolled enrolled = EnrolDevice(port(), deployment_);
  TestPeer peer(port(), PeerOptions());
  Result<v1::Envelope> reply = Hello(peer, enrolled.device_id(), enrolled.credential());
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  ASSERT_TRUE(reply->has_welcome()) << reply->ShortDebugString();
  const v1::Welcome& welcome = reply->welcome();
  EXPECT_EQ(welcome.protocol_version(), static_cast<uint32_t>(v1::PROTOCOL_VERSION_1));
  EXPECT_EQ(welcome.role(), v1::ROLE_ADVISER);
  EXPECT_EQ(welcome.hub_id(), enrolled.hub_id());
  EXPECT_EQ(welcome.max_frame_bytes(), kMaxFrameBytes);
  EXPECT_GT(welcome.server_time_ms(), 0);
  EXPECT_GT(welcome.max_clock_skew_ms(), 0);

  ASSERT_TRUE(peer.Send(PullEnvelope(0)).ok());
  Result<v1::Envelope> page = peer.Receive();
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_TRUE(page->has_changes_page()) << page->ShortDebugString();

  ASSERT_TRUE(peer.Send(PushEnvelope(7)).ok());  // an empty batch
  Result<v1::Envelope> ack = peer.Receive();
  ASSERT_TRUE(ack.ok()) << ack.status().ToString();
  ASSERT_TRUE(ack->has_push_ack()) << ack->ShortDebugString();
  EXPECT_EQ(ack->push_ack().batch_id(), 7u);
  EXPECT_EQ(ack->push_ack().results_size(), 0);

  ASSERT_TRUE(peer.Send(PullEnvelope(page->changes_page().next_cursor())).ok());
  Result<v1::Envelope> again = peer.Receive();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->has_changes_page()) << again->ShortDebugString();
}

TEST_F(ConversationTest, SecondHelloOrEnrolAfterWelcomeIsAProtocolError) {
  v1::Enrolled enrolled = EnrolDevice(port(), deployment_);
  TestPeer twice(port(), PeerOptions());
  Result<v1::Envelope> welcome = Hello(twice, enrolled.device_id(), enrolled.credential());
  ASSERT_TRUE(welcome.ok() && welcome->has_welcome());
  ASSERT_TRUE(twice.Send(HelloEnvelope(enrolled.device_id(), enrolled.credential())).ok());
  ExpectRefusal(twice.Receive(), v1::REFUSAL_REASON_PROTOCOL_ERROR);
  EXPECT_TRUE(twice.WaitClosed(3s));

  TestPeer enrol_late(port(), PeerOptions());
  welcome = Hello(enrol_late, enrolled.device_id(), enrolled.credential());
  ASSERT_TRUE(welcome.ok() && welcome->has_welcome());
  ASSERT_TRUE(enrol_late.Send(EnrolEnvelope("whatever")).ok());
  ExpectRefusal(enrol_late.Receive(), v1::REFUSAL_REASON_PROTOCOL_ERROR);
  EXPECT_TRUE(ServesWellBehavedDevice(port(), deployment_));
}

TEST_F(ConversationTest, WrongCredentialAndUnknownDeviceAreRefused) {
  v1::Enrolled enrolled = EnrolDevice(port(), deployment_);
  TestPeer wrong(port(), PeerOptions());
  ExpectRefusal(Hello(wrong, enrolled.device_id(), "not the credential"), v1::REFUSAL_REASON_BAD_CREDENTIAL);
  EXPECT_TRUE(wrong.WaitClosed(3s));

  TestPeer unknown(port(), PeerOptions());
  ExpectRefusal(Hello(unknown, Uuid::NewV7().raw(), enrolled.credential()), v1::REFUSAL_REASON_UNKNOWN_DEVICE);
  EXPECT_TRUE(unknown.WaitClosed(3s));

  // The real credential still works: a refusal changed nothing.
  TestPeer right(port(), PeerOptions());
  Result<v1::Envelope> welcome = Hello(right, enrolled.device_id(), enrolled.credential());
  ASSERT_TRUE(welcome.ok()) << welcome.status().ToString();
  EXPECT_TRUE(welcome->has_welcome()) << welcome->ShortDebugString();
}

TEST_F(ConversationTest, RevokedDeviceIsRefusedAndToldToWipe) {
  v1::Enrolled enrolled = EnrolDevice(port(), deployment_);
  const std::string device_id = Uuid::FromBytes(enrolled.device_id()).value().ToString();
  // Global options after the verb.
  CliResult revoke = RunCli(
      {"device", "revoke", "--device", device_id, "--hub", deployment_.hub_id, "--data", deployment_.data, "--json"});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  EXPECT_EQ(revoke.json()["device_id"], device_id);
  EXPECT_EQ(revoke.json()["revoked"], true);

  TestPeer peer(port(), PeerOptions());
  Result<v1::Envelope> reply = Hello(peer, enrolled.device_id(), enrolled.credential());
  ExpectRefusal(reply, v1::REFUSAL_REASON_DEVICE_REVOKED);
  ASSERT_TRUE(reply.ok() && reply->has_refusal());
  EXPECT_TRUE(reply->refusal().wipe());
  EXPECT_TRUE(peer.WaitClosed(3s));

  CliResult list = RunCli({"--json", "device", "list", "--data", deployment_.data});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  ASSERT_EQ(list.json()["devices"].size(), 1u);
  EXPECT_EQ(list.json()["devices"][0]["revoked"], true);
}

}  // namespace
}  // namespace outreach::testing
