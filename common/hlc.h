// The hybrid logical clock that orders every change.
//
// An Hlc packs physical Unix milliseconds (high 48 bits) and a logical counter (low 16
// bits) into one uint64, so comparing two stamps is comparing two integers. Ties between
// equal stamps from different devices are broken by device id (see HlcOrder).
//
// Invariants kept by HybridClock:
// - Now() is strictly increasing, even when the physical clock goes backwards.
// - After Update(remote), the next Now() is greater than remote.
// - A remote stamp more than max_skew ahead of our physical clock is refused, so a
//   tablet whose clock is a year ahead cannot drag every clock (and every merge) with it.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "common/status.h"

namespace outreach {

class Hlc {
 public:
  static constexpr int kLogicalBits = 16;
  static constexpr uint64_t kMaxLogical = (uint64_t{1} << kLogicalBits) - 1;

  constexpr Hlc() = default;
  constexpr explicit Hlc(uint64_t packed) : packed_(packed) {}
  static constexpr Hlc FromParts(int64_t physical_ms, uint32_t logical) {
    return Hlc((static_cast<uint64_t>(physical_ms) << kLogicalBits) | (logical & kMaxLogical));
  }

  constexpr uint64_t value() const { return packed_; }
  constexpr int64_t physical_ms() const { return static_cast<int64_t>(packed_ >> kLogicalBits); }
  constexpr uint32_t logical() const { return static_cast<uint32_t>(packed_ & kMaxLogical); }
  constexpr bool is_zero() const { return packed_ == 0; }

  // "2026-11-23T10:15:02.123Z+4" (UTC, then the logical counter).
  std::string ToString() const;

  constexpr auto operator<=>(const Hlc&) const = default;

 private:
  uint64_t packed_ = 0;
};

// Total order of stamps across devices: HLC first, device id as the tie break.
// Returns true when (a, device_a) is later than (b, device_b).
bool HlcLater(Hlc a, std::string_view device_a, Hlc b, std::string_view device_b);

class HybridClock {
 public:
  // Unix milliseconds. Injected so tests can make time stand still or run backwards.
  using PhysicalClock = std::function<int64_t()>;
  static int64_t SystemMillis();

  // max_skew_ms <= 0 means remote stamps are never refused.
  explicit HybridClock(PhysicalClock physical = SystemMillis, int64_t max_skew_ms = 0);

  // A stamp for a local event or an outgoing change.
  Hlc Now();
  // Merges a stamp received from elsewhere. Refuses (kFailedPrecondition, field "hlc")
  // a stamp further ahead of our physical clock than the skew bound; the clock is then
  // unchanged.
  Result<Hlc> Update(Hlc remote);
  // Ensures future stamps are after `last`, e.g. the last stamp persisted before a restart.
  void Restore(Hlc last);
  // Adds an offset to the physical clock, e.g. the server's time minus ours at hello.
  void SetOffsetMs(int64_t offset_ms);
  int64_t offset_ms() const;
  int64_t max_skew_ms() const { return max_skew_ms_; }
  // The last stamp issued or merged.
  Hlc Last() const;
  // Physical time now, offset applied.
  int64_t PhysicalNow() const;

 private:
  Hlc AdvanceLocked(int64_t physical, Hlc floor);

  PhysicalClock physical_;
  const int64_t max_skew_ms_;
  mutable std::mutex mu_;
  int64_t offset_ms_ = 0;  // guarded by mu_
  Hlc last_;               // guarded by mu_
};

}  // namespace outreach
