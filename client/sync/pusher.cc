#include "client/sync/pusher.h"

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
    for (v1::Change& change : *pending) {
      if (!own_hub.empty() && change.hub_id() == own_hub) change.clear_hub_id();
      *push->add_changes() = std::move(change);
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
