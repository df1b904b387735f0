/* liboutreach: the stable C API.
 *
 * For kiosk and tablet apps (Kotlin, Swift, C#, C) that embed the offline case-capture
 * library. Plain C89/C99: opaque handles, integer status codes, caller-owned buffers.
 *
 * Conventions (every function keeps them):
 * - Every fallible function returns an outreach_status (OUTREACH_OK = 0). Its last
 *   parameter `error` is optional: when not NULL and the call fails, *error receives a
 *   new outreach_error (code, the input field the error is about or "", and a message for
 *   the person who caused it), which the caller frees with outreach_error_free(). On
 *   success *error is set to NULL. No exception or abort crosses this boundary.
 * - A refused call changes nothing stored.
 * - Records travel as serialised protobuf or as JSON, chosen per call by
 *   outreach_format. Bodies going in are the body messages of
 *   share/outreach/proto/outreach/v1/records.proto (outreach.v1.Participant, ...); a
 *   record coming out is an outreach.v1.Record; lists and query results are the
 *   messages of share/outreach/proto/outreach/v1/capi/capi.proto
 *   (outreach.v1.capi.RecordList, ...).
 * - JSON is protobuf's JSON mapping with field names as in the .proto files, and:
 *   ids (bytes fields holding a record id) are UUID strings such as
 *   "0190f0c4-7b1e-7cc3-9a2e-1f0e3c5d6b7a"; enums are short names ("late" for
 *   ATTENDANCE_STATUS_LATE; full names and numbers are accepted on input); 64-bit
 *   integers are numbers; a Record is one flat object: "id", "type" (e.g.
 *   "participant"), "hub_id", "deleted", "erased", then the fields of its body. A
 *   record's JSON is accepted wherever its body is (the metadata members are skipped),
 *   so an app can read a record, change a member and send it back as the new state.
 * - Output buffers (`char** out, size_t* out_size`) are allocated by the library and
 *   freed by the caller with outreach_free(). JSON output is also NUL-terminated
 *   (out_size excludes the NUL). `out` may be NULL when the result is not wanted;
 *   `out_size` may be NULL. On failure *out is NULL.
 * - Ids passed as `const char*` are UUID strings. Enum values passed as `const char*`
 *   (statuses, resolutions, record types) are short names: "accepted", "took_loser".
 *   Dates are "YYYY-MM-DD"; NULL or "" for an optional date means today.
 * - Thread safety: one outreach_device may be used from one thread while outreach_sync()
 *   runs on another.
 */
#ifndef OUTREACH_OUTREACH_H_
#define OUTREACH_OUTREACH_H_

#include <stddef.h>
#include <stdint.h>

#if defined(OUTREACH_C_API_BUILD)
#define OUTREACH_API __attribute__((visibility("default")))
#else
#define OUTREACH_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Version of this interface; raised when functions are added, never when changed. */
#define OUTREACH_C_API_VERSION 2

/* Mirrors outreach::ErrorCode (common/status.h); the values never change. */
typedef enum outreach_status {
  OUTREACH_OK = 0,
  OUTREACH_INVALID_ARGUMENT = 1, /* bad input: a field missing, malformed or out of range */
  OUTREACH_NOT_FOUND = 2,        /* an id or reference that names nothing */
  OUTREACH_ALREADY_EXISTS = 3,
  OUTREACH_FAILED_PRECONDITION = 4, /* e.g. an illegal state transition */
  OUTREACH_RESOURCE_EXHAUSTED = 5,  /* e.g. a session's capacity */
  OUTREACH_PERMISSION_DENIED = 6,
  OUTREACH_UNAUTHENTICATED = 7,
  OUTREACH_CONFLICT = 8,
  OUTREACH_DATA_LOSS = 9,
  OUTREACH_IO_ERROR = 10,
  OUTREACH_PROTOCOL_ERROR = 11,
  OUTREACH_UNAVAILABLE = 12,
  OUTREACH_TIMEOUT = 13,
  OUTREACH_INTERNAL = 14
} outreach_status;

typedef struct outreach_error {
  outreach_status code;
  char* field;   /* the input field the error is about; "" when not about one field */
  char* message; /* one line for the person who caused it */
} outreach_error;

