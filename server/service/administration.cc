#include "server/service/administration.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "common/dates.h"
#include "common/instruments.h"
#include "server/service/reconciler.h"
#include "server/service/secrets.h"
#include "server/service/shared_reference.h"
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

// Adds each of `hubs` to `hub_ids` that is not there yet.
void AddHubs(google::protobuf::RepeatedPtrField<std::string>* hub_ids, const std::vector<Uuid>& hubs) {
  for (const Uuid& hub : hubs) {
    if (std::find(hub_ids->begin(), hub_ids->end(), hub.raw()) == hub_ids->end()) *hub_ids->Add() = hub.raw();
  }
}

// Sets `starts_on` and `ends_on` to the dates given (empty: as held), which are real
// YYYY-MM-DD dates with the end not before the start (`what`: "the contract").
template <typename Body>
Status SetPeriod(Body* body, const std::string& starts_on, const std::string& ends_on, const std::string& what) {
  for (const auto& [field, value] : {std::pair{"starts_on", &starts_on}, std::pair{"ends_on", &ends_on}}) {
    if (!value->empty() && !ParseDate(*value)) {
      return Status::InvalidArgument(field, "'" + *value + "' is not a real date in the form YYYY-MM-DD");
    }
  }
  if (!starts_on.empty()) body->set_starts_on(starts_on);
  if (!ends_on.empty()) body->set_ends_on(ends_on);
  if (!body->starts_on().empty() && !body->ends_on().empty() && body->ends_on() < body->starts_on()) {
    return Status::InvalidArgument("ends_on",
                                   body->ends_on() + " is before " + what + " starts (" + body->starts_on() + ")");
  }
  return Status::Ok();
}

// The partner `fields` describe, checked: what AddPartner stores, or (with `held`) what
// UpdatePartner makes of the held partner.
Result<v1::PartnerOrganisation> PartnerBody(const PartnerFields& fields, const v1::PartnerOrganisation* held) {
  v1::PartnerOrganisation body;
  if (held != nullptr) body = *held;
  if (!Blank(fields.name)) body.set_name(fields.name);
  if (held == nullptr && Blank(fields.name)) return Status::InvalidArgument("name", "a partner needs a name");
  if (fields.kind != v1::PARTNER_KIND_UNSPECIFIED) {
    if (!v1::PartnerKind_IsValid(fields.kind)) {
      return Status::InvalidArgument("kind", std::to_string(fields.kind) + " is not a partner kind");
    }
    body.set_kind(fields.kind);
  }
  if (body.kind() == v1::PARTNER_KIND_UNSPECIFIED) {
    return Status::InvalidArgument("kind", "a partner needs a kind: delivery_partner, referral_partner or employer");
  }
  if (!Blank(fields.contact)) body.set_contact(fields.contact);
  OUTREACH_RETURN_IF_ERROR(SetPeriod(&body, fields.starts_on, fields.ends_on, "the contract"));
  AddHubs(body.mutable_hub_ids(), fields.hubs);
  if (body.hub_ids().empty()) {
    return Status::InvalidArgument("hub_ids", "a partner holds a contract in at least one hub");
  }
  return body;
}

