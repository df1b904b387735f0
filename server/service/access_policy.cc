#include "server/service/access_policy.h"

#include <algorithm>

#include "server/service/body_fields.h"

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

Status CheckWrite(StoreTxn& txn, const DeviceContext& device, const RecordTypeInfo& info, const v1::Change& change,
                  const StoredRecord* existing, const google::protobuf::Message& proposed) {
  if (info.type == v1::RECORD_TYPE_CASE_NOTE) {
    const int sensitivity = EnumField(proposed, "sensitivity");
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

// Most entries reach most devices unread; only notes, conflicts and kiosks need the state.
bool ReadPassesUnfiltered(const DeviceContext& device, v1::RecordType type) {
  return type != v1::RECORD_TYPE_CASE_NOTE && type != v1::RECORD_TYPE_CONFLICT && device.role != v1::ROLE_KIOSK;
}

Result<std::optional<v1::Change>> FilterForRead(StoreTxn& txn, const DeviceContext& device, v1::Change change) {
  using Out = std::optional<v1::Change>;
  auto record_id = Uuid::FromBytes(change.record_id());
  if (!record_id.ok()) return Out();
  if (ReadPassesUnfiltered(device, change.type())) return Out(std::move(change));
  auto stored = txn.GetRecord(*record_id);
  if (!stored.ok()) return stored.status();
  const google::protobuf::Message* body = stored->has_value() ? RecordBody((*stored)->record) : nullptr;

  // Case notes by sensitivity, and conflicts about case notes the same way.
  const google::protobuf::Message* note = nullptr;
  std::optional<StoredRecord> conflict_target;
  if (change.type() == v1::RECORD_TYPE_CASE_NOTE) {
    note = body;
  } else if (change.type() == v1::RECORD_TYPE_CONFLICT && body != nullptr &&
             EnumField(*body, "record_type") == v1::RECORD_TYPE_CASE_NOTE) {
    auto target = txn.GetRecord(IdField(*body, "record_id"));
    if (!target.ok()) return target.status();
    conflict_target = std::move(*target);
    if (conflict_target) note = RecordBody(conflict_target->record);
  }
  if (note != nullptr) {
    const int sensitivity = EnumField(*note, "sensitivity");
    if (sensitivity == v1::NOTE_SENSITIVITY_RESTRICTED) return Out();
    if (sensitivity == v1::NOTE_SENSITIVITY_HEALTH && device.role != v1::ROLE_HEALTH_WORKER) return Out();
  }
  if (device.role != v1::ROLE_KIOSK) return Out(std::move(change));

  // A kiosk: its venue's sessions, their bookings and attendance, and names.
  switch (change.type()) {
    case v1::RECORD_TYPE_SESSION:
    case v1::RECORD_TYPE_BOOKING:
    case v1::RECORD_TYPE_ATTENDANCE:
    case v1::RECORD_TYPE_PARTICIPANT: break;
    default: return Out();
  }
  // Erasures carry no data, only the id to purge: always passed on.
  if (change.op() == v1::CHANGE_OP_ERASE) return Out(std::move(change));
  if (body == nullptr) return Out();
  if (change.type() == v1::RECORD_TYPE_SESSION) {
    return IdField(*body, "venue_id") == device.venue_id ? Out(std::move(change)) : Out();
  }
  if (change.type() == v1::RECORD_TYPE_BOOKING || change.type() == v1::RECORD_TYPE_ATTENDANCE) {
    auto venue = SessionVenue(txn, IdField(*body, "session_id"));
    if (!venue.ok()) return venue.status();
    return (!venue->is_nil() && *venue == device.venue_id) ? Out(std::move(change)) : Out();
  }
  // A participant: only if they come to this venue, and only reference and names.
  bool visible = IdField(*body, "venue_id") == device.venue_id;
  if (!visible) {
    auto linked = txn.FindRecordsByKey(device.hub_id, VenueParticipantKey(device.venue_id, *record_id));
    if (!linked.ok()) return linked.status();
    visible = !linked->empty();
  }
  if (!visible) return Out();
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
