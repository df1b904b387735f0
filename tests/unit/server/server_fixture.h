// A real SQLite store in a fresh temporary directory (or, when built with
// OUTREACH_TEST_ON_POSTGRES, a fresh database on the test PostgreSQL: the same suites run
// against both stores), a SyncService and Administration over it, a hub with two venues,
// and helpers to enrol devices, build valid record bodies and build changes.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/dates.h"
#include "common/field_value.h"
#include "common/hlc.h"
#include "common/record_registry.h"
#include "server/service/administration.h"
#include "server/service/sync_service.h"
#include "server/store/store.h"
#include "tests/support/drama_numbers.h"
#ifdef OUTREACH_TEST_ON_POSTGRES
#include "tests/unit/server/postgres/test_database.h"
#endif

namespace outreach::server::testing {

// ---------------------------------------------------------------- valid bodies
// Bodies as a device captures them: the server runs the device's validation on every
// pushed upsert (common/validation, server/service/reconciler.cc ValidateCapture), so a
// test pushes what a device would, then changes only what it is about. Dates are today's
// in the hub's time zone (the default, Europe/London), instants now.

inline std::string TodayInTheHub() {
  return LocalDateOfMillis(HybridClock::SystemMillis(), kDefaultTimeZone).value();
}
inline std::string NowInstant() {
  return InstantOfMillis(HybridClock::SystemMillis());
}

// A scheduled group session at `venue`, today at 10:00 for 90 minutes.
inline v1::Session SessionAt(const Uuid& venue, const std::string& title = "Job club") {
  v1::Session s;
  s.set_venue_id(venue.raw());
  s.set_kind(v1::SESSION_KIND_GROUP);
  s.set_title(title);
  s.set_starts_at(TodayInTheHub() + "T10:00");
  s.set_duration_min(90);
  s.set_status(v1::SESSION_STATUS_SCHEDULED);
  return s;
}

// A place booked today for `participant` on `session`.
inline v1::Booking BookingOf(const Uuid& session, const Uuid& participant) {
  v1::Booking b;
  b.set_session_id(session.raw());
  b.set_participant_id(participant.raw());
  b.set_status(v1::BOOKING_STATUS_BOOKED);
  b.set_booked_on(TodayInTheHub());
  return b;
}

// An attendance mark made now (a did-not-attend mark with its reason). Its record id is
// Uuid::DeriveRegisterRow("attendance", session, participant).
inline v1::Attendance MarkOf(const Uuid& session, const Uuid& participant, v1::AttendanceStatus status,
                             v1::MarkedBy by) {
  v1::Attendance a;
  a.set_session_id(session.raw());
  a.set_participant_id(participant.raw());
  a.set_status(status);
  if (status == v1::ATTENDANCE_STATUS_DID_NOT_ATTEND) a.set_reason(v1::NON_ATTENDANCE_REASON_CARING);
  a.set_marked_by(by);
  a.set_marked_at(NowInstant());
  return a;
}

// A case note written now about `participant`.
inline v1::CaseNote NoteOn(const Uuid& participant, v1::NoteSensitivity sensitivity, const std::string& text) {
  v1::CaseNote n;
  n.set_participant_id(participant.raw());
  n.set_sensitivity(sensitivity);
  n.set_text(text);
  n.set_written_at(NowInstant());
  return n;
}

// A signpost to a named partner made today (a signpost needs no consent to share).
inline v1::Referral SignpostOf(const Uuid& participant, const std::string& partner = "Citizens Advice") {
  v1::Referral r;
  r.set_participant_id(participant.raw());
  r.set_kind(v1::REFERRAL_KIND_SIGNPOST);
  r.set_partner_name(partner);
  r.set_status(v1::REFERRAL_STATUS_MADE);
  r.set_made_on(TodayInTheHub());
  return r;
}

// An outcome of `kind` reported today (a job start with its employer).
inline v1::Outcome OutcomeOf(const Uuid& participant, v1::OutcomeKind kind, const std::string& employer = "Acme") {
  v1::Outcome o;
  o.set_participant_id(participant.raw());
  o.set_kind(kind);
  o.set_status(v1::OUTCOME_STATUS_REPORTED);
  o.set_achieved_on(TodayInTheHub());
  if (kind == v1::OUTCOME_KIND_JOB_START) o.set_employer(employer);
  return o;
}

// An enquiry received now at `venue`, from someone who gave a phone number.
inline v1::Enquiry EnquiryAt(const Uuid& venue, const std::string& given, const std::string& family) {
  v1::Enquiry e;
  e.set_given_name(given);
  e.set_family_name(family);
  e.set_phone(::outreach::testing::DramaPhoneNumberE164(789));  // as the library stores it
  e.set_venue_id(venue.raw());
  e.set_source(v1::REFERRAL_SOURCE_SELF);
  e.set_received_at(NowInstant());
  e.set_consent_to_contact(true);
  e.set_consent_wording_version("kiosk-enquiry-v1");
  return e;
}

struct TestDevice {
  DeviceContext ctx;
  std::string credential;
  uint64_t next_seq = 1;
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("outreach-server-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "store.db").string();
#ifdef OUTREACH_TEST_ON_POSTGRES
    auto db = ::outreach::testing::TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    location_ = db_->url();
#else
    location_ = path_;
#endif
    Open();
    auto hub = admin_->AddHub("North Hub");
    ASSERT_TRUE(hub.ok()) << hub.status().ToString();
    hub_ = *hub;
    auto centre = admin_->AddVenue(hub_, "Sure Start Centre", v1::VENUE_KIND_CHILDRENS_CENTRE);
    ASSERT_TRUE(centre.ok()) << centre.status().ToString();
    centre_ = *centre;
    auto office = admin_->AddVenue(hub_, "Housing Office", v1::VENUE_KIND_HOUSING_OFFICE);
    ASSERT_TRUE(office.ok()) << office.status().ToString();
    office_ = *office;
  }