typedef enum outreach_format {
  OUTREACH_FORMAT_PROTOBUF = 0, /* serialised protobuf (binary) */
  OUTREACH_FORMAT_JSON = 1,     /* UTF-8 JSON as described above */
  /* Not a format: makes every int a valid outreach_format value, so a wrong one passed
   * from another language is refused (field "format") instead of being undefined. */
  OUTREACH_FORMAT_MAX_ENUM = 0x7FFFFFFF
} outreach_format;

/* An open device database. Opaque. */
typedef struct outreach_device outreach_device;

/* ------------------------------------------------------------------ basics */

/* The library version, e.g. "0.1.0". Static storage. */
OUTREACH_API const char* outreach_version(void);
/* Lower-case name of a status, e.g. "invalid_argument". Static storage. */
OUTREACH_API const char* outreach_status_name(outreach_status status);
/* Frees an error from any function; NULL is ignored. */
OUTREACH_API void outreach_error_free(outreach_error* error);
/* Frees a buffer returned by any function; NULL is ignored. */
OUTREACH_API void outreach_free(void* buffer);

/* ------------------------------------------------------------------ the device */

/* Opens (creating if missing) the device database at `path`. `user_name` (may be NULL)
 * is the adviser this device captures for until it is enrolled. */
OUTREACH_API outreach_status outreach_device_open(const char* path, const char* user_name, outreach_device** device,
                                                  outreach_error** error);
/* Closes the database; NULL is ignored. */
OUTREACH_API void outreach_device_close(outreach_device* device);
/* This device's id as a UUID string (free with outreach_free). */
OUTREACH_API outreach_status outreach_device_id(outreach_device* device, char** id, outreach_error** error);
/* Today's date on the device's clock, "YYYY-MM-DD" (free with outreach_free). */
OUTREACH_API outreach_status outreach_device_today(outreach_device* device, char** today, outreach_error** error);

/* ------------------------------------------------------------------ any record */

/* The record with this id (outreach.v1.Record). */
OUTREACH_API outreach_status outreach_record_get(outreach_device* device, outreach_format format, const char* id,
                                                 char** out, size_t* out_size, outreach_error** error);
/* Replaces a record's body with `body` (its full new state, same message type); only the
 * fields that differ become the change. Refused for append-only records, illegal state
 * transitions and bad values. Returns the stored record. */
OUTREACH_API outreach_status outreach_record_update(outreach_device* device, outreach_format format, const char* id,
                                                    const char* body, size_t body_size, char** out, size_t* out_size,
                                                    outreach_error** error);
/* Tombstones a record (refused for append-only records and participants). */
OUTREACH_API outreach_status outreach_record_delete(outreach_device* device, outreach_format format, const char* id,
                                                    char** out, size_t* out_size, outreach_error** error);

/* ------------------------------------------------------------------ the journey
 * Each function below takes a body message (`body`, `body_size` bytes in `format`) and
 * returns the stored outreach.v1.Record in the same format. Fields the library owns are
 * filled in when empty (dates default to today, adviser/author to the device's user,
 * initial states). */

/* 1-2. outreach.v1.Participant. Required: given_name, family_name, date_of_birth. */
OUTREACH_API outreach_status outreach_participant_register(outreach_device* device, outreach_format format,
                                                           const char* body, size_t body_size, char** out,
                                                           size_t* out_size, outreach_error** error);
/* 1. An enquiry (outreach.v1.Enquiry): a person registering interest, e.g. at a kiosk.
 * Required: given_name; phone or email; consent_to_contact = true (without it the call
 * is refused with field "consent_to_contact"). source defaults to "self", received_at
 * to now; interest says what they want help with; consent_wording_version names the
 * wording they were shown. The enquiry reaches the hub's advisers, coordinators and
 * managers at the next sync, never another kiosk. JSON example:
 *   {"given_name": "Ann", "phone": "07700 900123", "interest": "CV help",
 *    "consent_to_contact": true}
 * Returns the stored enquiry record. */
OUTREACH_API outreach_status outreach_enquiry_record(outreach_device* device, outreach_format format, const char* body,
                                                     size_t body_size, char** out, size_t* out_size,
                                                     outreach_error** error);
