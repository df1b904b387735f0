// The journey API (outreach::Device) on a real SQLite file: every operation, every refusal.
#include "tests/unit/client/device_test.h"

#include <gmock/gmock.h>

#include <cctype>
#include <map>
#include <set>

#include "client/journey/device_internals.h"
#include "client/store/schema.h"
#include "common/field_value.h"
#include "common/reference.h"

namespace outreach::testing {
namespace {

using E = ErrorCode;

v1::Participant Person(const std::string& given = "Sam", const std::string& family = "Okafor") {
  v1::Participant p;
  p.set_given_name(given);
  p.set_family_name(family);
  p.set_date_of_birth("1990-05-01");
  return p;
}

// The participant's consent to hold their data, given today.
v1::Consent HoldDataConsent(const v1::Record& participant) {
  v1::Consent c;
  c.set_participant_id(participant.id());
  c.set_purpose(v1::CONSENT_PURPOSE_HOLD_DATA);
  c.set_wording_version("2024-03");
  c.set_method(v1::CONSENT_METHOD_SIGNED);
  return c;
}

TEST_F(DeviceTest, RegistersAParticipantWithReferenceAndOneOutboxChange) {
  v1::Participant p = Person();
  p.set_ni_number("ab 12 34 56 c");
  p.set_phone("0113 496 0123");
  Result<v1::Record> r = device_->RegisterParticipant(p);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const v1::Participant& stored = r->participant();
  EXPECT_EQ(stored.ni_number(), "AB123456C");
  EXPECT_EQ(stored.phone(), "+441134960123");
  EXPECT_EQ(stored.status(), v1::PARTICIPANT_STATUS_ACTIVE);
  EXPECT_EQ(stored.registered_on(), "2026-11-23");
  EXPECT_EQ(stored.adviser(), "alex");
  Result<ReferenceNumber> ref = ReferenceNumber::Parse(stored.reference());
  ASSERT_TRUE(ref.ok()) << stored.reference();
  EXPECT_EQ(ref->counter, 1u);
  EXPECT_EQ(IdOf(*r).version(), 7);

  Result<std::vector<v1::Change>> pending = StoreOf(*device_).PendingChanges(10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  const v1::Change& c = pending->front();
  EXPECT_EQ(c.device_seq(), 1u);
  EXPECT_EQ(c.op(), v1::CHANGE_OP_UPSERT);
  EXPECT_EQ(c.record_id(), r->id());
  EXPECT_NE(c.hlc(), 0u);
  EXPECT_GE(c.fields_size(), 8);
  for (const auto& f : c.fields()) EXPECT_EQ(f.base_version(), 0u);

  Result<v1::Record> second = device_->RegisterParticipant(Person("Jo", "Bloggs"));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(ReferenceNumber::Parse(second->participant().reference())->counter, 2u);

  auto found = device_->FindByReference(stored.reference());
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id(), r->id());
  auto by_name = device_->FindParticipants("okaf sam");
  ASSERT_TRUE(by_name.ok());
  ASSERT_EQ(by_name->size(), 1u);
  EXPECT_EQ(by_name->front().id(), r->id());
}

TEST_F(DeviceTest, RefusesBadRegistrationsNamingTheFieldAndChangingNothing) {
  Register("Existing", "Person");
  v1::Participant p = Person();
  p.clear_given_name();
  EXPECT_REFUSED(device_->RegisterParticipant(p), E::kInvalidArgument, "given_name");
  p = Person();
  p.set_family_name("  ");
  EXPECT_REFUSED(device_->RegisterParticipant(p), E::kInvalidArgument, "family_name");
  p = Person();
  p.clear_date_of_birth();
  EXPECT_REFUSED(device_->RegisterParticipant(p), E::kInvalidArgument, "date_of_birth");
  for (const char* bad : {"1990-13-01", "1990-02-30", "2023-02-29", "01/05/1990", "1990-5-1", "1990-05-01x"}) {
    p = Person();
    p.set_date_of_birth(bad);
    EXPECT_REFUSED(device_->RegisterParticipant(p), E::kInvalidArgument, "date_of_birth");
  }
  p = Person();
  p.set_date_of_birth("2026-11-24");  // tomorrow
  EXPECT_REFUSED(device_->RegisterParticipant(p), E::kInvalidArgument, "date_of_birth");
  for (const char* bad : {"A1234567C", "AB123456E", "AB12345C", "AB1234567C", "123456789", "QQ123456C"}) {
    p = Person();
    p.set_ni_number(bad);
    EXPECT_REFUSED(device_->RegisterParticipant(p), E::kInvalidArgument, "ni_number");
  }
  p = Person();
  p.set_email("not-an-address");
  EXPECT_REFUSED(device_->RegisterParticipant(p), E::kInvalidArgument, "email");
  p = Person();
  p.set_gender(static_cast<v1::Gender>(99));
  EXPECT_REFUSED(device_->RegisterParticipant(p), E::kInvalidArgument, "gender");
  p = Person();
  p.set_venue_id("short");
  EXPECT_REFUSED(device_->RegisterParticipant(p), E::kInvalidArgument, "venue_id");
  // A refused registration does not use up a reference number.
  EXPECT_EQ(ReferenceNumber::Parse(Register("Next", "One").participant().reference())->counter, 2u);
}

TEST_F(DeviceTest, UpdatesOnlyTheChangedFieldsWithTheirBaseVersions) {
  v1::Participant p = Person();
  p.set_phone("0113 496 0111");
  p.add_deferred_sections(v1::REGISTRATION_SECTION_HEALTH_AND_DISABILITY);
  Register("Someone", "Else");
  Result<v1::Record> created = device_->RegisterParticipant(p);
  ASSERT_TRUE(created.ok());
  const uint64_t created_hlc = StoreOf(*device_).PendingChanges(10)->back().hlc();

  v1::Participant next = created->participant();
  next.set_phone("0113 496 0222");
  next.clear_deferred_sections();  // the deferred section is asked later
  next.set_health_condition(true);
  next.set_ni_number("ab123456d");
  Result<v1::Record> updated = device_->UpdateParticipant(IdOf(*created), next);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->participant().ni_number(), "AB123456D");

  Result<std::vector<v1::Change>> pending = StoreOf(*device_).PendingChanges(10);
  ASSERT_EQ(pending->size(), 3u);
  const v1::Change& c = pending->back();
  EXPECT_EQ(c.device_seq(), 3u);
  EXPECT_GT(c.hlc(), created_hlc);
  std::map<uint32_t, uint64_t> base;
  for (const auto& f : c.fields()) base[f.field()] = f.base_version();
  ASSERT_EQ(base.size(), 4u);
  EXPECT_EQ(base.at(v1::Participant::kPhoneFieldNumber), created_hlc);
  EXPECT_EQ(base.at(v1::Participant::kDeferredSectionsFieldNumber), created_hlc);
  EXPECT_EQ(base.at(v1::Participant::kHealthConditionFieldNumber), 0u);
  EXPECT_EQ(base.at(v1::Participant::kNiNumberFieldNumber), 0u);

  // An update that changes nothing logs nothing.
  ASSERT_TRUE(device_->UpdateParticipant(IdOf(*created), updated->participant()).ok());
  EXPECT_EQ(*StoreOf(*device_).PendingCount(), 3u);

  v1::Participant bad = updated->participant();
  bad.set_reference("ZZZZ-0001-0");
  EXPECT_REFUSED(device_->UpdateParticipant(IdOf(*created), bad), E::kInvalidArgument, "reference");
  bad = updated->participant();
  bad.set_status(v1::PARTICIPANT_STATUS_EXITED);
  EXPECT_REFUSED(device_->UpdateParticipant(IdOf(*created), bad), E::kFailedPrecondition, "status");
  bad = updated->participant();
  bad.set_ni_number("nope");
  EXPECT_REFUSED(device_->UpdateParticipant(IdOf(*created), bad), E::kInvalidArgument, "ni_number");
  bad = updated->participant();
  bad.set_date_of_birth("2027-01-01");
  EXPECT_REFUSED(device_->UpdateParticipant(IdOf(*created), bad), E::kInvalidArgument, "date_of_birth");
  EXPECT_REFUSED(device_->UpdateParticipant(Uuid::NewV7(), updated->participant()), E::kNotFound, "id");
  v1::Consent wrong_type;
  EXPECT_REFUSED(device_->Update(IdOf(*created), wrong_type), E::kInvalidArgument, "body");
  EXPECT_REFUSED(device_->Delete(IdOf(*created)), E::kFailedPrecondition, "id");
}

TEST_F(DeviceTest, RecordsAnEnquiry) {
  v1::Enquiry e;
  e.set_given_name("Kai");
  e.set_phone("0113 496 0456");
  e.set_venue_id(venue_.raw());
  e.set_interest("job club");
  e.set_consent_to_contact(true);
  Result<v1::Record> r = device_->RecordEnquiry(e);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->enquiry().source(), v1::REFERRAL_SOURCE_SELF);
  EXPECT_EQ(r->enquiry().received_at(), "2026-11-23T10:00");
  EXPECT_EQ(*StoreOf(*device_).PendingCount(), 1u);
  v1::Enquiry bad = e;
  bad.clear_given_name();
  EXPECT_REFUSED(device_->RecordEnquiry(bad), E::kInvalidArgument, "given_name");
  bad = e;
  bad.clear_phone();
  EXPECT_REFUSED(device_->RecordEnquiry(bad), E::kInvalidArgument, "phone");
  bad = e;
  bad.set_email("nowhere");
  EXPECT_REFUSED(device_->RecordEnquiry(bad), E::kInvalidArgument, "email");
  bad = e;
  bad.set_participant_id(Uuid::NewV7().raw());
  EXPECT_REFUSED(device_->RecordEnquiry(bad), E::kNotFound, "participant_id");
  bad = e;
  bad.clear_consent_to_contact();
  EXPECT_REFUSED(device_->RecordEnquiry(bad), E::kInvalidArgument, "consent_to_contact");
  EXPECT_EQ(*StoreOf(*device_).PendingCount(), 1u) << "refusals stored nothing";
}

