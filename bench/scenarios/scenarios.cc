#include "bench/scenarios/scenarios.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <latch>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

#include "bench/scenarios/harness.h"
#include "bench/scenarios/seed.h"
#include "client/journey/device_internals.h"
#include "client/sync/connection.h"
#include "outreach/device.h"
#include "outreach/sync.h"
#include "server/service/administration.h"
#include "server/store/store.h"
#include "tests/support/drama_numbers.h"

namespace outreach::bench {
namespace {

using namespace std::chrono_literals;

// ------------------------------------------------------------------ helpers

std::vector<std::string> IssueCodes(const Deployment& deployment, const Uuid& hub, size_t n) {
  std::unique_ptr<server::Store> store = Must(server::OpenStore(deployment.store_location), "open store");
  server::Administration admin(*store);
  std::vector<std::string> codes;
  for (size_t i = 0; i < n; ++i) {
    codes.push_back(
        Must(admin.IssueEnrolmentCode(hub, v1::ROLE_ADVISER, "Adviser " + std::to_string(i + 1)), "issue code"));
  }
  return codes;
}

std::unique_ptr<Device> OpenDevice(const std::string& path, const std::string& name) {
  DeviceOptions options;
  options.path = path;
  options.user_name = name;
  return Must(Device::Open(options), "open device " + path);
}

void EnrolDevice(Device& device, const std::string& address, const std::string& ca_pem, const std::string& code) {
  EnrolOptions enrol;
  enrol.server = address;
  enrol.ca_pem = ca_pem;
  enrol.code = code;
  enrol.device_name = "bench tablet";
  Must(Enrol(device, enrol), "enrol");
}

SyncReport MustSync(Device& device, const SyncOptions& options = {}) {
  return Must(Sync(device, options), "sync");
}

SyncOptions DeviceSyncOptions(const RunOptions& options) {
  SyncOptions sync;
  if (options.device_timeout_ms > 0) sync.timeout_ms = options.device_timeout_ms;
  return sync;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A plain SQLite file with the server store's durability (WAL, synchronous=FULL).
class PlainDb {
 public:
  explicit PlainDb(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) Die("cannot open " + path);
    Exec("PRAGMA journal_mode=WAL");
    Exec("PRAGMA synchronous=FULL");
  }
  ~PlainDb() { sqlite3_close(db_); }
  void Exec(const std::string& sql) {
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) Die(sqlite3_errmsg(db_));
  }
  sqlite3_stmt* Prepare(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) Die(sqlite3_errmsg(db_));
    return s;
  }
  void Step(sqlite3_stmt* s) {
    if (sqlite3_step(s) != SQLITE_DONE) Die(sqlite3_errmsg(db_));
    sqlite3_reset(s);
  }

 private:
  sqlite3* db_ = nullptr;
};

void BindBlob(sqlite3_stmt* s, int i, const std::string& b) {
  sqlite3_bind_blob(s, i, b.data(), static_cast<int>(b.size()), SQLITE_TRANSIENT);
}

