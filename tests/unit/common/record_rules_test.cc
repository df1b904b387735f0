// The per-type rules tables (common/validation/rules_table.cc) against the registry, and
// the table-driven checks on a record type declared only here ("Adding a record type",
// docs/ARCHITECTURE.md).
#include "common/validation/record_rules.h"

#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "common/validation/forms.h"

namespace outreach::validation {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// Records held in memory, for the rules that read other records.
class MemoryLookup : public RecordLookup {
 public:
  Uuid Add(v1::RecordType type, const Message& body) {
    const Uuid id = Uuid::NewV7();
    v1::Record r;
    r.set_id(id.raw());
    r.set_type(type);
    MutableRecordBody(&r)->CopyFrom(body);
    records_[id] = r;
    return id;
  }
  void Delete(const Uuid& id) { records_[id].set_deleted(true); }

  Result<std::optional<v1::Record>> Get(const Uuid& id) override {
    auto it = records_.find(id);
    if (it == records_.end()) return std::optional<v1::Record>();
    return std::optional<v1::Record>(it->second);
  }
  Result<std::vector<v1::Record>> RecordsOfType(v1::RecordType type) override {
    std::vector<v1::Record> out;
    for (const auto& [id, r] : records_)
      if (r.type() == type && !r.deleted()) out.push_back(r);
    return out;
  }
  Result<std::vector<v1::Record>> RecordsLinkedTo(v1::RecordType type, const FieldDescriptor& field,
                                                  const Uuid& id) override {
    std::vector<v1::Record> out;
    for (const auto& [rid, r] : records_) {
      if (r.type() != type || r.deleted()) continue;
      const Message& body = *RecordBody(r);
      if (body.GetReflection()->GetString(body, &field) == id.raw()) out.push_back(r);
    }
    return out;
  }

 private:
  std::map<Uuid, v1::Record> records_;
};

const FieldDescriptor* FieldOf(const RecordTypeInfo& info, const char* name) {
  return name == nullptr ? nullptr : info.descriptor->FindFieldByName(name);
}

bool IsNumber(const FieldDescriptor* f) {
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: return true;
    default: return false;
  }
}

// Every field a rule names exists in the body, with a type the rule can check.
void ExpectRulesFitTheBody(const RecordTypeInfo& info, const RecordRules& rules) {
  for (const Rule& rule : rules.rules) {
    SCOPED_TRACE(std::string(info.name) + " rule on " +
                 (rule.field        ? rule.field
                  : rule.check_name ? rule.check_name
                                    : "?"));
    if (rule.when_field != nullptr) {
      const FieldDescriptor* when = FieldOf(info, rule.when_field);
      ASSERT_NE(when, nullptr);
      EXPECT_EQ(when->type(), FieldDescriptor::TYPE_ENUM);
      for (int v : rule.when_values) EXPECT_NE(when->enum_type()->FindValueByNumber(v), nullptr) << v;
    }
    if (rule.kind == Rule::Kind::kCheck) {
      EXPECT_NE(rule.check, nullptr);
      EXPECT_NE(rule.check_name, nullptr);
      continue;
    }
    if (rule.kind == Rule::Kind::kAnyOf) {
      EXPECT_GE(rule.any_of.size(), 2u);
      for (const char* name : rule.any_of) EXPECT_NE(FieldOf(info, name), nullptr) << name;
      EXPECT_NE(FieldOf(info, rule.field), nullptr);
      continue;
    }
    const FieldDescriptor* f = FieldOf(info, rule.field);
    ASSERT_NE(f, nullptr);
    switch (rule.kind) {
      case Rule::Kind::kLink:
        EXPECT_FALSE(f->is_repeated());
        EXPECT_NE(info.LinkOf(f->number()), nullptr) << "a link the registry does not declare";
        break;
      case Rule::Kind::kLinkOfSameParticipant:
        EXPECT_NE(info.LinkOf(f->number()), nullptr) << "a link the registry does not declare";
        EXPECT_NE(info.participant_field, nullptr);
        break;
      case Rule::Kind::kFormat:
      case Rule::Kind::kNotAfterToday:
        EXPECT_EQ(f->type(), FieldDescriptor::TYPE_STRING);
        EXPECT_FALSE(f->is_repeated());
        break;
      case Rule::Kind::kInTheJourney:
        EXPECT_EQ(f->type(), FieldDescriptor::TYPE_STRING);
        EXPECT_FALSE(f->is_repeated());
        EXPECT_NE(info.participant_field, nullptr) << "a journey date of a record that names no participant";
        break;
      case Rule::Kind::kNotBefore: {
        EXPECT_EQ(f->type(), FieldDescriptor::TYPE_STRING);
        const FieldDescriptor* other = FieldOf(info, rule.other);
        ASSERT_NE(other, nullptr);
        EXPECT_EQ(other->type(), FieldDescriptor::TYPE_STRING);
        EXPECT_FALSE(rule.message.empty());
        break;
      }
      case Rule::Kind::kRange:
        EXPECT_TRUE(IsNumber(f));
        EXPECT_LE(rule.min, rule.max);
        EXPECT_FALSE(rule.message.empty());
        break;
      case Rule::Kind::kAbsent:
      case Rule::Kind::kUnchanged: EXPECT_FALSE(rule.message.empty()); break;
      default: break;
    }
  }
}

