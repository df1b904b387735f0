#include "client/sync/refusal.h"

namespace outreach::client {

Status RefusalStatus(const v1::Refusal& refusal) {
  std::string reason = v1::RefusalReason_Name(refusal.reason());
  std::string detail = refusal.detail().empty() ? reason : refusal.detail();
  switch (refusal.reason()) {
    case v1::REFUSAL_REASON_UNKNOWN_DEVICE:
    case v1::REFUSAL_REASON_BAD_CREDENTIAL:
    case v1::REFUSAL_REASON_DEVICE_REVOKED:
    case v1::REFUSAL_REASON_BAD_ENROLMENT_CODE: return Status(ErrorCode::kUnauthenticated, "server refused: " + detail);
    case v1::REFUSAL_REASON_SERVER_BUSY: return Status(ErrorCode::kUnavailable, "server busy: " + detail);
    default: return Status::ProtocolError("server refused: " + detail);
  }
}

}  // namespace outreach::client
