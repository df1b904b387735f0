// Two real outreach-server processes on one PostgreSQL database (a database of this
// test's own on the throwaway cluster), devices syncing through both at once: every
// device converges to the same state, pullers see each hub's sequence numbers without a
// gap while pushes commit through both processes, and a change pushed through one
// process is a DUPLICATE when re-pushed through the other.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "common/hlc.h"
#include "outreach/device.h"
#include "outreach/sync.h"
#include "tests/support/drama_numbers.h"
#include "tests/support/server_harness.h"
#include "tests/unit/server/postgres/test_database.h"

namespace outreach::testing {
namespace {

// `outreach-server init` and `hub add` on the PostgreSQL store.
struct PostgresDeployment {
  TempDir dir;
  std::unique_ptr<TestDatabase> db;
  std::string data;
  std::string hub_id;
  std::string ca_pem;

  PostgresDeployment() : data(dir / "data") {
    auto made = TestDatabase::Create();
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    if (!made.ok()) return;
    db = std::move(*made);
    CliResult init = Cli({"init", "--data", data, "--hostname", "localhost", "--json"});
    EXPECT_EQ(init.exit_code, 0) << init.err;
    EXPECT_EQ(init.json().value("store", ""), db->url());
    CliResult hub = Cli({"hub", "add", "--data", data, "--name", "North Hub", "--json"});
    EXPECT_EQ(hub.exit_code, 0) << hub.err;
    hub_id = hub.json().value("hub_id", "");
    ca_pem = ReadFileOrEmpty(data + "/ca.pem");
  }

  // The command line with --store pointing at this deployment's database.
  CliResult Cli(std::vector<std::string> args) const {
    args.push_back("--store");
    args.push_back(db->url());
    return RunCli(args);
  }

  std::string IssueCode(const std::string& name) const {
    CliResult r = Cli({"enrol", "--data", data, "--hub", hub_id, "--role", "adviser", "--name", name, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.json().value("code", "");
  }
};

class TwoServersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(deployment_.db, nullptr);
    const std::vector<std::string> args{"--store", deployment_.db->url(), "--worker-threads", "4"};
    a_ = std::make_unique<ServerProcess>(deployment_.data, args, deployment_.dir / "a.log");
    b_ = std::make_unique<ServerProcess>(deployment_.data, args, deployment_.dir / "b.log");
    ASSERT_NE(a_->port(), 0) << a_->log();
    ASSERT_NE(b_->port(), 0) << b_->log();
  }
  void TearDown() override {
    for (auto* server : {a_.get(), b_.get()}) {
      if (server != nullptr) {
        EXPECT_EQ(server->Stop(), 0) << server->log();
      }
    }
  }

  std::unique_ptr<Device> NewDevice(const std::string& name, uint16_t port) {
    DeviceOptions options;
    options.path = deployment_.dir / (name + ".db");
    options.user_name = name;
    auto opened = Device::Open(options);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    if (!opened.ok()) return nullptr;
    EnrolOptions enrol;
    enrol.server = "127.0.0.1:" + std::to_string(port);
    enrol.ca_pem = deployment_.ca_pem;
    enrol.code = deployment_.IssueCode(name);
    enrol.device_name = name + "'s tablet";
    Result<EnrolReport> report = Enrol(**opened, enrol);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return std::move(opened).value();
  }

  // A raw device over the wire (the harness peer): enrolled through `port`.
  v1::Enrolled EnrolPeer(uint16_t port, const std::string& name) {
    TestPeer peer(port, {.ca_pem = deployment_.ca_pem});
    EXPECT_TRUE(peer.Connect().ok());
    EXPECT_TRUE(peer.Send(EnrolEnvelope(deployment_.IssueCode(name))).ok());
    Result<v1::Envelope> reply = peer.Receive();
    EXPECT_TRUE(reply.ok() && reply->has_enrolled()) << (reply.ok() ? reply->ShortDebugString() : "no reply");
    return reply.ok() ? reply->enrolled() : v1::Enrolled();
  }

