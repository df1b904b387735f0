// The stable C API through the real shared library (liboutreach.so) on real SQLite files.
//
// This test sees only outreach.h, as an app does. Protobuf records are built and read
// with DynamicMessage from the descriptors liboutreach registers, so no second copy of the
// generated code is linked in.
#include "outreach/outreach.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/process.h"

namespace {

namespace pb = google::protobuf;
using Json = nlohmann::json;
using outreach::testing::TempDir;

using BodyFn = outreach_status (*)(outreach_device*, outreach_format, const char*, size_t, char**, size_t*,
                                   outreach_error**);

// What one call returned: its status, its output buffer and its error.
struct Reply {
  outreach_status status = OUTREACH_INTERNAL;
  std::string out;
  std::string field;
  std::string message;

  Json json() const { return Json::parse(out); }
};

template <typename Fn>
Reply Call(Fn fn) {
  char* out = nullptr;
  size_t size = 0;
  outreach_error* error = nullptr;
  Reply reply;
  reply.status = fn(&out, &size, &error);
  if (out != nullptr) reply.out.assign(out, size);
  if (error != nullptr) {
    EXPECT_EQ(error->code, reply.status);
    reply.field = error->field;
    reply.message = error->message;
  }
  if (reply.status == OUTREACH_OK) {
    EXPECT_EQ(error, nullptr);
  } else {
    EXPECT_EQ(out, nullptr) << "no output on failure";
  }
  outreach_free(out);
  outreach_error_free(error);
  return reply;
}

#define EXPECT_REFUSED(reply, code, field_name)                                                              \
  do {                                                                                                       \
    const Reply& r_ = (reply);                                                                               \
    EXPECT_EQ(r_.status, code) << outreach_status_name(r_.status) << ": " << r_.field << ": " << r_.message; \
    EXPECT_EQ(r_.field, field_name) << r_.message;                                                           \
    EXPECT_FALSE(r_.message.empty());                                                                        \
  } while (0)

class CApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(outreach_device_open((dir_ / "device.db").c_str(), "alex", &device_, nullptr), OUTREACH_OK);
    char* today = nullptr;
    ASSERT_EQ(outreach_device_today(device_, &today, nullptr), OUTREACH_OK);
    today_ = today;
    outreach_free(today);
  }
  void TearDown() override { outreach_device_close(device_); }

  Reply Body(BodyFn fn, const Json& body) {
    const std::string text = body.dump();
    return Call([&](char** o, size_t* s, outreach_error** e) {
      return fn(device_, OUTREACH_FORMAT_JSON, text.data(), text.size(), o, s, e);
    });
  }
  // A call that must succeed; its JSON output.
  Json Ok(const Reply& reply) {
    EXPECT_EQ(reply.status, OUTREACH_OK) << reply.field << ": " << reply.message;
    return reply.status == OUTREACH_OK ? reply.json() : Json();
  }
  Json Register(const std::string& given, const std::string& family) {
    return Ok(Body(outreach_participant_register,
                   {{"given_name", given}, {"family_name", family}, {"date_of_birth", "1990-02-03"}}));
  }
  Json Export() {
    return Ok(Call([&](char** o, size_t* s, outreach_error** e) {
      return outreach_export(device_, OUTREACH_FORMAT_JSON, o, s, e);
    }));
  }
  Json Get(const std::string& id) {
    return Ok(Call([&](char** o, size_t* s, outreach_error** e) {
      return outreach_record_get(device_, OUTREACH_FORMAT_JSON, id.c_str(), o, s, e);
    }));
  }

  TempDir dir_;
  outreach_device* device_ = nullptr;
  std::string today_;
  const std::string venue_ = "0190f0c4-7b1e-7cc3-9a2e-1f0e3c5d6b7a";
};

