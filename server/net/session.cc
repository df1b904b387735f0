#include "server/net/session.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/frame.h"

namespace outreach::server {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// A frame body is read in pieces of at most this size, so memory grows with the bytes a
// peer actually sends, not with the length it announces.
constexpr size_t kBodyChunkBytes = 64 * 1024;

std::string FormatEndpoint(const tcp::endpoint& endpoint) {
  const std::string host = endpoint.address().to_string();
  const std::string port = std::to_string(endpoint.port());
  return endpoint.address().is_v6() ? "[" + host + "]:" + port : host + ":" + port;
}

bool IsPeerClosed(error_code ec) {
  return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
}

}  // namespace

Session::Session(tcp::socket socket, std::shared_ptr<TlsContext> tls, SyncService& service, WorkerPool& workers,
                 const ServerOptions& options, std::shared_ptr<SharedState> shared, uint64_t id, std::string address)
    : stream_(std::move(socket), *tls),
      deadline_(stream_.get_executor()),
      workers_(workers),
      options_(options),
      shared_(std::move(shared)),
      id_(id),
      address_(std::move(address)),
      hello_deadline_(std::chrono::steady_clock::now() + options.hello_timeout),
      conversation_(service, options.max_frame_bytes) {
  error_code ec;
  const tcp::endpoint remote = stream_.next_layer().remote_endpoint(ec);
  peer_ = ec ? "unknown peer" : FormatEndpoint(remote);
}

Session::~Session() {
  shared_->sessions.Remove(id_);
}

void Session::start(bool refuse_busy) {
  refuse_busy_ = refuse_busy;
  // The socket's executor is the connection's strand: run the first step there too.
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    self->arm(Phase::kHandshake, self->options_.handshake_timeout);
    self->stream_.async_handshake(asio::ssl::stream_base::server, [self](error_code ec) { self->on_handshake(ec); });
  });
}

void Session::stop() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] { self->on_stop(); });
}

void Session::on_stop() {
  stopping_ = true;
  switch (phase_) {
    case Phase::kHandshake:
    case Phase::kIdle:
    case Phase::kFrame: close("server shutting down"); break;
    case Phase::kService:
    case Phase::kWrite:  // on_write closes once the reply is out
    case Phase::kClosing:
    case Phase::kClosed: break;
  }
}

void Session::revoke() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    self->end_session({.reason = v1::REFUSAL_REASON_DEVICE_REVOKED,
                       .detail = "this device was revoked; its local data must be wiped",
                       .wipe = true,
                       .cut_now = true,
                       .revoked = true});
  });
}

void Session::evict() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] { self->on_evict(); });
}

void Session::on_evict() {
  switch (phase_) {
    case Phase::kHandshake:
    case Phase::kIdle:
    case Phase::kFrame:
      if (welcomed_) return;
      return close_refused(RefusalLog::Kind::kEvicted,
                           "connection without hello closed to make room: the server holds at most " +
                               std::to_string(options_.effective_max_unwelcomed()) +
                               " (--max-unwelcomed); this was the oldest");
    case Phase::kService:  // its one exchange finishes: an Enrolled or a Welcome is not lost
    case Phase::kWrite:
    case Phase::kClosing:
    case Phase::kClosed: return;
  }
}

Session::Ending Session::max_session_ending() const {
  return {.reason = v1::REFUSAL_REASON_SERVER_BUSY,
          .detail = "the session reached its maximum length of " + std::to_string(options_.max_session.count()) +
                    " ms; connect and say hello again",
          .wipe = false,
          .cut_now = false,
          .revoked = false};
}

void Session::end_session(Ending ending) {
  if (phase_ == Phase::kClosing || phase_ == Phase::kClosed || !welcomed_) return;
  // A revocation replaces a pending end of the session's length, not the other way.
  if (ending_ && (ending_->revoked || !ending.revoked)) return;
  ending_ = std::move(ending);
  switch (phase_) {
    case Phase::kIdle: {
      // on_read_header sees operation_aborted and sends the ending; a request that
      // arrived just before is served first (or cut, for a revocation).
      error_code ignored;
      stream_.next_layer().cancel(ignored);
      return;
    }
    case Phase::kFrame:
      if (ending_->cut_now) {
        error_code ignored;
        stream_.next_layer().cancel(ignored);
      }
      return;
    case Phase::kHandshake:  // not welcomed: not reached
    case Phase::kService:    // on_write ends it after the reply
    case Phase::kWrite:
    case Phase::kClosing:
    case Phase::kClosed: return;
  }
}

