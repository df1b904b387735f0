#include "bench/scenarios/seed.h"

#include <memory>

#include "bench/scenarios/harness.h"
#include "bench/scenarios/hub_records.h"
#include "common/field_value.h"
#include "common/hlc.h"
#include "server/service/administration.h"
#include "server/service/sync_service.h"
#include "server/store/store.h"

namespace outreach::bench {
namespace {

// Builds a seeding device's changes and pushes them a batch at a time.
class Seeder {
 public:
  Seeder(server::SyncService& service, server::DeviceContext device, std::string prefix)
      : service_(service), device_(std::move(device)), prefix_(std::move(prefix)) {}

  void Add(v1::RecordType type, const Uuid& id, const google::protobuf::Message& body) {
    v1::Change* c = batch_.add_changes();
    c->set_record_id(id.raw());
    c->set_type(type);
    c->set_hlc(clock_.Now().value());
    c->set_device_seq(++device_seq_);
    c->set_op(v1::CHANGE_OP_UPSERT);
    c->set_hub_id(device_.hub_id.raw());
    for (v1::FieldValue& fv : AllFields(body)) *c->add_fields() = std::move(fv);
    if (static_cast<uint32_t>(batch_.changes_size()) >= service_.options().max_push_changes) Flush();
  }

  void Flush() {
    if (batch_.changes_size() == 0) return;
    batch_.set_batch_id(++batch_id_);
    v1::PushAck ack = Must(service_.Push(device_, batch_), "seeding push");
    for (const v1::ChangeResult& r : ack.results()) {
      if (r.outcome() != v1::CHANGE_OUTCOME_APPLIED) {
        Die("seeding change " + std::to_string(r.device_seq()) +
            " was not applied: " + v1::ChangeOutcome_Name(r.outcome()) + " " + r.reason() + " (" + r.field() + ")");
      }
    }
    applied_ += static_cast<uint64_t>(ack.results_size());
    batch_.Clear();
  }

  const std::string& prefix() const { return prefix_; }
  uint64_t applied() const { return applied_; }

 private:
  server::SyncService& service_;
  server::DeviceContext device_;
  std::string prefix_;
  HybridClock clock_;
  v1::Push batch_;
  uint64_t device_seq_ = 0;
  uint64_t batch_id_ = 0;
  uint64_t applied_ = 0;
};

}  // namespace

SeedReport SeedHub(const std::string& store_location, const Uuid& hub_id, const HubShape& shape) {
  const Clock::time_point start = Clock::now();
  std::unique_ptr<server::Store> store = Must(server::OpenStore(store_location), "open store " + store_location);
  server::Administration admin(*store);
  const std::string code = Must(admin.IssueEnrolmentCode(hub_id, v1::ROLE_ADVISER, "Seeding Adviser"), "issue code");
  const Uuid venue = Must(admin.AddVenue(hub_id, "Seeded venue", v1::VENUE_KIND_LIBRARY), "add venue");
  server::SyncService service(std::move(store), "");

  v1::Refusal refusal;
  v1::Enrol enrol;
  enrol.set_code(code);
  enrol.set_device_name("seeding device");
  v1::Enrolled enrolled = Must(service.Enrol(enrol, &refusal), "seeding enrol");
  v1::Hello hello;
  hello.set_protocol_version(v1::PROTOCOL_VERSION_1);
  hello.set_schema_version(1);
  hello.set_device_id(enrolled.device_id());
  hello.set_credential(enrolled.credential());
  hello.set_device_hlc(service.clock().Now().value());
  v1::Welcome welcome;
  server::DeviceContext device = Must(service.Authenticate(hello, &welcome, &refusal), "seeding hello");

  Seeder seeder(service, device, enrolled.reference_prefix());
  ForEachHubRecord(
      shape, seeder.prefix(), venue,
      [&](v1::RecordType type, const Uuid& id, const google::protobuf::Message& body) { seeder.Add(type, id, body); });
  seeder.Flush();
  return {seeder.applied(), SecondsSince(start)};
}

}  // namespace outreach::bench