TEST(RecordRulesTest, EveryRecordTypeHasOneRulesEntryThatFitsItsBody) {
  ASSERT_EQ(AllRecordRules().size(), AllRecordTypes().size());
  for (const RecordTypeInfo& info : AllRecordTypes()) {
    const RecordRules* rules = FindRecordRules(info.type);
    ASSERT_NE(rules, nullptr) << info.name << " has no rules entry (common/validation/rules_table.cc)";
    EXPECT_EQ(rules->type, info.type);
    if (!rules->written_on_devices) {  // only formats, which normalise and list its values
      for (const Rule& rule : rules->rules) EXPECT_EQ(rule.kind, Rule::Kind::kFormat) << info.name;
    }
    ExpectRulesFitTheBody(info, *rules);
    // The built-in tables come with their fields resolved (ResolveFields).
    for (const Rule& rule : rules->rules) {
      EXPECT_EQ(rule.field_descriptor, rule.field ? FieldOf(info, rule.field) : nullptr) << info.name;
      EXPECT_EQ(rule.other_descriptor, rule.other ? FieldOf(info, rule.other) : nullptr) << info.name;
      EXPECT_EQ(rule.when_descriptor, rule.when_field ? FieldOf(info, rule.when_field) : nullptr) << info.name;
    }
  }
  // Every type a device captures names at least what makes it a record of its kind.
  for (const RecordRules& rules : AllRecordRules()) {
    if (rules.written_on_devices) {
      EXPECT_FALSE(rules.rules.empty()) << TypeName(rules.type);
    }
  }
  EXPECT_EQ(FindRecordRules(static_cast<v1::RecordType>(9999)), nullptr);
}

// The records a participant's record names are checked first: a record of a person (or
// session) no one holds is refused before anything else about it.
TEST(RecordRulesTest, RecordsOfAParticipantCheckTheirLinksFirst) {
  for (const RecordTypeInfo& info : AllRecordTypes()) {
    const RecordRules& rules = *FindRecordRules(info.type);
    if (!rules.written_on_devices || info.participant_field == nullptr) continue;
    if (info.type == v1::RECORD_TYPE_ENQUIRY || info.type == v1::RECORD_TYPE_ACTION_STEP)
      continue;  // optional; via the plan
    ASSERT_FALSE(rules.rules.empty());
    EXPECT_EQ(rules.rules.front().kind, Rule::Kind::kLink) << info.name;
  }
}

struct Fixture {
  MemoryLookup records;
  ValidationContext context{records, "2024-05-01", [] { return std::string("ann"); }};
  Uuid participant;
  Fixture() {
    v1::Participant p;
    p.set_given_name("Sam");
    participant = records.Add(v1::RECORD_TYPE_PARTICIPANT, p);
  }
};