// The programme `fields` describe, checked, as PartnerBody does for a partner.
Result<v1::Programme> ProgrammeBody(const ProgrammeFields& fields, const v1::Programme* held) {
  v1::Programme body;
  if (held != nullptr) body = *held;
  if (!Blank(fields.name)) body.set_name(fields.name);
  if (Blank(body.name())) return Status::InvalidArgument("name", "a programme needs a name");
  if (!Blank(fields.funder)) body.set_funder(fields.funder);
  if (Blank(body.funder())) return Status::InvalidArgument("funder", "a programme needs its funder");
  for (const std::string& strand : fields.strands) {
    if (Blank(strand)) return Status::InvalidArgument("strands", "a strand needs a name");
    if (std::find(body.strands().begin(), body.strands().end(), strand) == body.strands().end()) {
      body.add_strands(strand);
    }
  }
  if (fields.min_age != 0) body.set_min_age(fields.min_age);
  if (fields.max_age != 0) body.set_max_age(fields.max_age);
  if ((body.min_age() == 0) != (body.max_age() == 0)) {
    return Status::InvalidArgument(body.min_age() == 0 ? "min_age" : "max_age",
                                   "give both ends of the age range (or neither, for 16 to 100)");
  }
  if (body.max_age() > 120 || body.min_age() > body.max_age()) {
    return Status::InvalidArgument("max_age", "the age range " + std::to_string(body.min_age()) + " to " +
                                                  std::to_string(body.max_age()) + " is not one a person can be in");
  }
  if (!Blank(fields.rules_version)) body.set_rules_version(fields.rules_version);
  OUTREACH_RETURN_IF_ERROR(SetPeriod(&body, fields.starts_on, fields.ends_on, "the programme"));
  AddHubs(body.mutable_hub_ids(), fields.hubs);
  return body;
}

// The record `id` held, of `type`; otherwise NotFound naming `field` ("no partner ID").
Result<StoredRecord> HeldOfType(StoreTxn& txn, const Uuid& id, v1::RecordType type, const std::string& what,
                                const std::string& field) {
  auto held = txn.GetRecord(id);
  if (!held.ok()) return held.status();
  if (!held->has_value() || (*held)->record.type() != type) {
    return Status::NotFound("no " + what + " " + id.ToString(), field);
  }
  return std::move(**held);
}

// Locks every hub of `hub_ids`, in id order (so two administrators' commands cannot wait
// on each other), refusing one that does not exist.
Status LockSharingHubs(StoreTxn& txn, const google::protobuf::RepeatedPtrField<std::string>& hub_ids) {
  std::vector<Uuid> hubs;
  for (const std::string& raw : hub_ids) {
    Result<Uuid> hub = Uuid::FromBytes(raw);
    if (!hub.ok()) return Status::InvalidArgument("hub_ids", "is not a record id (16 bytes)");
    hubs.push_back(*hub);
  }
  std::sort(hubs.begin(), hubs.end());
  for (const Uuid& hub : hubs) OUTREACH_RETURN_IF_ERROR(RequireHub(txn, hub));
  return Status::Ok();
}

// Makes each hub `programme` names that its Hub record does not tie to it yet a hub of
// the programme (its devices learn which programme is theirs); a hub of another
// programme is refused.
Status JoinProgramme(StoreTxn& txn, Reconciler& reconciler, const Uuid& programme_id, const v1::Programme& programme) {
  for (const std::string& raw : programme.hub_ids()) {
    const Uuid hub_id = Uuid::FromBytes(raw).value();  // LockSharingHubs checked them
    auto hub = txn.GetRecord(hub_id);
    if (!hub.ok()) return hub.status();
    if (!hub->has_value() || !(*hub)->record.has_hub())
      return Status::NotFound("no hub " + hub_id.ToString(), "hub_ids");
    const std::string& current = (*hub)->record.hub().programme_id();
    if (current == programme_id.raw()) continue;
    if (!current.empty()) {
      return Status::FailedPrecondition("hub " + hub_id.ToString() + " belongs to programme " +
                                            Uuid::FromBytes(current).value().ToString() + " already",
                                        "hub_ids");
    }
    v1::Hub joined = (*hub)->record.hub();
    joined.set_programme_id(programme_id.raw());
    auto seq = reconciler.UpdateServerRecord(std::move(**hub), joined);
    if (!seq.ok()) return seq.status();
  }
  // The programme's instruments reach every hub of it (a hub that joins gets them whole).
  auto instruments = ListSharedRecords(txn, v1::RECORD_TYPE_INSTRUMENT);
  if (!instruments.ok()) return instruments.status();
  for (StoredRecord& r : *instruments) {
    if (r.record.instrument().programme_id() != programme_id.raw()) continue;
    v1::Instrument shared = r.record.instrument();
    const int before = shared.hub_ids_size();
    for (const std::string& hub : programme.hub_ids()) {
      if (std::find(shared.hub_ids().begin(), shared.hub_ids().end(), hub) == shared.hub_ids().end()) {
        shared.add_hub_ids(hub);
      }
    }
    if (shared.hub_ids_size() == before) continue;
    auto seq = reconciler.UpdateServerRecord(std::move(r), shared);
    if (!seq.ok()) return seq.status();
  }
  return Status::Ok();
}

}  // namespace

