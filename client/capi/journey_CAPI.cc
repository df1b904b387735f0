// outreach.h: the participant journey (DOMAIN.md steps 1-14) over outreach::Device.
#include <utility>
#include <vector>

#include "client/capi/capi_support.h"

namespace v1 = outreach::v1;
using outreach::Device;
using outreach::Status;
using outreach::capi::EmitRecord;
using outreach::capi::OptionalText;
using outreach::capi::ParseBody;
using outreach::capi::ParseEnum;
using outreach::capi::ParseId;
using outreach::capi::Run;

namespace {

// A call that takes a body message of type Body and returns the stored record.
template <typename Body, typename Op>
outreach_status Create(outreach_device* device, outreach_format format, const char* body, size_t body_size, char** out,
                       size_t* out_size, outreach_error** error, Op op) noexcept {
  return Run(device, format, out, out_size, error, [&](Device& d) -> Status {
    Body message;
    OUTREACH_RETURN_IF_ERROR(ParseBody(format, body, body_size, &message));
    return EmitRecord(format, op(d, std::move(message)), out, out_size);
  });
}

// "a, b" -> the rejection reasons; errors name "reasons".
outreach::Result<std::vector<v1::ValidationRejectionReason>> ParseReasons(const char* text) {
  std::vector<v1::ValidationRejectionReason> reasons;
  std::string_view rest = text == nullptr ? std::string_view() : std::string_view(text);
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string item(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (item.empty()) continue;
    auto reason =
        ParseEnum<v1::ValidationRejectionReason>(item.c_str(), v1::ValidationRejectionReason_descriptor(), "reasons");
    if (!reason.ok()) return reason.status();
    reasons.push_back(*reason);
  }
  return reasons;
}

}  // namespace