/* 1-2. Registers the person of an open enquiry `enquiry_id`. `body` is an
 * outreach.v1.Participant with what the enquiry lacks (at least date_of_birth, e.g.
 * {"date_of_birth": "1990-02-03"}); names, phone, email, venue, referral source and
 * date come from the enquiry where the body leaves them empty. In one transaction the participant is registered and the
 * enquiry's participant_id set to them. Refused with OUTREACH_FAILED_PRECONDITION (field "enquiry_id") for an enquiry
 * already registered. Returns the participant record. */
OUTREACH_API outreach_status outreach_participant_register_from_enquiry(outreach_device* device, outreach_format format,
                                                                        const char* enquiry_id, const char* body,
                                                                        size_t body_size, char** out, size_t* out_size,
                                                                        outreach_error** error);
/* The participant's full new state (read it with outreach_record_get, change, send). */
OUTREACH_API outreach_status outreach_participant_update(outreach_device* device, outreach_format format,
                                                         const char* participant_id, const char* body, size_t body_size,
                                                         char** out, size_t* out_size, outreach_error** error);
/* 3. outreach.v1.Consent; withdrawal keeps the consent and sets withdrawn_on. */
OUTREACH_API outreach_status outreach_consent_record(outreach_device* device, outreach_format format, const char* body,
                                                     size_t body_size, char** out, size_t* out_size,
                                                     outreach_error** error);
OUTREACH_API outreach_status outreach_consent_withdraw(outreach_device* device, outreach_format format,
                                                       const char* consent_id, const char* withdrawn_on, char** out,
                                                       size_t* out_size, outreach_error** error);
/* 4. outreach.v1.EvidenceItem, and the validation file (outreach.v1.Validation). */
OUTREACH_API outreach_status outreach_evidence_add(outreach_device* device, outreach_format format, const char* body,
                                                   size_t body_size, char** out, size_t* out_size,
                                                   outreach_error** error);
OUTREACH_API outreach_status outreach_validation_open(outreach_device* device, outreach_format format, const char* body,
                                                      size_t body_size, char** out, size_t* out_size,
                                                      outreach_error** error);
/* Moves a validation to status `to` ("submitted", "rejected", ...). `reasons` is a
 * comma-separated list of rejection reasons ("no_proof_of_ni,annex_form"), required for
 * "rejected" and "precheck_returned"; NULL or "" otherwise. `note` may be NULL. Staff
 * submit; a coordinator or manager pre-checks (not the submitter); a manager accepts or
 * rejects (not the submitter or pre-checker). Each move is appended to the file's `moves`. */
OUTREACH_API outreach_status outreach_validation_move(outreach_device* device, outreach_format format,
                                                      const char* validation_id, const char* to, const char* reasons,
                                                      const char* note, char** out, size_t* out_size,
                                                      outreach_error** error);
/* Device-side checks before submission (outreach.v1.capi.WarningList). */
OUTREACH_API outreach_status outreach_check_before_submission(outreach_device* device, outreach_format format,
                                                              const char* participant_id, char** out, size_t* out_size,
                                                              outreach_error** error);
/* 5. outreach.v1.Barrier and outreach.v1.Segment (a new segment record per change). */
OUTREACH_API outreach_status outreach_barrier_record(outreach_device* device, outreach_format format, const char* body,
                                                     size_t body_size, char** out, size_t* out_size,
                                                     outreach_error** error);
OUTREACH_API outreach_status outreach_segment_set(outreach_device* device, outreach_format format, const char* body,
                                                  size_t body_size, char** out, size_t* out_size,
                                                  outreach_error** error);
/* 6. outreach.v1.Assessment against an instrument held on the device ("my-journey"). */
OUTREACH_API outreach_status outreach_assessment_record(outreach_device* device, outreach_format format,
                                                        const char* body, size_t body_size, char** out,
                                                        size_t* out_size, outreach_error** error);
/* Distance travelled since the baseline (outreach.v1.capi.DistanceTravelled). */
OUTREACH_API outreach_status outreach_distance_travelled(outreach_device* device, outreach_format format,
                                                         const char* participant_id, const char* instrument_id,
                                                         char** out, size_t* out_size, outreach_error** error);
/* 7. outreach.v1.ActionPlan and outreach.v1.ActionStep (update with outreach_record_update). */
OUTREACH_API outreach_status outreach_action_plan_create(outreach_device* device, outreach_format format,
                                                         const char* body, size_t body_size, char** out,
                                                         size_t* out_size, outreach_error** error);
