// A deployment's data directory: what `outreach-server init` creates and every other
// command reads.
//
//   DIR/store.db         the SQLite store (unless --store names another location)
//   DIR/ca.pem           the CA devices pin at enrolment (written last: its presence
//                        marks a complete deployment)
//   DIR/ca-key.pem       the CA's private key (mode 0600), to issue future server certs
//   DIR/server.pem       the server certificate (SANs: the hostname, localhost, 127.0.0.1)
//   DIR/server-key.pem   its private key (mode 0600)
#pragma once

#include <string>

#include "common/status.h"

namespace outreach::server {

struct Deployment {
  std::string dir;
  std::string store_location;  // --store, or DIR/store.db
  std::string ca_path;         // DIR/ca.pem
};

// Creates a deployment in `dir` (created if missing): the store, a CA and a server
// certificate for `hostname`. Refuses (kAlreadyExists, field "data") a directory that
// already holds one. An empty `store_location` means DIR/store.db.
Result<Deployment> InitDeployment(const std::string& dir, const std::string& hostname,
                                  const std::string& store_location);

// The deployment in `dir`; kNotFound (field "data") when `dir` holds none.
Result<Deployment> FindDeployment(const std::string& dir, const std::string& store_location);

// The PEM files `serve` needs.
struct ServerCredentials {
  std::string ca_pem;
  std::string certificate_pem;
  std::string private_key_pem;
};
Result<ServerCredentials> LoadServerCredentials(const Deployment& deployment);

}  // namespace outreach::server
