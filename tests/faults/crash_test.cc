// Crashes. The server is killed with SIGKILL after it committed a batch but before its
// acknowledgement reached the device (the fault proxy holds the reply), and at random
// moments in the middle of batches; it restarts on the same data directory and devices
// sync again: nothing lost, nothing applied twice. The client is killed (a forked
// process syncing the device's file) while it applies pulled pages: after each kill its
// records agree with its cursor, and it ends with the state of a fresh device.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <random>
#include <set>
#include <thread>

#include "client/journey/device_internals.h"
#include "server/store/sqlite_store.h"
#include "tests/faults/fault_proxy.h"
#include "tests/faults/fault_suite.h"
#include "tests/support/drama_numbers.h"

namespace outreach::testing {
namespace {

using Clock = std::chrono::steady_clock;

void Register(FieldDevice& d, int people, const std::string& tag) {
  for (int i = 0; i < people; ++i) {
    v1::Participant p;
    p.set_given_name(tag + std::to_string(i));
    p.set_family_name("Crash");
    p.set_date_of_birth("1975-06-15");
    p.set_phone(DramaPhoneNumber(static_cast<uint64_t>(i)));
    Result<v1::Record> r = d->RegisterParticipant(p);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
}

// Waits until `done` or the deadline; false on timeout.
template <typename Pred>
bool WaitFor(Pred done, std::chrono::milliseconds within) {
  const auto deadline = Clock::now() + within;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

class ServerCrashTest : public FaultSuiteTest, public ::testing::WithParamInterface<uint64_t> {
 protected:
  void TearDown() override {
    if (proxy_) Tally::Get().faults_injected += proxy_->faults_injected();
    proxy_.reset();
    FaultSuiteTest::TearDown();
  }
  void Restart() {
    RestartServer();
    proxy_->SetUpstream(port());
  }
  std::unique_ptr<FaultProxy> proxy_;
};

TEST_F(ServerCrashTest, KilledAfterCommittingABatchBeforeItsAckArrives) {
  StartServer();
  proxy_ = std::make_unique<FaultProxy>(port());
  FieldDevice ann = NewDevice("ann", "adviser", proxy_->address());
  Register(ann, 300, "Held");
  const uint64_t outbox = *StoreOf(*ann).PendingCount();

  // Hold everything the server says once the push is on its way: the PushAck is written
  // by the server after its commit but never reaches Ann. (The handshake and Hello send
  // under 1,000 bytes; the push of 300 people, compressed, a few thousand: under 8,000.)
  ConnectionPlan plan;
  plan.hold_to_device_once_to_server = 2000;
  proxy_->Plan(plan);
  SyncOptions options;
  options.timeout_ms = 4000;
  auto sync = std::async(std::launch::async, [&] { return TrySync(ann, options); });
  ASSERT_TRUE(WaitFor([&] { return LedgerCount(ann.id()) == outbox; }, std::chrono::seconds(20)))
      << "the server never committed the batch";
  ASSERT_TRUE(proxy_->holding());
  KillServer();
  Result<SyncReport> lost_ack = sync.get();
  ASSERT_FALSE(lost_ack.ok()) << "sync reported success without the server's acknowledgement";
  EXPECT_EQ(*StoreOf(*ann).PendingCount(), outbox) << "changes left the outbox without an acknowledgement";

  Restart();
  Moved moved;
  SyncReport again = SyncUntilDone(ann, options, 5, &moved);
  EXPECT_EQ(again.pushed, outbox);  // every one answered DUPLICATE: applied once, acknowledged now
  EXPECT_EQ(again.rejected, 0u);
  EXPECT_EQ(*StoreOf(*ann).PendingCount(), 0u);
  EXPECT_EQ(LedgerCount(ann.id()), outbox);

  FieldDevice bob = NewDevice("bob");
  SyncUntilDone(bob);
  EXPECT_EQ(bob->ListParticipants()->size(), 300u);
  ExpectSameState(ann, bob);
  CheckNoRecordTwice(bob);
  CheckNothingLostOrDuplicated({&ann}, bob);
}

TEST_P(ServerCrashTest, KilledAtRandomMomentsInTheMiddleOfBatches) {
  const uint64_t seed = GetParam();
  SCOPED_TRACE("seed " + std::to_string(seed) + " (rerun with OUTREACH_FAULTS_SEED=" + std::to_string(seed) + ")");
  std::mt19937_64 rng(seed);
  server_args_.insert(server_args_.end(), {"--max-push-changes", "100"});
  StartServer();
  proxy_ = std::make_unique<FaultProxy>(port());
  FieldDevice ann = NewDevice("ann", "adviser", proxy_->address());
  FieldDevice bob = NewDevice("bob", "adviser", proxy_->address());
  SyncOptions options;
  options.timeout_ms = 4000;
  int kills = 0;
  for (int round = 0; round < 3; ++round) {
    Register(ann, 150, "A" + std::to_string(round) + "-");
    Register(bob, 50, "B" + std::to_string(round) + "-");
    const uint64_t sent_before = proxy_->bytes(Direction::kToServer);
    const uint64_t kill_after = sent_before + 1000 + rng() % 6000;
    const auto delay = std::chrono::milliseconds(rng() % 40);
    auto ann_sync = std::async(std::launch::async, [&] { return TrySync(ann, options); });
    auto bob_sync = std::async(std::launch::async, [&] { return TrySync(bob, options); });
    WaitFor([&] { return proxy_->bytes(Direction::kToServer) >= kill_after; }, std::chrono::seconds(5));
    std::this_thread::sleep_for(delay);
    KillServer();
    ++kills;
    const bool ann_ok = ann_sync.get().ok();
    const bool bob_ok = bob_sync.get().ok();
    std::printf(
        "[server crash] seed %llu round %d: killed after %llu bytes + %lld ms; ann %s, bob %s; committed %llu "
        "of ann's, %llu of bob's\n",
        static_cast<unsigned long long>(seed), round, static_cast<unsigned long long>(kill_after - sent_before),
        static_cast<long long>(delay.count()), ann_ok ? "finished first" : "cut", bob_ok ? "finished first" : "cut",
        static_cast<unsigned long long>(LedgerCount(ann.id())), static_cast<unsigned long long>(LedgerCount(bob.id())));
    Restart();
    SyncUntilDone(ann, options, 5);
    SyncUntilDone(bob, options, 5);
  }
  SyncUntilDone(ann, options, 5);
  EXPECT_EQ(*StoreOf(*ann).PendingCount(), 0u);
  EXPECT_EQ(*StoreOf(*bob).PendingCount(), 0u);
  FieldDevice cat = NewDevice("cat");
  SyncUntilDone(cat);
  EXPECT_EQ(cat->ListParticipants()->size(), 3u * 200u);
  ExpectSameState(ann, cat);
  ExpectSameState(bob, cat);
  CheckNoRecordTwice(cat);
  CheckNothingLostOrDuplicated({&ann, &bob}, cat);
  EXPECT_EQ(kills, 3);
}

INSTANTIATE_TEST_SUITE_P(Seeds, ServerCrashTest, ::testing::ValuesIn(Seeds({21, 22})));

// ---------------------------------------------------------------- the client killed

class ClientCrashTest : public FaultSuiteTest, public ::testing::WithParamInterface<uint64_t> {
 protected:
  // The record ids the hub log holds up to `cursor` (what an adviser may read).
  std::set<std::string> LoggedRecordsUpTo(uint64_t cursor) {
    std::set<std::string> ids;
    auto store = server::SqliteStore::Open(deployment_.data + "/store.db");
    EXPECT_TRUE(store.ok());
    if (!store.ok()) return ids;
    const Uuid hub = *Uuid::Parse(deployment_.hub_id);
    Status st = (*store)->Transact([&](server::StoreTxn& txn) {
      ids.clear();
      auto log = txn.ReadLog(hub, 0, static_cast<uint32_t>(cursor));
      if (!log.ok()) return log.status();
      for (const v1::Change& c : *log) ids.insert(c.record_id());
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return ids;
  }
};

TEST_P(ClientCrashTest, KilledWhileApplyingPulledPagesItsStateAndCursorAgree) {
  const uint64_t seed = GetParam();
  SCOPED_TRACE("seed " + std::to_string(seed) + " (rerun with OUTREACH_FAULTS_SEED=" + std::to_string(seed) + ")");
  std::mt19937_64 rng(seed);
  server_args_.insert(server_args_.end(), {"--max-page-changes", "10"});
  StartServer();
  FieldDevice writer = NewDevice("writer");
  Register(writer, 400, "Pulled");
  SyncUntilDone(writer);
  FieldDevice kid = NewDevice("kid");
  kid.device.reset();  // the child process owns the file while it syncs

  int kills = 0;
  bool finished = false;
  uint64_t last_cursor = 0;
  for (int attempt = 0; attempt < 30 && !finished; ++attempt) {
    // The child reports each applied batch of pages through a pipe; the parent kills it
    // right after the k-th report, so the kill lands while it receives or applies the
    // next batch (a timer alone missed the pull entirely on a quiet machine).
    int reports[2];
    ASSERT_EQ(::pipe(reports), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(reports[0]);
      DeviceOptions options;
      options.path = kid.path;
      options.user_name = kid.name;
      auto device = Device::Open(options);
      if (!device.ok()) ::_exit(3);
      SyncOptions sync;
      sync.pull_page_size = 10;
      auto report = [fd = reports[1]](const SyncProgress& p) {
        if (p.phase == SyncProgress::Phase::kPulling && p.pulled > 0) (void)!::write(fd, "p", 1);
      };
      ::_exit(Sync(**device, sync, report).ok() ? 0 : 1);
    }
    ::close(reports[1]);
    const int kill_after = 1 + static_cast<int>(rng() % 2);
    int seen = 0;
    char byte;
    while (seen < kill_after && ::read(reports[0], &byte, 1) == 1) ++seen;  // EOF: the child exited
    ::close(reports[0]);
    int status = 0;
    if (seen < kill_after) {
      ASSERT_EQ(::waitpid(child, &status, 0), child);
      finished = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      ASSERT_TRUE(finished) << "the syncing child failed with status " << status;
    } else {
      ::kill(child, SIGKILL);
      ::waitpid(child, &status, 0);
      ++kills;
      ++Tally::Get().faults_injected;
    }
    // After the crash (or the end) the file opens, and what it holds is exactly the
    // log up to its cursor: no page half applied, no cursor ahead of or behind it.
    Reopen(kid);
    const uint64_t cursor = *StoreOf(*kid).PullCursor();
    EXPECT_GE(cursor, last_cursor) << "the cursor went backwards";
    last_cursor = cursor;
    std::set<std::string> held;
    for (const v1::Record& r : *kid->Export()) {
      if (r.type() != v1::RECORD_TYPE_INSTRUMENT) held.insert(r.id());
    }
    EXPECT_EQ(held, LoggedRecordsUpTo(cursor)) << "after kill " << kills << ", cursor " << cursor;
    ++Tally::Get().operations_checked;
    kid.device.reset();
  }
  EXPECT_GE(kills, 2) << "the child was never killed in the middle of its pull";
  std::printf("[client crash] seed %llu: killed %d times while pulling; finished: %s; cursor %llu\n",
              static_cast<unsigned long long>(seed), kills, finished ? "yes" : "no (completed in-process)",
              static_cast<unsigned long long>(last_cursor));
  Reopen(kid);
  SyncUntilDone(kid);
  FieldDevice fresh = NewDevice("fresh");
  SyncUntilDone(fresh);
  ExpectSameState(kid, fresh);
  EXPECT_EQ(*StoreOf(*kid).PullCursor(), *StoreOf(*fresh).PullCursor());
  CheckNoRecordTwice(kid);
}

INSTANTIATE_TEST_SUITE_P(Seeds, ClientCrashTest, ::testing::ValuesIn(Seeds({31})));

}  // namespace
}  // namespace outreach::testing