OUTREACH_API outreach_status outreach_action_step_add(outreach_device* device, outreach_format format, const char* body,
                                                      size_t body_size, char** out, size_t* out_size,
                                                      outreach_error** error);
/* 8. outreach.v1.Session, outreach.v1.Booking (refused with
 * OUTREACH_RESOURCE_EXHAUSTED beyond capacity) and outreach.v1.Attendance (one row per
 * session and participant; marking again updates it). */
OUTREACH_API outreach_status outreach_session_create(outreach_device* device, outreach_format format, const char* body,
                                                     size_t body_size, char** out, size_t* out_size,
                                                     outreach_error** error);
OUTREACH_API outreach_status outreach_session_book(outreach_device* device, outreach_format format, const char* body,
                                                   size_t body_size, char** out, size_t* out_size,
                                                   outreach_error** error);
OUTREACH_API outreach_status outreach_attendance_mark(outreach_device* device, outreach_format format, const char* body,
                                                      size_t body_size, char** out, size_t* out_size,
                                                      outreach_error** error);
/* Kiosk sign-in: marks the person with this reference number ("K7QX-0042-M") attended
 * at the session, marked by the kiosk. Returns the attendance record. */
OUTREACH_API outreach_status outreach_kiosk_sign_in(outreach_device* device, outreach_format format,
                                                    const char* session_id, const char* reference, char** out,
                                                    size_t* out_size, outreach_error** error);
/* 9. outreach.v1.ContactAttempt. */
OUTREACH_API outreach_status outreach_contact_log(outreach_device* device, outreach_format format, const char* body,
                                                  size_t body_size, char** out, size_t* out_size,
                                                  outreach_error** error);
/* 10. outreach.v1.Referral; a warm handover needs a summary. Moving: `detail` is the
 * rejection reason (to "rejected"), the date (to "first_appointment") or the feedback
 * (to "completed"); may be NULL. */
OUTREACH_API outreach_status outreach_referral_make(outreach_device* device, outreach_format format, const char* body,
                                                    size_t body_size, char** out, size_t* out_size,
                                                    outreach_error** error);
OUTREACH_API outreach_status outreach_referral_move(outreach_device* device, outreach_format format,
                                                    const char* referral_id, const char* to, const char* detail,
                                                    char** out, size_t* out_size, outreach_error** error);
/* 11. outreach.v1.SupportSpend; decide with "approved", "paid" or "refused" (needs a
 * refusal reason): a coordinator or manager who did not request it. `decided_by` and
 * `refusal_reason` may be NULL; `decided_by`, when given, must be the device's user name
 * (who acted is always the enrolled person). */
OUTREACH_API outreach_status outreach_spend_request(outreach_device* device, outreach_format format, const char* body,
                                                    size_t body_size, char** out, size_t* out_size,
                                                    outreach_error** error);
OUTREACH_API outreach_status outreach_spend_decide(outreach_device* device, outreach_format format,
                                                   const char* spend_id, const char* to, const char* decided_by,
                                                   const char* refusal_reason, char** out, size_t* out_size,
                                                   outreach_error** error);
/* 12. outreach.v1.Outcome (one claim of a kind per participant); `detail` is the
 * rejection reason when moving to "rejected"; may be NULL. Evidenced by the participant's
 * adviser or a manager, "verified" by a coordinator who did not evidence it, claimed and
 * accepted or rejected by a manager who did not verify it. */
OUTREACH_API outreach_status outreach_outcome_record(outreach_device* device, outreach_format format, const char* body,
                                                     size_t body_size, char** out, size_t* out_size,
                                                     outreach_error** error);
OUTREACH_API outreach_status outreach_outcome_move(outreach_device* device, outreach_format format,
                                                   const char* outcome_id, const char* to, const char* detail,
                                                   char** out, size_t* out_size, outreach_error** error);
/* 13. outreach.v1.CaseNote; restricted notes never leave the device. */
OUTREACH_API outreach_status outreach_case_note_add(outreach_device* device, outreach_format format, const char* body,
                                                    size_t body_size, char** out, size_t* out_size,
                                                    outreach_error** error);
/* 14. outreach.v1.Exit (the participant becomes exited), and re-open. */
OUTREACH_API outreach_status outreach_participant_exit(outreach_device* device, outreach_format format,
                                                       const char* body, size_t body_size, char** out, size_t* out_size,
                                                       outreach_error** error);
