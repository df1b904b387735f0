// Google Benchmark micro-benchmarks for the hot paths of a sync: the frame codec, the
// field-level value encoding, the hybrid logical clock, the server's push path (dedupe,
// access check, reconciliation, log append) on a real SQLite store file, and a device
// applying pulled pages to a real device file.
#include <benchmark/benchmark.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bench/scenarios/hub_records.h"
#include "client/store/local_store.h"
#include "common/field_value.h"
#include "common/frame.h"
#include "common/hlc.h"
#include "common/uuid.h"
#include "common/validation/formats.h"
#include "server/service/administration.h"
#include "server/service/sync_service.h"
#include "server/store/store.h"
#include "tests/support/drama_numbers.h"

namespace outreach {
namespace {

v1::Participant Person(int64_t i) {
  v1::Participant p;
  p.set_reference("AB12-" + std::to_string(i));
  p.set_given_name("Amina");
  p.set_family_name("Khan " + std::to_string(i));
  p.set_date_of_birth("1990-04-01");
  p.set_postcode("NG1 1AA");
  p.set_phone("+441134960001");
  p.set_status(v1::PARTICIPANT_STATUS_ACTIVE);
  p.set_registered_on("2026-11-23");
  p.set_adviser("Alex Adviser");
  return p;
}

// A push of `n` single-field changes, as a day's end sends them.
v1::Envelope PushOf(int n) {
  v1::Envelope e;
  HybridClock clock;
  v1::Push* push = e.mutable_push();
  push->set_batch_id(1);
  const v1::Participant p = Person(1);
  const auto* phone = v1::Participant::descriptor()->FindFieldByName("phone");
  for (int i = 0; i < n; ++i) {
    v1::Change* c = push->add_changes();
    c->set_record_id(Uuid::NewV7().raw());
    c->set_type(v1::RECORD_TYPE_PARTICIPANT);
    c->set_hlc(clock.Now().value());
    c->set_device_seq(static_cast<uint64_t>(i + 1));
    c->set_op(v1::CHANGE_OP_UPSERT);
    v1::FieldValue* fv = c->add_fields();
    fv->set_field(static_cast<uint32_t>(phone->number()));
    fv->set_value(EncodeField(p, phone));
    fv->set_base_version(clock.Now().value());
  }
  return e;
}

void BM_EncodeFrame(benchmark::State& state) {
  const v1::Envelope e = PushOf(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(EncodeFrame(e));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_EncodeFrame)->Arg(1)->Arg(500);

void BM_DecodeFrame(benchmark::State& state) {
  const std::string frame = *EncodeFrame(PushOf(static_cast<int>(state.range(0))));
  for (auto _ : state) {
    FrameDecoder decoder;
    decoder.Append(frame);
    v1::Envelope e;
    benchmark::DoNotOptimize(decoder.Next(&e));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(frame.size()));
}
BENCHMARK(BM_DecodeFrame)->Arg(1)->Arg(500);

void BM_EncodeField(benchmark::State& state) {
  const v1::Participant p = Person(1);
  const auto* phone = v1::Participant::descriptor()->FindFieldByName("phone");
  for (auto _ : state) benchmark::DoNotOptimize(EncodeField(p, phone));
}
BENCHMARK(BM_EncodeField);

void BM_ApplyField(benchmark::State& state) {
  v1::Participant p = Person(1);
  v1::Participant other = Person(2);
  other.set_phone("+441134960999");
  const auto* phone = v1::Participant::descriptor()->FindFieldByName("phone");
  const std::string value = EncodeField(other, phone);
  for (auto _ : state) benchmark::DoNotOptimize(ApplyField(&p, static_cast<uint32_t>(phone->number()), value));
}
BENCHMARK(BM_ApplyField);

void BM_DiffFields(benchmark::State& state) {
  const v1::Participant before = Person(1);
  v1::Participant after = before;
  after.set_phone("+441134960999");
  for (auto _ : state) benchmark::DoNotOptimize(DiffFields(before, after));
}
BENCHMARK(BM_DiffFields);

void BM_AllFields(benchmark::State& state) {
  const v1::Participant p = Person(1);
  for (auto _ : state) benchmark::DoNotOptimize(AllFields(p));
}
BENCHMARK(BM_AllFields);

// A phone number checked and put in its stored form (E.164), as every capture and every
// pushed change of a phone is: typed as a person types it (0) or already stored (1).
void BM_NormalisePhone(benchmark::State& state) {
  std::vector<std::string> numbers;
  for (uint64_t i = 0; i < 1000; ++i)
    numbers.push_back(state.range(0) == 0 ? testing::DramaPhoneNumber(i) : testing::DramaPhoneNumberE164(i));
  size_t i = 0;
  for (auto _ : state) {
    Result<std::string> stored = validation::NormalisePhone(numbers[i++ % numbers.size()], "phone");
    if (!stored.ok()) state.SkipWithError(stored.status().ToString().c_str());
    benchmark::DoNotOptimize(stored);
  }
}
BENCHMARK(BM_NormalisePhone)->Arg(0)->Arg(1);

void BM_HlcNow(benchmark::State& state) {
  HybridClock clock;
  for (auto _ : state) benchmark::DoNotOptimize(clock.Now());
}
BENCHMARK(BM_HlcNow);

void BM_HlcUpdate(benchmark::State& state) {
  HybridClock local, remote;
  for (auto _ : state) benchmark::DoNotOptimize(local.Update(remote.Now()));
}
BENCHMARK(BM_HlcUpdate);

// A fresh directory under $TMPDIR (or /tmp) for a benchmark's files; empty if it cannot
// be made.
std::string MakeBenchDir() {
  const char* base = std::getenv("TMPDIR");
  std::string dir = std::string(base != nullptr ? base : "/tmp") + "/outreach-micro-XXXXXX";
  return ::mkdtemp(dir.data()) != nullptr ? dir : std::string();
}

// A device file at `path`, as an adviser's device opens it.
Result<std::unique_ptr<client::LocalStore>> OpenBenchDevice(const std::string& path) {
  client::StoreOptions options;
  options.path = path;
  options.user_name = "Micro Adviser";
  return client::LocalStore::Open(options);
}

// A sync service on a real store file in a temporary directory, with one hub and one
// enrolled adviser's device, for the benchmarks of the server's push and pull paths.
class ServiceFixture {
 public:
  ServiceFixture() {
    dir_ = MakeBenchDir();
    if (dir_.empty()) {
      error_ = "mkdtemp failed";
      return;
    }
    Result<std::unique_ptr<server::Store>> store = server::OpenStore(dir_ + "/store.db");
    if (!store.ok()) {
      error_ = store.status().ToString();
      return;
    }
    server::Administration admin(**store);
    const Uuid hub = *admin.AddHub("Micro hub");
    const std::string code = *admin.IssueEnrolmentCode(hub, v1::ROLE_ADVISER, "Alex Adviser");
    service_ = std::make_unique<server::SyncService>(std::move(*store), "");
    v1::Refusal refusal;
    v1::Enrol enrol;
    enrol.set_code(code);
    const v1::Enrolled enrolled = *service_->Enrol(enrol, &refusal);
    v1::Hello hello;
    hello.set_protocol_version(v1::PROTOCOL_VERSION_1);
    hello.set_schema_version(1);
    hello.set_device_id(enrolled.device_id());
    hello.set_credential(enrolled.credential());
    hello.set_device_hlc(service_->clock().Now().value());
    v1::Welcome welcome;
    device_ = *service_->Authenticate(hello, &welcome, &refusal);
  }
  ~ServiceFixture() {
    service_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Empty when the fixture is usable.
  const std::string& error() const { return error_; }
  server::SyncService& service() { return *service_; }
  const server::DeviceContext& device() const { return device_; }

  // Pushes `people` new participants (every field set) in batches of up to 500; returns
  // their ids and the stamp each was written with.
  std::vector<std::pair<Uuid, uint64_t>> Register(int64_t people) {
    std::vector<std::pair<Uuid, uint64_t>> out;
    for (int64_t done = 0; done < people && error_.empty();) {
      v1::Push push;
      push.set_batch_id(++seq_);
      for (; done < people && push.changes_size() < 500; ++done) {
        v1::Change* c = push.add_changes();
        const Uuid id = Uuid::NewV7();
        c->set_record_id(id.raw());
        c->set_type(v1::RECORD_TYPE_PARTICIPANT);
        c->set_hlc(clock_.Now().value());
        c->set_device_seq(++seq_);
        c->set_op(v1::CHANGE_OP_UPSERT);
        for (v1::FieldValue& fv : AllFields(Person(++person_))) *c->add_fields() = std::move(fv);
        out.emplace_back(id, c->hlc());
      }
      Push(push);
    }
    return out;
  }

  void Push(const v1::Push& push) {
    Result<v1::PushAck> ack = service_->Push(device_, push);
    if (!ack.ok()) error_ = ack.status().ToString();
  }

  uint64_t NextSeq() { return ++seq_; }
  HybridClock& clock() { return clock_; }

 private:
  std::string dir_;
  std::string error_;
  std::unique_ptr<server::SyncService> service_;
  server::DeviceContext device_;
  HybridClock clock_;
  uint64_t seq_ = 0;
  int64_t person_ = 0;
};

// The server's push path on a real store file: a batch of `n` new participants from one
// adviser's device per iteration (one store transaction, one fsync).
void BM_ServicePush(benchmark::State& state) {
  ServiceFixture f;
  if (!f.error().empty()) {
    state.SkipWithError(f.error().c_str());
    return;
  }
  for (auto _ : state) {
    state.PauseTiming();
    v1::Push push;
    push.set_batch_id(f.NextSeq());
    for (int64_t i = 0; i < state.range(0); ++i) {
      v1::Change* c = push.add_changes();
      c->set_record_id(Uuid::NewV7().raw());
      c->set_type(v1::RECORD_TYPE_PARTICIPANT);
      c->set_hlc(f.clock().Now().value());
      c->set_device_seq(f.NextSeq());
      c->set_op(v1::CHANGE_OP_UPSERT);
      for (v1::FieldValue& fv : AllFields(Person(f.NextSeq()))) *c->add_fields() = std::move(fv);
    }
    state.ResumeTiming();
    f.Push(push);
    if (!f.error().empty()) state.SkipWithError(f.error().c_str());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ServicePush)->Arg(1)->Arg(500)->Unit(benchmark::kMillisecond);

// The day's end on the server: a batch of `n` single-field edits (a new phone number)
// to 50 participants the hub already holds, each from the version the device last saw,
// so every edit applies without a conflict (one store transaction, one fsync).
void BM_ServiceEdit(benchmark::State& state) {
  ServiceFixture f;
  std::vector<std::pair<Uuid, uint64_t>> people = f.Register(50);
  if (!f.error().empty()) {
    state.SkipWithError(f.error().c_str());
    return;
  }
  const uint32_t phone = static_cast<uint32_t>(v1::Participant::descriptor()->FindFieldByName("phone")->number());
  uint64_t serial = 0;
  for (auto _ : state) {
    state.PauseTiming();
    v1::Push push;
    push.set_batch_id(f.NextSeq());
    for (int64_t i = 0; i < state.range(0); ++i) {
      auto& [id, version] = people[static_cast<size_t>(i) % people.size()];
      v1::Participant p;
      p.set_phone(testing::DramaPhoneNumberE164(++serial));
      v1::Change* c = push.add_changes();
      c->set_record_id(id.raw());
      c->set_type(v1::RECORD_TYPE_PARTICIPANT);
      c->set_hlc(f.clock().Now().value());
      c->set_device_seq(f.NextSeq());
      c->set_op(v1::CHANGE_OP_UPSERT);
      v1::FieldValue* fv = c->add_fields();
      fv->set_field(phone);
      fv->set_value(EncodeField(p, p.GetDescriptor()->FindFieldByNumber(static_cast<int>(phone))));
      fv->set_base_version(version);
      version = c->hlc();
    }
    state.ResumeTiming();
    f.Push(push);
    if (!f.error().empty()) state.SkipWithError(f.error().c_str());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ServiceEdit)->Arg(500)->Unit(benchmark::kMillisecond);

// A serialised page's next_cursor and more, read past its changes without parsing them.
std::pair<uint64_t, bool> CursorOfPage(const std::string& page) {
  using google::protobuf::internal::WireFormatLite;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(page.data()),
                                            static_cast<int>(page.size()));
  uint64_t next = 0, value = 0;
  bool more = false;
  while (const uint32_t tag = in.ReadTag()) {
    const int field = WireFormatLite::GetTagFieldNumber(tag);
    if (field == v1::ChangesPage::kNextCursorFieldNumber && in.ReadVarint64(&value)) {
      next = value;
    } else if (field == v1::ChangesPage::kMoreFieldNumber && in.ReadVarint64(&value)) {
      more = value != 0;
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      break;
    }
  }
  return {next, more};
}

// A pull page of up to 1,000 entries for an adviser from a hub log of 20,000 (the day's
// end pulls 20 of them per device), as the server serves it: read the stored change
// bytes (SyncService::PullEncoded), and encode the page as the zstd frame it is sent in.
void BM_ServicePull(benchmark::State& state) {
  ServiceFixture f;
  f.Register(20000);
  if (!f.error().empty()) {
    state.SkipWithError(f.error().c_str());
    return;
  }
  uint64_t cursor = 0;
  for (auto _ : state) {
    v1::Pull pull;
    pull.set_cursor(cursor);
    pull.set_page_size(static_cast<uint32_t>(state.range(0)));
    Result<std::string> page =
        f.service().PullEncoded(f.device(), pull, server::SyncService::MaxPageBytes(kDefaultMaxFrameBytes));
    if (!page.ok()) {
      state.SkipWithError(page.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(EncodeChangesPageFrame(*page, kDefaultMaxFrameBytes, v1::COMPRESSION_ZSTD));
    const auto [next, more] = CursorOfPage(*page);
    cursor = more ? next : 0;
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ServicePull)->Arg(1000)->Unit(benchmark::kMillisecond);

// A new device applying a pulled hub (the bootstrap scenario's device work without the
// network): the bootstrap shape at 1/arg of its size (participants, sessions of 25, marks
// and assessments), as pages of 1,000 changes applied 8 pages per transaction into a fresh
// device file per iteration. CPU time per change is the figure; the setup is not timed.
void BM_DeviceApplyPulledPages(benchmark::State& state) {
  const uint64_t scale = static_cast<uint64_t>(state.range(0));
  std::vector<v1::Change> log;
  HybridClock clock;
  bench::ForEachHubRecord({20'000 / scale, 200'000 / scale}, "K7QX", Uuid::Derive("venue", "micro"),
                          [&](v1::RecordType type, const Uuid& id, const google::protobuf::Message& body) {
                            v1::Change c;
                            c.set_record_id(id.raw());
                            c.set_type(type);
                            c.set_hlc(clock.Now().value());
                            c.set_server_seq(log.size() + 1);
                            c.set_op(v1::CHANGE_OP_UPSERT);
                            for (v1::FieldValue& fv : AllFields(body)) *c.add_fields() = std::move(fv);
                            log.push_back(std::move(c));
                          });
  std::vector<v1::ChangesPage> pages;
  for (size_t from = 0; from < log.size(); from += 1000) {
    v1::ChangesPage& page = pages.emplace_back();
    for (size_t k = from; k < std::min(log.size(), from + 1000); ++k) *page.add_changes() = log[k];
    page.set_next_cursor(std::min(log.size(), from + 1000));
    page.set_more(from + 1000 < log.size());
  }
  // range(1) = 1: each page prepared as the pull's receiving thread does (not timed: it
  // runs on the other core while the applier works).
  std::vector<std::unique_ptr<client::PreparedPage>> prepared;
  if (state.range(1) == 1) {
    for (const v1::ChangesPage& page : pages) prepared.push_back(client::LocalStore::PreparePulledPage(page));
  }
  const std::string dir = MakeBenchDir();
  if (dir.empty()) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  int run = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Result<std::unique_ptr<client::LocalStore>> store =
        OpenBenchDevice(dir + "/device-" + std::to_string(++run) + ".db");
    if (!store.ok()) {
      state.SkipWithError(store.status().ToString().c_str());
      break;
    }
    state.ResumeTiming();
    for (size_t from = 0; from < pages.size(); from += 8) {
      std::vector<const v1::ChangesPage*> batch;
      std::vector<const client::PreparedPage*> ready;
      for (size_t k = from; k < std::min(pages.size(), from + 8); ++k) {
        batch.push_back(&pages[k]);
        ready.push_back(prepared.empty() ? nullptr : prepared[k].get());
      }
      Status applied = (*store)->ApplyPulledPages(batch, ready, nullptr);
      if (!applied.ok()) state.SkipWithError(applied.ToString().c_str());
    }
    state.PauseTiming();
    store->reset();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directory(dir);
    state.ResumeTiming();
  }
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(log.size()));
}
BENCHMARK(BM_DeviceApplyPulledPages)
    ->Args({10, 0})
    ->Args({1, 0})
    ->Args({1, 1})
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime();

// A device at the day's end (the dayend scenario's device work without the network):
// it holds 2,000 participants and applies 20,000 pulled single-field edits of them (a
// new phone number, each person edited ten times, the edits of 40 devices interleaved
// as the hub log holds them), pages of 1,000 applied 8 per transaction. Each iteration
// starts from a fresh copy of the same device file (not timed).
void BM_DeviceApplyPulledEdits(benchmark::State& state) {
  constexpr size_t kPeople = 2'000, kEdits = 20'000, kDevices = 40;
  HybridClock clock;
  const auto* phone = v1::Participant::descriptor()->FindFieldByName("phone");
  std::vector<Uuid> ids;
  v1::ChangesPage people;
  for (size_t i = 0; i < kPeople; ++i) {
    const v1::Participant p = Person(static_cast<int64_t>(i));
    ids.push_back(Uuid::NewV7());
    v1::Change* c = people.add_changes();
    c->set_record_id(ids.back().raw());
    c->set_type(v1::RECORD_TYPE_PARTICIPANT);
    c->set_hlc(clock.Now().value());
    c->set_server_seq(i + 1);
    c->set_op(v1::CHANGE_OP_UPSERT);
    for (v1::FieldValue& fv : AllFields(p)) *c->add_fields() = std::move(fv);
  }
  people.set_next_cursor(kPeople);
  std::vector<v1::ChangesPage> pages((kEdits + 999) / 1000);
  const size_t per_device = kPeople / kDevices;
  for (size_t e = 0; e < kEdits; ++e) {
    // The log interleaves the devices' pushes: device d's k-th edit is of its (k % 50)-th person.
    const size_t device = e % kDevices, k = e / kDevices;
    v1::Participant p;
    p.set_phone(testing::DramaPhoneNumberE164(e));
    v1::Change* c = pages[e / 1000].add_changes();
    c->set_record_id(ids[device * per_device + k % per_device].raw());
    c->set_type(v1::RECORD_TYPE_PARTICIPANT);
    c->set_hlc(clock.Now().value());
    c->set_server_seq(kPeople + e + 1);
    c->set_op(v1::CHANGE_OP_UPSERT);
    v1::FieldValue* fv = c->add_fields();
    fv->set_field(static_cast<uint32_t>(phone->number()));
    fv->set_value(EncodeField(p, phone));
  }
  for (size_t i = 0; i < pages.size(); ++i) {
    pages[i].set_next_cursor(kPeople + std::min(kEdits, (i + 1) * 1000));
    pages[i].set_more(i + 1 < pages.size());
  }
  const std::string dir = MakeBenchDir();
  if (dir.empty()) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  const std::string held = dir + "/held.db";
  {
    Result<std::unique_ptr<client::LocalStore>> store = OpenBenchDevice(held);
    Status applied = store.ok() ? (*store)->ApplyPulledPages({&people}) : store.status();
    if (!applied.ok()) {
      state.SkipWithError(applied.ToString().c_str());
      return;
    }
  }  // closing checkpoints the WAL into the file: the copy below is the whole device
  int run = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string path = dir + "/device-" + std::to_string(++run) + ".db";
    std::filesystem::copy_file(held, path);
    Result<std::unique_ptr<client::LocalStore>> store = OpenBenchDevice(path);
    if (!store.ok()) {
      state.SkipWithError(store.status().ToString().c_str());
      break;
    }
    state.ResumeTiming();
    for (size_t from = 0; from < pages.size(); from += 8) {
      std::vector<const v1::ChangesPage*> batch;
      for (size_t k = from; k < std::min(pages.size(), from + 8); ++k) batch.push_back(&pages[k]);
      Status applied = (*store)->ApplyPulledPages(batch);
      if (!applied.ok()) state.SkipWithError(applied.ToString().c_str());
    }
    state.PauseTiming();
    store->reset();
    std::filesystem::remove(path);
    state.ResumeTiming();
  }
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kEdits));
}
BENCHMARK(BM_DeviceApplyPulledEdits)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

}  // namespace
}  // namespace outreach

BENCHMARK_MAIN();
