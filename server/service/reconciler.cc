#include "server/service/reconciler.h"

#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "common/dates.h"
#include "common/field_value.h"
#include "common/validation/forms.h"
#include "common/validation/record_rules.h"
#include "common/validation/transitions.h"
#include "server/service/access_policy.h"
#include "server/service/body_fields.h"
#include "server/service/record_lookup.h"
#include "server/service/secrets.h"
#include "server/service/shared_reference.h"

namespace outreach::server {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// Statuses that mean "this change is refused", as opposed to "the store failed" (the
// validation rules refuse a second booking or claim as kAlreadyExists, a full session
// as kResourceExhausted).
bool IsRefusal(const Status& s) {
  switch (s.code()) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kNotFound:
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kResourceExhausted: return true;
    default: return false;
  }
}

ChangeVerdict Rejected(std::string reason, std::string field = {}) {
  ChangeVerdict v;
  v.outcome = v1::CHANGE_OUTCOME_REJECTED;
  v.reason = std::move(reason);
  v.field = std::move(field);
  return v;
}

std::string Readable(std::string_view name) {
  std::string out(name);
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

// The writer of a pushed change as the state-machine check sees it (transitions.h): the
// device's role and person, the adviser of the record's participant as stored here, and
// whether it had seen every stored field it sets (a concurrent mark is merged by rank).
validation::StepWriter StepWriterOf(StoreTxn& txn, const DeviceContext& device, const RecordTypeInfo& info,
                                    const v1::Change& change, const std::optional<StoredRecord>& existing,
                                    const Message& proposed) {
  validation::StepWriter writer;
  writer.role = device.role;
  writer.person = device.user_name;
  writer.participant_adviser = [&txn, &info, &proposed]() -> Result<std::string> {
    if (info.participant_field == nullptr) return std::string();
    auto id = Uuid::FromBytes(proposed.GetReflection()->GetString(proposed, info.participant_field));
    if (!id.ok()) return std::string();
    auto person = txn.GetRecord(*id);
    if (!person.ok()) return person.status();
    if (!person->has_value() || (*person)->record.type() != v1::RECORD_TYPE_PARTICIPANT) return std::string();
    return (*person)->record.participant().adviser();
  };
  if (existing) {
    for (const auto& fv : change.fields()) {
      auto held = existing->versions.find(fv.field());
      if (held != existing->versions.end() && !held->second.hlc.is_zero() &&
          held->second.hlc.value() != fv.base_version()) {
        writer.saw_stored_mark = false;
      }
    }
  }
  return writer;
}

std::string FieldName(const RecordTypeInfo& info, uint32_t number) {
  const FieldDescriptor* f = info.descriptor->FindFieldByNumber(static_cast<int>(number));
  return f ? f->name() : "field " + std::to_string(number);
}

// The encoding of field `number` of `body`, also for a field this build does not know.
std::string CurrentValue(const Message& body, uint32_t number) {
  const FieldDescriptor* f = body.GetDescriptor()->FindFieldByNumber(static_cast<int>(number));
  if (f != nullptr) return EncodeField(body, f);
  const auto& unknown = body.GetReflection()->GetUnknownFields(body);
  std::unique_ptr<Message> one(body.New());
  auto* target = one->GetReflection()->MutableUnknownFields(one.get());
  for (int i = 0; i < unknown.field_count(); ++i) {
    if (unknown.field(i).number() == static_cast<int>(number)) target->AddField(unknown.field(i));
  }
  return target->empty() ? std::string() : one->SerializeAsString();
}

Uuid LinkedParticipant(const RecordTypeInfo& info, const Message& body) {
  if (info.participant_field == nullptr) return Uuid();
  return IdField(body, info.participant_field->name().c_str());
}

std::string Hex(std::string_view raw) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

// Lower-case letters and digits only: "O'Neill-Smith " and "oneill smith" match.
std::string Normalise(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c)) out.push_back(static_cast<char>(std::tolower(c)));
  }
  return out;
}

// Duplicate-finding keys are hashed: names are personal data and must not sit in an
// index that erasure would have to chase.
constexpr std::string_view kNameKey = "participant-name-dob:";
constexpr std::string_view kNiKey = "participant-ni:";
// Held by every MERGED participant (with merged_into set) of a hub: MaybeMerged reads
// them all at once.
constexpr std::string_view kMergedKey = "participant-merged";

std::string ConflictOfKey(const Uuid& record_id) {
  return "conflict-of:" + record_id.ToString();
}
std::string PairKey(const Uuid& a, const Uuid& b) {
  return "duplicate-pair:" + std::min(a, b).ToString() + ":" + std::max(a, b).ToString();
}
std::string ClaimKey(const Uuid& participant, int kind) {
  return "outcome-claim:" + participant.ToString() + ":" + std::to_string(kind);
}

std::string AppendOnlyReason(const RecordTypeInfo& info) {
  if (info.type == v1::RECORD_TYPE_CASE_NOTE) return "case notes are append-only; write a new note that supersedes";
  return Readable(info.name) + " records are append-only; write a new one that supersedes";
}

// The participant fields ComputeKeys reads: a write of any other field keeps the keys.
bool IsParticipantKeyField(uint32_t number) {
  static const std::vector<uint32_t> key_fields = [] {
    std::vector<uint32_t> out;
    for (const char* name : {"status", "merged_into", "given_name", "family_name", "date_of_birth", "ni_number"}) {
      const FieldDescriptor* f = v1::Participant::descriptor()->FindFieldByName(name);
      if (f != nullptr) out.push_back(static_cast<uint32_t>(f->number()));
    }
    return out;
  }();
  return std::find(key_fields.begin(), key_fields.end(), number) != key_fields.end();
}

// The id a register row's key field (RecordTypeInfo::register_key_field) or participant
// link holds; nil when the type has no such field.
Uuid KeyOf(const Message& body, const FieldDescriptor* field) {
  return field != nullptr ? IdField(body, field->name().c_str()) : Uuid();
}

}  // namespace

Reconciler::Reconciler(StoreTxn& txn, HybridClock& clock, int64_t max_clock_skew_ms,
                       validation::FormatVerdicts* formats)
    : txn_(txn), clock_(clock), max_clock_skew_ms_(max_clock_skew_ms), formats_(formats) {}

// ---------------------------------------------------------------- device changes

