// A deployment's data directory: what `outreach-server init` creates and every other
// command reads.
//
//   DIR/store.db         the SQLite store (unless --store names another location)
//   DIR/store            the store's location when `init --store` named one (one line,
//                        mode 0600: a URL may carry a password); every later command on
//                        DIR uses it, so --store need not be repeated
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
  std::string store_location;  // DIR/store's location, or DIR/store.db
  std::string ca_path;         // DIR/ca.pem
};

// Creates a deployment in `dir` (created if missing): the store, a CA and a server
// certificate for `hostname`. Refuses (kAlreadyExists, field "data") a directory that
// already holds one. An empty `store_location` means DIR/store.db; any other is recorded
// in DIR/store.
Result<Deployment> InitDeployment(const std::string& dir, const std::string& hostname,
                                  const std::string& store_location);

// The deployment in `dir`; kNotFound (field "data") when `dir` holds none. Its store is
// the one recorded at init (DIR/store) or DIR/store.db. A non-empty `store_location`
// (--store) must name that same store: a different one is refused (kInvalidArgument,
// field "--store"). A deployment made before DIR/store existed, with no DIR/store.db,
// takes `store_location` as given and records it.
Result<Deployment> FindDeployment(const std::string& dir, const std::string& store_location);

// Makes `location` the deployment's store from now on (DIR/store), e.g. after
// `store copy` moved its data there.
Status RecordStoreLocation(const Deployment& deployment, const std::string& location);

// Whether two store locations name the same store ("sqlite:P" and P, relative and
// absolute paths of one file; URLs compared as text).
bool SameStore(const std::string& a, const std::string& b);

// The PEM files `serve` needs.
struct ServerCredentials {
  std::string ca_pem;
  std::string certificate_pem;
  std::string private_key_pem;
};
Result<ServerCredentials> LoadServerCredentials(const Deployment& deployment);

}  // namespace outreach::server
