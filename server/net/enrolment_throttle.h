// EnrolmentThrottle: slows down the guessing of enrolment codes, per peer address.
//
// An address may fail `free_failures` enrolments (a bad code: unknown, used or expired)
// without delay. Each failure after that blocks further attempts from the address for
// `first_delay`, doubling with every further failure up to `max_delay`. While an address
// is at or past its free failures, it may have only one attempt in flight, so parallel
// connections do not multiply its guesses. A successful enrolment clears the address;
// so does a quiet period of `forget_after` without a failure.
//
// Use: Begin() before serving an Enrol; if it returns zero, serve it and call Finish()
// with the outcome. Otherwise refuse without looking at the code.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace outreach::server {

class EnrolmentThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    int free_failures = 5;
    std::chrono::milliseconds first_delay{1000};
    std::chrono::milliseconds max_delay{60'000};
    std::chrono::milliseconds forget_after{std::chrono::minutes(10)};
    size_t max_addresses = 100'000;  // beyond it, forgotten addresses are pruned first
  };
  enum class Outcome { kEnrolled, kBadCode, kOther };

  explicit EnrolmentThrottle(Options options) : options_(options) {}
  EnrolmentThrottle() : EnrolmentThrottle(Options{}) {}

  // Zero: the attempt may go ahead (then call Finish). Otherwise how long the address
  // must wait before its next attempt.
  std::chrono::milliseconds Begin(const std::string& address, Clock::time_point now);
  void Finish(const std::string& address, Outcome outcome, Clock::time_point now);

 private:
  struct State {
    int failures = 0;
    int pending = 0;  // attempts begun and not finished
    Clock::time_point last_failure;
    Clock::time_point blocked_until;
  };
  bool Forgotten(const State& s, Clock::time_point now) const {
    return s.pending == 0 && now - s.last_failure >= options_.forget_after && now >= s.blocked_until;
  }
  void Prune(Clock::time_point now);  // called with mu_ held

  const Options options_;
  std::mutex mu_;
  std::unordered_map<std::string, State> states_;  // guarded by mu_
};

}  // namespace outreach::server