TEST(CApiBasics, StatusNamesVersionAndNullArguments) {
  EXPECT_STREQ(outreach_status_name(OUTREACH_RESOURCE_EXHAUSTED), "resource_exhausted");
  EXPECT_STREQ(outreach_status_name(OUTREACH_OK), "ok");
  EXPECT_STRNE(outreach_version(), "");
  outreach_free(nullptr);
  outreach_error_free(nullptr);
  outreach_device_close(nullptr);

  EXPECT_REFUSED(Call([](char** o, size_t* s, outreach_error** e) {
                   return outreach_record_get(nullptr, OUTREACH_FORMAT_JSON, "x", o, s, e);
                 }),
                 OUTREACH_INVALID_ARGUMENT, "device");
  outreach_device* device = nullptr;
  outreach_error* error = nullptr;
  EXPECT_EQ(outreach_device_open(nullptr, nullptr, &device, &error), OUTREACH_INVALID_ARGUMENT);
  ASSERT_NE(error, nullptr);
  EXPECT_STREQ(error->field, "path");
  EXPECT_EQ(device, nullptr);
  outreach_error_free(error);
  // The error out-parameter is optional.
  EXPECT_EQ(outreach_device_open("", nullptr, &device, nullptr), OUTREACH_INVALID_ARGUMENT);
}

TEST_F(CApiTest, RegisterInJsonReturnsTheRecordWithStringIds) {
  Json p = Register("Sam", "Jones");
  ASSERT_TRUE(p["id"].is_string());
  EXPECT_EQ(p["id"].get<std::string>().size(), 36u);
  EXPECT_EQ(p["type"], "participant");
  EXPECT_EQ(p["given_name"], "Sam");
  EXPECT_EQ(p["status"], "active");
  EXPECT_EQ(p["adviser"], "alex");
  EXPECT_FALSE(p["reference"].get<std::string>().empty());
  EXPECT_EQ(Get(p["id"])["reference"], p["reference"]);

  Json found = Ok(Call([&](char** o, size_t* s, outreach_error** e) {
    return outreach_participants_find(device_, OUTREACH_FORMAT_JSON, "sam", o, s, e);
  }));
  ASSERT_EQ(found["records"].size(), 1u);
  EXPECT_EQ(found["records"][0]["id"], p["id"]);
  Json by_reference = Ok(Call([&](char** o, size_t* s, outreach_error** e) {
    return outreach_participant_by_reference(device_, OUTREACH_FORMAT_JSON, p["reference"].get<std::string>().c_str(),
                                             o, s, e);
  }));
  EXPECT_EQ(by_reference["id"], p["id"]);
}

TEST_F(CApiTest, RegisterInProtobufReturnsASerialisedRecord) {
  const pb::Descriptor* participant_type =
      pb::DescriptorPool::generated_pool()->FindMessageTypeByName("outreach.v1.Participant");
  const pb::Descriptor* record_type = pb::DescriptorPool::generated_pool()->FindMessageTypeByName("outreach.v1.Record");
  ASSERT_NE(participant_type, nullptr);
  ASSERT_NE(record_type, nullptr);
  pb::DynamicMessageFactory factory;
  std::unique_ptr<pb::Message> body(factory.GetPrototype(participant_type)->New());
  ASSERT_TRUE(pb::TextFormat::ParseFromString(
      "given_name: 'Robin' family_name: 'Shaw' date_of_birth: '1985-06-07' ni_number: 'ab 12 34 56 c'", body.get()));
  const std::string bytes = body->SerializeAsString();

  Reply reply = Call([&](char** o, size_t* s, outreach_error** e) {
    return outreach_participant_register(device_, OUTREACH_FORMAT_PROTOBUF, bytes.data(), bytes.size(), o, s, e);
  });
  ASSERT_EQ(reply.status, OUTREACH_OK) << reply.message;
  std::unique_ptr<pb::Message> record(factory.GetPrototype(record_type)->New());
  ASSERT_TRUE(record->ParseFromString(reply.out));
  const pb::Reflection* r = record->GetReflection();
  EXPECT_EQ(r->GetString(*record, record_type->FindFieldByName("id")).size(), 16u);
  const pb::Message& stored = r->GetMessage(*record, record_type->FindFieldByName("participant"));
  EXPECT_EQ(stored.GetReflection()->GetString(stored, participant_type->FindFieldByName("given_name")), "Robin");
  EXPECT_EQ(stored.GetReflection()->GetString(stored, participant_type->FindFieldByName("ni_number")), "AB123456C");

  // The same record read back in JSON.
  Json list = Ok(Call([&](char** o, size_t* s, outreach_error** e) {
    return outreach_participants_list(device_, OUTREACH_FORMAT_JSON, o, s, e);
  }));
  ASSERT_EQ(list["records"].size(), 1u);
  EXPECT_EQ(list["records"][0]["ni_number"], "AB123456C");
}

