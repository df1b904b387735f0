#include "tests/security/hostile_device.h"

#include "common/field_value.h"
#include "common/hlc.h"

namespace outreach::testing {
namespace {

Status Unexpected(const char* what, const v1::Envelope& reply) {
  return Status(ErrorCode::kProtocolError, std::string("expected ") + what + ", got " + reply.ShortDebugString());
}

}  // namespace

Result<std::unique_ptr<HostileDevice>> HostileDevice::Enrol(uint16_t port, const std::string& ca_pem,
                                                            const std::string& code) {
  std::unique_ptr<HostileDevice> device(new HostileDevice(port, ca_pem));
  TestPeer peer(port, {.ca_pem = ca_pem});
  OUTREACH_RETURN_IF_ERROR(peer.Connect());
  OUTREACH_RETURN_IF_ERROR(peer.Send(EnrolEnvelope(code, "hostile tablet")));
  Result<v1::Envelope> reply = peer.Receive();
  if (!reply.ok()) return reply.status();
  if (!reply->has_enrolled()) return Unexpected("enrolled", *reply);
  device->enrolled_ = reply->enrolled();
  OUTREACH_RETURN_IF_ERROR(device->Hello());
  return device;
}

Status HostileDevice::Hello() {
  peer_ = std::make_unique<TestPeer>(port_, TestPeer::Options{.ca_pem = ca_pem_});
  return SayHello(*peer_, enrolled_);
}

Result<v1::Envelope> HostileDevice::Exchange(const v1::Envelope& request) {
  if (peer_ == nullptr) return Status::FailedPrecondition("no connection", "peer");
  OUTREACH_RETURN_IF_ERROR(peer_->Send(request));
  return peer_->Receive();
}

Result<v1::PushAck> HostileDevice::Push(std::vector<v1::Change> changes) {
  v1::Envelope push = PushEnvelope(next_seq_);
  for (v1::Change& c : changes) {
    c.set_device_seq(next_seq_++);
    *push.mutable_push()->add_changes() = std::move(c);
  }
  Result<v1::Envelope> reply = Exchange(push);
  if (!reply.ok()) return reply.status();
  if (!reply->has_push_ack()) return Unexpected("push_ack", *reply);
  return reply->push_ack();
}

Result<v1::ChangeResult> HostileDevice::PushOne(v1::Change change) {
  std::vector<v1::Change> one;
  one.push_back(std::move(change));
  Result<v1::PushAck> ack = Push(std::move(one));
  if (!ack.ok()) return ack.status();
  if (ack->results_size() != 1) return Status::Internal("a push of one change got " + ack->ShortDebugString());
  return ack->results(0);
}

Result<v1::Envelope> HostileDevice::PullReply(uint64_t cursor) {
  return Exchange(PullEnvelope(cursor, 1000));
}

Result<std::vector<v1::Change>> HostileDevice::PullAll() {
  std::vector<v1::Change> all;
  uint64_t cursor = 0;
  while (true) {
    Result<v1::Envelope> reply = PullReply(cursor);
    if (!reply.ok()) return reply.status();
    if (!reply->has_changes_page()) return Unexpected("changes_page", *reply);
    for (const v1::Change& c : reply->changes_page().changes()) all.push_back(c);
    cursor = reply->changes_page().next_cursor();
    if (!reply->changes_page().more()) return all;
  }
}

v1::Change HostileDevice::Upsert(v1::RecordType type, const Uuid& id, const google::protobuf::Message& body) {
  v1::Change change;
  change.set_record_id(id.raw());
  change.set_type(type);
  change.set_op(v1::CHANGE_OP_UPSERT);
  change.set_hlc(Hlc::FromParts(HybridClock::SystemMillis(), 0).value());
  for (v1::FieldValue& fv : AllFields(body)) *change.add_fields() = std::move(fv);
  return change;
}

v1::Change HostileDevice::Edit(v1::RecordType type, const Uuid& id, const google::protobuf::Message& body,
                               const std::vector<std::string>& fields) {
  v1::Change change;
  change.set_record_id(id.raw());
  change.set_type(type);
  change.set_op(v1::CHANGE_OP_UPSERT);
  change.set_hlc(Hlc::FromParts(HybridClock::SystemMillis(), 0).value());
  for (const std::string& name : fields) {
    const auto* field = body.GetDescriptor()->FindFieldByName(name);
    if (field == nullptr) continue;
    v1::FieldValue* fv = change.add_fields();
    fv->set_field(static_cast<uint32_t>(field->number()));
    fv->set_value(EncodeField(body, field));
  }
  return change;
}

}  // namespace outreach::testing
