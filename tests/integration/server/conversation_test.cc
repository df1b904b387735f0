// The conversation with the real outreach-server over TLS: enrolment, hello, order
// rules, refusals (and wipe for a revoked device), push and pull after welcome.
#include <gtest/gtest.h>

#include <vector>

#include "common/field_value.h"
#include "common/hlc.h"
#include "common/uuid.h"
#include "tests/support/server_harness.h"

namespace outreach::testing {
namespace {

// One field of a participant, encoded as the wire carries it.
v1::FieldValue ParticipantField(const std::string& name, const std::string& value, Hlc base) {
  v1::Participant body;
  const auto* field = v1::Participant::descriptor()->FindFieldByName(name);
  body.GetReflection()->SetString(&body, field, value);
  v1::FieldValue fv;
  fv.set_field(static_cast<uint32_t>(field->number()));
  fv.set_value(EncodeField(body, field));
  fv.set_base_version(base.value());
  return fv;
}

v1::Envelope ParticipantPush(const Uuid& id, uint64_t device_seq, Hlc hlc, std::vector<v1::FieldValue> fields) {
  v1::Envelope envelope = PushEnvelope(device_seq);
  v1::Change* change = envelope.mutable_push()->add_changes();
  change->set_record_id(id.raw());
  change->set_type(v1::RECORD_TYPE_PARTICIPANT);
  change->set_hlc(hlc.value());
  change->set_device_seq(device_seq);
  change->set_op(v1::CHANGE_OP_UPSERT);
  for (v1::FieldValue& fv : fields) *change->add_fields() = std::move(fv);
  return envelope;
}

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
  // A sync in progress while the device is revoked.
  TestPeer in_progress(port(), PeerOptions());
  Result<v1::Envelope> welcome = Hello(in_progress, enrolled.device_id(), enrolled.credential());
  ASSERT_TRUE(welcome.ok() && welcome->has_welcome());
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

  // The sync already past its hello is refused at its next push, and told to wipe too.
  ASSERT_TRUE(in_progress.Send(PushEnvelope(1)).ok());
  Result<v1::Envelope> refused = in_progress.Receive();
  ExpectRefusal(refused, v1::REFUSAL_REASON_DEVICE_REVOKED);
  ASSERT_TRUE(refused.ok() && refused->has_refusal());
  EXPECT_TRUE(refused->refusal().wipe());

