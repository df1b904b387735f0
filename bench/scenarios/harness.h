// The scenario driver's harness: a deployment made through the real `outreach-server`
// command line, `serve` as a child process, process memory from /proc, a counting TCP
// relay for bytes on the wire, and the table every scenario prints.
//
// Nothing here stands in for project code: the server is the built binary, devices use
// liboutreach, and the relay only copies bytes between a device and the server.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "common/uuid.h"

namespace outreach::bench {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start);

// Prints the reason and exits 1: a scenario that cannot run has no figures to print.
[[noreturn]] void Die(const std::string& what);
// The value, or Die() with `what` and the status.
template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what + ": " + r.status().ToString());
  return std::move(r).value();
}
void Must(const Status& st, const std::string& what);

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Paths of the binaries the driver runs, fixed at build time.
std::string ServerBinary();
std::string CaptureBinary();
std::string SelfBinary();  // this driver (for child processes that measure themselves)

// Runs `binary ARGS...`, returns its stdout; Die()s with its stderr if it exits non-zero.
std::string RunOrDie(const std::string& binary, const std::vector<std::string>& args);

// A deployment: `outreach-server init` plus one hub per name, through the command line.
// `store` is passed as --store when not empty (e.g. postgresql://...).
struct Deployment {
  std::string data;
  std::string store;           // as given; empty = DATA/store.db
  std::string store_location;  // what the server opens
  std::string ca_pem;
  std::vector<Uuid> hubs;
};
Deployment MakeDeployment(const std::string& data, const std::string& store, int hub_count);

// `outreach-server serve` on 127.0.0.1:0 over a deployment, as a child process.
class ServerProcess {
 public:
  ServerProcess(const Deployment& deployment, const std::vector<std::string>& extra_args, const std::string& log_path);
  ~ServerProcess();  // SIGTERM, then SIGKILL if it lingers
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  pid_t pid() const { return pid_; }
  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  uint16_t port_ = 0;
};

// A field of /proc/PID/status in kB ("VmRSS", "VmHWM"); 0 if absent.
uint64_t ProcStatusKb(pid_t pid, const std::string& field);
// CPU time (user + system) a process has used, all its threads, from /proc/PID/stat;
// 0 if it cannot be read. A loaded machine stretches wall time but not CPU time.
double ProcCpuSeconds(pid_t pid);

// A TCP relay on 127.0.0.1 that forwards every connection to `target_port` and counts
// the bytes each way: what the device and the server put on the wire (TLS records,
// handshakes and all). One thread, poll(); runs until destroyed.
class WireRelay {
 public:
  explicit WireRelay(uint16_t target_port);
  ~WireRelay();
  WireRelay(const WireRelay&) = delete;
  WireRelay& operator=(const WireRelay&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  uint64_t upstream() const { return up_.load(); }      // device -> server
  uint64_t downstream() const { return down_.load(); }  // server -> device
  void Reset() {
    up_ = 0;
    down_ = 0;
  }

 private:
  void Loop();

  uint16_t target_port_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  int wake_fds_[2] = {-1, -1};
  std::atomic<uint64_t> up_{0};
  std::atomic<uint64_t> down_{0};
  std::thread thread_;
};

// The table a scenario prints: one row per figure, with the plain baseline done in the
// same run, the ratio, and the goal from issue 6.
class Table {
 public:
  explicit Table(std::string title) : title_(std::move(title)) {}
  // `baseline` empty when the figure has no plain counterpart; `ratio` then empty too.
  void Row(const std::string& figure, const std::string& value, const std::string& baseline = "",
           const std::string& ratio = "", const std::string& goal = "");
  void Note(const std::string& line) { notes_.push_back(line); }
  void Print() const;

 private:
  struct Line {
    std::string figure, value, baseline, ratio, goal;
  };
  std::string title_;
  std::vector<Line> lines_;
  std::vector<std::string> notes_;
};

// "12,345.6" style numbers for the table.
std::string Num(double value, int decimals = 0);
std::string Ratio(double numerator, double denominator);

}  // namespace outreach::bench
