// The programme's consent gates and outcome and date rules (common/validation), on the
// device: every refusal names the field and the rule with its dates and stores nothing;
// the allowed cases are stored.
#include <gmock/gmock.h>

#include "client/journey/device_internals.h"
#include "common/validation/record_rules.h"
#include "tests/support/consents.h"
#include "tests/unit/client/device_test.h"

namespace outreach::testing {
namespace {

using E = ErrorCode;
using ::testing::HasSubstr;

// Asserts that `expr` is refused like EXPECT_REFUSED does, and that its message holds `words`.
#define EXPECT_REFUSED_SAYING(expr, expected_code, expected_field, words)                                          \
  do {                                                                                                             \
    EXPECT_REFUSED(expr, expected_code, expected_field);                                                           \
    EXPECT_THAT(::outreach::testing::StatusOf(expr).message(), HasSubstr(words)) << #expr " gave the wrong words"; \
  } while (0)

class ProgrammeRulesTest : public DeviceTest {
 protected:
  // A signed consent's body, to record or to break.
  static v1::Consent ConsentBody(const v1::Record& person, v1::ConsentPurpose purpose, const std::string& given_on,
                                 const std::vector<Uuid>& partners = {}) {
    v1::Consent c = SignedConsent(person.id(), purpose, given_on);
    for (const Uuid& partner : partners) c.add_partner_ids(partner.raw());
    return c;
  }
  v1::Record Consent(const v1::Record& person, v1::ConsentPurpose purpose, const std::string& given_on,
                     std::vector<Uuid> partners = {}) {
    Result<v1::Record> r = device_->RecordConsent(ConsentBody(person, purpose, given_on, partners));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : v1::Record();
  }

  v1::Referral Referral(const v1::Record& person, const std::string& made_on,
                        v1::ReferralKind kind = v1::REFERRAL_KIND_REFERRAL) {
    v1::Referral r;
    r.set_participant_id(person.id());
    r.set_kind(kind);
    r.set_partner_name("Citizens Advice");
    r.set_summary("Debt worries; prefers mornings.");
    r.set_made_on(made_on);
    return r;
  }

  v1::ContactAttempt Contact(const v1::Record& person, const std::string& at) {
    v1::ContactAttempt c;
    c.set_participant_id(person.id());
    c.set_method(v1::CONTACT_METHOD_PHONE);
    c.set_result(v1::CONTACT_RESULT_REACHED);
    c.set_attempted_at(at);
    return c;
  }

  v1::Outcome Outcome(const v1::Record& person, v1::OutcomeKind kind, const std::string& achieved_on,
                      const v1::Record* job_start = nullptr) {
    v1::Outcome o;
    o.set_participant_id(person.id());
    o.set_kind(kind);
    o.set_achieved_on(achieved_on);
    if (kind == v1::OUTCOME_KIND_JOB_START) o.set_employer("Greggs");
    if (job_start != nullptr) o.set_job_start_id(job_start->id());
    return o;
  }

  v1::Record Exit(const v1::Record& person, const std::string& exited_on) {
    v1::Exit e;
    e.set_participant_id(person.id());
    e.set_exited_on(exited_on);
    e.set_reason(v1::EXIT_REASON_ENTERED_WORK);
    Result<v1::Record> r = device_->ExitParticipant(e);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : v1::Record();
  }

  v1::Record Evidence(const v1::Record& person, const std::string& captured_on) {
    v1::EvidenceItem e;
    e.set_participant_id(person.id());
    e.set_kind(v1::EVIDENCE_KIND_OTHER);
    e.set_captured_on(captured_on);
    Result<v1::Record> r = device_->AddEvidence(e);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : v1::Record();
  }

