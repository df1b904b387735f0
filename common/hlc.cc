#include "common/hlc.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace outreach {

std::string Hlc::ToString() const {
  const int64_t ms = physical_ms();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ+%u", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000), logical());
  return buf;
}

bool HlcLater(Hlc a, std::string_view device_a, Hlc b, std::string_view device_b) {
  if (a != b) return a > b;
  return device_a > device_b;
}

int64_t HybridClock::SystemMillis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

HybridClock::HybridClock(PhysicalClock physical, int64_t max_skew_ms)
    : physical_(std::move(physical)), max_skew_ms_(max_skew_ms) {}

int64_t HybridClock::PhysicalNow() const {
  std::lock_guard<std::mutex> lock(mu_);
  return physical_() + offset_ms_;
}

Hlc HybridClock::AdvanceLocked(int64_t physical, Hlc floor) {
  // The next stamp is the least one that is after both `floor` and `last_`, and not
  // before the physical clock.
  Hlc base = std::max(last_, floor);
  Hlc next;
  if (physical > base.physical_ms()) {
    next = Hlc::FromParts(physical, 0);
  } else if (base.logical() < Hlc::kMaxLogical) {
    next = Hlc::FromParts(base.physical_ms(), base.logical() + 1);
  } else {
    next = Hlc::FromParts(base.physical_ms() + 1, 0);  // logical overflow: borrow a millisecond
  }
  last_ = next;
  return next;
}

Hlc HybridClock::Now() {
  std::lock_guard<std::mutex> lock(mu_);
  return AdvanceLocked(physical_() + offset_ms_, Hlc());
}

Result<Hlc> HybridClock::Update(Hlc remote) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t physical = physical_() + offset_ms_;
  if (max_skew_ms_ > 0 && remote.physical_ms() > physical + max_skew_ms_) {
    return Status::FailedPrecondition("clock stamp " + remote.ToString() + " is " +
                                          std::to_string(remote.physical_ms() - physical) +
                                          " ms ahead of this clock; the limit is " +
                                          std::to_string(max_skew_ms_) + " ms",
                                      "hlc");
  }
  return AdvanceLocked(physical, remote);
}

void HybridClock::Restore(Hlc last) {
  std::lock_guard<std::mutex> lock(mu_);
  if (last > last_) last_ = last;
}

void HybridClock::SetOffsetMs(int64_t offset_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  offset_ms_ = offset_ms;
}

int64_t HybridClock::offset_ms() const {
  std::lock_guard<std::mutex> lock(mu_);
  return offset_ms_;
}

Hlc HybridClock::Last() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_;
}

}  // namespace outreach
