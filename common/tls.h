// TLS 1.3-only contexts for both ends of a sync connection.
//
// - Protocol: TLS 1.3 and nothing older; ALPN "outreach/1" must be agreed.
// - The client trusts exactly one CA, the one it received at enrolment (pinning): the
//   system's trust store is never consulted. It verifies the server's name too.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/asio.h"
#include "common/status.h"

namespace outreach {

inline constexpr std::string_view kAlpnProtocol = "outreach/1";

using TlsContext = boost::asio::ssl::context;

// A server context presenting `certificate_pem` (optionally followed by its chain) and
// `private_key_pem`; handshakes that do not offer ALPN "outreach/1" fail.
Result<std::shared_ptr<TlsContext>> MakeServerTlsContext(const std::string& certificate_pem,
                                                         const std::string& private_key_pem);

// A client context that trusts only `ca_pem` and offers ALPN "outreach/1".
Result<std::shared_ptr<TlsContext>> MakeClientTlsContext(const std::string& ca_pem);

// Per connection, before the handshake: sets SNI and the name the server's certificate
// must carry (a DNS name or an IP address).
Status PrepareClientConnection(SSL* ssl, const std::string& host);

// After the handshake: ok only if both ends agreed on ALPN "outreach/1".
Status CheckAlpnAgreed(SSL* ssl);

// The text of the last OpenSSL error(s) on this thread, for log lines.
std::string LastTlsError();

}  // namespace outreach