// The plain baseline of the day's end: the same change rows appended to one log table
// (primary key hub + sequence, unique device + device sequence, as the server's log and
// dedupe ledger), one transaction per push batch. Returns seconds.
double PlainLogInsert(const std::string& path, const std::vector<std::vector<v1::Change>>& batches) {
  PlainDb db(path);
  db.Exec(
      "CREATE TABLE change_log(hub_id BLOB NOT NULL, server_seq INTEGER NOT NULL, record_id BLOB NOT NULL, "
      "type INTEGER NOT NULL, hlc INTEGER NOT NULL, origin_device BLOB NOT NULL, device_seq INTEGER NOT NULL, "
      "change BLOB NOT NULL, PRIMARY KEY(hub_id, server_seq), UNIQUE(origin_device, device_seq))");
  sqlite3_stmt* insert = db.Prepare("INSERT INTO change_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  const std::string hub = Uuid::NewV7().raw();
  int64_t seq = 0;
  const Clock::time_point start = Clock::now();
  for (const std::vector<v1::Change>& batch : batches) {
    const std::string device = Uuid::NewV7().raw();
    db.Exec("BEGIN IMMEDIATE");
    for (const v1::Change& c : batch) {
      BindBlob(insert, 1, hub);
      sqlite3_bind_int64(insert, 2, ++seq);
      BindBlob(insert, 3, c.record_id());
      sqlite3_bind_int(insert, 4, c.type());
      sqlite3_bind_int64(insert, 5, static_cast<int64_t>(c.hlc()));
      BindBlob(insert, 6, device);
      sqlite3_bind_int64(insert, 7, static_cast<int64_t>(c.device_seq()));
      BindBlob(insert, 8, c.SerializeAsString());
      db.Step(insert);
    }
    db.Exec("COMMIT");
  }
  const double seconds = SecondsSince(start);
  sqlite3_finalize(insert);
  return seconds;
}

// ------------------------------------------------------------------ day's end

struct DayEndShape {
  size_t devices = 40;
  size_t changes = 500;  // single-field edits per device
  size_t people = 50;    // participants each device registers (and syncs) beforehand
};

DayEndShape DayEndShapeFor(Size size) {
  switch (size) {
    case Size::kTiny: return {3, 20, 5};
    case Size::kSmall: return {10, 100, 20};
    case Size::kFull: break;
  }
  return {};
}

struct DeviceRun {
  double push_done_s = -1;  // start -> every change of this device acknowledged
  double done_s = 0;        // start -> Sync() returned
  SyncReport report;
};

struct DayEndResult {
  DayEndShape shape;
  std::vector<DeviceRun> runs;
  uint64_t pushed = 0;
  uint64_t pulled = 0;
  uint64_t conflicts_or_rejected = 0;
  double push_window_s = 0;
  double plain_s = 0;
  double server_cpu_s = 0;    // the server process over the burst
  double devices_cpu_s = 0;   // this process (the 40 devices' threads) over the burst
  uint64_t change_bytes = 0;  // serialised Change messages pushed (no framing, no TLS)
  uint64_t up_bytes = 0;      // on the wire during the burst (relay only)
  uint64_t down_bytes = 0;
};

// 40 advisers each register their people and sync twice (everyone holds everything),
// then capture `changes` single-field edits offline and sync all at once.
DayEndResult DayEnd(const RunOptions& options, bool through_relay) {
  DayEndResult result;
  result.shape = DayEndShapeFor(options.size);
  const DayEndShape& shape = result.shape;
  TempDir dir;
  Deployment deployment = MakeDeployment(dir / "data", options.store, 1);
  std::vector<std::string> codes = IssueCodes(deployment, deployment.hubs[0], shape.devices);
  // Every device syncs from 127.0.0.1 at the same instant: room for all of them before hello.
  const std::string room = std::to_string(shape.devices + 16);
  ServerProcess server(deployment,
                       {"--max-connections", room, "--max-unwelcomed", room, "--max-unwelcomed-per-address", room},
                       dir / "server.log");
  std::unique_ptr<WireRelay> relay;
  if (through_relay) relay = std::make_unique<WireRelay>(server.port());
  const std::string address = relay ? relay->address() : server.address();

  std::vector<std::unique_ptr<Device>> devices;
  std::vector<std::vector<v1::Record>> people(shape.devices);
  for (size_t d = 0; d < shape.devices; ++d) {
    devices.push_back(OpenDevice(dir / ("device-" + std::to_string(d) + ".db"), "Adviser " + std::to_string(d)));
    EnrolDevice(*devices[d], address, deployment.ca_pem, codes[d]);
    for (size_t i = 0; i < shape.people; ++i) {
      v1::Participant p;
      p.set_given_name("Day");
      p.set_family_name("Person " + std::to_string(d) + "-" + std::to_string(i));
      p.set_date_of_birth("1980-0" + std::to_string(1 + i % 9) + "-1" + std::to_string(d % 10));
      p.set_phone("+441134960000");
      people[d].push_back(Must(devices[d]->RegisterParticipant(p), "register"));
    }
    MustSync(*devices[d], DeviceSyncOptions(options));
  }
  for (auto& device : devices) MustSync(*device, DeviceSyncOptions(options));

  // The day: every device captures its edits offline (each one durable transaction).
  {
    std::vector<std::thread> capture;
    for (size_t d = 0; d < shape.devices; ++d) {
      capture.emplace_back([&, d] {
        for (size_t e = 0; e < shape.changes; ++e) {
          v1::Record& r = people[d][e % people[d].size()];
          v1::Participant p = r.participant();
          p.set_phone(testing::DramaPhoneNumber(d * 100000 + e));
          r = Must(devices[d]->UpdateParticipant(*Uuid::FromBytes(r.id()), p), "update");
        }
      });
    }
    for (std::thread& t : capture) t.join();
  }

  // The plain baseline, before the burst, on the same disk: the same change rows.
  std::vector<std::vector<v1::Change>> batches;
  for (auto& device : devices) {
    std::vector<v1::Change> pending = Must(StoreOf(*device).PendingChanges(shape.changes + 1), "outbox");
    for (const v1::Change& c : pending) result.change_bytes += c.ByteSizeLong();
    for (size_t i = 0; i < pending.size(); i += SyncOptions{}.push_batch_size) {
      const size_t end = std::min(pending.size(), i + SyncOptions{}.push_batch_size);
      batches.emplace_back(pending.begin() + static_cast<ptrdiff_t>(i), pending.begin() + static_cast<ptrdiff_t>(end));
    }
  }
  result.plain_s = PlainLogInsert(dir / "plain.db", batches);

  // The burst: every device syncs at once. A device's pushes are done at the progress
  // report of its last PushAck (pushed reaches to_push), or at its first pull report if
  // it had nothing to push. (Until this session the first pull report was used, which
  // comes only after the device's first batch of pulled pages is applied: 1.5-3 s late
  // in a full burst.) Threads start first, so creating them is not timed.
  if (relay) relay->Reset();
  result.runs.resize(shape.devices);
  std::latch go(static_cast<ptrdiff_t>(shape.devices) + 1);
  Clock::time_point start;
  std::vector<std::thread> burst;
  for (size_t d = 0; d < shape.devices; ++d) {
    burst.emplace_back([&, d] {
      go.arrive_and_wait();
      DeviceRun& run = result.runs[d];
      run.report = Must(Sync(*devices[d], DeviceSyncOptions(options),
                             [&run, &start](const SyncProgress& p) {
                               const bool acked = p.phase == SyncProgress::Phase::kPushing && p.pushed >= p.to_push;
                               if ((acked || p.phase == SyncProgress::Phase::kPulling) && run.push_done_s < 0) {
                                 run.push_done_s = SecondsSince(start);
                               }
                             }),
                        "sync");
      run.done_s = SecondsSince(start);
      if (run.push_done_s < 0) run.push_done_s = run.done_s;  // no progress report while pulling
    });
  }
  const double server_cpu_before = ProcCpuSeconds(server.pid());
  const double devices_cpu_before = ProcCpuSeconds(::getpid());
  start = Clock::now();
  go.arrive_and_wait();
  for (std::thread& t : burst) t.join();
  result.server_cpu_s = ProcCpuSeconds(server.pid()) - server_cpu_before;
  result.devices_cpu_s = ProcCpuSeconds(::getpid()) - devices_cpu_before;
  if (relay) {
    result.up_bytes = relay->upstream();
    result.down_bytes = relay->downstream();
  }
  for (const DeviceRun& run : result.runs) {
    result.pushed += run.report.pushed;
    result.pulled += run.report.pulled;
    result.conflicts_or_rejected += run.report.conflicts + run.report.rejected;
    result.push_window_s = std::max(result.push_window_s, run.push_done_s);
  }
  return result;
}

}  // namespace

