// The fixture shared by the client tests: a Device on a real file in a temp directory,
// with a clock the test sets.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "client/journey/device_internals.h"
#include "common/field_value.h"
#include "outreach/device.h"
#include "tests/unit/client/test_util.h"

namespace outreach::testing {

class DeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/device.db";
    Reopen();
  }

  void Reopen() {
    device_.reset();
    DeviceOptions options;
    options.path = path_;
    options.clock = [this] { return now_ms_; };
    options.user_name = "alex";
    Result<std::unique_ptr<Device>> device = Device::Open(options);
    ASSERT_TRUE(device.ok()) << device.status().ToString();
    device_ = std::move(device).value();
  }

  Uuid IdOf(const v1::Record& r) { return *Uuid::FromBytes(r.id()); }

  // Enrols the device (without a server) for `person` in `role`: who the device acts as
  // from now on, as the state machines' steps see it.
  void ActAs(v1::Role role, const std::string& person) {
    client::DeviceIdentity identity;
    identity.device_id = device_->device_id();
    identity.server = "127.0.0.1:7443";
    identity.ca_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    identity.hub_id = Uuid::Derive("hub", "north");
    identity.role = role;
    identity.user_name = person;
    identity.reference_prefix = "H7QX";
    ASSERT_TRUE(StoreOf(*device_).SaveIdentity(identity).ok());
  }

  v1::Record Register(const std::string& given, const std::string& family, const std::string& registered_on = "") {
    v1::Participant p;
    p.set_given_name(given);
    p.set_family_name(family);
    p.set_date_of_birth("1990-05-01");
    p.set_registered_on(registered_on);
    Result<v1::Record> r = device_->RegisterParticipant(p);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : v1::Record();
  }

  v1::Record Session(uint32_t capacity = 0, const std::string& starts_at = "2026-11-23T14:00") {
    v1::Session s;
    s.set_venue_id(venue_.raw());
    s.set_kind(v1::SESSION_KIND_GROUP);
    s.set_title("Job club");
    s.set_starts_at(starts_at);
    s.set_capacity(capacity);
    Result<v1::Record> r = device_->CreateSession(s);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : v1::Record();
  }

  // Puts record `id` of `type` with `body` in the device's store as the server sends it
  // (programme reference data, pulled).
  void HoldReference(const Uuid& id, v1::RecordType type, const google::protobuf::Message& body) {
    v1::ChangesPage page;
    v1::Change* c = page.add_changes();
    c->set_record_id(id.raw());
    c->set_type(type);
    c->set_op(v1::CHANGE_OP_UPSERT);
    c->set_hlc(StoreOf(*device_).clock().Now().value());
    c->set_server_seq(++pulled_seq_);
    for (v1::FieldValue& fv : AllFields(body)) *c->add_fields() = std::move(fv);
    page.set_next_cursor(pulled_seq_);
    ASSERT_TRUE(StoreOf(*device_).ApplyPulledPage(page).ok());
  }

  // A partner of the device's hub: what a referral or a consent may name.
  void HoldPartner(const Uuid& id, const std::string& name, const std::string& starts_on = "",
                   const std::string& ends_on = "") {
    v1::PartnerOrganisation partner;
    partner.set_name(name);
    partner.set_kind(v1::PARTNER_KIND_REFERRAL_PARTNER);
    partner.add_hub_ids(Uuid::Derive("hub", "north").raw());
    partner.set_starts_on(starts_on);
    partner.set_ends_on(ends_on);
    HoldReference(id, v1::RECORD_TYPE_PARTNER_ORGANISATION, partner);
  }

  TempDir dir_;
  uint64_t pulled_seq_ = 0;
  std::string path_;
  int64_t now_ms_ = MillisOf("2026-11-23", 10, 0);
  Uuid venue_ = Uuid::Derive("venue", "library");
  std::unique_ptr<Device> device_;
};

inline const Status& StatusOf(const Status& s) {
  return s;
}
template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}

// Asserts that `expr` (a Result or Status-returning call) is refused with `code` and
// names `field`, and that the file holds exactly what it held before.
#define EXPECT_REFUSED(expr, expected_code, expected_field)                            \
  do {                                                                                 \
    const std::string before_ = ::outreach::testing::Dump(path_);                      \
    auto result_ = (expr);                                                             \
    ASSERT_FALSE(result_.ok()) << #expr " was accepted";                               \
    EXPECT_EQ(::outreach::testing::StatusOf(result_).code(), (expected_code))          \
        << ::outreach::testing::StatusOf(result_).ToString();                          \
    EXPECT_EQ(::outreach::testing::StatusOf(result_).field(), (expected_field))        \
        << ::outreach::testing::StatusOf(result_).ToString();                          \
    EXPECT_FALSE(::outreach::testing::StatusOf(result_).message().empty());            \
    EXPECT_EQ(::outreach::testing::Dump(path_), before_) << #expr " changed the file"; \
  } while (0)

}  // namespace outreach::testing