TEST_F(DeviceTest, RegistersThePersonOfAnEnquiryAndLinksItInOneCommit) {
  v1::Enquiry e;
  e.set_given_name("Kai");
  e.set_family_name("Moss");
  e.set_email("kai@example.org");
  e.set_venue_id(venue_.raw());
  e.set_consent_to_contact(true);
  e.set_received_at("2026-11-02T09:30");
  v1::Record enquiry = device_->RecordEnquiry(e).value();
  const Uuid enquiry_id = *Uuid::FromBytes(enquiry.id());
  const uint64_t pending = *StoreOf(*device_).PendingCount();

  v1::Participant needs_birth_date;
  EXPECT_REFUSED(device_->RegisterFromEnquiry(enquiry_id, needs_birth_date), E::kInvalidArgument, "date_of_birth");
  EXPECT_REFUSED(device_->RegisterFromEnquiry(Uuid::NewV7(), needs_birth_date), E::kNotFound, "enquiry_id");
  EXPECT_EQ(*StoreOf(*device_).PendingCount(), pending) << "a refusal stores nothing";

  v1::Participant p;
  p.set_date_of_birth("1990-02-03");
  p.set_given_name("Kaiden");  // given: kept over the enquiry's
  Result<v1::Record> registered = device_->RegisterFromEnquiry(enquiry_id, p);
  ASSERT_TRUE(registered.ok()) << registered.status().ToString();
  const v1::Participant& person = registered->participant();
  EXPECT_EQ(person.given_name(), "Kaiden");
  EXPECT_EQ(person.family_name(), "Moss");
  EXPECT_EQ(person.email(), "kai@example.org");
  EXPECT_EQ(person.venue_id(), venue_.raw());
  EXPECT_EQ(person.referral_source(), v1::REFERRAL_SOURCE_SELF);
  EXPECT_EQ(person.referral_date(), "2026-11-02");
  EXPECT_FALSE(person.reference().empty());
  EXPECT_EQ(device_->Get(enquiry_id)->enquiry().participant_id(), registered->id());
  EXPECT_EQ(*StoreOf(*device_).PendingCount(), pending + 2) << "the registration and the enquiry's link";

  EXPECT_REFUSED(device_->RegisterFromEnquiry(enquiry_id, p), E::kFailedPrecondition, "enquiry_id");
  v1::Enquiry relinked = device_->Get(enquiry_id)->enquiry();
  relinked.set_participant_id(Uuid::NewV7().raw());
  EXPECT_REFUSED(device_->Update(enquiry_id, relinked), E::kInvalidArgument, "participant_id");

  Result<std::vector<EnquiryLine>> lines = device_->ListEnquiries();
  ASSERT_TRUE(lines.ok()) << lines.status().ToString();
  ASSERT_EQ(lines->size(), 1u);
  ASSERT_TRUE((*lines)[0].participant.has_value());
  EXPECT_EQ((*lines)[0].participant->id(), registered->id());
  EXPECT_EQ((*lines)[0].days_to_registration, 21) << "received 2 November, registered 23 November";
}

// Phone numbers, postcodes, e-mail addresses and NI numbers: a value outside its format
// is refused naming the field and the format, and nothing is stored; a good one is stored
// in its normal form whatever way it was typed.
TEST_F(DeviceTest, FormatsAreCheckedAndStoredInTheirNormalForm) {
  auto refusal = [](const Result<v1::Record>& r) { return r.status().field() + ": " + r.status().message(); };
  v1::Participant p = Person();
  p.set_phone("0770090012345");
  EXPECT_REFUSED(device_->RegisterParticipant(p), E::kInvalidArgument, "phone");
  EXPECT_EQ(refusal(device_->RegisterParticipant(p)), "phone: '0770090012345' is not a valid UK phone number");
  p = Person();
  p.set_postcode("hello world");
  EXPECT_REFUSED(device_->RegisterParticipant(p), E::kInvalidArgument, "postcode");
  EXPECT_EQ(refusal(device_->RegisterParticipant(p)), "postcode: 'hello world' is not a UK postcode (e.g. SW1A 1AA)");
  for (const char* bad : {"a@", "a@b"}) {
    p = Person();
    p.set_email(bad);
    EXPECT_REFUSED(device_->RegisterParticipant(p), E::kInvalidArgument, "email");
  }
  EXPECT_EQ(*StoreOf(*device_).PendingCount(), 0u);

  p = Person();
  p.set_phone("0113 496 0123");
  p.set_postcode("sw1a1aa");
  p.set_email(" a.b@Example.org ");
  Result<v1::Record> r = device_->RegisterParticipant(p);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const v1::Participant stored = device_->Get(IdOf(*r))->participant();
  EXPECT_EQ(stored.phone(), "+441134960123");
  EXPECT_EQ(stored.postcode(), "SW1A 1AA");
  EXPECT_EQ(stored.email(), "a.b@example.org");

  // Typing the same number another way is no change.
  v1::Participant again = stored;
  again.set_phone("+44 113 496 0123");
  ASSERT_TRUE(device_->UpdateParticipant(IdOf(*r), again).ok());
  EXPECT_EQ(*StoreOf(*device_).PendingCount(), 1u);

  v1::Enquiry e;
  e.set_given_name("Kai");
  e.set_venue_id(venue_.raw());
  e.set_consent_to_contact(true);
  e.set_phone("0770090012345");
  EXPECT_REFUSED(device_->RecordEnquiry(e), E::kInvalidArgument, "phone");
  e.set_phone("020 7946 0000");
  Result<v1::Record> enquiry = device_->RecordEnquiry(e);
  ASSERT_TRUE(enquiry.ok()) << enquiry.status().ToString();
  EXPECT_EQ(enquiry->enquiry().phone(), "+442079460000");
}

TEST_F(DeviceTest, RecordsAndWithdrawsConsent) {
  v1::Record p = Register("Sam", "Okafor");
  v1::Consent c;
  c.set_participant_id(p.id());
  c.set_purpose(v1::CONSENT_PURPOSE_SHARE_WITH_PARTNERS);
  c.set_wording_version("2024-03");
  c.set_method(v1::CONSENT_METHOD_VERBAL);
  Result<v1::Record> consent = device_->RecordConsent(c);
  ASSERT_TRUE(consent.ok()) << consent.status().ToString();
  EXPECT_EQ(consent->consent().given_on(), "2026-11-23");

  Result<v1::Record> withdrawn = device_->WithdrawConsent(IdOf(*consent));
  ASSERT_TRUE(withdrawn.ok()) << withdrawn.status().ToString();
  EXPECT_EQ(withdrawn->consent().withdrawn_on(), "2026-11-23");
  EXPECT_REFUSED(device_->WithdrawConsent(IdOf(*consent)), E::kFailedPrecondition, "withdrawn_on");

  v1::Consent bad = c;
  bad.clear_purpose();
  EXPECT_REFUSED(device_->RecordConsent(bad), E::kInvalidArgument, "purpose");
  bad = c;
  bad.clear_wording_version();
  EXPECT_REFUSED(device_->RecordConsent(bad), E::kInvalidArgument, "wording_version");
  bad = c;
  bad.clear_method();
  EXPECT_REFUSED(device_->RecordConsent(bad), E::kInvalidArgument, "method");
  bad = c;
  bad.set_participant_id(Uuid::NewV7().raw());
  EXPECT_REFUSED(device_->RecordConsent(bad), E::kNotFound, "participant_id");
  bad = c;
  bad.clear_participant_id();
  EXPECT_REFUSED(device_->RecordConsent(bad), E::kInvalidArgument, "participant_id");
  bad = c;
  bad.set_given_on("2026-11-23");
  bad.set_withdrawn_on("2026-11-22");
  EXPECT_REFUSED(device_->RecordConsent(bad), E::kInvalidArgument, "withdrawn_on");
  EXPECT_REFUSED(device_->WithdrawConsent(IdOf(p)), E::kInvalidArgument, "consent_id");
}

