// Server: the TLS listener of outreach-server and the threads that run it.
//
// Threads:
// - `io_threads` run the io_context: accepting, TLS, framing, timers. Every connection
//   has its own strand, so one session's handlers never run concurrently.
// - `worker_threads` (a WorkerPool, worker_pool.h) run the blocking SyncService calls
//   (SQLite), so a slow transaction never holds an io thread. Each session posts at most
//   one request at a time; writes (enrol, hello, push) are served before pull pages, and
//   each kind is FIFO, so one device's long sync (many batches) takes turns with
//   everyone else's instead of starving them.
//
// Limits (ServerOptions): TLS handshake, idle and per-frame timeouts, the frame size,
// a deadline for hello, a maximum session length, and the connections the server holds
// (session_registry.h): welcomed devices up to max_connections (a connection accepted
// over it: Refusal SERVER_BUSY, then close); connections that have not said hello yet
// capped per address (one more: closed at once, before any TLS handshake) and in all
// (one more evicts the oldest), so silent connections neither crowd out devices nor make
// the server busy for them.
//
// Revocation: while devices are connected, a watcher reads their standing from the store
// every revocation_check_interval (on the worker pool) and ends every session of a
// device revoked or gone: an idle one at once with Refusal DEVICE_REVOKED (wipe), one
// with a request in service right after that reply. The store is the one place a revoke
// is written, so this works for `outreach-server device revoke` run as another process
// and across server processes sharing one PostgreSQL store.
//
// Enrolment: failed enrolments slow an address down (enrolment_throttle.h).
//
// Refusals of these kinds are logged once per address and interval (refusal_log.h).
//
// Shutdown: Stop() (or SIGINT/SIGTERM while Run() runs) closes the listener, closes
// idle connections, lets requests in flight finish and send their replies, then Run()
// returns. Every connection closed for a reason logs one line naming the peer.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/asio.h"
#include "common/frame.h"
#include "common/status.h"
#include "common/tls.h"
#include "server/net/worker_pool.h"
#include "server/service/sync_service.h"

namespace outreach::server {

struct ServerOptions {
  std::string listen = "127.0.0.1:7443";  // "HOST:PORT" or "[V6]:PORT"; port 0 picks a free port
  int io_threads = 2;
  int worker_threads = 8;  // most wait on the store; more of them let pushes group-commit (sqlite_store.h)
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds idle_timeout{120'000};  // between frames
  std::chrono::milliseconds frame_timeout{30'000};  // first byte to last byte of a frame; also a reply's write
  uint32_t max_frame_bytes = kDefaultMaxFrameBytes;
  int max_connections = 256;  // welcomed (device) connections; over it: SERVER_BUSY
  // From TCP accept to the Welcome (or Enrolled): a connection that has not got there is
  // closed. Also bounds the TLS handshake (with handshake_timeout, whichever is sooner).
  std::chrono::milliseconds hello_timeout{10'000};
  // From the Welcome: past it, the session ends at its next idle point (between a reply
  // and the next request) with Refusal SERVER_BUSY; the device says hello again.
  std::chrono::milliseconds max_session{3'600'000};
  // Connections that have not been welcomed yet: in all (0: a quarter of max_connections,
  // at least 1) and per peer address.
  int max_unwelcomed = 0;
  int max_unwelcomed_per_address = 8;
  // How often the standing of the connected devices is read from the store.
  std::chrono::milliseconds revocation_check_interval{500};
  // Failed enrolments an address may make before its attempts are slowed down, and the
  // longest wait (the waits double from 1 s).
  int enrol_failures_before_delay = 5;
  std::chrono::milliseconds enrol_max_delay{60'000};

  // max_unwelcomed, with 0 resolved.
  size_t effective_max_unwelcomed() const {
    if (max_unwelcomed > 0) return static_cast<size_t>(max_unwelcomed);
    return static_cast<size_t>(std::max(1, max_connections / 4));
  }
};

// Checks the options; errors name the option ("listen", "max_frame_bytes", ...).
Status ValidateServerOptions(const ServerOptions& options);

struct SharedState;

class Server {
 public:
  // `service` must outlive the server.
  Server(SyncService& service, std::shared_ptr<TlsContext> tls, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Validates the options, binds the listening socket and starts catching SIGINT and
  // SIGTERM (handled once Run() runs).
  Status Listen();
  // The bound address, e.g. "127.0.0.1:40123" (after Listen()).
  std::string local_address() const;

  // Accepts and serves until Stop() or SIGINT/SIGTERM; returns after the shutdown
  // described above. Call once, after Listen().
  void Run();
  // Thread-safe; may be called before or during Run().
  void Stop();

 private:
  void do_accept();
  void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);
  void on_stop();
  // The revocation watcher, on watch_strand_.
  void arm_revocation_check();
  void check_revocations();
  void on_revocations_checked(std::vector<Uuid> gone);

  SyncService& service_;
  const std::shared_ptr<TlsContext> tls_;
  const ServerOptions options_;
  const std::shared_ptr<SharedState> shared_;  // the session registry, refusal log, enrolment throttle
  std::atomic<bool> stopping_{false};
  // io_ is declared before workers_ so it outlives them: a worker finishing after Run()
  // posts into a live (stopped) io_context, whose destructor then destroys the handler.
  boost::asio::io_context io_;
  WorkerPool workers_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::signal_set signals_;
  boost::asio::strand<boost::asio::io_context::executor_type> watch_strand_;
  boost::asio::steady_timer revocation_timer_;  // on watch_strand_
  bool store_check_failing_ = false;            // on watch_strand_: log a failing check once
};

}  // namespace outreach::server
