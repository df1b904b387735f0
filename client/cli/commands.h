// The `outreach` command line (DESIGN.md "The command lines"): verbs over outreach::Device.
//
// Contract: every command prints one JSON object on stdout with --json and human text
// otherwise; it exits 0 on success, 1 when the library refuses the operation and 2 for a
// malformed command line, always with exactly one line on stderr naming the field and the
// reason (an unknown or missing verb: the verbs possible there, common/cli_verbs.h).
// Global options (--db, --json, --user) are accepted anywhere on the line.
// Record ids in JSON are UUID strings; a created or changed record is printed as its flat
// JSON form (client/capi/record_json.h): {"id": ..., "type": ..., fields...}.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "client/cli/field_options.h"
#include "outreach/device.h"

namespace outreach::cli {

class CommandLine {
 public:
  CommandLine();
  CommandLine(const CommandLine&) = delete;
  CommandLine& operator=(const CommandLine&) = delete;

  // Parses and runs one command; returns the process exit code.
  int Run(int argc, char** argv, std::ostream& out, std::ostream& err);

 private:
  using Action = std::function<Result<nlohmann::ordered_json>(Device&)>;
  struct Verb {
    CLI::App* app;
    Action action;
  };

  // A verb whose action runs on the open device.
  CLI::App* AddVerb(CLI::App* parent, const std::string& name, const std::string& description, Action action);
  // A verb that builds a Body from its field options and hands it to `create`.
  template <typename Body, typename Create>
  CLI::App* AddCreateVerb(CLI::App* parent, const std::string& name, const std::string& description, Create create,
                          const std::set<std::string>& skip = {});

  void AddParticipantVerbs();
  void AddSessionVerbs();
  void AddJourneyVerbs();
  void AddStateMoveVerbs();
  void AddRecordVerbs();
  void AddSyncVerbs();

  CLI::App app_;
  std::string db_;
  bool json_ = false;
  std::string user_;
  std::vector<Verb> verbs_;  // parents before their children
};

}  // namespace outreach::cli