TEST_F(CApiTest, BadInputNamesTheFieldAndChangesNothing) {
  Json sam = Register("Sam", "Jones");
  const Json before = Export();

  EXPECT_REFUSED(Body(outreach_participant_register,
                      {{"given_name", "Ann"}, {"family_name", "Lee"}, {"date_of_birth", "2990-01-01"}}),
                 OUTREACH_INVALID_ARGUMENT, "date_of_birth");
  EXPECT_REFUSED(Body(outreach_participant_register, {{"given_name", "Ann"}, {"date_of_birth", "1990-01-01"}}),
                 OUTREACH_INVALID_ARGUMENT, "family_name");
  EXPECT_REFUSED(Body(outreach_participant_register, {{"given_name", "Ann"}, {"nickname", "A"}}),
                 OUTREACH_INVALID_ARGUMENT, "nickname");
  EXPECT_REFUSED(Body(outreach_participant_register, {{"given_name", "Ann"}, {"date_of_birth", 19900101}}),
                 OUTREACH_INVALID_ARGUMENT, "date_of_birth");
  EXPECT_REFUSED(Body(outreach_participant_register, {{"given_name", "Ann"}, {"venue_id", "the library"}}),
                 OUTREACH_INVALID_ARGUMENT, "venue_id");
  EXPECT_REFUSED(Body(outreach_participant_register, {{"given_name", "Ann"}, {"gender", "sometimes"}}),
                 OUTREACH_INVALID_ARGUMENT, "gender");
  EXPECT_REFUSED(Call([&](char** o, size_t* s, outreach_error** e) {
                   return outreach_participant_register(device_, OUTREACH_FORMAT_JSON, "{\"given_name\":", 14, o, s, e);
                 }),
                 OUTREACH_INVALID_ARGUMENT, "json");
  EXPECT_REFUSED(Call([&](char** o, size_t* s, outreach_error** e) {
                   return outreach_participant_register(device_, OUTREACH_FORMAT_PROTOBUF, "\xff\xff\xff", 3, o, s, e);
                 }),
                 OUTREACH_INVALID_ARGUMENT, "body");
  EXPECT_REFUSED(Call([&](char** o, size_t* s, outreach_error** e) {
                   return outreach_participant_register(device_, static_cast<outreach_format>(7), "{}", 2, o, s, e);
                 }),
                 OUTREACH_INVALID_ARGUMENT, "format");
  // An update with one bad value changes none of the others.
  Json changed = sam;  // the record's own JSON, sent back as the new state
  changed["phone"] = "0113 496 0123";
  changed["email"] = "not an address";
  const std::string id = sam["id"];
  const std::string text = changed.dump();
  EXPECT_REFUSED(Call([&](char** o, size_t* s, outreach_error** e) {
                   return outreach_participant_update(device_, OUTREACH_FORMAT_JSON, id.c_str(), text.data(),
                                                      text.size(), o, s, e);
                 }),
                 OUTREACH_INVALID_ARGUMENT, "email");
  EXPECT_REFUSED(Call([&](char** o, size_t* s, outreach_error** e) {
                   return outreach_record_get(device_, OUTREACH_FORMAT_JSON, "0190f0c4-7b1e-7cc3-9a2e-000000000000", o,
                                              s, e);
                 }),
                 OUTREACH_NOT_FOUND, "id");

  EXPECT_EQ(Export(), before);
}

// A record too large to travel in one frame would sit at the head of the outbox and hold
// back the rest of the day's work, so capture refuses it, naming the field.
TEST_F(CApiTest, OversizedValuesAreRefusedAtCapture) {
  Json sam = Register("Sam", "Jones");
  const Json before = Export();

  EXPECT_REFUSED(
      Body(outreach_participant_register,
           {{"given_name", std::string(70 * 1024, 'a')}, {"family_name", "Lee"}, {"date_of_birth", "1990-01-01"}}),
      OUTREACH_INVALID_ARGUMENT, "given_name");

  // Each value within a field's bound, together over a record's: the largest is named.
  Json changed = sam;
  changed["postcode"] = std::string(60 * 1024, 'p');
  changed["language"] = std::string(60 * 1024, 'l');
  changed["referring_organisation"] = std::string(63 * 1024, 'r');
  changed["programme_strand"] = std::string(60 * 1024, 's');
  changed["family_name"] = std::string(60 * 1024, 'f');
  const std::string id = sam["id"];
  const std::string text = changed.dump();
  Reply refused = Call([&](char** o, size_t* s, outreach_error** e) {
    return outreach_participant_update(device_, OUTREACH_FORMAT_JSON, id.c_str(), text.data(), text.size(), o, s, e);
  });
  EXPECT_REFUSED(refused, OUTREACH_INVALID_ARGUMENT, "referring_organisation");
  EXPECT_NE(refused.message.find("262144"), std::string::npos) << refused.message;
  EXPECT_EQ(Export(), before);

  // At the bounds themselves the edit is taken.
  changed = sam;
  changed["referring_organisation"] = std::string(64 * 1024, 'r');
  const std::string within = changed.dump();
  Json updated = Ok(Call([&](char** o, size_t* s, outreach_error** e) {
    return outreach_participant_update(device_, OUTREACH_FORMAT_JSON, id.c_str(), within.data(), within.size(), o, s,
                                       e);
  }));
  EXPECT_EQ(updated["referring_organisation"].get<std::string>().size(), 64u * 1024);
}

