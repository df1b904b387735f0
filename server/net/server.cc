#include "server/net/server.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <csignal>
#include <set>
#include <thread>
#include <vector>

#include "server/net/session.h"
#include "server/store/store.h"

namespace outreach::server {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// "127.0.0.1:7443", "[::1]:7443" -> endpoint. Errors name the field "listen".
Result<tcp::endpoint> ParseListenAddress(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    return Status::InvalidArgument("listen", "'" + text + "' is not HOST:PORT (e.g. 127.0.0.1:7443)");
  }
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, err] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (err != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return Status::InvalidArgument("listen", "port '" + port_text + "' is not a number from 0 to 65535");
  }
  boost::system::error_code ec;
  asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) return Status::InvalidArgument("listen", "'" + host + "' is not an IP address");
  return tcp::endpoint(address, static_cast<unsigned short>(port));
}

}  // namespace

Status ValidateServerOptions(const ServerOptions& options) {
  Result<tcp::endpoint> endpoint = ParseListenAddress(options.listen);
  if (!endpoint.ok()) return endpoint.status();
  if (options.io_threads < 1) return Status::InvalidArgument("io_threads", "must be at least 1");
  if (options.worker_threads < 1) return Status::InvalidArgument("worker_threads", "must be at least 1");
  if (options.handshake_timeout.count() <= 0) return Status::InvalidArgument("handshake_timeout", "must be positive");
  if (options.idle_timeout.count() <= 0) return Status::InvalidArgument("idle_timeout", "must be positive");
  if (options.frame_timeout.count() <= 0) return Status::InvalidArgument("frame_timeout", "must be positive");
  if (options.max_frame_bytes < 1024) return Status::InvalidArgument("max_frame_bytes", "must be at least 1024");
  if (options.max_connections < 1) return Status::InvalidArgument("max_connections", "must be at least 1");
  if (options.hello_timeout.count() <= 0) return Status::InvalidArgument("hello_timeout", "must be positive");
  if (options.max_session.count() <= 0) return Status::InvalidArgument("max_session", "must be positive");
  if (options.max_unwelcomed < 0) {
    return Status::InvalidArgument("max_unwelcomed", "must be at least 1 (or 0: a quarter of max_connections)");
  }
  if (options.max_unwelcomed_per_address < 1) {
    return Status::InvalidArgument("max_unwelcomed_per_address", "must be at least 1");
  }
  if (options.revocation_check_interval.count() <= 0) {
    return Status::InvalidArgument("revocation_check_interval", "must be positive");
  }
  if (options.enrol_failures_before_delay < 1) {
    return Status::InvalidArgument("enrol_failures_before_delay", "must be at least 1");
  }
  if (options.enrol_max_delay.count() < 1000) {
    return Status::InvalidArgument("enrol_max_delay", "must be at least 1000 ms (the first delay)");
  }
  return Status::Ok();
}

Server::Server(SyncService& service, std::shared_ptr<TlsContext> tls, ServerOptions options)
    : service_(service),
      tls_(std::move(tls)),
      options_(std::move(options)),
      shared_(std::make_shared<SharedState>(options_)),
      io_(options_.io_threads),
      workers_(static_cast<size_t>(std::max(1, options_.worker_threads))),
      acceptor_(io_),
      signals_(io_),
      watch_strand_(asio::make_strand(io_)),
      revocation_timer_(watch_strand_) {}

Server::~Server() = default;

Status Server::Listen() {
  OUTREACH_RETURN_IF_ERROR(ValidateServerOptions(options_));
  const tcp::endpoint endpoint = ParseListenAddress(options_.listen).value();
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(ErrorCode::kIoError, "cannot listen on " + options_.listen + ": " + ec.message(), "listen");
  }
  // From here SIGINT/SIGTERM are caught (and queued until Run() waits for them), so a
  // signal sent as soon as the address is printed still shuts down gracefully.
  signals_.add(SIGINT, ec);
  if (!ec) signals_.add(SIGTERM, ec);
  if (ec) return Status::IoError("cannot catch SIGINT/SIGTERM: " + ec.message());
  return Status::Ok();
}

std::string Server::local_address() const {
  boost::system::error_code ec;
  const tcp::endpoint endpoint = acceptor_.local_endpoint(ec);
  if (ec) return "";
  const std::string host = endpoint.address().to_string();
  const std::string port = std::to_string(endpoint.port());
  return endpoint.address().is_v6() ? "[" + host + "]:" + port : host + ":" + port;
}

void Server::Run() {
  signals_.async_wait([this](boost::system::error_code ec, int signal) {
    if (ec) return;  // cancelled by Stop()
    spdlog::info("signal {}: shutting down", signal);
    Stop();
  });
  spdlog::info("listening on {} (store: {})", local_address(), service_.store().Describe());
  do_accept();
  asio::dispatch(watch_strand_, [this] { arm_revocation_check(); });

  std::vector<std::thread> threads;
  for (int i = 1; i < options_.io_threads; ++i) threads.emplace_back([this] { io_.run(); });
  io_.run();
  for (std::thread& t : threads) t.join();
  workers_.Join();
  spdlog::info("stopped");
}

