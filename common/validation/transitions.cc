#include "common/validation/transitions.h"

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>

namespace outreach::validation {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::util::MessageDifferencer;

std::string Readable(std::string_view name) {
  std::string out(name);
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

std::string WithArticle(const std::string& word) {
  const bool vowel = !word.empty() && std::string_view("aeiou").find(word[0]) != std::string_view::npos;
  return (vowel ? "an " : "a ") + word;
}

// "a, b or c".
std::string JoinOr(const std::vector<std::string>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? " or " : ", ";
    out += words[i];
  }
  return out;
}

std::string Text(const Message& body, const FieldDescriptor* field) {
  return body.GetReflection()->GetString(body, field);
}

int StateOf(const RecordTypeInfo& info, const Message& body) {
  return body.GetReflection()->GetEnumValue(body, info.state_field);
}

// A device not enrolled yet captures as an adviser.
v1::Role Effective(v1::Role role) {
  return role == v1::ROLE_UNSPECIFIED ? v1::ROLE_ADVISER : role;
}

// "coordinator, manager", with "the participant's adviser" where the step lets them.
std::string WhoMay(const StateStep& step) {
  std::vector<std::string> who;
  for (v1::Role role : step.roles) who.push_back(RoleWord(role));
  if (step.participant_adviser) who.push_back("the participant's adviser");
  std::string out;
  for (const std::string& w : who) out += (out.empty() ? "" : ", ") + w;
  return out;
}

// "from submitted it moves to precheck_passed or precheck_returned (coordinator, manager)":
// the steps out of `from`, next states that share who may take them grouped.
std::string LegalNext(const RecordTypeInfo& info, int from) {
  std::vector<std::string> groups;
  std::vector<std::string> states;
  std::string who;
  for (const StateStep& step : info.steps) {
    if (step.from != from) continue;
    if (!states.empty() && WhoMay(step) != who) {
      groups.push_back(JoinOr(states) + " (" + who + ")");
      states.clear();
    }
    states.push_back(info.StateName(step.to));
    who = WhoMay(step);
  }
  if (!states.empty()) groups.push_back(JoinOr(states) + " (" + who + ")");
  if (groups.empty()) return info.StateName(from) + " is final";
  std::string out = "from " + info.StateName(from) + " it moves to ";
  for (size_t i = 0; i < groups.size(); ++i) out += (i == 0 ? "" : ", or to ") + groups[i];
  return out;
}

std::string InitialStates(const RecordTypeInfo& info) {
  std::vector<std::string> states;
  for (const StateStep& step : info.steps)
    if (step.from == 0) states.push_back(info.StateName(step.to) + " (" + WhoMay(step) + ")");
  return JoinOr(states);
}

std::string Moving(const RecordTypeInfo& info, const StateStep& step) {
  if (step.from == 0) return "create " + WithArticle(Readable(info.name)) + " as " + info.StateName(step.to);
  return "move " + WithArticle(Readable(info.name)) + " from " + info.StateName(step.from) + " to " +
         info.StateName(step.to);
}

Status MayTake(const RecordTypeInfo& info, const StateStep& step, const StepWriter& writer) {
  const v1::Role role = Effective(writer.role);
  if (std::find(step.roles.begin(), step.roles.end(), role) != step.roles.end()) return Status::Ok();
  if (step.participant_adviser && role != v1::ROLE_KIOSK && writer.participant_adviser) {
    Result<std::string> adviser = writer.participant_adviser();
    if (!adviser.ok()) return adviser.status();
    if (!adviser->empty() && *adviser == writer.person) return Status::Ok();
  }
  std::vector<std::string> who;
  for (v1::Role r : step.roles) who.push_back(RoleWord(r));
  if (step.participant_adviser) who.push_back("the participant's adviser");
  return Status(
      ErrorCode::kPermissionDenied,
      WithArticle(RoleWord(role)) + " may not " + Moving(info, step) + ": only " + WithArticle(JoinOr(who)) + " may",
      info.state_field->name());
}

// The step's actor field names the writer.
Status NamesTheWriter(const RecordTypeInfo& info, const StateStep& step, const Message& after,
                      const StepWriter& writer) {
  if (step.actor == nullptr || Text(after, step.actor) == writer.person) return Status::Ok();
  return Status::InvalidArgument(step.actor->name(),
                                 "must name who moved the " + Readable(info.name) + " to " + info.StateName(step.to) +
                                     ": the person this device is enrolled for (" + writer.person + ")");
}

// Four eyes: no one the step's `not_by` fields named before it takes it.
Status FourEyes(const RecordTypeInfo& info, const StateStep& step, const Message* before, const StepWriter& writer) {
  if (before == nullptr || writer.person.empty()) return Status::Ok();
  for (const FieldDescriptor* field : step.not_by) {
    if (Text(*before, field) != writer.person) continue;
    const std::string did = field->name().substr(0, field->name().size() - 3);  // "submitted_by" -> "submitted"
    return Status(ErrorCode::kPermissionDenied,
                  "you (" + writer.person + ") " + Readable(did) + " this " + Readable(info.name) +
                      "; another person must move it from " + info.StateName(step.from) + " to " +
                      info.StateName(step.to),
                  field->name());
  }
  return Status::Ok();
}

// A field that records who took some step changes only with a step that records it.
Status ActorsMoveWithTheirSteps(const RecordTypeInfo& info, const StateStep* taken, const Message* before,
                                const Message& after) {
  for (const StateStep& step : info.steps) {
    if (step.actor == nullptr || (taken != nullptr && taken->actor == step.actor)) continue;
    const std::string held = before != nullptr ? Text(*before, step.actor) : std::string();
    if (Text(after, step.actor) == held) continue;
    return Status::InvalidArgument(step.actor->name(), "records who moved the " + Readable(info.name) + " to " +
                                                           info.StateName(step.to) +
                                                           ", and changes only with that move");
  }
  return Status::Ok();
}

Status CheckSteps(const RecordTypeInfo& info, const Message* before, const Message& after, const StepWriter& writer) {
  const int to = StateOf(info, after);
  const int from = before != nullptr ? StateOf(info, *before) : 0;
  const StateStep* step = nullptr;
  if (before == nullptr) {
    step = info.FindStep(0, to);
    if (step == nullptr) {
      return Status::FailedPrecondition(
          "a new " + Readable(info.name) + " starts as " + InitialStates(info) + ", not " + info.StateName(to),
          info.state_field->name());
    }
  } else if (from != to) {
    step = info.FindStep(from, to);
    if (step == nullptr) {
      return Status::FailedPrecondition(WithArticle(Readable(info.name)) + " cannot move from " + info.StateName(from) +
                                            " to " + info.StateName(to) + ": " + LegalNext(info, from),
                                        info.state_field->name());
    }
  }
  if (step != nullptr) {
    OUTREACH_RETURN_IF_ERROR(NamesTheWriter(info, *step, after, writer));
    OUTREACH_RETURN_IF_ERROR(MayTake(info, *step, writer));
    OUTREACH_RETURN_IF_ERROR(FourEyes(info, *step, before, writer));
  }
  return ActorsMoveWithTheirSteps(info, step, before, after);
}

// The stored list is the written list's prefix; returns the entries the write appends.
Result<std::vector<const Message*>> Appended(const RecordTypeInfo& info, const Message* before, const Message& after) {
  const FieldDescriptor* field = info.history_field;
  const auto* r = after.GetReflection();
  const int written = r->FieldSize(after, field);
  int kept = 0;
  if (before != nullptr) {
    const int stored = r->FieldSize(*before, field);
    bool prefix = written >= stored;
    for (int i = 0; prefix && i < stored; ++i) {
      prefix =
          MessageDifferencer::Equals(r->GetRepeatedMessage(*before, field, i), r->GetRepeatedMessage(after, field, i));
    }
    if (!prefix) {
      return Status::FailedPrecondition(Readable(field->name()) + " is the " + Readable(info.name) +
                                            "'s history: a write keeps every entry held (" + std::to_string(stored) +
                                            ") and only adds after them",
                                        field->name());
    }
    kept = stored;
  }
  std::vector<const Message*> added;
  for (int i = kept; i < written; ++i) added.push_back(&r->GetRepeatedMessage(after, field, i));
  return added;
}

// A validation file: every state change (its creation too) appends the one move it makes.
Status CheckMoves(const RecordTypeInfo& info, const Message* before, const Message& after, const StepWriter& writer) {
  Result<std::vector<const Message*>> added = Appended(info, before, after);
  if (!added.ok()) return added.status();
  const int to = StateOf(info, after);
  const int from = before != nullptr ? StateOf(info, *before) : 0;
  const std::string field = info.history_field->name();
  if (from == to) {
    if (added->empty()) return Status::Ok();
    return Status::FailedPrecondition(
        "a move is added to " + field + " only when the " + Readable(info.name) + " changes state", field);
  }
  const std::string expected = "one move from " + (from == 0 ? std::string("nothing") : info.StateName(from)) + " to " +
                               info.StateName(to) + " by " + writer.person;
  if (added->size() != 1) {
    if (before == nullptr && added->empty()) return Status::Ok();  // created without a first move
    return Status::FailedPrecondition(
        "moving the " + Readable(info.name) + " adds " + expected + " to " + field + ", nothing else", field);
  }
  const Message& move = *added->front();
  const auto* d = move.GetDescriptor();
  const auto* r = move.GetReflection();
  if (r->GetEnumValue(move, d->FindFieldByName("from_status")) != from ||
      r->GetEnumValue(move, d->FindFieldByName("to_status")) != to ||
      r->GetString(move, d->FindFieldByName("moved_by")) != writer.person) {
    return Status::FailedPrecondition(
        "moving the " + Readable(info.name) + " adds " + expected + " to " + field + "; the move added differs", field);
  }
  return Status::Ok();
}

// An attendance row: a re-mark (status, reason or its note changed) appends the mark it
// replaces, as it was held.
Status CheckEarlierMarks(const RecordTypeInfo& info, const Message* before, const Message& after,
                         const StepWriter& writer) {
  Result<std::vector<const Message*>> added = Appended(info, before, after);
  if (!added.ok()) return added.status();
  const std::string field = info.history_field->name();
  if (before == nullptr) {
    if (added->empty()) return Status::Ok();
    return Status::FailedPrecondition("a new " + Readable(info.name) + " has no " + Readable(field), field);
  }
  if (!writer.saw_stored_mark) return Status::Ok();
  const auto* d = after.GetDescriptor();
  const auto* r = after.GetReflection();
  bool remarked = false;
  for (const char* name : {"status", "reason"})
    remarked |= r->GetEnumValue(*before, d->FindFieldByName(name)) != r->GetEnumValue(after, d->FindFieldByName(name));
  remarked |= r->GetString(*before, d->FindFieldByName("reason_note")) !=
              r->GetString(after, d->FindFieldByName("reason_note"));
  if (!remarked) {
    if (added->empty()) return Status::Ok();
    return Status::FailedPrecondition("an earlier mark is added only when the row is re-marked", field);
  }
  bool same = added->size() == 1;
  if (same) {
    const Message& mark = *added->front();
    const auto* md = mark.GetDescriptor();
    const auto* mr = mark.GetReflection();
    for (const char* name : {"status", "reason", "marked_by"})
      same = same &&
             mr->GetEnumValue(mark, md->FindFieldByName(name)) == r->GetEnumValue(*before, d->FindFieldByName(name));
    for (const char* name : {"reason_note", "marked_at"})
      same = same && mr->GetString(mark, md->FindFieldByName(name)) == r->GetString(*before, d->FindFieldByName(name));
  }
  if (same) return Status::Ok();
  return Status::FailedPrecondition(
      "re-marking the row adds the mark it replaces, as it was held, to " + Readable(field) + ", nothing else", field);
}

}  // namespace

std::string RoleWord(v1::Role role) {
  const auto* value = v1::Role_descriptor()->FindValueByNumber(Effective(role));
  return value != nullptr ? Readable(EnumValueShortName(value)) : "role " + std::to_string(role);
}

Status CheckStateChange(const RecordTypeInfo& info, const Message* before, const Message& after,
                        const StepWriter& writer) {
  if (info.state_field != nullptr) OUTREACH_RETURN_IF_ERROR(CheckSteps(info, before, after, writer));
  if (info.history_field == nullptr) return Status::Ok();
  if (info.state_field != nullptr) return CheckMoves(info, before, after, writer);
  return CheckEarlierMarks(info, before, after, writer);
}

Status KeepsItsParticipant(const RecordTypeInfo& info, const Message& before, const Message& after) {
  const FieldDescriptor* field = info.participant_field;
  if (field == nullptr) return Status::Ok();
  const std::string& was = before.GetReflection()->GetString(before, field);
  if (was.empty() || was == after.GetReflection()->GetString(after, field)) return Status::Ok();
  return Status::InvalidArgument(field->name(), "cannot be changed");
}

}  // namespace outreach::validation