TEST_F(CApiTest, AnEnquiryNeedsConsentAndBecomesARegistration) {
  const Json ann = {{"given_name", "Ann"},
                    {"family_name", "Lee"},
                    {"phone", "0113 496 0789"},
                    {"interest", "help with a CV"},
                    {"venue_id", venue_}};
  const Json before = Export();
  EXPECT_REFUSED(Body(outreach_enquiry_record, ann), OUTREACH_INVALID_ARGUMENT, "consent_to_contact");
  Json no_contact = ann;
  no_contact.erase("phone");
  no_contact["consent_to_contact"] = true;
  EXPECT_REFUSED(Body(outreach_enquiry_record, no_contact), OUTREACH_INVALID_ARGUMENT, "phone");
  EXPECT_EQ(Export(), before) << "refusals stored nothing";

  Json consenting = ann;
  consenting["consent_to_contact"] = true;
  consenting["consent_wording_version"] = "kiosk-2026-1";
  Json enquiry = Ok(Body(outreach_enquiry_record, consenting));
  EXPECT_EQ(enquiry["type"], "enquiry");
  EXPECT_EQ(enquiry["source"], "self");
  EXPECT_EQ(enquiry["received_at"].get<std::string>().substr(0, 10), today_);
  EXPECT_EQ(enquiry["consent_wording_version"], "kiosk-2026-1");

  auto list = [&] {
    return Ok(Call([&](char** o, size_t* s, outreach_error** e) {
      return outreach_enquiries_list(device_, OUTREACH_FORMAT_JSON, o, s, e);
    }));
  };
  Json open = list();
  ASSERT_EQ(open["enquiries"].size(), 1u) << open.dump();
  EXPECT_EQ(open["enquiries"][0]["enquiry"]["id"], enquiry["id"]);
  EXPECT_FALSE(open["enquiries"][0].contains("participant"));
  EXPECT_FALSE(open["enquiries"][0].contains("days_to_registration"));

  const std::string enquiry_id = enquiry["id"];
  auto register_from = [&](const std::string& id, const Json& body) {
    const std::string text = body.dump();
    return Call([&](char** o, size_t* s, outreach_error** e) {
      return outreach_participant_register_from_enquiry(device_, OUTREACH_FORMAT_JSON, id.c_str(), text.data(),
                                                        text.size(), o, s, e);
    });
  };
  EXPECT_REFUSED(register_from("not-an-id", {{"date_of_birth", "1990-02-03"}}), OUTREACH_INVALID_ARGUMENT,
                 "enquiry_id");
  EXPECT_REFUSED(register_from(enquiry_id, Json::object()), OUTREACH_INVALID_ARGUMENT, "date_of_birth");
  Json person = Ok(register_from(enquiry_id, {{"date_of_birth", "1990-02-03"}}));
  EXPECT_EQ(person["type"], "participant");
  EXPECT_EQ(person["given_name"], "Ann");
  EXPECT_EQ(person["phone"], enquiry["phone"]);
  EXPECT_EQ(person["venue_id"], venue_);
  EXPECT_EQ(Get(enquiry_id)["participant_id"], person["id"]);
  EXPECT_REFUSED(register_from(enquiry_id, {{"date_of_birth", "1990-02-03"}}), OUTREACH_FAILED_PRECONDITION,
                 "enquiry_id");

  Json converted = list();
  ASSERT_EQ(converted["enquiries"].size(), 1u);
  EXPECT_EQ(converted["enquiries"][0]["participant"]["id"], person["id"]);
  EXPECT_EQ(converted["enquiries"][0]["days_to_registration"], 0);
}

