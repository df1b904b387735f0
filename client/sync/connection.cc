#include "client/sync/connection.h"

#include "common/compression.h"
#include "common/tls.h"

namespace outreach::client {

namespace asio = boost::asio;
using asio::ip::tcp;

Result<ServerAddress> ServerAddress::Parse(const std::string& text) {
  ServerAddress out;
  size_t colon;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Status::InvalidArgument("server", "'" + text + "' is not HOST:PORT");
    }
    out.host = text.substr(1, close - 1);
    colon = close + 1;
  } else {
    colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      return Status::InvalidArgument("server", "'" + text + "' is not HOST:PORT");
    }
    out.host = text.substr(0, colon);
  }
  out.port = text.substr(colon + 1);
  if (out.port.empty() || out.port.find_first_not_of("0123456789") != std::string::npos || out.port.size() > 5 ||
      std::stoi(out.port) == 0 || std::stoi(out.port) > 65535) {
    return Status::InvalidArgument("server", "'" + text + "' has no valid port");
  }
  return out;
}

SyncConnection::SyncConnection() = default;

SyncConnection::~SyncConnection() {
  Close();
}

Status SyncConnection::RunUntil(const bool& done, std::chrono::milliseconds timeout, const char* step) {
  io_.restart();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    io_.run_one_for(deadline - now);
  }
  if (done) return Status::Ok();
  // Timed out: abandon the conversation; pending handlers complete with errors.
  boost::system::error_code ignored;
  if (stream_) stream_->lowest_layer().close(ignored);
  io_.restart();
  io_.poll();
  return Status(ErrorCode::kTimeout, std::string(step) + " timed out after " + std::to_string(timeout.count()) + " ms");
}

Status SyncConnection::Connect(const ServerAddress& address, const std::string& ca_pem,
                               std::chrono::milliseconds timeout) {
  Result<std::shared_ptr<asio::ssl::context>> ctx = MakeClientTlsContext(ca_pem);
  if (!ctx.ok()) return ctx.status();
  tls_ = *ctx;
  stream_ = std::make_unique<Stream>(io_, *tls_);
  OUTREACH_RETURN_IF_ERROR(PrepareClientConnection(stream_->native_handle(), address.host));

  boost::system::error_code ec;
  tcp::resolver resolver(io_);
  auto endpoints = resolver.resolve(address.host, address.port, ec);
  if (ec) return Status(ErrorCode::kUnavailable, "cannot resolve " + address.ToString() + ": " + ec.message());

  bool done = false;
  asio::async_connect(stream_->lowest_layer(), endpoints,
                      [&](const boost::system::error_code& e, const tcp::endpoint&) {
                        ec = e;
                        done = true;
                      });
  OUTREACH_RETURN_IF_ERROR(RunUntil(done, timeout, "connecting"));
  if (ec) return Status(ErrorCode::kUnavailable, "cannot connect to " + address.ToString() + ": " + ec.message());
  stream_->lowest_layer().set_option(tcp::no_delay(true), ec);

  done = false;
  stream_->async_handshake(Stream::client, [&](const boost::system::error_code& e) {
    ec = e;
    done = true;
  });
  OUTREACH_RETURN_IF_ERROR(RunUntil(done, timeout, "TLS handshake"));
  if (ec) {
    // A connection the server closed or reset before the handshake ended (a server at its
    // cap of connections without hello closes new ones before TLS) is worth retrying; a
    // handshake the TLS layer refused (a certificate not from the pinned CA) is not.
    if (ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::ssl::error::stream_truncated) {
      return Status(ErrorCode::kUnavailable,
                    "the server at " + address.ToString() + " closed the connection during the TLS handshake (busy?)");
    }
    return Status(ErrorCode::kUnauthenticated, "TLS handshake with " + address.ToString() +
                                                   " failed (is this the hub's server and CA?): " + ec.message());
  }
  return CheckAlpnAgreed(stream_->native_handle());
}