Result<ChangeVerdict> Reconciler::ApplyDeviceChange(const DeviceContext& device, const v1::Change& change) {
  const RecordTypeInfo* info = FindRecordType(change.type());
  if (info == nullptr) return Rejected("unknown record type " + std::to_string(change.type()), "type");
  auto id = Uuid::FromBytes(change.record_id());
  if (!id.ok() || id->is_nil()) return Rejected("a record id must be 16 bytes and not nil", "record_id");
  Uuid hub = device.hub_id;
  if (!change.hub_id().empty()) {
    auto h = Uuid::FromBytes(change.hub_id());
    if (!h.ok()) return Rejected("a hub id must be 16 bytes", "hub_id");
    hub = *h;
  }
  if (hub != device.hub_id) return Rejected("a device writes only to the hub it is enrolled for", "hub_id");
  // A record of another hub, or one the device's role may not read, is refused in the
  // same words as an id no one holds (NotAvailable): the refusal tells nothing about it.
  auto not_available = [](const Uuid& record) {
    const Status refusal = NotAvailable("record_id", record.ToString());
    return Rejected(refusal.message(), refusal.field());
  };
  if (change.op() != v1::CHANGE_OP_UPSERT && change.op() != v1::CHANGE_OP_DELETE &&
      change.op() != v1::CHANGE_OP_ERASE) {
    return Rejected("unknown change operation " + std::to_string(change.op()), "op");
  }

  auto loaded = txn_.GetRecord(*id);
  if (!loaded.ok()) return loaded.status();
  std::optional<StoredRecord> existing = std::move(*loaded);
  if (existing) {
    auto readable = MayRead(txn_, device, *existing);
    if (!readable.ok()) return readable.status();
    if (!*readable) return not_available(*id);
    if (existing->record.type() != change.type()) {
      return Rejected(
          "record " + id->ToString() + " is a " +
              Readable(FindRecordType(existing->record.type()) ? FindRecordType(existing->record.type())->name
                                                               : "record") +
              ", not a " + Readable(info->name),
          "type");
    }
    if (existing->record.erased()) return Rejected("this record was erased at the person's request", "record_id");
  }

  // A register row of a merged participant: the merge moved it (a tombstone the server
  // deleted is left), or the device created it after the merge. The change goes to the
  // row of the participant the merge kept, as if the device had addressed that row.
  Uuid record_id = *id;
  std::optional<RegisterMove> move;
  if (change.op() == v1::CHANGE_OP_UPSERT && info->policy == MergePolicy::kKeyedRegister &&
      (!existing || existing->record.deleted())) {
    auto found = FindRegisterMove(*info, hub, change, existing);
    if (!found.ok()) return found.status();
    move = std::move(*found);
  }
  if (move) {
    existing = move->to;
    record_id = *Uuid::FromBytes(move->change.record_id());
    if (existing) {
      const std::string moved = "this " + Readable(info->name) + " row moved to participant " +
                                move->participant.ToString() + "'s row for its session when the duplicates were merged";
      auto readable = MayRead(txn_, device, *existing);
      if (!readable.ok()) return readable.status();
      if (!*readable) return not_available(*id);
      if (existing->record.type() != change.type()) return Rejected(moved + ", which is not a register row", "type");
      if (existing->record.erased()) return Rejected(moved + ", which was erased at the person's request", "record_id");
      // A row someone deliberately deleted stays deleted.
      if (existing->record.deleted()) return Rejected(moved + ", which was deleted", "record_id");
    }
  }
  const v1::Change& applied = move ? move->change : change;

  // The body as it would be with this change: proves every field decodes.
  StoredRecord fresh;
  fresh.record.set_id(record_id.raw());
  fresh.record.set_type(change.type());
  fresh.record.set_hub_id(hub.raw());
  MutableRecordBody(&fresh.record);
  std::unique_ptr<Message> proposed =
      existing ? std::unique_ptr<Message>(RecordBody(existing->record)->New()) : NewRecordBody(change.type());
  // MergeFrom into the empty body New() made: Message::CopyFrom would first walk the whole
  // body by reflection to check it is not copying from its own descendant (~6% of a
  // pushed edit's CPU).
  if (existing) proposed->MergeFrom(*RecordBody(existing->record));
  for (const auto& fv : applied.fields()) {
    if (fv.field() == 0) return Rejected("field number 0 does not exist", "fields");
    Status st = ApplyField(proposed.get(), fv.field(), fv.value());
    if (!st.ok()) return Rejected(st.message(), FieldName(*info, fv.field()));
  }

  Status access = CheckWrite(txn_, device, *info, applied, existing ? &*existing : nullptr, *proposed);
  if (!access.ok()) {
    if (IsRefusal(access)) return Rejected(access.message(), access.field());
    return access;
  }

  // A stamp too far ahead of our clock cannot win every merge. It is first corrected by
  // the device's clock skew measured at hello: a tablet set a year ahead made its edit
  // about a year before its stamp says (replacing the stamp by our clock instead would
  // date the edit at its arrival, after edits made later on correct clocks). What is
  // still too far ahead is replaced by our clock.
  Hlc hlc(change.hlc());
  const int64_t limit = clock_.PhysicalNow() + max_clock_skew_ms_;
  if (!hlc.is_zero() && hlc.physical_ms() > limit && device.clock_skew_ms > max_clock_skew_ms_ &&
      hlc.physical_ms() - device.clock_skew_ms > 0) {
    hlc = Hlc::FromParts(hlc.physical_ms() - device.clock_skew_ms, hlc.logical());
  }
  if (hlc.is_zero() || hlc.physical_ms() > limit) {
    hlc = clock_.Now();
  } else {
    auto merged = clock_.Update(hlc);
    if (!merged.ok()) hlc = clock_.Now();
  }
  const Writer writer{device.device_id, device.user_name};

  switch (change.op()) {
    case v1::CHANGE_OP_ERASE:
      if (info->type != v1::RECORD_TYPE_PARTICIPANT) return Rejected("only a participant can be erased", "type");
      if (!existing) return Rejected("there is no participant " + id->ToString() + " to erase", "record_id");
      return Erase(writer, std::move(*existing), hlc, change.device_seq());
    case v1::CHANGE_OP_DELETE: {
      if (info->policy == MergePolicy::kAppendOnly) return Rejected(AppendOnlyReason(*info), "op");
      // As on the device: a participant leaves by an exit (or is erased), never by a delete.
      if (info->type == v1::RECORD_TYPE_PARTICIPANT) return Rejected("a participant is exited, not deleted", "op");
      if (!existing) return Rejected("there is no record " + id->ToString() + " to delete", "record_id");
      ChangeVerdict v;
      v.outcome = v1::CHANGE_OUTCOME_APPLIED;
      if (existing->record.deleted()) return v;
      auto seq = Commit(*existing, false, v1::CHANGE_OP_DELETE, {}, hlc, writer, change.device_seq());
      if (!seq.ok()) return seq.status();
      v.server_seq = *seq;
      return v;
    }
    default: {
      auto verdict = Upsert(device, *info, applied, std::move(existing), *proposed, std::move(fresh), hlc);
      if (!verdict.ok() || !move || verdict->outcome == v1::CHANGE_OUTCOME_REJECTED) return verdict;
      OUTREACH_RETURN_IF_ERROR(SettleMovedFrom(*move, change));
      return verdict;
    }
  }
}