TEST_F(CApiTest, InstrumentsListTheirDomainsAndScale) {
  Json list = Ok(Call([&](char** o, size_t* s, outreach_error** e) {
    return outreach_instruments_list(device_, OUTREACH_FORMAT_JSON, o, s, e);
  }));
  ASSERT_EQ(list["records"].size(), 1u) << list.dump();
  const Json& journey = list["records"][0];
  EXPECT_EQ(journey["instrument_id"], "my-journey");
  EXPECT_EQ(journey["version"], 1);
  ASSERT_EQ(journey["domains"].size(), 6u);
  EXPECT_EQ(journey["domains"][0]["key"], "communication");
  EXPECT_EQ(journey["domains"][0]["min_score"], 1);
  EXPECT_EQ(journey["domains"][0]["max_score"], 6);
}

TEST_F(CApiTest, UpdateParticipantWithItsOwnJson) {
  Json sam = Register("Sam", "Jones");
  Json changed = sam;
  changed["phone"] = "01134960123";
  changed["deferred_sections"] = {"benefits", "housing"};
  const std::string text = changed.dump();
  Json updated = Ok(Call([&](char** o, size_t* s, outreach_error** e) {
    return outreach_participant_update(device_, OUTREACH_FORMAT_JSON, sam["id"].get<std::string>().c_str(), text.data(),
                                       text.size(), o, s, e);
  }));
  EXPECT_EQ(updated["phone"], "0113 496 0123");  // stored +441134960123, shown nationally
  EXPECT_EQ(updated["deferred_sections"], Json({"benefits", "housing"}));
  EXPECT_EQ(Get(sam["id"])["phone"], "0113 496 0123");
  // The record's JSON sent back unchanged changes nothing: the shown form reads back as the stored one.
  const std::string again = updated.dump();
  Ok(Call([&](char** o, size_t* s, outreach_error** e) {
    return outreach_participant_update(device_, OUTREACH_FORMAT_JSON, sam["id"].get<std::string>().c_str(),
                                       again.data(), again.size(), o, s, e);
  }));
  EXPECT_EQ(Get(sam["id"])["phone"], "0113 496 0123");
}

TEST_F(CApiTest, KioskDaySessionsBookingCapacityAndSignIn) {
  Json sam = Register("Sam", "Jones");
  Json ann = Register("Ann", "Lee");
  Json session = Ok(Body(outreach_session_create, {{"venue_id", venue_},
                                                   {"kind", "group"},
                                                   {"title", "Job club"},
                                                   {"starts_at", today_ + "T10:00"},
                                                   {"capacity", 1}}));
  EXPECT_EQ(session["kind"], "group");
  Ok(Body(outreach_session_book, {{"session_id", session["id"]}, {"participant_id", sam["id"]}}));
  EXPECT_REFUSED(Body(outreach_session_book, {{"session_id", session["id"]}, {"participant_id", ann["id"]}}),
                 OUTREACH_RESOURCE_EXHAUSTED, "capacity");
  EXPECT_REFUSED(Body(outreach_attendance_mark,
                      {{"session_id", session["id"]}, {"participant_id", ann["id"]}, {"status", "did_not_attend"}}),
                 OUTREACH_INVALID_ARGUMENT, "reason");

  Json attendance = Ok(Call([&](char** o, size_t* s, outreach_error** e) {
    return outreach_kiosk_sign_in(device_, OUTREACH_FORMAT_JSON, session["id"].get<std::string>().c_str(),
                                  sam["reference"].get<std::string>().c_str(), o, s, e);
  }));
  EXPECT_EQ(attendance["type"], "attendance");
  EXPECT_EQ(attendance["status"], "attended");
  EXPECT_EQ(attendance["marked_by"], "kiosk");
  EXPECT_EQ(attendance["participant_id"], sam["id"]);

  EXPECT_REFUSED(Call([&](char** o, size_t* s, outreach_error** e) {
                   return outreach_kiosk_sign_in(device_, OUTREACH_FORMAT_JSON,
                                                 session["id"].get<std::string>().c_str(), "", o, s, e);
                 }),
                 OUTREACH_INVALID_ARGUMENT, "reference");

  Json today = Ok(Call([&](char** o, size_t* s, outreach_error** e) {
    return outreach_sessions_at_venue(device_, OUTREACH_FORMAT_JSON, venue_.c_str(), nullptr, o, s, e);
  }));
  ASSERT_EQ(today["sessions"].size(), 1u);
  EXPECT_EQ(today["sessions"][0]["session"]["title"], "Job club");
  ASSERT_EQ(today["sessions"][0]["lines"].size(), 1u);
  EXPECT_EQ(today["sessions"][0]["lines"][0]["attendance"]["status"], "attended");
}