  // Today is 2026-11-23 (the fixture's clock).
  const Uuid advice_ = Uuid::Derive("partner", "citizens-advice");
  const Uuid foodbank_ = Uuid::Derive("partner", "foodbank");
};

// ------------------------------------------------------------------ consent gates

TEST_F(ProgrammeRulesTest, AReferralNeedsAnActiveConsentToShareWithThatPartner) {
  HoldPartner(advice_, "Citizens Advice");
  HoldPartner(foodbank_, "Trussell foodbank");
  v1::Record sam = Register("Sam", "Okafor", "2026-10-01");
  EXPECT_REFUSED_SAYING(device_->MakeReferral(Referral(sam, "2026-11-23")), E::kFailedPrecondition, "consent_id",
                        "referral needs the participant's consent to share with partners on 2026-11-23 (none active)");
  EXPECT_REFUSED(device_->MakeReferral(Referral(sam, "2026-11-23", v1::REFERRAL_KIND_WARM_HANDOVER)),
                 E::kFailedPrecondition, "consent_id");
  // Signposting shares nothing.
  ASSERT_TRUE(device_->MakeReferral(Referral(sam, "2026-11-23", v1::REFERRAL_KIND_SIGNPOST)).ok());
  // Consent to hold data is not consent to share.
  const v1::Record hold = Consent(sam, v1::CONSENT_PURPOSE_HOLD_DATA, "2026-10-01");
  EXPECT_REFUSED(device_->MakeReferral(Referral(sam, "2026-11-23")), E::kFailedPrecondition, "consent_id");

  // A consent naming partners covers those; a referral naming another partner by id is refused.
  const v1::Record named = Consent(sam, v1::CONSENT_PURPOSE_SHARE_WITH_PARTNERS, "2026-11-02", {advice_});
  v1::Referral to_foodbank = Referral(sam, "2026-11-23");
  to_foodbank.set_partner_id(foodbank_.raw());
  EXPECT_REFUSED_SAYING(device_->MakeReferral(to_foodbank), E::kFailedPrecondition, "consent_id",
                        "(the active consents name other partners)");
  v1::Referral to_advice = to_foodbank;
  to_advice.set_partner_id(advice_.raw());
  Result<v1::Record> made = device_->MakeReferral(to_advice);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  ASSERT_TRUE(device_->MakeReferral(Referral(sam, "2026-11-23", v1::REFERRAL_KIND_WARM_HANDOVER)).ok());
  // Before the consent was given it did not cover anything.
  EXPECT_REFUSED(device_->MakeReferral(Referral(sam, "2026-11-01")), E::kFailedPrecondition, "consent_id");
  // A referral naming its consent rests on that one.
  v1::Referral on_hold = to_advice;
  on_hold.set_consent_id(hold.id());
  EXPECT_REFUSED_SAYING(device_->MakeReferral(on_hold), E::kFailedPrecondition, "consent_id",
                        "(the consent named in consent_id: none active)");
  v1::Referral on_named = to_advice;
  on_named.set_consent_id(named.id());
  ASSERT_TRUE(device_->MakeReferral(on_named).ok());

  // A consent naming no partner covers every partner.
  Consent(sam, v1::CONSENT_PURPOSE_SHARE_WITH_PARTNERS, "2026-11-20");
  ASSERT_TRUE(device_->MakeReferral(to_foodbank).ok());
}

// Partners are the programme's reference data (issue 16): a referral or a consent names
// one the device holds, and a referral falls within the partner's contract.
TEST_F(ProgrammeRulesTest, AReferralOrConsentNamesAPartnerHeldWhoseContractCoversTheDay) {
  HoldPartner(advice_, "Citizens Advice", "2026-11-01", "2026-11-20");
  v1::Record sam = Register("Sam", "Okafor", "2026-10-01");
  const Uuid unknown = Uuid::Derive("partner", "of-another-hub");
  EXPECT_REFUSED(device_->RecordConsent(
                     ConsentBody(sam, v1::CONSENT_PURPOSE_SHARE_WITH_PARTNERS, "2026-11-02", {advice_, unknown})),
                 E::kNotFound, "partner_ids");
  Consent(sam, v1::CONSENT_PURPOSE_SHARE_WITH_PARTNERS, "2026-11-02", {advice_});

  v1::Referral to_unknown = Referral(sam, "2026-11-10");
  to_unknown.set_partner_id(unknown.raw());
  EXPECT_REFUSED(device_->MakeReferral(to_unknown), E::kNotFound, "partner_id");

  v1::Referral to_advice = Referral(sam, "2026-11-23");
  to_advice.set_partner_id(advice_.raw());
  EXPECT_REFUSED_SAYING(device_->MakeReferral(to_advice), E::kFailedPrecondition, "partner_id",
                        "Citizens Advice's contract ended on 2026-11-20, before the referral (2026-11-23)");
  to_advice.set_made_on("2026-10-31");
  EXPECT_REFUSED_SAYING(device_->MakeReferral(to_advice), E::kFailedPrecondition, "partner_id",
                        "Citizens Advice's contract starts on 2026-11-01, after the referral (2026-10-31)");
  to_advice.set_made_on("2026-11-20");  // its last day
  Result<v1::Record> made = device_->MakeReferral(to_advice);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  // Made within the contract, it moves on after the contract ended.
  ASSERT_TRUE(device_->MoveReferral(IdOf(*made), v1::REFERRAL_STATUS_ACCEPTED).ok());

  // A consent held from before partners were reference data, naming one no one holds, is
  // still withdrawn; naming that partner anew is refused.
  v1::Consent old = ConsentBody(sam, v1::CONSENT_PURPOSE_SHARE_WITH_PARTNERS, "2026-11-03", {unknown});
  old.set_participant_id(sam.id());
  const Uuid old_id = Uuid::Derive("consent", "from-before");
  HoldReference(old_id, v1::RECORD_TYPE_CONSENT, old);
  Result<v1::Record> withdrawn = device_->WithdrawConsent(old_id, "2026-11-22");
  ASSERT_TRUE(withdrawn.ok()) << withdrawn.status().ToString();
  EXPECT_REFUSED(
      device_->RecordConsent(ConsentBody(sam, v1::CONSENT_PURPOSE_SHARE_WITH_PARTNERS, "2026-11-22", {unknown})),
      E::kNotFound, "partner_ids");
}

// The programme the hub delivers (issue 16): its age range and strands hold for
// registrations, and a new validation file records its eligibility rules version.
TEST_F(ProgrammeRulesTest, TheHubsProgrammeSetsTheAgesStrandsAndRulesVersion) {
  EXPECT_EQ(device_->Programme().status().code(), E::kNotFound);
  // Before a programme is held: 16 to 100, any strand.
  v1::Participant young;
  young.set_given_name("Kai");
  young.set_family_name("Moss");
  young.set_date_of_birth("2008-01-01");  // 18 on 2026-11-23
  young.set_programme_strand("anything");
  ASSERT_TRUE(device_->RegisterParticipant(young).ok());

  v1::Programme bbo;
  bbo.set_name("Building Better Opportunities");
  bbo.set_funder("ESF");
  bbo.add_hub_ids(Uuid::Derive("hub", "north").raw());
  bbo.add_strands("BBO");
  bbo.add_strands("BBO Plus");
  bbo.set_min_age(25);
  bbo.set_max_age(64);
  bbo.set_rules_version("2026-04");
  HoldReference(Uuid::Derive("programme", "bbo"), v1::RECORD_TYPE_PROGRAMME, bbo);
  Result<v1::Record> held = device_->Programme();
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_EQ(held->programme().name(), "Building Better Opportunities");

  young.set_family_name("Moss-Two");
  young.clear_programme_strand();
  EXPECT_REFUSED_SAYING(device_->RegisterParticipant(young), E::kInvalidArgument, "date_of_birth",
                        "Building Better Opportunities takes people aged 25 to 64");
  young.set_date_of_birth("1990-01-01");
  young.set_programme_strand("ESF");
  EXPECT_REFUSED_SAYING(device_->RegisterParticipant(young), E::kInvalidArgument, "programme_strand",
                        "'ESF' is not a strand of Building Better Opportunities (its strands: BBO, BBO Plus)");
  young.set_programme_strand("BBO Plus");
  Result<v1::Record> kai = device_->RegisterParticipant(young);
  ASSERT_TRUE(kai.ok()) << kai.status().ToString();

  // Someone registered under the old range is not refused an unrelated edit.
  Result<std::vector<v1::Record>> people = device_->FindParticipants("Kai Moss");
  ASSERT_TRUE(people.ok());
  v1::Record first;
  for (const v1::Record& r : *people) {
    if (r.participant().family_name() == "Moss") first = r;
  }
  ASSERT_FALSE(first.id().empty());
  v1::Participant moved = first.participant();
  moved.set_postcode("LS1 4AP");
  EXPECT_TRUE(device_->UpdateParticipant(IdOf(first), moved).ok());

  // A new validation file records the rules in force.
  Consent(*kai, v1::CONSENT_PURPOSE_HOLD_DATA, "2026-11-23");
  v1::Validation file;
  file.set_participant_id(kai->id());
  Result<v1::Record> opened = device_->OpenValidation(file);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->validation().rules_version(), "2026-04");
}

TEST_F(ProgrammeRulesTest, PartnersAreListedByNameButNotOnAKiosk) {
  HoldPartner(foodbank_, "Trussell foodbank");
  HoldPartner(advice_, "Citizens Advice");
  Result<std::vector<v1::Record>> partners = device_->Partners();
  ASSERT_TRUE(partners.ok()) << partners.status().ToString();
  ASSERT_EQ(partners->size(), 2u);
  EXPECT_EQ((*partners)[0].partner_organisation().name(), "Citizens Advice");
  EXPECT_EQ((*partners)[1].partner_organisation().name(), "Trussell foodbank");
  ActAs(v1::ROLE_KIOSK, "Library kiosk");
  EXPECT_EQ(device_->Partners().status().code(), E::kPermissionDenied);
}

TEST_F(ProgrammeRulesTest, AWithdrawnConsentStopsWhatItCoveredFromItsWithdrawalDate) {
  v1::Record sam = Register("Sam", "Okafor", "2026-10-01");
  const v1::Record share = Consent(sam, v1::CONSENT_PURPOSE_SHARE_WITH_PARTNERS, "2026-10-01");
  ASSERT_TRUE(device_->WithdrawConsent(IdOf(share), "2026-11-10").ok());
  ASSERT_TRUE(device_->MakeReferral(Referral(sam, "2026-11-09")).ok());
  EXPECT_REFUSED_SAYING(device_->MakeReferral(Referral(sam, "2026-11-10")), E::kFailedPrecondition, "consent_id",
                        "share with partners on 2026-11-10 (withdrawn on 2026-11-10)");

  // A validation file is submitted only while the consent to hold data is active.
  v1::Validation file;
  file.set_participant_id(sam.id());
  file.set_rules_version("esf-2024.2");
  Result<v1::Record> draft = device_->OpenValidation(file);
  ASSERT_TRUE(draft.ok()) << draft.status().ToString();
  EXPECT_REFUSED_SAYING(device_->MoveValidation(IdOf(*draft), v1::VALIDATION_STATUS_SUBMITTED), E::kFailedPrecondition,
                        "status",
                        "submitting the validation file needs the participant's consent to hold their data on "
                        "2026-11-23 (none active)");
  v1::Validation submitted = file;
  submitted.set_status(v1::VALIDATION_STATUS_SUBMITTED);
  EXPECT_REFUSED(device_->OpenValidation(submitted), E::kFailedPrecondition, "status");
  const v1::Record hold = Consent(sam, v1::CONSENT_PURPOSE_HOLD_DATA, "2026-10-01");
  ASSERT_TRUE(device_->MoveValidation(IdOf(*draft), v1::VALIDATION_STATUS_SUBMITTED).ok());
  ActAs(v1::ROLE_COORDINATOR, "casey");  // the pre-check is a coordinator's
  ASSERT_TRUE(device_
                  ->MoveValidation(IdOf(*draft), v1::VALIDATION_STATUS_PRECHECK_RETURNED,
                                   {v1::VALIDATION_REJECTION_REASON_SELF_DECLARATION})
                  .ok());
  ActAs(v1::ROLE_ADVISER, "alex");
  ASSERT_TRUE(device_->WithdrawConsent(IdOf(hold), "2026-11-23").ok());
  EXPECT_REFUSED_SAYING(device_->MoveValidation(IdOf(*draft), v1::VALIDATION_STATUS_SUBMITTED), E::kFailedPrecondition,
                        "status", "(withdrawn on 2026-11-23)");
  EXPECT_REFUSED(device_->OpenValidation(submitted), E::kFailedPrecondition, "status");
}

TEST_F(ProgrammeRulesTest, AfterExitOnlyContactsAndOutcomesWithConsentToBeTrackedAreRecorded) {
  v1::Record sam = Register("Sam", "Okafor", "2026-09-01");
  Exit(sam, "2026-10-01");
  EXPECT_REFUSED_SAYING(device_->LogContact(Contact(sam, "2026-11-20T10:00")), E::kFailedPrecondition, "attempted_at",
                        "contact_attempt dated after the participant's exit (2026-10-01) needs the participant's "
                        "consent to be tracked after exit on 2026-11-20 (none active)");
  EXPECT_REFUSED(device_->RecordOutcome(Outcome(sam, v1::OUTCOME_KIND_VOLUNTEERING, "2026-11-20")),
                 E::kFailedPrecondition, "achieved_on");
  // Up to the exit day itself the record is within the journey.
  ASSERT_TRUE(device_->LogContact(Contact(sam, "2026-10-01T16:00")).ok());
  ASSERT_TRUE(device_->LogContact(Contact(sam, "2026-09-20T09:00")).ok());

  // Nothing else is recorded after the exit, consent or not.
  v1::CaseNote note;
  note.set_participant_id(sam.id());
  note.set_text("Called about the new job");
  note.set_written_at("2026-11-20T10:05");
  EXPECT_REFUSED_SAYING(device_->AddCaseNote(note), E::kInvalidArgument, "written_at",
                        "2026-11-20T10:05 is after the participant's exit (2026-10-01)");
  v1::Barrier barrier;
  barrier.set_participant_id(sam.id());
  barrier.set_kind(v1::BARRIER_KIND_TRANSPORT);
  barrier.set_identified_on("2026-11-20");
  EXPECT_REFUSED(device_->RecordBarrier(barrier), E::kInvalidArgument, "identified_on");

  const v1::Record track = Consent(sam, v1::CONSENT_PURPOSE_TRACK_AFTER_EXIT, "2026-09-15");
  Result<v1::Record> call = device_->LogContact(Contact(sam, "2026-11-20T10:00"));
  ASSERT_TRUE(call.ok()) << call.status().ToString();
  ASSERT_TRUE(device_->RecordOutcome(Outcome(sam, v1::OUTCOME_KIND_VOLUNTEERING, "2026-11-20")).ok());
  EXPECT_REFUSED(device_->AddCaseNote(note), E::kInvalidArgument, "written_at");

  // Withdrawn on the 21st: tracking stops that day.
  ASSERT_TRUE(device_->WithdrawConsent(IdOf(track), "2026-11-21").ok());
  ASSERT_TRUE(device_->LogContact(Contact(sam, "2026-11-20T15:00")).ok());
  EXPECT_REFUSED_SAYING(device_->LogContact(Contact(sam, "2026-11-21T09:00")), E::kFailedPrecondition, "attempted_at",
                        "be tracked after exit on 2026-11-21 (withdrawn on 2026-11-21)");

  // Re-opened on the 22nd: from then on the journey is open again.
  ASSERT_TRUE(device_->ReopenParticipant(IdOf(sam), "2026-11-22").ok());
  ASSERT_TRUE(device_->LogContact(Contact(sam, "2026-11-22T09:00")).ok());
  note.set_written_at("2026-11-23T09:00");
  ASSERT_TRUE(device_->AddCaseNote(note).ok());
  EXPECT_REFUSED(device_->LogContact(Contact(sam, "2026-11-21T09:00")), E::kFailedPrecondition, "attempted_at");
}

// ------------------------------------------------------------------ outcome rules

TEST_F(ProgrammeRulesTest, ASustainmentLinksItsJobStartAndComesAtLeast13Or26WeeksAfterIt) {
  v1::Record sam = Register("Sam", "Okafor", "2026-04-01");
  v1::Record jo = Register("Jo", "Bloggs", "2026-04-01");
  Result<v1::Record> start = device_->RecordOutcome(Outcome(sam, v1::OUTCOME_KIND_JOB_START, "2026-05-01"));
  ASSERT_TRUE(start.ok()) << start.status().ToString();
  Result<v1::Record> volunteering = device_->RecordOutcome(Outcome(sam, v1::OUTCOME_KIND_VOLUNTEERING, "2026-04-20"));
  ASSERT_TRUE(volunteering.ok());
  Result<v1::Record> jos_start = device_->RecordOutcome(Outcome(jo, v1::OUTCOME_KIND_JOB_START, "2026-05-01"));
  ASSERT_TRUE(jos_start.ok());

  EXPECT_REFUSED_SAYING(device_->RecordOutcome(Outcome(sam, v1::OUTCOME_KIND_SUSTAINED_13_WEEKS, "2026-08-15")),
                        E::kInvalidArgument, "job_start_id", "a sustainment names the job start it sustains");
  EXPECT_REFUSED_SAYING(
      device_->RecordOutcome(Outcome(sam, v1::OUTCOME_KIND_SUSTAINED_13_WEEKS, "2026-08-15", &*volunteering)),
      E::kInvalidArgument, "job_start_id", "is a volunteering outcome, not a job start");
  EXPECT_REFUSED_SAYING(
      device_->RecordOutcome(Outcome(sam, v1::OUTCOME_KIND_SUSTAINED_13_WEEKS, "2026-08-15", &*jos_start)),
      E::kInvalidArgument, "job_start_id", "belongs to another participant");
  v1::Outcome stray = Outcome(sam, v1::OUTCOME_KIND_QUALIFICATION, "2026-08-15", &*start);
  EXPECT_REFUSED(device_->RecordOutcome(stray), E::kInvalidArgument, "job_start_id");
  // Six days after the job start (the case), and one day short of 13 weeks.
  EXPECT_REFUSED_SAYING(
      device_->RecordOutcome(Outcome(sam, v1::OUTCOME_KIND_SUSTAINED_13_WEEKS, "2026-05-07", &*start)),
      E::kInvalidArgument, "achieved_on",
      "2026-05-07 is 6 days after the job start (2026-05-01); a 13-week sustainment is at least "
      "91 days after it (from 2026-07-31)");
  EXPECT_REFUSED(device_->RecordOutcome(Outcome(sam, v1::OUTCOME_KIND_SUSTAINED_13_WEEKS, "2026-07-30", &*start)),
                 E::kInvalidArgument, "achieved_on");
  Result<v1::Record> thirteen =
      device_->RecordOutcome(Outcome(sam, v1::OUTCOME_KIND_SUSTAINED_13_WEEKS, "2026-07-31", &*start));
  ASSERT_TRUE(thirteen.ok()) << thirteen.status().ToString();
  EXPECT_EQ(thirteen->outcome().job_start_id(), start->id());
  // One claim of a kind per participant still holds.
  EXPECT_REFUSED(device_->RecordOutcome(Outcome(sam, v1::OUTCOME_KIND_SUSTAINED_13_WEEKS, "2026-08-01", &*start)),
                 E::kAlreadyExists, "kind");
  EXPECT_REFUSED_SAYING(
      device_->RecordOutcome(Outcome(sam, v1::OUTCOME_KIND_SUSTAINED_26_WEEKS, "2026-10-29", &*start)),
      E::kInvalidArgument, "achieved_on", "a 26-week sustainment is at least 182 days after it");

  // The 26-week check after exit: refused without consent to be tracked, recorded with it.
  Exit(sam, "2026-09-30");
  EXPECT_REFUSED(device_->RecordOutcome(Outcome(sam, v1::OUTCOME_KIND_SUSTAINED_26_WEEKS, "2026-10-30", &*start)),
                 E::kFailedPrecondition, "achieved_on");
  Consent(sam, v1::CONSENT_PURPOSE_TRACK_AFTER_EXIT, "2026-04-01");
  Result<v1::Record> twenty_six =
      device_->RecordOutcome(Outcome(sam, v1::OUTCOME_KIND_SUSTAINED_26_WEEKS, "2026-10-30", &*start));
  ASSERT_TRUE(twenty_six.ok()) << twenty_six.status().ToString();
}

TEST_F(ProgrammeRulesTest, AnOutcomeIsEvidencedOnlyWithAnEvidenceItemLinked) {
  v1::Record sam = Register("Sam", "Okafor", "2026-10-01");
  Result<v1::Record> job = device_->RecordOutcome(Outcome(sam, v1::OUTCOME_KIND_JOB_START, "2026-11-16"));
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_REFUSED_SAYING(device_->MoveOutcome(IdOf(*job), v1::OUTCOME_STATUS_EVIDENCED), E::kInvalidArgument,
                        "evidence_ids", "link at least one evidence item before the outcome is evidenced");
  const v1::Record payslip = Evidence(sam, "2026-11-20");
  v1::Outcome with_payslip = job->outcome();
  with_payslip.add_evidence_ids(payslip.id());
  ASSERT_TRUE(device_->Update(IdOf(*job), with_payslip).ok());
  ASSERT_TRUE(device_->MoveOutcome(IdOf(*job), v1::OUTCOME_STATUS_EVIDENCED).ok());
  ActAs(v1::ROLE_COORDINATOR, "casey");  // verified by a coordinator, claimed by a manager
  ASSERT_TRUE(device_->MoveOutcome(IdOf(*job), v1::OUTCOME_STATUS_VERIFIED).ok());
  ActAs(v1::ROLE_MANAGER, "mo");
  ASSERT_TRUE(device_->MoveOutcome(IdOf(*job), v1::OUTCOME_STATUS_CLAIMED).ok());
  // Nor does it keep a later status once its evidence is unlinked.
  v1::Outcome unlinked = device_->Get(IdOf(*job))->outcome();
  unlinked.clear_evidence_ids();
  EXPECT_REFUSED(device_->Update(IdOf(*job), unlinked), E::kInvalidArgument, "evidence_ids");
}

// ------------------------------------------------------------------ date rules

TEST_F(ProgrammeRulesTest, NothingIsDatedBeforeRegistrationButTheReferral) {
  v1::Record sam = Register("Sam", "Okafor", "2026-11-01");
  v1::Exit early;
  early.set_participant_id(sam.id());
  early.set_exited_on("2020-01-04");
  early.set_reason(v1::EXIT_REASON_ENTERED_WORK);
  EXPECT_REFUSED_SAYING(device_->ExitParticipant(early), E::kInvalidArgument, "exited_on",
                        "2020-01-04 is before the participant was registered (2026-11-01)");
  EXPECT_REFUSED(device_->LogContact(Contact(sam, "2026-10-31T17:00")), E::kInvalidArgument, "attempted_at");
  EXPECT_REFUSED(device_->RecordOutcome(Outcome(sam, v1::OUTCOME_KIND_JOB_START, "2026-10-15")), E::kInvalidArgument,
                 "achieved_on");
  const v1::Consent consent = ConsentBody(sam, v1::CONSENT_PURPOSE_HOLD_DATA, "2026-10-30");
  EXPECT_REFUSED_SAYING(device_->RecordConsent(consent), E::kInvalidArgument, "given_on",
                        "2026-10-30 is before the participant was registered (2026-11-01)");
  v1::CaseNote note;
  note.set_participant_id(sam.id());
  note.set_text("Met at the food bank");
  note.set_written_at("2026-10-20T11:00");
  EXPECT_REFUSED(device_->AddCaseNote(note), E::kInvalidArgument, "written_at");
  v1::Attendance mark;
  mark.set_session_id(Session(0, "2026-10-20T10:00").id());
  mark.set_participant_id(sam.id());
  mark.set_status(v1::ATTENDANCE_STATUS_ATTENDED);
  mark.set_marked_at("2026-10-20T10:00");
  EXPECT_REFUSED(device_->MarkAttendance(mark), E::kInvalidArgument, "marked_at");
  // The referral that brought them in comes first.
  ASSERT_TRUE(device_->MakeReferral(Referral(sam, "2026-10-20", v1::REFERRAL_KIND_SIGNPOST)).ok());
  // On the registration day itself everything is within the journey.
  ASSERT_TRUE(device_->LogContact(Contact(sam, "2026-11-01T09:00")).ok());
  ASSERT_TRUE(device_
                  ->ExitParticipant([&] {
                    early.set_exited_on("2026-11-01");
                    return early;
                  }())
                  .ok());
}

TEST_F(ProgrammeRulesTest, ConsentsEvidenceContactsAttendanceAndOutcomesAreNotDatedAfterToday) {
  v1::Record sam = Register("Sam", "Okafor", "2026-11-01");
  v1::Consent consent = ConsentBody(sam, v1::CONSENT_PURPOSE_HOLD_DATA, "2026-11-24");
  EXPECT_REFUSED_SAYING(device_->RecordConsent(consent), E::kInvalidArgument, "given_on",
                        "2026-11-24 is in the future (today is 2026-11-23)");
  v1::EvidenceItem evidence;
  evidence.set_participant_id(sam.id());
  evidence.set_kind(v1::EVIDENCE_KIND_PASSPORT);
  evidence.set_captured_on("2026-12-01");
  EXPECT_REFUSED(device_->AddEvidence(evidence), E::kInvalidArgument, "captured_on");
  EXPECT_REFUSED(device_->LogContact(Contact(sam, "2026-11-24T09:00")), E::kInvalidArgument, "attempted_at");
  EXPECT_REFUSED_SAYING(device_->RecordOutcome(Outcome(sam, v1::OUTCOME_KIND_JOB_START, "2031-01-06")),
                        E::kInvalidArgument, "achieved_on", "2031-01-06 is in the future");
  v1::Attendance mark;
  mark.set_session_id(Session(0, "2026-11-24T10:00").id());
  mark.set_participant_id(sam.id());
  mark.set_status(v1::ATTENDANCE_STATUS_ATTENDED);
  mark.set_marked_at("2026-11-24T10:00");
  EXPECT_REFUSED(device_->MarkAttendance(mark), E::kInvalidArgument, "marked_at");
  // Later today is today.
  ASSERT_TRUE(device_->LogContact(Contact(sam, "2026-11-23T18:00")).ok());
  consent.set_given_on("2026-11-23");
  ASSERT_TRUE(device_->RecordConsent(consent).ok());
}

TEST_F(ProgrammeRulesTest, ADateOfBirthGivesAnAgeWithinTheProgrammesRange) {
  static_assert(validation::kProgrammeAges.min == 16 && validation::kProgrammeAges.max == 100);
  auto person = [](const std::string& born, const std::string& registered_on = "") {
    v1::Participant p;
    p.set_given_name("Alex");
    p.set_family_name("Young");
    p.set_date_of_birth(born);
    p.set_registered_on(registered_on);
    return p;
  };
  EXPECT_REFUSED_SAYING(
      device_->RegisterParticipant(person("2026-11-17")), E::kInvalidArgument, "date_of_birth",
      "2026-11-17 gives an age of 0 on 2026-11-23 (registration); the programme takes people aged 16 to 100");
  EXPECT_REFUSED(device_->RegisterParticipant(person("2010-11-24")), E::kInvalidArgument, "date_of_birth");  // 15
  EXPECT_REFUSED(device_->RegisterParticipant(person("1925-11-23")), E::kInvalidArgument, "date_of_birth");  // 101
  // Aged on the registration date, not today.
  EXPECT_REFUSED_SAYING(device_->RegisterParticipant(person("2005-01-01", "2020-06-01")), E::kInvalidArgument,
                        "date_of_birth", "gives an age of 15 on 2020-06-01 (registration)");
  Result<v1::Record> sixteen = device_->RegisterParticipant(person("2010-11-23"));
  ASSERT_TRUE(sixteen.ok()) << sixteen.status().ToString();
  ASSERT_TRUE(device_->RegisterParticipant(person("1926-11-22")).ok());  // 100
  // A correction is held to the same range.
  v1::Participant younger = sixteen->participant();
  younger.set_date_of_birth("2011-01-01");
  EXPECT_REFUSED(device_->UpdateParticipant(IdOf(*sixteen), younger), E::kInvalidArgument, "date_of_birth");
}

}  // namespace
}  // namespace outreach::testing