// ------------------------------------------------------------------ scenarios

void RunCapture(const RunOptions& options) {
  const std::string n = options.size == Size::kTiny ? "20" : options.size == Size::kSmall ? "100" : "300";
  std::printf("\n## capture (bench/capture/capture_bench %s)\n\n%s", n.c_str(), RunOrDie(CaptureBinary(), {n}).c_str());
  std::fflush(stdout);
}

void RunDayEnd(const RunOptions& options) {
  DayEndResult r = DayEnd(options, /*through_relay=*/false);
  std::vector<double> done;
  for (const DeviceRun& run : r.runs) done.push_back(run.done_s);
  const double slowest = *std::max_element(done.begin(), done.end());
  const double rate = static_cast<double>(r.pushed) / r.push_window_s;
  const double plain_rate = static_cast<double>(r.pushed) / r.plain_s;
  Table t("dayend: " + std::to_string(r.shape.devices) + " devices x " + std::to_string(r.shape.changes) +
          " field changes, all pushing and pulling at once over TLS");
  t.Row("changes applied by the server /s", Num(rate), Num(plain_rate), Ratio(rate, plain_rate), ">= 50,000/s");
  t.Row("slowest device done (s)", Num(slowest, 3), "", "", "<= 2 s");
  t.Row("median device done (s)", Num(Median(done), 3));
  t.Row("last push acknowledged (s)", Num(r.push_window_s, 3));
  t.Row("changes pushed / pulled", Num(static_cast<double>(r.pushed)) + " / " + Num(static_cast<double>(r.pulled)));
  t.Row("CPU seconds over the burst: server / devices", Num(r.server_cpu_s, 2) + " / " + Num(r.devices_cpu_s, 2));
  t.Note(
      "changes/s: changes pushed / time from the start of the burst to the last push acknowledged (pulls of "
      "other devices run meanwhile); done: start of the burst to Sync() returning");
  t.Note(
      "CPU: user + system time of the server process and of this driver process (the devices' threads) from the "
      "start of the burst until every Sync() returned; both share the machine's cores");
  t.Note("plain baseline: the same " + Num(static_cast<double>(r.pushed)) +
         " change rows appended to one SQLite log table (WAL, synchronous=FULL, primary key hub+seq, unique "
         "device+device_seq), one transaction per push batch, in " +
         Num(r.plain_s, 3) + " s");
  if (r.conflicts_or_rejected != 0) {
    t.Note("conflicts or rejections: " + Num(static_cast<double>(r.conflicts_or_rejected)) + " (expected none)");
  }
  t.Print();
}

