// How a server Refusal becomes a Status on the device.
#pragma once

#include "common/status.h"
#include "outreach/v1/sync.pb.h"

namespace outreach::client {

// kUnauthenticated for credential problems (a revoked device included), kUnavailable
// for a busy server, kProtocolError otherwise; the message carries the server's detail.
Status RefusalStatus(const v1::Refusal& refusal);

}  // namespace outreach::client
