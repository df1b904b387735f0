#include "common/uuid.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>
#include <vector>

namespace outreach {
namespace {

TEST(UuidTest, V7HasVersionVariantAndTime) {
  // Ids never go back within a process, so the time must be past any id an earlier test
  // in this binary minted (2100-01-01, not a time before today).
  Uuid id = Uuid::NewV7At(4'102'444'800'123);
  EXPECT_EQ(id.version(), 7);
  EXPECT_EQ(id.bytes()[8] & 0xC0, 0x80);
  EXPECT_EQ(id.unix_ms(), 4'102'444'800'123);
}

TEST(UuidTest, SequentialIdsStrictlyIncreaseEvenWithinOneMillisecond) {
  std::vector<Uuid> ids;
  for (int i = 0; i < 20000; ++i) ids.push_back(Uuid::NewV7At(1'800'000'000'000));
  for (size_t i = 1; i < ids.size(); ++i) ASSERT_LT(ids[i - 1], ids[i]) << "at " << i;
}

TEST(UuidTest, IdsStayOrderedWhenTheClockGoesBackwards) {
  Uuid later = Uuid::NewV7At(1'900'000'000'000);
  Uuid earlier_clock = Uuid::NewV7At(1'899'999'999'000);
  EXPECT_LT(later, earlier_clock);
}

TEST(UuidTest, UniqueAndPerThreadOrderedAcrossThreads) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20000;
  std::vector<std::vector<Uuid>> per_thread(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      per_thread[t].reserve(kPerThread);
      for (int i = 0; i < kPerThread; ++i) per_thread[t].push_back(Uuid::NewV7());
    });
  }
  for (auto& th : threads) th.join();
  std::set<Uuid> all;
  for (const auto& ids : per_thread) {
    for (size_t i = 1; i < ids.size(); ++i) ASSERT_LT(ids[i - 1], ids[i]);
    all.insert(ids.begin(), ids.end());
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST(UuidTest, StringRoundTripAndParseErrors) {
  Uuid id = Uuid::NewV7();
  Result<Uuid> parsed = Uuid::Parse(id.ToString());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, id);
  std::string upper = id.ToString();
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  EXPECT_EQ(*Uuid::Parse(upper), id);
  EXPECT_EQ(id.ToString().size(), 36u);

  Result<Uuid> bad = Uuid::Parse("not-a-uuid");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "id");
  EXPECT_FALSE(Uuid::Parse("0190f0c4-7b1e-7cc3-9a2e-1f0e3c5d6b7").ok());    // one short
  EXPECT_FALSE(Uuid::Parse("0190f0c4-7b1e-7cc3-9a2e-1f0e3c5d6b7aa").ok());  // one long
  EXPECT_FALSE(Uuid::FromBytes("short").ok());
  EXPECT_EQ(*Uuid::FromBytes(id.raw()), id);
}

TEST(UuidTest, DerivedIdsAreStableAndDistinct) {
  Uuid a = Uuid::Derive("attendance", "s1/p1");
  EXPECT_EQ(a, Uuid::Derive("attendance", "s1/p1"));
  EXPECT_NE(a, Uuid::Derive("attendance", "s1/p2"));
  EXPECT_NE(Uuid::Derive("ab", "c"), Uuid::Derive("a", "bc"));
  EXPECT_EQ(a.version(), 8);
}

// Register rows sort by their session's time: a later session's rows after an earlier
// one's, whoever the participant; the id is still stable, version 8 and per participant.
TEST(UuidTest, RegisterRowIdsSortBySessionTime) {
  // Session ids of exactly these milliseconds: NewV7At would lend a later millisecond
  // once another test of this process has made an id now (it keeps ids ascending), and
  // both sessions would then share one.
  auto v7_at = [](int64_t ms) {
    std::string raw(Uuid::kSize, '\0');
    for (int i = 0; i < 6; ++i)
      raw[static_cast<size_t>(i)] = static_cast<char>(static_cast<uint64_t>(ms) >> (40 - 8 * i));
    raw[6] = 0x70;
    raw[8] = static_cast<char>(0x80);
    return *Uuid::FromBytes(raw);
  };
  const Uuid earlier = v7_at(1'700'000'000'000);
  const Uuid later = v7_at(1'700'000'000'001);
  const Uuid p1 = Uuid::NewV7(), p2 = Uuid::NewV7();
  const Uuid row = Uuid::DeriveRegisterRow("attendance", earlier.raw(), p1.raw());
  EXPECT_EQ(row, Uuid::DeriveRegisterRow("attendance", earlier.raw(), p1.raw()));
  EXPECT_NE(row, Uuid::DeriveRegisterRow("attendance", earlier.raw(), p2.raw()));
  EXPECT_NE(row, Uuid::DeriveRegisterRow("booking", earlier.raw(), p1.raw()));
  EXPECT_EQ(row.version(), 8);
  EXPECT_EQ(row.raw().substr(0, 6), earlier.raw().substr(0, 6));
  for (const Uuid& p : {p1, p2}) {
    EXPECT_LT(Uuid::DeriveRegisterRow("attendance", earlier.raw(), p.raw()).raw(),
              Uuid::DeriveRegisterRow("attendance", later.raw(), p.raw()).raw());
  }
  // A session id that is not a UUIDv7 has no time to lend: the plain derived id.
  const Uuid keyed = Uuid::Derive("session", "weekly");
  EXPECT_EQ(Uuid::DeriveRegisterRow("attendance", keyed.raw(), p1.raw()),
            Uuid::Derive("attendance", keyed.raw() + p1.raw()));
}

}  // namespace
}  // namespace outreach