void RunWire(const RunOptions& options) {
  DayEndResult r = DayEnd(options, /*through_relay=*/true);
  Table t("wire: bytes on the wire per changed field over the day's end (" + std::to_string(r.shape.devices) +
          " devices x " + std::to_string(r.shape.changes) + " single-field changes)");
  const double fields_moved = static_cast<double>(r.pushed + r.pulled);
  const double total = static_cast<double>(r.up_bytes + r.down_bytes);
  const double payload_per_field = static_cast<double>(r.change_bytes) / static_cast<double>(r.pushed);
  t.Row("bytes per changed field moved (up+down / pushed+pulled)", Num(total / fields_moved, 1),
        Num(payload_per_field, 1), Ratio(total / fields_moved, payload_per_field), "<= 40 bytes");
  t.Row("upstream bytes per pushed field", Num(static_cast<double>(r.up_bytes) / static_cast<double>(r.pushed), 1),
        Num(payload_per_field, 1),
        Ratio(static_cast<double>(r.up_bytes) / static_cast<double>(r.pushed), payload_per_field));
  t.Row("downstream bytes per pulled field",
        Num(static_cast<double>(r.down_bytes) / std::max(1.0, static_cast<double>(r.pulled)), 1));
  t.Row("bytes on the wire (up / down)",
        Num(static_cast<double>(r.up_bytes)) + " / " + Num(static_cast<double>(r.down_bytes)));
  t.Note(
      "measured by a counting TCP relay between every device and the server: TLS records, handshakes, "
      "Hello/Welcome, acks and pull pages included");
  t.Note("plain baseline: the serialised Change message of each field (protobuf only: no frame, no TLS)");
  t.Print();
}