  // The device's state as text, one line per record, sorted.
  static std::string State(Device& d) {
    Result<std::vector<v1::Record>> all = d.Export();
    EXPECT_TRUE(all.ok());
    std::vector<std::string> lines;
    for (const v1::Record& r : *all) {
      if (r.type() == v1::RECORD_TYPE_INSTRUMENT) continue;  // seeded locally
      lines.push_back(r.ShortDebugString());
    }
    std::sort(lines.begin(), lines.end());
    std::string out;
    for (auto& l : lines) out += l + "\n";
    return out;
  }

  PostgresDeployment deployment_;
  std::unique_ptr<ServerProcess> a_, b_;
};

TEST_F(TwoServersTest, DevicesSyncingThroughBothAtOnceConvergeAndPullersSeeNoGap) {
  constexpr int kDevices = 4, kRounds = 3, kPerRound = 4;
  std::vector<std::unique_ptr<Device>> devices;
  for (int i = 0; i < kDevices; ++i) {
    devices.push_back(NewDevice("Adviser" + std::to_string(i), i % 2 ? b_->port() : a_->port()));
    ASSERT_NE(devices.back(), nullptr);
  }
  // Everyone knows one shared participant, then changes its phone number offline.
  v1::Participant sam;
  sam.set_given_name("Sam");
  sam.set_family_name("Jones");
  sam.set_date_of_birth("1985-02-03");
  Result<v1::Record> shared = devices[0]->RegisterParticipant(sam);
  ASSERT_TRUE(shared.ok()) << shared.status().ToString();
  const Uuid shared_id = *Uuid::FromBytes(shared->id());
  for (auto& d : devices) ASSERT_TRUE(Sync(*d).ok());
  ASSERT_TRUE(Sync(*devices[0]).ok());

  // A puller on each process follows the hub while the devices sync.
  std::atomic<bool> syncing{true};
  std::atomic<uint64_t> pulled_up_to[2] = {0, 0};
  std::vector<std::thread> pullers;
  for (int p = 0; p < 2; ++p) {
    const uint16_t port = p ? b_->port() : a_->port();
    v1::Enrolled reader = EnrolPeer(port, "Reader" + std::to_string(p));
    pullers.emplace_back([&, p, port, reader] {
      TestPeer peer(port, {.ca_pem = deployment_.ca_pem, .timeout = 20s});
      Status hello = SayHello(peer, reader);
      ASSERT_TRUE(hello.ok()) << hello.ToString();
      uint64_t cursor = 0;
      bool last_round = false;
      for (;;) {
        ASSERT_TRUE(peer.Send(PullEnvelope(cursor, 5)).ok());
        Result<v1::Envelope> page = peer.Receive();
        ASSERT_TRUE(page.ok() && page->has_changes_page()) << (page.ok() ? page->ShortDebugString() : "closed");
        for (const v1::Change& c : page->changes_page().changes()) {
          ASSERT_EQ(c.server_seq(), cursor + 1) << "puller " << p << " saw a gap";
          cursor = c.server_seq();
        }
        ASSERT_EQ(page->changes_page().next_cursor(), cursor);
        pulled_up_to[p] = cursor;
        if (page->changes_page().more()) continue;
        if (last_round) break;
        if (!syncing) last_round = true;  // one more pass after the last push committed
        std::this_thread::sleep_for(5ms);
      }
    });
  }

  std::vector<std::thread> syncers;
  for (int i = 0; i < kDevices; ++i) {
    syncers.emplace_back([&, i] {
      Device& d = *devices[static_cast<size_t>(i)];
      for (int round = 0; round < kRounds; ++round) {
        for (int k = 0; k < kPerRound; ++k) {
          v1::Participant p;
          p.set_given_name("Person" + std::to_string(i) + "x" + std::to_string(round * kPerRound + k));
          p.set_family_name("Field");
          p.set_date_of_birth("1990-01-0" + std::to_string(1 + k));
          EXPECT_TRUE(d.RegisterParticipant(p).ok());
        }
        Result<v1::Record> mine = d.Get(shared_id);
        ASSERT_TRUE(mine.ok());
        v1::Participant changed = mine->participant();
        changed.set_phone(DramaPhoneNumber(static_cast<uint64_t>(i)));
        EXPECT_TRUE(d.UpdateParticipant(shared_id, changed).ok());
        Result<SyncReport> report = Sync(d);
        EXPECT_TRUE(report.ok()) << report.status().ToString();
      }
    });
  }
  for (auto& t : syncers) t.join();
  syncing = false;
  for (auto& t : pullers) t.join();

  // Two more rounds bring every device to the end of the log.
  for (int pass = 0; pass < 2; ++pass) {
    for (auto& d : devices) {
      Result<SyncReport> report = Sync(*d);
      ASSERT_TRUE(report.ok()) << report.status().ToString();
    }
  }
  const std::string first = State(*devices[0]);
  EXPECT_NE(first.find("Person3x11"), std::string::npos);
  for (int i = 1; i < kDevices; ++i) EXPECT_EQ(State(*devices[static_cast<size_t>(i)]), first) << "device " << i;

  // Both pullers reached the same, complete log: the hub's last number.
  EXPECT_EQ(pulled_up_to[0].load(), pulled_up_to[1].load());
  auto hub_seq = deployment_.db->Query("SELECT last_seq FROM hubs WHERE name = 'North Hub'");
  ASSERT_TRUE(hub_seq.ok()) << hub_seq.status().ToString();
  EXPECT_EQ(std::to_string(pulled_up_to[0].load()), *hub_seq);
  auto log_size = deployment_.db->Query("SELECT count(*) FROM change_log");
  EXPECT_EQ(*log_size, *hub_seq);
}

TEST_F(TwoServersTest, ARePushThroughTheOtherProcessIsADuplicate) {
  v1::Enrolled device = EnrolPeer(a_->port(), "Ann");
  auto push = [&](uint16_t port, const Uuid& record, uint64_t device_seq) -> v1::ChangeResult {
    TestPeer peer(port, {.ca_pem = deployment_.ca_pem});
    Status hello = SayHello(peer, device);
    EXPECT_TRUE(hello.ok()) << hello.ToString();
    v1::Envelope envelope = PushEnvelope(device_seq);
    v1::Change* change = envelope.mutable_push()->add_changes();
    change->set_record_id(record.raw());
    change->set_type(v1::RECORD_TYPE_PARTICIPANT);
    change->set_hlc(Hlc::FromParts(HybridClock::SystemMillis(), 0).value());
    change->set_device_seq(device_seq);
    change->set_op(v1::CHANGE_OP_UPSERT);
    // Each record a person of her own (a date of birth per record), not a likely duplicate.
    for (v1::FieldValue& fv : NewParticipantFields("Amina", "Khan", "1990-01-0" + std::to_string(device_seq))) {
      *change->add_fields() = std::move(fv);
    }
    EXPECT_TRUE(peer.Send(envelope).ok());
    Result<v1::Envelope> ack = peer.Receive();
    EXPECT_TRUE(ack.ok() && ack->has_push_ack() && ack->push_ack().results_size() == 1)
        << (ack.ok() ? ack->ShortDebugString() : ack.status().ToString());
    return ack.ok() && ack->push_ack().results_size() == 1 ? ack->push_ack().results(0) : v1::ChangeResult();
  };

  // Through A, then again through B: the second is a duplicate with the same number.
  const Uuid first = Uuid::NewV7();
  v1::ChangeResult applied = push(a_->port(), first, 1);
  EXPECT_EQ(applied.outcome(), v1::CHANGE_OUTCOME_APPLIED);
  v1::ChangeResult again = push(b_->port(), first, 1);
  EXPECT_EQ(again.outcome(), v1::CHANGE_OUTCOME_DUPLICATE);
  EXPECT_EQ(again.server_seq(), applied.server_seq());

  // The same change through both at the same moment: exactly one is applied.
  const Uuid second = Uuid::NewV7();
  v1::ChangeResult via_a, via_b;
  std::thread ta([&] { via_a = push(a_->port(), second, 2); });
  std::thread tb([&] { via_b = push(b_->port(), second, 2); });
  ta.join();
  tb.join();
  std::vector<v1::ChangeOutcome> outcomes{via_a.outcome(), via_b.outcome()};
  std::sort(outcomes.begin(), outcomes.end());
  EXPECT_EQ(outcomes,
            (std::vector<v1::ChangeOutcome>{std::min(v1::CHANGE_OUTCOME_APPLIED, v1::CHANGE_OUTCOME_DUPLICATE),
                                            std::max(v1::CHANGE_OUTCOME_APPLIED, v1::CHANGE_OUTCOME_DUPLICATE)}));
  EXPECT_EQ(via_a.server_seq(), via_b.server_seq());
  auto ledger = deployment_.db->Query("SELECT count(*) FROM ledger");
  EXPECT_EQ(*ledger, "2");
}

// A hub served from SQLite moves onto PostgreSQL with `outreach-server store copy --switch`, which
// refuses a missing source, the same store twice and a target in use.
TEST(StoreCopyCommandTest, AHubMovesFromSqliteToPostgresqlWithItsHistory) {
  TestDeployment sqlite;  // init + hub add on DATA/store.db
  auto sqlite_server = std::make_unique<ServerProcess>(sqlite.data, std::vector<std::string>{}, sqlite.dir / "a.log");
  auto device = [&](const std::string& name) {
    DeviceOptions options;
    options.path = sqlite.dir / (name + ".db");
    options.user_name = name;
    auto opened = Device::Open(options);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    EnrolOptions enrol;
    enrol.server = "127.0.0.1:" + std::to_string(sqlite_server->port());
    enrol.ca_pem = sqlite.ca_pem;
    enrol.code = sqlite.IssueCode("adviser", name);
    EXPECT_TRUE(Enrol(**opened, enrol).ok());
    return std::move(opened).value();
  };
  std::unique_ptr<Device> ann = device("Ann"), bob = device("Bob");
  v1::Participant amina;
  amina.set_given_name("Amina");
  amina.set_family_name("Khan");
  amina.set_date_of_birth("1990-04-01");
  Result<v1::Record> registered = ann->RegisterParticipant(amina);
  ASSERT_TRUE(registered.ok());
  ASSERT_TRUE(Sync(*ann).ok());
  ASSERT_TRUE(Sync(*bob).ok());
  ASSERT_EQ(sqlite_server->Stop(), 0);

  auto db = TestDatabase::Create();
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  CliResult same = RunCli({"store", "copy", "--from", sqlite.data + "/store.db", "--to", sqlite.data + "/store.db"});
  EXPECT_NE(same.exit_code, 0);
  EXPECT_NE(same.err.find("to:"), std::string::npos) << same.err;
  CliResult missing = RunCli({"store", "copy", "--from", sqlite.dir / "nothing.db", "--to", (*db)->url()});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("from:"), std::string::npos) << missing.err;
  // The deployment moves: its store is copied, and --switch makes the copy its store.
  CliResult copy = RunCli({"store", "copy", "--data", sqlite.data, "--to", (*db)->url(), "--switch", "--json"});
  ASSERT_EQ(copy.exit_code, 0) << copy.err;
  EXPECT_EQ(copy.json().value("switched", false), true);
  EXPECT_EQ(copy.json().value("hubs", 0), 1);
  EXPECT_EQ(copy.json().value("devices", 0), 2);
  EXPECT_GT(copy.json().value("changes", 0), 1);
  CliResult again = RunCli({"store", "copy", "--from", sqlite.data + "/store.db", "--to", (*db)->url()});
  EXPECT_NE(again.exit_code, 0);  // the target is no longer empty
  EXPECT_NE(again.err.find("already holds hubs"), std::string::npos) << again.err;