TEST_F(DeviceTest, MovesAValidationFileThroughItsStatesWithReasons) {
  v1::Record p = Register("Sam", "Okafor");
  v1::Record other = Register("Jo", "Bloggs");
  v1::EvidenceItem e;
  e.set_participant_id(p.id());
  e.set_kind(v1::EVIDENCE_KIND_PASSPORT);
  e.set_file_name("passport.jpg");
  e.set_content_sha256(std::string(64, 'a'));
  Result<v1::Record> evidence = device_->AddEvidence(e);
  ASSERT_TRUE(evidence.ok()) << evidence.status().ToString();
  e.set_participant_id(other.id());
  Result<v1::Record> others_evidence = device_->AddEvidence(e);
  ASSERT_TRUE(others_evidence.ok());

  v1::EvidenceItem bad_e = e;
  bad_e.clear_kind();
  EXPECT_REFUSED(device_->AddEvidence(bad_e), E::kInvalidArgument, "kind");
  bad_e = e;
  bad_e.set_content_sha256("xyz");
  EXPECT_REFUSED(device_->AddEvidence(bad_e), E::kInvalidArgument, "content_sha256");
  EXPECT_REFUSED(device_->Update(IdOf(*evidence), e), E::kFailedPrecondition, "id");  // append-only

  v1::Validation v;
  v.set_participant_id(p.id());
  v.set_rules_version("esf-2024.2");
  v.add_evidence_ids(evidence->id());
  Result<v1::Record> file = device_->OpenValidation(v);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->validation().status(), v1::VALIDATION_STATUS_DRAFT);
  const Uuid id = IdOf(*file);

  v1::Validation bad = v;
  bad.add_evidence_ids(others_evidence->id());
  EXPECT_REFUSED(device_->OpenValidation(bad), E::kInvalidArgument, "evidence_ids");
  bad = v;
  bad.clear_rules_version();
  EXPECT_REFUSED(device_->OpenValidation(bad), E::kInvalidArgument, "rules_version");
  bad = v;
  bad.set_status(v1::VALIDATION_STATUS_ACCEPTED);
  EXPECT_REFUSED(device_->OpenValidation(bad), E::kFailedPrecondition, "status");

  EXPECT_REFUSED(device_->MoveValidation(id, v1::VALIDATION_STATUS_ACCEPTED), E::kFailedPrecondition, "status");
  ASSERT_TRUE(device_->RecordConsent(HoldDataConsent(p)).ok());  // a file is submitted only with it
  Result<v1::Record> submitted = device_->MoveValidation(id, v1::VALIDATION_STATUS_SUBMITTED);
  ASSERT_TRUE(submitted.ok()) << submitted.status().ToString();
  EXPECT_EQ(submitted->validation().submitted_by(), "alex");
  // A refused move says where the file may go next and who takes it there.
  Result<v1::Record> skipped = device_->MoveValidation(id, v1::VALIDATION_STATUS_ACCEPTED);
  ASSERT_FALSE(skipped.ok());
  EXPECT_EQ(skipped.status().message(),
            "a validation cannot move from submitted to accepted: from submitted it moves to precheck_passed or "
            "precheck_returned (coordinator, manager)");
  // The pre-check is a coordinator's (or a manager's), never the submitter's.
  EXPECT_REFUSED(device_->MoveValidation(id, v1::VALIDATION_STATUS_PRECHECK_PASSED), E::kPermissionDenied, "status");
  ActAs(v1::ROLE_COORDINATOR, "alex");
  EXPECT_REFUSED(device_->MoveValidation(id, v1::VALIDATION_STATUS_PRECHECK_PASSED), E::kPermissionDenied,
                 "submitted_by");
  ActAs(v1::ROLE_COORDINATOR, "casey");
  Result<v1::Record> prechecked = device_->MoveValidation(id, v1::VALIDATION_STATUS_PRECHECK_PASSED);
  ASSERT_TRUE(prechecked.ok()) << prechecked.status().ToString();
  EXPECT_EQ(prechecked->validation().prechecked_by(), "casey");
  // Accepting or rejecting is a manager's who neither submitted nor pre-checked the file.
  EXPECT_REFUSED(device_->MoveValidation(id, v1::VALIDATION_STATUS_ACCEPTED), E::kPermissionDenied, "status");
  ActAs(v1::ROLE_MANAGER, "alex");
  Result<v1::Record> own = device_->MoveValidation(id, v1::VALIDATION_STATUS_ACCEPTED);
  ASSERT_FALSE(own.ok());
  EXPECT_EQ(own.status().field(), "submitted_by");
  EXPECT_EQ(own.status().message(),
            "you (alex) submitted this validation; another person must move it from precheck_passed to accepted");
  ActAs(v1::ROLE_MANAGER, "casey");
  EXPECT_REFUSED(device_->MoveValidation(id, v1::VALIDATION_STATUS_ACCEPTED), E::kPermissionDenied, "prechecked_by");
  ActAs(v1::ROLE_MANAGER, "mo");
  EXPECT_REFUSED(device_->MoveValidation(id, v1::VALIDATION_STATUS_REJECTED), E::kInvalidArgument, "rejection_reasons");
  Result<v1::Record> rejected = device_->MoveValidation(
      id, v1::VALIDATION_STATUS_REJECTED,
      {v1::VALIDATION_REJECTION_REASON_NO_PROOF_OF_NI, v1::VALIDATION_REJECTION_REASON_SELF_DECLARATION}, "resubmit");
  ASSERT_TRUE(rejected.ok()) << rejected.status().ToString();
  EXPECT_EQ(rejected->validation().rejection_reasons_size(), 2);
  EXPECT_EQ(rejected->validation().decided_by(), "mo");
  ActAs(v1::ROLE_ADVISER, "alex");
  Result<v1::Record> again = device_->MoveValidation(id, v1::VALIDATION_STATUS_SUBMITTED);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->validation().rejection_reasons_size(), 0);
  EXPECT_REFUSED(device_->MoveValidation(IdOf(p), v1::VALIDATION_STATUS_SUBMITTED), E::kInvalidArgument,
                 "validation_id");

  // Every move is kept: who, from, to, and the rejection's reasons, which resubmission
  // cleared from the file itself.
  const auto& moves = again->validation().moves();
  ASSERT_EQ(moves.size(), 5);
  std::vector<std::string> trail;
  for (const v1::ValidationMove& m : moves) {
    trail.push_back(std::to_string(m.from_status()) + ">" + std::to_string(m.to_status()) + " " + m.moved_by());
  }
  EXPECT_EQ(trail, (std::vector<std::string>{"0>1 alex", "1>2 alex", "2>3 casey", "3>6 mo", "6>2 alex"}));
  EXPECT_EQ(moves[3].reasons_size(), 2);
  EXPECT_EQ(moves[3].note(), "resubmit");
  EXPECT_EQ(moves[3].rules_version(), v.rules_version());
  EXPECT_EQ(moves[3].moved_at(), "2026-11-23T10:00");
}

TEST_F(DeviceTest, AValidationFilesHistoryIsNeverRewritten) {
  v1::Record p = Register("Sam", "Okafor");
  v1::Validation v;
  v.set_participant_id(p.id());
  v.set_rules_version("2026-04");
  Result<v1::Record> file = device_->OpenValidation(v);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const Uuid id = IdOf(*file);
  ASSERT_TRUE(device_->RecordConsent(HoldDataConsent(p)).ok());  // a file is submitted only with it
  ASSERT_TRUE(device_->MoveValidation(id, v1::VALIDATION_STATUS_SUBMITTED).ok());
  const v1::Validation held = device_->Get(id)->validation();
  ASSERT_EQ(held.moves_size(), 2);

  v1::Validation dropped = held;
  dropped.mutable_moves()->RemoveLast();
  EXPECT_REFUSED(device_->Update(id, dropped), E::kFailedPrecondition, "moves");
  v1::Validation rewritten = held;
  rewritten.mutable_moves(0)->set_moved_by("someone else");
  EXPECT_REFUSED(device_->Update(id, rewritten), E::kFailedPrecondition, "moves");
  // A state change that does not add its move, or adds another, is refused.
  ActAs(v1::ROLE_COORDINATOR, "casey");
  v1::Validation unrecorded = held;
  unrecorded.set_status(v1::VALIDATION_STATUS_PRECHECK_PASSED);
  unrecorded.set_prechecked_by("casey");
  EXPECT_REFUSED(device_->Update(id, unrecorded), E::kFailedPrecondition, "moves");
  v1::ValidationMove* wrong = unrecorded.add_moves();
  wrong->set_from_status(v1::VALIDATION_STATUS_SUBMITTED);
  wrong->set_to_status(v1::VALIDATION_STATUS_PRECHECK_RETURNED);
  wrong->set_moved_by("casey");
  EXPECT_REFUSED(device_->Update(id, unrecorded), E::kFailedPrecondition, "moves");
  // Who took a step changes only with that step.
  v1::Validation renamed = held;
  renamed.set_submitted_by("casey");
  EXPECT_REFUSED(device_->Update(id, renamed), E::kInvalidArgument, "submitted_by");
  // The step's own field names the person who takes it.
  v1::Validation unnamed = held;
  unnamed.set_status(v1::VALIDATION_STATUS_PRECHECK_PASSED);
  EXPECT_REFUSED(device_->Update(id, unnamed), E::kInvalidArgument, "prechecked_by");
}

