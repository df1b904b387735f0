// The scenarios of issue 6. Each builds its own deployment in a temporary directory,
// runs the real `outreach-server` over TLS on loopback with devices on real SQLite files,
// and prints one table: the figure, the same work done by a plain baseline in the same
// run, the ratio, and the goal. Nothing is asserted: a scenario fails only when it cannot
// run (a refused change, a failed sync).
#pragma once

#include <string>

namespace outreach::bench {

enum class Size { kTiny, kSmall, kFull };

struct RunOptions {
  Size size = Size::kFull;
  std::string store;  // --store for the server ("" = the deployment's SQLite file)
  // Each device's deadline per network step (dayend, wire); 0 = SyncOptions' default
  // (30 s). A loaded machine may need more for every device to finish the burst.
  int device_timeout_ms = 0;
};

void RunCapture(const RunOptions& options);
void RunDayEnd(const RunOptions& options);
void RunBootstrap(const RunOptions& options);
void RunIdle(const RunOptions& options);
void RunConnections(const RunOptions& options);
void RunWire(const RunOptions& options);

// The bootstrap's device, in a process of its own so its peak RSS is its own: enrols
// with `code`, syncs, then inserts the same records into a plain SQLite table; prints
// one JSON object (pulled, seconds, peak_rss_kb, plain_seconds).
int RunBootstrapClient(const std::string& db, const std::string& server, const std::string& ca_path,
                       const std::string& code);

}  // namespace outreach::bench
