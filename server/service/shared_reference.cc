#include "server/service/shared_reference.h"

#include <algorithm>

namespace outreach::server {
namespace {

// The hubs a shared record names; nullptr for a record of another type.
const google::protobuf::RepeatedPtrField<std::string>* HubIdsOf(const v1::Record& record) {
  if (record.has_partner_organisation()) return &record.partner_organisation().hub_ids();
  if (record.has_programme()) return &record.programme().hub_ids();
  if (record.has_instrument()) return &record.instrument().hub_ids();
  return nullptr;
}

}  // namespace

bool IsSharedReference(v1::RecordType type) {
  return type == v1::RECORD_TYPE_PARTNER_ORGANISATION || type == v1::RECORD_TYPE_PROGRAMME ||
         type == v1::RECORD_TYPE_INSTRUMENT;
}

std::vector<Uuid> SharingHubs(const v1::Record& record) {
  std::vector<Uuid> hubs;
  const auto* named = HubIdsOf(record);
  if (named == nullptr) return hubs;
  for (const std::string& raw : *named) {
    Result<Uuid> hub = Uuid::FromBytes(raw);
    if (hub.ok() && std::find(hubs.begin(), hubs.end(), *hub) == hubs.end()) hubs.push_back(*hub);
  }
  return hubs;
}

bool SharedWith(const v1::Record& record, const Uuid& hub_id) {
  const auto* named = HubIdsOf(record);
  return named != nullptr && std::find(named->begin(), named->end(), hub_id.raw()) != named->end();
}

Result<std::vector<StoredRecord>> ListSharedRecords(StoreTxn& txn, v1::RecordType type, const Uuid& hub_id) {
  std::vector<StoredRecord> out;
  if (type == v1::RECORD_TYPE_PROGRAMME && !hub_id.is_nil()) {
    // A hub delivers one programme, which its Hub record names: two reads, not a scan.
    auto hub = txn.GetRecord(hub_id);
    if (!hub.ok()) return hub.status();
    if (!hub->has_value() || !(*hub)->record.has_hub() || (*hub)->record.hub().programme_id().empty()) return out;
    Result<Uuid> programme_id = Uuid::FromBytes((*hub)->record.hub().programme_id());
    if (!programme_id.ok()) return out;
    auto programme = txn.GetRecord(*programme_id);
    if (!programme.ok()) return programme.status();
    if (programme->has_value() && !(*programme)->record.deleted() && !(*programme)->record.erased() &&
        SharedWith((*programme)->record, hub_id)) {
      out.push_back(std::move(**programme));
    }
    return out;
  }
  auto hubs = txn.ListHubs();
  if (!hubs.ok()) return hubs.status();
  for (const HubRow& hub : *hubs) {
    auto held = txn.ListRecordsByType(hub.hub_id, type);
    if (!held.ok()) return held.status();
    for (StoredRecord& r : *held) {
      if (r.record.deleted() || r.record.erased()) continue;
      if (!hub_id.is_nil() && !SharedWith(r.record, hub_id)) continue;
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace outreach::server