void Server::Stop() {
  stopping_ = true;
  asio::post(io_, [this] { on_stop(); });
}

void Server::on_stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  signals_.cancel(ignored);
  asio::post(watch_strand_, [this] { revocation_timer_.cancel(); });
  for (auto& session : shared_->sessions.All()) session->stop();
}

void Server::arm_revocation_check() {
  if (stopping_) return;
  revocation_timer_.expires_after(options_.revocation_check_interval);
  revocation_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopping_) return;
    check_revocations();
  });
}

void Server::check_revocations() {
  // The same tick writes the counts of refusals left out of the log (refusal_log.h).
  shared_->refusals.Flush();
  std::vector<Uuid> devices = shared_->sessions.ConnectedDevices();
  if (devices.empty()) return arm_revocation_check();  // nobody to check: no store work
  // The work guard keeps Run() from returning before the answer is back.
  auto work = asio::make_work_guard(io_);
  // A write-priority task: a few point reads, not kept behind a queue of pull pages.
  workers_.Post(WorkerPool::Priority::kWrite, [this, devices = std::move(devices), work = std::move(work)] {
    std::vector<Uuid> gone;
    Status st = service_.store().Read([&](StoreTxn& txn) -> Status {
      gone.clear();
      for (const Uuid& id : devices) {
        auto row = txn.GetDevice(id);
        if (!row.ok()) return row.status();
        if (!row->has_value() || (*row)->revoked) gone.push_back(id);
      }
      return Status::Ok();
    });
    asio::post(watch_strand_, [this, st, gone = std::move(gone)]() mutable {
      if (!st.ok()) {
        // Logged once per failing spell, not every interval; the next check tries again.
        if (!store_check_failing_) spdlog::warn("revocation check failed: {}", st.ToString());
        store_check_failing_ = true;
        return arm_revocation_check();
      }
      if (store_check_failing_) spdlog::info("revocation check works again");
      store_check_failing_ = false;
      on_revocations_checked(std::move(gone));
    });
  });
}

void Server::on_revocations_checked(std::vector<Uuid> gone) {
  if (!gone.empty()) {
    const std::set<Uuid> devices(gone.begin(), gone.end());
    for (auto& session : shared_->sessions.SessionsOf(devices)) session->revoke();
  }
  arm_revocation_check();
}

void Server::do_accept() {
  // Each connection gets its own strand: the accepted socket's executor.
  acceptor_.async_accept(asio::make_strand(io_), [this](boost::system::error_code ec, tcp::socket socket) {
    on_accept(ec, std::move(socket));
  });
}

void Server::on_accept(boost::system::error_code ec, tcp::socket socket) {
  if (stopping_ || ec == asio::error::operation_aborted) return;
  if (ec) {
    // E.g. out of file descriptors: log and keep accepting; the listener stays up.
    spdlog::warn("accept failed: {}", ec.message());
    return do_accept();
  }
  // Frames are small and each waits for its answer: send them at once, not held back by
  // Nagle behind the peer's delayed ACK (a 40 ms stall per exchange otherwise).
  boost::system::error_code nodelay_ec;
  socket.set_option(tcp::no_delay(true), nodelay_ec);
  boost::system::error_code endpoint_ec;
  const tcp::endpoint peer = socket.remote_endpoint(endpoint_ec);
  if (endpoint_ec) {
    // Already gone (reset before we got to it): nothing to serve.
    boost::system::error_code ignored;
    socket.close(ignored);
    return do_accept();
  }
  const std::string address = PeerAddressKey(peer.address());
  SessionRegistry::Admission admission = shared_->sessions.Admit(address);
  if (admission.verdict == SessionRegistry::Verdict::kOverAddressCap) {
    // Not even a TLS handshake: refusing costs next to nothing.
    shared_->refusals.Log(RefusalLog::Kind::kOverAddressCap, address,
                          "connection closed before TLS: " + std::to_string(admission.unwelcomed_from_address) +
                              " connections from this address have not said hello yet (the most allowed, "
                              "--max-unwelcomed-per-address)");
    boost::system::error_code ignored;
    socket.close(ignored);
    return do_accept();
  }
  if (admission.evicted) admission.evicted->evict();
  auto session =
      std::make_shared<Session>(std::move(socket), tls_, service_, workers_, options_, shared_, admission.id, address);
  shared_->sessions.Attach(admission.id, session);
  session->start(admission.verdict == SessionRegistry::Verdict::kBusy);
  do_accept();
}

}  // namespace outreach::server
