// SyncService: what the server does with each message of a sync conversation, apart
// from the network. The network layer (server/net/) owns sockets, TLS, framing,
// timeouts and back-pressure and calls these methods from its thread pool; the
// service owns authentication, access checks, reconciliation and the store.
//
// Thread-safety: every method may be called concurrently from several sessions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/frame.h"
#include "common/hlc.h"
#include "common/status.h"
#include "common/uuid.h"
#include "outreach/v1/sync.pb.h"

namespace outreach::server {

class Store;

// Who is on the other end of a conversation, established at Hello.
struct DeviceContext {
  Uuid device_id;
  Uuid hub_id;
  v1::Role role = v1::ROLE_UNSPECIFIED;
  Uuid venue_id;          // a kiosk's venue; nil otherwise
  std::string user_name;  // the person the device was enrolled for
  // The device's clock minus ours, measured at hello from the device's own clock. A
  // stamp too far ahead is corrected by it (see Reconciler::ApplyDeviceChange).
  int64_t clock_skew_ms = 0;
};

struct SyncServiceOptions {
  int64_t max_clock_skew_ms = 5 * 60 * 1000;  // how far ahead of us a device may stamp
  uint32_t max_push_changes = 1000;           // largest Push batch accepted
  uint32_t max_page_changes = 1000;           // largest ChangesPage sent
};

class SyncService {
 public:
  // Takes ownership of the store. `ca_pem` is handed to devices at enrolment.
  SyncService(std::unique_ptr<Store> store, std::string ca_pem, SyncServiceOptions options = {});
  ~SyncService();
  SyncService(const SyncService&) = delete;
  SyncService& operator=(const SyncService&) = delete;

  // Exchanges a one-time enrolment code for a device credential (the store keeps only
  // its hash). On failure fills `refusal` (BAD_ENROLMENT_CODE) and returns its status.
  Result<v1::Enrolled> Enrol(const v1::Enrol& request, v1::Refusal* refusal);

  // Checks the Hello: protocol version, device, credential, revocation. On success the
  // Welcome to send; on failure fills `refusal` (UNKNOWN_DEVICE, BAD_CREDENTIAL,
  // DEVICE_REVOKED with wipe = true, UNSUPPORTED_PROTOCOL) and returns its status.
  Result<DeviceContext> Authenticate(const v1::Hello& hello, v1::Welcome* welcome, v1::Refusal* refusal);

  // Applies one batch: per change dedupe, access check, reconciliation, append to the
  // hub's log, all in one store transaction. Re-sending a batch changes nothing (every
  // change comes back DUPLICATE). A refused change is REJECTED alone with a reason.
  // Fails as a whole only on a store error (nothing applied) or an oversized batch.
  Result<v1::PushAck> Push(const DeviceContext& device, const v1::Push& push);

  // The next page of the device's hub log after `pull.cursor`, filtered for the
  // device's role (kiosk: its venue's sessions and the names needed to sign in; health
  // notes only to health roles). next_cursor advances past filtered-out entries too.
  // A page holds at most max_page_changes entries and, encoded, at most
  // `max_page_bytes`: it is cut before the change that would pass either (`more` stays
  // true), so it always fits the frame it is sent in. A change that alone is larger
  // than `max_page_bytes` is sent alone.
  Result<v1::ChangesPage> Pull(const DeviceContext& device, const v1::Pull& pull, size_t max_page_bytes);
  Result<v1::ChangesPage> Pull(const DeviceContext& device, const v1::Pull& pull) {
    return Pull(device, pull, MaxPageBytes(kDefaultMaxFrameBytes));
  }
  // The page Pull returns, serialised as it goes on the wire: the same entries, cut,
  // next_cursor and more, but each change written as the store holds it (with hub_id left
  // out of each change of the device's own hub), straight into the one buffer returned.
  // Parsed, it is Pull's page with those hub ids cleared. Only the changes the device's
  // role filters (notes, conflicts, a kiosk's reads) are parsed and serialised again; the
  // server's conversations send these pages.
  Result<std::string> PullEncoded(const DeviceContext& device, const v1::Pull& pull, size_t max_page_bytes);

  // The largest page (encoded ChangesPage) that fits, with its Envelope, in a frame of
  // `max_frame_bytes`.
  static size_t MaxPageBytes(uint32_t max_frame_bytes) {
    return max_frame_bytes > kEnvelopeReserve ? max_frame_bytes - kEnvelopeReserve : 1;
  }

  // Room in a frame for what wraps a page: the Envelope's tag and length, next_cursor
  // and more (about 20 bytes).
  static constexpr uint32_t kEnvelopeReserve = 64;

  HybridClock& clock() { return clock_; }
  const SyncServiceOptions& options() const { return options_; }
  Store& store() { return *store_; }

 private:
  // Pull (`encoded` null) and PullEncoded: with `encoded`, the page's changes are written
  // there, serialised as field 1 of a ChangesPage, and the page returned holds only
  // next_cursor and more.
  Result<v1::ChangesPage> PullPage(const DeviceContext& device, const v1::Pull& pull, size_t max_page_bytes,
                                   std::string* encoded);

  std::unique_ptr<Store> store_;
  std::string ca_pem_;
  SyncServiceOptions options_;
  HybridClock clock_;
};

}  // namespace outreach::server
