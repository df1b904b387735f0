// Google Benchmark micro-benchmarks for the hot paths of a sync: the frame codec, the
// field-level value encoding, the hybrid logical clock, and the server's push path
// (dedupe, access check, reconciliation, log append) on a real SQLite store file.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/field_value.h"
#include "common/frame.h"
#include "common/hlc.h"
#include "common/uuid.h"
#include "server/service/administration.h"
#include "server/service/sync_service.h"
#include "server/store/store.h"

namespace outreach {
namespace {

v1::Participant Person(int64_t i) {
  v1::Participant p;
  p.set_reference("AB12-" + std::to_string(i));
  p.set_given_name("Amina");
  p.set_family_name("Khan " + std::to_string(i));
  p.set_date_of_birth("1990-04-01");
  p.set_postcode("NG1 1AA");
  p.set_phone("07700900001");
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
  other.set_phone("07700900999");
  const auto* phone = v1::Participant::descriptor()->FindFieldByName("phone");
  const std::string value = EncodeField(other, phone);
  for (auto _ : state) benchmark::DoNotOptimize(ApplyField(&p, static_cast<uint32_t>(phone->number()), value));
}
BENCHMARK(BM_ApplyField);

void BM_DiffFields(benchmark::State& state) {
  const v1::Participant before = Person(1);
  v1::Participant after = before;
  after.set_phone("07700900999");
  for (auto _ : state) benchmark::DoNotOptimize(DiffFields(before, after));
}
BENCHMARK(BM_DiffFields);

void BM_AllFields(benchmark::State& state) {
  const v1::Participant p = Person(1);
  for (auto _ : state) benchmark::DoNotOptimize(AllFields(p));
}
BENCHMARK(BM_AllFields);

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

// The server's push path on a real store file: a batch of `n` new participants from one
// adviser's device per iteration (one store transaction, one fsync).
void BM_ServicePush(benchmark::State& state) {
  const char* base = std::getenv("TMPDIR");
  std::string dir = std::string(base != nullptr ? base : "/tmp") + "/outreach-micro-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  {
    Result<std::unique_ptr<server::Store>> store = server::OpenStore(dir + "/store.db");
    if (!store.ok()) {
      state.SkipWithError(store.status().ToString().c_str());
      return;
    }
    server::Administration admin(**store);
    const Uuid hub = *admin.AddHub("Micro hub");
    const std::string code = *admin.IssueEnrolmentCode(hub, v1::ROLE_ADVISER, "Alex Adviser");
    server::SyncService service(std::move(*store), "");
    v1::Refusal refusal;
    v1::Enrol enrol;
    enrol.set_code(code);
    const v1::Enrolled enrolled = *service.Enrol(enrol, &refusal);
    v1::Hello hello;
    hello.set_protocol_version(v1::PROTOCOL_VERSION_1);
    hello.set_schema_version(1);
    hello.set_device_id(enrolled.device_id());
    hello.set_credential(enrolled.credential());
    hello.set_device_hlc(service.clock().Now().value());
    v1::Welcome welcome;
    const server::DeviceContext device = *service.Authenticate(hello, &welcome, &refusal);

    HybridClock clock;
    uint64_t seq = 0;
    int64_t person = 0;
    for (auto _ : state) {
      state.PauseTiming();
      v1::Push push;
      push.set_batch_id(seq + 1);
      for (int64_t i = 0; i < state.range(0); ++i) {
        v1::Change* c = push.add_changes();
        c->set_record_id(Uuid::NewV7().raw());
        c->set_type(v1::RECORD_TYPE_PARTICIPANT);
        c->set_hlc(clock.Now().value());
        c->set_device_seq(++seq);
        c->set_op(v1::CHANGE_OP_UPSERT);
        for (v1::FieldValue& fv : AllFields(Person(++person))) *c->add_fields() = std::move(fv);
      }
      state.ResumeTiming();
      Result<v1::PushAck> ack = service.Push(device, push);
      if (!ack.ok()) state.SkipWithError(ack.status().ToString().c_str());
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ServicePush)->Arg(1)->Arg(500)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace outreach

BENCHMARK_MAIN();