  CliResult list = RunCli({"--json", "device", "list", "--data", deployment_.data});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  ASSERT_EQ(list.json()["devices"].size(), 1u);
  EXPECT_EQ(list.json()["devices"][0]["revoked"], true);
}

TEST_F(ConversationTest, ConflictIsListedResolvedThroughTheCliAndReachesAThirdDevice) {
  v1::Enrolled a = EnrolDevice(port(), deployment_);
  v1::Enrolled b = EnrolDevice(port(), deployment_);
  v1::Enrolled c = EnrolDevice(port(), deployment_);
  const Uuid participant = Uuid::NewV7();
  const int64_t now = HybridClock::SystemMillis();
  const Hlc created = Hlc::FromParts(now, 0);

  // Adviser A registers Sam, then changes the phone number; adviser B, offline, changed
  // it from the same base a little later.
  TestPeer peer_a(port(), PeerOptions());
  Result<v1::Envelope> welcome = Hello(peer_a, a.device_id(), a.credential());
  ASSERT_TRUE(welcome.ok() && welcome->has_welcome());
  std::vector<v1::FieldValue> registration = NewParticipantFields("Sam", "Okafor");
  registration.push_back(ParticipantField("phone", "+441134960001", Hlc()));
  ASSERT_TRUE(peer_a.Send(ParticipantPush(participant, 1, created, std::move(registration))).ok());
  Result<v1::Envelope> ack = peer_a.Receive();
  ASSERT_TRUE(ack.ok() && ack->has_push_ack()) << (ack.ok() ? ack->ShortDebugString() : ack.status().ToString());
  ASSERT_EQ(ack->push_ack().results(0).outcome(), v1::CHANGE_OUTCOME_APPLIED) << ack->ShortDebugString();
  ASSERT_TRUE(peer_a
                  .Send(ParticipantPush(participant, 2, Hlc::FromParts(now + 1, 0),
                                        {ParticipantField("phone", "+441134960002", created)}))
                  .ok());
  ack = peer_a.Receive();
  ASSERT_TRUE(ack.ok() && ack->has_push_ack());
  EXPECT_EQ(ack->push_ack().results(0).outcome(), v1::CHANGE_OUTCOME_APPLIED) << ack->ShortDebugString();

  TestPeer peer_b(port(), PeerOptions());
  welcome = Hello(peer_b, b.device_id(), b.credential());
  ASSERT_TRUE(welcome.ok() && welcome->has_welcome());
  ASSERT_TRUE(peer_b
                  .Send(ParticipantPush(participant, 1, Hlc::FromParts(now + 2, 0),
                                        {ParticipantField("phone", "+441134960003", created)}))
                  .ok());
  ack = peer_b.Receive();
  ASSERT_TRUE(ack.ok() && ack->has_push_ack());
  EXPECT_EQ(ack->push_ack().results(0).outcome(), v1::CHANGE_OUTCOME_CONFLICT) << ack->ShortDebugString();

  // The hub manager sees it and takes the losing number.
  CliResult list = RunCli({"conflicts", "list", "--data", deployment_.data, "--hub", deployment_.hub_id, "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  Json conflicts = list.json()["conflicts"];
  ASSERT_EQ(conflicts.size(), 1u) << list.out;
  EXPECT_EQ(conflicts[0]["record_id"], participant.ToString());
  EXPECT_EQ(conflicts[0]["field"], "phone");
  EXPECT_NE(conflicts[0]["winning_value"].get<std::string>().find("960003"), std::string::npos) << list.out;
  EXPECT_NE(conflicts[0]["losing_value"].get<std::string>().find("960002"), std::string::npos) << list.out;
  EXPECT_EQ(conflicts[0]["status"], "open");
  const std::string conflict_id = conflicts[0]["conflict_id"];

  CliResult resolve = RunCli({"conflicts", "resolve", "--hub", deployment_.hub_id, "--conflict", conflict_id, "--keep",
                              "loser", "--by", "Morgan Manager", "--data", deployment_.data, "--json"});
  ASSERT_EQ(resolve.exit_code, 0) << resolve.err;
  EXPECT_EQ(resolve.json()["status"], "took_loser");
  // Resolving twice is refused and names the conflict.
  CliResult again = RunCli({"conflicts", "resolve", "--hub", deployment_.hub_id, "--conflict", conflict_id, "--keep",
                            "winner", "--by", "Morgan Manager", "--data", deployment_.data});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("conflict"), std::string::npos) << again.err;

  CliResult open = RunCli({"conflicts", "list", "--data", deployment_.data, "--hub", deployment_.hub_id, "--json"});
  EXPECT_TRUE(open.json()["conflicts"].empty()) << open.out;
  CliResult all =
      RunCli({"conflicts", "list", "--all", "--data", deployment_.data, "--hub", deployment_.hub_id, "--json"});
  ASSERT_EQ(all.json()["conflicts"].size(), 1u) << all.out;
  EXPECT_EQ(all.json()["conflicts"][0]["status"], "took_loser");
  EXPECT_EQ(all.json()["conflicts"][0]["resolved_by"], "Morgan Manager");

  // A third device pulls the whole story: the conflict record and, last for the phone,
  // the number the manager kept.
  TestPeer peer_c(port(), PeerOptions());
  welcome = Hello(peer_c, c.device_id(), c.credential());
  ASSERT_TRUE(welcome.ok() && welcome->has_welcome());
  uint64_t cursor = 0;
  bool more = true;
  bool saw_conflict = false;
  std::string last_phone;
  const std::string phone_960002 = ParticipantField("phone", "+441134960002", Hlc()).value();
  const std::string phone_960003 = ParticipantField("phone", "+441134960003", Hlc()).value();
  const uint32_t phone_field = static_cast<uint32_t>(v1::Participant::kPhoneFieldNumber);
  Hlc last_phone_hlc;
  while (more) {
    ASSERT_TRUE(peer_c.Send(PullEnvelope(cursor, 2)).ok());
    Result<v1::Envelope> page = peer_c.Receive();
    ASSERT_TRUE(page.ok() && page->has_changes_page()) << (page.ok() ? page->ShortDebugString() : "");
    for (const v1::Change& change : page->changes_page().changes()) {
      saw_conflict = saw_conflict || change.type() == v1::RECORD_TYPE_CONFLICT;
      if (change.record_id() != participant.raw()) continue;
      for (const v1::FieldValue& fv : change.fields()) {
        if (fv.field() == phone_field && Hlc(change.hlc()) >= last_phone_hlc) {
          last_phone_hlc = Hlc(change.hlc());
          last_phone = fv.value();
        }
      }
    }
    ASSERT_GT(page->changes_page().next_cursor(), cursor);
    cursor = page->changes_page().next_cursor();
    more = page->changes_page().more();
  }
  EXPECT_TRUE(saw_conflict);
  EXPECT_EQ(last_phone, phone_960002) << "the latest phone stamp is not the number the manager kept";
  EXPECT_NE(last_phone, phone_960003);
}

}  // namespace
}  // namespace outreach::testing