TEST_F(DeviceTest, WarnsBeforeSubmissionAboutMissingDocumentsAndLatePlans) {
  v1::Record p = Register("Sam", "Okafor", "2026-09-01");
  auto codes = [&] {
    std::set<std::string> out;
    Result<std::vector<Warning>> w = device_->CheckBeforeSubmission(IdOf(p));
    EXPECT_TRUE(w.ok());
    for (const Warning& x : *w) {
      EXPECT_FALSE(x.message.empty());
      out.insert(x.code);
    }
    return out;
  };
  EXPECT_EQ(codes(), (std::set<std::string>{"missing_ni_proof", "missing_right_to_work",
                                            "action_plan_not_agreed_within_one_month"}));
  for (auto kind : {v1::EVIDENCE_KIND_NI_PROOF, v1::EVIDENCE_KIND_RIGHT_TO_WORK}) {
    v1::EvidenceItem e;
    e.set_participant_id(p.id());
    e.set_kind(kind);
    ASSERT_TRUE(device_->AddEvidence(e).ok());
  }
  EXPECT_EQ(codes(), (std::set<std::string>{"action_plan_not_agreed_within_one_month"}));
  v1::ActionPlan plan;
  plan.set_participant_id(p.id());
  plan.set_status(v1::PLAN_STATUS_AGREED);
  plan.set_agreed_on("2026-09-25");
  ASSERT_TRUE(device_->CreateActionPlan(plan).ok());
  EXPECT_TRUE(codes().empty());
  // Warnings are not stored: the outbox holds only the edits.
  EXPECT_EQ(*StoreOf(*device_).PendingCount(), 4u);
  EXPECT_REFUSED(device_->CheckBeforeSubmission(Uuid::NewV7()), E::kNotFound, "participant_id");

  // Another participant with the same NI number is flagged as a likely duplicate.
  v1::Participant twin = p.participant();
  twin.set_ni_number("AB 12 34 56 C");
  ASSERT_TRUE(device_->UpdateParticipant(IdOf(p), twin).ok());
  EXPECT_TRUE(codes().empty());
  v1::Participant other = Person("Samuel", "Okafor");
  other.set_ni_number("ab123456c");
  ASSERT_TRUE(device_->RegisterParticipant(other).ok());
  EXPECT_EQ(codes(), (std::set<std::string>{"possible_duplicate"}));
}

TEST_F(DeviceTest, RecordsAssessmentsAndComputesDistanceTravelled) {
  v1::Record p = Register("Sam", "Okafor", "2026-09-01");
  const char* domains[] = {
      "communication",      "confidence", "managing_feelings", "reliability", "setting_and_achieving_goals",
      "working_with_others"};
  auto assessment = [&](int base, const std::string& on) {
    v1::Assessment a;
    a.set_participant_id(p.id());
    a.set_instrument_id("my-journey");
    a.set_completed_on(on);
    int i = 0;
    for (const char* d : domains) {
      auto* s = a.add_scores();
      s->set_domain(d);
      s->set_score(std::min(6, base + (i++ % 2)));
    }
    return a;
  };
  Result<v1::Record> first = device_->RecordAssessment(assessment(2, "2026-09-01"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->assessment().instrument_version(), 1u);
  EXPECT_EQ(first->assessment().assessor(), "alex");
  ASSERT_TRUE(device_->RecordAssessment(assessment(3, "2026-10-01")).ok());
  ASSERT_TRUE(device_->RecordAssessment(assessment(5, "2026-11-01")).ok());

  Result<DistanceTravelled> d = device_->ComputeDistanceTravelled(IdOf(p), "my-journey");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->baseline_id, IdOf(*first));
  EXPECT_EQ(d->baseline_on, "2026-09-01");
  EXPECT_EQ(d->latest_on, "2026-11-01");
  ASSERT_EQ(d->domains.size(), 6u);
  EXPECT_EQ(d->domains[0].domain, "communication");
  EXPECT_EQ(d->domains[0].change, 3);  // 2 -> 5
  EXPECT_EQ(d->domains[1].change, 3);  // 3 -> 6
  EXPECT_EQ(d->total_baseline, 15);
  EXPECT_EQ(d->total_latest, 33);
  EXPECT_EQ(d->total_change, 18);

  v1::Assessment bad = assessment(2, "2026-11-02");
  bad.mutable_scores(0)->set_score(7);
  EXPECT_REFUSED(device_->RecordAssessment(bad), E::kInvalidArgument, "scores");
  bad.mutable_scores(0)->set_score(0);
  EXPECT_REFUSED(device_->RecordAssessment(bad), E::kInvalidArgument, "scores");
  bad = assessment(2, "2026-11-02");
  bad.mutable_scores(0)->set_domain("happiness");
  EXPECT_REFUSED(device_->RecordAssessment(bad), E::kInvalidArgument, "scores");
  bad = assessment(2, "2026-11-02");
  bad.mutable_scores()->RemoveLast();
  EXPECT_REFUSED(device_->RecordAssessment(bad), E::kInvalidArgument, "scores");
  bad = assessment(2, "2026-11-02");
  bad.set_instrument_id("outcomes-star");
  EXPECT_REFUSED(device_->RecordAssessment(bad), E::kNotFound, "instrument_id");
  bad = assessment(2, "2026-11-02");
  bad.set_instrument_version(9);
  EXPECT_REFUSED(device_->RecordAssessment(bad), E::kNotFound, "instrument_id");
  bad = assessment(2, "2026-13-02");
  EXPECT_REFUSED(device_->RecordAssessment(bad), E::kInvalidArgument, "completed_on");
  EXPECT_REFUSED(device_->ComputeDistanceTravelled(IdOf(p), "outcomes-star"), E::kNotFound, "instrument_id");
}

// A new version of an instrument (reference data from the server, issue 16) takes new
// assessments; distance travelled compares completions of one version only.
TEST_F(DeviceTest, DistanceTravelledComparesCompletionsOfOneInstrumentVersion) {
  v1::Record p = Register("Sam", "Okafor", "2026-09-01");
  auto scored = [&](uint32_t version, std::vector<std::pair<std::string, int>> scores, const std::string& on) {
    v1::Assessment a;
    a.set_participant_id(p.id());
    a.set_instrument_id("my-journey");
    a.set_instrument_version(version);
    a.set_completed_on(on);
    for (const auto& [domain, score] : scores) {
      auto* s = a.add_scores();
      s->set_domain(domain);
      s->set_score(score);
    }
    return device_->RecordAssessment(a);
  };
  const std::vector<std::pair<std::string, int>> v1_scores = {{"communication", 2},
                                                              {"confidence", 2},
                                                              {"managing_feelings", 2},
                                                              {"reliability", 2},
                                                              {"setting_and_achieving_goals", 2},
                                                              {"working_with_others", 2}};
  ASSERT_TRUE(scored(1, v1_scores, "2026-09-01").ok());
  ASSERT_TRUE(scored(1, v1_scores, "2026-10-01").ok());

  v1::Instrument v2;
  v2.set_instrument_id("my-journey");
  v2.set_version(2);
  v2.set_name("My Journey (2027)");
  for (const char* key : {"confidence", "wellbeing", "work_readiness"}) {
    v1::InstrumentDomain* d = v2.add_domains();
    d->set_key(key);
    d->set_label(key);
    d->set_min_score(0);
    d->set_max_score(10);
  }
  HoldReference(Uuid::Derive("instrument", "my-journey/2"), v1::RECORD_TYPE_INSTRUMENT, v2);
  Result<v1::Record> first_v2 = scored(2, {{"confidence", 4}, {"wellbeing", 3}, {"work_readiness", 1}}, "2026-11-01");
  ASSERT_TRUE(first_v2.ok()) << first_v2.status().ToString();
  EXPECT_REFUSED(device_->ComputeDistanceTravelled(IdOf(p), "my-journey"), E::kFailedPrecondition, "instrument_id");
  EXPECT_THAT(device_->ComputeDistanceTravelled(IdOf(p), "my-journey").status().message(),
              ::testing::HasSubstr("is of version 2, the first of that version: it is not compared with completions "
                                   "of version 1"));

  ASSERT_TRUE(scored(2, {{"confidence", 7}, {"wellbeing", 5}, {"work_readiness", 6}}, "2026-11-20").ok());
  Result<DistanceTravelled> d = device_->ComputeDistanceTravelled(IdOf(p), "my-journey");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->baseline_id, IdOf(*first_v2));
  ASSERT_EQ(d->domains.size(), 3u);
  EXPECT_EQ(d->total_baseline, 8);
  EXPECT_EQ(d->total_change, 10);
}

