#include "tests/faults/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

namespace outreach::testing {

using namespace std::chrono_literals;

// One relayed connection. Counters and flags are touched by its two pumps and by the
// proxy's public methods, hence atomics and `mu` for the held bytes.
struct FaultProxy::Connection {
  int device_fd = -1;
  int server_fd = -1;
  ConnectionPlan plan;
  std::atomic<uint64_t> to_server{0};
  std::atomic<uint64_t> to_device{0};
  std::atomic<bool> cut{false};
  std::atomic<bool> holding{false};
  std::atomic<bool> release{false};
  std::atomic<int> pumps_done{0};
  std::mutex mu;
  std::string held;  // guarded by mu

  ~Connection() {
    if (device_fd >= 0) ::close(device_fd);
    if (server_fd >= 0) ::close(server_fd);
  }
};

namespace {

// Writes everything or fails (the peer is gone).
bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

int ConnectLoopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

}  // namespace

FaultProxy::FaultProxy(uint16_t upstream_port) : upstream_port_(upstream_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0) {
    ADD_FAILURE() << "fault proxy cannot listen: " << std::strerror(errno);
    return;
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FaultProxy::~FaultProxy() {
  stopping_ = true;
  CutAll();
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    threads.swap(threads_);
  }
  for (std::thread& t : threads) t.join();
  ::close(listen_fd_);
}

void FaultProxy::SetUpstream(uint16_t port) {
  upstream_port_ = port;
}

void FaultProxy::Plan(const ConnectionPlan& plan) {
  std::lock_guard<std::mutex> lock(mu_);
  plans_.push_back(plan);
}

void FaultProxy::Release() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& c : live_) c->release = true;
}

void FaultProxy::CutAll() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& c : live_) Cut(*c);
}

uint64_t FaultProxy::bytes(Direction direction) const {
  return direction == Direction::kToServer ? bytes_to_server_.load() : bytes_to_device_.load();
}

bool FaultProxy::holding() const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::any_of(live_.begin(), live_.end(), [](const auto& c) { return c->holding && !c->cut; });
}

void FaultProxy::Cut(Connection& connection) {
  connection.cut = true;
  ::shutdown(connection.device_fd, SHUT_RDWR);
  ::shutdown(connection.server_fd, SHUT_RDWR);
}

void FaultProxy::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int device_fd = ::accept(listen_fd_, nullptr, nullptr);
    if (device_fd < 0) continue;
    int one = 1;
    ::setsockopt(device_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto connection = std::make_shared<Connection>();
    connection->device_fd = device_fd;
    connection->server_fd = ConnectLoopback(upstream_port_);
    ++connections_;
    std::lock_guard<std::mutex> lock(mu_);
    if (!plans_.empty()) {
      connection->plan = plans_.front();
      plans_.pop_front();
    }
    if (connection->server_fd < 0) continue;  // server down: the device sees a closed connection
    live_.push_back(connection);
    threads_.emplace_back([this, connection] { Pump(connection, Direction::kToServer); });
    threads_.emplace_back([this, connection] { Pump(connection, Direction::kToDevice); });
  }
}

void FaultProxy::Pump(std::shared_ptr<Connection> c, Direction direction) {
  const bool to_server = direction == Direction::kToServer;
  const int src = to_server ? c->device_fd : c->server_fd;
  const int dst = to_server ? c->server_fd : c->device_fd;
  std::atomic<uint64_t>& count = to_server ? c->to_server : c->to_device;
  std::atomic<uint64_t>& total = to_server ? bytes_to_server_ : bytes_to_device_;
  const ConnectionPlan& plan = c->plan;
  const uint64_t cut_at = to_server ? plan.cut_to_server_at : plan.cut_to_device_at;
  bool slow_counted = false;

  // Delivers `size` bytes (slowly if planned); false when the connection is gone.
  auto deliver = [&](const char* data, size_t size) {
    if (plan.slow_chunk == 0) return WriteAll(dst, data, size);
    if (!slow_counted && size > 0) {
      slow_counted = true;
      ++faults_;
    }
    while (size > 0 && !c->cut) {
      const size_t piece = std::min(size, plan.slow_chunk);
      if (!WriteAll(dst, data, piece)) return false;
      data += piece;
      size -= piece;
      std::this_thread::sleep_for(plan.slow_delay);
    }
    return !c->cut;
  };
  auto flush_held = [&] {
    std::string held;
    {
      std::lock_guard<std::mutex> lock(c->mu);
      held.swap(c->held);
    }
    c->holding = false;
    return deliver(held.data(), held.size());
  };

  char buf[16384];
  while (!c->cut && !stopping_) {
    if (!to_server && c->release && c->holding && !flush_held()) break;
    pollfd p{src, POLLIN, 0};
    int ready = ::poll(&p, 1, 20);
    if (ready == 0) continue;
    ssize_t n = ready < 0 ? -1 : ::recv(src, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (!to_server && c->holding) {
        Cut(*c);  // the server went away with our held reply: the device never gets it
      } else {
        ::shutdown(dst, SHUT_WR);  // pass the half-close on
      }
      break;
    }
    const char* data = buf;
    size_t size = static_cast<size_t>(n);
    const uint64_t before = count.load();
    count += size;
    total += size;

    // Device->server bytes crossing the threshold switch holding on before they go out,
    // so the server's reply to them is held for sure.
    if (to_server && plan.hold_to_device_once_to_server != ConnectionPlan::kNever && !c->holding && !c->release &&
        before + size >= plan.hold_to_device_once_to_server) {
      c->holding = true;
      ++faults_;
    }
    if (cut_at != ConnectionPlan::kNever && before + size >= cut_at) {
      (void)deliver(data, static_cast<size_t>(cut_at - before));
      ++faults_;
      Cut(*c);
      break;
    }
    if (plan.stall_direction == direction && before < plan.stall_at && before + size >= plan.stall_at) {
      const size_t first = static_cast<size_t>(plan.stall_at - before);
      if (!deliver(data, first)) break;
      data += first;
      size -= first;
      ++faults_;
      const auto until = std::chrono::steady_clock::now() + plan.stall_for;
      while (std::chrono::steady_clock::now() < until && !c->cut && !stopping_) std::this_thread::sleep_for(5ms);
    }
    if (!to_server) {
      if (!c->holding && plan.hold_to_device_after != ConnectionPlan::kNever &&
          before + size > plan.hold_to_device_after && !c->release) {
        const size_t first =
            before >= plan.hold_to_device_after ? 0 : static_cast<size_t>(plan.hold_to_device_after - before);
        if (!deliver(data, first)) break;
        data += first;
        size -= first;
        c->holding = true;
        ++faults_;
      }
      if (c->holding) {
        std::lock_guard<std::mutex> lock(c->mu);
        c->held.append(data, size);
        continue;
      }
    }
    if (!deliver(data, size)) {
      Cut(*c);
      break;
    }
  }
  if (++c->pumps_done == 2) {
    std::lock_guard<std::mutex> lock(mu_);
    live_.erase(std::remove(live_.begin(), live_.end(), c), live_.end());
  }
}

}  // namespace outreach::testing