OUTREACH_API outreach_status outreach_participant_reopen(outreach_device* device, outreach_format format,
                                                         const char* participant_id, const char* reopened_on,
                                                         char** out, size_t* out_size, outreach_error** error);
/* Resolves an open conflict: "kept_winner" or "took_loser". Returns the conflict record. */
OUTREACH_API outreach_status outreach_conflict_resolve(outreach_device* device, outreach_format format,
                                                       const char* conflict_id, const char* resolution, char** out,
                                                       size_t* out_size, outreach_error** error);
/* A hub manager's decision on a duplicate review: "merged" (keep_participant_id, one of
 * the two, is kept; NULL otherwise) or "not_duplicate". Returns the review record. */
OUTREACH_API outreach_status outreach_duplicate_decide(outreach_device* device, outreach_format format,
                                                       const char* review_id, const char* decision,
                                                       const char* keep_participant_id, char** out, size_t* out_size,
                                                       outreach_error** error);
/* Erases a participant (a data-subject request; the server accepts it from a manager):
 * personal data of the participant and every linked record are purged here now, and on
 * the server and every device at their next sync. Returns the erased record. */
OUTREACH_API outreach_status outreach_participant_erase(outreach_device* device, outreach_format format,
                                                        const char* participant_id, char** out, size_t* out_size,
                                                        outreach_error** error);

/* ------------------------------------------------------------------ queries
 * Lists are outreach.v1.capi.RecordList unless stated. */

OUTREACH_API outreach_status outreach_participants_list(outreach_device* device, outreach_format format, char** out,
                                                        size_t* out_size, outreach_error** error);
/* Every enquiry the device holds with the registration of converted ones
 * (outreach.v1.capi.EnquiryList: open enquiries first, then by received_at; a converted
 * one carries days_to_registration, the referral-to-first-contact time). Refused with
 * OUTREACH_PERMISSION_DENIED on a kiosk: enquiries are other people's data. */
OUTREACH_API outreach_status outreach_enquiries_list(outreach_device* device, outreach_format format, char** out,
                                                     size_t* out_size, outreach_error** error);
/* The instruments held (outreach.v1.capi.RecordList of outreach.v1.Instrument records, by
 * id then version): each domain's key, label and score range, for assessments. */
OUTREACH_API outreach_status outreach_instruments_list(outreach_device* device, outreach_format format, char** out,
                                                       size_t* out_size, outreach_error** error);
/* The programme this device's hub delivers (an outreach.v1.Record of an
 * outreach.v1.Programme: name, funder, strands, min_age/max_age, rules_version, hub_ids).
 * OUTREACH_NOT_FOUND before the hub has one (or before the first sync). */
OUTREACH_API outreach_status outreach_programme_show(outreach_device* device, outreach_format format, char** out,
                                                     size_t* out_size, outreach_error** error);
/* The partner organisations held (outreach.v1.capi.RecordList of
 * outreach.v1.PartnerOrganisation records, by name): those holding a contract in the
 * device's hub, for referrals and consents that name one. OUTREACH_PERMISSION_DENIED on
 * a kiosk. */
OUTREACH_API outreach_status outreach_partners_list(outreach_device* device, outreach_format format, char** out,
                                                    size_t* out_size, outreach_error** error);
/* Participants whose name contains every word of `name`. */
OUTREACH_API outreach_status outreach_participants_find(outreach_device* device, outreach_format format,
                                                        const char* name, char** out, size_t* out_size,
                                                        outreach_error** error);
/* The participant with this reference number (outreach.v1.Record); OUTREACH_NOT_FOUND
 * (field "reference") when nobody has it. */
OUTREACH_API outreach_status outreach_participant_by_reference(outreach_device* device, outreach_format format,
                                                               const char* reference, char** out, size_t* out_size,
                                                               outreach_error** error);
/* Active participants held by `adviser` (NULL: the device's user). */
OUTREACH_API outreach_status outreach_caseload(outreach_device* device, outreach_format format, const char* adviser,
                                               char** out, size_t* out_size, outreach_error** error);
/* Sessions at a venue on `day` (NULL: today) with their registers
 * (outreach.v1.capi.SessionRegisterList), by start time. */
