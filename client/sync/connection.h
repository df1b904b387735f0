// SyncConnection: one TLS 1.3 conversation with the sync server, from the device.
//
// Blocking calls with a deadline each (the device has nothing else to do while it
// syncs): Connect() resolves, connects, handshakes with the pinned CA and checks ALPN;
// Send()/Receive() move one frame. Any failure leaves the connection unusable; the
// caller starts a new one. Not thread-safe: one conversation, one thread.
//
// Frame compression is the connection's business, not its callers': a Hello it sends
// offers the codecs this build decodes (unless the caller listed some itself), and the
// Welcome it receives sets the codec both sides use for every later frame (docs/
// PROTOCOL.md §2). A server that names a codec that was not offered is a protocol error.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "common/asio.h"
#include "common/frame.h"
#include "common/status.h"
#include "outreach/v1/sync.pb.h"

namespace outreach::client {

struct ServerAddress {
  std::string host;
  std::string port;
  // Parses "host:port" (or "[v6]:port"). Errors name the field "server".
  static Result<ServerAddress> Parse(const std::string& text);
  std::string ToString() const { return host + ":" + port; }
};

class SyncConnection {
 public:
  SyncConnection();
  ~SyncConnection();
  SyncConnection(const SyncConnection&) = delete;
  SyncConnection& operator=(const SyncConnection&) = delete;

  Status Connect(const ServerAddress& address, const std::string& ca_pem, std::chrono::milliseconds timeout);
  Status Send(const v1::Envelope& envelope, std::chrono::milliseconds timeout);
  Status Receive(v1::Envelope* envelope, std::chrono::milliseconds timeout);
  // Sends close_notify and closes; errors are ignored (the conversation is over).
  void Close();

  // Frame bytes (headers included, TLS not) moved so far.
  uint64_t bytes_sent() const { return bytes_sent_; }
  uint64_t bytes_received() const { return bytes_received_; }
  // The codec the Welcome agreed; COMPRESSION_NONE before it or when none was agreed.
  v1::Compression compression() const { return compression_; }
  // The largest Envelope (serialised, before compression) this device may send: the
  // Welcome's max_frame_bytes once one is received, the default limit before.
  uint32_t max_send_frame_bytes() const { return max_send_frame_bytes_; }
  // Whether a Hello offers compression (default true); false behaves as an older device.
  void set_offer_compression(bool offer) { offer_compression_ = offer; }
  // Whether the server refused with `wipe` on this connection (a revoked device), at
  // hello or at any later request. Safe to read from any thread.
  bool told_to_wipe() const { return told_to_wipe_; }

 private:
  using Stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;
  // Runs the io_context until `done` or the deadline; on timeout closes the socket.
  Status RunUntil(const bool& done, std::chrono::milliseconds timeout, const char* step);
  Status SendFrame(const v1::Envelope& envelope, std::chrono::milliseconds timeout);
  // Adopts the codec a received Welcome names.
  Status AdoptWelcome(const v1::Welcome& welcome);

  boost::asio::io_context io_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  std::unique_ptr<Stream> stream_;
  uint32_t max_frame_bytes_ = kDefaultMaxFrameBytes;       // for frames received
  uint32_t max_send_frame_bytes_ = kDefaultMaxFrameBytes;  // for frames sent: the server's
  uint64_t bytes_sent_ = 0;
  uint64_t bytes_received_ = 0;
  bool offer_compression_ = true;
  bool offered_compression_ = false;  // a Hello sent on this connection offered codecs
  v1::Compression compression_ = v1::COMPRESSION_NONE;
  std::atomic<bool> told_to_wipe_{false};  // set by Receive, on the puller's thread too
};

}  // namespace outreach::client