TEST_F(DeviceTest, KeepsBarriersAndSegmentHistory) {
  v1::Record p = Register("Sam", "Okafor");
  v1::Barrier b;
  b.set_participant_id(p.id());
  b.set_kind(v1::BARRIER_KIND_TRANSPORT);
  Result<v1::Record> barrier = device_->RecordBarrier(b);
  ASSERT_TRUE(barrier.ok());
  EXPECT_EQ(barrier->barrier().status(), v1::BARRIER_STATUS_IDENTIFIED);
  v1::Barrier reduced = barrier->barrier();
  reduced.set_status(v1::BARRIER_STATUS_REDUCED);
  ASSERT_TRUE(device_->Update(IdOf(*barrier), reduced).ok());
  b.clear_kind();
  EXPECT_REFUSED(device_->RecordBarrier(b), E::kInvalidArgument, "kind");

  // A tombstone: one DELETE change without fields; the record is kept but hidden.
  Result<v1::Record> gone = device_->Delete(IdOf(*barrier));
  ASSERT_TRUE(gone.ok()) << gone.status().ToString();
  EXPECT_TRUE(gone->deleted());
  const v1::Change del = StoreOf(*device_).PendingChanges(100)->back();
  EXPECT_EQ(del.op(), v1::CHANGE_OP_DELETE);
  EXPECT_EQ(del.record_id(), barrier->id());
  EXPECT_EQ(del.fields_size(), 0);
  EXPECT_TRUE(device_->Get(IdOf(*barrier))->deleted());
  EXPECT_TRUE(device_->ParticipantRecords(IdOf(p), v1::RECORD_TYPE_BARRIER)->empty());
  EXPECT_REFUSED(device_->Update(IdOf(*barrier), reduced), E::kNotFound, "id");
  EXPECT_REFUSED(device_->Delete(IdOf(*barrier)), E::kNotFound, "id");

  for (auto r : {v1::JOB_READINESS_RED, v1::JOB_READINESS_AMBER}) {
    v1::Segment s;
    s.set_participant_id(p.id());
    s.set_readiness(r);
    ASSERT_TRUE(device_->SetSegment(s).ok());
  }
  Result<std::vector<v1::Record>> history = device_->ParticipantRecords(IdOf(p), v1::RECORD_TYPE_SEGMENT);
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].segment().readiness(), v1::JOB_READINESS_RED);
  EXPECT_EQ((*history)[1].segment().readiness(), v1::JOB_READINESS_AMBER);
  v1::Segment bad;
  bad.set_participant_id(p.id());
  EXPECT_REFUSED(device_->SetSegment(bad), E::kInvalidArgument, "readiness");
}

TEST_F(DeviceTest, ListsOverdueActionPlans) {
  v1::Record p = Register("Sam", "Okafor", "2026-09-01");
  v1::Record q = Register("Jo", "Bloggs", "2026-11-01");
  v1::ActionPlan draft;
  draft.set_participant_id(p.id());
  Result<v1::Record> late = device_->CreateActionPlan(draft);  // started 2026-09-01, never agreed
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  EXPECT_EQ(late->action_plan().started_on(), "2026-09-01");
  draft.set_participant_id(q.id());
  ASSERT_TRUE(device_->CreateActionPlan(draft).ok());  // started 2026-11-01: not due yet

  v1::ActionPlan agreed;
  agreed.set_participant_id(q.id());
  agreed.set_status(v1::PLAN_STATUS_AGREED);
  agreed.set_review_on("2026-11-20");
  Result<v1::Record> review = device_->CreateActionPlan(agreed);
  ASSERT_TRUE(review.ok()) << review.status().ToString();
  EXPECT_EQ(review->action_plan().agreed_by(), "alex");

  v1::ActionStep step;
  step.set_plan_id(review->id());
  step.set_description("Update CV");
  step.set_due_on("2026-11-10");
  Result<v1::Record> overdue_step = device_->AddActionStep(step);
  ASSERT_TRUE(overdue_step.ok()) << overdue_step.status().ToString();
  EXPECT_EQ(overdue_step->action_step().participant_id(), q.id());
  step.set_due_on("2026-12-10");
  ASSERT_TRUE(device_->AddActionStep(step).ok());

  Result<std::vector<OverduePlan>> overdue = device_->OverdueActionPlans();
  ASSERT_TRUE(overdue.ok()) << overdue.status().ToString();
  std::map<std::string, OverduePlan> by_reason;
  for (auto& o : *overdue) by_reason[o.reason] = o;
  ASSERT_EQ(overdue->size(), 3u);
  EXPECT_EQ(by_reason["not_agreed_within_one_month"].plan.id(), late->id());
  EXPECT_EQ(by_reason["not_agreed_within_one_month"].due_on, "2026-10-01");
  EXPECT_EQ(by_reason["review_overdue"].plan.id(), review->id());
  ASSERT_TRUE(by_reason["step_overdue"].step.has_value());
  EXPECT_EQ(by_reason["step_overdue"].step->id(), overdue_step->id());

  v1::ActionStep done = overdue_step->action_step();
  done.set_status(v1::STEP_STATUS_DONE);
  EXPECT_REFUSED(device_->Update(IdOf(*overdue_step), done), E::kInvalidArgument, "completed_on");
  done.set_completed_on("2026-11-22");
  ASSERT_TRUE(device_->Update(IdOf(*overdue_step), done).ok());
  EXPECT_EQ(device_->OverdueActionPlans()->size(), 2u);

  v1::ActionStep bad = step;
  bad.clear_description();
  EXPECT_REFUSED(device_->AddActionStep(bad), E::kInvalidArgument, "description");
  bad = step;
  bad.set_plan_id(p.id());
  EXPECT_REFUSED(device_->AddActionStep(bad), E::kInvalidArgument, "plan_id");
  bad = step;
  bad.set_participant_id(p.id());
  EXPECT_REFUSED(device_->AddActionStep(bad), E::kInvalidArgument, "participant_id");
  v1::ActionPlan bad_plan = agreed;
  bad_plan.set_agreed_on("2026-11-02");
  bad_plan.set_started_on("2026-11-05");
  EXPECT_REFUSED(device_->CreateActionPlan(bad_plan), E::kInvalidArgument, "agreed_on");
}

TEST_F(DeviceTest, BooksSessionsUpToCapacity) {
  v1::Record s = Session(2);
  v1::Record a = Register("A", "One"), b = Register("B", "Two"), c = Register("C", "Three");
  auto book = [&](const v1::Record& p) {
    v1::Booking bk;
    bk.set_session_id(s.id());
    bk.set_participant_id(p.id());
    return device_->BookSession(bk);
  };
  Result<v1::Record> first = book(a);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(book(b).ok());
  EXPECT_REFUSED(book(c), E::kResourceExhausted, "capacity");
  EXPECT_REFUSED(book(a), E::kAlreadyExists, "participant_id");
  v1::Booking cancel = first->booking();
  cancel.set_status(v1::BOOKING_STATUS_CANCELLED_BY_PARTICIPANT);
  ASSERT_TRUE(device_->Update(IdOf(*first), cancel).ok());
  ASSERT_TRUE(book(c).ok());
  cancel.set_status(v1::BOOKING_STATUS_BOOKED);  // re-booking a cancelled place counts again
  EXPECT_REFUSED(device_->Update(IdOf(*first), cancel), E::kResourceExhausted, "capacity");

  v1::Booking bad;
  bad.set_session_id(a.id());
  bad.set_participant_id(c.id());
  EXPECT_REFUSED(device_->BookSession(bad), E::kInvalidArgument, "session_id");
  bad.set_session_id(Uuid::NewV7().raw());
  EXPECT_REFUSED(device_->BookSession(bad), E::kNotFound, "session_id");

  v1::Session bad_session;
  bad_session.set_venue_id(venue_.raw());
  bad_session.set_kind(v1::SESSION_KIND_DROP_IN);
  bad_session.set_title("Drop-in");
  bad_session.set_starts_at("2026-11-23 14:00");
  EXPECT_REFUSED(device_->CreateSession(bad_session), E::kInvalidArgument, "starts_at");
  bad_session.set_starts_at("2026-11-23T14:00");
  bad_session.clear_kind();
  EXPECT_REFUSED(device_->CreateSession(bad_session), E::kInvalidArgument, "kind");
  bad_session.set_kind(v1::SESSION_KIND_DROP_IN);
  bad_session.clear_venue_id();
  EXPECT_REFUSED(device_->CreateSession(bad_session), E::kInvalidArgument, "venue_id");
}

