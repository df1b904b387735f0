// The convergence and fault-injection suite's shared parts: a deployment with a real
// outreach-server process (restartable on the same data directory, killable with
// SIGKILL), devices on their own SQLite files, a random journey driver, and the checks
// that nothing was lost or duplicated (read from the server's own store file).
//
// Seeds: each randomised test runs a fixed list of seeds. OUTREACH_FAULTS_SEED=N runs
// only seed N (to reproduce a failure: the seed is printed with every failure);
// OUTREACH_FAULTS_SOAK=K runs K more random seeds (the soak mode).
//
// The Tally counts across a test binary run and is printed at its end: operations
// checked, faults injected, records lost, records duplicated.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "outreach/device.h"
#include "outreach/sync.h"
#include "tests/support/server_harness.h"

namespace outreach::testing {

struct Tally {
  std::atomic<uint64_t> operations_checked{0};  // device edits, and their fields, checked after sync
  std::atomic<uint64_t> local_refusals{0};      // journey operations the library refused (with a reason)
  std::atomic<uint64_t> syncs{0};               // Sync() calls that completed
  std::atomic<uint64_t> failed_syncs{0};        // Sync() calls a fault made fail
  std::atomic<uint64_t> faults_injected{0};     // cuts, stalls, holds, kills, hostile connections
  std::atomic<uint64_t> records_lost{0};
  std::atomic<uint64_t> records_duplicated{0};
  static Tally& Get();
};

// The seeds a randomised test runs (see the file comment).
std::vector<uint64_t> Seeds(std::vector<uint64_t> fixed);

// One device: its own database file.
struct FieldDevice {
  std::string name;
  std::string path;
  HybridClock::PhysicalClock clock = HybridClock::SystemMillis;
  std::unique_ptr<Device> device;

  Device* operator->() { return device.get(); }
  Device& operator*() { return *device; }
  Uuid id() { return device->device_id(); }
};

// Fails the test with the records only one of them holds (at most 8 lines).
void ExpectSameState(FieldDevice& a, FieldDevice& b);

class FaultSuiteTest : public ::testing::Test {
 protected:
  // Server options used by StartServer and RestartServer.
  std::vector<std::string> server_args_ = {"--frame-timeout-ms", "2000", "--handshake-timeout-ms", "2000",
                                           "--idle-timeout-ms",  "5000"};

  void StartServer();
  // SIGKILL: no clean shutdown, whatever was in flight.
  void KillServer();
  // A new server process on the same data directory (a new port).
  void RestartServer();
  void TearDown() override;
  uint16_t port() const { return server_->port(); }
  std::string ServerAddress() const { return "127.0.0.1:" + std::to_string(port()); }

  std::string AddVenue(const std::string& name);
  // Opens a device file and enrols it through `server` (default: the server itself).
  FieldDevice NewDevice(const std::string& name, const std::string& role = "adviser", std::string server = {},
                        HybridClock::PhysicalClock clock = HybridClock::SystemMillis, const std::string& venue = {});
  // Closes and opens the device's file again (as after an app restart).
  void Reopen(FieldDevice& d);

  // What moved during sync calls (acknowledged by the server / applied from pulled
  // pages), counted even for calls that then failed.
  struct Moved {
    uint64_t pushed = 0;
    uint64_t pulled = 0;
  };
  // One Sync(); counts it in the tally and adds what moved to `moved` (if given).
  Result<SyncReport> TrySync(FieldDevice& d, const SyncOptions& options = {}, Moved* moved = nullptr);
  // Syncs until one call succeeds (at most `attempts`); fails the test otherwise.
  SyncReport SyncUntilDone(FieldDevice& d, const SyncOptions& options = {}, int attempts = 20, Moved* moved = nullptr);

  // The device's state, one line per record in (type, id) order, without locally seeded
  // instruments and restricted notes (which never leave the device that wrote them).
  static std::string State(FieldDevice& d);
  friend void ExpectSameState(FieldDevice& a, FieldDevice& b);

  // Reads the server's store file (a second handle, as `outreach-server device list`
  // does) and checks, for every change in each device's change log: the server's
  // ledger knows it (else it was lost), a REJECTED one is in the device's rejected list
  // with a reason, and the hub log holds no (device, device_seq) twice. Then every
  // accepted field edit is in `reference`'s final state, in a conflict record, or was
  // superseded by a later stamp in the log. Counts into the tally.
  void CheckNothingLostOrDuplicated(const std::vector<FieldDevice*>& devices, FieldDevice& reference);
  // How many of `device`'s changes the server has committed (rows of its dedupe ledger).
  uint64_t LedgerCount(const Uuid& device);
  // No participant id twice, no two attendance rows for one (session, participant).
  void CheckNoRecordTwice(FieldDevice& d);

  TestDeployment deployment_;
  std::unique_ptr<ServerProcess> server_;
  int server_generation_ = 0;
};

// Random journey operations on one device (adviser role), for the convergence runs.
class RandomJourney {
 public:
  RandomJourney(FieldDevice& device, std::mt19937_64& rng, std::string venue_id)
      : d_(device), rng_(rng), venue_id_(std::move(venue_id)) {}
  // One random operation. Refusals by the library are fine (counted); an error that is
  // not a refusal of input (I/O, internal, data loss) fails the test.
  void Step();
  // What the last Step did, for failure messages.
  const std::string& last() const { return last_; }

 private:
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  template <typename T>
  const T& PickFrom(const std::vector<T>& v) {
    return v[Pick(v.size())];
  }
  std::vector<v1::Record> Live(v1::RecordType type);
  void Check(const Result<v1::Record>& r);

  FieldDevice& d_;
  std::mt19937_64& rng_;
  std::string venue_id_;
  std::string last_;
};

}  // namespace outreach::testing
