#include "client/sync/pusher.h"

#include <google/protobuf/io/coded_stream.h>

#include "client/sync/refusal.h"

namespace outreach::client {

Status Pusher::Run(SyncReport* report, SyncProgress* progress, const SyncProgressCallback& callback) {
  // The device's hub travels as an empty hub_id (which the protocol reads as the
  // device's hub): 18 bytes saved per change.
  Result<std::optional<DeviceIdentity>> identity = store_.LoadIdentity();
  if (!identity.ok()) return identity.status();
  const std::string own_hub = identity->has_value() ? (*identity)->hub_id.raw() : std::string();
  while (true) {
    Result<std::vector<v1::Change>> pending = store_.PendingChanges(batch_size_);
    if (!pending.ok()) return pending.status();
    if (pending->empty()) return Status::Ok();

    v1::Envelope request;
    v1::Push* push = request.mutable_push();
    // The batch id names the batch by its first device_seq: a re-sent batch has the same id.
    push->set_batch_id(pending->front().device_seq());
    // The batch is the longest prefix of the outbox whose Envelope fits the server's frame
    // limit (Welcome.max_frame_bytes); the rest stays in the outbox for the next round.
    // Each change costs its size, its length varint and one tag byte; 16 bytes cover the
    // growth of the Push's own length varint and the Envelope's tag.
    const size_t limit = connection_.max_send_frame_bytes();
    size_t encoded = request.ByteSizeLong() + 16;
    for (v1::Change& change : *pending) {
      if (!own_hub.empty() && change.hub_id() == own_hub) change.clear_hub_id();
      const size_t size = change.ByteSizeLong();
      const size_t cost = 1 + google::protobuf::io::CodedOutputStream::VarintSize64(size) + size;
      if (push->changes_size() > 0 && encoded + cost > limit) break;
      encoded += cost;
      *push->add_changes() = std::move(change);
    }
    if (request.ByteSizeLong() > limit) {
      return Status(ErrorCode::kResourceExhausted,
                    "change device_seq " + std::to_string(push->changes(0).device_seq()) + " encodes to " +
                        std::to_string(request.ByteSizeLong()) + " bytes, over the server's frame limit of " +
                        std::to_string(limit) + "; it cannot be sent",
                    "max_frame_bytes");
    }
    OUTREACH_RETURN_IF_ERROR(connection_.Send(request, timeout_));

    v1::Envelope reply;
    OUTREACH_RETURN_IF_ERROR(connection_.Receive(&reply, timeout_));
    if (reply.has_refusal()) return RefusalStatus(reply.refusal());
    if (!reply.has_push_ack()) return Status::ProtocolError("server answered a Push with something other than PushAck");
    const v1::PushAck& ack = reply.push_ack();
    if (ack.batch_id() != push->batch_id() || ack.results_size() != push->changes_size()) {
      return Status::ProtocolError("PushAck does not match the batch sent");
    }
    OUTREACH_RETURN_IF_ERROR(store_.AcknowledgeChanges(ack));
    for (const v1::ChangeResult& result : ack.results()) {
      switch (result.outcome()) {
        case v1::CHANGE_OUTCOME_APPLIED:
        case v1::CHANGE_OUTCOME_DUPLICATE: ++report->pushed; break;
        case v1::CHANGE_OUTCOME_CONFLICT:
          ++report->pushed;
          ++report->conflicts;
          break;
        case v1::CHANGE_OUTCOME_REJECTED: ++report->rejected; break;
        default: return Status::ProtocolError("PushAck carries a change without an outcome");
      }
    }
    progress->pushed += static_cast<uint64_t>(ack.results_size());
    if (callback) callback(*progress);
  }
}

}  // namespace outreach::client