TEST_F(DeviceTest, MarksAttendanceOnOneKeyedRowAndShowsTodaysRegisters) {
  v1::Record s = Session();
  v1::Record later = Session(0, "2026-11-24T09:00");
  v1::Record p = Register("Sam", "Okafor"), q = Register("Ann", "Adams");
  v1::Booking bk;
  bk.set_session_id(s.id());
  bk.set_participant_id(q.id());
  ASSERT_TRUE(device_->BookSession(bk).ok());

  v1::Attendance a;
  a.set_session_id(s.id());
  a.set_participant_id(p.id());
  a.set_status(v1::ATTENDANCE_STATUS_LATE);
  Result<v1::Record> marked = device_->MarkAttendance(a);
  ASSERT_TRUE(marked.ok()) << marked.status().ToString();
  EXPECT_EQ(IdOf(*marked), Uuid::DeriveRegisterRow("attendance", s.id(), p.id()));
  EXPECT_EQ(marked->attendance().marked_by(), v1::MARKED_BY_ADVISER);
  EXPECT_EQ(marked->attendance().marked_at(), "2026-11-23T10:00");

  a.set_status(v1::ATTENDANCE_STATUS_DID_NOT_ATTEND);
  EXPECT_REFUSED(device_->MarkAttendance(a), E::kInvalidArgument, "reason");
  a.set_reason(v1::NON_ATTENDANCE_REASON_SICK_CHILD);
  Result<v1::Record> remarked = device_->MarkAttendance(a);
  ASSERT_TRUE(remarked.ok()) << remarked.status().ToString();
  EXPECT_EQ(remarked->id(), marked->id());
  EXPECT_EQ(device_->ParticipantRecords(IdOf(p), v1::RECORD_TYPE_ATTENDANCE)->size(), 1u);
  // The re-mark is a change of the same record: its two fields, and the earlier mark kept.
  const v1::Change last = StoreOf(*device_).PendingChanges(100)->back();
  EXPECT_EQ(last.record_id(), marked->id());
  EXPECT_EQ(last.fields_size(), 3);
  ASSERT_EQ(remarked->attendance().earlier_marks_size(), 1);
  EXPECT_EQ(remarked->attendance().earlier_marks(0).status(), marked->attendance().status());
  EXPECT_EQ(remarked->attendance().earlier_marks(0).marked_at(), "2026-11-23T10:00");
  v1::Attendance forgotten = remarked->attendance();
  forgotten.clear_earlier_marks();
  EXPECT_REFUSED(device_->Update(IdOf(*remarked), forgotten), E::kFailedPrecondition, "earlier_marks");
  v1::Attendance unkept = remarked->attendance();
  unkept.set_status(v1::ATTENDANCE_STATUS_LATE);
  unkept.clear_reason();
  EXPECT_REFUSED(device_->Update(IdOf(*remarked), unkept), E::kFailedPrecondition, "earlier_marks");

  v1::Attendance bad = a;
  bad.set_status(v1::ATTENDANCE_STATUS_ATTENDED);
  EXPECT_REFUSED(device_->MarkAttendance(bad), E::kInvalidArgument, "reason");
  bad = a;
  bad.set_session_id(Uuid::NewV7().raw());
  EXPECT_REFUSED(device_->MarkAttendance(bad), E::kNotFound, "session_id");
  bad = a;
  bad.set_participant_id(s.id());
  EXPECT_REFUSED(device_->MarkAttendance(bad), E::kInvalidArgument, "participant_id");
  bad = a;
  bad.clear_status();
  bad.clear_reason();
  EXPECT_REFUSED(device_->MarkAttendance(bad), E::kInvalidArgument, "status");

  Result<std::vector<SessionRegister>> today = device_->SessionsAtVenue(venue_);
  ASSERT_TRUE(today.ok()) << today.status().ToString();
  ASSERT_EQ(today->size(), 1u);
  EXPECT_EQ((*today)[0].session.id(), s.id());
  ASSERT_EQ((*today)[0].lines.size(), 2u);
  EXPECT_EQ((*today)[0].lines[0].participant.participant().family_name(), "Adams");
  EXPECT_TRUE((*today)[0].lines[0].booking.has_value());
  EXPECT_FALSE((*today)[0].lines[0].attendance.has_value());
  EXPECT_EQ((*today)[0].lines[1].attendance->attendance().status(), v1::ATTENDANCE_STATUS_DID_NOT_ATTEND);
  EXPECT_EQ(device_->SessionsAtVenue(venue_, "2026-11-24")->front().session.id(), later.id());
  EXPECT_TRUE(device_->SessionsAtVenue(Uuid::NewV7())->empty());
  EXPECT_REFUSED(device_->SessionsAtVenue(venue_, "24/11/2026"), E::kInvalidArgument, "day");
}

TEST_F(DeviceTest, SignsInAtTheKioskByReference) {
  v1::Record s = Session();
  v1::Record p = Register("Sam", "Okafor");
  std::string ref = p.participant().reference();
  for (char& c : ref) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));  // forgiving input
  Result<v1::Record> in = device_->SignInByReference(IdOf(s), ref);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ(in->attendance().status(), v1::ATTENDANCE_STATUS_ATTENDED);
  EXPECT_EQ(in->attendance().marked_by(), v1::MARKED_BY_KIOSK);
  EXPECT_REFUSED(device_->SignInByReference(IdOf(s), "K7QX-9999"), E::kInvalidArgument, "reference");
  EXPECT_REFUSED(device_->SignInByReference(IdOf(s), "ZZZZ-0001-" + std::string(1, 'X') + "!"), E::kInvalidArgument,
                 "reference");
  // A valid reference nobody here holds.
  std::string unknown = *ReferenceNumber::Format("ZZZZ", 77);
  EXPECT_REFUSED(device_->SignInByReference(IdOf(s), unknown), E::kNotFound, "reference");

  // An adviser's mark stands against a later kiosk sign-in.
  v1::Record q = Register("Ann", "Adams");
  v1::Attendance a;
  a.set_session_id(s.id());
  a.set_participant_id(q.id());
  a.set_status(v1::ATTENDANCE_STATUS_LATE);
  ASSERT_TRUE(device_->MarkAttendance(a).ok());
  Result<v1::Record> kiosk = device_->SignInByReference(IdOf(s), q.participant().reference());
  ASSERT_TRUE(kiosk.ok());
  EXPECT_EQ(kiosk->attendance().status(), v1::ATTENDANCE_STATUS_LATE);
  EXPECT_EQ(kiosk->attendance().marked_by(), v1::MARKED_BY_ADVISER);
}

TEST_F(DeviceTest, LogsContactsAndListsPeopleNotSeenFor14Days) {
  v1::Record s = Session(0, "2026-11-20T10:00");
  v1::Record gone = Register("Long", "Gone", "2026-10-01");
  v1::Record reached = Register("Just", "Reached", "2026-10-01");
  v1::Record attended = Register("Was", "There", "2026-10-01");
  v1::Record fresh = Register("New", "Person");  // registered today

  v1::ContactAttempt c;
  c.set_participant_id(gone.id());
  c.set_method(v1::CONTACT_METHOD_PHONE);
  c.set_result(v1::CONTACT_RESULT_NO_ANSWER);  // an attempt that did not reach them
  ASSERT_TRUE(device_->LogContact(c).ok());
  c.set_participant_id(reached.id());
  c.set_result(v1::CONTACT_RESULT_REACHED);
  c.set_attempted_at("2026-11-22T16:30");
  ASSERT_TRUE(device_->LogContact(c).ok());
  now_ms_ = MillisOf("2026-11-20", 10, 5);
  v1::Attendance a;
  a.set_session_id(s.id());
  a.set_participant_id(attended.id());
  a.set_status(v1::ATTENDANCE_STATUS_ATTENDED);
  ASSERT_TRUE(device_->MarkAttendance(a).ok());
  now_ms_ = MillisOf("2026-11-23", 10, 0);

  Result<std::vector<NotSeen>> not_seen = device_->NotSeenFor(14);
  ASSERT_TRUE(not_seen.ok()) << not_seen.status().ToString();
  ASSERT_EQ(not_seen->size(), 1u);
  EXPECT_EQ(not_seen->front().participant.id(), gone.id());
  EXPECT_EQ(not_seen->front().last_seen_on, "2026-10-01");
  EXPECT_EQ(not_seen->front().days, 53);
  EXPECT_EQ(device_->NotSeenFor(3)->size(), 2u);  // and the one who attended 3 days ago
  EXPECT_EQ(device_->NotSeenFor(1)->size(), 3u);  // all but the one registered today
  EXPECT_EQ(device_->NotSeenFor(0)->size(), 4u);
  (void)fresh;

  v1::ContactAttempt bad = c;
  bad.clear_method();
  EXPECT_REFUSED(device_->LogContact(bad), E::kInvalidArgument, "method");
  bad = c;
  bad.clear_result();
  EXPECT_REFUSED(device_->LogContact(bad), E::kInvalidArgument, "result");
  bad = c;
  bad.set_attempted_at("2026-11-22T25:00");
  EXPECT_REFUSED(device_->LogContact(bad), E::kInvalidArgument, "attempted_at");
  EXPECT_REFUSED(device_->NotSeenFor(-1), E::kInvalidArgument, "days");
}

TEST_F(DeviceTest, MovesReferralsThroughTheirStates) {
  v1::Record p = Register("Sam", "Okafor");
  v1::Referral r;
  r.set_participant_id(p.id());
  r.set_kind(v1::REFERRAL_KIND_WARM_HANDOVER);
  r.set_partner_name("Citizens Advice");
  EXPECT_REFUSED(device_->MakeReferral(r), E::kInvalidArgument, "summary");
  r.set_summary("Debt worries; prefers mornings.");
  v1::Referral bad = r;
  bad.clear_partner_name();
  EXPECT_REFUSED(device_->MakeReferral(bad), E::kInvalidArgument, "partner_name");
  bad = r;
  bad.set_consent_id(p.id());
  EXPECT_REFUSED(device_->MakeReferral(bad), E::kInvalidArgument, "consent_id");
  bad = r;
  bad.set_status(v1::REFERRAL_STATUS_ACCEPTED);
  EXPECT_REFUSED(device_->MakeReferral(bad), E::kFailedPrecondition, "status");
  v1::Consent share = HoldDataConsent(p);
  share.set_purpose(v1::CONSENT_PURPOSE_SHARE_WITH_PARTNERS);  // a warm handover shares the summary
  ASSERT_TRUE(device_->RecordConsent(share).ok());

  Result<v1::Record> made = device_->MakeReferral(r);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  const Uuid id = IdOf(*made);
  EXPECT_REFUSED(device_->MoveReferral(id, v1::REFERRAL_STATUS_COMPLETED), E::kFailedPrecondition, "status");
  EXPECT_REFUSED(device_->MoveReferral(id, v1::REFERRAL_STATUS_REJECTED), E::kInvalidArgument, "rejection_reason");
  ASSERT_TRUE(device_->MoveReferral(id, v1::REFERRAL_STATUS_ACCEPTED).ok());
  Result<v1::Record> first = device_->MoveReferral(id, v1::REFERRAL_STATUS_FIRST_APPOINTMENT, "2026-11-30");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->referral().first_appointment_on(), "2026-11-30");
  Result<v1::Record> done = device_->MoveReferral(id, v1::REFERRAL_STATUS_COMPLETED, "Debt plan in place");
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->referral().feedback(), "Debt plan in place");
  EXPECT_REFUSED(device_->MoveReferral(id, v1::REFERRAL_STATUS_MADE), E::kFailedPrecondition, "status");

  Result<v1::Record> other = device_->MakeReferral(r);
  ASSERT_TRUE(other.ok());
  Result<v1::Record> rejected = device_->MoveReferral(IdOf(*other), v1::REFERRAL_STATUS_REJECTED, "not eligible");
  ASSERT_TRUE(rejected.ok());
  EXPECT_EQ(rejected->referral().rejection_reason(), "not eligible");
}