Result<ChangeVerdict> Reconciler::Upsert(const DeviceContext& device, const RecordTypeInfo& info,
                                         const v1::Change& change, std::optional<StoredRecord> existing,
                                         const Message& proposed, StoredRecord fresh, Hlc hlc) {
  const bool is_new = !existing;
  const Message* current = existing ? RecordBody(existing->record) : nullptr;
  if (existing && existing->record.deleted()) return Rejected("this record was deleted", "record_id");

  if (info.policy == MergePolicy::kAppendOnly && existing) {
    for (const auto& fv : change.fields()) {
      if (CurrentValue(*current, fv.field()) != fv.value()) return Rejected(AppendOnlyReason(info));
    }
    ChangeVerdict same;  // re-sent creation with identical content: nothing to do
    same.outcome = v1::CHANGE_OUTCOME_APPLIED;
    return same;
  }

  if (info.policy == MergePolicy::kKeyedRegister) {
    const Uuid session = KeyOf(proposed, info.register_key_field);
    const Uuid participant = KeyOf(proposed, info.participant_field);
    const Uuid expected = Uuid::DeriveRegisterRow(info.name, session.raw(), participant.raw());
    if (fresh.record.id() != expected.raw()) {
      return Rejected(Readable(info.name) + " id must be derived from its session and participant (expected " +
                          expected.ToString() + ")",
                      "record_id");
    }
  }

  int old_state = 0, new_state = 0;
  const FieldDescriptor* state_field = info.state_field;
  if (state_field != nullptr) {
    new_state = EnumField(proposed, state_field->name().c_str());
    if (!is_new) old_state = EnumField(*current, state_field->name().c_str());
  }
  // Who may take the step, four eyes, and the kept history: the device's own check.
  Status step = validation::CheckStateChange(info, current, proposed,
                                             StepWriterOf(txn_, device, info, change, existing, proposed));
  if (IsRefusal(step)) return Rejected(step.message(), step.field());
  OUTREACH_RETURN_IF_ERROR(step);

  const bool merging_duplicate = info.type == v1::RECORD_TYPE_DUPLICATE_REVIEW && !is_new && old_state != new_state &&
                                 new_state == v1::DUPLICATE_REVIEW_STATUS_MERGED;
  Uuid kept, merged;
  if (merging_duplicate) {
    kept = IdField(proposed, "kept_participant_id");
    const Uuid a = IdField(proposed, "participant_id"), b = IdField(proposed, "other_participant_id");
    if (kept.is_nil() || (kept != a && kept != b)) {
      return Rejected("a merge must keep one of the two participants under review", "kept_participant_id");
    }
    merged = kept == a ? b : a;
    // Both people must be of the deciding manager's hub (and readable by them), however
    // the review came to name them: a merge rewrites every record of the one merged.
    for (const char* field : {"participant_id", "other_participant_id"}) {
      Status available = CheckAvailable(txn_, device, IdField(proposed, field), v1::RECORD_TYPE_PARTICIPANT, field);
      if (IsRefusal(available)) return Rejected(available.message(), available.field());
      OUTREACH_RETURN_IF_ERROR(available);
    }
  }

  bool taking_loser = false;
  if (info.type == v1::RECORD_TYPE_CONFLICT) {
    const auto* d = v1::Conflict::descriptor();
    for (const auto& fv : change.fields()) {
      const auto* f = d->FindFieldByNumber(static_cast<int>(fv.field()));
      if (f == nullptr || (f->name() != "status" && f->name() != "resolved_by")) {
        return Rejected("a device may change only a conflict's status and resolved_by",
                        f ? f->name() : FieldName(info, fv.field()));
      }
    }
    const int before = EnumField(*current, "status"), after = EnumField(proposed, "status");
    // A resolved conflict is final: a second resolution (even the same decision, by
    // someone else) must not rewrite who resolved it.
    if (before != v1::CONFLICT_STATUS_OPEN) return Rejected("this conflict was already resolved", "status");
    if (before != after) {
      if (after != v1::CONFLICT_STATUS_KEPT_WINNER && after != v1::CONFLICT_STATUS_TOOK_LOSER) {
        return Rejected("a conflict is resolved by keeping the winner or taking the loser", "status");
      }
      taking_loser = after == v1::CONFLICT_STATUS_TOOK_LOSER;
    }
  }

  if (!is_new) {
    Status kept = validation::KeepsItsParticipant(info, *current, proposed);
    if (!kept.ok()) return Rejected(kept.message(), kept.field());
  }

  Status valid = ValidateCapture(device, info, change, existing ? &existing->record : nullptr, proposed);
  if (!valid.ok()) {
    if (IsRefusal(valid)) return Rejected(valid.message(), valid.field());
    return valid;
  }

  // Field by field.
  const Writer writer{device.device_id, device.user_name};
  const int writer_rank = info.RankOfWriter(device.role);  // register rows: who marks outranks whom
  const int current_rank = current ? info.RankOf(*current) : 0;
  std::vector<v1::FieldValue> accepted;
  std::vector<std::string> accepted_old;  // the held value of each accepted field, for Commit's audit rows
  std::vector<Disagreement> disagreements;
  for (const auto& fv : change.fields()) {
    const uint32_t f = fv.field();
    const std::string cur = current ? CurrentValue(*current, f) : std::string();
    FieldVersion cv;
    if (existing) {
      auto it = existing->versions.find(f);
      if (it != existing->versions.end()) cv = it->second;
    }
    if (cur == fv.value()) {
      // Identical values never conflict. But a later stamp on the held value is still a
      // decision (changed and changed back offline, say): the field takes that stamp and
      // it is logged, so a concurrent write of another value stamped before it meets it
      // as a conflict instead of replacing it, and every device holds the same version.
      if (!cv.hlc.is_zero() && HlcLater(hlc, device.device_id.raw(), cv.hlc, cv.origin.raw())) {
        v1::FieldValue a;
        a.set_field(f);
        a.set_value(fv.value());
        accepted.push_back(std::move(a));
        accepted_old.push_back(cur);
      }
      continue;
    }
    const bool seen = is_new || cv.hlc.is_zero() || cv.hlc.value() == fv.base_version();
    const bool always = (state_field != nullptr && static_cast<int>(f) == state_field->number()) ||
                        info.type == v1::RECORD_TYPE_CONFLICT;
    int decided = 0;  // +1: the writer wins regardless of time; -1: it loses regardless
    if (info.policy == MergePolicy::kKeyedRegister && !is_new) {
      if (writer_rank < current_rank) {
        decided = -1;
      } else if (writer_rank > current_rank && !seen) {
        decided = +1;
      }
    }
    if (decided == 0 && (seen || always)) {
      v1::FieldValue a;
      a.set_field(f);
      a.set_value(fv.value());
      accepted.push_back(std::move(a));
      accepted_old.push_back(cur);
      continue;
    }
    const bool writer_wins =
        decided != 0 ? decided > 0 : HlcLater(hlc, device.device_id.raw(), cv.hlc, cv.origin.raw());
    auto cur_author = AuthorOf(cv.origin);
    if (!cur_author.ok()) return cur_author.status();
    Disagreement d;
    d.field = f;
    const FieldVersion mine{hlc, device.device_id};
    if (writer_wins) {
      d.winning_value = fv.value(), d.winning = mine, d.winning_author = writer.author;
      d.losing_value = cur, d.losing = cv, d.losing_author = *cur_author;
      v1::FieldValue a;
      a.set_field(f);
      a.set_value(fv.value());
      accepted.push_back(std::move(a));
      accepted_old.push_back(cur);
    } else {
      d.winning_value = cur, d.winning = cv, d.winning_author = *cur_author;
      d.losing_value = fv.value(), d.losing = mine, d.losing_author = writer.author;
    }
    disagreements.push_back(std::move(d));
  }

  StoredRecord rec = is_new ? std::move(fresh) : std::move(*existing);
  const std::vector<std::string> keys_before = rec.keys;  // a new record has none
  // The held values read above are the old values of the audit rows, unless a field
  // repeats within the change (then each write's old value is the one before it).
  bool repeats = false;
  for (size_t i = 0; i < accepted.size() && !repeats; ++i) {
    for (size_t j = 0; j < i && !repeats; ++j) repeats = accepted[i].field() == accepted[j].field();
  }
  auto seq = Commit(rec, is_new, v1::CHANGE_OP_UPSERT, accepted, hlc, writer, change.device_seq(),
                    is_new || repeats ? nullptr : &accepted_old);
  if (!seq.ok()) return seq.status();
  // A record linked to a merged participant (created offline after the merge, say) is
  // redirected as the merge redirected the records it found: the device's change stays
  // as written in the log, and a server change links the record to the live end of the
  // merged_into chain. Register rows never get here linked to a merged participant
  // (ApplyDeviceChange moved them); reviews and conflicts keep the ids they name.
  if (info.policy != MergePolicy::kKeyedRegister && info.participant_field != nullptr && info.follows_merge &&
      !rec.participant_id.is_nil() && !rec.record.deleted()) {
    auto hub = Uuid::FromBytes(rec.record.hub_id());
    if (!hub.ok()) return hub.status();
    auto maybe = MaybeMerged(*hub, rec.participant_id);
    if (!maybe.ok()) return maybe.status();
    if (*maybe) {
      auto live = FinalParticipant(*hub, rec.participant_id);
      if (!live.ok()) return live.status();
      if (*live) {
        auto relinked = Relink(rec, **live);
        if (!relinked.ok()) return relinked.status();
      }
    }
  }
  for (const auto& d : disagreements) OUTREACH_RETURN_IF_ERROR(RecordDisagreement(rec, d));

  bool second_claim = false;
  if (info.type == v1::RECORD_TYPE_PARTICIPANT) OUTREACH_RETURN_IF_ERROR(CheckDuplicates(rec, keys_before));
  if (info.type == v1::RECORD_TYPE_OUTCOME && is_new) {
    auto claim = CheckSecondClaim(rec);
    if (!claim.ok()) return claim.status();
    second_claim = *claim;
  }
  if (merging_duplicate) {
    auto hub = Uuid::FromBytes(rec.record.hub_id());
    if (!hub.ok()) return hub.status();
    // Either person may have been merged into someone else since the review opened:
    // the live ends of their chains are merged, so records always land on a live
    // participant and no chain ever loops (a merge of someone into themselves is none).
    Uuid into = kept, from = merged;
    auto kept_end = FinalParticipant(*hub, kept);
    if (!kept_end.ok()) return kept_end.status();
    if (*kept_end) into = **kept_end;
    auto merged_end = FinalParticipant(*hub, merged);
    if (!merged_end.ok()) return merged_end.status();
    if (*merged_end) from = **merged_end;
    if (into != from) OUTREACH_RETURN_IF_ERROR(MergeParticipants(*hub, into, from));
  }
  if (taking_loser) OUTREACH_RETURN_IF_ERROR(TakeLoser(rec));

  ChangeVerdict v;
  v.outcome = disagreements.empty() && !second_claim ? v1::CHANGE_OUTCOME_APPLIED : v1::CHANGE_OUTCOME_CONFLICT;
  v.server_seq = *seq;
  return v;
}