  ServerProcess pg_server(sqlite.data, {}, sqlite.dir / "b.log");  // no --store: the data directory knows
  ASSERT_NE(pg_server.port(), 0) << pg_server.log();
  // A device enrolled with the server on PostgreSQL receives the whole copied history
  // (same ids, same reference numbers); the copied devices are still listed.
  std::unique_ptr<Device> cat;
  {
    DeviceOptions options;
    options.path = sqlite.dir / "cat.db";
    options.user_name = "Cat";
    auto opened = Device::Open(options);
    ASSERT_TRUE(opened.ok());
    EnrolOptions enrol;
    enrol.server = "127.0.0.1:" + std::to_string(pg_server.port());
    enrol.ca_pem = sqlite.ca_pem;
    CliResult code = RunCli(
        {"enrol", "--data", sqlite.data, "--hub", sqlite.hub_id, "--role", "adviser", "--name", "Cat", "--json"});
    ASSERT_EQ(code.exit_code, 0) << code.err;
    enrol.code = code.json().value("code", "");
    ASSERT_TRUE(Enrol(**opened, enrol).ok());
    cat = std::move(opened).value();
  }
  ASSERT_TRUE(Sync(*cat).ok());
  Result<v1::Record> seen = cat->Get(*Uuid::FromBytes(registered->id()));
  ASSERT_TRUE(seen.ok()) << seen.status().ToString();
  EXPECT_EQ(seen->participant().given_name(), "Amina");
  EXPECT_EQ(seen->participant().reference(), registered->participant().reference());
  CliResult devices = RunCli({"device", "list", "--data", sqlite.data, "--json"});
  ASSERT_EQ(devices.exit_code, 0) << devices.err;
  EXPECT_EQ(devices.json()["devices"].size(), 3u);
  EXPECT_EQ(pg_server.Stop(), 0);
}

// One revoke, written to the store by another process (`outreach-server device revoke`),
// cuts the device's sessions on both server processes within seconds: each process
// watches the standing of its connected devices in the shared store.
TEST_F(TwoServersTest, ARevokeCutsTheDevicesSessionsOnBothProcesses) {
  const v1::Enrolled device = EnrolPeer(a_->port(), "Rita");
  TestPeer on_a(a_->port(), {.ca_pem = deployment_.ca_pem});
  TestPeer on_b(b_->port(), {.ca_pem = deployment_.ca_pem});
  ASSERT_TRUE(SayHello(on_a, device).ok());
  ASSERT_TRUE(SayHello(on_b, device).ok());
  // A second device stays connected and served.
  const v1::Enrolled other = EnrolPeer(b_->port(), "Omar");
  TestPeer other_on_a(a_->port(), {.ca_pem = deployment_.ca_pem});
  ASSERT_TRUE(SayHello(other_on_a, other).ok());

  CliResult revoke = deployment_.Cli({"device", "revoke", "--data", deployment_.data, "--device",
                                      Uuid::FromBytes(device.device_id())->ToString(), "--json"});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  const auto revoked_at = std::chrono::steady_clock::now();
  for (TestPeer* peer : {&on_a, &on_b}) {
    Result<v1::Envelope> told = peer->Receive();  // unasked: the session was idle
    ASSERT_TRUE(told.ok()) << told.status().ToString() << "\nA:\n" << a_->log() << "\nB:\n" << b_->log();
    EXPECT_EQ(told->refusal().reason(), v1::REFUSAL_REASON_DEVICE_REVOKED) << told->ShortDebugString();
    EXPECT_TRUE(told->refusal().wipe());
    EXPECT_TRUE(peer->WaitClosed(3s));
  }
  EXPECT_LE(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - revoked_at).count(),
      3000);

  ASSERT_TRUE(other_on_a.Send(PullEnvelope(0)).ok());
  Result<v1::Envelope> page = other_on_a.Receive();
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_TRUE(page->has_changes_page()) << page->ShortDebugString();
}

}  // namespace
}  // namespace outreach::testing
