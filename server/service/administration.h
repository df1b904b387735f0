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

// A programme and the hubs delivering it (shared_reference.h), as `programme add` and
// `programme update` give it.
struct ProgrammeFields {
  std::string name;
  std::string funder;
  std::vector<std::string> strands;  // added to those held
  uint32_t min_age = 0;              // 0: as held (both 0: the default range)
  uint32_t max_age = 0;
  std::string rules_version;  // the eligibility rules in force
  std::string starts_on;
  std::string ends_on;
  std::vector<Uuid> hubs;  // hubs that deliver it (added); a hub belongs to one programme
};

struct ProgrammeInfo {
  Uuid programme_id;
  v1::Programme programme;
};

// What `caseload transfer` moved.
struct CaseloadTransfer {
  Uuid hub_id;
  size_t participants = 0;  // active participants now held by the new adviser
  size_t sessions = 0;      // their one-to-one appointments to come, now the new adviser's
};

struct InstrumentInfo {
  Uuid record_id;
  v1::Instrument instrument;
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
  // A programme delivered by `programme.hubs` (at least one; none may belong to another
  // programme): a name and a funder are required, an age range has both ends. Each hub's
  // record names the programme from now on, so its devices know which is theirs.
  Result<Uuid> AddProgramme(const ProgrammeFields& programme);
  // Sets what `changes` gives, as UpdatePartner does; hubs given join the programme.
  Status UpdateProgramme(const Uuid& programme_id, const ProgrammeFields& changes);
  // Every programme, by name.
  Result<std::vector<ProgrammeInfo>> ListProgrammes();
  // Sets `target` (a quarter YYYY-Qn, one hub of the programme or one partner working in
  // its hubs, percentages up to 100) among the programme's targets, replacing the one for
  // the same quarter and hub or partner. Every device of its hubs receives it.
  Status SetTarget(const Uuid& programme_id, const v1::Target& target);
  // Publishes `instrument` (an id, a version from 1, a title, domains each with a key
  // and a scale) for the programme `programme_id`: every device of its hubs receives it,
  // and of hubs that join it later. A version once published never changes (AlreadyExists).
  Result<Uuid> AddInstrument(const Uuid& programme_id, v1::Instrument instrument);
  // Retires a version: it takes no new assessments; those made keep it.
  Status RetireInstrument(const std::string& instrument_id, uint32_t version);
  // Every published instrument, by id then version.
  Result<std::vector<InstrumentInfo>> ListInstruments();
  // Moves every active participant `from` holds (with `partner`, only those attributed to
  // that delivery partner) to `to`, and the one-to-one appointments `from` facilitates for
  // them from today on, in one transaction of server changes every device of the hub
  // receives (each audited). `to` is a person enrolled in the hub as adviser or health
  // worker on a device not revoked. `hub_id` nil: the one hub `from` is enrolled in.
  Result<CaseloadTransfer> TransferCaseload(const Uuid& hub_id, const std::string& from, const std::string& to,
                                            const Uuid& partner = Uuid());
  // Resolves a conflict (keep the winner, or take the loser's value); the resolution is
  // a synced change every device receives. `resolved_by` is the person.
  Status ResolveConflict(const Uuid& hub_id, const Uuid& conflict_id, v1::ConflictStatus resolution,
                         const std::string& resolved_by);

 private:
  Store& store_;
};

}  // namespace outreach::server
