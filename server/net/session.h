// Session: one device connection, from TCP accept to close.
//
// Every async step is a named member function and runs on the connection's strand
// (the socket's executor), so a Session's state needs no lock:
//
//   start -> on_handshake -> read_frame -> on_read_header (1..4 bytes at a time)
//         -> read_body / on_read_body (64 KiB at a time) -> [worker thread: Conversation::Handle] -> on_service_done
//         -> write -> on_write -> read_frame ...
//   closing: write(Refusal) -> on_write -> shutdown -> on_shutdown -> linger / on_linger
//            (discarding what the peer still sends until it closes) -> close
//
// One deadline timer guards every phase: the handshake (handshake_timeout), the wait
// for a frame's first byte (idle_timeout), the rest of the frame from its first byte
// (frame_timeout: a slow-loris peer cannot hold a session open), writing a reply
// (frame_timeout) and the lingering close (handshake_timeout). No timer runs while the
// service works on a request: that is the server's own time.
//
// Ownership: the Session is owned by the shared_ptrs captured in its pending handlers;
// when the last one completes it is destroyed, which deregisters it from the registry.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/asio.h"
#include "server/net/conversation.h"
#include "server/net/server.h"

namespace outreach::server {

class Session;

// The live sessions of one server, shared by the server (for Stop() and the connection
// limit) and every session (which removes itself on destruction).
struct SessionRegistry {
  std::mutex mu;
  std::unordered_map<uint64_t, std::weak_ptr<Session>> live;  // guarded by mu
  uint64_t next_id = 1;                                       // guarded by mu
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  // `socket` is bound to the connection's own strand. start() registers the session in
  // `registry`; the destructor removes it.
  Session(boost::asio::ip::tcp::socket socket, std::shared_ptr<TlsContext> tls, SyncService& service,
          WorkerPool& workers, const ServerOptions& options, std::shared_ptr<SessionRegistry> registry);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Starts the handshake. With `refuse_busy` the session only tells the device the
  // server is busy (Refusal SERVER_BUSY) and closes.
  void start(bool refuse_busy);
  // Server shutdown: closes at once if idle, after the reply in flight otherwise.
  // Thread-safe (posts to the strand).
  void stop();

  const std::string& peer() const { return peer_; }

 private:
  enum class Phase { kHandshake, kIdle, kFrame, kService, kWrite, kClosing, kClosed };

  void on_handshake(boost::system::error_code ec);
  void read_frame();
  void on_read_header(boost::system::error_code ec, size_t bytes);
  void read_body();
  void on_read_body(boost::system::error_code ec, size_t bytes);
  void on_service_done(Conversation::Reply reply);
  void write(const v1::Envelope& envelope, bool close_after, std::string close_reason);
  void on_write(boost::system::error_code ec, size_t bytes);
  void shutdown();
  void on_shutdown(boost::system::error_code ec);
  void linger();
  void on_linger(boost::system::error_code ec, size_t bytes);
  void on_stop();
  void arm(Phase phase, std::chrono::milliseconds timeout);
  void on_deadline(boost::system::error_code ec);
  // Closes after a refusal; `reason` is logged once when the socket closes.
  void refuse(v1::RefusalReason reason, const std::string& detail);
  // Closes the TCP connection at once, logging `reason` (unless a reason was logged).
  void close(const std::string& reason);
  // Logs why the connection closes: once per session, when the decision is made.
  void log_close(const std::string& reason);
  // The reason a read or write failed, for the log.
  std::string describe_io_error(boost::system::error_code ec, const char* during) const;

  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
  boost::asio::steady_timer deadline_;
  WorkerPool& workers_;
  const ServerOptions& options_;
  const std::shared_ptr<SessionRegistry> registry_;
  uint64_t id_ = 0;
  std::string peer_;  // "127.0.0.1:51234", for log lines

  // Guarded by the strand.
  Phase phase_ = Phase::kHandshake;
  bool refuse_busy_ = false;
  bool stopping_ = false;            // server shutdown requested
  bool close_after_write_ = false;   // the reply being written is the last
  bool close_logged_ = false;        // the one log line for the close is written
  std::array<uint8_t, 4> header_{};  // the frame header being read
  size_t header_bytes_ = 0;
  uint32_t body_length_ = 0;        // announced length of the frame being read
  size_t body_read_ = 0;            // bytes of it read so far
  std::string body_;                // the frame body being read; grows as bytes arrive
  std::string out_;                 // the frame being written
  std::array<char, 4096> drain_{};  // bytes discarded during a lingering close
  Conversation conversation_;       // handed to one worker at a time (see conversation.h)
};

}  // namespace outreach::server
