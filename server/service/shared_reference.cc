#include "server/service/shared_reference.h"

#include <algorithm>

namespace outreach::server {

bool IsSharedReference(v1::RecordType type) {
  return type == v1::RECORD_TYPE_PARTNER_ORGANISATION;
}

std::vector<Uuid> SharingHubs(const v1::Record& record) {
  std::vector<Uuid> hubs;
  if (!record.has_partner_organisation()) return hubs;
  for (const std::string& raw : record.partner_organisation().hub_ids()) {
    Result<Uuid> hub = Uuid::FromBytes(raw);
    if (hub.ok() && std::find(hubs.begin(), hubs.end(), *hub) == hubs.end()) hubs.push_back(*hub);
  }
  return hubs;
}

bool SharedWith(const v1::Record& record, const Uuid& hub_id) {
  if (!record.has_partner_organisation()) return false;
  const auto& hubs = record.partner_organisation().hub_ids();
  return std::find(hubs.begin(), hubs.end(), hub_id.raw()) != hubs.end();
}

}  // namespace outreach::server
