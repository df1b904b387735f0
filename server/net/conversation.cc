#include "server/net/conversation.h"

#include <exception>

#include <spdlog/spdlog.h>

#include "common/compression.h"

namespace outreach::server {
namespace {

// "push", "hello", ... for log lines and refusal details; "nothing" for an unset oneof.
std::string MessageName(const v1::Envelope& envelope) {
  if (envelope.message_case() == v1::Envelope::MESSAGE_NOT_SET) return "an envelope with no message";
  const auto* field = v1::Envelope::descriptor()->FindFieldByNumber(envelope.message_case());
  return field != nullptr ? field->name() : "an unknown message";
}

Conversation::Reply Refuse(v1::RefusalReason reason, const std::string& detail) {
  Conversation::Reply reply;
  reply.envelope = Conversation::MakeRefusal(reason, detail);
  reply.close = true;
  reply.close_reason = v1::RefusalReason_Name(reason) + ": " + detail;
  return reply;
}

// A store that is busy (kUnavailable: a PostgreSQL lock or statement timeout, no free
// connection) is a transient condition: the device is told SERVER_BUSY, which it treats
// as retry-later, rather than INTERNAL_ERROR. Logged here because the session's close
// line does not say the cause was the store.
v1::RefusalReason ReasonForServerFailure(const std::string& what, const Status& status) {
  if (status.code() != ErrorCode::kUnavailable) return v1::REFUSAL_REASON_INTERNAL_ERROR;
  spdlog::warn("{}: store busy, refusing with SERVER_BUSY: {}", what, status.ToString());
  return v1::REFUSAL_REASON_SERVER_BUSY;
}

// A refusal the service filled in; if it left the reason unset, SERVER_BUSY for a busy
// store (kUnavailable), INTERNAL_ERROR otherwise.
Conversation::Reply Refused(const std::string& what, v1::Refusal refusal, const Status& status) {
  if (refusal.reason() == v1::REFUSAL_REASON_UNSPECIFIED) refusal.set_reason(ReasonForServerFailure(what, status));
  if (refusal.detail().empty()) refusal.set_detail(status.message());
  Conversation::Reply reply;
  reply.close = true;
  reply.close_reason = v1::RefusalReason_Name(refusal.reason()) + ": " + status.ToString();
  *reply.envelope.mutable_refusal() = std::move(refusal);
  return reply;
}

// A Push or Pull the service could not serve as a whole: a device revoked since its
// hello must wipe; the device's fault (a batch over the limit, a malformed request) is a
// protocol error; a busy store (kUnavailable) is SERVER_BUSY; anything else is internal.
Conversation::Reply RefuseFailedRequest(const std::string& what, const Status& status) {
  switch (status.code()) {
    case ErrorCode::kUnauthenticated: {  // revoked since its hello
      Conversation::Reply reply = Refuse(v1::REFUSAL_REASON_DEVICE_REVOKED, status.message());
      reply.envelope.mutable_refusal()->set_wipe(true);
      return reply;
    }
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kResourceExhausted:
    case ErrorCode::kProtocolError:
    case ErrorCode::kPermissionDenied:
      return Refuse(v1::REFUSAL_REASON_PROTOCOL_ERROR, what + " refused: " + status.ToString());
    default: return Refuse(ReasonForServerFailure(what, status), what + " failed: " + status.ToString());
  }
}

}  // namespace

v1::Envelope Conversation::MakeRefusal(v1::RefusalReason reason, const std::string& detail) {
  v1::Envelope envelope;
  v1::Refusal* refusal = envelope.mutable_refusal();
  refusal->set_reason(reason);
  refusal->set_detail(detail);
  return envelope;
}

Conversation::Reply Conversation::Handle(const v1::Envelope& request) {
  try {
    return HandleUnsafe(request);
  } catch (const std::exception& e) {
    return Refuse(v1::REFUSAL_REASON_INTERNAL_ERROR, std::string("server error: ") + e.what());
  } catch (...) {
    return Refuse(v1::REFUSAL_REASON_INTERNAL_ERROR, "server error");
  }
}

Conversation::Reply Conversation::HandleUnsafe(const v1::Envelope& request) {
  return welcomed_ ? HandleWelcomed(request) : HandleFirst(request);
}

Conversation::Reply Conversation::HandleFirst(const v1::Envelope& request) {
  Reply reply;
  v1::Refusal refusal;
  switch (request.message_case()) {
    case v1::Envelope::kEnrol: {
      Result<v1::Enrolled> enrolled = service_.Enrol(request.enrol(), &refusal);
      if (!enrolled.ok()) return Refused("enrol", std::move(refusal), enrolled.status());
      *reply.envelope.mutable_enrolled() = std::move(enrolled).value();
      reply.close = true;  // an enrolment is a conversation of its own
      reply.close_reason = "enrolment complete";
      return reply;
    }
    case v1::Envelope::kHello: {
      v1::Welcome* welcome = reply.envelope.mutable_welcome();
      Result<DeviceContext> device = service_.Authenticate(request.hello(), welcome, &refusal);
      if (!device.ok()) return Refused("hello", std::move(refusal), device.status());
      welcome->set_max_frame_bytes(max_frame_bytes_);
      welcome->set_compression(ChooseCompression(request.hello().compression()));
      device_ = std::move(device).value();
      compression_ = welcome->compression();
      welcomed_ = true;
      return reply;
    }
    default:
      return Refuse(v1::REFUSAL_REASON_PROTOCOL_ERROR,
                    "the first message must be hello or enrol, not " + MessageName(request));
  }
}

v1::Envelope Conversation::Reply::Sent() const {
  v1::Envelope sent = envelope;
  // A page that does not parse is sent all the same; the peer refuses it.
  if (changes_page) (void)sent.mutable_changes_page()->ParseFromString(*changes_page);
  return sent;
}

Conversation::Reply Conversation::HandleWelcomed(const v1::Envelope& request) {
  Reply reply;
  switch (request.message_case()) {
    case v1::Envelope::kPush: {
      Result<v1::PushAck> ack = service_.Push(device_, request.push());
      if (!ack.ok()) return RefuseFailedRequest("push", ack.status());
      *reply.envelope.mutable_push_ack() = std::move(ack).value();
      return reply;
    }
    case v1::Envelope::kPull: {
      // Cut to fit the frame it goes out in (a page over the limit could not be sent).
      // The changes are the stored bytes, without hub_id for the device's own hub (18
      // bytes saved per change), not parsed and serialised again (PullEncoded).
      Result<std::string> page =
          service_.PullEncoded(device_, request.pull(), SyncService::MaxPageBytes(max_frame_bytes_));
      if (!page.ok()) return RefuseFailedRequest("pull", page.status());
      reply.changes_page = std::move(page).value();
      return reply;
    }
    default:
      return Refuse(v1::REFUSAL_REASON_PROTOCOL_ERROR,
                    "after welcome only push and pull are allowed, not " + MessageName(request));
  }
}

}  // namespace outreach::server
