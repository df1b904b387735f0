// Clocks. A tablet whose clock is a year ahead, or a year behind, syncs: its edits
// apply, the skew is reported (SyncReport::clock_skew_ms), and its stamps cannot win
// over edits made later by devices whose clocks are right.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "client/journey/device_internals.h"
#include "tests/faults/fault_suite.h"

namespace outreach::testing {
namespace {

constexpr int64_t kYearMs = int64_t{365} * 24 * 60 * 60 * 1000;

HybridClock::PhysicalClock Skewed(int64_t offset_ms) {
  return [offset_ms] { return HybridClock::SystemMillis() + offset_ms; };
}

class ClockTest : public FaultSuiteTest {
 protected:
  void SetUp() override { StartServer(); }

  static v1::Record Person(FieldDevice& d, const std::string& given) {
    v1::Participant p;
    p.set_given_name(given);
    p.set_family_name("Clock");
    p.set_date_of_birth("1980-01-01");
    Result<v1::Record> r = d->RegisterParticipant(p);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : v1::Record{};
  }
  static void SetPhone(FieldDevice& d, const std::string& id, const std::string& phone) {
    Result<v1::Record> now = d->Get(*Uuid::FromBytes(id));
    ASSERT_TRUE(now.ok()) << now.status().ToString();
    v1::Participant p = now->participant();
    p.set_phone(phone);
    ASSERT_TRUE(d->UpdateParticipant(*Uuid::FromBytes(id), p).ok());
  }
  static std::string Phone(FieldDevice& d, const std::string& id) {
    Result<v1::Record> now = d->Get(*Uuid::FromBytes(id));
    return now.ok() ? now->participant().phone() : "(missing)";
  }

  // `skewed` edits a phone number first, a correct device edits it later (both offline,
  // from the same value); whichever syncs first, the later edit must win everywhere and
  // the earlier one be kept in a conflict record.
  void LaterCorrectEditWins(int64_t skew_ms, bool skewed_syncs_first) {
    FieldDevice ann = NewDevice("ann");
    FieldDevice odd = NewDevice("odd", "adviser", {}, Skewed(skew_ms));
    const v1::Record p = Person(ann, "Pat");
    SyncUntilDone(ann);
    SyncReport first = SyncUntilDone(odd);
    EXPECT_NEAR(static_cast<double>(first.clock_skew_ms), static_cast<double>(skew_ms), 60000.0)
        << "the skew is reported to the device";

    SetPhone(odd, p.id(), "+441134960999");  // the skewed tablet, first in real time
    // Well apart: two clocks agree only to within a sync round trip.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    SetPhone(ann, p.id(), "+441134960111");  // the correct one, later
    if (skewed_syncs_first) {
      SyncUntilDone(odd);
      SyncUntilDone(ann);
    } else {
      SyncUntilDone(ann);
      SyncUntilDone(odd);
    }
    SyncUntilDone(ann);
    SyncUntilDone(odd);
    auto last_stamp = [](FieldDevice& d) {
      Result<std::vector<v1::Change>> log = StoreOf(*d).ChangeLog();
      return log.ok() && !log->empty() ? Hlc(log->back().hlc()).ToString() : std::string("none");
    };
    EXPECT_EQ(Phone(ann, p.id()), "+441134960111") << "the later edit from a correct clock lost; skewed device stamped "
                                                   << last_stamp(odd) << ", the correct one " << last_stamp(ann);
    EXPECT_EQ(Phone(odd, p.id()), "+441134960111");
    ExpectSameState(ann, odd);
    CheckNothingLostOrDuplicated({&ann, &odd}, ann);
  }
};

TEST_F(ClockTest, AYearAheadEditsApplyAndTheSkewIsReported) {
  FieldDevice ahead = NewDevice("ahead", "adviser", {}, Skewed(kYearMs));
  FieldDevice ann = NewDevice("ann");
  const v1::Record mine = Person(ahead, "Future");  // stamped a year ahead, offline
  SyncReport r = SyncUntilDone(ahead);
  EXPECT_GT(r.clock_skew_ms, kYearMs - 60000);
  EXPECT_EQ(r.rejected, 0u);
  SyncUntilDone(ann);
  ASSERT_TRUE(ann->Get(*Uuid::FromBytes(mine.id())).ok()) << "the skewed device's registration did not apply";
  // A correct device edits it afterwards: its edit wins though its stamp is "earlier".
  SetPhone(ann, mine.id(), "+441134960222");
  SyncUntilDone(ann);
  SyncUntilDone(ahead);
  EXPECT_EQ(Phone(ahead, mine.id()), "+441134960222");
  ExpectSameState(ann, ahead);
}

TEST_F(ClockTest, AYearBehindEditsApplyAndTheSkewIsReported) {
  FieldDevice behind = NewDevice("behind", "adviser", {}, Skewed(-kYearMs));
  FieldDevice ann = NewDevice("ann");
  const v1::Record mine = Person(behind, "Past");
  SyncReport r = SyncUntilDone(behind);
  EXPECT_LT(r.clock_skew_ms, -kYearMs + 60000);
  EXPECT_EQ(r.rejected, 0u);
  SyncUntilDone(ann);
  ASSERT_TRUE(ann->Get(*Uuid::FromBytes(mine.id())).ok());
  SetPhone(ann, mine.id(), "+441134960333");
  SyncUntilDone(ann);
  SyncUntilDone(behind);
  EXPECT_EQ(Phone(behind, mine.id()), "+441134960333");
  ExpectSameState(ann, behind);
}

// Found by this suite: the server replaced a stamp too far ahead with its own clock at
// arrival, so the skewed edit won over correct edits made before it reached the server.
TEST_F(ClockTest, AheadDeviceCannotBeatALaterCorrectEditSyncingFirst) {
  LaterCorrectEditWins(kYearMs, true);
}
TEST_F(ClockTest, AheadDeviceCannotBeatALaterCorrectEditSyncingSecond) {
  LaterCorrectEditWins(kYearMs, false);
}
TEST_F(ClockTest, BehindDeviceCannotBeatALaterCorrectEdit) {
  LaterCorrectEditWins(-kYearMs, true);
}

}  // namespace
}  // namespace outreach::testing