extern "C" {

outreach_status outreach_participant_register(outreach_device* device, outreach_format format, const char* body,
                                              size_t body_size, char** out, size_t* out_size, outreach_error** error) {
  return Create<v1::Participant>(device, format, body, body_size, out, out_size, error,
                                 [](Device& d, v1::Participant p) { return d.RegisterParticipant(std::move(p)); });
}

outreach_status outreach_participant_update(outreach_device* device, outreach_format format, const char* participant_id,
                                            const char* body, size_t body_size, char** out, size_t* out_size,
                                            outreach_error** error) {
  return Create<v1::Participant>(device, format, body, body_size, out, out_size, error,
                                 [&](Device& d, v1::Participant p) -> outreach::Result<v1::Record> {
                                   auto id = ParseId(participant_id, "participant_id");
                                   if (!id.ok()) return id.status();
                                   return d.UpdateParticipant(*id, p);
                                 });
}

outreach_status outreach_enquiry_record(outreach_device* device, outreach_format format, const char* body,
                                        size_t body_size, char** out, size_t* out_size, outreach_error** error) {
  return Create<v1::Enquiry>(device, format, body, body_size, out, out_size, error,
                             [](Device& d, v1::Enquiry e) { return d.RecordEnquiry(std::move(e)); });
}

outreach_status outreach_participant_register_from_enquiry(outreach_device* device, outreach_format format,
                                                           const char* enquiry_id, const char* body, size_t body_size,
                                                           char** out, size_t* out_size, outreach_error** error) {
  return Create<v1::Participant>(device, format, body, body_size, out, out_size, error,
                                 [&](Device& d, v1::Participant p) -> outreach::Result<v1::Record> {
                                   auto id = ParseId(enquiry_id, "enquiry_id");
                                   if (!id.ok()) return id.status();
                                   return d.RegisterFromEnquiry(*id, std::move(p));
                                 });
}

outreach_status outreach_consent_record(outreach_device* device, outreach_format format, const char* body,
                                        size_t body_size, char** out, size_t* out_size, outreach_error** error) {
  return Create<v1::Consent>(device, format, body, body_size, out, out_size, error,
                             [](Device& d, v1::Consent c) { return d.RecordConsent(std::move(c)); });
}

outreach_status outreach_consent_withdraw(outreach_device* device, outreach_format format, const char* consent_id,
                                          const char* withdrawn_on, char** out, size_t* out_size,
                                          outreach_error** error) {
  return Run(device, format, out, out_size, error, [&](Device& d) -> Status {
    auto id = ParseId(consent_id, "consent_id");
    if (!id.ok()) return id.status();
    return EmitRecord(format, d.WithdrawConsent(*id, OptionalText(withdrawn_on)), out, out_size);
  });
}

outreach_status outreach_evidence_add(outreach_device* device, outreach_format format, const char* body,
                                      size_t body_size, char** out, size_t* out_size, outreach_error** error) {
  return Create<v1::EvidenceItem>(device, format, body, body_size, out, out_size, error,
                                  [](Device& d, v1::EvidenceItem e) { return d.AddEvidence(std::move(e)); });
}

outreach_status outreach_validation_open(outreach_device* device, outreach_format format, const char* body,
                                         size_t body_size, char** out, size_t* out_size, outreach_error** error) {
  return Create<v1::Validation>(device, format, body, body_size, out, out_size, error,
                                [](Device& d, v1::Validation v) { return d.OpenValidation(std::move(v)); });
}

outreach_status outreach_validation_move(outreach_device* device, outreach_format format, const char* validation_id,
                                         const char* to, const char* reasons, const char* note, char** out,
                                         size_t* out_size, outreach_error** error) {
  return Run(device, format, out, out_size, error, [&](Device& d) -> Status {
    auto id = ParseId(validation_id, "validation_id");
    if (!id.ok()) return id.status();
    auto status = ParseEnum<v1::ValidationStatus>(to, v1::ValidationStatus_descriptor(), "to");
    if (!status.ok()) return status.status();
    auto parsed_reasons = ParseReasons(reasons);
    if (!parsed_reasons.ok()) return parsed_reasons.status();
    return EmitRecord(format, d.MoveValidation(*id, *status, std::move(parsed_reasons).value(), OptionalText(note)),
                      out, out_size);
  });
}

outreach_status outreach_barrier_record(outreach_device* device, outreach_format format, const char* body,
                                        size_t body_size, char** out, size_t* out_size, outreach_error** error) {
  return Create<v1::Barrier>(device, format, body, body_size, out, out_size, error,
                             [](Device& d, v1::Barrier b) { return d.RecordBarrier(std::move(b)); });
}

outreach_status outreach_segment_set(outreach_device* device, outreach_format format, const char* body,
                                     size_t body_size, char** out, size_t* out_size, outreach_error** error) {
  return Create<v1::Segment>(device, format, body, body_size, out, out_size, error,
                             [](Device& d, v1::Segment s) { return d.SetSegment(std::move(s)); });
}

outreach_status outreach_assessment_record(outreach_device* device, outreach_format format, const char* body,
                                           size_t body_size, char** out, size_t* out_size, outreach_error** error) {
  return Create<v1::Assessment>(device, format, body, body_size, out, out_size, error,
                                [](Device& d, v1::Assessment a) { return d.RecordAssessment(std::move(a)); });
}

outreach_status outreach_action_plan_create(outreach_device* device, outreach_format format, const char* body,
                                            size_t body_size, char** out, size_t* out_size, outreach_error** error) {
  return Create<v1::ActionPlan>(device, format, body, body_size, out, out_size, error,
                                [](Device& d, v1::ActionPlan p) { return d.CreateActionPlan(std::move(p)); });
}

outreach_status outreach_action_step_add(outreach_device* device, outreach_format format, const char* body,
                                         size_t body_size, char** out, size_t* out_size, outreach_error** error) {
  return Create<v1::ActionStep>(device, format, body, body_size, out, out_size, error,
                                [](Device& d, v1::ActionStep s) { return d.AddActionStep(std::move(s)); });
}

outreach_status outreach_session_create(outreach_device* device, outreach_format format, const char* body,
                                        size_t body_size, char** out, size_t* out_size, outreach_error** error) {
  return Create<v1::Session>(device, format, body, body_size, out, out_size, error,
                             [](Device& d, v1::Session s) { return d.CreateSession(std::move(s)); });
}

outreach_status outreach_session_book(outreach_device* device, outreach_format format, const char* body,
                                      size_t body_size, char** out, size_t* out_size, outreach_error** error) {
  return Create<v1::Booking>(device, format, body, body_size, out, out_size, error,
                             [](Device& d, v1::Booking b) { return d.BookSession(std::move(b)); });
}

outreach_status outreach_attendance_mark(outreach_device* device, outreach_format format, const char* body,
                                         size_t body_size, char** out, size_t* out_size, outreach_error** error) {
  return Create<v1::Attendance>(device, format, body, body_size, out, out_size, error,
                                [](Device& d, v1::Attendance a) { return d.MarkAttendance(std::move(a)); });
}

outreach_status outreach_kiosk_sign_in(outreach_device* device, outreach_format format, const char* session_id,
                                       const char* reference, char** out, size_t* out_size, outreach_error** error) {
  return Run(device, format, out, out_size, error, [&](Device& d) -> Status {
    auto id = ParseId(session_id, "session_id");
    if (!id.ok()) return id.status();
    if (reference == nullptr || *reference == '\0') return Status::InvalidArgument("reference", "is required");
    return EmitRecord(format, d.SignInByReference(*id, reference), out, out_size);
  });
}

outreach_status outreach_contact_log(outreach_device* device, outreach_format format, const char* body,
                                     size_t body_size, char** out, size_t* out_size, outreach_error** error) {
  return Create<v1::ContactAttempt>(device, format, body, body_size, out, out_size, error,
                                    [](Device& d, v1::ContactAttempt c) { return d.LogContact(std::move(c)); });
}

outreach_status outreach_referral_make(outreach_device* device, outreach_format format, const char* body,
                                       size_t body_size, char** out, size_t* out_size, outreach_error** error) {
  return Create<v1::Referral>(device, format, body, body_size, out, out_size, error,
                              [](Device& d, v1::Referral r) { return d.MakeReferral(std::move(r)); });
}

outreach_status outreach_referral_move(outreach_device* device, outreach_format format, const char* referral_id,
                                       const char* to, const char* detail, char** out, size_t* out_size,
                                       outreach_error** error) {
  return Run(device, format, out, out_size, error, [&](Device& d) -> Status {
    auto id = ParseId(referral_id, "referral_id");
    if (!id.ok()) return id.status();
    auto status = ParseEnum<v1::ReferralStatus>(to, v1::ReferralStatus_descriptor(), "to");
    if (!status.ok()) return status.status();
    return EmitRecord(format, d.MoveReferral(*id, *status, OptionalText(detail)), out, out_size);
  });
}

outreach_status outreach_spend_request(outreach_device* device, outreach_format format, const char* body,
                                       size_t body_size, char** out, size_t* out_size, outreach_error** error) {
  return Create<v1::SupportSpend>(device, format, body, body_size, out, out_size, error,
                                  [](Device& d, v1::SupportSpend s) { return d.RequestSpend(std::move(s)); });
}

outreach_status outreach_spend_decide(outreach_device* device, outreach_format format, const char* spend_id,
                                      const char* to, const char* decided_by, const char* refusal_reason, char** out,
                                      size_t* out_size, outreach_error** error) {
  return Run(device, format, out, out_size, error, [&](Device& d) -> Status {
    auto id = ParseId(spend_id, "spend_id");
    if (!id.ok()) return id.status();
    auto status = ParseEnum<v1::SpendStatus>(to, v1::SpendStatus_descriptor(), "to");
    if (!status.ok()) return status.status();
    return EmitRecord(format, d.DecideSpend(*id, *status, OptionalText(decided_by), OptionalText(refusal_reason)), out,
                      out_size);
  });
}

outreach_status outreach_outcome_record(outreach_device* device, outreach_format format, const char* body,
                                        size_t body_size, char** out, size_t* out_size, outreach_error** error) {
  return Create<v1::Outcome>(device, format, body, body_size, out, out_size, error,
                             [](Device& d, v1::Outcome o) { return d.RecordOutcome(std::move(o)); });
}

outreach_status outreach_outcome_move(outreach_device* device, outreach_format format, const char* outcome_id,
                                      const char* to, const char* detail, char** out, size_t* out_size,
                                      outreach_error** error) {
  return Run(device, format, out, out_size, error, [&](Device& d) -> Status {
    auto id = ParseId(outcome_id, "outcome_id");
    if (!id.ok()) return id.status();
    auto status = ParseEnum<v1::OutcomeStatus>(to, v1::OutcomeStatus_descriptor(), "to");
    if (!status.ok()) return status.status();
    return EmitRecord(format, d.MoveOutcome(*id, *status, OptionalText(detail)), out, out_size);
  });
}

outreach_status outreach_case_note_add(outreach_device* device, outreach_format format, const char* body,
                                       size_t body_size, char** out, size_t* out_size, outreach_error** error) {
  return Create<v1::CaseNote>(device, format, body, body_size, out, out_size, error,
                              [](Device& d, v1::CaseNote n) { return d.AddCaseNote(std::move(n)); });
}

outreach_status outreach_participant_exit(outreach_device* device, outreach_format format, const char* body,
                                          size_t body_size, char** out, size_t* out_size, outreach_error** error) {
  return Create<v1::Exit>(device, format, body, body_size, out, out_size, error,
                          [](Device& d, v1::Exit e) { return d.ExitParticipant(std::move(e)); });
}

outreach_status outreach_participant_reopen(outreach_device* device, outreach_format format, const char* participant_id,
                                            const char* reopened_on, char** out, size_t* out_size,
                                            outreach_error** error) {
  return Run(device, format, out, out_size, error, [&](Device& d) -> Status {
    auto id = ParseId(participant_id, "participant_id");
    if (!id.ok()) return id.status();
    return EmitRecord(format, d.ReopenParticipant(*id, OptionalText(reopened_on)), out, out_size);
  });
}

outreach_status outreach_conflict_resolve(outreach_device* device, outreach_format format, const char* conflict_id,
                                          const char* resolution, char** out, size_t* out_size,
                                          outreach_error** error) {
  return Run(device, format, out, out_size, error, [&](Device& d) -> Status {
    auto id = ParseId(conflict_id, "conflict_id");
    if (!id.ok()) return id.status();
    auto status = ParseEnum<v1::ConflictStatus>(resolution, v1::ConflictStatus_descriptor(), "resolution");
    if (!status.ok()) return status.status();
    return EmitRecord(format, d.ResolveConflict(*id, *status), out, out_size);
  });
}

outreach_status outreach_duplicate_decide(outreach_device* device, outreach_format format, const char* review_id,
                                          const char* decision, const char* keep_participant_id, char** out,
                                          size_t* out_size, outreach_error** error) {
  return Run(device, format, out, out_size, error, [&](Device& d) -> Status {
    auto id = ParseId(review_id, "review_id");
    if (!id.ok()) return id.status();
    auto to = ParseEnum<v1::DuplicateReviewStatus>(decision, v1::DuplicateReviewStatus_descriptor(), "decision");
    if (!to.ok()) return to.status();
    outreach::Uuid kept;
    if (keep_participant_id != nullptr && *keep_participant_id != '\0') {
      auto parsed = ParseId(keep_participant_id, "keep_participant_id");
      if (!parsed.ok()) return parsed.status();
      kept = *parsed;
    }
    return EmitRecord(format, d.DecideDuplicate(*id, *to, kept), out, out_size);
  });
}

outreach_status outreach_participant_erase(outreach_device* device, outreach_format format, const char* participant_id,
                                           char** out, size_t* out_size, outreach_error** error) {
  return Run(device, format, out, out_size, error, [&](Device& d) -> Status {
    auto id = ParseId(participant_id, "participant_id");
    if (!id.ok()) return id.status();
    return EmitRecord(format, d.EraseParticipant(*id), out, out_size);
  });
}

}  // extern "C"