// ---------------------------------------------------------------- writing

Result<uint64_t> Reconciler::Commit(StoredRecord& rec, bool is_new, v1::ChangeOp op,
                                    const std::vector<v1::FieldValue>& fields, Hlc hlc, const Writer& writer,
                                    uint64_t device_seq, const std::vector<std::string>* held_values) {
  if (!is_new && fields.empty() && op == v1::CHANGE_OP_UPSERT) return uint64_t{0};
  const RecordTypeInfo* info = FindRecordType(rec.record.type());
  if (info == nullptr) return Status::Internal("record of unknown type");
  Message* body = MutableRecordBody(&rec.record);
  const bool shared = IsSharedReference(rec.record.type());
  const std::vector<Uuid> shared_before = shared && !is_new ? SharingHubs(rec.record) : std::vector<Uuid>();
  std::vector<std::string> old_values;
  if (held_values != nullptr && held_values->size() == fields.size()) {
    old_values = *held_values;
  } else {
    for (const auto& fv : fields) old_values.push_back(CurrentValue(*body, fv.field()));
  }
  for (const auto& fv : fields) {
    OUTREACH_RETURN_IF_ERROR(ApplyField(body, fv.field(), fv.value()));
    rec.versions[fv.field()] = FieldVersion{hlc, writer.device};
  }
  if (op == v1::CHANGE_OP_DELETE) rec.record.set_deleted(true);
  rec.participant_id = LinkedParticipant(*info, *body);
  // A participant's keys come from its names, date of birth, NI number and merge state
  // (ComputeKeys): an edit of any other field (a phone number, the day's-end shape)
  // leaves the keys it holds, without hashing them again.
  const bool keys_hold = !is_new && op == v1::CHANGE_OP_UPSERT && rec.record.type() == v1::RECORD_TYPE_PARTICIPANT &&
                         !rec.record.deleted() && !rec.record.erased() &&
                         std::none_of(fields.begin(), fields.end(),
                                      [](const v1::FieldValue& fv) { return IsParticipantKeyField(fv.field()); });
  auto keys = keys_hold ? Result<std::vector<std::string>>(rec.keys) : ComputeKeys(rec);
  if (!keys.ok()) return keys.status();
  // Venue-participant pairs this write introduces to the hub (see RestateNamesForKiosks).
  std::vector<std::string> new_venue_pairs;
  for (const std::string& key : *keys) {
    if (key.rfind(kVenueParticipantPrefix, 0) != 0) continue;
    if (std::find(rec.keys.begin(), rec.keys.end(), key) != rec.keys.end()) continue;
    auto holders = txn_.FindRecordsByKey(Uuid::FromBytes(rec.record.hub_id()).value(), key);
    if (!holders.ok()) return holders.status();
    if (holders->empty()) new_venue_pairs.push_back(key);
  }
  rec.keys = std::move(*keys);
  OUTREACH_RETURN_IF_ERROR(txn_.PutRecord(rec));

  auto hub = Uuid::FromBytes(rec.record.hub_id());
  if (!hub.ok()) return hub.status();
  v1::Change logged;
  logged.set_record_id(rec.record.id());
  logged.set_type(rec.record.type());
  logged.set_hlc(hlc.value());
  logged.set_device_seq(device_seq);
  logged.set_op(op);
  for (const auto& fv : fields) {
    auto* out = logged.add_fields();
    out->set_field(fv.field());
    out->set_value(fv.value());
  }
  logged.set_hub_id(rec.record.hub_id());
  logged.set_origin_device(writer.device.raw());
  logged.set_author(writer.author);
  if (shared) OUTREACH_RETURN_IF_ERROR(LogInSharingHubs(rec, *hub, shared_before, logged));
  auto seq = txn_.AppendChange(*hub, std::move(logged));
  if (!seq.ok()) return seq.status();
  if (!new_venue_pairs.empty()) OUTREACH_RETURN_IF_ERROR(RestateNamesForKiosks(*hub, *body));

  auto record_id = Uuid::FromBytes(rec.record.id());
  if (!record_id.ok()) return record_id.status();
  AuditRow row;
  row.at_ms = clock_.PhysicalNow();
  row.hub_id = *hub;
  row.device_id = writer.device;
  row.author = writer.author;
  row.record_id = *record_id;
  row.type = rec.record.type();
  row.server_seq = *seq;
  if (fields.empty()) OUTREACH_RETURN_IF_ERROR(txn_.AppendAudit(row));  // a create without fields, a delete
  for (size_t i = 0; i < fields.size(); ++i) {
    row.field = fields[i].field();
    row.old_value = old_values[i];
    row.new_value = fields[i].value();
    OUTREACH_RETURN_IF_ERROR(txn_.AppendAudit(row));
  }
  return *seq;
}

// A kiosk sees a participant's name only once they are booked into or attend a session
// at its venue, and may have pulled past the participant's own log entries before that.
// So when a booking or attendance first links a participant to a venue, the name fields
// are logged again, each with its own stored version and origin: the state does not
// change, every device already holding them applies the same value at the same version,
// and the venue's kiosk now receives them.
Status Reconciler::RestateNamesForKiosks(const Uuid& hub_id, const Message& link) {
  const Uuid participant_id = IdField(link, "participant_id");
  auto participant = txn_.GetRecord(participant_id);
  if (!participant.ok()) return participant.status();
  if (!participant->has_value() || (*participant)->record.erased() ||
      (*participant)->record.type() != v1::RECORD_TYPE_PARTICIPANT) {
    return Status::Ok();  // not here yet: its own entries will come later, after the link
  }
  // Never another hub's person into this hub's log (a link is checked when written, so
  // only a store written before links were checked can hold one).
  if ((*participant)->record.hub_id() != hub_id.raw()) return Status::Ok();
  const StoredRecord& p = **participant;
  const Message& body = *RecordBody(p.record);
  for (const char* name : {"reference", "given_name", "family_name"}) {
    const FieldDescriptor* f = body.GetDescriptor()->FindFieldByName(name);
    const std::string value = EncodeField(body, f);
    auto version = p.versions.find(static_cast<uint32_t>(f->number()));
    if (value.empty() || version == p.versions.end()) continue;
    auto author = AuthorOf(version->second.origin);
    if (!author.ok()) return author.status();
    v1::Change restated;
    restated.set_record_id(p.record.id());
    restated.set_type(p.record.type());
    restated.set_hlc(version->second.hlc.value());
    restated.set_op(v1::CHANGE_OP_UPSERT);
    auto* fv = restated.add_fields();
    fv->set_field(static_cast<uint32_t>(f->number()));
    fv->set_value(value);
    restated.set_hub_id(hub_id.raw());
    restated.set_origin_device(version->second.origin.raw());
    restated.set_author(*author);
    auto seq = txn_.AppendChange(hub_id, std::move(restated));
    if (!seq.ok()) return seq.status();
  }
  return Status::Ok();
}

