// A bad link between device and server: the fault proxy cuts connections at random byte
// offsets in either direction (during push and during pull), stalls them and delivers
// slowly. Sync must resume and complete, re-send only the batch in flight, re-pull
// nothing already applied, and lose or duplicate nothing.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <random>

#include "client/journey/device_internals.h"
#include "tests/faults/fault_proxy.h"
#include "tests/faults/fault_suite.h"

namespace outreach::testing {
namespace {

constexpr uint32_t kBatch = 20;
constexpr uint32_t kPage = 15;

// `people` participants, each with a case note: 2 * people changes in the outbox.
void Capture(FieldDevice& d, int people, const std::string& tag) {
  for (int i = 0; i < people; ++i) {
    v1::Participant p;
    p.set_given_name(tag + std::to_string(i));
    p.set_family_name("Field");
    p.set_date_of_birth("1980-01-01");
    p.set_postcode("NG7 2RD");
    Result<v1::Record> person = d->RegisterParticipant(p);
    ASSERT_TRUE(person.ok()) << person.status().ToString();
    v1::CaseNote note;
    note.set_participant_id(person->id());
    note.set_sensitivity(v1::NOTE_SENSITIVITY_NORMAL);
    note.set_text("First meeting at the library; wants warehouse work, needs a CV.");
    ASSERT_TRUE(d->AddCaseNote(note).ok());
  }
}

double Millis(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

class LinkFaultTest : public FaultSuiteTest, public ::testing::WithParamInterface<uint64_t> {
 protected:
  void SetUp() override {
    server_args_.insert(server_args_.end(),
                        {"--max-push-changes", std::to_string(kBatch), "--max-page-changes", std::to_string(kPage)});
    StartServer();
    proxy_ = std::make_unique<FaultProxy>(port());
  }
  void TearDown() override {
    Tally::Get().faults_injected += proxy_->faults_injected();
    proxy_.reset();
    FaultSuiteTest::TearDown();
  }
  std::unique_ptr<FaultProxy> proxy_;
};

TEST_P(LinkFaultTest, PushAndPullSurviveCutsAtRandomOffsets) {
  const uint64_t seed = GetParam();
  SCOPED_TRACE("seed " + std::to_string(seed) + " (rerun with OUTREACH_FAULTS_SEED=" + std::to_string(seed) + ")");
  std::mt19937_64 rng(seed);
  FieldDevice ann = NewDevice("ann", "adviser", proxy_->address());
  FieldDevice bob = NewDevice("bob");  // direct: has something for Ann to pull
  Capture(bob, 40, "Bob");
  SyncUntilDone(bob);
  Capture(ann, 60, "Ann");
  const uint64_t outbox = *StoreOf(*ann).PendingCount();
  ASSERT_EQ(outbox, 120u);

  SyncOptions options;
  options.push_batch_size = kBatch;
  options.pull_page_size = kPage;
  options.timeout_ms = 3000;
  Moved moved;
  uint64_t cuts = 0;
  uint64_t resent_duplicates = 0;  // committed by the server but not acknowledged: sent again
  bool done = false;
  for (int attempt = 0; attempt < 60 && !done; ++attempt) {
    ConnectionPlan plan;
    if (rng() % 2 == 0) {
      plan.cut_to_server_at = 300 + rng() % 5000;
    } else {
      plan.cut_to_device_at = 300 + rng() % 14000;
    }
    proxy_->Plan(plan);
    const uint64_t faults_before = proxy_->faults_injected();
    Result<SyncReport> r = TrySync(ann, options, &moved);
    done = r.ok();
    if (done) break;
    ASSERT_GT(proxy_->faults_injected(), faults_before) << "a sync failed without a fault: " << r.status().ToString();
    ++cuts;
    const uint64_t acknowledged = outbox - *StoreOf(*ann).PendingCount();
    const uint64_t committed = LedgerCount(ann.id());
    ASSERT_GE(committed, acknowledged) << "the device dropped changes the server never committed";
    // Only the batch in flight can be committed without its acknowledgement.
    EXPECT_LE(committed - acknowledged, kBatch);
    resent_duplicates += committed - acknowledged;
  }
  ASSERT_TRUE(done) << "sync never completed through the faulty link";
  EXPECT_EQ(*StoreOf(*ann).PendingCount(), 0u);
  EXPECT_EQ(LedgerCount(ann.id()), outbox);
  // Each acknowledged change left the outbox once, a duplicate ack included.
  EXPECT_EQ(moved.pushed, outbox);
  EXPECT_LE(resent_duplicates, cuts * kBatch);

  // Pages are applied with their cursor: across every attempt Ann applied each change
  // of the log once, the same number a fresh device pulls in one go.
  FieldDevice cat = NewDevice("cat");
  SyncReport fresh = SyncUntilDone(cat);
  SyncUntilDone(bob);
  EXPECT_EQ(moved.pulled, fresh.pulled) << "Ann re-pulled pages she had applied (or missed some)";
  std::printf(
      "[link faults] seed %llu: %llu cuts; %llu changes pushed once each, %llu re-sent after an unacknowledged "
      "commit (batch %u); %llu pulled across attempts vs %llu by a fresh device\n",
      static_cast<unsigned long long>(seed), static_cast<unsigned long long>(cuts),
      static_cast<unsigned long long>(outbox), static_cast<unsigned long long>(resent_duplicates), kBatch,
      static_cast<unsigned long long>(moved.pulled), static_cast<unsigned long long>(fresh.pulled));

  ExpectSameState(ann, cat);
  ExpectSameState(bob, cat);
  CheckNoRecordTwice(ann);
  CheckNothingLostOrDuplicated({&ann, &bob}, cat);
}

TEST_P(LinkFaultTest, StallsAndSlowDeliveryFinishOrFailCleanlyThenResume) {
  const uint64_t seed = GetParam();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  FieldDevice ann = NewDevice("ann", "adviser", proxy_->address());
  FieldDevice bob = NewDevice("bob");
  Capture(bob, 30, "Bob");
  SyncUntilDone(bob);
  SyncOptions options;
  options.push_batch_size = kBatch;
  options.pull_page_size = kPage;
  options.timeout_ms = 2000;

  auto timed = [&](const char* what, ConnectionPlan plan, bool must_succeed) {
    Capture(ann, 5, what);
    proxy_->Plan(plan);
    const auto start = std::chrono::steady_clock::now();
    Result<SyncReport> r = TrySync(ann, options);
    const double ms = Millis(std::chrono::steady_clock::now() - start);
    std::printf("[link faults] %-44s %s in %.0f ms\n", what, r.ok() ? "completed" : "failed", ms);
    if (must_succeed) {
      EXPECT_TRUE(r.ok()) << what << ": " << r.status().ToString();
    }
    if (!r.ok()) {
      EXPECT_TRUE(r.status().code() == ErrorCode::kTimeout || r.status().code() == ErrorCode::kUnavailable ||
                  r.status().code() == ErrorCode::kIoError)
          << what << ": " << r.status().ToString();
      SyncUntilDone(ann, options);  // a clean link: resumes
    }
    EXPECT_EQ(*StoreOf(*ann).PendingCount(), 0u) << what;
  };

  timed("clean link", {}, true);
  ConnectionPlan slow;
  slow.slow_chunk = 200 + rng() % 400;
  slow.slow_delay = std::chrono::milliseconds(1);
  timed("slow delivery (small pieces, both ways)", slow, true);
  ConnectionPlan short_stall;
  short_stall.stall_direction = Direction::kToDevice;
  short_stall.stall_at = 300 + rng() % 2000;
  short_stall.stall_for = std::chrono::milliseconds(800);
  timed("server->device stalled 0.8 s (< timeout)", short_stall, true);
  ConnectionPlan long_stall;
  long_stall.stall_direction = Direction::kToServer;
  long_stall.stall_at = 300 + rng() % 1000;
  long_stall.stall_for = std::chrono::milliseconds(3500);
  timed("device->server stalled 3.5 s (> timeout)", long_stall, false);

  FieldDevice cat = NewDevice("cat");
  SyncUntilDone(cat);
  SyncUntilDone(ann, options);
  SyncUntilDone(bob);
  ExpectSameState(ann, cat);
  ExpectSameState(bob, cat);
  CheckNothingLostOrDuplicated({&ann, &bob}, cat);
}

INSTANTIATE_TEST_SUITE_P(Seeds, LinkFaultTest, ::testing::ValuesIn(Seeds({11, 12})));

}  // namespace
}  // namespace outreach::testing
