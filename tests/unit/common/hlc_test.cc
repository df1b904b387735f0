#include "common/hlc.h"

#include <gtest/gtest.h>

namespace outreach {
namespace {

TEST(HlcTest, PacksPhysicalAndLogical) {
  Hlc h = Hlc::FromParts(1'700'000'000'000, 7);
  EXPECT_EQ(h.physical_ms(), 1'700'000'000'000);
  EXPECT_EQ(h.logical(), 7u);
  EXPECT_LT(Hlc::FromParts(5, 9), Hlc::FromParts(6, 0));
  EXPECT_LT(Hlc::FromParts(5, 1), Hlc::FromParts(5, 2));
}

TEST(HlcTest, NowIsMonotonicWhenPhysicalClockGoesBackwards) {
  int64_t t = 1'000'000;
  HybridClock clock([&] { return t; });
  Hlc a = clock.Now();
  t -= 5000;  // NTP step back
  Hlc b = clock.Now();
  Hlc c = clock.Now();
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(b.physical_ms(), a.physical_ms());
  t = 2'000'000;
  Hlc d = clock.Now();
  EXPECT_EQ(d, Hlc::FromParts(2'000'000, 0));
}

TEST(HlcTest, NowIsMonotonicWhenPhysicalClockStandsStill) {
  int64_t t = 42;
  HybridClock clock([&] { return t; });
  Hlc prev = clock.Now();
  for (int i = 0; i < 200000; ++i) {  // more than 2^16 ticks in one millisecond
    Hlc next = clock.Now();
    ASSERT_LT(prev, next);
    prev = next;
  }
}

TEST(HlcTest, UpdateMovesPastRemoteStamp) {
  int64_t t = 1000;
  HybridClock clock([&] { return t; });
  Hlc remote = Hlc::FromParts(1500, 3);
  Result<Hlc> merged = clock.Update(remote);
  ASSERT_TRUE(merged.ok());
  EXPECT_GT(*merged, remote);
  EXPECT_GT(clock.Now(), remote);
}

TEST(HlcTest, SkewBoundRefusesStampsTooFarAhead) {
  int64_t t = 1'700'000'000'000;
  HybridClock clock([&] { return t; }, /*max_skew_ms=*/60'000);
  Hlc before = clock.Now();
  const int64_t year_ms = 365LL * 24 * 3600 * 1000;
  Result<Hlc> refused = clock.Update(Hlc::FromParts(t + year_ms, 0));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().field(), "hlc");
  EXPECT_EQ(clock.Last(), before);  // unchanged
  // Within the bound it is accepted.
  EXPECT_TRUE(clock.Update(Hlc::FromParts(t + 59'000, 0)).ok());
  // Stamps in the past are always fine.
  EXPECT_TRUE(clock.Update(Hlc::FromParts(t - year_ms, 0)).ok());
}

TEST(HlcTest, RestoreAndOffset) {
  int64_t t = 100;
  HybridClock clock([&] { return t; });
  clock.Restore(Hlc::FromParts(5000, 2));
  EXPECT_GT(clock.Now(), Hlc::FromParts(5000, 2));
  clock.SetOffsetMs(10'000);
  EXPECT_EQ(clock.PhysicalNow(), 10'100);
  EXPECT_EQ(clock.Now().physical_ms(), 10'100);
}

TEST(HlcTest, TieBreakByDevice) {
  Hlc h = Hlc::FromParts(10, 0);
  EXPECT_TRUE(HlcLater(h, "b", h, "a"));
  EXPECT_FALSE(HlcLater(h, "a", h, "b"));
  EXPECT_TRUE(HlcLater(Hlc::FromParts(11, 0), "a", h, "z"));
  EXPECT_EQ(Hlc::FromParts(0, 3).ToString(), "1970-01-01T00:00:00.000Z+3");
}

}  // namespace
}  // namespace outreach
