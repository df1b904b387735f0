#include "common/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace outreach {
namespace {

// ALPN wire form: one length byte then the protocol name.
const std::string& AlpnWire() {
  static const std::string wire = std::string(1, static_cast<char>(kAlpnProtocol.size())) + std::string(kAlpnProtocol);
  return wire;
}

int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
               void*) {
  unsigned char* selected = nullptr;
  const auto& wire = AlpnWire();
  if (SSL_select_next_proto(&selected, outlen, reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned int>(wire.size()), in, inlen) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;  // a client that does not speak outreach/1 is refused
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

Status TlsStatus(const std::string& what) { return Status(ErrorCode::kInvalidArgument, what + ": " + LastTlsError()); }

Status RestrictToTls13(SSL_CTX* ctx) {
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
    return Status::Internal("cannot restrict TLS to version 1.3: " + LastTlsError());
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  return Status::Ok();
}

}  // namespace

std::string LastTlsError() {
  std::string out;
  while (unsigned long err = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no OpenSSL error" : out;
}

Result<std::shared_ptr<TlsContext>> MakeServerTlsContext(const std::string& certificate_pem,
                                                         const std::string& private_key_pem) {
  auto ctx = std::make_shared<TlsContext>(TlsContext::tls_server);
  SSL_CTX* native = ctx->native_handle();
  OUTREACH_RETURN_IF_ERROR(RestrictToTls13(native));
  boost::system::error_code ec;
  ctx->use_certificate_chain(boost::asio::buffer(certificate_pem), ec);
  if (ec) return TlsStatus("server certificate");
  ctx->use_private_key(boost::asio::buffer(private_key_pem), TlsContext::pem, ec);
  if (ec) return TlsStatus("server private key");
  if (SSL_CTX_check_private_key(native) != 1) return TlsStatus("server key does not match certificate");
  SSL_CTX_set_alpn_select_cb(native, SelectAlpn, nullptr);
  return ctx;
}

Result<std::shared_ptr<TlsContext>> MakeClientTlsContext(const std::string& ca_pem) {
  auto ctx = std::make_shared<TlsContext>(TlsContext::tls_client);
  SSL_CTX* native = ctx->native_handle();
  OUTREACH_RETURN_IF_ERROR(RestrictToTls13(native));
  boost::system::error_code ec;
  ctx->add_certificate_authority(boost::asio::buffer(ca_pem), ec);
  if (ec) return Status::InvalidArgument("ca", "the CA certificate is not valid PEM: " + LastTlsError());
  ctx->set_verify_mode(boost::asio::ssl::verify_peer);
  const auto& wire = AlpnWire();
  if (SSL_CTX_set_alpn_protos(native, reinterpret_cast<const unsigned char*>(wire.data()),
                              static_cast<unsigned int>(wire.size())) != 0) {
    return Status::Internal("cannot offer ALPN: " + LastTlsError());
  }
  return ctx;
}

Status PrepareClientConnection(SSL* ssl, const std::string& host) {
  const bool is_ip = host.find_first_not_of("0123456789.") == std::string::npos || host.find(':') != std::string::npos;
  if (!is_ip && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
    return Status::Internal("cannot set SNI: " + LastTlsError());
  }
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) : X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
  if (ok != 1) return Status::InvalidArgument("server", "'" + host + "' is not a valid host name or address");
  return Status::Ok();
}

Status CheckAlpnAgreed(SSL* ssl) {
  const unsigned char* proto = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl, &proto, &len);
  if (proto == nullptr || std::string_view(reinterpret_cast<const char*>(proto), len) != kAlpnProtocol) {
    return Status::ProtocolError("peer did not agree on ALPN protocol outreach/1");
  }
  return Status::Ok();
}

}  // namespace outreach