void Session::send_ending() {
  const Ending& e = *ending_;
  v1::Envelope refusal = Conversation::MakeRefusal(e.reason, e.detail);
  refusal.mutable_refusal()->set_wipe(e.wipe);
  if (e.revoked) {
    close_logged_ = true;
    shared_->refusals.Log(RefusalLog::Kind::kRevoked, address_,
                          "session of revoked device " + conversation_.device()->device_id.ToString() + " (" + peer_ +
                              ") ended with DEVICE_REVOKED");
  }
  write(refusal, true, v1::RefusalReason_Name(e.reason) + ": " + e.detail);
}

bool Session::admit_enrolment() {
  const std::chrono::milliseconds wait = shared_->enrolments.Begin(address_, std::chrono::steady_clock::now());
  if (wait.count() == 0) {
    enrolment_pending_ = true;
    return true;
  }
  const std::string seconds = std::to_string((wait.count() + 999) / 1000);
  close_logged_ = true;
  shared_->refusals.Log(
      RefusalLog::Kind::kEnrolmentThrottled, address_,
      "enrolment attempt refused: too many failed enrolments from this address; next allowed in " + seconds + " s");
  refuse(v1::REFUSAL_REASON_SERVER_BUSY,
         "too many failed enrolment attempts from this address; try again in " + seconds + " s");
  return false;
}

void Session::on_handshake(error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (ec) return close("TLS handshake failed: " + ec.message());
  Status alpn = CheckAlpnAgreed(stream_.native_handle());
  if (!alpn.ok()) {
    log_close(alpn.message());
    return shutdown();
  }
  if (refuse_busy_) {
    return refuse(v1::REFUSAL_REASON_SERVER_BUSY, "the server is at its connection limit; try again shortly");
  }
  read_frame();
}

void Session::read_frame() {
  header_bytes_ = 0;
  arm(Phase::kIdle, options_.idle_timeout);
  stream_.async_read_some(asio::buffer(header_),
                          [self = shared_from_this()](error_code ec, size_t n) { self->on_read_header(ec, n); });
}

void Session::on_read_header(error_code ec, size_t bytes) {
  if (phase_ == Phase::kClosed) return;
  if (ending_ && (ec == asio::error::operation_aborted || (!ec && ending_->cut_now))) return send_ending();
  if (ec) {
    if (phase_ == Phase::kIdle && IsPeerClosed(ec)) return close("peer closed the connection");
    return close(describe_io_error(ec, "reading a frame header"));
  }
  header_bytes_ += bytes;
  // The frame's clock starts at its first byte.
  if (phase_ == Phase::kIdle) arm(Phase::kFrame, options_.frame_timeout);
  if (header_bytes_ < header_.size()) {
    stream_.async_read_some(asio::buffer(header_.data() + header_bytes_, header_.size() - header_bytes_),
                            [self = shared_from_this()](error_code e, size_t n) { self->on_read_header(e, n); });
    return;
  }
  Result<uint32_t> length = DecodeFrameLength(header_.data(), options_.max_frame_bytes);
  if (!length.ok()) return refuse(v1::REFUSAL_REASON_FRAME_TOO_LARGE, length.status().message());
  body_length_ = *length;
  body_read_ = 0;
  body_.clear();
  read_body();
}

void Session::read_body() {
  if (body_read_ < body_length_) {
    // Grow the buffer one chunk at a time, as bytes arrive.
    body_.resize(std::min<size_t>(body_length_, body_read_ + kBodyChunkBytes));
    asio::async_read(stream_, asio::buffer(body_.data() + body_read_, body_.size() - body_read_),
                     [self = shared_from_this()](error_code ec, size_t n) { self->on_read_body(ec, n); });
    return;
  }
  v1::Envelope request;
  // A compressed frame is accepted only with the codec agreed at hello, and refused as
  // too large when it would expand beyond the frame limit (checked before allocating).
  Status decoded = DecodeFrameBody(std::string_view(body_.data(), body_length_), &request, options_.max_frame_bytes,
                                   conversation_.compression());
  body_ = std::string();  // release the frame's memory while the service works
  if (!decoded.ok()) {
    return refuse(decoded.code() == ErrorCode::kResourceExhausted ? v1::REFUSAL_REASON_FRAME_TOO_LARGE
                                                                  : v1::REFUSAL_REASON_PROTOCOL_ERROR,
                  decoded.field().empty() ? decoded.message() : decoded.field() + ": " + decoded.message());
  }

  // An enrolment is served only while the address is not slowed down for failed ones.
  if (request.message_case() == v1::Envelope::kEnrol && !welcomed_ && !admit_enrolment()) return;

  // No deadline while the service works: that time is the server's, not the peer's.
  phase_ = Phase::kService;
  deadline_.expires_at(asio::steady_timer::time_point::max());
  // The work guard keeps the io_context running until the reply is back on the strand,
  // so a shutdown waits for requests in flight.
  auto work = asio::make_work_guard(stream_.get_executor());
  // Pull pages wait while pushes are queued (worker_pool.h).
  const auto priority =
      request.message_case() == v1::Envelope::kPull ? WorkerPool::Priority::kRead : WorkerPool::Priority::kWrite;
  workers_.Post(priority, [self = shared_from_this(), request = std::move(request), work = std::move(work)]() mutable {
    Conversation::Reply reply = self->conversation_.Handle(request);
    asio::post(self->stream_.get_executor(),
               [self, reply = std::move(reply)]() mutable { self->on_service_done(std::move(reply)); });
  });
}