Result<uint64_t> Reconciler::ServerEdit(StoredRecord rec, const std::function<void(Message*)>& edit) {
  const Message* before = RecordBody(rec.record);
  std::unique_ptr<Message> after(before->New());
  after->CopyFrom(*before);
  edit(after.get());
  std::vector<v1::FieldValue> fields = DiffFields(*before, *after);
  return Commit(rec, false, v1::CHANGE_OP_UPSERT, fields, clock_.Now(), Server(), 0);
}

Status Reconciler::LogInSharingHubs(const StoredRecord& rec, const Uuid& home, const std::vector<Uuid>& shared_before,
                                    const v1::Change& logged) {
  for (const Uuid& hub : SharingHubs(rec.record)) {
    if (hub == home) continue;
    v1::Change copy = logged;
    if (std::find(shared_before.begin(), shared_before.end(), hub) == shared_before.end()) {
      // Named from now on: the hub's devices have none of it yet.
      copy.clear_fields();
      for (v1::FieldValue& fv : AllFields(*RecordBody(rec.record))) *copy.add_fields() = std::move(fv);
    }
    auto seq = txn_.AppendChange(hub, std::move(copy));
    if (!seq.ok()) return seq.status();
  }
  return Status::Ok();
}

Result<uint64_t> Reconciler::UpdateServerRecord(StoredRecord rec, const Message& body) {
  return ServerEdit(std::move(rec), [&body](Message* edited) { edited->CopyFrom(body); });
}

Result<uint64_t> Reconciler::CreateServerRecord(const Uuid& hub_id, const Uuid& id, v1::RecordType type,
                                                const Message& body) {
  StoredRecord rec;
  rec.record.set_id(id.raw());
  rec.record.set_type(type);
  rec.record.set_hub_id(hub_id.raw());
  if (MutableRecordBody(&rec.record) == nullptr) return Status::Internal("record of unknown type");
  return Commit(rec, true, v1::CHANGE_OP_UPSERT, AllFields(body), clock_.Now(), Server(), 0);
}

Result<std::string> Reconciler::AuthorOf(const Uuid& device) {
  if (device.is_nil()) return std::string("server");
  auto row = txn_.GetDevice(device);
  if (!row.ok()) return row.status();
  return row->has_value() ? (*row)->user_name : device.ToString();
}

Status Reconciler::ValidateCapture(const DeviceContext& device, const RecordTypeInfo& info, const v1::Change& change,
                                   const v1::Record* before, const Message& proposed) {
  std::vector<uint32_t> changed;
  changed.reserve(static_cast<size_t>(change.fields_size()));
  for (const v1::FieldValue& fv : change.fields()) changed.push_back(fv.field());
  OUTREACH_RETURN_IF_ERROR(validation::CheckFormsOf(proposed, changed));
  const validation::RecordRules* rules = validation::FindRecordRules(info.type);
  // Records devices do not capture (reference data, a manager's decision on a review the
  // server opened) are checked by access_policy.h and their own paths, not as captures.
  if (rules == nullptr || !rules->written_on_devices) return Status::Ok();
  Result<std::string> today = HubToday(device.hub_id);
  if (!today.ok()) return today.status();
  StoreRecordLookup records(txn_, device);
  validation::ValidationContext context{
      records, *today, [&device] { return device.user_name; }, device.role, validation::Side::kServer, formats_};
  return validation::ValidateRecordBody(info.type, proposed, before, context);
}

Result<std::string> Reconciler::HubToday(const Uuid& hub_id) {
  if (hub_today_ && hub_today_->first == hub_id) return hub_today_->second;
  auto hub = txn_.GetRecord(hub_id);
  if (!hub.ok()) return hub.status();
  std::string zone;
  if (hub->has_value() && (*hub)->record.has_hub()) zone = (*hub)->record.hub().time_zone();
  Result<std::string> today = LocalDateOfMillis(clock_.PhysicalNow(), zone);
  // A zone this system does not know (set in a store copied from another machine, say)
  // is the server's fault, not the device's.
  if (!today.ok()) return Status::Internal("hub " + hub_id.ToString() + ": " + today.status().message());
  hub_today_.emplace(hub_id, *today);
  return today;
}

Result<std::vector<std::string>> Reconciler::ComputeKeys(const StoredRecord& rec) {
  std::vector<std::string> keys;
  const Message* body = RecordBody(rec.record);
  if (body == nullptr || rec.record.erased() || rec.record.deleted()) return keys;
  switch (rec.record.type()) {
    case v1::RECORD_TYPE_PARTICIPANT: {
      if (EnumField(*body, "status") == v1::PARTICIPANT_STATUS_MERGED) {
        // Not a duplicate of anyone any more; found by MaybeMerged instead.
        if (!IdField(*body, "merged_into").is_nil()) keys.push_back(std::string(kMergedKey));
        break;
      }
      const std::string given = Normalise(StringField(*body, "given_name"));
      const std::string family = Normalise(StringField(*body, "family_name"));
      const std::string dob = StringField(*body, "date_of_birth");
      if (!given.empty() && !family.empty() && !dob.empty()) {
        keys.push_back(std::string(kNameKey) + Hex(Sha256(given + "|" + family + "|" + dob)));
      }
      const std::string ni = Normalise(StringField(*body, "ni_number"));
      if (!ni.empty()) keys.push_back(std::string(kNiKey) + Hex(Sha256(ni)));
      break;
    }
    case v1::RECORD_TYPE_BOOKING:
    case v1::RECORD_TYPE_ATTENDANCE: {
      const Uuid participant = IdField(*body, "participant_id");
      const Uuid session_id = IdField(*body, "session_id");
      if (!session_id.is_nil()) {
        const std::string linked = ListedLinkKey(rec.record.type(), *BodyField(*body, "session_id"), session_id);
        if (!linked.empty()) keys.push_back(linked);
      }
      auto session = txn_.GetRecord(session_id);
      if (!session.ok()) return session.status();
      if (participant.is_nil() || !session->has_value()) break;
      const Message* session_body = RecordBody((*session)->record);
      const Uuid venue = session_body ? IdField(*session_body, "venue_id") : Uuid();
      if (!venue.is_nil()) keys.push_back(VenueParticipantKey(venue, participant));
      break;
    }
    case v1::RECORD_TYPE_OUTCOME:
      if (EnumField(*body, "status") != v1::OUTCOME_STATUS_REJECTED) {
        keys.push_back(ClaimKey(IdField(*body, "participant_id"), EnumField(*body, "kind")));
      }
      break;
    case v1::RECORD_TYPE_CONFLICT: keys.push_back(ConflictOfKey(IdField(*body, "record_id"))); break;
    case v1::RECORD_TYPE_DUPLICATE_REVIEW:
      keys.push_back(PairKey(IdField(*body, "participant_id"), IdField(*body, "other_participant_id")));
      break;
    default: break;
  }
  return keys;
}

// ---------------------------------------------------------------- domain checks

Status Reconciler::RecordDisagreement(const StoredRecord& target, const Disagreement& d) {
  const RecordTypeInfo* info = FindRecordType(target.record.type());
  v1::Conflict c;
  c.set_record_id(target.record.id());
  c.set_record_type(target.record.type());
  c.set_field(d.field);
  c.set_winning_value(d.winning_value);
  c.set_winning_hlc(d.winning.hlc.value());
  c.set_winning_author(d.winning_author);
  c.set_losing_value(d.losing_value);
  c.set_losing_hlc(d.losing.hlc.value());
  c.set_losing_author(d.losing_author);
  c.set_status(v1::CONFLICT_STATUS_OPEN);
  c.set_field_name(info ? FieldName(*info, d.field) : std::to_string(d.field));
  auto hub = Uuid::FromBytes(target.record.hub_id());
  if (!hub.ok()) return hub.status();
  auto seq = CreateServerRecord(*hub, Uuid::NewV7(), v1::RECORD_TYPE_CONFLICT, c);
  return seq.ok() ? Status::Ok() : seq.status();
}

