// FaultProxy: a plain TCP relay on loopback between devices and the server, which
// injects network faults. It never looks inside the bytes (TLS passes through it
// untouched), so what it tests is the real client and the real server.
//
// Each accepted connection takes the next ConnectionPlan queued with Plan() (or a clean
// relay when none is queued). Byte offsets count per connection and per direction, from
// the first byte of the TLS handshake. Faults:
//   cut    close both sides once `cut_at` bytes went in one direction (the bytes up to
//          the offset are delivered, nothing after it)
//   hold   from `hold_after` bytes on, keep what the server sends instead of delivering
//          it (a reply the server wrote but the device never got); Release() delivers
//          it, and an upstream that closes meanwhile drops it and cuts the device
//   stall  pause one direction for `stall_for` once `stall_at` bytes went
//   slow   deliver in `slow_chunk`-byte pieces with `slow_delay` between them
//
// Threads: one acceptor, two pumps per connection (blocking sockets with short polls).
// Every public method is thread-safe. The destructor cuts every connection and joins.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace outreach::testing {

enum class Direction { kToServer, kToDevice };

struct ConnectionPlan {
  static constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();
  uint64_t cut_to_server_at = kNever;
  uint64_t cut_to_device_at = kNever;
  uint64_t hold_to_device_after = kNever;
  // Hold server->device bytes once this many device->server bytes went (e.g. once a
  // large push is on its way): the reply to it is never delivered.
  uint64_t hold_to_device_once_to_server = kNever;
  Direction stall_direction = Direction::kToDevice;
  uint64_t stall_at = kNever;
  std::chrono::milliseconds stall_for{0};
  size_t slow_chunk = 0;  // 0 = deliver as read
  std::chrono::milliseconds slow_delay{0};
};

class FaultProxy {
 public:
  explicit FaultProxy(uint16_t upstream_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // New connections go to this server port from now on (a restarted server).
  void SetUpstream(uint16_t port);
  // Queues the plan for the next accepted connection.
  void Plan(const ConnectionPlan& plan);
  // Delivers held bytes of every connection and stops holding.
  void Release();
  // Closes every open connection at once.
  void CutAll();

  // Faults actually injected (cuts, stalls, holds, slow connections), connections seen,
  // and the bytes relayed in one direction over all connections.
  uint64_t faults_injected() const { return faults_.load(); }
  uint64_t connections() const { return connections_.load(); }
  uint64_t bytes(Direction direction) const;
  // True while some connection holds server bytes back.
  bool holding() const;

 private:
  struct Connection;
  void AcceptLoop();
  void Pump(std::shared_ptr<Connection> connection, Direction direction);
  void Cut(Connection& connection);

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<uint16_t> upstream_port_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> faults_{0};
  std::atomic<uint64_t> connections_{0};
  std::atomic<uint64_t> bytes_to_server_{0};
  std::atomic<uint64_t> bytes_to_device_{0};
  mutable std::mutex mu_;
  std::deque<ConnectionPlan> plans_;               // guarded by mu_
  std::vector<std::shared_ptr<Connection>> live_;  // guarded by mu_
  std::vector<std::thread> threads_;               // guarded by mu_
  std::thread acceptor_;
};

}  // namespace outreach::testing