void Session::on_read_body(error_code ec, size_t bytes) {
  if (phase_ == Phase::kClosed) return;
  if (ending_ && (ec == asio::error::operation_aborted || (!ec && ending_->cut_now))) return send_ending();
  if (ec) return close(describe_io_error(ec, "reading a frame body"));
  body_read_ += bytes;
  read_body();
}

void Session::on_service_done(Conversation::Reply reply) {
  if (enrolment_pending_) {
    enrolment_pending_ = false;
    using Outcome = EnrolmentThrottle::Outcome;
    const Outcome outcome = reply.envelope.has_enrolled() ? Outcome::kEnrolled
                            : reply.envelope.refusal().reason() == v1::REFUSAL_REASON_BAD_ENROLMENT_CODE
                                ? Outcome::kBadCode
                                : Outcome::kOther;
    shared_->enrolments.Finish(address_, outcome, std::chrono::steady_clock::now());
  }
  if (phase_ == Phase::kClosed) return;
  if (reply.envelope.has_welcome() && !reply.close && !welcomed_) {
    welcomed_ = true;
    session_end_ = std::chrono::steady_clock::now() + options_.max_session;
    shared_->sessions.Welcome(id_, conversation_.device()->device_id);
  }
  if (reply.changes_page) {
    return send(EncodeChangesPageFrame(*reply.changes_page, options_.max_frame_bytes, conversation_.compression()),
                reply.close, std::move(reply.close_reason));
  }
  write(reply.envelope, reply.close, std::move(reply.close_reason));
}

void Session::write(const v1::Envelope& envelope, bool close_after, std::string close_reason) {
  // Compressed with the codec agreed at hello (the Welcome itself always goes plain).
  send(EncodeFrame(envelope, options_.max_frame_bytes, conversation_.compression()), close_after,
       std::move(close_reason));
}

void Session::send(Result<std::string> frame, bool close_after, std::string close_reason) {
  if (!frame.ok()) {
    // A reply over the limit is the server's fault; the device is told, not left waiting.
    spdlog::error("peer {}: reply not sent: {}", peer_, frame.status().ToString());
    close_after = true;
    close_reason = "reply over the frame limit: " + frame.status().message();
    frame = EncodeFrame(Conversation::MakeRefusal(v1::REFUSAL_REASON_INTERNAL_ERROR, "reply over the frame limit"),
                        options_.max_frame_bytes);
    if (!frame.ok()) return close(close_reason);
  }
  close_after_write_ = close_after;
  if (close_after) {
    // Logged now, before the peer can see the last frame.
    log_close(close_reason);
  }
  out_ = std::move(frame).value();
  arm(Phase::kWrite, options_.frame_timeout);
  asio::async_write(stream_, asio::buffer(out_),
                    [self = shared_from_this()](error_code ec, size_t n) { self->on_write(ec, n); });
}

void Session::on_write(error_code ec, size_t /*bytes*/) {
  if (phase_ == Phase::kClosed) return;
  if (ec) return close(describe_io_error(ec, "writing a reply"));
  out_.clear();
  if (close_after_write_) return shutdown();
  if (stopping_) {
    log_close("server shutting down");
    return shutdown();
  }
  if (!ending_ && welcomed_ && std::chrono::steady_clock::now() >= session_end_) {
    ending_ = max_session_ending();
  }
  if (ending_) return send_ending();
  read_frame();
}