TEST_F(CApiTest, TheWholeJourney) {
  Json p = Register("Sam", "Jones");
  const Json pid = p["id"];
  auto move = [&](auto fn, const Json& id, const char* to, const char* detail) {
    return Call([&](char** o, size_t* s, outreach_error** e) {
      return fn(device_, OUTREACH_FORMAT_JSON, id.get<std::string>().c_str(), to, detail, o, s, e);
    });
  };

  Json consent =
      Ok(Body(outreach_consent_record,
              {{"participant_id", pid}, {"purpose", "hold_data"}, {"wording_version", "v3"}, {"method", "signed"}}));
  Json withdrawn = Ok(Call([&](char** o, size_t* s, outreach_error** e) {
    return outreach_consent_withdraw(device_, OUTREACH_FORMAT_JSON, consent["id"].get<std::string>().c_str(), nullptr,
                                     o, s, e);
  }));
  EXPECT_EQ(withdrawn["withdrawn_on"], today_);
  // Given again: a validation file is submitted only while the consent to hold data is active.
  Ok(Body(outreach_consent_record,
          {{"participant_id", pid}, {"purpose", "hold_data"}, {"wording_version", "v4"}, {"method", "signed"}}));

  Json evidence = Ok(Body(outreach_evidence_add, {{"participant_id", pid}, {"kind", "passport"}}));
  Json validation =
      Ok(Body(outreach_validation_open,
              {{"participant_id", pid}, {"evidence_ids", Json::array({evidence["id"]})}, {"rules_version", "2024-1"}}));
  EXPECT_EQ(validation["status"], "draft");
  EXPECT_EQ(validation["evidence_ids"][0], evidence["id"]);
  auto move_validation = [&](const char* to, const char* reasons) {
    return Call([&](char** o, size_t* s, outreach_error** e) {
      return outreach_validation_move(device_, OUTREACH_FORMAT_JSON, validation["id"].get<std::string>().c_str(), to,
                                      reasons, nullptr, o, s, e);
    });
  };
  Json submitted = Ok(move_validation("submitted", nullptr));
  EXPECT_EQ(submitted["status"], "submitted");
  EXPECT_EQ(submitted["submitted_by"], "alex");
  EXPECT_EQ(submitted["moves"].size(), 2u);
  EXPECT_REFUSED(move_validation("precheck_returned", "no_proof_of_ni, bogus"), OUTREACH_INVALID_ARGUMENT, "reasons");
  EXPECT_REFUSED(move_validation("nowhere", nullptr), OUTREACH_INVALID_ARGUMENT, "to");
  // This device (not enrolled: an adviser) may not pre-check; cli_sync_test's coordinator does.
  EXPECT_REFUSED(move_validation("precheck_returned", "no_proof_of_ni, annex_form"), OUTREACH_PERMISSION_DENIED,
                 "status");
  Json warnings = Ok(Call([&](char** o, size_t* s, outreach_error** e) {
    return outreach_check_before_submission(device_, OUTREACH_FORMAT_JSON, pid.get<std::string>().c_str(), o, s, e);
  }));
  EXPECT_TRUE(warnings.is_object());

  Ok(Body(outreach_barrier_record, {{"participant_id", pid}, {"kind", "transport"}}));
  Ok(Body(outreach_segment_set, {{"participant_id", pid}, {"readiness", "red"}}));
  Ok(Body(outreach_segment_set, {{"participant_id", pid}, {"readiness", "amber"}}));
  Json segments = Ok(Call([&](char** o, size_t* s, outreach_error** e) {
    return outreach_participant_records(device_, OUTREACH_FORMAT_JSON, pid.get<std::string>().c_str(), "segment", o, s,
                                        e);
  }));
  ASSERT_EQ(segments["records"].size(), 2u);
  EXPECT_EQ(segments["records"][1]["readiness"], "amber");

  auto scores = [](int v) {
    Json list = Json::array();
    for (const char* d : {"communication", "confidence", "managing_feelings", "reliability",
                          "setting_and_achieving_goals", "working_with_others"}) {
      list.push_back({{"domain", d}, {"score", v}});
    }
    return list;
  };
  Json assessment = {{"participant_id", pid}, {"instrument_id", "my-journey"}, {"instrument_version", 1}};
  assessment["scores"] = scores(2);
  Ok(Body(outreach_assessment_record, assessment));
  assessment["scores"] = scores(9);
  EXPECT_REFUSED(Body(outreach_assessment_record, assessment), OUTREACH_INVALID_ARGUMENT, "scores");
  assessment["scores"] = scores(4);
  Ok(Body(outreach_assessment_record, assessment));
  Json distance = Ok(Call([&](char** o, size_t* s, outreach_error** e) {
    return outreach_distance_travelled(device_, OUTREACH_FORMAT_JSON, pid.get<std::string>().c_str(), "my-journey", o,
                                       s, e);
  }));
  EXPECT_EQ(distance["total_change"], 12);

  Json plan = Ok(Body(outreach_action_plan_create, {{"participant_id", pid}}));
  Ok(Body(outreach_action_step_add,
          {{"plan_id", plan["id"]}, {"participant_id", pid}, {"description", "CV"}, {"due_on", today_}}));

  Ok(Body(outreach_contact_log, {{"participant_id", pid}, {"method", "phone"}, {"result", "no_answer"}}));

  Json referral = Ok(
      Body(outreach_referral_make, {{"participant_id", pid}, {"kind", "signpost"}, {"partner_name", "Debt advice"}}));
  EXPECT_EQ(referral["status"], "made");
  EXPECT_EQ(Ok(move(outreach_referral_move, referral["id"], "accepted", nullptr))["status"], "accepted");
  EXPECT_REFUSED(move(outreach_referral_move, referral["id"], "made", nullptr), OUTREACH_FAILED_PRECONDITION, "status");

  Json spend =
      Ok(Body(outreach_spend_request, {{"participant_id", pid}, {"category", "travel"}, {"amount_pence", 1250}}));
  EXPECT_EQ(spend["amount_pence"], 1250);
  // Who decided is the device's own person: another name is refused, naming the field.
  EXPECT_REFUSED(Call([&](char** o, size_t* s, outreach_error** e) {
                   return outreach_spend_decide(device_, OUTREACH_FORMAT_JSON, spend["id"].get<std::string>().c_str(),
                                                "approved", "hub manager", nullptr, o, s, e);
                 }),
                 OUTREACH_INVALID_ARGUMENT, "decided_by");
  // ...and an adviser may not approve (a coordinator or manager who did not ask for it does).
  EXPECT_REFUSED(Call([&](char** o, size_t* s, outreach_error** e) {
                   return outreach_spend_decide(device_, OUTREACH_FORMAT_JSON, spend["id"].get<std::string>().c_str(),
                                                "approved", nullptr, nullptr, o, s, e);
                 }),
                 OUTREACH_PERMISSION_DENIED, "status");

  Json outcome = Ok(Body(outreach_outcome_record, {{"participant_id", pid},
                                                   {"kind", "job_start"},
                                                   {"employer", "Acme"},
                                                   {"evidence_ids", Json::array({evidence["id"]})}}));
  EXPECT_EQ(Ok(move(outreach_outcome_move, outcome["id"], "evidenced", nullptr))["status"], "evidenced");
  // A sustainment names its job start, and comes 13 weeks after it, not the same day.
  EXPECT_REFUSED(Body(outreach_outcome_record,
                      {{"participant_id", pid}, {"kind", "sustained_13_weeks"}, {"job_start_id", outcome["id"]}}),
                 OUTREACH_INVALID_ARGUMENT, "achieved_on");

  Ok(Body(outreach_case_note_add, {{"participant_id", pid}, {"sensitivity", "normal"}, {"text", "Keen."}}));

  Ok(Body(outreach_participant_exit, {{"participant_id", pid}, {"reason", "entered_work"}}));
  EXPECT_EQ(Get(pid)["status"], "exited");
  Json reopened = Ok(Call([&](char** o, size_t* s, outreach_error** e) {
    return outreach_participant_reopen(device_, OUTREACH_FORMAT_JSON, pid.get<std::string>().c_str(), nullptr, o, s, e);
  }));
  EXPECT_EQ(Get(pid)["status"], "active");

  Json timeline = Ok(Call([&](char** o, size_t* s, outreach_error** e) {
    return outreach_timeline(device_, OUTREACH_FORMAT_JSON, pid.get<std::string>().c_str(), o, s, e);
  }));
  EXPECT_GE(timeline["entries"].size(), 10u);
  Json caseload = Ok(Call([&](char** o, size_t* s, outreach_error** e) {
    return outreach_caseload(device_, OUTREACH_FORMAT_JSON, nullptr, o, s, e);
  }));
  EXPECT_EQ(caseload["records"].size(), 1u);
  EXPECT_TRUE(Ok(Call([&](char** o, size_t* s, outreach_error** e) {
                return outreach_not_seen(device_, OUTREACH_FORMAT_JSON, 14, o, s, e);
              })).is_object());
  EXPECT_REFUSED(Call([&](char** o, size_t* s, outreach_error** e) {
                   return outreach_not_seen(device_, OUTREACH_FORMAT_JSON, -1, o, s, e);
                 }),
                 OUTREACH_INVALID_ARGUMENT, "days");
  EXPECT_TRUE(Ok(Call([&](char** o, size_t* s, outreach_error** e) {
                return outreach_overdue_action_plans(device_, OUTREACH_FORMAT_JSON, o, s, e);
              })).is_object());
  EXPECT_EQ(Ok(Call([&](char** o, size_t* s, outreach_error** e) {
              return outreach_conflicts(device_, OUTREACH_FORMAT_JSON, o, s, e);
            })),
            Json({{"records", Json::array()}}));
  EXPECT_EQ(Ok(Call([&](char** o, size_t* s, outreach_error** e) {
              return outreach_rejected_changes(device_, OUTREACH_FORMAT_JSON, o, s, e);
            })),
            Json({{"changes", Json::array()}}));

  // Export holds every record, ordered by (type, id).
  Json all = Export()["records"];
  std::map<std::string, int> by_type;
  for (const Json& record : all) ++by_type[record["type"]];
  for (const char* type :
       {"participant", "consent", "evidence_item", "validation", "assessment", "barrier", "segment", "action_plan",
        "action_step", "contact_attempt", "referral", "support_spend", "outcome", "case_note", "exit"}) {
    EXPECT_GE(by_type[type], 1) << type;
  }
}