Result<Uuid> Administration::AddPartner(const PartnerFields& partner) {
  Result<v1::PartnerOrganisation> body = PartnerBody(partner, nullptr);
  if (!body.ok()) return body.status();
  const Uuid partner_id = Uuid::NewV7();
  const Uuid home = partner.hubs.front();  // PartnerBody refuses an empty list
  HybridClock clock;
  Status st = store_.Transact([&](StoreTxn& txn) -> Status {
    OUTREACH_RETURN_IF_ERROR(LockSharingHubs(txn, body->hub_ids()));
    OUTREACH_RETURN_IF_ERROR(RestoreClock(txn, &clock));
    Reconciler reconciler(txn, clock, 0);
    auto seq = reconciler.CreateServerRecord(home, partner_id, v1::RECORD_TYPE_PARTNER_ORGANISATION, *body);
    return seq.ok() ? Status::Ok() : seq.status();
  });
  if (!st.ok()) return st;
  return partner_id;
}

Status Administration::UpdatePartner(const Uuid& partner_id, const PartnerFields& changes) {
  HybridClock clock;
  return store_.Transact([&](StoreTxn& txn) -> Status {
    Result<StoredRecord> held =
        HeldOfType(txn, partner_id, v1::RECORD_TYPE_PARTNER_ORGANISATION, "partner", "partner_id");
    if (!held.ok()) return held.status();
    Result<v1::PartnerOrganisation> body = PartnerBody(changes, &held->record.partner_organisation());
    if (!body.ok()) return body.status();
    OUTREACH_RETURN_IF_ERROR(LockSharingHubs(txn, body->hub_ids()));
    OUTREACH_RETURN_IF_ERROR(RestoreClock(txn, &clock));
    Reconciler reconciler(txn, clock, 0);
    auto seq = reconciler.UpdateServerRecord(std::move(*held), *body);
    return seq.ok() ? Status::Ok() : seq.status();
  });
}

