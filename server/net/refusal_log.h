// RefusalLog: one log line per kind of refusal and peer address, then at most one per
// interval, so a flood of refused connections cannot flood the log.
//
// The first refusal of a kind from an address is logged at once, with the address. Later
// ones within `interval` of the last line are counted, not logged; the next line after
// the interval says how many were left out, and so does Flush() once the interval has
// passed with no next line (the server calls it every --revocation-check-ms), so the
// count of a burst's tail is never lost. Kinds: a connection over the per-address cap
// of connections without hello, one closed to make room under the server's cap of them,
// one that did not say hello in time, an enrolment attempt refused by the throttle, and
// a session ended because its device was revoked.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace outreach::server {

class RefusalLog {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Kind { kOverAddressCap, kEvicted, kHelloDeadline, kEnrolmentThrottled, kRevoked };

  explicit RefusalLog(std::chrono::milliseconds interval = std::chrono::seconds(10), size_t max_keys = 8192)
      : interval_(interval), max_keys_(max_keys) {}

  // Logs (spdlog warn) "peer ADDRESS: refused: MESSAGE" unless a line of this kind for
  // this address was written within the interval.
  void Log(Kind kind, const std::string& address, const std::string& message) {
    std::optional<std::string> line = Line(kind, address, message, Clock::now());
    if (line) Write(*line);
  }

  // The line to write now, or nothing when it is suppressed (Log without the writing).
  std::optional<std::string> Line(Kind kind, const std::string& address, const std::string& message,
                                  Clock::time_point now);

  // Logs the count of every kind and address whose refusals were left out and whose
  // interval has passed since its last line.
  void Flush() {
    for (const std::string& line : Summaries(Clock::now())) Write(line);
  }
  // The lines Flush writes (each then starts a new interval).
  std::vector<std::string> Summaries(Clock::time_point now);

 private:
  struct Entry {
    Clock::time_point last_line;
    uint64_t suppressed = 0;
    std::string message;  // of the last refusal counted
  };
  static void Write(const std::string& line);
  // Drops entries whose interval has passed. Called with mu_ held.
  void Prune(Clock::time_point now);

  const std::chrono::milliseconds interval_;
  const size_t max_keys_;
  std::mutex mu_;
  std::map<std::pair<Kind, std::string>, Entry> entries_;  // guarded by mu_
};

}  // namespace outreach::server