Status SyncConnection::Send(const v1::Envelope& envelope, std::chrono::milliseconds timeout) {
  if (envelope.has_hello()) {
    if (envelope.hello().compression_size() > 0) {
      offered_compression_ = true;
    } else if (offer_compression_) {
      v1::Envelope hello = envelope;
      hello.mutable_hello()->add_compression(v1::COMPRESSION_ZSTD);
      offered_compression_ = true;
      return SendFrame(hello, timeout);
    }
  }
  return SendFrame(envelope, timeout);
}

Status SyncConnection::SendFrame(const v1::Envelope& envelope, std::chrono::milliseconds timeout) {
  if (!stream_) return Status::Internal("not connected");
  // Never send what the server said it would not accept (PROTOCOL.md: Welcome.max_frame_bytes).
  Result<std::string> frame = EncodeFrame(envelope, max_send_frame_bytes_, compression_);
  if (!frame.ok()) {
    return Status(frame.status().code(),
                  "not sent: the frame is over the server's limit (Welcome.max_frame_bytes " +
                      std::to_string(max_send_frame_bytes_) + "): " + frame.status().message(),
                  "max_frame_bytes");
  }
  bool done = false;
  boost::system::error_code ec;
  asio::async_write(*stream_, asio::buffer(*frame), [&](const boost::system::error_code& e, size_t) {
    ec = e;
    done = true;
  });
  OUTREACH_RETURN_IF_ERROR(RunUntil(done, timeout, "sending"));
  if (ec) return Status(ErrorCode::kUnavailable, "connection lost while sending: " + ec.message());
  bytes_sent_ += frame->size();
  return Status::Ok();
}

Status SyncConnection::Receive(v1::Envelope* envelope, std::chrono::milliseconds timeout) {
  if (!stream_) return Status::Internal("not connected");
  uint8_t header[kFrameHeaderBytes];
  bool done = false;
  boost::system::error_code ec;
  asio::async_read(*stream_, asio::buffer(header), [&](const boost::system::error_code& e, size_t) {
    ec = e;
    done = true;
  });
  OUTREACH_RETURN_IF_ERROR(RunUntil(done, timeout, "waiting for the server"));
  if (ec) return Status(ErrorCode::kUnavailable, "connection lost while receiving: " + ec.message());
  Result<uint32_t> length = DecodeFrameLength(header, max_frame_bytes_);
  if (!length.ok()) return length.status();
  std::string body(*length, '\0');
  done = false;
  asio::async_read(*stream_, asio::buffer(body), [&](const boost::system::error_code& e, size_t) {
    ec = e;
    done = true;
  });
  OUTREACH_RETURN_IF_ERROR(RunUntil(done, timeout, "receiving"));
  if (ec) return Status(ErrorCode::kUnavailable, "connection lost inside a frame: " + ec.message());
  bytes_received_ += kFrameHeaderBytes + body.size();
  OUTREACH_RETURN_IF_ERROR(DecodeFrameBody(body, envelope, max_frame_bytes_, compression_));
  if (envelope->has_refusal() && envelope->refusal().wipe()) told_to_wipe_ = true;
  if (envelope->has_welcome()) return AdoptWelcome(envelope->welcome());
  return Status::Ok();
}

Status SyncConnection::AdoptWelcome(const v1::Welcome& welcome) {
  const v1::Compression codec = welcome.compression();
  if (codec != v1::COMPRESSION_NONE && (!offered_compression_ || !CompressionSupported(codec))) {
    return Status(ErrorCode::kProtocolError,
                  "the server chose frame compression " + CompressionName(codec) + ", which this device did not offer",
                  "compression");
  }
  compression_ = codec;
  if (welcome.max_frame_bytes() > 0) max_send_frame_bytes_ = welcome.max_frame_bytes();
  return Status::Ok();
}

void SyncConnection::Close() {
  if (!stream_) return;
  boost::system::error_code ec;
  // A bounded close: do not wait for the server's close_notify.
  stream_->lowest_layer().shutdown(tcp::socket::shutdown_both, ec);
  stream_->lowest_layer().close(ec);
  stream_.reset();
}

}  // namespace outreach::client
