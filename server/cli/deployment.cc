#include "server/cli/deployment.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/pki.h"
#include "server/store/store.h"

namespace outreach::server {
namespace {

namespace fs = std::filesystem;

std::string Join(const std::string& dir, const char* name) {
  return (fs::path(dir) / name).string();
}

// Writes `content` to `path` with `mode`, durably (fsync), replacing any old file
// atomically through a temporary name.
Status WriteFileAtomically(const std::string& path, const std::string& content, mode_t mode) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Status::IoError("cannot create " + tmp + ": " + std::strerror(errno));
  bool ok = ::fchmod(fd, mode) == 0;
  size_t written = 0;
  while (ok && written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) written += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(ok ? errno : saved);
    ::unlink(tmp.c_str());
    return Status::IoError("cannot write " + path + ": " + reason);
  }
  return Status::Ok();
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool IsUrl(const std::string& location) {
  return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

// An SQLite location as an absolute path (a deployment's commands may run from any
// directory); a URL unchanged.
std::string Normalise(const std::string& location) {
  if (IsUrl(location)) return location;
  std::string path = location.rfind("sqlite:", 0) == 0 ? location.substr(7) : location;
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  return ec ? path : absolute.lexically_normal().string();
}

std::string StoreFile(const std::string& dir) {
  return Join(dir, "store");
}

// The location recorded in DIR/store, or "" when there is none.
Result<std::string> RecordedStore(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(StoreFile(dir), ec)) return std::string();
  Result<std::string> text = ReadFile(StoreFile(dir));
  if (!text.ok()) return text.status();
  std::string location = *text;
  while (!location.empty() && (location.back() == '\n' || location.back() == '\r' || location.back() == ' ')) {
    location.pop_back();
  }
  if (location.empty()) return Status::DataLoss(StoreFile(dir) + " is empty; it should name the deployment's store");
  return location;
}

}  // namespace

bool SameStore(const std::string& a, const std::string& b) {
  return Normalise(a) == Normalise(b);
}

Status RecordStoreLocation(const Deployment& deployment, const std::string& location) {
  return WriteFileAtomically(StoreFile(deployment.dir), Normalise(location) + "\n", 0600);
}

Result<Deployment> InitDeployment(const std::string& dir, const std::string& hostname,
                                  const std::string& store_location) {
  if (dir.empty()) return Status::InvalidArgument("data", "is required");
  if (hostname.empty()) return Status::InvalidArgument("hostname", "must not be empty");
  Deployment deployment{dir, store_location.empty() ? Join(dir, "store.db") : Normalise(store_location),
                        Join(dir, "ca.pem")};
  std::error_code ec;
  if (fs::exists(deployment.ca_path, ec)) {
    return Status(ErrorCode::kAlreadyExists, dir + " already holds a deployment (ca.pem exists); not overwriting it",
                  "data");
  }
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    return Status::InvalidArgument("data", dir + " exists and is not a directory");
  }
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return Status(ErrorCode::kIoError, "cannot create " + dir + ": " + ec.message(), "data");
    fs::permissions(dir, fs::perms::owner_all, ec);  // keys live here
  }

  Result<std::unique_ptr<Store>> store = OpenStore(deployment.store_location);
  if (!store.ok()) return store.status();

  Result<PemPair> ca = GenerateCertificateAuthority("outreach-server CA (" + hostname + ")");
  if (!ca.ok()) return ca.status();
  std::vector<std::string> names{hostname};
  for (const char* name : {"localhost", "127.0.0.1"}) {
    if (hostname != name) names.emplace_back(name);
  }
  Result<PemPair> server = IssueServerCertificate(*ca, names);
  if (!server.ok()) return server.status();

  // The store's location, keys, then ca.pem last: a crash in between leaves no ca.pem,
  // so init may run again.
  if (!store_location.empty()) OUTREACH_RETURN_IF_ERROR(RecordStoreLocation(deployment, store_location));
  OUTREACH_RETURN_IF_ERROR(WriteFileAtomically(Join(dir, "ca-key.pem"), ca->private_key_pem, 0600));
  OUTREACH_RETURN_IF_ERROR(WriteFileAtomically(Join(dir, "server-key.pem"), server->private_key_pem, 0600));
  OUTREACH_RETURN_IF_ERROR(WriteFileAtomically(Join(dir, "server.pem"), server->certificate_pem, 0644));
  OUTREACH_RETURN_IF_ERROR(WriteFileAtomically(deployment.ca_path, ca->certificate_pem, 0644));
  return deployment;
}

Result<Deployment> FindDeployment(const std::string& dir, const std::string& store_location) {
  if (dir.empty()) return Status::InvalidArgument("data", "is required (the directory `init` created)");
  Deployment deployment{dir, Join(dir, "store.db"), Join(dir, "ca.pem")};
  std::error_code ec;
  if (!fs::exists(deployment.ca_path, ec)) {
    return Status::NotFound(dir + " holds no deployment (no ca.pem); run `outreach-server init --data " + dir + "`",
                            "data");
  }
  Result<std::string> recorded = RecordedStore(dir);
  if (!recorded.ok()) return recorded.status();
  if (recorded->empty() && !store_location.empty() && !fs::exists(deployment.store_location, ec)) {
    // Made by an `init --store` that did not record it yet: take it, and remember it.
    OUTREACH_RETURN_IF_ERROR(RecordStoreLocation(deployment, store_location));
    recorded = Normalise(store_location);
  }
  if (!recorded->empty()) deployment.store_location = *recorded;
  if (!store_location.empty() && !SameStore(store_location, deployment.store_location)) {
    const std::string where = recorded->empty() ? "the default" : "recorded in " + StoreFile(dir);
    return Status::InvalidArgument(
        "--store", "'" + store_location + "' is not the store of the deployment in " + dir + " (" +
                       deployment.store_location + ", " + where +
                       "); leave --store out, or move the deployment with `outreach-server store copy --data " + dir +
                       " --to LOCATION --switch`");
  }
  return deployment;
}

Result<ServerCredentials> LoadServerCredentials(const Deployment& deployment) {
  ServerCredentials credentials;
  Result<std::string> ca = ReadFile(deployment.ca_path);
  if (!ca.ok()) return ca.status();
  Result<std::string> certificate = ReadFile(Join(deployment.dir, "server.pem"));
  if (!certificate.ok()) return certificate.status();
  Result<std::string> key = ReadFile(Join(deployment.dir, "server-key.pem"));
  if (!key.ok()) return key.status();
  credentials.ca_pem = std::move(ca).value();
  credentials.certificate_pem = std::move(certificate).value();
  credentials.private_key_pem = std::move(key).value();
  return credentials;
}

}  // namespace outreach::server