Status Reconciler::CheckDuplicates(const StoredRecord& participant, const std::vector<std::string>& keys_before) {
  auto hub = Uuid::FromBytes(participant.record.hub_id());
  auto self = Uuid::FromBytes(participant.record.id());
  if (!hub.ok() || !self.ok()) return Status::Internal("participant without ids");
  for (const std::string& key : participant.keys) {
    if (std::find(keys_before.begin(), keys_before.end(), key) != keys_before.end()) continue;
    if (key.rfind(kNameKey, 0) != 0 && key.rfind(kNiKey, 0) != 0) continue;  // not a duplicate-finding key
    const v1::DuplicateMatch match =
        key.rfind(kNiKey, 0) == 0 ? v1::DUPLICATE_MATCH_NI_NUMBER : v1::DUPLICATE_MATCH_NAME_AND_DATE_OF_BIRTH;
    auto others = txn_.FindRecordsByKey(*hub, key);
    if (!others.ok()) return others.status();
    for (const StoredRecord& other : *others) {
      auto other_id = Uuid::FromBytes(other.record.id());
      if (!other_id.ok() || *other_id == *self || other.record.type() != v1::RECORD_TYPE_PARTICIPANT) continue;
      auto reviews = txn_.FindRecordsByKey(*hub, PairKey(*self, *other_id));
      if (!reviews.ok()) return reviews.status();
      if (!reviews->empty()) continue;  // once per pair
      v1::DuplicateReview review;
      review.set_participant_id(other_id->raw());
      review.set_other_participant_id(self->raw());
      review.set_match(match);
      review.set_status(v1::DUPLICATE_REVIEW_STATUS_OPEN);
      auto seq = CreateServerRecord(*hub, Uuid::NewV7(), v1::RECORD_TYPE_DUPLICATE_REVIEW, review);
      if (!seq.ok()) return seq.status();
    }
  }
  return Status::Ok();
}

Result<bool> Reconciler::CheckSecondClaim(const StoredRecord& outcome) {
  auto hub = Uuid::FromBytes(outcome.record.hub_id());
  if (!hub.ok()) return hub.status();
  bool found = false;
  for (const std::string& key : outcome.keys) {
    auto claims = txn_.FindRecordsByKey(*hub, key);
    if (!claims.ok()) return claims.status();
    for (const StoredRecord& first : *claims) {
      if (first.record.id() == outcome.record.id()) continue;
      const FieldDescriptor* kind = v1::Outcome::descriptor()->FindFieldByName("kind");
      const uint32_t number = static_cast<uint32_t>(kind->number());
      Disagreement d;
      d.field = number;
      d.winning_value = EncodeField(*RecordBody(first.record), kind);
      d.losing_value = EncodeField(*RecordBody(outcome.record), kind);
      auto fv = first.versions.find(number);
      if (fv != first.versions.end()) d.winning = fv->second;
      auto lv = outcome.versions.find(number);
      if (lv != outcome.versions.end()) d.losing = lv->second;
      auto wa = AuthorOf(d.winning.origin);
      auto la = AuthorOf(d.losing.origin);
      if (!wa.ok()) return wa.status();
      if (!la.ok()) return la.status();
      d.winning_author = *wa;
      d.losing_author = *la;
      OUTREACH_RETURN_IF_ERROR(RecordDisagreement(outcome, d));
      found = true;
      break;  // one conflict record per new claim
    }
  }
  return found;
}

Status Reconciler::MergeParticipants(const Uuid& hub_id, const Uuid& kept, const Uuid& merged) {
  auto linked = txn_.FindRecordsByParticipant(hub_id, merged);
  if (!linked.ok()) return linked.status();
  for (StoredRecord& rec : *linked) {
    const RecordTypeInfo* info = FindRecordType(rec.record.type());
    if (info == nullptr || info->participant_field == nullptr || rec.record.erased()) continue;
    if (!info->follows_merge) continue;  // a review or a conflict keeps naming whom it is about
    if (info->policy == MergePolicy::kKeyedRegister && !rec.record.deleted()) {
      auto moved = MoveRegisterRow(hub_id, kept, rec);
      if (!moved.ok()) return moved.status();
      if (*moved) continue;
    }
    const FieldDescriptor* link = info->participant_field;
    auto seq =
        ServerEdit(std::move(rec), [&](Message* body) { body->GetReflection()->SetString(body, link, kept.raw()); });
    if (!seq.ok()) return seq.status();
  }
  auto participant = txn_.GetRecord(merged);
  if (!participant.ok()) return participant.status();
  if (!participant->has_value() || (*participant)->record.erased() || (*participant)->record.hub_id() != hub_id.raw()) {
    return Status::Ok();  // a merge never marks another hub's person
  }
  auto seq = ServerEdit(std::move(**participant), [&](Message* body) {
    auto* p = static_cast<v1::Participant*>(body);
    p->set_status(v1::PARTICIPANT_STATUS_MERGED);
    p->set_merged_into(kept.raw());
  });
  if (!seq.ok()) return seq.status();
  if (merged_ && merged_hub_ == hub_id) merged_->insert(merged);
  return Status::Ok();
}

Result<bool> Reconciler::MoveRegisterRow(const Uuid& hub_id, const Uuid& kept, StoredRecord row) {
  const RecordTypeInfo* info = FindRecordType(row.record.type());
  const Message* body = RecordBody(row.record);
  const Uuid target_id = Uuid::DeriveRegisterRow(info->name, KeyOf(*body, info->register_key_field).raw(), kept.raw());
  auto target = txn_.GetRecord(target_id);
  if (!target.ok()) return target.status();
  if (target->has_value() && (*target)->record.deleted()) return false;  // deliberately removed: redirect in place
  const FieldDescriptor* link = info->participant_field;
  if (!target->has_value()) {
    std::unique_ptr<Message> moved(body->New());
    moved->CopyFrom(*body);
    moved->GetReflection()->SetString(moved.get(), link, kept.raw());
    auto created = CreateServerRecord(hub_id, target_id, row.record.type(), *moved);
    if (!created.ok()) return created.status();
  } else {
    // Both people had a row for the session: per field, the later decision wins.
    StoredRecord& into = **target;
    const Message* into_body = RecordBody(into.record);
    std::vector<v1::FieldValue> later;
    for (const auto& [field, version] : row.versions) {
      if (static_cast<int>(field) == link->number()) continue;
      const std::string value = CurrentValue(*body, field);
      if (value == CurrentValue(*into_body, field)) continue;
      auto held = into.versions.find(field);
      if (held != into.versions.end() &&
          !HlcLater(version.hlc, version.origin.raw(), held->second.hlc, held->second.origin.raw())) {
        continue;
      }
      v1::FieldValue fv;
      fv.set_field(field);
      fv.set_value(value);
      later.push_back(std::move(fv));
    }
    auto seq = Commit(into, false, v1::CHANGE_OP_UPSERT, later, clock_.Now(), Server(), 0);
    if (!seq.ok()) return seq.status();
  }
  auto removed = Commit(row, false, v1::CHANGE_OP_DELETE, {}, clock_.Now(), Server(), 0);
  if (!removed.ok()) return removed.status();
  return true;
}

