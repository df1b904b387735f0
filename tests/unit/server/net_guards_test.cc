// The network layer's guards, apart from sockets: the enrolment throttle (failed codes
// slow an address down, exponentially, capped; success or a quiet spell resets it), the
// rate-limited refusal log, and the session registry's connection caps.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "server/net/enrolment_throttle.h"
#include "server/net/refusal_log.h"
#include "server/net/session_registry.h"

namespace outreach::server {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Outcome = EnrolmentThrottle::Outcome;

// One failed attempt: Begin allowed it, Finish records the bad code.
void Fail(EnrolmentThrottle& throttle, const std::string& address, Clock::time_point now) {
  ASSERT_EQ(throttle.Begin(address, now).count(), 0);
  throttle.Finish(address, Outcome::kBadCode, now);
}

TEST(EnrolmentThrottleTest, FreeFailuresThenDoublingDelaysUpToTheCap) {
  EnrolmentThrottle throttle({.free_failures = 5, .first_delay = 1000ms, .max_delay = 8000ms});
  Clock::time_point now{};
  for (int i = 0; i < 4; ++i) Fail(throttle, "10.0.0.1", now);
  // The fifth failure is free too, but from then on each one blocks: 1 s, 2 s, 4 s, 8 s, 8 s.
  Fail(throttle, "10.0.0.1", now);
  for (auto delay : {1000ms, 2000ms, 4000ms, 8000ms, 8000ms}) {
    EXPECT_EQ(throttle.Begin("10.0.0.1", now), delay);
    EXPECT_EQ(throttle.Begin("10.0.0.1", now + delay - 1ms), 1ms);
    now += delay;
    Fail(throttle, "10.0.0.1", now);
  }
  // Another address is not slowed down.
  EXPECT_EQ(throttle.Begin("10.0.0.2", now).count(), 0);
}

TEST(EnrolmentThrottleTest, SuccessAndAQuietSpellReset) {
  EnrolmentThrottle throttle(
      {.free_failures = 2, .first_delay = 1000ms, .max_delay = 60'000ms, .forget_after = 60'000ms});
  Clock::time_point now{};
  Fail(throttle, "a", now);
  Fail(throttle, "a", now);
  EXPECT_GT(throttle.Begin("a", now).count(), 0);
  now += 1000ms;
  ASSERT_EQ(throttle.Begin("a", now).count(), 0);
  throttle.Finish("a", Outcome::kEnrolled, now);
  // Cleared: two free failures again.
  Fail(throttle, "a", now);
  Fail(throttle, "a", now);
  EXPECT_GT(throttle.Begin("a", now).count(), 0);
  // A quiet minute forgets them.
  EXPECT_EQ(throttle.Begin("a", now + 60'000ms).count(), 0);
}

TEST(EnrolmentThrottleTest, PastTheFreeFailuresOneAttemptAtATime) {
  EnrolmentThrottle throttle({.free_failures = 2});
  Clock::time_point now{};
  Fail(throttle, "a", now);
  // One failure plus one in flight reaches the free failures: a parallel attempt waits.
  ASSERT_EQ(throttle.Begin("a", now).count(), 0);
  EXPECT_GT(throttle.Begin("a", now).count(), 0);
  throttle.Finish("a", Outcome::kOther, now);  // e.g. a store error: not a failure
  EXPECT_EQ(throttle.Begin("a", now).count(), 0);
}

TEST(RefusalLogTest, OneLineThenOnePerIntervalWithTheCountLeftOut) {
  RefusalLog log(10s);
  const Clock::time_point t0{};
  using Kind = RefusalLog::Kind;
  auto first = log.Line(Kind::kOverAddressCap, "10.0.0.1", "too many", t0);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(*first, "peer 10.0.0.1: refused: too many");
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(log.Line(Kind::kOverAddressCap, "10.0.0.1", "too many", t0 + 1s));
  // Another address or another kind is logged at once.
  EXPECT_TRUE(log.Line(Kind::kOverAddressCap, "10.0.0.2", "too many", t0 + 1s).has_value());
  EXPECT_TRUE(log.Line(Kind::kHelloDeadline, "10.0.0.1", "no hello", t0 + 1s).has_value());
  auto next = log.Line(Kind::kOverAddressCap, "10.0.0.1", "too many", t0 + 10s);
  ASSERT_TRUE(next.has_value());
  EXPECT_NE(next->find("and 5 more like it"), std::string::npos) << *next;
  EXPECT_FALSE(log.Line(Kind::kOverAddressCap, "10.0.0.1", "too many", t0 + 11s));

  // A burst's tail with no refusal after it: its count is written once the interval has
  // passed, once.
  EXPECT_TRUE(log.Summaries(t0 + 15s).empty());  // within the interval of the last line
  const std::vector<std::string> tail = log.Summaries(t0 + 20s);
  ASSERT_EQ(tail.size(), 1u);
  EXPECT_EQ(tail[0], "peer 10.0.0.1: refused 1 more times like this in the last 10 s, not logged: too many");
  EXPECT_TRUE(log.Summaries(t0 + 40s).empty());
}

TEST(SessionRegistryTest, CapsPerAddressAndInAllAndCountsOnlyWelcomedAsBusy) {
  SessionRegistry registry({.max_welcomed = 1, .max_unwelcomed = 3, .max_unwelcomed_per_address = 2});
  using Verdict = SessionRegistry::Verdict;
  auto a1 = registry.Admit("a");
  auto a2 = registry.Admit("a");
  EXPECT_EQ(a1.verdict, Verdict::kAdmit);
  EXPECT_EQ(a2.verdict, Verdict::kAdmit);
  EXPECT_EQ(registry.Admit("a").verdict, Verdict::kOverAddressCap);
  auto b1 = registry.Admit("b");
  EXPECT_EQ(b1.verdict, Verdict::kAdmit);
  EXPECT_EQ(registry.counts().unwelcomed, 3u);
  // The fourth evicts the oldest (a1): it no longer counts, so "a" has room for one more.
  auto c1 = registry.Admit("c");
  EXPECT_EQ(c1.verdict, Verdict::kAdmit);
  EXPECT_EQ(registry.counts().unwelcomed, 3u);
  EXPECT_EQ(registry.Admit("a").verdict, Verdict::kAdmit);  // evicts a2
  // A welcomed session leaves the unwelcomed caps and fills the device limit of 1.
  registry.Welcome(b1.id, Uuid::NewV7());
  EXPECT_EQ(registry.counts().welcomed, 1u);
  EXPECT_EQ(registry.counts().unwelcomed, 2u);
  EXPECT_EQ(registry.Admit("d").verdict, Verdict::kBusy);
  EXPECT_EQ(registry.ConnectedDevices().size(), 1u);
  registry.Remove(b1.id);
  EXPECT_EQ(registry.counts().welcomed, 0u);
  EXPECT_EQ(registry.Admit("e").verdict, Verdict::kAdmit);
}

// An IPv6 host or subscriber holds a whole /64: the caps and the throttle count it as one.
TEST(PeerAddressKeyTest, IPv4AsItIsIPv6ByItsSlash64) {
  namespace ip = boost::asio::ip;
  EXPECT_EQ(PeerAddressKey(ip::make_address("192.0.2.7")), "192.0.2.7");
  EXPECT_EQ(PeerAddressKey(ip::make_address("::ffff:192.0.2.7")), "192.0.2.7");
  EXPECT_EQ(PeerAddressKey(ip::make_address("2001:db8:1:2::1")), "2001:db8:1:2::/64");
  EXPECT_EQ(PeerAddressKey(ip::make_address("2001:db8:1:2:dead:beef:0:9")), "2001:db8:1:2::/64");
  EXPECT_NE(PeerAddressKey(ip::make_address("2001:db8:1:3::1")), PeerAddressKey(ip::make_address("2001:db8:1:2::1")));
  EXPECT_EQ(PeerAddressKey(ip::make_address("::1")), "::/64");
}

}  // namespace
}  // namespace outreach::server