  void TearDown() override {
    admin_.reset();
    service_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Open() {
    auto store = OpenStore(location_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    service_ = std::make_unique<SyncService>(std::move(*store), "-----CA PEM-----");
    admin_ = std::make_unique<Administration>(service_->store());
  }

  void Reopen() {
    admin_.reset();
    service_.reset();
    Open();
  }

  TestDevice Enrol(v1::Role role, const std::string& name, const Uuid& venue = Uuid(), const Uuid& hub = Uuid()) {
    TestDevice d;
    auto code = admin_->IssueEnrolmentCode(hub.is_nil() ? hub_ : hub, role, name, venue);
    EXPECT_TRUE(code.ok()) << code.status().ToString();
    if (!code.ok()) return d;
    v1::Enrol request;
    request.set_code(*code);
    request.set_device_name(name + "'s tablet");
    v1::Refusal refusal;
    auto enrolled = service_->Enrol(request, &refusal);
    EXPECT_TRUE(enrolled.ok()) << enrolled.status().ToString();
    if (!enrolled.ok()) return d;
    d.credential = enrolled->credential();
    v1::Hello hello;
    hello.set_protocol_version(1);
    hello.set_device_id(enrolled->device_id());
    hello.set_credential(d.credential);
    hello.set_device_hlc(Hlc::FromParts(HybridClock::SystemMillis(), 0).value());
    v1::Welcome welcome;
    auto ctx = service_->Authenticate(hello, &welcome, &refusal);
    EXPECT_TRUE(ctx.ok()) << ctx.status().ToString();
    if (ctx.ok()) d.ctx = *ctx;
    return d;
  }

  // A fresh stamp, later than every earlier one from this helper.
  Hlc Stamp() {
    return Hlc::FromParts(HybridClock::SystemMillis(), ++logical_);
  }

  // An UPSERT of every set field of `body`, with base versions from `base`.
  v1::Change Upsert(TestDevice& d, const Uuid& id, v1::RecordType type, const google::protobuf::Message& body,
                    const std::map<uint32_t, uint64_t>& base = {}, Hlc hlc = Hlc()) {
    v1::Change c;
    c.set_record_id(id.raw());
    c.set_type(type);
    c.set_hlc((hlc.is_zero() ? Stamp() : hlc).value());
    c.set_device_seq(d.next_seq++);
    c.set_op(v1::CHANGE_OP_UPSERT);
    for (auto& fv : AllFields(body)) {
      auto it = base.find(fv.field());
      if (it != base.end()) fv.set_base_version(it->second);
      *c.add_fields() = std::move(fv);
    }
    return c;
  }

  v1::Change Op(TestDevice& d, const Uuid& id, v1::RecordType type, v1::ChangeOp op) {
    v1::Change c;
    c.set_record_id(id.raw());
    c.set_type(type);
    c.set_hlc(Stamp().value());
    c.set_device_seq(d.next_seq++);
    c.set_op(op);
    return c;
  }

  v1::PushAck Push(TestDevice& d, const std::vector<v1::Change>& changes, uint64_t batch = 1) {
    v1::Push push;
    push.set_batch_id(batch);
    for (const auto& c : changes) *push.add_changes() = c;
    auto ack = service_->Push(d.ctx, push);
    EXPECT_TRUE(ack.ok()) << ack.status().ToString();
    return ack.ok() ? *ack : v1::PushAck();
  }

  v1::ChangeResult PushOne(TestDevice& d, const v1::Change& change) {
    v1::PushAck ack = Push(d, {change});
    EXPECT_EQ(ack.results_size(), 1);
    return ack.results_size() == 1 ? ack.results(0) : v1::ChangeResult();
  }

  // Every change the device may see from `cursor` on, page by page.
  std::vector<v1::Change> PullAll(const TestDevice& d, uint64_t cursor = 0, uint32_t page_size = 7) {
    std::vector<v1::Change> out;
    for (int pages = 0; pages < 10000; ++pages) {
      v1::Pull pull;
      pull.set_cursor(cursor);
      pull.set_page_size(page_size);
      auto page = service_->Pull(d.ctx, pull);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      for (const auto& c : page->changes()) out.push_back(c);
      EXPECT_GE(page->next_cursor(), cursor);
      cursor = page->next_cursor();
      if (!page->more()) break;
    }
    return out;
  }

  std::optional<StoredRecord> Get(const Uuid& id) {
    std::optional<StoredRecord> out;
    Status st = service_->store().Transact([&](StoreTxn& txn) -> Status {
      auto r = txn.GetRecord(id);
      if (!r.ok()) return r.status();
      out = std::move(*r);
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }

  std::vector<v1::Change> Log(const Uuid& hub) {
    std::vector<v1::Change> out;
    Status st = service_->store().Transact([&](StoreTxn& txn) -> Status {
      auto r = txn.ReadLog(hub, 0, 1000000);
      if (!r.ok()) return r.status();
      out = std::move(*r);
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }

  std::vector<StoredRecord> OfType(v1::RecordType type) {
    std::vector<StoredRecord> out;
    Status st = service_->store().Transact([&](StoreTxn& txn) -> Status {
      auto r = txn.ListRecordsByType(hub_, type);
      if (!r.ok()) return r.status();
      out = std::move(*r);
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }

  // Every byte of the store's files (main file, WAL, shared memory index). On
  // PostgreSQL: every value stored in its tables, as raw bytes (what any reader of the
  // database can see; dead row versions awaiting VACUUM are not included).
  std::string FileBytes() {
    std::string all;
#ifdef OUTREACH_TEST_ON_POSTGRES
    for (const char* sql :
         {"SELECT change FROM change_log", "SELECT record FROM records", "SELECT old_value || new_value FROM audit",
          "SELECT credential_hash || convert_to(user_name || device_name, 'UTF8') FROM devices",
          "SELECT code_hash || convert_to(user_name, 'UTF8') FROM enrolment_codes",
          "SELECT convert_to(name, 'UTF8') FROM hubs", "SELECT convert_to(key, 'UTF8') FROM record_keys",
          "SELECT convert_to(reason || field, 'UTF8') FROM ledger"}) {
      auto bytes = db_->RawValues(sql);
      EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
      if (bytes.ok()) all += *bytes;
    }
#else
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::ifstream in(path_ + suffix, std::ios::binary);
      if (!in) continue;
      all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
#endif
    return all;
  }

  static uint32_t FieldNumber(const google::protobuf::Descriptor* d, const char* name) {
    return static_cast<uint32_t>(d->FindFieldByName(name)->number());
  }

  // The version (HLC) the server holds for `field` of record `id`.
  uint64_t VersionOf(const Uuid& id, uint32_t field) {
    auto r = Get(id);
    if (!r) return 0;
    auto it = r->versions.find(field);
    return it == r->versions.end() ? 0 : it->second.hlc.value();
  }

  std::filesystem::path dir_;
  std::string path_;
  std::string location_;  // what OpenStore opens: path_, or the test database's URL
#ifdef OUTREACH_TEST_ON_POSTGRES
  std::unique_ptr<::outreach::testing::TestDatabase> db_;  // dropped after the service closes
#endif
  std::unique_ptr<SyncService> service_;
  std::unique_ptr<Administration> admin_;
  Uuid hub_, centre_, office_;
  uint32_t logical_ = 0;
};

}  // namespace outreach::server::testing