OUTREACH_API outreach_status outreach_sessions_at_venue(outreach_device* device, outreach_format format,
                                                        const char* venue_id, const char* day, char** out,
                                                        size_t* out_size, outreach_error** error);
/* A participant's timeline (outreach.v1.capi.Timeline). */
OUTREACH_API outreach_status outreach_timeline(outreach_device* device, outreach_format format,
                                               const char* participant_id, char** out, size_t* out_size,
                                               outreach_error** error);
/* A participant's records of one type ("segment", "attendance", ...), in creation order. */
OUTREACH_API outreach_status outreach_participant_records(outreach_device* device, outreach_format format,
                                                          const char* participant_id, const char* type, char** out,
                                                          size_t* out_size, outreach_error** error);
/* Active participants not seen for `days` days or more (outreach.v1.capi.NotSeenList). */
OUTREACH_API outreach_status outreach_not_seen(outreach_device* device, outreach_format format, int days, char** out,
                                               size_t* out_size, outreach_error** error);
/* Action plans overdue (outreach.v1.capi.OverduePlanList). */
OUTREACH_API outreach_status outreach_overdue_action_plans(outreach_device* device, outreach_format format, char** out,
                                                           size_t* out_size, outreach_error** error);
/* Open conflicts. */
OUTREACH_API outreach_status outreach_conflicts(outreach_device* device, outreach_format format, char** out,
                                                size_t* out_size, outreach_error** error);
/* Possible duplicate participants still to be decided. */
OUTREACH_API outreach_status outreach_duplicates(outreach_device* device, outreach_format format, char** out,
                                                 size_t* out_size, outreach_error** error);
/* Local changes the server refused (outreach.v1.capi.RejectedChangeList). */
OUTREACH_API outreach_status outreach_rejected_changes(outreach_device* device, outreach_format format, char** out,
                                                       size_t* out_size, outreach_error** error);
/* Every record the device holds, ordered by (type, id). */
OUTREACH_API outreach_status outreach_export(outreach_device* device, outreach_format format, char** out,
                                             size_t* out_size, outreach_error** error);

/* ------------------------------------------------------------------ enrolment and sync */

/* Exchanges a one-time enrolment code (from `outreach-server enrol`) for this device's
 * credential, pinning the hub's CA certificate `ca_pem` (PEM text). `server` is
 * "host:port"; `device_name` may be NULL. Returns outreach.v1.capi.EnrolReport. */
OUTREACH_API outreach_status outreach_enrol(outreach_device* device, outreach_format format, const char* server,
                                            const char* ca_pem, const char* code, const char* device_name, char** out,
                                            size_t* out_size, outreach_error** error);

typedef enum outreach_sync_phase {
  OUTREACH_SYNC_CONNECTING = 0,
  OUTREACH_SYNC_PUSHING = 1,
  OUTREACH_SYNC_PULLING = 2,
  OUTREACH_SYNC_DONE = 3
} outreach_sync_phase;

typedef struct outreach_sync_progress {
  outreach_sync_phase phase;
  uint64_t pushed;  /* changes acknowledged so far */
  uint64_t to_push; /* changes in the outbox at the start */
  uint64_t pulled;  /* changes applied so far */
} outreach_sync_progress;

/* Called on the syncing thread as the sync advances; `progress` is valid during the call. */
typedef void (*outreach_sync_progress_fn)(const outreach_sync_progress* progress, void* user_data);

typedef struct outreach_sync_report {
  uint64_t pushed;    /* changes the server acknowledged (applied, duplicate or conflict) */
  uint64_t pulled;    /* changes applied from the server */
  uint64_t conflicts; /* of ours that the server recorded as conflicts */
  uint64_t rejected;  /* of ours that the server refused (see outreach_rejected_changes) */
  int64_t clock_skew_ms;
} outreach_sync_report;

/* Pushes the outbox, then pulls until up to date; succeeds only when the server has
 * acknowledged every pushed change. `progress` and `report` may be NULL. A revoked
 * device gets OUTREACH_UNAUTHENTICATED and its cache is wiped. */
OUTREACH_API outreach_status outreach_sync(outreach_device* device, outreach_sync_progress_fn progress, void* user_data,
                                           outreach_sync_report* report, outreach_error** error);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* OUTREACH_OUTREACH_H_ */
