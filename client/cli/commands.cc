#include "client/cli/commands.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <utility>

#include "client/capi/query_messages.h"
#include "client/capi/record_json.h"
#include "client/cli/output.h"
#include "common/cli_verbs.h"
#include "common/record_registry.h"
#include "outreach/sync.h"

namespace outreach::cli {
namespace {

using Json = nlohmann::ordered_json;

Result<Json> RecordResult(const Result<v1::Record>& record) {
  if (!record.ok()) return record.status();
  return capi::RecordToJson(*record);
}

// {"<key>": [records...]}
Result<Json> ListResult(const char* key, const Result<std::vector<v1::Record>>& records) {
  if (!records.ok()) return records.status();
  Json list = Json::array();
  for (const v1::Record& record : *records) {
    auto json = capi::RecordToJson(record);
    if (!json.ok()) return json.status();
    list.push_back(std::move(json).value());
  }
  Json result = Json::object();
  result[key] = std::move(list);
  return result;
}

// A query result converted to its capi.proto message, as JSON.
template <typename T, typename Convert>
Result<Json> MessageResult(Result<T> result, Convert convert) {
  if (!result.ok()) return result.status();
  return capi::MessageToJson(convert(std::move(result).value()));
}

// {"problems": [{"record_id", "type", "field", "value", "problem"}]}: the value as stored.
Result<Json> FormatProblemsResult(Result<std::vector<StoredFormatProblem>> problems) {
  if (!problems.ok()) return problems.status();
  Json list = Json::array();
  for (const StoredFormatProblem& p : *problems) {
    const RecordTypeInfo* info = FindRecordType(p.type);
    list.push_back(Json{{"record_id", p.record_id.ToString()},
                        {"type", info != nullptr ? std::string(info->name) : std::to_string(p.type)},
                        {"field", p.field},
                        {"value", p.value},
                        {"problem", p.problem}});
  }
  return Json{{"problems", std::move(list)}};
}

Result<Uuid> ParseIdArgument(const std::string& text, const std::string& field) {
  auto id = Uuid::Parse(text);
  if (!id.ok()) return Status::InvalidArgument(field, "'" + text + "' is not a record id (a UUID)");
  return id;
}

// The record `text` names, refused unless it is of `type`.
Result<v1::Record> GetOfType(Device& device, const std::string& text, v1::RecordType type) {
  auto id = ParseIdArgument(text, "id");
  if (!id.ok()) return id.status();
  auto record = device.Get(*id);
  if (!record.ok()) return record.status();
  if (record->type() != type) {
    const RecordTypeInfo* want = FindRecordType(type);
    const RecordTypeInfo* have = FindRecordType(record->type());
    return Status::InvalidArgument("id", text + " names a " + std::string(have ? have->name : "record") + ", not a " +
                                             std::string(want ? want->name : "record"));
  }
  return record;
}

template <typename Enum>
Result<Enum> ParseEnumArgument(const std::string& text, const google::protobuf::EnumDescriptor* type,
                               const std::string& field) {
  auto number = ParseEnumShortName(type, text, field);
  if (!number.ok()) return number.status();
  return static_cast<Enum>(*number);
}

// "communication=4" -> a DomainScore; errors name "scores".
Status AddScore(const std::string& text, v1::Assessment* assessment) {
  size_t equals = text.find('=');
  if (equals == std::string::npos || equals == 0 || equals + 1 == text.size()) {
    return Status::InvalidArgument("scores", "'" + text + "' is not DOMAIN=SCORE");
  }
  v1::DomainScore* score = assessment->add_scores();
  score->set_domain(text.substr(0, equals));
  const std::string value = text.substr(equals + 1);
  char* end = nullptr;
  long number = std::strtol(value.c_str(), &end, 10);
  if (end != value.c_str() + value.size() || number < INT32_MIN || number > INT32_MAX) {
    return Status::InvalidArgument("scores", "'" + value + "' (" + score->domain() + ") is not a whole number");
  }
  score->set_score(static_cast<int32_t>(number));
  return Status::Ok();
}

// An instrument as `instrument list` shows it: domains in their order, each with its
// scale (the scores an assessment may give it).
Json InstrumentJson(const v1::Instrument& instrument) {
  Json domains = Json::array();
  int order = 0;
  for (const v1::InstrumentDomain& domain : instrument.domains()) {
    domains.push_back({{"order", ++order},
                       {"key", domain.key()},
                       {"label", domain.label()},
                       {"min", domain.min_score()},
                       {"max", domain.max_score()}});
  }
  return {{"instrument_id", instrument.instrument_id()},
          {"version", instrument.version()},
          {"title", instrument.name()},
          {"retired", instrument.retired()},
          {"domains", std::move(domains)}};
}

std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// A one-line progress bar on the terminal (stderr), redrawn in place.
void DrawProgress(const SyncProgress& p) {
  std::ostringstream line;
  switch (p.phase) {
    case SyncProgress::Phase::kConnecting: line << "connecting"; break;
    case SyncProgress::Phase::kPushing: {
      constexpr int kWidth = 30;
      const uint64_t total = p.to_push == 0 ? 1 : p.to_push;
      const int filled = static_cast<int>(kWidth * std::min(p.pushed, total) / total);
      line << "pushing [" << std::string(static_cast<size_t>(filled), '#')
           << std::string(static_cast<size_t>(kWidth - filled), '.') << "] " << p.pushed << "/" << p.to_push;
      break;
    }
    case SyncProgress::Phase::kPulling: line << "pulling " << p.pulled << " changes"; break;
    case SyncProgress::Phase::kDone: line << "done"; break;
  }
  std::cerr << "\r" << line.str() << "\033[K" << std::flush;
}

std::string DefaultUser() {
  for (const char* name : {"OUTREACH_USER", "USER"}) {
    if (const char* value = std::getenv(name); value != nullptr && *value != '\0') return value;
  }
  return "adviser";
}

}  // namespace

CommandLine::CommandLine() : app_("outreach: offline case capture on this device's database", "outreach") {
  app_.fallthrough();  // inherited by every verb: global options anywhere on the line
  app_.require_subcommand(1);
  app_.add_option("--db", db_, "the device's SQLite file (created if missing)");
  app_.add_flag("--json", json_, "print one JSON object on stdout");
  user_ = DefaultUser();
  app_.add_option("--user", user_, "the adviser capturing (until the device is enrolled)");
  AddParticipantVerbs();
  AddSessionVerbs();
  AddJourneyVerbs();
  AddStateMoveVerbs();
  AddRecordVerbs();
  AddSyncVerbs();
}

CLI::App* CommandLine::AddVerb(CLI::App* parent, const std::string& name, const std::string& description,
                               Action action) {
  CLI::App* app = parent->add_subcommand(name, description);
  verbs_.push_back(Verb{app, std::move(action)});
  return app;
}

template <typename Body, typename Create>
CLI::App* CommandLine::AddCreateVerb(CLI::App* parent, const std::string& name, const std::string& description,
                                     Create create, const std::set<std::string>& skip) {
  CLI::App* app = parent->add_subcommand(name, description);
  auto options = std::make_shared<FieldOptions>(app, Body::descriptor(), skip);
  verbs_.push_back(Verb{app, [options, create](Device& device) -> Result<Json> {
                          Body body;
                          OUTREACH_RETURN_IF_ERROR(options->Apply(&body));
                          return RecordResult(create(device, std::move(body)));
                        }});
  return app;
}

void CommandLine::AddParticipantVerbs() {
  CLI::App* participant = app_.add_subcommand("participant", "register, change and find participants");
  participant->require_subcommand(1);
  const std::set<std::string> owned = {"reference", "status", "merged_into"};

  CLI::App* add = participant->add_subcommand("add", "register a participant");
  auto add_fields = std::make_shared<FieldOptions>(add, v1::Participant::descriptor(), owned);
  auto from_enquiry = std::make_shared<std::string>();
  add->add_option("--from-enquiry", *from_enquiry,
                  "an open enquiry (outreach enquiry list) this registers: names, phone, email, venue and "
                  "referral come from it unless given, and the enquiry is linked to the participant")
      ->type_name("UUID");
  verbs_.push_back(Verb{add, [add_fields, from_enquiry](Device& d) -> Result<Json> {
                          v1::Participant body;
                          OUTREACH_RETURN_IF_ERROR(add_fields->Apply(&body));
                          if (from_enquiry->empty()) return RecordResult(d.RegisterParticipant(std::move(body)));
                          auto id = ParseIdArgument(*from_enquiry, "enquiry_id");
                          if (!id.ok()) return id.status();
                          return RecordResult(d.RegisterFromEnquiry(*id, std::move(body)));
                        }});

  CLI::App* update = participant->add_subcommand("update", "change a participant's details");
  auto update_id = std::make_shared<std::string>();
  update->add_option("ID", *update_id, "the participant's id")->required();
  auto update_fields = std::make_shared<FieldOptions>(update, v1::Participant::descriptor(), owned);
  verbs_.push_back(Verb{update, [update_id, update_fields](Device& d) -> Result<Json> {
                          auto record = GetOfType(d, *update_id, v1::RECORD_TYPE_PARTICIPANT);
                          if (!record.ok()) return record.status();
                          v1::Participant body = record->participant();
                          OUTREACH_RETURN_IF_ERROR(update_fields->Apply(&body));
                          return RecordResult(d.UpdateParticipant(Uuid::FromBytes(record->id()).value(), body));
                        }});

  auto show_id = std::make_shared<std::string>();
  AddVerb(participant, "show", "show a participant",
          [show_id](Device& d) { return RecordResult(GetOfType(d, *show_id, v1::RECORD_TYPE_PARTICIPANT)); })
      ->add_option("ID", *show_id, "the participant's id")
      ->required();

  auto erase_id = std::make_shared<std::string>();
  AddVerb(participant, "erase", "erase a participant (data-subject request; accepted from a hub manager)",
          [erase_id](Device& d) -> Result<Json> {
            auto id = ParseIdArgument(*erase_id, "id");
            if (!id.ok()) return id.status();
            return RecordResult(d.EraseParticipant(*id));
          })
      ->add_option("ID", *erase_id, "the participant's id")
      ->required();

  AddVerb(participant, "list", "every participant on this device",
          [](Device& d) { return ListResult("participants", d.ListParticipants()); });

  auto name = std::make_shared<std::string>();
  AddVerb(participant, "find", "participants whose name contains every word given", [name](Device& d) -> Result<Json> {
    if (name->empty()) return Status::InvalidArgument("name", "is required (--name TEXT)");
    return ListResult("participants", d.FindParticipants(*name));
  })->add_option("--name", *name, "words of the name");

  auto adviser = std::make_shared<std::string>();
  AddVerb(participant, "caseload", "active participants held by an adviser (default: --user)", [adviser](Device& d) {
    return ListResult("participants", d.Caseload(*adviser));
  })->add_option("--adviser", *adviser, "the adviser");

  auto timeline_id = std::make_shared<std::string>();
  AddVerb(participant, "timeline", "everything recorded about a participant, by date",
          [timeline_id](Device& d) -> Result<Json> {
            auto id = ParseIdArgument(*timeline_id, "id");
            if (!id.ok()) return id.status();
            return MessageResult(d.Timeline(*id), capi::ToTimeline);
          })
      ->add_option("ID", *timeline_id, "the participant's id")
      ->required();

  CLI::App* enquiry = AddCreateVerb<v1::Enquiry>(
      &app_, "enquiry",
      "record an enquiry: a person registering interest (e.g. at a kiosk); needs their consent to be contacted",
      [](Device& d, v1::Enquiry e) { return d.RecordEnquiry(std::move(e)); }, {"participant_id"});
  auto open_only = std::make_shared<bool>(false);
  AddVerb(enquiry, "list",
          "enquiries: open ones first, then those registered, with days_to_registration (referral to first "
          "contact)",
          [open_only](Device& d) -> Result<Json> {
            auto lines = d.ListEnquiries();
            if (!lines.ok()) return lines.status();
            if (*open_only) {
              std::erase_if(*lines, [](const EnquiryLine& line) { return line.participant.has_value(); });
            }
            return capi::MessageToJson(capi::ToEnquiryList(std::move(lines).value()));
          })
      ->add_flag("--open", *open_only, "only enquiries not yet registered");

  auto days = std::make_shared<int>(14);
  AddVerb(participant, "not-seen", "active participants not seen for some days", [days](Device& d) -> Result<Json> {
    if (*days < 0) return Status::InvalidArgument("days", "must not be negative");
    return MessageResult(d.NotSeenFor(*days), capi::ToNotSeenList);
  })->add_option("--days", *days, "days (default 14)");
}

void CommandLine::AddSessionVerbs() {
  CLI::App* session = app_.add_subcommand("session", "sessions: create them, list today's at a venue");
  session->require_subcommand(1);
  AddCreateVerb<v1::Session>(session, "add", "create a session",
                             [](Device& d, v1::Session s) { return d.CreateSession(std::move(s)); });

  auto venue = std::make_shared<std::string>();
  auto day = std::make_shared<std::string>();
  CLI::App* list = AddVerb(session, "list", "sessions at a venue on a day (default today), with registers",
                           [venue, day](Device& d) -> Result<Json> {
                             if (venue->empty()) return Status::InvalidArgument("venue_id", "is required (--venue ID)");
                             auto id = ParseIdArgument(*venue, "venue_id");
                             if (!id.ok()) return id.status();
                             return MessageResult(d.SessionsAtVenue(*id, *day), capi::ToSessionRegisterList);
                           });
  list->add_option("--venue", *venue, "the venue's id");
  list->add_option("--day", *day, "YYYY-MM-DD (default today)");

  AddCreateVerb<v1::Booking>(&app_, "book", "book a participant into a session",
                             [](Device& d, v1::Booking b) { return d.BookSession(std::move(b)); });
  AddCreateVerb<v1::Attendance>(&app_, "attend", "mark a participant's attendance at a session",
                                [](Device& d, v1::Attendance a) { return d.MarkAttendance(std::move(a)); });

  auto sign_session = std::make_shared<std::string>();
  auto reference = std::make_shared<std::string>();
  CLI::App* sign_in = AddVerb(&app_, "sign-in", "kiosk: sign a person in to a session by reference number",
                              [sign_session, reference](Device& d) -> Result<Json> {
                                if (sign_session->empty()) {
                                  return Status::InvalidArgument("session_id", "is required (--session ID)");
                                }
                                auto id = ParseIdArgument(*sign_session, "session_id");
                                if (!id.ok()) return id.status();
                                if (reference->empty()) {
                                  return Status::InvalidArgument("reference", "is required (--reference REF)");
                                }
                                return RecordResult(d.SignInByReference(*id, *reference));
                              });
  sign_in->add_option("--session", *sign_session, "the session's id");
  sign_in->add_option("--reference", *reference, "the participant's reference number");
}

void CommandLine::AddJourneyVerbs() {
  AddCreateVerb<v1::Consent>(&app_, "consent", "record a consent",
                             [](Device& d, v1::Consent c) { return d.RecordConsent(std::move(c)); });
  AddCreateVerb<v1::EvidenceItem>(&app_, "evidence", "add an evidence item",
                                  [](Device& d, v1::EvidenceItem e) { return d.AddEvidence(std::move(e)); });
  CLI::App* validation =
      AddCreateVerb<v1::Validation>(&app_, "validation", "open a participant's validation file",
                                    [](Device& d, v1::Validation v) { return d.OpenValidation(std::move(v)); });
  auto check_participant = std::make_shared<std::string>();
  AddVerb(validation, "check",
          "with --participant: device-side checks before submission; without: every stored value that does not "
          "meet its format (phone, postcode, email, NI number)",
          [check_participant](Device& d) -> Result<Json> {
            if (check_participant->empty()) return FormatProblemsResult(d.StoredFormatProblems());
            auto id = ParseIdArgument(*check_participant, "participant_id");
            if (!id.ok()) return id.status();
            return MessageResult(d.CheckBeforeSubmission(*id), capi::ToWarningList);
          })
      ->add_option("--participant", *check_participant, "the participant's id");
  auto history_id = std::make_shared<std::string>();
  AddVerb(validation, "history", "every move of a validation file: from, to, who, when, reasons, rules version",
          [history_id](Device& d) -> Result<Json> {
            auto file = GetOfType(d, *history_id, v1::RECORD_TYPE_VALIDATION);
            if (!file.ok()) return file.status();
            Json moves = Json::array();
            for (const v1::ValidationMove& move : file->validation().moves()) {
              auto json = capi::MessageToJson(move);
              if (!json.ok()) return json.status();
              moves.push_back(std::move(json).value());
            }
            Json result = Json::object();
            result["id"] = *history_id;
            result["status"] =
                EnumValueShortName(v1::ValidationStatus_descriptor()->FindValueByNumber(file->validation().status()));
            result["moves"] = std::move(moves);
            return result;
          })
      ->add_option("ID", *history_id, "the validation file's id")
      ->required();

  AddCreateVerb<v1::Barrier>(&app_, "barrier", "record a barrier",
                             [](Device& d, v1::Barrier b) { return d.RecordBarrier(std::move(b)); });
  AddCreateVerb<v1::Segment>(&app_, "segment", "set the job-readiness segment",
                             [](Device& d, v1::Segment s) { return d.SetSegment(std::move(s)); });

  CLI::App* assess = app_.add_subcommand("assess", "record an assessment against an instrument");
  auto assess_fields = std::make_shared<FieldOptions>(assess, v1::Assessment::descriptor());
  auto scores = std::make_shared<std::vector<std::string>>();
  assess->add_option("--score", *scores, "DOMAIN=SCORE, once per domain (`outreach instrument list` names them)")
      ->type_name("DOMAIN=N");
  verbs_.push_back(Verb{assess, [assess_fields, scores](Device& d) -> Result<Json> {
                          v1::Assessment body;
                          OUTREACH_RETURN_IF_ERROR(assess_fields->Apply(&body));
                          for (const std::string& score : *scores) OUTREACH_RETURN_IF_ERROR(AddScore(score, &body));
                          return RecordResult(d.RecordAssessment(std::move(body)));
                        }});
  auto distance_participant = std::make_shared<std::string>();
  auto distance_instrument = std::make_shared<std::string>("my-journey");
  CLI::App* distance = AddVerb(&app_, "distance", "distance travelled on an instrument since the baseline",
                               [distance_participant, distance_instrument](Device& d) -> Result<Json> {
                                 auto id = ParseIdArgument(*distance_participant, "participant_id");
                                 if (!id.ok()) return id.status();
                                 return MessageResult(d.ComputeDistanceTravelled(*id, *distance_instrument),
                                                      [](const DistanceTravelled& t) { return capi::ToMessage(t); });
                               });
  distance->add_option("--participant", *distance_participant, "the participant's id")->required();
  distance->add_option("--instrument", *distance_instrument, "the instrument (default my-journey)");

  CLI::App* instrument = app_.add_subcommand("instrument", "the instruments assessments are scored against");
  instrument->require_subcommand(1);
  AddVerb(instrument, "list", "each instrument's id, version, title, domains (for assess --score DOMAIN=N) and scale",
          [](Device& d) -> Result<Json> {
            auto instruments = d.Instruments();
            if (!instruments.ok()) return instruments.status();
            Json list = Json::array();
            for (const v1::Record& record : *instruments) list.push_back(InstrumentJson(record.instrument()));
            return Json{{"instruments", std::move(list)}};
          });

  CLI::App* programme = app_.add_subcommand("programme", "the programme this device's hub delivers");
  programme->require_subcommand(1);
  AddVerb(programme, "show", "its name, funder, strands, the ages it takes and the eligibility rules in force",
          [](Device& d) { return RecordResult(d.Programme()); });

  CLI::App* partner = app_.add_subcommand("partner", "the programme's partner organisations in this device's hub");
  partner->require_subcommand(1);
  AddVerb(partner, "list", "each partner's id (for refer --partner and consent --partner), name, kind and contract",
          [](Device& d) { return ListResult("partners", d.Partners()); });

  CLI::App* plan =
      AddCreateVerb<v1::ActionPlan>(&app_, "plan", "create an action plan",
                                    [](Device& d, v1::ActionPlan p) { return d.CreateActionPlan(std::move(p)); });
  AddCreateVerb<v1::ActionStep>(plan, "step", "add a step to an action plan",
                                [](Device& d, v1::ActionStep s) { return d.AddActionStep(std::move(s)); });
  AddVerb(&app_, "overdue", "action plans overdue",
          [](Device& d) { return MessageResult(d.OverdueActionPlans(), capi::ToOverduePlanList); });

  AddCreateVerb<v1::ContactAttempt>(&app_, "contact", "log a contact attempt",
                                    [](Device& d, v1::ContactAttempt c) { return d.LogContact(std::move(c)); });
  AddCreateVerb<v1::Referral>(&app_, "refer", "refer a participant to a partner",
                              [](Device& d, v1::Referral r) { return d.MakeReferral(std::move(r)); }, {"status"});
  AddCreateVerb<v1::SupportSpend>(&app_, "spend", "request support spend",
                                  [](Device& d, v1::SupportSpend s) { return d.RequestSpend(std::move(s)); },
                                  {"status"});
  AddCreateVerb<v1::Outcome>(&app_, "outcome", "record an outcome",
                             [](Device& d, v1::Outcome o) { return d.RecordOutcome(std::move(o)); });
  AddCreateVerb<v1::CaseNote>(&app_, "note", "add a case note",
                              [](Device& d, v1::CaseNote n) { return d.AddCaseNote(std::move(n)); });
  AddCreateVerb<v1::Exit>(&app_, "exit", "exit a participant",
                          [](Device& d, v1::Exit e) { return d.ExitParticipant(std::move(e)); }, {"reopened_on"});

  auto reopen_participant = std::make_shared<std::string>();
  auto reopen_on = std::make_shared<std::string>();
  CLI::App* reopen = AddVerb(&app_, "reopen", "re-open an exited participant",
                             [reopen_participant, reopen_on](Device& d) -> Result<Json> {
                               auto id = ParseIdArgument(*reopen_participant, "participant_id");
                               if (!id.ok()) return id.status();
                               return RecordResult(d.ReopenParticipant(*id, *reopen_on));
                             });
  reopen->add_option("--participant", *reopen_participant, "the participant's id")->required();
  reopen->add_option("--on", *reopen_on, "YYYY-MM-DD (default today)");
}

void CommandLine::AddStateMoveVerbs() {
  // consent withdraw ID [--on DATE]
  CLI::App* consent = app_.get_subcommand("consent");
  auto consent_id = std::make_shared<std::string>();
  auto withdrawn_on = std::make_shared<std::string>();
  CLI::App* withdraw = AddVerb(consent, "withdraw", "withdraw a consent (it is kept, with the date)",
                               [consent_id, withdrawn_on](Device& d) -> Result<Json> {
                                 auto id = ParseIdArgument(*consent_id, "id");
                                 if (!id.ok()) return id.status();
                                 return RecordResult(d.WithdrawConsent(*id, *withdrawn_on));
                               });
  withdraw->add_option("ID", *consent_id, "the consent's id")->required();
  withdraw->add_option("--on", *withdrawn_on, "YYYY-MM-DD (default today)");

  // <verb> move ID --to STATUS ...: one per state machine.
  struct Move {
    std::string id;
    std::string to;
    std::string detail;
    std::vector<std::string> reasons;
    std::string refusal;
  };
  auto add_move = [this](const char* verb, const char* name, const char* description, auto move) {
    auto args = std::make_shared<Move>();
    CLI::App* app = AddVerb(app_.get_subcommand(verb), name, description, [args, move](Device& d) -> Result<Json> {
      auto id = ParseIdArgument(args->id, "id");
      if (!id.ok()) return id.status();
      if (args->to.empty()) return Status::InvalidArgument("to", "is required (--to STATUS)");
      return move(d, *id, *args);
    });
    app->add_option("ID", args->id, "the record's id")->required();
    app->add_option("--to", args->to, "the new status");
    return std::make_pair(app, args);
  };

  auto [validation_move, validation_args] =
      add_move("validation", "move", "move a validation file to a new status",
               [](Device& d, const Uuid& id, const Move& a) -> Result<Json> {
                 auto to = ParseEnumArgument<v1::ValidationStatus>(a.to, v1::ValidationStatus_descriptor(), "to");
                 if (!to.ok()) return to.status();
                 std::vector<v1::ValidationRejectionReason> reasons;
                 for (const std::string& text : a.reasons) {
                   auto reason = ParseEnumArgument<v1::ValidationRejectionReason>(
                       text, v1::ValidationRejectionReason_descriptor(), "rejection_reasons");
                   if (!reason.ok()) return reason.status();
                   reasons.push_back(*reason);
                 }
                 return RecordResult(d.MoveValidation(id, *to, std::move(reasons), a.detail));
               });
  validation_move->add_option("--reason", validation_args->reasons, "a rejection reason (repeatable)")->delimiter(',');
  validation_move->add_option("--note", validation_args->detail, "a note");

  auto [referral_move, referral_args] = add_move(
      "refer", "move", "move a referral to a new status", [](Device& d, const Uuid& id, const Move& a) -> Result<Json> {
        auto to = ParseEnumArgument<v1::ReferralStatus>(a.to, v1::ReferralStatus_descriptor(), "to");
        if (!to.ok()) return to.status();
        return RecordResult(d.MoveReferral(id, *to, a.detail));
      });
  referral_move->add_option("--detail", referral_args->detail,
                            "rejection reason (rejected), date (first_appointment) or feedback (completed)");

  auto [outcome_move, outcome_args] =
      add_move("outcome", "move", "move an outcome claim to a new status",
               [](Device& d, const Uuid& id, const Move& a) -> Result<Json> {
                 auto to = ParseEnumArgument<v1::OutcomeStatus>(a.to, v1::OutcomeStatus_descriptor(), "to");
                 if (!to.ok()) return to.status();
                 return RecordResult(d.MoveOutcome(id, *to, a.detail));
               });
  outcome_move->add_option("--detail", outcome_args->detail, "the rejection reason (rejected)");

  auto [spend_decide, spend_args] =
      add_move("spend", "decide", "decide a spend request: approved, paid or refused",
               [](Device& d, const Uuid& id, const Move& a) -> Result<Json> {
                 auto to = ParseEnumArgument<v1::SpendStatus>(a.to, v1::SpendStatus_descriptor(), "to");
                 if (!to.ok()) return to.status();
                 return RecordResult(d.DecideSpend(id, *to, a.detail, a.refusal));
               });
  spend_decide->add_option("--decided-by", spend_args->detail,
                           "who decided: the person this device is enrolled for (the default)");
  spend_decide->add_option("--refusal-reason", spend_args->refusal, "why it was refused");

  // conflicts [resolve ID --resolution kept_winner|took_loser]
  CLI::App* conflicts = AddVerb(&app_, "conflicts", "open conflicts to review",
                                [](Device& d) { return ListResult("conflicts", d.OpenConflicts()); });
  auto conflict_id = std::make_shared<std::string>();
  auto resolution = std::make_shared<std::string>();
  CLI::App* resolve =
      AddVerb(conflicts, "resolve", "resolve a conflict", [conflict_id, resolution](Device& d) -> Result<Json> {
        auto id = ParseIdArgument(*conflict_id, "id");
        if (!id.ok()) return id.status();
        auto to = ParseEnumArgument<v1::ConflictStatus>(*resolution, v1::ConflictStatus_descriptor(), "resolution");
        if (!to.ok()) return to.status();
        return RecordResult(d.ResolveConflict(*id, *to));
      });
  resolve->add_option("ID", *conflict_id, "the conflict's id")->required();
  resolve->add_option("--resolution", *resolution, "kept_winner or took_loser");

  // duplicates [decide ID --decision merged|not_duplicate [--keep PARTICIPANT]]
  CLI::App* duplicates = AddVerb(&app_, "duplicates", "possible duplicate participants to review",
                                 [](Device& d) { return ListResult("duplicates", d.OpenDuplicateReviews()); });
  auto review_id = std::make_shared<std::string>();
  auto decision = std::make_shared<std::string>();
  auto keep = std::make_shared<std::string>();
  CLI::App* decide = AddVerb(duplicates, "decide", "decide a duplicate review (hub manager)",
                             [review_id, decision, keep](Device& d) -> Result<Json> {
                               auto id = ParseIdArgument(*review_id, "id");
                               if (!id.ok()) return id.status();
                               auto to = ParseEnumArgument<v1::DuplicateReviewStatus>(
                                   *decision, v1::DuplicateReviewStatus_descriptor(), "decision");
                               if (!to.ok()) return to.status();
                               Uuid kept;
                               if (!keep->empty()) {
                                 auto parsed = ParseIdArgument(*keep, "keep");
                                 if (!parsed.ok()) return parsed.status();
                                 kept = *parsed;
                               }
                               return RecordResult(d.DecideDuplicate(*id, *to, kept));
                             });
  decide->add_option("ID", *review_id, "the review's id")->required();
  decide->add_option("--decision", *decision, "merged or not_duplicate")->required();
  decide->add_option("--keep", *keep, "the participant to keep (merged)");
}

void CommandLine::AddRecordVerbs() {
  auto show_id = std::make_shared<std::string>();
  AddVerb(&app_, "show", "show any record by id",
          [show_id](Device& d) -> Result<Json> {
            auto id = ParseIdArgument(*show_id, "id");
            if (!id.ok()) return id.status();
            return RecordResult(d.Get(*id));
          })
      ->add_option("ID", *show_id, "the record's id")
      ->required();

  auto update_id = std::make_shared<std::string>();
  auto assignments = std::make_shared<std::vector<std::string>>();
  CLI::App* update = AddVerb(&app_, "update", "change fields of a record (barrier, plan, step, session, ...)",
                             [update_id, assignments](Device& d) -> Result<Json> {
                               auto id = ParseIdArgument(*update_id, "id");
                               if (!id.ok()) return id.status();
                               if (assignments->empty()) {
                                 return Status::InvalidArgument("set", "give at least one --set FIELD=VALUE");
                               }
                               auto record = d.Get(*id);
                               if (!record.ok()) return record.status();
                               google::protobuf::Message* body = MutableRecordBody(&record.value());
                               if (body == nullptr)
                                 return Status::InvalidArgument("id", "names a record of unknown type");
                               OUTREACH_RETURN_IF_ERROR(ApplyAssignments(*assignments, body));
                               return RecordResult(d.Update(*id, *body));
                             });
  update->add_option("ID", *update_id, "the record's id")->required();
  update->add_option("--set", *assignments, "FIELD=VALUE (field names as in records.proto; repeatable)");

  auto delete_id = std::make_shared<std::string>();
  AddVerb(&app_, "delete", "delete a record (a tombstone)",
          [delete_id](Device& d) -> Result<Json> {
            auto id = ParseIdArgument(*delete_id, "id");
            if (!id.ok()) return id.status();
            return RecordResult(d.Delete(*id));
          })
      ->add_option("ID", *delete_id, "the record's id")
      ->required();

  AddVerb(&app_, "rejected", "local changes the server refused",
          [](Device& d) { return MessageResult(d.RejectedChanges(), capi::ToRejectedChangeList); });

  auto format = std::make_shared<std::string>("json");
  AddVerb(&app_, "export", "every record the device holds, ordered by type and id",
          [format](Device& d) -> Result<Json> {
            if (*format != "json")
              return Status::InvalidArgument("format", "'" + *format + "' is not supported: use json");
            return ListResult("records", d.Export());
          })
      ->add_option("--format", *format, "json");
}

void CommandLine::AddSyncVerbs() {
  auto options = std::make_shared<EnrolOptions>();
  auto ca_path = std::make_shared<std::string>();
  CLI::App* enrol = AddVerb(&app_, "enrol", "enrol this device with its hub's server (one-time code)",
                            [options, ca_path](Device& d) -> Result<Json> {
                              if (options->server.empty()) {
                                return Status::InvalidArgument("server", "is required (--server HOST:PORT)");
                              }
                              if (ca_path->empty()) return Status::InvalidArgument("ca", "is required (--ca CA.pem)");
                              if (options->code.empty()) return Status::InvalidArgument("code", "is required (--code)");
                              std::ifstream in(*ca_path);
                              std::stringstream pem;
                              pem << in.rdbuf();
                              if (!in || pem.str().empty()) {
                                return Status::InvalidArgument("ca", "cannot read '" + *ca_path + "'");
                              }
                              EnrolOptions with_ca = *options;
                              with_ca.ca_pem = pem.str();
                              auto report = Enrol(d, with_ca);
                              if (!report.ok()) return report.status();
                              return capi::MessageToJson(capi::ToMessage(*report));
                            });
  enrol->add_option("--server", options->server, "HOST:PORT of the hub's server");
  enrol->add_option("--ca", *ca_path, "the hub's CA certificate (PEM file), pinned from now on");
  enrol->add_option("--code", options->code, "the one-time enrolment code");
  enrol->add_option("--name", options->device_name, "this device's name on the server");

  AddVerb(&app_, "sync", "push the outbox and pull the hub's changes", [this](Device& d) -> Result<Json> {
    const bool bar = !json_ && isatty(STDERR_FILENO) == 1;
    SyncProgressCallback progress;
    if (bar) progress = DrawProgress;
    auto report = Sync(d, SyncOptions{}, progress);
    if (bar) std::cerr << "\r\033[K" << std::flush;  // the error line, if any, starts clean
    if (!report.ok()) return report.status();
    Json result = Json::object();
    result["pushed"] = report->pushed;
    result["pulled"] = report->pulled;
    result["conflicts"] = report->conflicts;
    result["rejected"] = report->rejected;
    return result;
  });
}

int CommandLine::Run(int argc, char** argv, std::ostream& out, std::ostream& err) {
  try {
    app_.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app_.exit(e, out, err);  // --help
    const std::string verbs = VerbError(app_, e);
    err << "outreach: " << (verbs.empty() ? OneLine(e.what()) : verbs) << "\n";
    return 2;
  }
  const Verb* verb = nullptr;
  for (const Verb& v : verbs_) {
    if (v.app->parsed()) verb = &v;  // the last parsed is the deepest
  }
  if (verb == nullptr) {  // every group requires a verb, so CLI11 refuses this first
    err << "outreach: a verb is required (see --help)\n";
    return 2;
  }
  if (db_.empty()) {
    err << "outreach: invalid_argument: db: is required (--db FILE)\n";
    return 2;
  }
  DeviceOptions options;
  options.path = db_;
  options.user_name = user_;
  auto device = Device::Open(options);
  if (!device.ok()) {
    err << "outreach: " << OneLine(device.status().ToString()) << "\n";
    return 1;
  }
  Result<Json> result = verb->action(**device);
  if (!result.ok()) {
    err << "outreach: " << OneLine(result.status().ToString()) << "\n";
    return 1;
  }
  PrintResult(*result, json_, out);
  return 0;
}

}  // namespace outreach::cli
