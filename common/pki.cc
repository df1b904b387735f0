#include "common/pki.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace outreach {
namespace {

struct Deleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter>;
using CertPtr = std::unique_ptr<X509, Deleter>;
using BioPtr = std::unique_ptr<BIO, Deleter>;

Status TlsError(const std::string& what) { return Status(ErrorCode::kInternal, "certificate generation: " + what); }

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<std::string> KeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return TlsError("cannot write private key");
  }
  return BioToString(bio.get());
}

Result<std::string> CertToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return TlsError("cannot write certificate");
  return BioToString(bio.get());
}

Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, Deleter> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) return TlsError("cannot add extension " + value);
  return Status::Ok();
}

// A new certificate with a random serial, validity window and subject CN.
Result<CertPtr> NewCertificate(EVP_PKEY* key, const std::string& common_name, int valid_days) {
  CertPtr cert(X509_new());
  if (!cert) return TlsError("X509_new");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return TlsError("RAND_bytes");
  serial[0] &= 0x7F;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  ASN1_INTEGER* asn = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  if (asn == nullptr) return TlsError("serial");
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60 * 60);  // tolerate slightly slow clocks
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(valid_days) * 24 * 60 * 60);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("Outreach"), -1, -1,
                             0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()),
                             -1, -1, 0);
  return cert;
}

Result<KeyPtr> NewKey() {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return TlsError("EC key generation failed");
  return key;
}

}  // namespace

Result<PemPair> GenerateCertificateAuthority(const std::string& common_name, int valid_days) {
  Result<KeyPtr> key = NewKey();
  if (!key.ok()) return key.status();
  Result<CertPtr> cert = NewCertificate(key->get(), common_name, valid_days);
  if (!cert.ok()) return cert.status();
  X509* c = cert->get();
  X509_set_issuer_name(c, X509_get_subject_name(c));
  OUTREACH_RETURN_IF_ERROR(AddExtension(c, c, NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  OUTREACH_RETURN_IF_ERROR(AddExtension(c, c, NID_key_usage, "critical,keyCertSign,cRLSign"));
  OUTREACH_RETURN_IF_ERROR(AddExtension(c, c, NID_subject_key_identifier, "hash"));
  if (X509_sign(c, key->get(), EVP_sha256()) == 0) return TlsError("signing CA certificate");
  PemPair out;
  Result<std::string> cert_pem = CertToPem(c);
  Result<std::string> key_pem = KeyToPem(key->get());
  if (!cert_pem.ok()) return cert_pem.status();
  if (!key_pem.ok()) return key_pem.status();
  out.certificate_pem = *cert_pem;
  out.private_key_pem = *key_pem;
  return out;
}

Result<PemPair> IssueServerCertificate(const PemPair& ca, const std::vector<std::string>& names, int valid_days) {
  if (names.empty()) return Status::InvalidArgument("hostname", "a server certificate needs at least one name");
  BioPtr ca_cert_bio(BIO_new_mem_buf(ca.certificate_pem.data(), static_cast<int>(ca.certificate_pem.size())));
  BioPtr ca_key_bio(BIO_new_mem_buf(ca.private_key_pem.data(), static_cast<int>(ca.private_key_pem.size())));
  CertPtr ca_cert(PEM_read_bio_X509(ca_cert_bio.get(), nullptr, nullptr, nullptr));
  KeyPtr ca_key(PEM_read_bio_PrivateKey(ca_key_bio.get(), nullptr, nullptr, nullptr));
  if (!ca_cert || !ca_key) return Status::InvalidArgument("ca", "CA certificate or key is not valid PEM");

  Result<KeyPtr> key = NewKey();
  if (!key.ok()) return key.status();
  Result<CertPtr> cert = NewCertificate(key->get(), names.front(), valid_days);
  if (!cert.ok()) return cert.status();
  X509* c = cert->get();
  X509_set_issuer_name(c, X509_get_subject_name(ca_cert.get()));
  std::string san;
  for (const std::string& n : names) {
    if (!san.empty()) san += ",";
    bool is_ip = n.find_first_not_of("0123456789.") == std::string::npos || n.find(':') != std::string::npos;
    san += (is_ip ? "IP:" : "DNS:") + n;
  }
  OUTREACH_RETURN_IF_ERROR(AddExtension(c, ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  OUTREACH_RETURN_IF_ERROR(AddExtension(c, ca_cert.get(), NID_key_usage, "critical,digitalSignature"));
  OUTREACH_RETURN_IF_ERROR(AddExtension(c, ca_cert.get(), NID_ext_key_usage, "serverAuth"));
  OUTREACH_RETURN_IF_ERROR(AddExtension(c, ca_cert.get(), NID_subject_alt_name, san));
  if (X509_sign(c, ca_key.get(), EVP_sha256()) == 0) return TlsError("signing server certificate");
  PemPair out;
  Result<std::string> cert_pem = CertToPem(c);
  Result<std::string> key_pem = KeyToPem(key->get());
  if (!cert_pem.ok()) return cert_pem.status();
  if (!key_pem.ok()) return key_pem.status();
  out.certificate_pem = *cert_pem;
  out.private_key_pem = *key_pem;
  return out;
}

}  // namespace outreach
