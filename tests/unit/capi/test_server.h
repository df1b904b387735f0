// A real outreach-server for the sync tests of this folder: a fresh deployment with one
// hub, serving over TLS on a free loopback port until destroyed.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/unit/capi/run_process.h"

namespace outreach::testing {

class TestServer {
 public:
  // `server_binary` is the outreach-server executable. Check ok() before use.
  explicit TestServer(std::string server_binary);

  bool ok() const { return !address_.empty(); }
  const std::string& address() const { return address_; }  // "127.0.0.1:PORT"
  const std::string& ca_path() const { return ca_path_; }
  const std::string& hub_id() const { return hub_id_; }
  // A one-time enrolment code for a device of `role` held by `name`; "" on failure.
  std::string EnrolmentCode(const std::string& role, const std::string& name);

 private:
  nlohmann::json Admin(std::vector<std::string> args);

  std::string binary_;
  TempDir dir_;
  std::string ca_path_;
  std::string hub_id_;
  std::string address_;
  std::unique_ptr<BackgroundProcess> process_;
};

}  // namespace outreach::testing