TEST(RecordRulesTest, BuiltInRulesRefuseWithTheFieldAndReason) {
  Fixture f;
  v1::Attendance a;
  v1::Session s;
  s.set_title("Job club");
  const Uuid session = f.records.Add(v1::RECORD_TYPE_SESSION, s);
  a.set_session_id(session.raw());
  a.set_participant_id(f.participant.raw());
  a.set_status(v1::ATTENDANCE_STATUS_DID_NOT_ATTEND);
  a.set_marked_by(v1::MARKED_BY_ADVISER);
  a.set_marked_at("2024-05-01T10:00");
  Status st = ValidateRecordBody(v1::RECORD_TYPE_ATTENDANCE, a, nullptr, f.context);
  EXPECT_EQ(st.field(), "reason");
  EXPECT_EQ(st.message(), "did_not_attend needs a reason");
  a.set_status(v1::ATTENDANCE_STATUS_ATTENDED);
  a.set_reason(static_cast<v1::NonAttendanceReason>(1));
  st = ValidateRecordBody(v1::RECORD_TYPE_ATTENDANCE, a, nullptr, f.context);
  EXPECT_EQ(st.message(), "is only for did_not_attend or cancelled");
  a.clear_reason();
  EXPECT_TRUE(ValidateRecordBody(v1::RECORD_TYPE_ATTENDANCE, a, nullptr, f.context).ok());
  f.records.Delete(session);
  st = ValidateRecordBody(v1::RECORD_TYPE_ATTENDANCE, a, nullptr, f.context);
  EXPECT_EQ(st.code(), ErrorCode::kNotFound);
  EXPECT_EQ(st.field(), "session_id");

  v1::Consent c;
  c.set_participant_id(f.participant.raw());
  c.set_purpose(static_cast<v1::ConsentPurpose>(1));
  c.set_wording_version("v3");
  c.set_method(static_cast<v1::ConsentMethod>(1));
  c.set_given_on("2024-04-10");
  c.set_withdrawn_on("2024-04-01");
  st = ValidateRecordBody(v1::RECORD_TYPE_CONSENT, c, nullptr, f.context);
  EXPECT_EQ(st.field(), "withdrawn_on");
  EXPECT_EQ(st.message(), "is before the consent was given (2024-04-10)");

  v1::Enquiry e;
  e.set_given_name("Jo");
  st = ValidateRecordBody(v1::RECORD_TYPE_ENQUIRY, e, nullptr, f.context);
  EXPECT_EQ(st.field(), "phone");
  EXPECT_EQ(st.message(), "give a phone or an email");
  e.set_phone("+441134960123");
  st = ValidateRecordBody(v1::RECORD_TYPE_ENQUIRY, e, nullptr, f.context);
  EXPECT_EQ(st.field(), "consent_to_contact");
  EXPECT_EQ(st.message(), "the person must agree to be contacted before an enquiry is recorded");

  v1::Instrument i;
  st = ValidateRecordBody(v1::RECORD_TYPE_INSTRUMENT, i, nullptr, f.context);
  EXPECT_EQ(st.code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(st.message(), "instrument records are not written on a device");

  v1::Participant p;
  p.set_ni_number("ab 12 34 56 c");
  NormaliseBody(v1::RECORD_TYPE_PARTICIPANT, &p);
  EXPECT_EQ(p.ni_number(), "AB123456C");
}

// A rule declared OnDeviceOnly refuses on the device and is skipped on the server: a
// second outcome of a kind is a device's early refusal, and a conflict on the server.
TEST(RecordRulesTest, ARuleOnTheDeviceOnlyIsNotCheckedOnTheServer) {
  Fixture f;
  v1::Outcome o;
  o.set_participant_id(f.participant.raw());
  o.set_kind(v1::OUTCOME_KIND_JOB_START);
  o.set_status(v1::OUTCOME_STATUS_REPORTED);
  o.set_achieved_on("2024-04-30");
  o.set_employer("Acme");
  f.records.Add(v1::RECORD_TYPE_OUTCOME, o);
  ASSERT_EQ(f.context.side, Side::kDevice);
  Status on_device = ValidateRecordBody(v1::RECORD_TYPE_OUTCOME, o, nullptr, f.context);
  EXPECT_EQ(on_device.code(), ErrorCode::kAlreadyExists) << on_device.message();
  EXPECT_EQ(on_device.field(), "kind");
  f.context.side = Side::kServer;
  Status on_server = ValidateRecordBody(v1::RECORD_TYPE_OUTCOME, o, nullptr, f.context);
  EXPECT_TRUE(on_server.ok()) << on_server.message();
  // Every other rule still runs there.
  o.clear_employer();
  EXPECT_EQ(ValidateRecordBody(v1::RECORD_TYPE_OUTCOME, o, nullptr, f.context).field(), "employer");

  const RecordRules& rules = *FindRecordRules(v1::RECORD_TYPE_OUTCOME);
  EXPECT_EQ(
      std::count_if(rules.rules.begin(), rules.rules.end(), [](const Rule& r) { return !r.RunsOn(Side::kServer); }), 1);
}

// ---------------------------------------------------------------- a type declared here

// A record type the build does not have: its body message, registry entry and rules are
// declared in this test, and the same code checks it.
constexpr v1::RecordType kWorkshop = static_cast<v1::RecordType>(1000);

class TestOnlyRecordTypeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    google::protobuf::FileDescriptorProto file;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
        R"pb(
          name: "outreach/test/workshop.proto"
          package: "outreach.test"
          syntax: "proto3"
          enum_type {
            name: "WorkshopStatus"
            value { name: "WORKSHOP_STATUS_UNSPECIFIED" number: 0 }
            value { name: "WORKSHOP_STATUS_PLANNED" number: 1 }
            value { name: "WORKSHOP_STATUS_CANCELLED" number: 2 }
          }
          message_type {
            name: "Workshop"
            field { name: "participant_id" number: 1 type: TYPE_BYTES label: LABEL_OPTIONAL }
            field { name: "venue_id" number: 2 type: TYPE_BYTES label: LABEL_OPTIONAL }
            field { name: "title" number: 3 type: TYPE_STRING label: LABEL_OPTIONAL }
            field { name: "held_on" number: 4 type: TYPE_STRING label: LABEL_OPTIONAL }
            field { name: "follow_up_on" number: 5 type: TYPE_STRING label: LABEL_OPTIONAL }
            field { name: "places" number: 6 type: TYPE_UINT32 label: LABEL_OPTIONAL }
            field { name: "contact_email" number: 7 type: TYPE_STRING label: LABEL_OPTIONAL }
            field {
              name: "status"
              number: 8
              type: TYPE_ENUM
              type_name: ".outreach.test.WorkshopStatus"
              label: LABEL_OPTIONAL
            }
            field { name: "cancel_reason" number: 9 type: TYPE_STRING label: LABEL_OPTIONAL }
            field { name: "facilitator" number: 10 type: TYPE_STRING label: LABEL_OPTIONAL }
          }
        )pb",
        &file));
    const google::protobuf::FileDescriptor* built = pool_.BuildFile(file);
    ASSERT_NE(built, nullptr);
    descriptor_ = built->FindMessageTypeByName("Workshop");
    ASSERT_NE(descriptor_, nullptr);

    // Its registry entry, declared as the built-in ones are.
    info_ = DeclareRecordType(
        {.type = kWorkshop,
         .name = "workshop",
         .policy = MergePolicy::kLastWriterWins,
         .descriptor = descriptor_,
         .personal = true,
         .date = "held_on",
         .links = {{"participant_id", v1::RECORD_TYPE_PARTICIPANT}, {"venue_id", v1::RECORD_TYPE_VENUE}},
         .actors = {"facilitator"}});
    // Its rules, in the vocabulary of the built-in table.
    rules_.type = kWorkshop;
    rules_.rules = {
        Link("participant_id"),
        OptionalLink("venue_id"),
        Required("title"),
        Required("held_on"),
        NotBefore("follow_up_on", "held_on", "is before the workshop ({other})"),
        Range("places", 1, 30, "must be between 1 and 30"),
        FormatOf("contact_email", Format::kEmail),
        Required("status"),
        Required("cancel_reason").When("status", {2}),
        Check("no_workshops_on_new_year",
              [](const CheckInput& in) {
                const FieldDescriptor* held = in.info.date_field;  // found through the registry entry
                const std::string day = in.body.GetReflection()->GetString(in.body, held);
                return day.substr(4) == "-01-01" ? Status::FailedPrecondition("no workshops on 1 January", held->name())
                                                 : Status::Ok();
              }),
    };

    v1::Participant p;
    p.set_given_name("Sam");
    participant_ = records_.Add(v1::RECORD_TYPE_PARTICIPANT, p);
  }

  std::unique_ptr<Message> Workshop() {
    std::unique_ptr<Message> w(factory_.GetPrototype(descriptor_)->New());
    Set(*w, "participant_id", participant_.raw());
    Set(*w, "title", "CV clinic");
    Set(*w, "held_on", "2024-05-20");
    w->GetReflection()->SetUInt32(w.get(), descriptor_->FindFieldByName("places"), 12);
    SetStatus(*w, 1);
    return w;
  }
  void Set(Message& m, const char* field, const std::string& value) {
    m.GetReflection()->SetString(&m, descriptor_->FindFieldByName(field), value);
  }
  void SetStatus(Message& m, int value) {
    m.GetReflection()->SetEnumValue(&m, descriptor_->FindFieldByName("status"), value);
  }
  Status Validate(const Message& body) {
    OUTREACH_RETURN_IF_ERROR(CheckForms(body));
    return ValidateRecordBody(info_, rules_, body, nullptr, context_);
  }

  google::protobuf::DescriptorPool pool_;
  google::protobuf::DynamicMessageFactory factory_{&pool_};
  const Descriptor* descriptor_ = nullptr;
  RecordTypeInfo info_;
  RecordRules rules_;
  MemoryLookup records_;
  ValidationContext context_{records_, "2024-05-01", [] { return std::string("ann"); }};
  Uuid participant_;
};

