// Conversation: the order rules of one sync conversation, apart from sockets.
//
//   first frame:   Enrol -> Enrolled (then close) | Refusal (then close)
//                  Hello -> Welcome                | Refusal (then close)
//   after Welcome: Push  -> PushAck, Pull -> ChangesPage, in any order, repeatedly
//   anything else (unset oneof, a second Hello, Push before Hello, a server-side
//   message): Refusal PROTOCOL_ERROR, then close.
//
// A Conversation belongs to one Session and handles one request at a time (the session
// reads the next frame only after the reply is written), so it needs no lock; the
// session hands it from its strand to a worker thread and back, which orders accesses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "outreach/v1/sync.pb.h"
#include "server/service/sync_service.h"

namespace outreach::server {

class Conversation {
 public:
  // What to send back, and whether to close the connection after sending it.
  struct Reply {
    v1::Envelope envelope;
    // A pull's page, serialised (SyncService::PullEncoded): sent as an Envelope holding
    // it (EncodeChangesPageFrame), its changes as stored, never parsed. `envelope` is
    // then empty.
    std::optional<std::string> changes_page;
    bool close = false;
    std::string close_reason;  // for the log line when `close`

    // The Envelope as the peer reads it (for tests and the fuzzer: parses the page).
    v1::Envelope Sent() const;
  };

  // `service` outlives the conversation. `max_frame_bytes` is told to the device.
  Conversation(SyncService& service, uint32_t max_frame_bytes) : service_(service), max_frame_bytes_(max_frame_bytes) {}

  // Handles one request. Never throws: a service exception becomes INTERNAL_ERROR.
  Reply Handle(const v1::Envelope& request);

  // The device once Hello succeeded; nullptr before.
  const DeviceContext* device() const { return welcomed_ ? &device_ : nullptr; }

  // The frame codec agreed at hello (Welcome.compression): frames after the Welcome may
  // be compressed with it, both ways. COMPRESSION_NONE before the Welcome, and for a
  // device that offered none.
  v1::Compression compression() const { return compression_; }

  // A Refusal envelope, for conversation errors found by the session itself
  // (oversized or undecodable frames, a busy server).
  static v1::Envelope MakeRefusal(v1::RefusalReason reason, const std::string& detail);

 private:
  Reply HandleUnsafe(const v1::Envelope& request);
  Reply HandleFirst(const v1::Envelope& request);
  Reply HandleWelcomed(const v1::Envelope& request);

  SyncService& service_;
  const uint32_t max_frame_bytes_;
  bool welcomed_ = false;
  DeviceContext device_;  // valid when welcomed_
  v1::Compression compression_ = v1::COMPRESSION_NONE;
};

}  // namespace outreach::server
