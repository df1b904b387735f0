// Keys and certificates for a deployment: a private CA that devices pin at enrolment,
// and the server certificate it signs. Generated in-process through OpenSSL's EVP and
// X509 APIs (ECDSA P-256, SHA-256), never by shelling out.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace outreach {

struct PemPair {
  std::string certificate_pem;
  std::string private_key_pem;
};

// A self-signed CA certificate valid for `valid_days`.
Result<PemPair> GenerateCertificateAuthority(const std::string& common_name, int valid_days = 3650);

// A server certificate signed by `ca`, with each of `names` as a subjectAltName (DNS
// names, or IP addresses written as such, e.g. "127.0.0.1").
Result<PemPair> IssueServerCertificate(const PemPair& ca, const std::vector<std::string>& names,
                                       int valid_days = 825);

}  // namespace outreach
