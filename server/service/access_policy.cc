#include "server/service/access_policy.h"

#include <algorithm>

#include "server/service/body_fields.h"
#include "server/service/shared_reference.h"

namespace outreach::server {
namespace {

Status Deny(std::string reason, std::string field) {
  return Status(ErrorCode::kPermissionDenied, std::move(reason), std::move(field));
}

std::string Readable(std::string_view name) {
  std::string out(name);
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

// The venue of the session `session_id`, nil when there is no such session.
Result<Uuid> SessionVenue(StoreTxn& txn, const Uuid& session_id) {
  if (session_id.is_nil()) return Uuid();
  auto session = txn.GetRecord(session_id);
  if (!session.ok()) return session.status();
  if (!session->has_value() || (*session)->record.type() != v1::RECORD_TYPE_SESSION) return Uuid();
  const auto* body = RecordBody((*session)->record);
  return body ? IdField(*body, "venue_id") : Uuid();
}

}  // namespace

std::string VenueParticipantKey(const Uuid& venue_id, const Uuid& participant_id) {
  return std::string(kVenueParticipantPrefix) + venue_id.ToString() + ":" + participant_id.ToString();
}

namespace {

// The rules by role and record type (the file comment of access_policy.h).
Status CheckRoleRules(StoreTxn& txn, const DeviceContext& device, const RecordTypeInfo& info, const v1::Change& change,
                      const StoredRecord* existing, const google::protobuf::Message& proposed) {
  if (info.type == v1::RECORD_TYPE_CASE_NOTE) {
    const int sensitivity = EnumField(proposed, "sensitivity");
    if (sensitivity == v1::NOTE_SENSITIVITY_UNSPECIFIED && change.op() == v1::CHANGE_OP_UPSERT) {
      // Who may read a note follows from it: a note must say.
      return Deny("a case note must say its sensitivity: normal, health or restricted", "sensitivity");
    }
    if (sensitivity == v1::NOTE_SENSITIVITY_RESTRICTED) {
      return Deny("restricted notes never leave the device", "sensitivity");
    }
    if (sensitivity == v1::NOTE_SENSITIVITY_HEALTH && device.role != v1::ROLE_HEALTH_WORKER) {
      return Deny("health notes may be written only by health workers", "sensitivity");
    }
  }
  if (device.role == v1::ROLE_KIOSK) {
    if (change.op() != v1::CHANGE_OP_UPSERT) return Deny("a kiosk may not delete or erase records", "op");
    if (info.type == v1::RECORD_TYPE_ATTENDANCE) {
      if (EnumField(proposed, "marked_by") != v1::MARKED_BY_KIOSK) {
        return Deny("a kiosk's attendance marks must say they were marked by the kiosk", "marked_by");
      }
      auto venue = SessionVenue(txn, IdField(proposed, "session_id"));
      if (!venue.ok()) return venue.status();
      if (venue->is_nil() || *venue != device.venue_id) {
        return Deny("a kiosk may mark attendance only for sessions at its own venue", "session_id");
      }
      return Status::Ok();
    }
    if (info.type == v1::RECORD_TYPE_ENQUIRY) {
      if (existing != nullptr) return Deny("a kiosk may create enquiries but not change them", "record_id");
      return Status::Ok();
    }
    return Deny("a kiosk may write only attendance and enquiries, not " + Readable(info.name) + " records", "type");
  }
  if (info.reference_data && device.role != v1::ROLE_MANAGER) {
    return Deny("only a hub manager may change " + Readable(info.name) + " reference data", "type");
  }
  if (IsSharedReference(info.type)) {
    return Deny(Readable(info.name) +
                    " records are shared by several hubs and managed on the server (outreach-server " +
                    std::string(info.type == v1::RECORD_TYPE_PROGRAMME    ? "programme add|update"
                                : info.type == v1::RECORD_TYPE_INSTRUMENT ? "instrument add|retire"
                                                                          : "partner add|update") +
                    ")",
                "type");
  }
  if (change.op() == v1::CHANGE_OP_ERASE && device.role != v1::ROLE_MANAGER) {
    return Deny("only a hub manager may erase a participant's data", "op");
  }
  if (info.type == v1::RECORD_TYPE_DUPLICATE_REVIEW && device.role != v1::ROLE_MANAGER) {
    return Deny("only a hub manager may decide a duplicate review", "status");
  }
  if (info.type == v1::RECORD_TYPE_CONFLICT && change.op() != v1::CHANGE_OP_UPSERT) {
    return Deny("a conflict record cannot be deleted; resolve it instead", "op");
  }
  if (info.type == v1::RECORD_TYPE_CONFLICT && existing == nullptr) {
    return Deny("conflict records are created by the server; a device may only resolve one", "record_id");
  }
  return Status::Ok();
}

// The values the change sets: an enum holds a value this server knows (an unknown one
// could decide who reads the record, as a note's sensitivity does), and a field naming
// who acted names the device's own person.
Status CheckValues(const DeviceContext& device, const RecordTypeInfo& info, const v1::Change& change,
                   const google::protobuf::Message& proposed) {
  using google::protobuf::FieldDescriptor;
  const auto* reflection = proposed.GetReflection();
  for (const v1::FieldValue& fv : change.fields()) {
    const FieldDescriptor* f = info.descriptor->FindFieldByNumber(static_cast<int>(fv.field()));
    if (f == nullptr) continue;  // a field of a newer schema: kept as unknown, decides nothing here
    if (f->type() == FieldDescriptor::TYPE_ENUM) {
      const int count = f->is_repeated() ? reflection->FieldSize(proposed, f) : 1;
      for (int i = 0; i < count; ++i) {
        const int value =
            f->is_repeated() ? reflection->GetRepeatedEnumValue(proposed, f, i) : reflection->GetEnumValue(proposed, f);
        if (f->enum_type()->FindValueByNumber(value) == nullptr) {
          return Deny(std::to_string(value) + " is not a " + Readable(f->name()) + " this server knows", f->name());
        }
      }
    }
    // Empty names no one; anyone else is refused.
    const std::string actor = info.IsActorField(f->number()) ? StringField(proposed, f->name().c_str()) : "";
    if (!actor.empty() && actor != device.user_name) {
      return Deny(Readable(f->name()) + " must be the person this device is enrolled for (" + device.user_name + ")",
                  f->name());
    }
  }
  return Status::Ok();
}

// Every link the change sets names a record available to the device (one refusal for
// every reason it is not: NotAvailable).
Status CheckLinks(StoreTxn& txn, const DeviceContext& device, const RecordTypeInfo& info, const v1::Change& change,
                  const google::protobuf::Message& proposed) {
  const auto* reflection = proposed.GetReflection();
  for (const v1::FieldValue& fv : change.fields()) {
    const RecordLink* link = info.LinkOf(static_cast<int>(fv.field()));
    if (link == nullptr) continue;
    const auto* f = link->field;
    const int count = f->is_repeated() ? reflection->FieldSize(proposed, f) : 1;
    for (int i = 0; i < count; ++i) {
      const std::string raw =
          f->is_repeated() ? reflection->GetRepeatedString(proposed, f, i) : reflection->GetString(proposed, f);
      if (raw.empty()) continue;  // a link cleared, or never set: names nothing
      auto id = Uuid::FromBytes(raw);
      if (!id.ok() || id->is_nil()) return Deny("a record id must be 16 bytes and not nil", f->name());
      OUTREACH_RETURN_IF_ERROR(CheckAvailable(txn, device, *id, link->target, f->name()));
    }
  }
  return Status::Ok();
}

// Whether `device` may read a case note with this body.
bool NoteVisible(const DeviceContext& device, const google::protobuf::Message& note) {
  const int sensitivity = EnumField(note, "sensitivity");
  if (sensitivity == v1::NOTE_SENSITIVITY_RESTRICTED) return false;
  return sensitivity != v1::NOTE_SENSITIVITY_HEALTH || device.role == v1::ROLE_HEALTH_WORKER;
}

}  // namespace

Status NotAvailable(const std::string& field, const std::string& id) {
  return Deny("record " + id + " is not available to this device", field);
}

Status CheckAvailable(StoreTxn& txn, const DeviceContext& device, const Uuid& id, v1::RecordType type,
                      const std::string& field) {
  auto target = txn.GetRecord(id);
  if (!target.ok()) return target.status();
  bool available = target->has_value() && !(*target)->record.erased() &&
                   (type == v1::RECORD_TYPE_UNSPECIFIED || (*target)->record.type() == type);
  if (available) {
    auto readable = MayRead(txn, device, **target);
    if (!readable.ok()) return readable.status();
    available = *readable;
  }
  return available ? Status::Ok() : NotAvailable(field, id.ToString());
}

Status CheckWrite(StoreTxn& txn, const DeviceContext& device, const RecordTypeInfo& info, const v1::Change& change,
                  const StoredRecord* existing, const google::protobuf::Message& proposed) {
  OUTREACH_RETURN_IF_ERROR(CheckRoleRules(txn, device, info, change, existing, proposed));
  OUTREACH_RETURN_IF_ERROR(CheckValues(device, info, change, proposed));
  return CheckLinks(txn, device, info, change, proposed);
}

Result<bool> MayRead(StoreTxn& txn, const DeviceContext& device, const StoredRecord& record) {
  if (record.record.hub_id() != device.hub_id.raw()) {
    // Reference data its hub shares with others (a partner), for anyone but a kiosk.
    return device.role != v1::ROLE_KIOSK && !record.record.erased() && SharedWith(record.record, device.hub_id);
  }
  const google::protobuf::Message* body = RecordBody(record.record);
  if (body == nullptr) return false;
  if (record.record.type() == v1::RECORD_TYPE_CASE_NOTE && !NoteVisible(device, *body)) return false;
  if (record.record.type() == v1::RECORD_TYPE_CONFLICT &&
      EnumField(*body, "record_type") == v1::RECORD_TYPE_CASE_NOTE) {
    // A conflict quotes the note's values: read as the note is.
    auto note = txn.GetRecord(IdField(*body, "record_id"));
    if (!note.ok()) return note.status();
    if (note->has_value() && RecordBody((*note)->record) != nullptr &&
        !NoteVisible(device, *RecordBody((*note)->record))) {
      return false;
    }
  }
  if (device.role != v1::ROLE_KIOSK) return true;

  // A kiosk: its hub's record, its venue, its venue's sessions, their bookings and attendance, and the
  // participants who come to its venue.
  switch (record.record.type()) {
    case v1::RECORD_TYPE_VENUE: return record.record.id() == device.venue_id.raw();
    case v1::RECORD_TYPE_HUB: return record.record.id() == device.hub_id.raw();  // its time zone
    case v1::RECORD_TYPE_SESSION: return IdField(*body, "venue_id") == device.venue_id;
    case v1::RECORD_TYPE_BOOKING:
    case v1::RECORD_TYPE_ATTENDANCE: {
      auto venue = SessionVenue(txn, IdField(*body, "session_id"));
      if (!venue.ok()) return venue.status();
      return !venue->is_nil() && *venue == device.venue_id;
    }
    case v1::RECORD_TYPE_PARTICIPANT: {
      if (IdField(*body, "venue_id") == device.venue_id) return true;
      auto record_id = Uuid::FromBytes(record.record.id());
      if (!record_id.ok()) return false;
      auto linked = txn.FindRecordsByKey(device.hub_id, VenueParticipantKey(device.venue_id, *record_id));
      if (!linked.ok()) return linked.status();
      return !linked->empty();
    }
    default: return false;
  }
}

// Most entries reach most devices unread; only notes, conflicts and kiosks need the state.
bool ReadPassesUnfiltered(const DeviceContext& device, v1::RecordType type) {
  return type != v1::RECORD_TYPE_CASE_NOTE && type != v1::RECORD_TYPE_CONFLICT && device.role != v1::ROLE_KIOSK;
}

Result<std::optional<v1::Change>> FilterForRead(StoreTxn& txn, const DeviceContext& device, v1::Change change) {
  using Out = std::optional<v1::Change>;
  auto record_id = Uuid::FromBytes(change.record_id());
  if (!record_id.ok()) return Out();
  if (ReadPassesUnfiltered(device, change.type())) return Out(std::move(change));
  const bool kiosk = device.role == v1::ROLE_KIOSK;
  if (kiosk) {
    // A kiosk: its venue's sessions, their bookings and attendance, and names.
    switch (change.type()) {
      case v1::RECORD_TYPE_HUB:
      case v1::RECORD_TYPE_SESSION:
      case v1::RECORD_TYPE_BOOKING:
      case v1::RECORD_TYPE_ATTENDANCE:
      case v1::RECORD_TYPE_PARTICIPANT: break;
      default: return Out();
    }
    // Erasures carry no data, only the id to purge: always passed on.
    if (change.op() == v1::CHANGE_OP_ERASE) return Out(std::move(change));
  }
  auto stored = txn.GetRecord(*record_id);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return kiosk ? Out() : Out(std::move(change));
  auto readable = MayRead(txn, device, **stored);
  if (!readable.ok()) return readable.status();
  if (!*readable) return Out();
  if (!kiosk || change.type() != v1::RECORD_TYPE_PARTICIPANT) return Out(std::move(change));

  // A participant, to a kiosk: only reference and names.
  const auto* d = v1::Participant::descriptor();
  const int allowed[] = {d->FindFieldByName("reference")->number(), d->FindFieldByName("given_name")->number(),
                         d->FindFieldByName("family_name")->number()};
  auto* fields = change.mutable_fields();
  fields->erase(std::remove_if(fields->begin(), fields->end(),
                               [&](const v1::FieldValue& f) {
                                 return std::find(std::begin(allowed), std::end(allowed),
                                                  static_cast<int>(f.field())) == std::end(allowed);
                               }),
                fields->end());
  if (change.op() == v1::CHANGE_OP_UPSERT && fields->empty()) return Out();
  return Out(std::move(change));
}

}  // namespace outreach::server