TEST_F(CApiTest, UpdateAndDeleteByIdFollowTheRecordsPolicy) {
  Json p = Register("Sam", "Jones");
  Json barrier = Ok(Body(outreach_barrier_record, {{"participant_id", p["id"]}, {"kind", "transport"}}));
  Json body = barrier;  // the record's own JSON, sent back as the new state
  body["status"] = "reduced";
  const std::string text = body.dump();
  const std::string id = barrier["id"];
  Json updated = Ok(Call([&](char** o, size_t* s, outreach_error** e) {
    return outreach_record_update(device_, OUTREACH_FORMAT_JSON, id.c_str(), text.data(), text.size(), o, s, e);
  }));
  EXPECT_EQ(updated["status"], "reduced");
  EXPECT_EQ(Get(id)["status"], "reduced");

  Json note = Ok(Body(outreach_case_note_add, {{"participant_id", p["id"]}, {"sensitivity", "normal"}, {"text", "x"}}));
  EXPECT_REFUSED(Call([&](char** o, size_t* s, outreach_error** e) {
                   return outreach_record_delete(device_, OUTREACH_FORMAT_JSON, note["id"].get<std::string>().c_str(),
                                                 o, s, e);
                 }),
                 OUTREACH_FAILED_PRECONDITION, "id");
  EXPECT_EQ(Ok(Call([&](char** o, size_t* s, outreach_error** e) {
              return outreach_record_delete(device_, OUTREACH_FORMAT_JSON, id.c_str(), o, s, e);
            }))["deleted"],
            true);
}

TEST_F(CApiTest, ReopeningTheFileKeepsEverything) {
  Json p = Register("Sam", "Jones");
  outreach_device_close(device_);
  device_ = nullptr;
  ASSERT_EQ(outreach_device_open((dir_ / "device.db").c_str(), "alex", &device_, nullptr), OUTREACH_OK);
  EXPECT_EQ(Get(p["id"])["given_name"], "Sam");
}

}  // namespace
