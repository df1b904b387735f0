// outreach-server: the sync server's command line (DESIGN.md "The command lines").
//
// Every command builds one JSON object; with --json it is printed as is on stdout,
// otherwise as "key: value" lines. A failure prints one line on stderr naming the field
// and the reason, and exits non-zero (1: the command failed, 2: the command line was
// wrong). Global options (--data, --store, --json) are accepted before or after the verb.
#include <unistd.h>

#include <google/protobuf/util/json_util.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/cli_verbs.h"
#include "common/dates.h"
#include "common/field_value.h"
#include "common/hlc.h"
#include "common/record_registry.h"
#include "common/tls.h"
#include "common/uuid.h"
#include "server/cli/deployment.h"
#include "server/net/server.h"
#include "server/service/administration.h"
#include "server/service/sync_service.h"
#include "server/store/postgres_store.h"
#include "server/store/store.h"
#include "server/store/store_copy.h"

namespace outreach::server {
namespace {

using json = nlohmann::ordered_json;

struct GlobalOptions {
  std::string data;
  std::string store;
  bool json = false;
};

// ---------------------------------------------------------------- parsing values

Result<Uuid> ParseId(const std::string& text, const std::string& field) {
  Result<Uuid> id = Uuid::Parse(text);
  if (!id.ok() || id->is_nil()) return Status::InvalidArgument(field, "'" + text + "' is not an id");
  return id;
}

// An optional id: empty text is the nil id.
Result<Uuid> ParseOptionalId(const std::string& text, const std::string& field) {
  if (text.empty()) return Uuid();
  return ParseId(text, field);
}

std::string IdText(const Uuid& id) {
  return id.is_nil() ? "" : id.ToString();
}

std::string RoleName(v1::Role role) {
  const auto* value = v1::Role_descriptor()->FindValueByNumber(role);
  return value != nullptr ? EnumValueShortName(value) : std::to_string(role);
}

// ---------------------------------------------------------------- output

// Human text for one value: strings bare, everything else as compact JSON.
std::string HumanValue(const json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

// "key: value" lines; an array of objects becomes one indented block per element.
void PrintHuman(const json& object) {
  for (const auto& [key, value] : object.items()) {
    if (value.is_array()) {
      std::cout << key << ": " << value.size() << "\n";
      for (const json& element : value) {
        if (!element.is_object()) {
          std::cout << "  - " << HumanValue(element) << "\n";
          continue;
        }
        const char* lead = "  - ";
        for (const auto& [k, v] : element.items()) {
          std::cout << lead << k << ": " << HumanValue(v) << "\n";
          lead = "    ";
        }
      }
    } else {
      std::cout << key << ": " << HumanValue(value) << "\n";
    }
  }
}

void Print(const GlobalOptions& global, const json& object) {
  if (global.json) {
    std::cout << object.dump() << "\n";
  } else {
    PrintHuman(object);
  }
  std::cout.flush();
}

int Fail(const Status& status) {
  std::cerr << "outreach-server: " << status.ToString() << "\n";
  return 1;
}

// The store of an existing deployment, or why there is none.
Result<std::unique_ptr<Store>> OpenDeploymentStore(const GlobalOptions& global) {
  Result<Deployment> deployment = FindDeployment(global.data, global.store);
  if (!deployment.ok()) return deployment.status();
  return OpenStore(deployment->store_location);
}

// ---------------------------------------------------------------- commands

struct InitArgs {
  std::string hostname;
};

Result<json> RunInit(const GlobalOptions& global, const InitArgs& args) {
  std::string hostname = args.hostname;
  if (hostname.empty()) {
    char buf[256] = {};
    hostname = ::gethostname(buf, sizeof buf - 1) == 0 && buf[0] != '\0' ? buf : "localhost";
  }
  Result<Deployment> deployment = InitDeployment(global.data, hostname, global.store);
  if (!deployment.ok()) return deployment.status();
  return json{{"data", deployment->dir},
              {"ca", deployment->ca_path},
              {"store", deployment->store_location},
              {"hostname", hostname}};
}

struct NameArgs {
  std::string hub;
  std::string name;
  std::string kind;
  std::string role;
  std::string venue;
  std::string time_zone;
};

Result<json> RunHubAdd(const GlobalOptions& global, const NameArgs& args) {
  if (!IsKnownTimeZone(args.time_zone)) {
    return Status::InvalidArgument("time-zone", "--time-zone '" + args.time_zone +
                                                    "' is not a time zone this system knows (an IANA name such as "
                                                    "Europe/London)");
  }
  Result<std::unique_ptr<Store>> store = OpenDeploymentStore(global);
  if (!store.ok()) return store.status();
  Result<Uuid> hub = Administration(**store).AddHub(args.name, args.time_zone);
  if (!hub.ok()) return hub.status();
  return json{{"hub_id", hub->ToString()},
              {"name", args.name},
              {"time_zone", args.time_zone.empty() ? std::string(kDefaultTimeZone) : args.time_zone}};
}

Result<json> RunVenueAdd(const GlobalOptions& global, const NameArgs& args) {
  Result<Uuid> hub = ParseId(args.hub, "hub");
  if (!hub.ok()) return hub.status();
  Result<int> kind = ParseEnumShortName(v1::VenueKind_descriptor(), args.kind, "kind");
  if (!kind.ok()) return kind.status();
  Result<std::unique_ptr<Store>> store = OpenDeploymentStore(global);
  if (!store.ok()) return store.status();
  Result<Uuid> venue = Administration(**store).AddVenue(*hub, args.name, static_cast<v1::VenueKind>(*kind));
  if (!venue.ok()) return venue.status();
  return json{{"venue_id", venue->ToString()},
              {"hub_id", hub->ToString()},
              {"name", args.name},
              {"kind", EnumValueShortName(v1::VenueKind_descriptor()->FindValueByNumber(*kind))}};
}

Result<json> RunEnrol(const GlobalOptions& global, const NameArgs& args) {
  Result<Uuid> hub = ParseId(args.hub, "hub");
  if (!hub.ok()) return hub.status();
  Result<int> role = ParseEnumShortName(v1::Role_descriptor(), args.role, "role");
  if (!role.ok()) return role.status();
  Result<Uuid> venue = ParseOptionalId(args.venue, "venue");
  if (!venue.ok()) return venue.status();
  Result<std::unique_ptr<Store>> store = OpenDeploymentStore(global);
  if (!store.ok()) return store.status();
  Result<std::string> code =
      Administration(**store).IssueEnrolmentCode(*hub, static_cast<v1::Role>(*role), args.name, *venue);
  if (!code.ok()) return code.status();
  return json{{"code", *code},
              {"hub_id", hub->ToString()},
              {"role", RoleName(static_cast<v1::Role>(*role))},
              {"name", args.name},
              {"venue_id", IdText(*venue)}};
}

// Each --hub given, as ids.
Result<std::vector<Uuid>> ParseHubs(const std::vector<std::string>& texts) {
  std::vector<Uuid> hubs;
  for (const std::string& text : texts) {
    Result<Uuid> hub = ParseId(text, "hub");
    if (!hub.ok()) return hub.status();
    hubs.push_back(*hub);
  }
  return hubs;
}

struct PartnerArgs {
  std::string partner;
  std::string name;
  std::string kind;
  std::vector<std::string> hubs;
  std::string contact;
  std::string starts_on;
  std::string ends_on;
};

json IdList(const google::protobuf::RepeatedPtrField<std::string>& raw_ids);

json PartnerJson(const Uuid& id, const v1::PartnerOrganisation& p) {
  return json{{"partner_id", id.ToString()},
              {"name", p.name()},
              {"kind", EnumValueShortName(v1::PartnerKind_descriptor()->FindValueByNumber(p.kind()))},
              {"hub_ids", IdList(p.hub_ids())},
              {"contact", p.contact()},
              {"starts_on", p.starts_on()},
              {"ends_on", p.ends_on()}};
}

// What `partner add` and `partner update` give, parsed.
Result<PartnerFields> ParsePartnerFields(const PartnerArgs& args) {
  PartnerFields fields;
  fields.name = args.name;
  fields.contact = args.contact;
  fields.starts_on = args.starts_on;
  fields.ends_on = args.ends_on;
  if (!args.kind.empty()) {
    Result<int> kind = ParseEnumShortName(v1::PartnerKind_descriptor(), args.kind, "kind");
    if (!kind.ok()) return kind.status();
    fields.kind = static_cast<v1::PartnerKind>(*kind);
  }
  Result<std::vector<Uuid>> hubs = ParseHubs(args.hubs);
  if (!hubs.ok()) return hubs.status();
  fields.hubs = std::move(*hubs);
  return fields;
}

// The partner as stored after a command, read back.
Result<json> PartnerShown(Store& store, const Uuid& partner_id) {
  Result<std::vector<PartnerInfo>> all = Administration(store).ListPartners();
  if (!all.ok()) return all.status();
  for (const PartnerInfo& p : *all) {
    if (p.partner_id == partner_id) return PartnerJson(p.partner_id, p.partner);
  }
  return Status::NotFound("no partner " + partner_id.ToString(), "partner");
}

Result<json> RunPartnerAdd(const GlobalOptions& global, const PartnerArgs& args) {
  Result<PartnerFields> fields = ParsePartnerFields(args);
  if (!fields.ok()) return fields.status();
  Result<std::unique_ptr<Store>> store = OpenDeploymentStore(global);
  if (!store.ok()) return store.status();
  Result<Uuid> partner = Administration(**store).AddPartner(*fields);
  if (!partner.ok()) return partner.status();
  return PartnerShown(**store, *partner);
}

Result<json> RunPartnerUpdate(const GlobalOptions& global, const PartnerArgs& args) {
  Result<Uuid> partner = ParseId(args.partner, "partner");
  if (!partner.ok()) return partner.status();
  Result<PartnerFields> fields = ParsePartnerFields(args);
  if (!fields.ok()) return fields.status();
  Result<std::unique_ptr<Store>> store = OpenDeploymentStore(global);
  if (!store.ok()) return store.status();
  OUTREACH_RETURN_IF_ERROR(Administration(**store).UpdatePartner(*partner, *fields));
  return PartnerShown(**store, *partner);
}

Result<json> RunPartnerList(const GlobalOptions& global, const PartnerArgs& args) {
  Result<Uuid> hub = args.hubs.empty() ? Result<Uuid>(Uuid()) : ParseId(args.hubs.front(), "hub");
  if (!hub.ok()) return hub.status();
  Result<std::unique_ptr<Store>> store = OpenDeploymentStore(global);
  if (!store.ok()) return store.status();
  Result<std::vector<PartnerInfo>> partners = Administration(**store).ListPartners(*hub);
  if (!partners.ok()) return partners.status();
  json list = json::array();
  for (const PartnerInfo& p : *partners) list.push_back(PartnerJson(p.partner_id, p.partner));
  return json{{"partners", list}};
}

struct ProgrammeArgs {
  std::string programme;
  std::string name;
  std::string funder;
  std::vector<std::string> strands;
  uint32_t min_age = 0;
  uint32_t max_age = 0;
  std::string rules_version;
  std::string starts_on;
  std::string ends_on;
  std::vector<std::string> hubs;
};

json IdList(const google::protobuf::RepeatedPtrField<std::string>& raw_ids) {
  json ids = json::array();
  for (const std::string& raw : raw_ids) {
    Result<Uuid> id = Uuid::FromBytes(raw);
    ids.push_back(id.ok() ? id->ToString() : std::string());
  }
  return ids;
}

json ProgrammeJson(const Uuid& id, const v1::Programme& p) {
  return json{{"programme_id", id.ToString()},
              {"name", p.name()},
              {"funder", p.funder()},
              {"strands", json(std::vector<std::string>(p.strands().begin(), p.strands().end()))},
              {"min_age", p.min_age()},
              {"max_age", p.max_age()},
              {"rules_version", p.rules_version()},
              {"starts_on", p.starts_on()},
              {"ends_on", p.ends_on()},
              {"hub_ids", IdList(p.hub_ids())}};
}

Result<ProgrammeFields> ParseProgrammeFields(const ProgrammeArgs& args) {
  ProgrammeFields fields{.name = args.name,
                         .funder = args.funder,
                         .strands = args.strands,
                         .min_age = args.min_age,
                         .max_age = args.max_age,
                         .rules_version = args.rules_version,
                         .starts_on = args.starts_on,
                         .ends_on = args.ends_on,
                         .hubs = {}};
  Result<std::vector<Uuid>> hubs = ParseHubs(args.hubs);
  if (!hubs.ok()) return hubs.status();
  fields.hubs = std::move(*hubs);
  return fields;
}

Result<json> ProgrammeShown(Store& store, const Uuid& programme_id) {
  Result<std::vector<ProgrammeInfo>> all = Administration(store).ListProgrammes();
  if (!all.ok()) return all.status();
  for (const ProgrammeInfo& p : *all) {
    if (p.programme_id == programme_id) return ProgrammeJson(p.programme_id, p.programme);
  }
  return Status::NotFound("no programme " + programme_id.ToString(), "programme");
}

Result<json> RunProgrammeAdd(const GlobalOptions& global, const ProgrammeArgs& args) {
  Result<ProgrammeFields> fields = ParseProgrammeFields(args);
  if (!fields.ok()) return fields.status();
  Result<std::unique_ptr<Store>> store = OpenDeploymentStore(global);
  if (!store.ok()) return store.status();
  Result<Uuid> programme = Administration(**store).AddProgramme(*fields);
  if (!programme.ok()) return programme.status();
  return ProgrammeShown(**store, *programme);
}

Result<json> RunProgrammeUpdate(const GlobalOptions& global, const ProgrammeArgs& args) {
  Result<Uuid> programme = ParseId(args.programme, "programme");
  if (!programme.ok()) return programme.status();
  Result<ProgrammeFields> fields = ParseProgrammeFields(args);
  if (!fields.ok()) return fields.status();
  Result<std::unique_ptr<Store>> store = OpenDeploymentStore(global);
  if (!store.ok()) return store.status();
  OUTREACH_RETURN_IF_ERROR(Administration(**store).UpdateProgramme(*programme, *fields));
  return ProgrammeShown(**store, *programme);
}

Result<json> RunProgrammeList(const GlobalOptions& global, const ProgrammeArgs&) {
  Result<std::unique_ptr<Store>> store = OpenDeploymentStore(global);
  if (!store.ok()) return store.status();
  Result<std::vector<ProgrammeInfo>> programmes = Administration(**store).ListProgrammes();
  if (!programmes.ok()) return programmes.status();
  json list = json::array();
  for (const ProgrammeInfo& p : *programmes) list.push_back(ProgrammeJson(p.programme_id, p.programme));
  return json{{"programmes", list}};
}

struct TargetArgs {
  std::string programme;
  std::string quarter;
  std::string hub;
  std::string partner;
  uint32_t starts = 0;
  uint32_t women_percent = 0;
  uint32_t inactive_percent = 0;
  uint32_t job_starts = 0;
  uint32_t sustained_jobs = 0;
  int64_t spend_pence = 0;
};

json TargetJson(const v1::Target& t) {
  auto id = [](const std::string& raw) {
    Result<Uuid> u = Uuid::FromBytes(raw);
    return raw.empty() || !u.ok() ? std::string() : u->ToString();
  };
  return json{{"quarter", t.quarter()},
              {"hub_id", id(t.hub_id())},
              {"partner_id", id(t.partner_id())},
              {"starts", t.starts()},
              {"women_percent", t.women_percent()},
              {"economically_inactive_percent", t.economically_inactive_percent()},
              {"job_starts", t.job_starts()},
              {"sustained_jobs", t.sustained_jobs()},
              {"spend_pence", t.spend_pence()}};
}

Result<json> RunTargetList(const GlobalOptions& global, const TargetArgs& args) {
  Result<Uuid> programme = ParseId(args.programme, "programme");
  if (!programme.ok()) return programme.status();
  Result<std::unique_ptr<Store>> store = OpenDeploymentStore(global);
  if (!store.ok()) return store.status();
  Result<std::vector<ProgrammeInfo>> all = Administration(**store).ListProgrammes();
  if (!all.ok()) return all.status();
  for (const ProgrammeInfo& p : *all) {
    if (p.programme_id != *programme) continue;
    json list = json::array();
    for (const v1::Target& t : p.programme.targets()) list.push_back(TargetJson(t));
    return json{{"programme_id", programme->ToString()}, {"targets", list}};
  }
  return Status::NotFound("no programme " + programme->ToString(), "programme");
}

Result<json> RunTargetAdd(const GlobalOptions& global, const TargetArgs& args) {
  Result<Uuid> programme = ParseId(args.programme, "programme");
  if (!programme.ok()) return programme.status();
  Result<Uuid> hub = ParseOptionalId(args.hub, "hub");
  if (!hub.ok()) return hub.status();
  Result<Uuid> partner = ParseOptionalId(args.partner, "partner");
  if (!partner.ok()) return partner.status();
  v1::Target target;
  target.set_quarter(args.quarter);
  if (!hub->is_nil()) target.set_hub_id(hub->raw());
  if (!partner->is_nil()) target.set_partner_id(partner->raw());
  target.set_starts(args.starts);
  target.set_women_percent(args.women_percent);
  target.set_economically_inactive_percent(args.inactive_percent);
  target.set_job_starts(args.job_starts);
  target.set_sustained_jobs(args.sustained_jobs);
  target.set_spend_pence(args.spend_pence);
  Result<std::unique_ptr<Store>> store = OpenDeploymentStore(global);
  if (!store.ok()) return store.status();
  OUTREACH_RETURN_IF_ERROR(Administration(**store).SetTarget(*programme, target));
  return RunTargetList(global, args);
}

struct InstrumentArgs {
  std::string programme;
  std::string file;
  std::string instrument_id;
  uint32_t version = 0;
};

json InstrumentJson(const Uuid& record_id, const v1::Instrument& i) {
  json domains = json::array();
  for (const v1::InstrumentDomain& d : i.domains()) {
    domains.push_back({{"key", d.key()}, {"label", d.label()}, {"min", d.min_score()}, {"max", d.max_score()}});
  }
  Result<Uuid> programme = Uuid::FromBytes(i.programme_id());
  return json{
      {"id", record_id.ToString()},     {"instrument_id", i.instrument_id()},
      {"version", i.version()},         {"title", i.name()},
      {"retired", i.retired()},         {"programme_id", programme.ok() ? programme->ToString() : std::string()},
      {"hub_ids", IdList(i.hub_ids())}, {"domains", domains}};
}

Result<json> RunInstrumentAdd(const GlobalOptions& global, const InstrumentArgs& args) {
  Result<Uuid> programme = ParseId(args.programme, "programme");
  if (!programme.ok()) return programme.status();
  std::ifstream in(args.file);
  if (!in) return Status::InvalidArgument("file", "cannot read " + args.file);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  v1::Instrument instrument;
  // The instrument as JSON with the proto's field names: instrument_id, version, name,
  // domains [{key, label, min_score, max_score}].
  const auto parsed = google::protobuf::util::JsonStringToMessage(text, &instrument);
  if (!parsed.ok()) {
    return Status::InvalidArgument("file", args.file + " is not an instrument: " + std::string(parsed.message()));
  }
  Result<std::unique_ptr<Store>> store = OpenDeploymentStore(global);
  if (!store.ok()) return store.status();
  Result<Uuid> id = Administration(**store).AddInstrument(*programme, instrument);
  if (!id.ok()) return id.status();
  Result<std::vector<InstrumentInfo>> all = Administration(**store).ListInstruments();
  if (!all.ok()) return all.status();
  for (const InstrumentInfo& i : *all) {
    if (i.record_id == *id) return InstrumentJson(i.record_id, i.instrument);
  }
  return Status::Internal("the instrument published is not listed");
}

Result<json> RunInstrumentRetire(const GlobalOptions& global, const InstrumentArgs& args) {
  Result<std::unique_ptr<Store>> store = OpenDeploymentStore(global);
  if (!store.ok()) return store.status();
  OUTREACH_RETURN_IF_ERROR(Administration(**store).RetireInstrument(args.instrument_id, args.version));
  return json{{"instrument_id", args.instrument_id}, {"version", args.version}, {"retired", true}};
}

Result<json> RunInstrumentList(const GlobalOptions& global, const InstrumentArgs&) {
  Result<std::unique_ptr<Store>> store = OpenDeploymentStore(global);
  if (!store.ok()) return store.status();
  Result<std::vector<InstrumentInfo>> all = Administration(**store).ListInstruments();
  if (!all.ok()) return all.status();
  json list = json::array();
  for (const InstrumentInfo& i : *all) list.push_back(InstrumentJson(i.record_id, i.instrument));
  return json{{"instruments", list}};
}

struct CaseloadArgs {
  std::string hub;
  std::string from;
  std::string to;
  std::string partner;
};

Result<json> RunCaseloadTransfer(const GlobalOptions& global, const CaseloadArgs& args) {
  Result<Uuid> hub = ParseOptionalId(args.hub, "hub");
  if (!hub.ok()) return hub.status();
  Result<Uuid> partner = ParseOptionalId(args.partner, "partner");
  if (!partner.ok()) return partner.status();
  Result<std::unique_ptr<Store>> store = OpenDeploymentStore(global);
  if (!store.ok()) return store.status();
  Result<CaseloadTransfer> moved = Administration(**store).TransferCaseload(*hub, args.from, args.to, *partner);
  if (!moved.ok()) return moved.status();
  return json{{"hub_id", moved->hub_id.ToString()},
              {"from", args.from},
              {"to", args.to},
              {"participants", moved->participants},
              {"sessions", moved->sessions}};
}

struct DeviceArgs {
  std::string hub;
  std::string device;
};

Result<json> RunDeviceList(const GlobalOptions& global, const DeviceArgs& args) {
  Result<Uuid> hub = ParseOptionalId(args.hub, "hub");
  if (!hub.ok()) return hub.status();
  Result<std::unique_ptr<Store>> store = OpenDeploymentStore(global);
  if (!store.ok()) return store.status();
  Result<std::vector<DeviceInfo>> devices = Administration(**store).ListDevices(*hub);
  if (!devices.ok()) return devices.status();
  json list = json::array();
  for (const DeviceInfo& d : *devices) {
    list.push_back(json{{"device_id", d.device_id.ToString()},
                        {"hub_id", d.hub_id.ToString()},
                        {"role", RoleName(d.role)},
                        {"user_name", d.user_name},
                        {"device_name", d.device_name},
                        {"reference_prefix", d.reference_prefix},
                        {"venue_id", IdText(d.venue_id)},
                        {"enrolled_at_ms", d.enrolled_at_ms},
                        {"last_sync_ms", d.last_sync_ms},
                        {"revoked", d.revoked}});
  }
  return json{{"devices", list}};
}

Result<json> RunDeviceRevoke(const GlobalOptions& global, const DeviceArgs& args) {
  Result<Uuid> device = ParseId(args.device, "device");
  if (!device.ok()) return device.status();
  Result<Uuid> hub = ParseOptionalId(args.hub, "hub");
  if (!hub.ok()) return hub.status();
  Result<std::unique_ptr<Store>> store = OpenDeploymentStore(global);
  if (!store.ok()) return store.status();
  Administration admin(**store);
  if (!hub->is_nil()) {
    // With --hub, revoke only a device of that hub: a guard against a mistyped id.
    Result<std::vector<DeviceInfo>> devices = admin.ListDevices(*hub);
    if (!devices.ok()) return devices.status();
    bool found = false;
    for (const DeviceInfo& d : *devices) found = found || d.device_id == *device;
    if (!found) return Status::NotFound("no device " + device->ToString() + " in hub " + hub->ToString(), "device");
  }
  OUTREACH_RETURN_IF_ERROR(admin.RevokeDevice(*device));
  return json{{"device_id", device->ToString()}, {"revoked", true}};
}

struct ConflictArgs {
  std::string hub;
  std::string conflict;
  std::string keep;
  std::string by;
  bool all = false;
};

json ConflictJson(const ConflictInfo& info) {
  const v1::Conflict& c = info.conflict;
  const RecordTypeInfo* type = FindRecordType(c.record_type());
  const auto* descriptor = type != nullptr ? type->descriptor : nullptr;
  auto describe = [&](const std::string& value) {
    return descriptor != nullptr ? DescribeFieldValue(descriptor, c.field(), value) : std::string();
  };
  Result<Uuid> record = Uuid::FromBytes(c.record_id());
  const auto* status = v1::ConflictStatus_descriptor()->FindValueByNumber(c.status());
  return json{{"conflict_id", info.conflict_id.ToString()},
              {"record_id", record.ok() ? record->ToString() : ""},
              {"record_type", type != nullptr ? std::string(type->name) : std::to_string(c.record_type())},
              {"field", c.field_name().empty() ? std::to_string(c.field()) : c.field_name()},
              {"winning_value", describe(c.winning_value())},
              {"winning_author", c.winning_author()},
              {"winning_at", Hlc(c.winning_hlc()).ToString()},
              {"losing_value", describe(c.losing_value())},
              {"losing_author", c.losing_author()},
              {"losing_at", Hlc(c.losing_hlc()).ToString()},
              {"status", status != nullptr ? EnumValueShortName(status) : std::to_string(c.status())},
              {"resolved_by", c.resolved_by()}};
}

Result<json> RunConflictsList(const GlobalOptions& global, const ConflictArgs& args) {
  Result<Uuid> hub = ParseId(args.hub, "hub");
  if (!hub.ok()) return hub.status();
  Result<std::unique_ptr<Store>> store = OpenDeploymentStore(global);
  if (!store.ok()) return store.status();
  Result<std::vector<ConflictInfo>> conflicts = Administration(**store).ListConflicts(*hub, args.all);
  if (!conflicts.ok()) return conflicts.status();
  json list = json::array();
  for (const ConflictInfo& info : *conflicts) list.push_back(ConflictJson(info));
  return json{{"conflicts", list}};
}

Result<json> RunConflictsResolve(const GlobalOptions& global, const ConflictArgs& args) {
  Result<Uuid> hub = ParseId(args.hub, "hub");
  if (!hub.ok()) return hub.status();
  Result<Uuid> conflict = ParseId(args.conflict, "conflict");
  if (!conflict.ok()) return conflict.status();
  v1::ConflictStatus resolution;
  if (args.keep == "winner") {
    resolution = v1::CONFLICT_STATUS_KEPT_WINNER;
  } else if (args.keep == "loser") {
    resolution = v1::CONFLICT_STATUS_TOOK_LOSER;
  } else {
    return Status::InvalidArgument("keep", "'" + args.keep + "' is not one of: winner, loser");
  }
  if (args.by.empty()) return Status::InvalidArgument("by", "must name the person resolving the conflict");
  Result<std::unique_ptr<Store>> store = OpenDeploymentStore(global);
  if (!store.ok()) return store.status();
  OUTREACH_RETURN_IF_ERROR(Administration(**store).ResolveConflict(*hub, *conflict, resolution, args.by));
  return json{{"conflict_id", conflict->ToString()},
              {"status", EnumValueShortName(v1::ConflictStatus_descriptor()->FindValueByNumber(resolution))},
              {"resolved_by", args.by}};
}

struct AuditArgs {
  std::string record;
};

// A record's whole history from the audit trail, oldest first; values as a person reads them.
Result<json> RunAudit(const GlobalOptions& global, const AuditArgs& args) {
  Result<Uuid> record = ParseId(args.record, "record");
  if (!record.ok()) return record.status();
  Result<std::unique_ptr<Store>> store = OpenDeploymentStore(global);
  if (!store.ok()) return store.status();
  Result<std::vector<AuditRow>> rows = Administration(**store).RecordHistory(*record);
  if (!rows.ok()) return rows.status();
  const RecordTypeInfo* type = FindRecordType(rows->front().type);
  json changes = json::array();
  for (const AuditRow& row : *rows) {
    const google::protobuf::FieldDescriptor* field =
        type != nullptr ? type->descriptor->FindFieldByNumber(static_cast<int>(row.field)) : nullptr;
    auto describe = [&](const std::string& value) {
      return type != nullptr ? DescribeFieldValue(type->descriptor, row.field, value) : std::string();
    };
    changes.push_back(json{{"at", InstantOfMillis(row.at_ms)},
                           {"author", row.author},
                           {"device_id", row.device_id.is_nil() ? "server" : row.device_id.ToString()},
                           {"server_seq", row.server_seq},
                           {"field", field != nullptr ? field->name() : std::to_string(row.field)},
                           {"old", describe(row.old_value)},
                           {"new", describe(row.new_value)}});
  }
  return json{{"record_id", record->ToString()},
              {"type", type != nullptr ? std::string(type->name) : std::to_string(rows->front().type)},
              {"changes", changes}};
}

struct CopyArgs {
  std::string from;
  std::string to;
  bool switch_store = false;
};

bool IsPostgres(const std::string& location) {
  return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

// A store for `store copy`. On PostgreSQL without the statement and idle-in-transaction
// timeouts: the copy reads whole tables in one statement and keeps the source's
// transaction open (idle) while it writes the target. The lock timeout stays.
Result<std::unique_ptr<Store>> OpenStoreForCopy(const std::string& location) {
  if (!IsPostgres(location)) return OpenStore(location);
  PostgresStore::Options options;
  options.statement_timeout_ms = 0;
  options.idle_in_transaction_timeout_ms = 0;
  auto store = PostgresStore::Open(location, options);
  if (!store.ok()) return store.status();
  return std::unique_ptr<Store>(std::move(*store));
}

// Copies a whole store into a new, empty one (docs/OPERATIONS.md: moving a hub). With
// --data, --from defaults to that deployment's store; --switch then makes --to the
// deployment's store once the copy has committed.
Result<json> RunStoreCopy(const GlobalOptions& global, const CopyArgs& args) {
  std::string from_location = args.from;
  std::optional<Deployment> deployment;
  if (args.switch_store || from_location.empty()) {
    if (global.data.empty()) {
      return args.switch_store ? Status::InvalidArgument("data", "--switch needs the deployment's --data directory")
                               : Status::InvalidArgument("from", "is required (or give the deployment's --data)");
    }
    Result<Deployment> found = FindDeployment(global.data, "");
    if (!found.ok()) return found.status();
    deployment = std::move(found).value();
    if (from_location.empty()) from_location = deployment->store_location;
    if (!SameStore(from_location, deployment->store_location)) {
      return Status::InvalidArgument("from", "'" + from_location + "' is not the store of the deployment in " +
                                                 global.data + " (" + deployment->store_location +
                                                 "); --switch moves a deployment from its own store");
    }
  }
  if (SameStore(from_location, args.to)) return Status::InvalidArgument("to", "is the same store as --from");
  // An SQLite source must exist: opening a missing file would create an empty store.
  const std::string from_path = from_location.rfind("sqlite:", 0) == 0 ? from_location.substr(7) : from_location;
  std::error_code ec;
  if (!IsPostgres(from_location) && !std::filesystem::exists(from_path, ec)) {
    return Status::NotFound("there is no store at " + from_path, "from");
  }
  Result<std::unique_ptr<Store>> from = OpenStoreForCopy(from_location);
  if (!from.ok()) return Status(from.status().code(), from.status().message(), "from");
  Result<std::unique_ptr<Store>> to = OpenStoreForCopy(args.to);
  if (!to.ok()) return Status(to.status().code(), to.status().message(), "to");
  Result<CopyReport> report = CopyStore(**from, **to);
  if (!report.ok()) return report.status();
  json out{{"from", (*from)->Describe()},
           {"to", (*to)->Describe()},
           {"hubs", report->hubs},
           {"devices", report->devices},
           {"enrolment_codes", report->enrolment_codes},
           {"records", report->records},
           {"changes", report->changes},
           {"ledger_entries", report->ledger_entries},
           {"audit_rows", report->audit_rows}};
  if (args.switch_store) {
    OUTREACH_RETURN_IF_ERROR(RecordStoreLocation(*deployment, args.to));
    out["data"] = deployment->dir;
    out["switched"] = true;
  }
  return out;
}

struct ServeArgs {
  ServerOptions server;
  SyncServiceOptions service;
  int64_t handshake_timeout_ms = 10'000;
  int64_t idle_timeout_ms = 120'000;
  int64_t frame_timeout_ms = 30'000;
  int64_t hello_timeout_ms = 10'000;
  int64_t max_session_ms = 3'600'000;
  int64_t revocation_check_ms = 500;
  int64_t enrol_max_delay_ms = 60'000;
};

// Serves until SIGINT/SIGTERM. The first stdout line is the bound address.
Status RunServe(const GlobalOptions& global, ServeArgs args) {
  args.server.handshake_timeout = std::chrono::milliseconds(args.handshake_timeout_ms);
  args.server.idle_timeout = std::chrono::milliseconds(args.idle_timeout_ms);
  args.server.frame_timeout = std::chrono::milliseconds(args.frame_timeout_ms);
  args.server.hello_timeout = std::chrono::milliseconds(args.hello_timeout_ms);
  args.server.max_session = std::chrono::milliseconds(args.max_session_ms);
  args.server.revocation_check_interval = std::chrono::milliseconds(args.revocation_check_ms);
  args.server.enrol_max_delay = std::chrono::milliseconds(args.enrol_max_delay_ms);
  OUTREACH_RETURN_IF_ERROR(ValidateServerOptions(args.server));
  Result<Deployment> deployment = FindDeployment(global.data, global.store);
  if (!deployment.ok()) return deployment.status();
  Result<ServerCredentials> credentials = LoadServerCredentials(*deployment);
  if (!credentials.ok()) return credentials.status();
  Result<std::shared_ptr<TlsContext>> tls =
      MakeServerTlsContext(credentials->certificate_pem, credentials->private_key_pem);
  if (!tls.ok()) return tls.status();
  Result<std::unique_ptr<Store>> store = OpenStore(deployment->store_location);
  if (!store.ok()) return store.status();

  SyncService service(std::move(store).value(), credentials->ca_pem, args.service);
  Server server(service, *tls, args.server);
  OUTREACH_RETURN_IF_ERROR(server.Listen());
  Print(global, json{{"listening", server.local_address()}});
  server.Run();
  return Status::Ok();
}

// One line for a command line CLI11 refused: a missing or unknown verb names the verbs
// possible at that point (common/cli_verbs.h); other errors are CLI11's own ("--name is
// required").
std::string UsageError(const CLI::App& app, const CLI::ParseError& error) {
  std::string verbs = VerbError(app, error);
  return verbs.empty() ? error.what() : verbs;
}

int Main(int argc, char** argv) {
  // Logs go to stderr: stdout carries only the command's result.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("outreach-server"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");

  CLI::App app{"outreach-server: the sync server for offline outreach devices"};
  app.fallthrough();  // inherited: global options are accepted after the verb too
  app.require_subcommand(1);
  GlobalOptions global;
  app.add_option("--data", global.data, "the deployment's data directory");
  app.add_option("--store", global.store,
                 "store location: an SQLite path (default DATA/store.db) or postgresql://...; `init` records it in "
                 "the data directory, so later commands need not repeat it");
  app.add_flag("--json", global.json, "print one JSON object on stdout");

  std::function<int()> action;
  auto run = [&global](auto command, auto& args) {
    return [&global, command, &args] {
      Result<json> out = command(global, args);
      if (!out.ok()) return Fail(out.status());
      Print(global, *out);
      return 0;
    };
  };

  InitArgs init_args;
  CLI::App* init = app.add_subcommand("init", "create a deployment: store, CA and server certificate");
  init->add_option("--hostname", init_args.hostname, "the server's name for its certificate (default: this host)");
  init->callback([&] { action = run(RunInit, init_args); });

  NameArgs hub_args;
  CLI::App* hub = app.add_subcommand("hub", "hubs (partitions of the data)")->require_subcommand(1);
  CLI::App* hub_add = hub->add_subcommand("add", "add a hub");
  hub_add->add_option("--name", hub_args.name, "the hub's name")->required();
  hub_add->add_option("--time-zone", hub_args.time_zone,
                      "the hub's IANA time zone, e.g. Europe/London (the default): \"today\" for its rules");
  hub_add->callback([&] { action = run(RunHubAdd, hub_args); });

  NameArgs venue_args;
  CLI::App* venue = app.add_subcommand("venue", "venues of a hub")->require_subcommand(1);
  CLI::App* venue_add = venue->add_subcommand("add", "add a venue");
  venue_add->add_option("--hub", venue_args.hub, "the hub id")->required();
  venue_add->add_option("--name", venue_args.name, "the venue's name")->required();
  venue_add->add_option("--kind", venue_args.kind, "childrens_centre, housing_office, library, ...")->required();
  venue_add->callback([&] { action = run(RunVenueAdd, venue_args); });

  ProgrammeArgs programme_args;
  CLI::App* programme =
      app.add_subcommand("programme", "programmes and the hubs that deliver them")->require_subcommand(1);
  auto programme_options = [&programme_args](CLI::App* verb, bool adding) {
    CLI::Option* name = verb->add_option("--name", programme_args.name, "the programme's name");
    CLI::Option* funder = verb->add_option("--funder", programme_args.funder, "who funds it (ESF, DWP, ...)");
    CLI::Option* hubs =
        verb->add_option("--hub", programme_args.hubs,
                         adding ? "a hub that delivers it (repeat for each; a hub delivers one programme)"
                                : "a hub that delivers it too (repeat for each)");
    if (adding) {
      name->required();
      funder->required();
      hubs->required();
    }
    verb->add_option("--strand", programme_args.strands, "a strand participants are claimed by (repeat for each)");
    verb->add_option("--min-age", programme_args.min_age, "the youngest it takes, in years at registration")
        ->check(CLI::Range(1, 120));
    verb->add_option("--max-age", programme_args.max_age, "the oldest it takes (default range 16 to 100)")
        ->check(CLI::Range(1, 120));
    verb->add_option("--rules-version", programme_args.rules_version,
                     "the eligibility rules in force: what a new validation file records");
    verb->add_option("--starts-on", programme_args.starts_on, "YYYY-MM-DD");
    verb->add_option("--ends-on", programme_args.ends_on, "YYYY-MM-DD");
  };
  CLI::App* programme_add = programme->add_subcommand("add", "add a programme; its hubs' devices receive it");
  programme_options(programme_add, true);
  programme_add->callback([&] { action = run(RunProgrammeAdd, programme_args); });
  CLI::App* programme_update = programme->add_subcommand("update", "change a programme; the options given are set");
  programme_update->add_option("--id", programme_args.programme, "the programme id")->required();
  programme_options(programme_update, false);
  programme_update->callback([&] { action = run(RunProgrammeUpdate, programme_args); });
  CLI::App* programme_list = programme->add_subcommand("list", "list programmes, by name");
  programme_list->callback([&] { action = run(RunProgrammeList, programme_args); });

  PartnerArgs partner_args;
  CLI::App* partner =
      app.add_subcommand("partner", "partner organisations of the programme, shared by the hubs they work in")
          ->require_subcommand(1);
  auto partner_options = [&partner_args](CLI::App* verb, bool adding) {
    CLI::Option* name = verb->add_option("--name", partner_args.name, "the organisation's name");
    CLI::Option* kind = verb->add_option("--kind", partner_args.kind, "delivery_partner, referral_partner or employer");
    CLI::Option* hubs =
        verb->add_option("--hub", partner_args.hubs,
                         adding ? "a hub it holds a contract in (repeat for each; the first is its home)"
                                : "a hub it now holds a contract in too (repeat for each)");
    if (adding) {
      name->required();
      kind->required();
      hubs->required();
    }
    verb->add_option("--contact", partner_args.contact, "who to contact there, and how");
    verb->add_option("--starts-on", partner_args.starts_on, "YYYY-MM-DD: the contract's first day");
    verb->add_option("--ends-on", partner_args.ends_on, "YYYY-MM-DD: the contract's last day (a partner that leaves)");
  };
  CLI::App* partner_add = partner->add_subcommand("add", "add a partner; every device of its hubs receives it");
  partner_options(partner_add, true);
  partner_add->callback([&] { action = run(RunPartnerAdd, partner_args); });
  CLI::App* partner_update = partner->add_subcommand("update", "change a partner; the options given are set");
  partner_update->add_option("--id", partner_args.partner, "the partner id")->required();
  partner_options(partner_update, false);
  partner_update->callback([&] { action = run(RunPartnerUpdate, partner_args); });
  CLI::App* partner_list = partner->add_subcommand("list", "list partners, by name");
  partner_list->add_option("--hub", partner_args.hubs, "only those holding a contract in this hub")->expected(1);
  partner_list->callback([&] { action = run(RunPartnerList, partner_args); });

  TargetArgs target_args;
  CLI::App* target =
      app.add_subcommand("target", "a programme's quarterly targets per hub or partner")->require_subcommand(1);
  CLI::App* target_add =
      target->add_subcommand("add", "set a quarter's targets for a hub or a partner (replacing any set before)");
  target_add->add_option("--programme", target_args.programme, "the programme id")->required();
  target_add->add_option("--quarter", target_args.quarter, "YYYY-Qn, e.g. 2026-Q3")->required();
  target_add->add_option("--hub", target_args.hub, "a hub of the programme (or --partner)");
  target_add->add_option("--partner", target_args.partner, "a partner working in its hubs (or --hub)");
  target_add->add_option("--starts", target_args.starts, "participants registered");
  target_add->add_option("--women-percent", target_args.women_percent, "women's share of the starts (0-100)");
  target_add->add_option("--inactive-percent", target_args.inactive_percent,
                         "economically inactive share of the starts (0-100)");
  target_add->add_option("--job-starts", target_args.job_starts, "job starts");
  target_add->add_option("--sustained-jobs", target_args.sustained_jobs, "jobs sustained (13 or 26 weeks)");
  target_add->add_option("--spend-pence", target_args.spend_pence, "support spend profiled, in pence");
  target_add->callback([&] { action = run(RunTargetAdd, target_args); });
  CLI::App* target_list = target->add_subcommand("list", "list a programme's targets");
  target_list->add_option("--programme", target_args.programme, "the programme id")->required();
  target_list->callback([&] { action = run(RunTargetList, target_args); });

  InstrumentArgs instrument_args;
  CLI::App* instrument =
      app.add_subcommand("instrument", "scored instruments of a programme (distance travelled)")->require_subcommand(1);
  CLI::App* instrument_add =
      instrument->add_subcommand("add", "publish an instrument version; its programme's devices receive it");
  instrument_add->add_option("--programme", instrument_args.programme, "the programme id")->required();
  instrument_add
      ->add_option("--file", instrument_args.file,
                   "JSON: {\"instrument_id\", \"version\", \"name\", \"domains\": [{\"key\", \"label\", "
                   "\"min_score\", \"max_score\"}]}")
      ->required();
  instrument_add->callback([&] { action = run(RunInstrumentAdd, instrument_args); });
  CLI::App* instrument_retire =
      instrument->add_subcommand("retire", "retire a version: no new assessments; those made keep it");
  instrument_retire->add_option("--id", instrument_args.instrument_id, "the instrument id (my-journey)")->required();
  instrument_retire->add_option("--version", instrument_args.version, "the version")->required();
  instrument_retire->callback([&] { action = run(RunInstrumentRetire, instrument_args); });
  CLI::App* instrument_list = instrument->add_subcommand("list", "list published instruments");
  instrument_list->callback([&] { action = run(RunInstrumentList, instrument_args); });

  CaseloadArgs caseload_args;
  CLI::App* caseload = app.add_subcommand("caseload", "advisers' caseloads")->require_subcommand(1);
  CLI::App* transfer = caseload->add_subcommand(
      "transfer", "move every active participant of one adviser (and their appointments to come) to another");
  transfer->add_option("--from", caseload_args.from, "the adviser leaving the caseload (their user name)")->required();
  transfer->add_option("--to", caseload_args.to, "the adviser taking it, enrolled in the same hub")->required();
  transfer->add_option("--hub", caseload_args.hub, "the hub id (default: the one hub the new adviser is enrolled in)");
  transfer->add_option("--partner", caseload_args.partner, "only participants attributed to this delivery partner");
  transfer->callback([&] { action = run(RunCaseloadTransfer, caseload_args); });

  NameArgs enrol_args;
  CLI::App* enrol = app.add_subcommand("enrol", "issue a one-time enrolment code for a device");
  enrol->add_option("--hub", enrol_args.hub, "the hub id")->required();
  enrol->add_option("--role", enrol_args.role, "adviser, health_worker, coordinator, manager or kiosk")->required();
  enrol->add_option("--name", enrol_args.name, "the person the device is for")->required();
  enrol->add_option("--venue", enrol_args.venue, "a kiosk's venue id");
  enrol->callback([&] { action = run(RunEnrol, enrol_args); });

  ServeArgs serve_args;
  CLI::App* serve = app.add_subcommand("serve", "serve devices over TLS until SIGINT or SIGTERM");
  serve->add_option("--listen", serve_args.server.listen, "HOST:PORT; port 0 picks a free one")->required();
  serve->add_option("--handshake-timeout-ms", serve_args.handshake_timeout_ms, "TLS handshake deadline");
  serve->add_option("--idle-timeout-ms", serve_args.idle_timeout_ms, "longest wait between frames");
  serve->add_option("--frame-timeout-ms", serve_args.frame_timeout_ms,
                    "deadline from a frame's first byte to its last");
  serve->add_option("--max-frame-bytes", serve_args.server.max_frame_bytes, "largest frame accepted or sent");
  serve->add_option("--max-connections", serve_args.server.max_connections,
                    "concurrent device connections (past hello); over it: SERVER_BUSY");
  serve->add_option("--hello-timeout-ms", serve_args.hello_timeout_ms,
                    "deadline from TCP accept to the Welcome (or Enrolled); missed: closed");
  serve->add_option("--max-session-ms", serve_args.max_session_ms,
                    "longest session from its Welcome; then ended at its next idle point (the device says hello "
                    "again)");
  serve->add_option("--max-unwelcomed", serve_args.server.max_unwelcomed,
                    "connections without hello held at once (0: a quarter of --max-connections); one more evicts the "
                    "oldest");
  serve->add_option("--max-unwelcomed-per-address", serve_args.server.max_unwelcomed_per_address,
                    "connections without hello from one address; one more is closed before TLS");
  serve->add_option("--revocation-check-ms", serve_args.revocation_check_ms,
                    "how often the connected devices' standing is read from the store (revoked: cut)");
  serve->add_option("--enrol-failures-before-delay", serve_args.server.enrol_failures_before_delay,
                    "failed enrolments from one address before its attempts are slowed down");
  serve->add_option("--enrol-max-delay-ms", serve_args.enrol_max_delay_ms,
                    "longest wait imposed on an address after failed enrolments (doubling from 1 s)");
  serve->add_option("--io-threads", serve_args.server.io_threads, "threads for network I/O");
  serve->add_option("--worker-threads", serve_args.server.worker_threads, "threads for store work");
  serve->add_option("--max-clock-skew-ms", serve_args.service.max_clock_skew_ms,
                    "how far ahead of the server a device may stamp");
  serve->add_option("--max-push-changes", serve_args.service.max_push_changes, "largest push batch accepted");
  serve->add_option("--max-page-changes", serve_args.service.max_page_changes, "largest page sent on pull");
  serve->callback([&] {
    action = [&] {
      Status st = RunServe(global, serve_args);
      return st.ok() ? 0 : Fail(st);
    };
  });

  DeviceArgs device_args;
  CLI::App* device = app.add_subcommand("device", "enrolled devices")->require_subcommand(1);
  CLI::App* device_list = device->add_subcommand("list", "list devices (of one hub with --hub)");
  device_list->add_option("--hub", device_args.hub, "the hub id");
  device_list->callback([&] { action = run(RunDeviceList, device_args); });
  CLI::App* device_revoke = device->add_subcommand("revoke", "revoke a device: refused and wiped at its next sync");
  device_revoke->add_option("--device", device_args.device, "the device id")->required();
  device_revoke->add_option("--hub", device_args.hub, "only if the device belongs to this hub");
  device_revoke->callback([&] { action = run(RunDeviceRevoke, device_args); });

  ConflictArgs conflict_args;
  AuditArgs audit_args;
  CLI::App* audit = app.add_subcommand("audit", "a record's whole history from the audit trail");
  audit->add_option("--record", audit_args.record, "the record id")->required();
  audit->callback([&] { action = run(RunAudit, audit_args); });

  CLI::App* conflicts = app.add_subcommand("conflicts", "conflict records of a hub")->require_subcommand(1);
  CLI::App* conflicts_list = conflicts->add_subcommand("list", "list open conflicts (all with --all)");
  conflicts_list->add_option("--hub", conflict_args.hub, "the hub id")->required();
  conflicts_list->add_flag("--all", conflict_args.all, "include resolved conflicts");
  conflicts_list->callback([&] { action = run(RunConflictsList, conflict_args); });
  CLI::App* conflicts_resolve = conflicts->add_subcommand("resolve", "resolve a conflict; every device receives it");
  conflicts_resolve->add_option("--hub", conflict_args.hub, "the hub id")->required();
  conflicts_resolve->add_option("--conflict", conflict_args.conflict, "the conflict id")->required();
  conflicts_resolve->add_option("--keep", conflict_args.keep, "winner or loser")->required();
  conflicts_resolve->add_option("--by", conflict_args.by, "the person resolving it")->required();
  conflicts_resolve->callback([&] { action = run(RunConflictsResolve, conflict_args); });

  CopyArgs copy_args;
  CLI::App* store = app.add_subcommand("store", "the store as a whole")->require_subcommand(1);
  CLI::App* store_copy =
      store->add_subcommand("copy", "copy a whole store into a new, empty one (e.g. SQLite to PostgreSQL)");
  store_copy->add_option("--from", copy_args.from,
                         "the store to copy: PATH, sqlite:PATH or postgresql://... (default: --data's store)");
  store_copy->add_option("--to", copy_args.to, "the new store: PATH, sqlite:PATH or postgresql://...")->required();
  store_copy->add_flag("--switch", copy_args.switch_store,
                       "then make --to the store of the deployment in --data (its commands use it from now on)");
  store_copy->callback([&] { action = run(RunStoreCopy, copy_args); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "outreach-server: invalid_argument: " << UsageError(app, e) << "\n";
    return 2;
  }
  return action ? action() : 2;
}

}  // namespace
}  // namespace outreach::server

int main(int argc, char** argv) {
  return outreach::server::Main(argc, argv);
}