TEST_F(TestOnlyRecordTypeTest, TheRegistryEntryFindsItsDateAndLinks) {
  ASSERT_NE(info_.date_field, nullptr);
  EXPECT_EQ(info_.date_field->name(), "held_on");
  ASSERT_NE(info_.participant_field, nullptr);
  EXPECT_EQ(info_.participant_field->name(), "participant_id");
  EXPECT_EQ(info_.LinkOf(1)->target, v1::RECORD_TYPE_PARTICIPANT);
  EXPECT_EQ(info_.LinkOf(2)->target, v1::RECORD_TYPE_VENUE);
  EXPECT_EQ(info_.LinkOf(3), nullptr);
  EXPECT_TRUE(info_.IsActorField(10));
  ExpectRulesFitTheBody(info_, rules_);

  std::unique_ptr<Message> w = Workshop();
  EXPECT_EQ(w->GetReflection()->GetString(*w, info_.date_field), "2024-05-20");
}

TEST_F(TestOnlyRecordTypeTest, TheSameTableDrivenCodeValidatesIt) {
  std::unique_ptr<Message> w = Workshop();
  EXPECT_TRUE(Validate(*w).ok()) << Validate(*w).message();

  auto refused = [&](const std::function<void(Message&)>& edit, const std::string& field, const std::string& message,
                     ErrorCode code = ErrorCode::kInvalidArgument) {
    std::unique_ptr<Message> body = Workshop();
    edit(*body);
    Status st = Validate(*body);
    EXPECT_EQ(st.code(), code) << field << ": " << st.message();
    EXPECT_EQ(st.field(), field);
    EXPECT_EQ(st.message(), message);
  };
  // Forms, by the field's name: held_on is a date.
  refused([&](Message& m) { Set(m, "held_on", "2024-02-30"); }, "held_on",
          "'2024-02-30' is not a real date in the form YYYY-MM-DD");
  // Links, to the type the registry entry declares.
  refused([&](Message& m) { Set(m, "participant_id", ""); }, "participant_id", "is required");
  const Uuid nobody = Uuid::NewV7();
  refused([&](Message& m) { Set(m, "participant_id", nobody.raw()); }, "participant_id",
          "no participant with id " + nobody.ToString() + " that this device may read", ErrorCode::kNotFound);
  refused([&](Message& m) { Set(m, "venue_id", participant_.raw()); }, "venue_id",
          participant_.ToString() + " is a participant, not a venue");
  // Required, cross-field, range, format, conditional and named rules.
  refused([&](Message& m) { Set(m, "title", "  "); }, "title", "is required");
  refused([&](Message& m) { Set(m, "follow_up_on", "2024-05-01"); }, "follow_up_on",
          "is before the workshop (2024-05-20)");
  refused([&](Message& m) { m.GetReflection()->SetUInt32(&m, descriptor_->FindFieldByName("places"), 31); }, "places",
          "must be between 1 and 30");
  refused([&](Message& m) { Set(m, "contact_email", "jo.example.org"); }, "contact_email",
          "'jo.example.org' is not an e-mail address (a name, '@' and a domain such as example.org)");
  refused([&](Message& m) { SetStatus(m, 2); }, "cancel_reason", "is required");
  refused([&](Message& m) { Set(m, "held_on", "2025-01-01"); }, "held_on", "no workshops on 1 January",
          ErrorCode::kFailedPrecondition);
  // Who acted, from the registry entry's actor fields.
  refused([&](Message& m) { Set(m, "facilitator", "bob"); }, "facilitator",
          "must be the person this device is enrolled for (ann), not 'bob'");

  std::unique_ptr<Message> cancelled = Workshop();
  SetStatus(*cancelled, 2);
  Set(*cancelled, "cancel_reason", "the room flooded");
  Set(*cancelled, "facilitator", "ann");
  EXPECT_TRUE(Validate(*cancelled).ok());
}

TEST_F(TestOnlyRecordTypeTest, ARuleNamingAFieldTheBodyLacksIsAnInternalError) {
  rules_.rules.push_back(Required("no_such_field"));
  Status st = Validate(*Workshop());
  EXPECT_EQ(st.code(), ErrorCode::kInternal);
  EXPECT_NE(st.message().find("no_such_field"), std::string::npos);
}

}  // namespace
}  // namespace outreach::validation
