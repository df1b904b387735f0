// Administration: what `outreach-server` commands other than `serve` do to a store.
// Every method is one store transaction; errors name the field and the reason.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "common/uuid.h"
#include "outreach/v1/records.pb.h"
#include "outreach/v1/sync.pb.h"
#include "server/store/store.h"

namespace outreach::server {

struct DeviceInfo {
  Uuid device_id;
  Uuid hub_id;
  v1::Role role = v1::ROLE_UNSPECIFIED;
  std::string user_name;
  std::string device_name;
  std::string reference_prefix;
  Uuid venue_id;
  int64_t enrolled_at_ms = 0;
  int64_t last_sync_ms = 0;  // 0 = never synced
  bool revoked = false;
};

struct ConflictInfo {
  Uuid conflict_id;  // the CONFLICT record's id
  v1::Conflict conflict;
};

// A partner organisation of the programme, shared by the hubs it holds contracts in
// (shared_reference.h), as `partner add` and `partner update` give it.
struct PartnerFields {
  std::string name;
  v1::PartnerKind kind = v1::PARTNER_KIND_UNSPECIFIED;
  std::vector<Uuid> hubs;  // add: every hub; update: the hubs it now holds contracts in too
  std::string contact;
  std::string starts_on;  // YYYY-MM-DD
  std::string ends_on;    // YYYY-MM-DD, the contract's last day
};

struct PartnerInfo {
  Uuid partner_id;
  v1::PartnerOrganisation partner;
};

class Administration {
 public:
  explicit Administration(Store& store) : store_(store) {}

  // `time_zone` is an IANA name (empty: Europe/London, common/dates.h); an unknown one is
  // refused naming field "time_zone".
  Result<Uuid> AddHub(const std::string& name, const std::string& time_zone = {});
  Result<Uuid> AddVenue(const Uuid& hub_id, const std::string& name, v1::VenueKind kind);
  // A one-time code for a device of `role` in `hub_id`, enrolled for person `name`.
  // A kiosk needs `venue_id`. The code expires after `valid_hours`.
  Result<std::string> IssueEnrolmentCode(const Uuid& hub_id, v1::Role role, const std::string& name,
                                         const Uuid& venue_id = Uuid(), int valid_hours = 72);
  Result<std::vector<DeviceInfo>> ListDevices(const Uuid& hub_id = Uuid());  // nil = every hub
  // Revoked devices are refused at their next hello and told to wipe.
  Status RevokeDevice(const Uuid& device_id);
  Result<std::vector<ConflictInfo>> ListConflicts(const Uuid& hub_id, bool include_resolved = false);
  // Every audit row of a record, in the order written: its whole history (each change:
  // when, who, which device, field, old and new value). NotFound when no row names it.
  Result<std::vector<AuditRow>> RecordHistory(const Uuid& record_id);
  // A partner of the hubs `partner.hubs` (at least one, each existing): a name and a kind
  // are required, dates are YYYY-MM-DD and the contract does not end before it starts.
  Result<Uuid> AddPartner(const PartnerFields& partner);
  // Sets what `changes` gives (empty text and an UNSPECIFIED kind leave a field as it is;
  // its hubs are added). The hubs named for the first time receive the whole record.
  Status UpdatePartner(const Uuid& partner_id, const PartnerFields& changes);
  // The partners holding contracts in `hub_id` (nil: every partner), by name.
  Result<std::vector<PartnerInfo>> ListPartners(const Uuid& hub_id = Uuid());
  // Resolves a conflict (keep the winner, or take the loser's value); the resolution is
  // a synced change every device receives. `resolved_by` is the person.
  Status ResolveConflict(const Uuid& hub_id, const Uuid& conflict_id, v1::ConflictStatus resolution,
                         const std::string& resolved_by);

 private:
  Store& store_;
};

}  // namespace outreach::server