TEST_F(DeviceTest, RecordsSupportSpendAndItsApproval) {
  v1::Record p = Register("Sam", "Okafor");
  v1::SupportSpend s;
  s.set_participant_id(p.id());
  s.set_category(v1::SPEND_CATEGORY_TRAVEL);
  s.set_amount_pence(0);
  EXPECT_REFUSED(device_->RequestSpend(s), E::kInvalidArgument, "amount_pence");
  s.set_amount_pence(-500);
  EXPECT_REFUSED(device_->RequestSpend(s), E::kInvalidArgument, "amount_pence");
  s.set_amount_pence(1250);
  s.clear_category();
  EXPECT_REFUSED(device_->RequestSpend(s), E::kInvalidArgument, "category");
  s.set_category(v1::SPEND_CATEGORY_TRAVEL);
  Result<v1::Record> spend = device_->RequestSpend(s);
  ASSERT_TRUE(spend.ok()) << spend.status().ToString();
  const Uuid id = IdOf(*spend);
  EXPECT_EQ(spend->support_spend().requested_by(), "alex");
  EXPECT_REFUSED(device_->DecideSpend(id, v1::SPEND_STATUS_PAID), E::kFailedPrecondition, "status");
  // Approval is a coordinator's or manager's, and never the requester's.
  EXPECT_REFUSED(device_->DecideSpend(id, v1::SPEND_STATUS_APPROVED), E::kPermissionDenied, "status");
  ActAs(v1::ROLE_MANAGER, "alex");
  EXPECT_REFUSED(device_->DecideSpend(id, v1::SPEND_STATUS_APPROVED), E::kPermissionDenied, "requested_by");
  ActAs(v1::ROLE_COORDINATOR, "casey");
  // A device decides in its own person's name only.
  EXPECT_REFUSED(device_->DecideSpend(id, v1::SPEND_STATUS_APPROVED, "manager-kim"), E::kInvalidArgument, "decided_by");
  Result<v1::Record> approved = device_->DecideSpend(id, v1::SPEND_STATUS_APPROVED, "casey");
  ASSERT_TRUE(approved.ok()) << approved.status().ToString();
  EXPECT_EQ(approved->support_spend().decided_by(), "casey");
  ActAs(v1::ROLE_ADVISER, "alex");
  EXPECT_REFUSED(device_->DecideSpend(id, v1::SPEND_STATUS_PAID), E::kPermissionDenied, "status");
  ActAs(v1::ROLE_MANAGER, "mo");
  Result<v1::Record> paid = device_->DecideSpend(id, v1::SPEND_STATUS_PAID);
  ASSERT_TRUE(paid.ok()) << paid.status().ToString();
  EXPECT_EQ(paid->support_spend().paid_by(), "mo");
  EXPECT_EQ(paid->support_spend().decided_by(), "casey");
  EXPECT_REFUSED(device_->DecideSpend(id, v1::SPEND_STATUS_REFUSED, "", "late"), E::kFailedPrecondition, "status");

  ActAs(v1::ROLE_ADVISER, "alex");
  Result<v1::Record> other = device_->RequestSpend(s);
  ASSERT_TRUE(other.ok());
  ActAs(v1::ROLE_COORDINATOR, "casey");
  EXPECT_REFUSED(device_->DecideSpend(IdOf(*other), v1::SPEND_STATUS_REFUSED), E::kInvalidArgument, "refusal_reason");
  ASSERT_TRUE(device_->DecideSpend(IdOf(*other), v1::SPEND_STATUS_REFUSED, "", "no receipt").ok());
}

TEST_F(DeviceTest, RecordsOutcomesOneClaimOfAKind) {
  v1::Record p = Register("Sam", "Okafor");
  v1::Outcome o;
  o.set_participant_id(p.id());
  o.set_kind(v1::OUTCOME_KIND_JOB_START);
  o.set_contract(v1::CONTRACT_TYPE_PERMANENT);
  o.set_hours_per_week(30);
  EXPECT_REFUSED(device_->RecordOutcome(o), E::kInvalidArgument, "employer");
  o.set_employer("Greggs");
  Result<v1::Record> job = device_->RecordOutcome(o);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_REFUSED(device_->RecordOutcome(o), E::kAlreadyExists, "kind");
  v1::Outcome bad = o;
  bad.set_kind(v1::OUTCOME_KIND_VOLUNTEERING);
  bad.set_hours_per_week(200);
  EXPECT_REFUSED(device_->RecordOutcome(bad), E::kInvalidArgument, "hours_per_week");

  const Uuid id = IdOf(*job);
  EXPECT_EQ(job->outcome().reported_by(), "alex");
  EXPECT_REFUSED(device_->MoveOutcome(id, v1::OUTCOME_STATUS_CLAIMED), E::kFailedPrecondition, "status");
  v1::EvidenceItem payslip;
  payslip.set_participant_id(p.id());
  payslip.set_kind(v1::EVIDENCE_KIND_OTHER);
  Result<v1::Record> evidence = device_->AddEvidence(payslip);
  ASSERT_TRUE(evidence.ok()) << evidence.status().ToString();
  v1::Outcome evidenced = job->outcome();
  evidenced.add_evidence_ids(evidence->id());
  ASSERT_TRUE(device_->Update(id, evidenced).ok());
  // Evidenced by the participant's adviser (alex registered Sam) or a manager.
  ActAs(v1::ROLE_ADVISER, "bo");
  Result<v1::Record> not_theirs = device_->MoveOutcome(id, v1::OUTCOME_STATUS_EVIDENCED);
  ASSERT_FALSE(not_theirs.ok());
  EXPECT_EQ(not_theirs.status().message(),
            "an adviser may not move an outcome from reported to evidenced: only a manager or the participant's "
            "adviser may");
  ActAs(v1::ROLE_ADVISER, "alex");
  ASSERT_TRUE(device_->MoveOutcome(id, v1::OUTCOME_STATUS_EVIDENCED).ok());
  // Verified by a coordinator who did not evidence it, before it is claimed.
  Result<v1::Record> unverified = device_->MoveOutcome(id, v1::OUTCOME_STATUS_CLAIMED);
  ASSERT_FALSE(unverified.ok());
  EXPECT_EQ(unverified.status().message(),
            "an outcome cannot move from evidenced to claimed: from evidenced it moves to verified (coordinator)");
  EXPECT_REFUSED(device_->MoveOutcome(id, v1::OUTCOME_STATUS_VERIFIED), E::kPermissionDenied, "status");
  ActAs(v1::ROLE_COORDINATOR, "alex");
  EXPECT_REFUSED(device_->MoveOutcome(id, v1::OUTCOME_STATUS_VERIFIED), E::kPermissionDenied, "evidenced_by");
  ActAs(v1::ROLE_COORDINATOR, "casey");
  Result<v1::Record> verified = device_->MoveOutcome(id, v1::OUTCOME_STATUS_VERIFIED);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->outcome().verified_by(), "casey");
  // Claimed, and the funder's answer recorded, by a manager who did not verify it.
  EXPECT_REFUSED(device_->MoveOutcome(id, v1::OUTCOME_STATUS_CLAIMED), E::kPermissionDenied, "status");
  ActAs(v1::ROLE_MANAGER, "casey");
  EXPECT_REFUSED(device_->MoveOutcome(id, v1::OUTCOME_STATUS_CLAIMED), E::kPermissionDenied, "verified_by");
  ActAs(v1::ROLE_MANAGER, "mo");
  ASSERT_TRUE(device_->MoveOutcome(id, v1::OUTCOME_STATUS_CLAIMED).ok());
  EXPECT_REFUSED(device_->MoveOutcome(id, v1::OUTCOME_STATUS_REJECTED), E::kInvalidArgument, "rejection_reason");
  Result<v1::Record> rejected = device_->MoveOutcome(id, v1::OUTCOME_STATUS_REJECTED, "payslip missing");
  ASSERT_TRUE(rejected.ok()) << rejected.status().ToString();
  EXPECT_EQ(rejected->outcome().decided_by(), "mo");
  EXPECT_EQ(rejected->outcome().claimed_by(), "mo");
  // A rejected claim no longer blocks a new one of the kind.
  ASSERT_TRUE(device_->RecordOutcome(o).ok());
}