int RunBootstrapClient(const std::string& db, const std::string& server, const std::string& ca_path,
                       const std::string& code) {
  std::unique_ptr<Device> device = OpenDevice(db, "New Adviser");
  EnrolDevice(*device, server, ReadFile(ca_path), code);
  const uint64_t rss_before_kb = ProcStatusKb(::getpid(), "VmRSS");
  // CPU time of this process over the pull: the device's own work, which a loaded
  // machine stretches in wall time but not in CPU time.
  const double cpu_before = ProcCpuSeconds(::getpid());
  const Clock::time_point start = Clock::now();
  SyncReport report = MustSync(*device);
  const double seconds = SecondsSince(start);
  const double cpu = ProcCpuSeconds(::getpid()) - cpu_before;
  const uint64_t peak_kb = ProcStatusKb(::getpid(), "VmHWM");

  // The plain baseline: the records the device now holds, inserted into one table of a
  // fresh file with the same durability, a page (1,000) per transaction.
  std::vector<v1::Record> records = Must(StoreOf(*device).AllRecords(), "all records");
  device.reset();
  double plain_seconds = 0;
  {
    PlainDb plain(db + ".plain");
    plain.Exec("CREATE TABLE record(id BLOB PRIMARY KEY, type INTEGER NOT NULL, body BLOB NOT NULL)");
    sqlite3_stmt* insert = plain.Prepare("INSERT OR REPLACE INTO record VALUES (?, ?, ?)");
    const Clock::time_point t0 = Clock::now();
    for (size_t i = 0; i < records.size(); ++i) {
      if (i % 1000 == 0) plain.Exec("BEGIN IMMEDIATE");
      BindBlob(insert, 1, records[i].id());
      sqlite3_bind_int(insert, 2, records[i].type());
      BindBlob(insert, 3, records[i].SerializeAsString());
      plain.Step(insert);
      if (i % 1000 == 999 || i + 1 == records.size()) plain.Exec("COMMIT");
    }
    plain_seconds = SecondsSince(t0);
    sqlite3_finalize(insert);
  }
  nlohmann::json out{{"pulled", report.pulled},
                     {"seconds", seconds},
                     {"cpu_seconds", cpu},
                     {"peak_rss_kb", peak_kb},
                     {"rss_before_kb", rss_before_kb},
                     {"plain_records", records.size()},
                     {"plain_seconds", plain_seconds}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

void RunBootstrap(const RunOptions& options) {
  HubShape shape{20'000, 200'000};
  if (options.size == Size::kTiny) shape = {200, 2'000};
  if (options.size == Size::kSmall) shape = {2'000, 20'000};
  TempDir dir;
  Deployment deployment = MakeDeployment(dir / "data", options.store, 1);
  SeedReport seed = SeedHub(deployment.store_location, deployment.hubs[0], shape);
  std::vector<std::string> codes = IssueCodes(deployment, deployment.hubs[0], 1);
  ServerProcess server(deployment, {}, dir / "server.log");
  nlohmann::json out = nlohmann::json::parse(
      RunOrDie(SelfBinary(), {"bootstrap-client", "--db", dir / "new-device.db", "--server", server.address(), "--ca",
                              deployment.data + "/ca.pem", "--code", codes[0]}),
      nullptr, false);
  if (!out.is_object()) Die("bootstrap-client printed no JSON");
  const double pulled = out["pulled"].get<double>();
  const double rate = pulled / out["seconds"].get<double>();
  const double plain_rate = out["plain_records"].get<double>() / out["plain_seconds"].get<double>();
  const double peak_mb = out["peak_rss_kb"].get<double>() / 1024.0;
  const double before_mb = out["rss_before_kb"].get<double>() / 1024.0;
  Table t("bootstrap: a new device pulls a hub of " + Num(static_cast<double>(shape.participants)) +
          " participants and " + Num(static_cast<double>(shape.records)) + " attendance and assessment records");
  t.Row("records pulled and applied /s", Num(rate), Num(plain_rate), Ratio(rate, plain_rate), ">= 100,000/s");
  t.Row("client peak RSS (MB)", Num(peak_mb, 1), Num(before_mb, 1), Ratio(peak_mb, before_mb), "<= 100 MB");
  t.Row("changes pulled / seconds", Num(pulled) + " / " + Num(out["seconds"].get<double>(), 2));
  t.Row("device CPU seconds (user + sys) / records per CPU second",
        Num(out["cpu_seconds"].get<double>(), 2) + " / " + Num(pulled / out["cpu_seconds"].get<double>()));
  t.Note("hub seeded in-process through SyncService::Push: " + Num(static_cast<double>(seed.changes)) + " changes in " +
         Num(seed.seconds, 1) + " s (" + Num(static_cast<double>(seed.changes) / seed.seconds) + " changes/s)");
  t.Note(
      "plain baseline (rate): the same records inserted into one table of a fresh SQLite file (WAL, "
      "synchronous=FULL), 1,000 per transaction, by the same process after the pull");
  t.Note("plain baseline (RSS): the device process after opening its file and enrolling, before the pull");
  t.Print();
}

void RunIdle(const RunOptions& options) {
  // Two hubs on one server: a large and a small log.
  uint64_t large = 1'000'000, small = 10'000;
  int repeats = 20;
  if (options.size == Size::kTiny) large = 1'000, small = 100, repeats = 3;
  if (options.size == Size::kSmall) large = 100'000, small = 10'000, repeats = 10;
  auto shape_of = [](uint64_t log_size) {
    // The server restates each participant's two names for kiosks when a mark first
    // links them to a venue, so a twelfth are participants (3 log entries each) and the
    // rest records plus one session per 25 records.
    const uint64_t people = log_size / 12;
    return HubShape{people, (log_size - 3 * people) * 25 / 26};
  };
  TempDir dir;
  Deployment deployment = MakeDeployment(dir / "data", options.store, 2);
  const uint64_t sizes[2] = {large, small};
  SeedReport seeds[2];
  std::string codes[2];
  for (int h = 0; h < 2; ++h) {
    seeds[h] = SeedHub(deployment.store_location, deployment.hubs[h], shape_of(sizes[h]));
    codes[h] = IssueCodes(deployment, deployment.hubs[h], 1)[0];
  }
  ServerProcess server(deployment, {}, dir / "server.log");
  WireRelay relay(server.port());
  const client::ServerAddress address = Must(client::ServerAddress::Parse(relay.address()), "address");

  std::unique_ptr<Device> devices[2];
  uint64_t log_size[2];
  double first_s[2];
  for (int h = 0; h < 2; ++h) {
    devices[h] = OpenDevice(dir / ("idle-" + std::to_string(h) + ".db"), "Idle Adviser");
    EnrolDevice(*devices[h], relay.address(), deployment.ca_pem, codes[h]);
    const Clock::time_point first = Clock::now();
    log_size[h] = MustSync(*devices[h]).pulled;
    first_s[h] = SecondsSince(first);
  }
  // Interleaved, so both hubs (and the baseline) meet the same machine load.
  std::vector<double> sync_ms[2], connect_ms;
  uint64_t sync_bytes[2] = {0, 0}, connect_bytes = 0;
  for (int i = 0; i < repeats; ++i) {
    for (int h = 0; h < 2; ++h) {
      relay.Reset();
      const Clock::time_point t0 = Clock::now();
      SyncReport again = MustSync(*devices[h]);
      sync_ms[h].push_back(SecondsSince(t0) * 1000);
      sync_bytes[h] += relay.upstream() + relay.downstream();
      if (again.pulled != 0 || again.pushed != 0) Die("an idle sync moved changes");
    }
    // The plain baseline: a TLS 1.3 connection to the same server (handshake, pinned CA,
    // ALPN) closed at once: the floor under any sync.
    relay.Reset();
    client::SyncConnection connection;
    const Clock::time_point t0 = Clock::now();
    Must(connection.Connect(address, deployment.ca_pem, 10s), "connect");
    connection.Close();
    connect_ms.push_back(SecondsSince(t0) * 1000);
    connect_bytes += relay.upstream() + relay.downstream();
  }

  Table t("idle: a device with nothing new syncs (median of " + std::to_string(repeats) + ")");
  const double base_ms = Median(connect_ms);
  const double base_bytes = static_cast<double>(connect_bytes) / repeats;
  for (int h = 0; h < 2; ++h) {
    const std::string hub = "hub of " + Num(static_cast<double>(log_size[h])) + " changes: ";
    const double bytes = static_cast<double>(sync_bytes[h]) / repeats;
    t.Row(hub + "idle sync latency (ms)", Num(Median(sync_ms[h]), 2), Num(base_ms, 2),
          Ratio(Median(sync_ms[h]), base_ms), "<= 20 ms, same for both");
    t.Row(hub + "bytes on the wire", Num(bytes), Num(base_bytes), Ratio(bytes, base_bytes), "<= 2 KB, same for both");
    t.Note(hub + "seeded in " + Num(seeds[h].seconds, 1) + " s; the device's first sync pulled them in " +
           Num(first_s[h], 1) + " s (" + Num(static_cast<double>(log_size[h]) / first_s[h]) + " changes/s)");
  }
  t.Note("plain baseline: a TLS 1.3 connect (handshake, pinned CA, ALPN) and close to the same server");
  t.Note(
      "the two devices and the baseline take turns; every connection goes through the counting relay (one "
      "extra loopback hop each way)");
  t.Print();
}

void RunConnections(const RunOptions& options) {
  size_t idle = 1000, edits = 500, people = 50;
  if (options.size == Size::kTiny) idle = 20, edits = 20, people = 5;
  if (options.size == Size::kSmall) idle = 200, edits = 100, people = 20;
  const int rounds = 3;
  TempDir dir;
  Deployment deployment = MakeDeployment(dir / "data", options.store, 1);
  std::vector<std::string> codes = IssueCodes(deployment, deployment.hubs[0], idle + 1);
  // Every connection comes from 127.0.0.1, and the idle ones stay for the whole run.
  const std::string room = std::to_string(idle + 64);
  ServerProcess server(deployment,
                       {"--max-connections", room, "--max-unwelcomed", room, "--max-unwelcomed-per-address", room,
                        "--idle-timeout-ms", "3600000", "--max-session-ms", "3600000"},
                       dir / "server.log");
  const client::ServerAddress address = Must(client::ServerAddress::Parse(server.address()), "address");

  std::unique_ptr<Device> busy = OpenDevice(dir / "busy.db", "Busy Adviser");
  EnrolDevice(*busy, server.address(), deployment.ca_pem, codes[idle]);
  std::vector<v1::Record> held;
  for (size_t i = 0; i < people; ++i) {
    v1::Participant p;
    p.set_given_name("Busy");
    p.set_family_name("Person " + std::to_string(i));
    p.set_date_of_birth("1975-05-0" + std::to_string(1 + i % 9));
    held.push_back(Must(busy->RegisterParticipant(p), "register"));
  }
  MustSync(*busy);
  uint64_t serial = 0;
  // `edits` single-field edits captured, then one timed sync (ms).
  auto busy_sync_ms = [&] {
    for (size_t e = 0; e < edits; ++e) {
      v1::Record& r = held[e % held.size()];
      v1::Participant p = r.participant();
      p.set_phone(testing::DramaPhoneNumber(++serial));
      r = Must(busy->UpdateParticipant(*Uuid::FromBytes(r.id()), p), "update");
    }
    const Clock::time_point t0 = Clock::now();
    MustSync(*busy);
    return SecondsSince(t0) * 1000;
  };
  std::vector<double> before_ms, after_ms;
  for (int i = 0; i < rounds; ++i) before_ms.push_back(busy_sync_ms());

  const uint64_t rss_before_kb = ProcStatusKb(server.pid(), "VmRSS");
  // Each idle device enrols over the wire, then says hello on a connection it keeps.
  std::vector<std::unique_ptr<client::SyncConnection>> connections;
  for (size_t i = 0; i < idle; ++i) {
    v1::Envelope enrol, reply;
    enrol.mutable_enrol()->set_code(codes[i]);
    enrol.mutable_enrol()->set_device_name("idle tablet " + std::to_string(i));
    client::SyncConnection once;
    Must(once.Connect(address, deployment.ca_pem, 10s), "connect");
    Must(once.Send(enrol, 10s), "send enrol");
    Must(once.Receive(&reply, 10s), "receive enrolled");
    once.Close();
    if (!reply.has_enrolled()) Die("idle device " + std::to_string(i) + " was not enrolled");
    v1::Envelope hello, welcome;
    hello.mutable_hello()->set_protocol_version(v1::PROTOCOL_VERSION_1);
    hello.mutable_hello()->set_schema_version(1);
    hello.mutable_hello()->set_device_id(reply.enrolled().device_id());
    hello.mutable_hello()->set_credential(reply.enrolled().credential());
    hello.mutable_hello()->set_device_hlc(Hlc::FromParts(HybridClock::SystemMillis(), 0).value());
    auto connection = std::make_unique<client::SyncConnection>();
    Must(connection->Connect(address, deployment.ca_pem, 10s), "connect");
    Must(connection->Send(hello, 10s), "send hello");
    Must(connection->Receive(&welcome, 10s), "receive welcome");
    if (!welcome.has_welcome()) Die("idle device " + std::to_string(i) + " got no Welcome");
    connections.push_back(std::move(connection));
  }
  std::this_thread::sleep_for(500ms);
  const uint64_t rss_after_kb = ProcStatusKb(server.pid(), "VmRSS");
  for (int i = 0; i < rounds; ++i) after_ms.push_back(busy_sync_ms());
  const uint64_t rss_end_kb = ProcStatusKb(server.pid(), "VmRSS");
  for (auto& c : connections) c->Close();

  Table t(std::to_string(idle) + " enrolled devices connected (after Hello) and idle");
  const double growth_mb = (static_cast<double>(rss_after_kb) - static_cast<double>(rss_before_kb)) / 1024.0;
  t.Row("server RSS growth (MB)", Num(growth_mb, 1), Num(static_cast<double>(rss_before_kb) / 1024.0, 1), "",
        "<= 100 MB");
  t.Row("server RSS per idle connection (KB)",
        Num((static_cast<double>(rss_after_kb) - static_cast<double>(rss_before_kb)) / static_cast<double>(idle), 1));
  t.Row("busy device sync, " + std::to_string(edits) + " edits (ms, median of " + std::to_string(rounds) + ")",
        Num(Median(after_ms), 1), Num(Median(before_ms), 1), Ratio(Median(after_ms), Median(before_ms)), "unchanged");
  t.Note(
      "plain baseline: the server's RSS before the idle devices connected; the busy device's sync time "
      "with no idle device connected");
  t.Note("server RSS after the busy syncs among them: " + Num(static_cast<double>(rss_end_kb) / 1024.0, 1) + " MB");
  t.Print();
}

}  // namespace outreach::bench