Result<std::optional<Uuid>> Reconciler::FinalParticipant(const Uuid& hub_id, const Uuid& participant) {
  using Out = std::optional<Uuid>;
  std::set<Uuid> seen{participant};
  Uuid at = participant;
  while (true) {
    auto loaded = txn_.GetRecord(at);
    if (!loaded.ok()) return loaded.status();
    if (!loaded->has_value()) return Out();
    const StoredRecord& p = **loaded;
    if (p.record.type() != v1::RECORD_TYPE_PARTICIPANT || p.record.hub_id() != hub_id.raw() || p.record.erased() ||
        p.record.deleted()) {
      return Out();
    }
    const auto* body = static_cast<const v1::Participant*>(RecordBody(p.record));
    if (body->status() != v1::PARTICIPANT_STATUS_MERGED || body->merged_into().empty()) {
      return at == participant ? Out() : Out(at);
    }
    auto next = Uuid::FromBytes(body->merged_into());
    // A loop (only stores written before merges followed chains can hold one) has no
    // live end: nothing is redirected.
    if (!next.ok() || next->is_nil() || !seen.insert(*next).second) return Out();
    at = *next;
  }
}

Result<bool> Reconciler::MaybeMerged(const Uuid& hub_id, const Uuid& participant) {
  if (!merged_ || merged_hub_ != hub_id) {
    auto found = txn_.FindRecordsByKey(hub_id, std::string(kMergedKey));
    if (!found.ok()) return found.status();
    std::set<Uuid> ids;
    for (const StoredRecord& r : *found) {
      auto rid = Uuid::FromBytes(r.record.id());
      if (rid.ok()) ids.insert(*rid);
    }
    merged_ = std::move(ids);
    merged_hub_ = hub_id;
  }
  return merged_->count(participant) != 0;
}

Result<bool> Reconciler::DeletedByServer(const StoredRecord& row) {
  auto rid = Uuid::FromBytes(row.record.id());
  if (!rid.ok()) return false;
  auto audit = txn_.ListAudit(*rid);
  if (!audit.ok()) return audit.status();
  // Field 0 marks a delete (register rows are never created without fields), and a
  // deleted record is never written by a device again.
  for (auto it = audit->rbegin(); it != audit->rend(); ++it) {
    if (it->field == 0) return it->device_id.is_nil();
  }
  return false;
}

namespace {

// `kept`'s body with its history followed by each entry of `moved`'s history it lacks.
std::unique_ptr<Message> KeptHistory(const RecordTypeInfo& info, const Message& kept, const Message& moved) {
  std::unique_ptr<Message> out(kept.New());
  out->MergeFrom(kept);
  const FieldDescriptor* field = info.history_field;
  const auto* r = out->GetReflection();
  const int held = r->FieldSize(kept, field);
  for (int i = 0; i < r->FieldSize(moved, field); ++i) {
    const Message& entry = r->GetRepeatedMessage(moved, field, i);
    bool present = false;
    for (int j = 0; j < held && !present; ++j) {
      present = google::protobuf::util::MessageDifferencer::Equals(entry, r->GetRepeatedMessage(kept, field, j));
    }
    if (!present) r->AddMessage(out.get(), field)->CopyFrom(entry);
  }
  return out;
}

}  // namespace

Result<std::optional<Reconciler::RegisterMove>> Reconciler::FindRegisterMove(
    const RecordTypeInfo& info, const Uuid& hub_id, const v1::Change& change,
    const std::optional<StoredRecord>& existing) {
  using Out = std::optional<RegisterMove>;
  const FieldDescriptor* link = info.participant_field;
  if (link == nullptr) return Out();
  std::unique_ptr<Message> body = NewRecordBody(change.type());
  if (body == nullptr) return Out();
  if (existing) body->MergeFrom(*RecordBody(existing->record));  // into the empty body (see ApplyDeviceChange)
  for (const auto& fv : change.fields()) {
    if (fv.field() == 0 || !ApplyField(body.get(), fv.field(), fv.value()).ok()) return Out();  // refused later
  }
  const Uuid session = KeyOf(*body, info.register_key_field);
  const Uuid participant = KeyOf(*body, link);
  if (session.is_nil() || participant.is_nil()) return Out();
  if (existing) {
    // Only a row a merge moved: one a person deleted stays deleted.
    auto by_server = DeletedByServer(*existing);
    if (!by_server.ok()) return by_server.status();
    if (!*by_server) return Out();
  } else {
    auto maybe = MaybeMerged(hub_id, participant);
    if (!maybe.ok()) return maybe.status();
    if (!*maybe) return Out();
  }
  auto live = FinalParticipant(hub_id, participant);
  if (!live.ok()) return live.status();
  if (!*live) return Out();
  const Uuid target_id = Uuid::DeriveRegisterRow(info.name, session.raw(), (*live)->raw());
  if (target_id.raw() == change.record_id()) return Out();
  auto target = txn_.GetRecord(target_id);
  if (!target.ok()) return target.status();

  RegisterMove move;
  move.from_id = *Uuid::FromBytes(change.record_id());
  move.from = existing;
  move.to = std::move(*target);
  move.participant = **live;
  move.hub_id = hub_id;
  move.change = change;
  move.change.set_record_id(target_id.raw());
  std::unique_ptr<Message> relinked(body->New());
  relinked->GetReflection()->SetString(relinked.get(), link, (*live)->raw());
  const std::string link_value = EncodeField(*relinked, link);
  for (auto& fv : *move.change.mutable_fields()) {
    if (static_cast<int>(fv.field()) == link->number()) {
      fv.set_value(link_value);
      continue;
    }
    if (move.to && info.history_field != nullptr && static_cast<int>(fv.field()) == info.history_field->number()) {
      // The kept row keeps its own history; the marks the device's row held that it
      // lacks follow after them, so no history is dropped on either side. The union
      // holds both, so it is written as seen: no conflict over it.
      fv.set_value(EncodeField(*KeptHistory(info, *RecordBody(move.to->record), *body), info.history_field));
      auto held = move.to->versions.find(fv.field());
      fv.set_base_version(held == move.to->versions.end() ? 0 : held->second.hlc.value());
      continue;
    }
    if (!move.from || !move.to) continue;
    // The writer had seen the tombstone's version of this field. Where the kept row
    // holds the same value (the merge carried it there), that is the value the writer
    // edited: it has seen the kept row's version, so its edit is not concurrent with
    // the move. Otherwise the usual rules meet the kept row's own value.
    auto seen = move.from->versions.find(fv.field());
    if (seen == move.from->versions.end() || seen->second.hlc.value() != fv.base_version()) continue;
    if (CurrentValue(*RecordBody(move.from->record), fv.field()) !=
        CurrentValue(*RecordBody(move.to->record), fv.field())) {
      continue;
    }
    auto held = move.to->versions.find(fv.field());
    fv.set_base_version(held == move.to->versions.end() ? 0 : held->second.hlc.value());
  }
  if (!move.to) {
    // The kept participant's row is created by this change: it names its session and
    // participant even when the device's edit of a moved row did not.
    for (const FieldDescriptor* id_field : {info.register_key_field, link}) {
      if (id_field == nullptr) continue;
      bool listed = false;
      for (const auto& fv : move.change.fields()) listed = listed || static_cast<int>(fv.field()) == id_field->number();
      if (listed) continue;
      v1::FieldValue* added = move.change.add_fields();
      added->set_field(static_cast<uint32_t>(id_field->number()));
      added->set_value(id_field == link ? link_value : EncodeField(*body, id_field));
    }
  }
  return Out(std::move(move));
}

