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
//   ending a welcomed session (end_session: its device revoked, or the session at its
//   maximum length): at the next idle point -> send_ending: write(Refusal) -> closing.
//            Idle (waiting for a request) is such a point: the pending read is cancelled
//            and on_read_header, seeing operation_aborted, calls send_ending; so is
//            on_write after a reply. A revocation also cuts a request still arriving
//            (kFrame); a request in service gets its reply first.
//   evict (the oldest connection without hello, to make room): closed if it is not in
//            service, else left to finish its one exchange.
//
// One deadline timer guards every phase: the handshake (handshake_timeout), the wait
// for a frame's first byte (idle_timeout), the rest of the frame from its first byte
// (frame_timeout: a slow-loris peer cannot hold a session open), writing a reply
// (frame_timeout) and the lingering close (handshake_timeout). Before the Welcome, the
// peer's phases (handshake, idle, frame) also end at the hello deadline (hello_timeout
// from accept); after it, the idle wait also ends at the session's maximum length
// (max_session from the Welcome). No timer runs while the service works on a request:
// that is the server's own time.
//
// Ownership: the Session is owned by the shared_ptrs captured in its pending handlers;
// when the last one completes it is destroyed, which deregisters it from the registry.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <optional>

#include "common/asio.h"
#include "server/net/conversation.h"
#include "server/net/enrolment_throttle.h"
#include "server/net/refusal_log.h"
#include "server/net/server.h"
#include "server/net/session_registry.h"

namespace outreach::server {

// What the sessions of one server share with it (each part is thread-safe): the live
// sessions, the rate-limited log of refusals, and the enrolment throttle.
struct SharedState {
  explicit SharedState(const ServerOptions& options)
      : sessions({.max_welcomed = static_cast<size_t>(options.max_connections),
                  .max_unwelcomed = options.effective_max_unwelcomed(),
                  .max_unwelcomed_per_address = static_cast<size_t>(options.max_unwelcomed_per_address)}),
        enrolments({.free_failures = options.enrol_failures_before_delay, .max_delay = options.enrol_max_delay}) {}
  SessionRegistry sessions;
  RefusalLog refusals;
  EnrolmentThrottle enrolments;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  // `socket` is bound to the connection's own strand. `id` is the session's admission in
  // shared->sessions (the server attaches it); the destructor removes it. `address` is
  // the peer's IP, the key of the per-address limits.
  Session(boost::asio::ip::tcp::socket socket, std::shared_ptr<TlsContext> tls, SyncService& service,
          WorkerPool& workers, const ServerOptions& options, std::shared_ptr<SharedState> shared, uint64_t id,
          std::string address);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Starts the handshake. With `refuse_busy` the session only tells the device the
  // server is busy (Refusal SERVER_BUSY) and closes.
  void start(bool refuse_busy);
  // Server shutdown: closes at once if idle, after the reply in flight otherwise.
  // Thread-safe (posts to the strand).
  void stop();
  // Its device was revoked (or is gone): ends the session (see the diagram above).
  // Thread-safe (posts to the strand).
  void revoke();
  // Evicted to make room for a newer connection without hello: closes it unless its one
  // exchange is in service. Thread-safe (posts to the strand).
  void evict();

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
  // Writes an encoded frame (a refusal instead when encoding failed).
  void send(Result<std::string> frame, bool close_after, std::string close_reason);
  void on_write(boost::system::error_code ec, size_t bytes);
  void shutdown();
  void on_shutdown(boost::system::error_code ec);
  void linger();
  void on_linger(boost::system::error_code ec, size_t bytes);
  void on_stop();
  void on_evict();
  // Why and how a welcomed session ends at its next idle point.
  struct Ending {
    v1::RefusalReason reason = v1::REFUSAL_REASON_SERVER_BUSY;
    std::string detail{};
    bool wipe = false;
    bool cut_now = false;  // also end a request still arriving
    bool revoked = false;  // logged through the refusal log
  };
  Ending max_session_ending() const;
  void end_session(Ending ending);
  void send_ending();
  // The Enrol about to be served may go ahead (else it was refused and the session closes).
  bool admit_enrolment();
  void arm(Phase phase, std::chrono::milliseconds timeout);
  void on_deadline(boost::system::error_code ec);
  // Closes after a refusal; `reason` is logged once when the socket closes.
  void refuse(v1::RefusalReason reason, const std::string& detail);
  // Closes the TCP connection at once, logging `reason` (unless a reason was logged).
  void close(const std::string& reason);
  // Closes the TCP connection at once for a refusal of `kind`, logged rate-limited.
  void close_refused(RefusalLog::Kind kind, const std::string& reason);
  // Logs why the connection closes: once per session, when the decision is made.
  void log_close(const std::string& reason);
  // The reason a read or write failed, for the log.
  std::string describe_io_error(boost::system::error_code ec, const char* during) const;

  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
  boost::asio::steady_timer deadline_;
  WorkerPool& workers_;
  const ServerOptions& options_;
  const std::shared_ptr<SharedState> shared_;
  const uint64_t id_;
  const std::string address_;  // "127.0.0.1": the limits' and the refusal log's key
  std::string peer_;           // "127.0.0.1:51234", for log lines
  const std::chrono::steady_clock::time_point hello_deadline_;

  // Guarded by the strand.
  Phase phase_ = Phase::kHandshake;
  bool refuse_busy_ = false;
  bool stopping_ = false;                              // server shutdown requested
  bool close_after_write_ = false;                     // the reply being written is the last
  bool close_logged_ = false;                          // the one log line for the close is written
  bool welcomed_ = false;                              // the Welcome was sent (registered in the registry)
  bool enrolment_pending_ = false;                     // an Enrol admitted by the throttle is in service
  std::chrono::steady_clock::time_point session_end_;  // welcomed_: the maximum length is reached
  std::optional<Ending> ending_;                       // end at the next idle point
  std::array<uint8_t, 4> header_{};                    // the frame header being read
  size_t header_bytes_ = 0;
  uint32_t body_length_ = 0;        // announced length of the frame being read
  size_t body_read_ = 0;            // bytes of it read so far
  std::string body_;                // the frame body being read; grows as bytes arrive
  std::string out_;                 // the frame being written
  std::array<char, 4096> drain_{};  // bytes discarded during a lingering close
  Conversation conversation_;       // handed to one worker at a time (see conversation.h)
};

}  // namespace outreach::server
