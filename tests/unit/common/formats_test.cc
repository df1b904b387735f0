// The formats of contact and identity values (common/validation/formats.h), and the
// format rules of the record types that hold them (record_rules.h): what is refused, with
// which words, and the one form a value is stored in.
#include "common/validation/formats.h"

#include <gtest/gtest.h>

#include "common/validation/record_rules.h"

namespace outreach::validation {
namespace {

// The refusal of `result`, as a person reads it ("field: message"); "" if it was accepted.
template <typename T>
std::string Refusal(const Result<T>& result) {
  return result.ok() ? std::string() : result.status().field() + ": " + result.status().message();
}

TEST(PhoneTest, UkNumbersAreStoredInE164) {
  // Ofcom's numbers for drama: 0113 496 0xxx and 020 7946 0xxx are valid to libphonenumber.
  EXPECT_EQ(*NormalisePhone("0113 496 0123"), "+441134960123");
  EXPECT_EQ(*NormalisePhone("01134960123"), "+441134960123");
  EXPECT_EQ(*NormalisePhone("+44 113 496 0123"), "+441134960123");
  EXPECT_EQ(*NormalisePhone("(0113) 496 0123"), "+441134960123");
  EXPECT_EQ(*NormalisePhone("0044 20 7946 0000"), "+442079460000");
  EXPECT_EQ(*NormalisePhone("07400 123456"), "+447400123456");   // a mobile
  EXPECT_EQ(*NormalisePhone("+441134960123"), "+441134960123");  // the normal form is its own
}

TEST(PhoneTest, OtherCountriesNeedTheirCode) {
  EXPECT_EQ(*NormalisePhone("+33 1 42 68 53 00"), "+33142685300");
  EXPECT_EQ(Refusal(NormalisePhone("+33 12")), "phone: '+33 12' is not a valid phone number");
}

// A value already in its stored form is read without libphonenumber's parse: it must
// answer as the parse does, for numbers of the UK, of the Crown dependencies that share
// +44, and of other countries.
TEST(PhoneTest, AStoredNumberIsJudgedAsTheParseJudgesIt) {
  for (const char* typed : {"0113 496 0123", "07400 123456", "07797 712345" /* Jersey */, "01624 756789" /* Man */,
                            "+33 1 42 68 53 00", "+1 212 555 2368", "+49 30 901820", "+353 1 234 5678"}) {
    Result<std::string> stored = NormalisePhone(typed);
    ASSERT_TRUE(stored.ok()) << typed << ": " << stored.status().ToString();
    EXPECT_EQ(*NormalisePhone(*stored), *stored) << typed;
  }
  for (const char* stored :
       {"+441134960", "+4411349601234", "+447700900123", "+3312", "+999123456789", "+0441134960123", "+44011349601"}) {
    EXPECT_EQ(Refusal(NormalisePhone(stored)), "phone: '" + std::string(stored) + "' is not a valid phone number");
  }
}

TEST(PhoneTest, NumbersThatAreNotValidAreRefusedNamingTheField) {
  EXPECT_EQ(Refusal(NormalisePhone("0770090012345")), "phone: '0770090012345' is not a valid UK phone number");
  EXPECT_EQ(Refusal(NormalisePhone("07700 9001")), "phone: '07700 9001' is not a valid UK phone number");
  // Ofcom's drama mobile range is not allocated to anyone, so libphonenumber's metadata
  // does not hold it valid.
  EXPECT_EQ(Refusal(NormalisePhone("07700 900123")), "phone: '07700 900123' is not a valid UK phone number");
  EXPECT_EQ(Refusal(NormalisePhone("01234")), "phone: '01234' is not a valid UK phone number");
  EXPECT_EQ(Refusal(NormalisePhone("hello")), "phone: 'hello' is not a valid UK phone number");
  EXPECT_EQ(Refusal(NormalisePhone("0113 496 0123 ext. 12")),
            "phone: '0113 496 0123 ext. 12' has an extension; give the number without it");
  EXPECT_EQ(NormalisePhone("123", "contact").status().field(), "contact");
}

TEST(PhoneTest, ShownAsDialledFromTheUk) {
  EXPECT_EQ(PhoneForDisplay("+441134960123"), "0113 496 0123");
  EXPECT_EQ(PhoneForDisplay("+447400123456"), "07400 123456");
  EXPECT_EQ(PhoneForDisplay("+33142685300"), "00 33 1 42 68 53 00");
  EXPECT_EQ(PhoneForDisplay("not a number"), "not a number");  // held from before the rule
}

TEST(PostcodeTest, NormalisedToUpperCaseWithOneSpace) {
  EXPECT_EQ(*NormalisePostcode("sw1a1aa"), "SW1A 1AA");
  EXPECT_EQ(*NormalisePostcode("  SW1A   1AA "), "SW1A 1AA");
  EXPECT_EQ(*NormalisePostcode("ng7 2rd"), "NG7 2RD");
  EXPECT_EQ(*NormalisePostcode("M1 1AE"), "M1 1AE");
  EXPECT_EQ(*NormalisePostcode("B33 8TH"), "B33 8TH");
  EXPECT_EQ(*NormalisePostcode("CR2 6XH"), "CR2 6XH");
  EXPECT_EQ(*NormalisePostcode("DN55 1PT"), "DN55 1PT");
  EXPECT_EQ(*NormalisePostcode("W1A 0AX"), "W1A 0AX");
  EXPECT_EQ(*NormalisePostcode("EC1A 1BB"), "EC1A 1BB");
  EXPECT_EQ(*NormalisePostcode("gir0aa"), "GIR 0AA");
}

TEST(PostcodeTest, OutsideThePublishedFormatIsRefused) {
  EXPECT_EQ(Refusal(NormalisePostcode("hello world")), "postcode: 'hello world' is not a UK postcode (e.g. SW1A 1AA)");
  for (const char* bad : {"", "SW1A", "SW1A 1A", "SW1A 1AAA", "QW1 1AA",  // Q never starts a postcode
                          "NG7 2CI",                                      // C and I never end one
                          "1NG 2RD", "NG7-2RD", "GIR 0AB"}) {
    EXPECT_FALSE(NormalisePostcode(bad).ok()) << bad;
  }
}

TEST(EmailTest, ALocalPartAndADottedDomain) {
  EXPECT_EQ(*NormaliseEmail("a.b@example.org"), "a.b@example.org");
  EXPECT_EQ(*NormaliseEmail("  Sam.Jones@Example.ORG "), "Sam.Jones@example.org");  // the local part keeps its case
  EXPECT_EQ(*NormaliseEmail("x+tag@mail.example.co.uk"), "x+tag@mail.example.co.uk");
  EXPECT_EQ(Refusal(NormaliseEmail("a@")),
            "email: 'a@' is not an e-mail address (a name, '@' and a domain such as example.org)");
  for (const char* bad : {"a@b", "@example.org", "a", "a@@example.org", "a@b@example.org", "a b@example.org",
                          "a@example..org", "a@.example.org", "a@example.org.", "a@-example.org"}) {
    EXPECT_FALSE(NormaliseEmail(bad).ok()) << bad;
  }
}

TEST(NiNumberTest, ThePublishedFormatNormalised) {
  EXPECT_EQ(*NormaliseNiNumber("ab 12 34 56 c"), "AB123456C");
  EXPECT_EQ(*NormaliseNiNumber("JG103759A"), "JG103759A");
  EXPECT_EQ(Refusal(NormaliseNiNumber("QQ123456C")),
            "ni_number: 'QQ123456C' is not a National Insurance number (two letters, six digits, A-D; e.g. "
            "AB123456C)");
}

TEST(NiNumberTest, PrefixesHmrcDoesNotAllocateAreRefused) {
  for (const char* first : {"D", "F", "I", "Q", "U", "V"}) {
    EXPECT_FALSE(NormaliseNiNumber(std::string(first) + "A123456C").ok()) << first;
  }
  for (const char* second : {"D", "F", "I", "O", "Q", "U", "V"}) {
    EXPECT_FALSE(NormaliseNiNumber(std::string("A") + second + "123456C").ok()) << second;
  }
  for (const char* prefix : {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}) {
    EXPECT_FALSE(NormaliseNiNumber(std::string(prefix) + "123456C").ok()) << prefix;
  }
  for (const char* bad : {"AB123456E", "AB12345C", "AB1234567C", "A1123456C", "123456789", "OA123456C"}) {
    EXPECT_EQ(NormaliseNiNumber(bad).ok(), std::string(bad) == "OA123456C") << bad;  // O may start one
  }
}

// ---------------------------------------------------------------- the rules of the types

class NoRecords : public RecordLookup {
 public:
  Result<std::optional<v1::Record>> Get(const Uuid&) override { return std::optional<v1::Record>(); }
  Result<std::vector<v1::Record>> RecordsOfType(v1::RecordType) override { return std::vector<v1::Record>(); }
  Result<std::vector<v1::Record>> RecordsLinkedTo(v1::RecordType, const google::protobuf::FieldDescriptor&,
                                                  const Uuid&) override {
    return std::vector<v1::Record>();
  }
};

class FormatRulesTest : public ::testing::Test {
 protected:
  static v1::Participant Sam() {
    v1::Participant p;
    p.set_given_name("Sam");
    p.set_family_name("Jones");
    p.set_date_of_birth("1990-01-01");
    return p;
  }
  Status Validate(const v1::Participant& p, const v1::Participant* stored = nullptr) {
    v1::Record before;
    if (stored != nullptr) {
      before.set_id(Uuid::NewV7().raw());
      before.set_type(v1::RECORD_TYPE_PARTICIPANT);
      *before.mutable_participant() = *stored;
    }
    return ValidateRecordBody(v1::RECORD_TYPE_PARTICIPANT, p, stored != nullptr ? &before : nullptr, context_);
  }
  NoRecords records_;
  ValidationContext context_{records_, "2026-03-01", [] { return std::string("ann"); }};
};

TEST_F(FormatRulesTest, EveryFieldThatHoldsOneIsChecked) {
  v1::Participant p = Sam();
  p.set_phone("0770090012345");
  Status st = Validate(p);
  EXPECT_EQ(st.field() + ": " + st.message(), "phone: '0770090012345' is not a valid UK phone number");
  p = Sam();
  p.set_postcode("hello world");
  st = Validate(p);
  EXPECT_EQ(st.field() + ": " + st.message(), "postcode: 'hello world' is not a UK postcode (e.g. SW1A 1AA)");
  p = Sam();
  p.set_email("a@b");
  EXPECT_EQ(Validate(p).field(), "email");

  v1::Enquiry e;
  e.set_given_name("Jo");
  e.set_source(static_cast<v1::ReferralSource>(1));
  e.set_received_at("2026-03-01T10:00");
  e.set_consent_to_contact(true);
  e.set_phone("0770090012345");
  EXPECT_EQ(ValidateRecordBody(v1::RECORD_TYPE_ENQUIRY, e, nullptr, context_).field(), "phone");
  e.set_phone("+441134960123");
  e.set_email("jo@");
  EXPECT_EQ(ValidateRecordBody(v1::RECORD_TYPE_ENQUIRY, e, nullptr, context_).field(), "email");
  e.set_email("jo@example.org");
  EXPECT_TRUE(ValidateRecordBody(v1::RECORD_TYPE_ENQUIRY, e, nullptr, context_).ok());
}

TEST_F(FormatRulesTest, NormaliseBodyPutsEveryFormatInItsStoredForm) {
  v1::Participant p = Sam();
  p.set_phone("0113 496 0123");
  p.set_postcode("sw1a1aa");
  p.set_email(" Sam@Example.org");
  p.set_ni_number("ab 12 34 56 c");
  NormaliseBody(v1::RECORD_TYPE_PARTICIPANT, &p);
  EXPECT_EQ(p.phone(), "+441134960123");
  EXPECT_EQ(p.postcode(), "SW1A 1AA");
  EXPECT_EQ(p.email(), "Sam@example.org");
  EXPECT_EQ(p.ni_number(), "AB123456C");
  EXPECT_TRUE(Validate(p).ok()) << Validate(p).ToString();

  v1::Participant bad = Sam();
  bad.set_phone("0770090012345");
  NormaliseBody(v1::RECORD_TYPE_PARTICIPANT, &bad);
  EXPECT_EQ(bad.phone(), "0770090012345");  // left for validation to refuse

  // On an update, a value equal to the stored one is left as it is; a changed one is normalised.
  v1::Participant stored = Sam();
  stored.set_phone("0113 496 0123");
  v1::Participant edit = stored;
  edit.set_postcode("ls1 4ap");
  NormaliseBody(v1::RECORD_TYPE_PARTICIPANT, &edit, &stored);
  EXPECT_EQ(edit.phone(), "0113 496 0123");
  EXPECT_EQ(edit.postcode(), "LS1 4AP");

  v1::Venue venue;
  venue.set_postcode("ng1 5ff");
  NormaliseBody(v1::RECORD_TYPE_VENUE, &venue);
  EXPECT_EQ(venue.postcode(), "NG1 5FF");
}

// What a device that skipped NormaliseBody sends (the server's side): a value that parses
// but is not in its stored form is refused, so every side holds one form.
TEST_F(FormatRulesTest, AValueNotInItsStoredFormIsRefused) {
  v1::Participant p = Sam();
  p.set_phone("0113 496 0123");
  Status st = Validate(p);
  EXPECT_EQ(st.field(), "phone");
  EXPECT_EQ(st.message(), "'0113 496 0123' is not in the form it is stored in ('+441134960123')");
  p = Sam();
  p.set_postcode("sw1a 1aa");
  EXPECT_EQ(Validate(p).field(), "postcode");
  p = Sam();
  p.set_ni_number("ab123456c");
  EXPECT_EQ(Validate(p).field(), "ni_number");
  p = Sam();
  p.set_email("sam@EXAMPLE.org");
  EXPECT_EQ(Validate(p).field(), "email");
}

// A value stored before the rules existed does not block an unrelated edit; a new value
// of the field is judged.
TEST_F(FormatRulesTest, AnUnchangedValueIsNotJudgedAgain) {
  v1::Participant stored = Sam();
  stored.set_phone("0770090012345");
  stored.set_postcode("hello world");
  stored.set_ni_number("QQ123456C");
  v1::Participant edit = stored;
  edit.set_family_name("Jones-Smith");
  EXPECT_TRUE(Validate(edit, &stored).ok()) << Validate(edit, &stored).ToString();
  edit.set_phone("07700 9001");
  EXPECT_EQ(Validate(edit, &stored).field(), "phone");
  edit.set_phone("+441134960123");
  EXPECT_TRUE(Validate(edit, &stored).ok());
  EXPECT_FALSE(Validate(stored).ok());  // the same values on a new record are judged
}

TEST_F(FormatRulesTest, FormatProblemsListsStoredValuesThatDoNotMeetTheirFormat) {
  v1::Participant p = Sam();
  p.set_phone("0770090012345");
  p.set_postcode("NG7 2RD");
  p.set_email("sam@Example.org");
  std::vector<FormatProblem> problems = FormatProblems(v1::RECORD_TYPE_PARTICIPANT, p);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].field, "email");
  EXPECT_EQ(problems[0].value, "sam@Example.org");
  EXPECT_EQ(problems[0].problem, "'sam@Example.org' is not in the form it is stored in ('sam@example.org')");
  EXPECT_EQ(problems[1].field, "phone");
  EXPECT_EQ(problems[1].problem, "'0770090012345' is not a valid UK phone number");
}

TEST(PhoneFieldTest, ThePhoneFieldsOfTheRecordTypes) {
  EXPECT_TRUE(IsPhoneField(*v1::Participant::descriptor()->FindFieldByName("phone")));
  EXPECT_TRUE(IsPhoneField(*v1::Enquiry::descriptor()->FindFieldByName("phone")));
  EXPECT_FALSE(IsPhoneField(*v1::Participant::descriptor()->FindFieldByName("postcode")));
  EXPECT_FALSE(IsPhoneField(*v1::PartnerOrganisation::descriptor()->FindFieldByName("contact")));
}

}  // namespace
}  // namespace outreach::validation
