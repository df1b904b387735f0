// TLS contexts over a real loopback socket: TLS 1.3 + ALPN succeed with the pinned CA;
// a foreign CA, an old protocol version or a missing ALPN fail the handshake.
#include "common/tls.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <thread>

#include "common/pki.h"

namespace outreach {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using SslStream = asio::ssl::stream<tcp::socket>;

struct Pki {
  PemPair ca;
  PemPair server;
};

const Pki& TestPki() {
  static const Pki pki = [] {
    Pki p;
    p.ca = GenerateCertificateAuthority("Test CA").value();
    p.server = IssueServerCertificate(p.ca, {"localhost", "127.0.0.1"}).value();
    return p;
  }();
  return pki;
}

// Runs one server handshake on a background thread; returns the client's outcome.
struct HandshakeResult {
  boost::system::error_code client_error;
  boost::system::error_code server_error;
  Status client_alpn;
};

HandshakeResult Handshake(TlsContext& client_ctx, const std::string& host = "127.0.0.1") {
  auto server_ctx = MakeServerTlsContext(TestPki().server.certificate_pem, TestPki().server.private_key_pem).value();
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  HandshakeResult result;
  std::thread server([&] {
    asio::io_context sio;
    SslStream stream(sio, *server_ctx);
    acceptor.accept(stream.next_layer());
    stream.handshake(SslStream::server, result.server_error);
    if (!result.server_error) {
      boost::system::error_code ignored;
      char byte = 0;
      asio::read(stream, asio::buffer(&byte, 1), ignored);  // wait for the client to close
    }
  });
  SslStream client(io, client_ctx);
  client.next_layer().connect(acceptor.local_endpoint());
  Status prep = PrepareClientConnection(client.native_handle(), host);
  EXPECT_TRUE(prep.ok()) << prep.ToString();
  client.handshake(SslStream::client, result.client_error);
  if (!result.client_error) result.client_alpn = CheckAlpnAgreed(client.native_handle());
  boost::system::error_code ignored;
  client.next_layer().close(ignored);
  server.join();
  return result;
}

TEST(TlsTest, PinnedCaTls13AndAlpnSucceed) {
  auto ctx = MakeClientTlsContext(TestPki().ca.certificate_pem).value();
  HandshakeResult r = Handshake(*ctx);
  EXPECT_FALSE(r.client_error) << r.client_error.message();
  EXPECT_FALSE(r.server_error) << r.server_error.message();
  EXPECT_TRUE(r.client_alpn.ok()) << r.client_alpn.ToString();
  HandshakeResult by_name = Handshake(*ctx, "localhost");
  EXPECT_FALSE(by_name.client_error) << by_name.client_error.message();
}

TEST(TlsTest, ForeignCaIsRefused) {
  PemPair other = GenerateCertificateAuthority("Someone else").value();
  auto ctx = MakeClientTlsContext(other.certificate_pem).value();
  HandshakeResult r = Handshake(*ctx);
  EXPECT_TRUE(r.client_error);
}

TEST(TlsTest, WrongHostNameIsRefused) {
  auto ctx = MakeClientTlsContext(TestPki().ca.certificate_pem).value();
  HandshakeResult r = Handshake(*ctx, "hub.example.org");
  EXPECT_TRUE(r.client_error);
}

TEST(TlsTest, Tls12ClientIsRefused) {
  TlsContext ctx(TlsContext::tls_client);
  SSL_CTX_set_max_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  ctx.set_verify_mode(asio::ssl::verify_none);
  HandshakeResult r = Handshake(ctx);
  EXPECT_TRUE(r.client_error);
  EXPECT_TRUE(r.server_error);
}

TEST(TlsTest, ClientWithoutAlpnIsRefused) {
  TlsContext ctx(TlsContext::tls_client);
  ctx.set_verify_mode(asio::ssl::verify_none);
  const unsigned char other[] = "\x02h2";
  SSL_CTX_set_alpn_protos(ctx.native_handle(), other, 3);
  HandshakeResult r = Handshake(ctx);
  EXPECT_TRUE(r.client_error);
}

TEST(TlsTest, BadPemIsAClearError) {
  auto bad = MakeClientTlsContext("not a certificate");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "ca");
  EXPECT_FALSE(MakeServerTlsContext("x", "y").ok());
}

}  // namespace
}  // namespace outreach