void Session::shutdown() {
  // A lingering close, bounded by the handshake timeout: send TLS close_notify, stop
  // sending, then read and discard whatever the peer still sends until it closes. Closing
  // with unread bytes would make the kernel send a reset, which can destroy the last
  // frame (the refusal) before the peer reads it, and fail a peer still writing a frame
  // the server refused.
  arm(Phase::kClosing, options_.handshake_timeout);
  stream_.async_shutdown([self = shared_from_this()](error_code ec) { self->on_shutdown(ec); });
}

void Session::on_shutdown(error_code /*ec*/) {
  if (phase_ == Phase::kClosed) return;
  error_code ignored;
  stream_.next_layer().shutdown(tcp::socket::shutdown_send, ignored);
  linger();
}

void Session::linger() {
  stream_.next_layer().async_read_some(
      asio::buffer(drain_), [self = shared_from_this()](error_code ec, size_t n) { self->on_linger(ec, n); });
}

// The reason was logged when the close was decided.
void Session::on_linger(error_code ec, size_t /*bytes*/) {
  if (phase_ == Phase::kClosed) return;
  if (ec) return close("peer closed");
  linger();
}

void Session::refuse(v1::RefusalReason reason, const std::string& detail) {
  write(Conversation::MakeRefusal(reason, detail), true, v1::RefusalReason_Name(reason) + ": " + detail);
}

void Session::arm(Phase phase, std::chrono::milliseconds timeout) {
  phase_ = phase;
  auto expiry = asio::steady_timer::clock_type::now() + timeout;
  const bool peers_turn = phase == Phase::kHandshake || phase == Phase::kIdle || phase == Phase::kFrame;
  if (peers_turn && !welcomed_) expiry = std::min(expiry, hello_deadline_);
  if (phase == Phase::kIdle && welcomed_) expiry = std::min(expiry, session_end_);
  deadline_.expires_at(expiry);
  deadline_.async_wait([self = shared_from_this()](error_code ec) { self->on_deadline(ec); });
}

void Session::on_deadline(error_code ec) {
  if (ec == asio::error::operation_aborted || phase_ == Phase::kClosed) return;
  // A wait that completed just before the deadline was moved is stale.
  const auto now = asio::steady_timer::clock_type::now();
  if (deadline_.expiry() > now) return;
  const bool peers_turn = phase_ == Phase::kHandshake || phase_ == Phase::kIdle || phase_ == Phase::kFrame;
  if (peers_turn && !welcomed_ && now >= hello_deadline_) {
    return close_refused(RefusalLog::Kind::kHelloDeadline, "connection closed: no hello within " +
                                                               std::to_string(options_.hello_timeout.count()) +
                                                               " ms of connecting (--hello-timeout-ms)");
  }
  if (phase_ == Phase::kIdle && welcomed_ && now >= session_end_) return end_session(max_session_ending());
  switch (phase_) {
    case Phase::kHandshake:
      return close("TLS handshake not completed within " + std::to_string(options_.handshake_timeout.count()) + " ms");
    case Phase::kIdle: return close("idle for " + std::to_string(options_.idle_timeout.count()) + " ms between frames");
    case Phase::kFrame:
      return close("frame not completed within " + std::to_string(options_.frame_timeout.count()) +
                   " ms of its first byte");
    case Phase::kWrite:
      return close("peer did not read the reply within " + std::to_string(options_.frame_timeout.count()) + " ms");
    case Phase::kClosing: return close("TLS close not answered");
    case Phase::kService:
    case Phase::kClosed: return;
  }
}

void Session::close(const std::string& reason) {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  log_close(reason);
  deadline_.expires_at(asio::steady_timer::time_point::max());
  error_code ignored;
  stream_.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.next_layer().close(ignored);
}

void Session::close_refused(RefusalLog::Kind kind, const std::string& reason) {
  if (phase_ == Phase::kClosed) return;
  if (!close_logged_) {
    close_logged_ = true;
    shared_->refusals.Log(kind, address_, reason + " (" + peer_ + ")");
  }
  close(reason);
}

void Session::log_close(const std::string& reason) {
  if (close_logged_) return;
  close_logged_ = true;
  spdlog::info("peer {}: closing: {}", peer_, reason);
}

std::string Session::describe_io_error(error_code ec, const char* during) const {
  if (IsPeerClosed(ec)) return std::string("peer closed the connection while ") + during;
  return std::string(during) + " failed: " + ec.message();
}

}  // namespace outreach::server
