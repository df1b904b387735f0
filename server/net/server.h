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
// and the number of concurrent connections (over it: Refusal SERVER_BUSY, then close;
// over twice it: closed without a handshake, so refusing costs little).
//
// Shutdown: Stop() (or SIGINT/SIGTERM while Run() runs) closes the listener, closes
// idle connections, lets requests in flight finish and send their replies, then Run()
// returns. Every connection closed for a reason logs one line naming the peer.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

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
  int max_connections = 256;
};

// Checks the options; errors name the option ("listen", "max_frame_bytes", ...).
Status ValidateServerOptions(const ServerOptions& options);

struct SessionRegistry;

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

  SyncService& service_;
  const std::shared_ptr<TlsContext> tls_;
  const ServerOptions options_;
  const std::shared_ptr<SessionRegistry> registry_;  // shared with every session
  std::atomic<bool> stopping_{false};
  // io_ is declared before workers_ so it outlives them: a worker finishing after Run()
  // posts into a live (stopped) io_context, whose destructor then destroys the handler.
  boost::asio::io_context io_;
  WorkerPool workers_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::signal_set signals_;
};

}  // namespace outreach::server
