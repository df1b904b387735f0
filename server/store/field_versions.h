// The stored form of a record's field versions (StoredRecord::versions): per field, in
// field-number order, u32 field number and u64 HLC (both little-endian), then the 16
// bytes of the origin device. The same bytes as the SQLite store's `versions` column,
// so a copied store keeps them bit for bit.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/status.h"
#include "server/store/store.h"

namespace outreach::server {

std::string EncodeFieldVersions(const std::map<uint32_t, FieldVersion>& versions);
// kDataLoss if `blob` is not a whole number of entries.
Result<std::map<uint32_t, FieldVersion>> DecodeFieldVersions(std::string_view blob);

}  // namespace outreach::server
