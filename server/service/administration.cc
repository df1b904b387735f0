#include "server/service/administration.h"

#include "common/dates.h"
#include "server/service/reconciler.h"
#include "server/service/secrets.h"
#include "server/store/store.h"

namespace outreach::server {
namespace {

// A clock for server-authored changes made outside `serve`: it continues after every
// stamp already logged, so an administrator's change orders after what devices sent.
Status RestoreClock(StoreTxn& txn, HybridClock* clock) {
  auto last = txn.MaxLoggedHlc();
  if (!last.ok()) return last.status();
  clock->Restore(*last);
  return Status::Ok();
}

// Checks the hub exists and serialises this transaction with the hub's other writers.
Status RequireHub(StoreTxn& txn, const Uuid& hub_id) {
  if (hub_id.is_nil()) return Status::InvalidArgument("hub_id", "a hub is required");
  return txn.LockHub(hub_id);
}

bool Blank(const std::string& s) {
  return s.find_first_not_of(" \t\r\n") == std::string::npos;
}

DeviceInfo ToInfo(const DeviceRow& d) {
  DeviceInfo info;
  info.device_id = d.device_id;
  info.hub_id = d.hub_id;
  info.role = d.role;
  info.user_name = d.user_name;
  info.device_name = d.device_name;
  info.reference_prefix = d.reference_prefix;
  info.venue_id = d.venue_id;
  info.enrolled_at_ms = d.enrolled_at_ms;
  info.last_sync_ms = d.last_sync_ms;
  info.revoked = d.revoked;
  return info;
}

}  // namespace

Result<Uuid> Administration::AddHub(const std::string& name, const std::string& time_zone) {
  if (Blank(name)) return Status::InvalidArgument("name", "a hub needs a name");
  if (!IsKnownTimeZone(time_zone)) {
    return Status::InvalidArgument("time_zone", "'" + time_zone +
                                                    "' is not a time zone this system knows (an IANA name such as "
                                                    "Europe/London)");
  }
  const Uuid hub_id = Uuid::NewV7();
  HybridClock clock;
  Status st = store_.Transact([&](StoreTxn& txn) -> Status {
    HubRow row;
    row.hub_id = hub_id;
    row.name = name;
    row.created_at_ms = clock.PhysicalNow();
    OUTREACH_RETURN_IF_ERROR(txn.InsertHub(row));
    OUTREACH_RETURN_IF_ERROR(RestoreClock(txn, &clock));
    // The hub is also a record in its own log, so devices learn its name.
    v1::Hub body;
    body.set_name(name);
    body.set_time_zone(time_zone);
    Reconciler reconciler(txn, clock, 0);
    auto seq = reconciler.CreateServerRecord(hub_id, hub_id, v1::RECORD_TYPE_HUB, body);
    return seq.ok() ? Status::Ok() : seq.status();
  });
  if (!st.ok()) return st;
  return hub_id;
}

Result<Uuid> Administration::AddVenue(const Uuid& hub_id, const std::string& name, v1::VenueKind kind) {
  if (Blank(name)) return Status::InvalidArgument("name", "a venue needs a name");
  if (kind == v1::VENUE_KIND_UNSPECIFIED || !v1::VenueKind_IsValid(kind)) {
    return Status::InvalidArgument("kind", "a venue needs a kind (e.g. childrens_centre, housing_office, library)");
  }
  const Uuid venue_id = Uuid::NewV7();
  HybridClock clock;
  Status st = store_.Transact([&](StoreTxn& txn) -> Status {
    OUTREACH_RETURN_IF_ERROR(RequireHub(txn, hub_id));
    OUTREACH_RETURN_IF_ERROR(RestoreClock(txn, &clock));
    v1::Venue body;
    body.set_name(name);
    body.set_kind(kind);
    Reconciler reconciler(txn, clock, 0);
    auto seq = reconciler.CreateServerRecord(hub_id, venue_id, v1::RECORD_TYPE_VENUE, body);
    return seq.ok() ? Status::Ok() : seq.status();
  });
  if (!st.ok()) return st;
  return venue_id;
}

Result<std::string> Administration::IssueEnrolmentCode(const Uuid& hub_id, v1::Role role, const std::string& name,
                                                       const Uuid& venue_id, int valid_hours) {
  if (role == v1::ROLE_UNSPECIFIED || !v1::Role_IsValid(role)) {
    return Status::InvalidArgument("role", "a role is required: adviser, health_worker, coordinator, manager or kiosk");
  }
  if (Blank(name)) return Status::InvalidArgument("name", "the person (or kiosk) the device is for needs a name");
  if (role == v1::ROLE_KIOSK && venue_id.is_nil()) {
    return Status::InvalidArgument("venue_id", "a kiosk must be enrolled for a venue");
  }
  if (valid_hours <= 0) return Status::InvalidArgument("valid_hours", "a code must be valid for at least one hour");
  auto code = NewEnrolmentCode();
  if (!code.ok()) return code.status();
  Status st = store_.Transact([&](StoreTxn& txn) -> Status {
    OUTREACH_RETURN_IF_ERROR(RequireHub(txn, hub_id));
    if (!venue_id.is_nil()) {
      auto venue = txn.GetRecord(venue_id);
      if (!venue.ok()) return venue.status();
      if (!venue->has_value() || (*venue)->record.type() != v1::RECORD_TYPE_VENUE ||
          (*venue)->record.hub_id() != hub_id.raw()) {
        return Status::NotFound("no venue " + venue_id.ToString() + " in hub " + hub_id.ToString(), "venue_id");
      }
    }
    EnrolmentCodeRow row;
    row.code_hash = EnrolmentCodeHash(*code);
    row.hub_id = hub_id;
    row.role = role;
    row.user_name = name;
    row.venue_id = venue_id;
    row.expires_at_ms = HybridClock::SystemMillis() + int64_t{valid_hours} * 3600 * 1000;
    return txn.InsertEnrolmentCode(row);
  });
  if (!st.ok()) return st;
  return *code;
}

Result<std::vector<DeviceInfo>> Administration::ListDevices(const Uuid& hub_id) {
  std::vector<DeviceInfo> out;
  Status st = store_.Transact([&](StoreTxn& txn) -> Status {
    out.clear();
    if (!hub_id.is_nil()) OUTREACH_RETURN_IF_ERROR(RequireHub(txn, hub_id));
    auto rows = txn.ListDevices(hub_id);
    if (!rows.ok()) return rows.status();
    for (const DeviceRow& d : *rows) out.push_back(ToInfo(d));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Status Administration::RevokeDevice(const Uuid& device_id) {
  if (device_id.is_nil()) return Status::InvalidArgument("device_id", "a device id is required");
  return store_.Transact([&](StoreTxn& txn) { return txn.SetDeviceRevoked(device_id); });
}

Result<std::vector<ConflictInfo>> Administration::ListConflicts(const Uuid& hub_id, bool include_resolved) {
  std::vector<ConflictInfo> out;
  Status st = store_.Transact([&](StoreTxn& txn) -> Status {
    out.clear();
    OUTREACH_RETURN_IF_ERROR(RequireHub(txn, hub_id));
    auto records = txn.ListRecordsByType(hub_id, v1::RECORD_TYPE_CONFLICT);
    if (!records.ok()) return records.status();
    for (const StoredRecord& r : *records) {
      const v1::Conflict& c = r.record.conflict();
      if (!include_resolved && c.status() != v1::CONFLICT_STATUS_OPEN) continue;
      auto id = Uuid::FromBytes(r.record.id());
      if (!id.ok()) return Status::DataLoss("a stored conflict has a malformed id");
      out.push_back(ConflictInfo{*id, c});
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<AuditRow>> Administration::RecordHistory(const Uuid& record_id) {
  std::vector<AuditRow> out;
  Status st = store_.Transact([&](StoreTxn& txn) -> Status {
    auto rows = txn.ListAudit(record_id);
    if (!rows.ok()) return rows.status();
    out = std::move(rows).value();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  if (out.empty()) return Status::NotFound("the audit trail names no record " + record_id.ToString(), "record");
  return out;
}

Status Administration::ResolveConflict(const Uuid& hub_id, const Uuid& conflict_id, v1::ConflictStatus resolution,
                                       const std::string& resolved_by) {
  if (resolution != v1::CONFLICT_STATUS_KEPT_WINNER && resolution != v1::CONFLICT_STATUS_TOOK_LOSER) {
    return Status::InvalidArgument("resolution", "a conflict is resolved by keeping the winner or taking the loser");
  }
  if (Blank(resolved_by)) return Status::InvalidArgument("resolved_by", "say who resolved the conflict");
  if (conflict_id.is_nil()) return Status::InvalidArgument("conflict_id", "a conflict id is required");
  HybridClock clock;
  return store_.Transact([&](StoreTxn& txn) -> Status {
    OUTREACH_RETURN_IF_ERROR(RequireHub(txn, hub_id));
    OUTREACH_RETURN_IF_ERROR(RestoreClock(txn, &clock));
    Reconciler reconciler(txn, clock, 0);
    return reconciler.ResolveConflict(hub_id, conflict_id, resolution, resolved_by);
  });
}

}  // namespace outreach::server
