#include "server/net/enrolment_throttle.h"

#include <algorithm>

namespace outreach::server {

std::chrono::milliseconds EnrolmentThrottle::Begin(const std::string& address, Clock::time_point now) {
  using std::chrono::milliseconds;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = states_.find(address);
  if (it == states_.end()) {
    if (states_.size() >= options_.max_addresses) Prune(now);
    it = states_.emplace(address, State{}).first;
  }
  State& s = it->second;
  if (s.failures > 0 && Forgotten(s, now)) s = State{};
  if (now < s.blocked_until) {
    // Rounded up, so a caller waiting this long is not refused again.
    return std::max(milliseconds(1),
                    std::chrono::ceil<milliseconds>(std::chrono::duration<double, std::milli>(s.blocked_until - now)));
  }
  if (s.pending > 0 && s.failures + s.pending >= options_.free_failures) return options_.first_delay;
  ++s.pending;
  return milliseconds(0);
}

void EnrolmentThrottle::Finish(const std::string& address, Outcome outcome, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = states_.find(address);
  if (it == states_.end()) return;
  State& s = it->second;
  if (s.pending > 0) --s.pending;
  switch (outcome) {
    case Outcome::kEnrolled:
      s.failures = 0;
      s.blocked_until = Clock::time_point();
      break;
    case Outcome::kBadCode: {
      ++s.failures;
      s.last_failure = now;
      const int over = s.failures - options_.free_failures;
      if (over >= 0) {
        // first_delay * 2^over, capped (the shift is bounded so it cannot overflow).
        auto delay = options_.first_delay * (int64_t{1} << std::min(over, 20));
        s.blocked_until = now + std::min<std::chrono::milliseconds>(delay, options_.max_delay);
      }
      break;
    }
    case Outcome::kOther: break;
  }
  if (s.failures == 0 && s.pending == 0) states_.erase(it);
}

void EnrolmentThrottle::Prune(Clock::time_point now) {
  for (auto it = states_.begin(); it != states_.end();) {
    it = Forgotten(it->second, now) ? states_.erase(it) : std::next(it);
  }
}

}  // namespace outreach::server