TEST_F(DeviceTest, RestrictedNotesNeverReachTheOutboxAndSequenceHasNoGaps) {
  v1::Record p = Register("Sam", "Okafor");
  v1::CaseNote n;
  n.set_participant_id(p.id());
  n.set_text("Prefers to be called after 3pm.");
  Result<v1::Record> normal = device_->AddCaseNote(n);
  ASSERT_TRUE(normal.ok()) << normal.status().ToString();
  EXPECT_EQ(normal->case_note().sensitivity(), v1::NOTE_SENSITIVITY_NORMAL);
  EXPECT_EQ(normal->case_note().author(), "alex");
  n.set_sensitivity(v1::NOTE_SENSITIVITY_RESTRICTED);
  n.set_text("Restricted detail.");
  Result<v1::Record> restricted = device_->AddCaseNote(n);
  ASSERT_TRUE(restricted.ok());
  n.set_sensitivity(v1::NOTE_SENSITIVITY_HEALTH);
  n.set_supersedes(normal->id());
  Result<v1::Record> health = device_->AddCaseNote(n);
  ASSERT_TRUE(health.ok()) << health.status().ToString();

  Result<std::vector<v1::Change>> pending = StoreOf(*device_).PendingChanges(100);
  ASSERT_EQ(pending->size(), 3u);  // participant, normal note, health note
  for (size_t i = 0; i < pending->size(); ++i) {
    EXPECT_EQ((*pending)[i].device_seq(), i + 1);
    EXPECT_NE((*pending)[i].record_id(), restricted->id());
  }
  // Kept locally, with a local change-log entry.
  EXPECT_TRUE(device_->Get(IdOf(*restricted)).ok());
  EXPECT_EQ(StoreOf(*device_).ChangeLog()->size(), 4u);
  EXPECT_EQ(QueryOne(path_, "SELECT count(*) FROM change_log WHERE device_seq IS NULL"), "1");

  v1::CaseNote bad = n;
  bad.clear_text();
  EXPECT_REFUSED(device_->AddCaseNote(bad), E::kInvalidArgument, "text");
  bad = n;
  bad.set_supersedes(p.id());
  EXPECT_REFUSED(device_->AddCaseNote(bad), E::kInvalidArgument, "supersedes");
  EXPECT_REFUSED(device_->Update(IdOf(*normal), n), E::kFailedPrecondition, "id");
  EXPECT_REFUSED(device_->Delete(IdOf(*normal)), E::kFailedPrecondition, "id");
}

TEST_F(DeviceTest, ExitsAndReopensAParticipant) {
  v1::Record p = Register("Sam", "Okafor");
  EXPECT_EQ(device_->Caseload()->size(), 1u);
  v1::Exit e;
  e.set_participant_id(p.id());
  EXPECT_REFUSED(device_->ExitParticipant(e), E::kInvalidArgument, "reason");
  e.set_reason(v1::EXIT_REASON_ENTERED_WORK);
  e.set_destination(v1::EXIT_DESTINATION_EMPLOYMENT);
  Result<v1::Record> exit = device_->ExitParticipant(e);
  ASSERT_TRUE(exit.ok()) << exit.status().ToString();
  EXPECT_EQ(device_->Get(IdOf(p))->participant().status(), v1::PARTICIPANT_STATUS_EXITED);
  EXPECT_TRUE(device_->Caseload()->empty());
  // Exit and status change: two changes from one operation.
  EXPECT_EQ(*StoreOf(*device_).PendingCount(), 3u);
  EXPECT_REFUSED(device_->ExitParticipant(e), E::kFailedPrecondition, "participant_id");

  Result<v1::Record> reopened = device_->ReopenParticipant(IdOf(p));
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ(reopened->participant().status(), v1::PARTICIPANT_STATUS_ACTIVE);
  EXPECT_EQ(device_->Get(IdOf(*exit))->exit().reopened_on(), "2026-11-23");
  EXPECT_EQ(device_->Caseload()->size(), 1u);
  EXPECT_REFUSED(device_->ReopenParticipant(IdOf(p)), E::kFailedPrecondition, "participant_id");
}

TEST_F(DeviceTest, ShowsCaseloadTimelineAndExportInStableOrder) {
  v1::Record p = Register("Sam", "Okafor", "2026-10-01");
  v1::Record q = Register("Ann", "Adams");
  v1::Participant moved = q.participant();
  moved.set_adviser("someone-else");
  ASSERT_TRUE(device_->UpdateParticipant(IdOf(q), moved).ok());
  Result<std::vector<v1::Record>> mine = device_->Caseload();
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ(mine->front().id(), p.id());
  EXPECT_EQ(device_->Caseload("someone-else")->front().id(), q.id());

  v1::CaseNote n;
  n.set_participant_id(p.id());
  n.set_text("First meeting");
  n.set_written_at("2026-10-02T09:00");
  ASSERT_TRUE(device_->AddCaseNote(n).ok());
  v1::Segment s;
  s.set_participant_id(p.id());
  s.set_readiness(v1::JOB_READINESS_AMBER);
  s.set_set_on("2026-10-01");
  ASSERT_TRUE(device_->SetSegment(s).ok());
  Result<std::vector<TimelineEntry>> t = device_->Timeline(IdOf(p));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->size(), 3u);
  EXPECT_EQ((*t)[0].record.type(), v1::RECORD_TYPE_PARTICIPANT);
  EXPECT_EQ((*t)[1].record.type(), v1::RECORD_TYPE_SEGMENT);
  EXPECT_EQ((*t)[2].record.type(), v1::RECORD_TYPE_CASE_NOTE);
  EXPECT_EQ((*t)[2].on, "2026-10-02T09:00");
  EXPECT_REFUSED(device_->Timeline(Uuid::NewV7()), E::kNotFound, "participant_id");

  Result<std::vector<v1::Record>> all = device_->Export();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 5u);  // 2 participants, note, segment, the seeded instrument
  for (size_t i = 1; i < all->size(); ++i) {
    const auto& a = (*all)[i - 1];
    const auto& b = (*all)[i];
    EXPECT_TRUE(a.type() < b.type() || (a.type() == b.type() && a.id() < b.id()));
  }
  EXPECT_EQ(all->back().type(), v1::RECORD_TYPE_INSTRUMENT);
  EXPECT_EQ(all->back().instrument().domains_size(), 6);
  EXPECT_EQ(device_->ListParticipants()->size(), 2u);
}

TEST_F(DeviceTest, StatePersistsAcrossReopen) {
  v1::Record p = Register("Sam", "Okafor");
  const Uuid device = device_->device_id();
  const uint64_t hlc = StoreOf(*device_).PendingChanges(1)->front().hlc();
  now_ms_ -= 3600 * 1000;  // the tablet's clock went back an hour
  Reopen();
  EXPECT_EQ(device_->device_id(), device);
  v1::Record q = Register("Ann", "Adams");
  EXPECT_EQ(ReferenceNumber::Parse(q.participant().reference())->counter, 2u);
  Result<std::vector<v1::Change>> pending = StoreOf(*device_).PendingChanges(10);
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_GT(pending->back().hlc(), hlc);
  EXPECT_EQ(pending->back().device_seq(), 2u);
  EXPECT_EQ(*StoreOf(*device_).SchemaVersion(), client::kSchemaVersion);
  EXPECT_EQ(QueryOne(path_, "PRAGMA journal_mode"), "wal");
  // A new file has 4 KiB pages (see LocalStore::Init).
  EXPECT_EQ(QueryOne(path_, "PRAGMA page_size"), "4096");
}

TEST_F(DeviceTest, ResolvesAConflictByTakingTheLosingValue) {
  v1::Record p = Register("Sam", "Okafor");
  // A conflict as the server sends it: the phone field lost to another writer.
  v1::Participant loser;
  loser.set_phone("+441134960999");
  v1::Conflict c;
  c.set_record_id(p.id());
  c.set_record_type(v1::RECORD_TYPE_PARTICIPANT);
  c.set_field(v1::Participant::kPhoneFieldNumber);
  c.set_losing_value(loser.SerializeAsString());
  c.set_status(v1::CONFLICT_STATUS_OPEN);
  v1::ChangesPage page;
  v1::Change* ch = page.add_changes();
  const Uuid conflict_id = Uuid::NewV7();
  ch->set_record_id(conflict_id.raw());
  ch->set_type(v1::RECORD_TYPE_CONFLICT);
  ch->set_hlc(Hlc::FromParts(now_ms_, 5).value());
  ch->set_op(v1::CHANGE_OP_UPSERT);
  ch->set_server_seq(1);
  for (auto& f : AllFields(c)) *ch->add_fields() = f;
  page.set_next_cursor(1);
  ASSERT_TRUE(StoreOf(*device_).ApplyPulledPage(page).ok());
  ASSERT_EQ(device_->OpenConflicts()->size(), 1u);

  EXPECT_REFUSED(device_->ResolveConflict(conflict_id, v1::CONFLICT_STATUS_OPEN), E::kInvalidArgument, "resolution");
  Result<v1::Record> resolved = device_->ResolveConflict(conflict_id, v1::CONFLICT_STATUS_TOOK_LOSER);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->conflict().status(), v1::CONFLICT_STATUS_TOOK_LOSER);
  EXPECT_EQ(device_->Get(IdOf(p))->participant().phone(), "+441134960999");
  EXPECT_TRUE(device_->OpenConflicts()->empty());
  EXPECT_REFUSED(device_->ResolveConflict(conflict_id, v1::CONFLICT_STATUS_KEPT_WINNER), E::kFailedPrecondition,
                 "conflict_id");
}

}  // namespace
}  // namespace outreach::testing
