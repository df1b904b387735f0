// outreach-bench SCENARIO [--size tiny|small|full] [--store LOCATION] [--device-timeout-ms MS]
//
// Runs one scenario of issue 6 (capture, dayend, bootstrap, idle, connections, wire;
// "all" runs each in turn) against the real outreach-server over TLS on loopback and
// prints its table. See docs/PERFORMANCE.md for what each measures.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <map>

#include "bench/scenarios/scenarios.h"

int main(int argc, char** argv) {
  using namespace outreach::bench;
  CLI::App app{"outreach-bench: the scenarios of issue 6 against the real outreach-server"};
  app.require_subcommand(1);
  RunOptions options;
  std::string size = "full";
  const std::map<std::string, std::function<void(const RunOptions&)>> scenarios{
      {"capture", RunCapture}, {"dayend", RunDayEnd},           {"bootstrap", RunBootstrap},
      {"idle", RunIdle},       {"connections", RunConnections}, {"wire", RunWire}};
  std::function<void()> action;
  for (const auto& [name, run] : scenarios) {
    CLI::App* sub = app.add_subcommand(name, "the " + name + " scenario");
    sub->add_option("--size", size, "tiny (smoke test), small or full (issue 6's figures)")
        ->check(CLI::IsMember({"tiny", "small", "full"}));
    sub->add_option("--store", options.store, "the server's store, e.g. postgresql://... (default: SQLite)");
    sub->add_option("--device-timeout-ms", options.device_timeout_ms,
                    "dayend and wire: each device's deadline per network step (default: the library's, 30 s)");
    sub->callback([&action, run = run, &options] { action = [run, &options] { run(options); }; });
  }
  CLI::App* all = app.add_subcommand("all", "every scenario in turn");
  all->add_option("--size", size, "tiny, small or full")->check(CLI::IsMember({"tiny", "small", "full"}));
  all->add_option("--store", options.store, "the server's store (default: SQLite)");
  all->callback([&] {
    action = [&] {
      for (const char* name : {"capture", "dayend", "wire", "bootstrap", "idle", "connections"}) {
        scenarios.at(name)(options);
      }
    };
  });

  // The bootstrap's device runs in a process of its own (its peak RSS is measured).
  std::string db, server, ca, code;
  CLI::App* client = app.add_subcommand("bootstrap-client", "internal: the bootstrap scenario's new device");
  client->group("");
  client->add_option("--db", db)->required();
  client->add_option("--server", server)->required();
  client->add_option("--ca", ca)->required();
  client->add_option("--code", code)->required();
  int exit_code = 0;
  client->callback([&] { action = [&] { exit_code = RunBootstrapClient(db, server, ca, code); }; });

  CLI11_PARSE(app, argc, argv);
  options.size = size == "tiny" ? Size::kTiny : size == "small" ? Size::kSmall : Size::kFull;
  action();
  return exit_code;
}