Result<std::vector<PartnerInfo>> Administration::ListPartners(const Uuid& hub_id) {
  std::vector<PartnerInfo> out;
  Status st = store_.Read([&](StoreTxn& txn) -> Status {
    auto held = ListSharedRecords(txn, v1::RECORD_TYPE_PARTNER_ORGANISATION, hub_id);
    if (!held.ok()) return held.status();
    out.clear();
    for (const StoredRecord& r : *held) {
      out.push_back(PartnerInfo{Uuid::FromBytes(r.record.id()).value(), r.record.partner_organisation()});
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  std::sort(out.begin(), out.end(), [](const PartnerInfo& a, const PartnerInfo& b) {
    return std::tie(a.partner.name(), a.partner_id) < std::tie(b.partner.name(), b.partner_id);
  });
  return out;
}

namespace {

// `instrument` as it may be published: an id, a version from 1, a title, and domains
// with distinct keys, each a scale of at least two points.
Status CheckInstrument(const v1::Instrument& instrument) {
  const std::string& id = instrument.instrument_id();
  if (id.empty() || id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_") != std::string::npos) {
    return Status::InvalidArgument("instrument_id",
                                   "'" + id + "' is not an instrument id (lower case letters, digits, - and _)");
  }
  if (instrument.version() == 0) return Status::InvalidArgument("version", "versions count from 1");
  if (Blank(instrument.name())) return Status::InvalidArgument("title", "an instrument needs a title");
  if (instrument.domains().empty())
    return Status::InvalidArgument("domains", "an instrument scores at least one domain");
  std::vector<std::string> keys;
  for (const v1::InstrumentDomain& d : instrument.domains()) {
    if (Blank(d.key())) return Status::InvalidArgument("domains", "every domain needs a key");
    if (std::find(keys.begin(), keys.end(), d.key()) != keys.end()) {
      return Status::InvalidArgument("domains", "'" + d.key() + "' is listed twice");
    }
    keys.push_back(d.key());
    if (d.max_score() <= d.min_score()) {
      return Status::InvalidArgument("domains", "'" + d.key() + "' has no scale: its max (" +
                                                    std::to_string(d.max_score()) + ") is not above its min (" +
                                                    std::to_string(d.min_score()) + ")");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Uuid> Administration::AddInstrument(const Uuid& programme_id, v1::Instrument instrument) {
  OUTREACH_RETURN_IF_ERROR(CheckInstrument(instrument));
  const Uuid record_id = InstrumentRecordId(instrument.instrument_id(), instrument.version());
  HybridClock clock;
  Status st = store_.Transact([&](StoreTxn& txn) -> Status {
    Result<StoredRecord> programme =
        HeldOfType(txn, programme_id, v1::RECORD_TYPE_PROGRAMME, "programme", "programme_id");
    if (!programme.ok()) return programme.status();
    auto held = txn.GetRecord(record_id);
    if (!held.ok()) return held.status();
    if (held->has_value()) {
      return Status(ErrorCode::kAlreadyExists,
                    instrument.instrument_id() + " version " + std::to_string(instrument.version()) +
                        " is published already; a published version never changes (publish version " +
                        std::to_string(instrument.version() + 1) + ")",
                    "version");
    }
    const v1::Programme& p = programme->record.programme();
    instrument.set_programme_id(programme_id.raw());
    *instrument.mutable_hub_ids() = p.hub_ids();
    instrument.set_retired(false);
    OUTREACH_RETURN_IF_ERROR(LockSharingHubs(txn, instrument.hub_ids()));
    OUTREACH_RETURN_IF_ERROR(RestoreClock(txn, &clock));
    Reconciler reconciler(txn, clock, 0);
    const Uuid home = Uuid::FromBytes(programme->record.hub_id()).value();
    auto seq = reconciler.CreateServerRecord(home, record_id, v1::RECORD_TYPE_INSTRUMENT, instrument);
    return seq.ok() ? Status::Ok() : seq.status();
  });
  if (!st.ok()) return st;
  return record_id;
}

Status Administration::RetireInstrument(const std::string& instrument_id, uint32_t version) {
  HybridClock clock;
  return store_.Transact([&](StoreTxn& txn) -> Status {
    auto held = txn.GetRecord(InstrumentRecordId(instrument_id, version));
    if (!held.ok()) return held.status();
    if (!held->has_value() || (*held)->record.type() != v1::RECORD_TYPE_INSTRUMENT) {
      return Status::NotFound("no instrument " + instrument_id + " version " + std::to_string(version),
                              "instrument_id");
    }
    v1::Instrument retired = (*held)->record.instrument();
    retired.set_retired(true);
    OUTREACH_RETURN_IF_ERROR(LockSharingHubs(txn, retired.hub_ids()));
    OUTREACH_RETURN_IF_ERROR(RestoreClock(txn, &clock));
    Reconciler reconciler(txn, clock, 0);
    auto seq = reconciler.UpdateServerRecord(std::move(**held), retired);
    return seq.ok() ? Status::Ok() : seq.status();
  });
}

Result<std::vector<InstrumentInfo>> Administration::ListInstruments() {
  std::vector<InstrumentInfo> out;
  Status st = store_.Read([&](StoreTxn& txn) -> Status {
    auto held = ListSharedRecords(txn, v1::RECORD_TYPE_INSTRUMENT);
    if (!held.ok()) return held.status();
    out.clear();
    for (const StoredRecord& r : *held) {
      out.push_back(InstrumentInfo{Uuid::FromBytes(r.record.id()).value(), r.record.instrument()});
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  std::sort(out.begin(), out.end(), [](const InstrumentInfo& a, const InstrumentInfo& b) {
    return std::make_tuple(a.instrument.instrument_id(), a.instrument.version()) <
           std::make_tuple(b.instrument.instrument_id(), b.instrument.version());
  });
  return out;
}

Result<Uuid> Administration::AddProgramme(const ProgrammeFields& programme) {
  Result<v1::Programme> body = ProgrammeBody(programme, nullptr);
  if (!body.ok()) return body.status();
  if (body->hub_ids().empty())
    return Status::InvalidArgument("hub_ids", "a programme is delivered by at least one hub");
  const Uuid programme_id = Uuid::NewV7();
  const Uuid home = programme.hubs.front();
  HybridClock clock;
  Status st = store_.Transact([&](StoreTxn& txn) -> Status {
    OUTREACH_RETURN_IF_ERROR(LockSharingHubs(txn, body->hub_ids()));
    OUTREACH_RETURN_IF_ERROR(RestoreClock(txn, &clock));
    Reconciler reconciler(txn, clock, 0);
    OUTREACH_RETURN_IF_ERROR(JoinProgramme(txn, reconciler, programme_id, *body));
    auto seq = reconciler.CreateServerRecord(home, programme_id, v1::RECORD_TYPE_PROGRAMME, *body);
    return seq.ok() ? Status::Ok() : seq.status();
  });
  if (!st.ok()) return st;
  return programme_id;
}

Status Administration::UpdateProgramme(const Uuid& programme_id, const ProgrammeFields& changes) {
  HybridClock clock;
  return store_.Transact([&](StoreTxn& txn) -> Status {
    Result<StoredRecord> held = HeldOfType(txn, programme_id, v1::RECORD_TYPE_PROGRAMME, "programme", "programme_id");
    if (!held.ok()) return held.status();
    Result<v1::Programme> body = ProgrammeBody(changes, &held->record.programme());
    if (!body.ok()) return body.status();
    OUTREACH_RETURN_IF_ERROR(LockSharingHubs(txn, body->hub_ids()));
    OUTREACH_RETURN_IF_ERROR(RestoreClock(txn, &clock));
    Reconciler reconciler(txn, clock, 0);
    OUTREACH_RETURN_IF_ERROR(JoinProgramme(txn, reconciler, programme_id, *body));
    auto seq = reconciler.UpdateServerRecord(std::move(*held), *body);
    return seq.ok() ? Status::Ok() : seq.status();
  });
}

namespace {

bool IsQuarter(const std::string& text) {
  return text.size() == 7 && std::all_of(text.begin(), text.begin() + 4, [](char c) { return c >= '0' && c <= '9'; }) &&
         text[4] == '-' && text[5] == 'Q' && text[6] >= '1' && text[6] <= '4';
}

}  // namespace

Status Administration::SetTarget(const Uuid& programme_id, const v1::Target& target) {
  if (!IsQuarter(target.quarter())) {
    return Status::InvalidArgument("quarter",
                                   "'" + target.quarter() + "' is not a quarter in the form YYYY-Qn (2026-Q3)");
  }
  if (target.hub_id().empty() == target.partner_id().empty()) {
    return Status::InvalidArgument("hub_id", "a target is for one hub or one partner");
  }
  for (const auto& [field, value] :
       {std::pair{"women_percent", target.women_percent()},
        std::pair{"economically_inactive_percent", target.economically_inactive_percent()}}) {
    if (value > 100) return Status::InvalidArgument(field, std::to_string(value) + " is not a percentage (0 to 100)");
  }
  if (target.spend_pence() < 0) return Status::InvalidArgument("spend_pence", "cannot be negative");
  HybridClock clock;
  return store_.Transact([&](StoreTxn& txn) -> Status {
    Result<StoredRecord> held = HeldOfType(txn, programme_id, v1::RECORD_TYPE_PROGRAMME, "programme", "programme_id");
    if (!held.ok()) return held.status();
    v1::Programme programme = held->record.programme();
    const auto& hubs = programme.hub_ids();
    if (!target.hub_id().empty() && std::find(hubs.begin(), hubs.end(), target.hub_id()) == hubs.end()) {
      return Status::InvalidArgument("hub_id", "hub " + Uuid::FromBytes(target.hub_id()).value().ToString() +
                                                   " does not deliver " + programme.name());
    }
    if (!target.partner_id().empty()) {
      Result<Uuid> partner_id = Uuid::FromBytes(target.partner_id());
      if (!partner_id.ok()) return Status::InvalidArgument("partner_id", "is not a record id (16 bytes)");
      Result<StoredRecord> partner =
          HeldOfType(txn, *partner_id, v1::RECORD_TYPE_PARTNER_ORGANISATION, "partner", "partner_id");
      if (!partner.ok()) return partner.status();
      const auto& works_in = partner->record.partner_organisation().hub_ids();
      if (std::none_of(works_in.begin(), works_in.end(),
                       [&](const std::string& h) { return std::find(hubs.begin(), hubs.end(), h) != hubs.end(); })) {
        return Status::InvalidArgument("partner_id", partner->record.partner_organisation().name() +
                                                         " holds no contract in a hub of " + programme.name());
      }
    }
    auto same = std::find_if(programme.mutable_targets()->begin(), programme.mutable_targets()->end(),
                             [&](const v1::Target& t) {
                               return t.quarter() == target.quarter() && t.hub_id() == target.hub_id() &&
                                      t.partner_id() == target.partner_id();
                             });
    if (same != programme.mutable_targets()->end()) {
      *same = target;
    } else {
      *programme.add_targets() = target;
    }
    OUTREACH_RETURN_IF_ERROR(LockSharingHubs(txn, programme.hub_ids()));
    OUTREACH_RETURN_IF_ERROR(RestoreClock(txn, &clock));
    Reconciler reconciler(txn, clock, 0);
    auto seq = reconciler.UpdateServerRecord(std::move(*held), programme);
    return seq.ok() ? Status::Ok() : seq.status();
  });
}

Result<std::vector<ProgrammeInfo>> Administration::ListProgrammes() {
  std::vector<ProgrammeInfo> out;
  Status st = store_.Read([&](StoreTxn& txn) -> Status {
    auto held = ListSharedRecords(txn, v1::RECORD_TYPE_PROGRAMME);
    if (!held.ok()) return held.status();
    out.clear();
    for (const StoredRecord& r : *held) {
      out.push_back(ProgrammeInfo{Uuid::FromBytes(r.record.id()).value(), r.record.programme()});
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  std::sort(out.begin(), out.end(), [](const ProgrammeInfo& a, const ProgrammeInfo& b) {
    return std::tie(a.programme.name(), a.programme_id) < std::tie(b.programme.name(), b.programme_id);
  });
  return out;
}

namespace {

// The hub where `person` is enrolled as a caseload holder (adviser or health worker) on a
// device not revoked: `hub_id` if given and they are; the one such hub if not given.
Result<Uuid> CaseloadHub(StoreTxn& txn, const Uuid& hub_id, const std::string& person, const char* field) {
  auto devices = txn.ListDevices(hub_id);
  if (!devices.ok()) return devices.status();
  std::vector<Uuid> hubs;
  for (const DeviceRow& d : *devices) {
    if (d.user_name != person || d.revoked) continue;
    if (d.role != v1::ROLE_ADVISER && d.role != v1::ROLE_HEALTH_WORKER) continue;
    if (std::find(hubs.begin(), hubs.end(), d.hub_id) == hubs.end()) hubs.push_back(d.hub_id);
  }
  if (hubs.empty()) {
    return Status::NotFound("no adviser '" + person + "' is enrolled" +
                                (hub_id.is_nil() ? std::string() : " in hub " + hub_id.ToString()) +
                                " on a device that is not revoked",
                            field);
  }
  if (hubs.size() > 1) {
    return Status::InvalidArgument(
        "hub", "'" + person + "' is enrolled in " + std::to_string(hubs.size()) + " hubs: say which (--hub)");
  }
  return hubs.front();
}

}  // namespace

Result<CaseloadTransfer> Administration::TransferCaseload(const Uuid& hub_id, const std::string& from,
                                                          const std::string& to, const Uuid& partner) {
  if (Blank(from)) return Status::InvalidArgument("from", "name the adviser whose caseload moves");
  if (Blank(to)) return Status::InvalidArgument("to", "name the adviser who takes the caseload");
  if (from == to) return Status::InvalidArgument("to", "is the adviser the caseload is moving from");
  CaseloadTransfer done;
  HybridClock clock;
  Status st = store_.Transact([&](StoreTxn& txn) -> Status {
    done = CaseloadTransfer{};
    // `from` may have left (their devices revoked): the hub is found by `to` then.
    Result<Uuid> hub = CaseloadHub(txn, hub_id, to, "to");
    if (!hub.ok()) return hub.status();
    done.hub_id = *hub;
    OUTREACH_RETURN_IF_ERROR(RequireHub(txn, *hub));
    OUTREACH_RETURN_IF_ERROR(RestoreClock(txn, &clock));
    Result<std::string> today = [&]() -> Result<std::string> {
      auto record = txn.GetRecord(*hub);
      if (!record.ok()) return record.status();
      const std::string zone = record->has_value() ? (*record)->record.hub().time_zone() : std::string();
      return LocalDateOfMillis(clock.PhysicalNow(), zone);
    }();
    if (!today.ok()) return today.status();
    Reconciler reconciler(txn, clock, 0);
    auto people = txn.ListRecordsByType(*hub, v1::RECORD_TYPE_PARTICIPANT);
    if (!people.ok()) return people.status();
    for (StoredRecord& person : *people) {
      const v1::Participant& p = person.record.participant();
      if (person.record.deleted() || person.record.erased() || p.adviser() != from ||
          p.status() != v1::PARTICIPANT_STATUS_ACTIVE) {
        continue;
      }
      if (!partner.is_nil() && p.delivery_partner_id() != partner.raw()) continue;
      const Uuid person_id = Uuid::FromBytes(person.record.id()).value();
      // Their appointments to come with `from`: one-to-one sessions they are booked on.
      auto linked = txn.FindRecordsByParticipant(*hub, person_id);
      if (!linked.ok()) return linked.status();
      for (const StoredRecord& booking : *linked) {
        if (booking.record.type() != v1::RECORD_TYPE_BOOKING || booking.record.deleted() ||
            booking.record.booking().status() != v1::BOOKING_STATUS_BOOKED) {
          continue;
        }
        Result<Uuid> session_id = Uuid::FromBytes(booking.record.booking().session_id());
        if (!session_id.ok()) continue;
        auto session = txn.GetRecord(*session_id);
        if (!session.ok()) return session.status();
        if (!session->has_value() || (*session)->record.deleted()) continue;
        v1::Session s = (*session)->record.session();
        if (s.kind() != v1::SESSION_KIND_ONE_TO_ONE || s.facilitator() != from ||
            s.starts_at().substr(0, 10) < *today) {
          continue;
        }
        s.set_facilitator(to);
        auto seq = reconciler.UpdateServerRecord(std::move(**session), s);
        if (!seq.ok()) return seq.status();
        ++done.sessions;
      }
      v1::Participant moved = p;
      moved.set_adviser(to);
      auto seq = reconciler.UpdateServerRecord(std::move(person), moved);
      if (!seq.ok()) return seq.status();
      ++done.participants;
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return done;
}

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