// The device still holds the row it addressed, with its own values. So that it (and
// every device) ends up holding what the server holds, the row ends deleted with the
// server's values, logged: a tombstone the merge left is restated (the values the
// device's change replaced, stamped now); a row the server never held is created as
// the device wrote it and deleted, as the merge would have left it.
Status Reconciler::SettleMovedFrom(RegisterMove& move, const v1::Change& original) {
  if (move.from) {
    StoredRecord& tombstone = *move.from;
    const Message* body = RecordBody(tombstone.record);
    std::vector<v1::FieldValue> restated;
    std::set<uint32_t> fields;
    for (const auto& fv : original.fields()) {
      std::string held = CurrentValue(*body, fv.field());
      if (held == fv.value() || !fields.insert(fv.field()).second) continue;
      v1::FieldValue r;
      r.set_field(fv.field());
      r.set_value(std::move(held));
      restated.push_back(std::move(r));
    }
    auto seq = Commit(tombstone, false, v1::CHANGE_OP_UPSERT, restated, clock_.Now(), Server(), 0);
    return seq.ok() ? Status::Ok() : seq.status();
  }
  StoredRecord row;
  row.record.set_id(move.from_id.raw());
  row.record.set_type(original.type());
  row.record.set_hub_id(move.hub_id.raw());
  if (MutableRecordBody(&row.record) == nullptr) return Status::Internal("record of unknown type");
  row.record.set_deleted(true);  // so it never holds lookup keys, not even between the two writes
  std::vector<v1::FieldValue> fields;
  for (const auto& fv : original.fields()) {
    v1::FieldValue f;
    f.set_field(fv.field());
    f.set_value(fv.value());
    fields.push_back(std::move(f));
  }
  auto created = Commit(row, true, v1::CHANGE_OP_UPSERT, fields, clock_.Now(), Server(), 0);
  if (!created.ok()) return created.status();
  auto removed = Commit(row, false, v1::CHANGE_OP_DELETE, {}, clock_.Now(), Server(), 0);
  return removed.ok() ? Status::Ok() : removed.status();
}

Result<uint64_t> Reconciler::Relink(StoredRecord& rec, const Uuid& participant) {
  const RecordTypeInfo* info = FindRecordType(rec.record.type());
  if (info == nullptr || info->participant_field == nullptr) return uint64_t{0};
  const Message* before = RecordBody(rec.record);
  std::unique_ptr<Message> after(before->New());
  after->CopyFrom(*before);
  after->GetReflection()->SetString(after.get(), info->participant_field, participant.raw());
  const std::vector<v1::FieldValue> fields = DiffFields(*before, *after);
  return Commit(rec, false, v1::CHANGE_OP_UPSERT, fields, clock_.Now(), Server(), 0);
}

Status Reconciler::TakeLoser(const StoredRecord& conflict) {
  const auto* c = static_cast<const v1::Conflict*>(RecordBody(conflict.record));
  auto target_id = Uuid::FromBytes(c->record_id());
  if (!target_id.ok()) return Status::Ok();
  auto target = txn_.GetRecord(*target_id);
  if (!target.ok()) return target.status();
  if (!target->has_value() || (*target)->record.erased()) return Status::Ok();
  StoredRecord& rec = **target;
  if (CurrentValue(*RecordBody(rec.record), c->field()) == c->losing_value()) return Status::Ok();
  v1::FieldValue fv;
  fv.set_field(c->field());
  fv.set_value(c->losing_value());
  auto seq = Commit(rec, false, v1::CHANGE_OP_UPSERT, {fv}, clock_.Now(), Server(), 0);
  return seq.ok() ? Status::Ok() : seq.status();
}

Status Reconciler::ResolveConflict(const Uuid& hub_id, const Uuid& conflict_id, v1::ConflictStatus resolution,
                                   const std::string& resolved_by) {
  auto loaded = txn_.GetRecord(conflict_id);
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value() || (*loaded)->record.type() != v1::RECORD_TYPE_CONFLICT ||
      (*loaded)->record.hub_id() != hub_id.raw()) {
    return Status::NotFound("no conflict " + conflict_id.ToString() + " in hub " + hub_id.ToString(), "conflict_id");
  }
  StoredRecord conflict = std::move(**loaded);
  if (static_cast<const v1::Conflict*>(RecordBody(conflict.record))->status() != v1::CONFLICT_STATUS_OPEN) {
    return Status::FailedPrecondition("conflict " + conflict_id.ToString() + " was already resolved", "conflict_id");
  }
  auto seq = ServerEdit(conflict, [&](Message* body) {
    auto* c = static_cast<v1::Conflict*>(body);
    c->set_status(resolution);
    c->set_resolved_by(resolved_by);
  });
  if (!seq.ok()) return seq.status();
  if (resolution == v1::CONFLICT_STATUS_TOOK_LOSER) return TakeLoser(conflict);
  return Status::Ok();
}

// ---------------------------------------------------------------- erasure

Result<ChangeVerdict> Reconciler::Erase(const Writer& writer, StoredRecord participant, Hlc hlc, uint64_t device_seq) {
  auto hub = Uuid::FromBytes(participant.record.hub_id());
  auto pid = Uuid::FromBytes(participant.record.id());
  if (!hub.ok() || !pid.ok()) return Status::Internal("participant without ids");

  // The participant, everything linked to it, and conflicts about any of those.
  std::vector<StoredRecord> targets;
  targets.push_back(std::move(participant));
  auto linked = txn_.FindRecordsByParticipant(*hub, *pid);
  if (!linked.ok()) return linked.status();
  for (auto& r : *linked) targets.push_back(std::move(r));
  std::set<std::string> seen;
  for (size_t i = 0; i < targets.size(); ++i) {
    seen.insert(targets[i].record.id());
    auto id = Uuid::FromBytes(targets[i].record.id());
    if (!id.ok()) continue;
    auto conflicts = txn_.FindRecordsByKey(*hub, ConflictOfKey(*id));
    if (!conflicts.ok()) return conflicts.status();
    for (auto& c : *conflicts) {
      if (!seen.count(c.record.id())) targets.push_back(std::move(c));
    }
  }

  ChangeVerdict verdict;
  verdict.outcome = v1::CHANGE_OUTCOME_APPLIED;
  for (size_t i = 0; i < targets.size(); ++i) {
    StoredRecord& rec = targets[i];
    if (rec.record.erased()) continue;
    auto id = Uuid::FromBytes(rec.record.id());
    if (!id.ok()) continue;
    // Keep ids (links between records), drop every other value.
    const Message* before = RecordBody(rec.record);
    std::unique_ptr<Message> kept(before->New());
    const auto* d = before->GetDescriptor();
    for (int f = 0; f < d->field_count(); ++f) {
      const FieldDescriptor* fd = d->field(f);
      const std::string& name = fd->name();
      const bool is_id = fd->type() == FieldDescriptor::TYPE_BYTES && !fd->is_repeated() &&
                         ((name.size() > 3 && name.compare(name.size() - 3, 3, "_id") == 0) || name == "merged_into");
      if (is_id) kept->GetReflection()->SetString(kept.get(), fd, before->GetReflection()->GetString(*before, fd));
    }
    MutableRecordBody(&rec.record)->CopyFrom(*kept);
    rec.record.set_erased(true);
    rec.keys.clear();
    OUTREACH_RETURN_IF_ERROR(txn_.PutRecord(rec));
    OUTREACH_RETURN_IF_ERROR(txn_.RedactRecordHistory(*id));

    const bool is_participant = i == 0;
    const Writer& by = is_participant ? writer : Server();
    const Hlc stamp = is_participant ? hlc : clock_.Now();
    v1::Change erase;
    erase.set_record_id(rec.record.id());
    erase.set_type(rec.record.type());
    erase.set_hlc(stamp.value());
    erase.set_device_seq(is_participant ? device_seq : 0);
    erase.set_op(v1::CHANGE_OP_ERASE);
    erase.set_hub_id(hub->raw());
    erase.set_origin_device(by.device.raw());
    erase.set_author(by.author);
    auto seq = txn_.AppendChange(*hub, std::move(erase));
    if (!seq.ok()) return seq.status();
    AuditRow row;
    row.at_ms = clock_.PhysicalNow();
    row.hub_id = *hub;
    row.device_id = by.device;
    row.author = by.author;
    row.record_id = *id;
    row.type = rec.record.type();
    row.server_seq = *seq;
    OUTREACH_RETURN_IF_ERROR(txn_.AppendAudit(row));
    if (is_participant) verdict.server_seq = *seq;
  }
  return verdict;
}

}  // namespace outreach::server
