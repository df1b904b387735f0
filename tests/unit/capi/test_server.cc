#include "tests/unit/capi/test_server.h"

namespace outreach::testing {

using Json = nlohmann::json;

TestServer::TestServer(std::string server_binary) : binary_(std::move(server_binary)) {
  Json init = Admin({"init", "--hostname", "127.0.0.1"});
  Json hub = Admin({"hub", "add", "--name", "North"});
  if (!init.contains("ca") || !hub.contains("hub_id")) return;
  ca_path_ = init["ca"];
  hub_id_ = hub["hub_id"];
  process_ = std::make_unique<BackgroundProcess>(
      std::vector<std::string>{binary_, "serve", "--data", dir_.path(), "--listen", "127.0.0.1:0", "--json"});
  Json listening = Json::parse(process_->ReadLine(30000), nullptr, false);
  if (listening.is_object() && listening["listening"].is_string()) address_ = listening["listening"];
}

std::string TestServer::EnrolmentCode(const std::string& role, const std::string& name) {
  Json code = Admin({"enrol", "--hub", hub_id_, "--role", role, "--name", name});
  return code.contains("code") ? code["code"].get<std::string>() : std::string();
}

Json TestServer::Admin(std::vector<std::string> args) {
  args.insert(args.begin(), binary_);
  args.insert(args.end(), {"--data", dir_.path(), "--json"});
  ProcessResult r = RunProcess(args);
  if (r.exit_code != 0) return Json();
  return Json::parse(r.out, nullptr, false);
}

}  // namespace outreach::testing
