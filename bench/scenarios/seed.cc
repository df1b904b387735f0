#include "bench/scenarios/seed.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "bench/scenarios/harness.h"
#include "common/field_value.h"
#include "common/hlc.h"
#include "server/service/administration.h"
#include "server/service/sync_service.h"
#include "server/store/store.h"

namespace outreach::bench {
namespace {

constexpr uint64_t kPeoplePerSession = 25;

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

v1::Participant Person(const std::string& prefix, uint64_t i) {
  v1::Participant p;
  p.set_reference(prefix + "-" + std::to_string(i + 1));
  p.set_given_name("Seeded");
  p.set_family_name("Person " + std::to_string(i));
  p.set_date_of_birth("19" + std::to_string(50 + i % 50) + "-0" + std::to_string(1 + i % 9) + "-1" +
                      std::to_string(i % 10));
  p.set_postcode("NG1 " + std::to_string(i % 10) + "AA");
  p.set_phone("07700" + std::to_string(900000 + i % 100000));
  p.set_status(v1::PARTICIPANT_STATUS_ACTIVE);
  p.set_registered_on("2026-11-01");
  p.set_adviser("Seeding Adviser");
  return p;
}

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
  std::vector<Uuid> people;
  people.reserve(shape.participants);
  for (uint64_t i = 0; i < shape.participants; ++i) {
    people.push_back(Uuid::NewV7());
    seeder.Add(v1::RECORD_TYPE_PARTICIPANT, people.back(), Person(seeder.prefix(), i));
  }
  // Every third record is an assessment, the others attendance marks; sessions of 25.
  uint64_t made = 0;
  uint64_t session_number = 0;
  while (made < shape.records && !people.empty()) {
    const Uuid session = Uuid::NewV7();
    v1::Session s;
    s.set_venue_id(venue.raw());
    s.set_kind(v1::SESSION_KIND_GROUP);
    s.set_title("Job club " + std::to_string(session_number));
    s.set_starts_at("2026-11-" + std::to_string(10 + session_number % 18) + "T10:00");
    s.set_duration_min(90);
    s.set_facilitator("Seeding Adviser");
    s.set_status(v1::SESSION_STATUS_SCHEDULED);
    seeder.Add(v1::RECORD_TYPE_SESSION, session, s);
    // At most one mark per person per session (a mark's id is derived from the pair).
    const uint64_t size = std::min<uint64_t>(kPeoplePerSession, people.size());
    for (uint64_t k = 0; k < size && made < shape.records; ++k, ++made) {
      const Uuid& person = people[(session_number * size + k) % people.size()];
      if (made % 3 == 2) {
        v1::Assessment a;
        a.set_participant_id(person.raw());
        a.set_instrument_id("my-journey");
        a.set_instrument_version(1);
        a.set_completed_on("2026-11-" + std::to_string(10 + session_number % 18));
        a.set_assessor("Seeding Adviser");
        for (const char* domain : {"confidence", "skills", "wellbeing", "housing", "money"}) {
          v1::DomainScore* d = a.add_scores();
          d->set_domain(domain);
          d->set_score(static_cast<int32_t>(1 + (made + session_number) % 10));
        }
        seeder.Add(v1::RECORD_TYPE_ASSESSMENT, Uuid::NewV7(), a);
      } else {
        v1::Attendance a;
        a.set_session_id(session.raw());
        a.set_participant_id(person.raw());
        a.set_status(made % 7 == 0 ? v1::ATTENDANCE_STATUS_LATE : v1::ATTENDANCE_STATUS_ATTENDED);
        a.set_marked_by(v1::MARKED_BY_ADVISER);
        a.set_marked_at(s.starts_at());
        seeder.Add(v1::RECORD_TYPE_ATTENDANCE, Uuid::DeriveRegisterRow("attendance", session.raw(), person.raw()), a);
      }
    }
    ++session_number;
  }
  seeder.Flush();
  return {seeder.applied(), SecondsSince(start)};
}

}  // namespace outreach::bench
