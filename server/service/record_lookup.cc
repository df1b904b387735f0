#include "server/service/record_lookup.h"

#include <algorithm>

#include "common/instruments.h"
#include "server/service/access_policy.h"
#include "server/service/shared_reference.h"

namespace outreach::server {

std::string ListedLinkKey(v1::RecordType type, const google::protobuf::FieldDescriptor& field, const Uuid& target) {
  // The links the rules list by, besides the participant link (rules_table.cc
  // PlaceOnTheSession). Keyed by type and field number, so no two links share a key.
  if (type != v1::RECORD_TYPE_BOOKING || field.containing_type() != v1::Booking::descriptor() ||
      field.name() != "session_id") {
    return {};
  }
  return "linked:" + std::to_string(type) + ":" + std::to_string(field.number()) + ":" + target.ToString();
}

Result<std::optional<v1::Record>> StoreRecordLookup::Get(const Uuid& id) {
  Result<std::optional<StoredRecord>> stored = txn_.GetRecord(id);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value() || (*stored)->record.erased()) return std::optional<v1::Record>();
  Result<bool> readable = MayRead(txn_, device_, **stored);
  if (!readable.ok()) return readable.status();
  if (!*readable) return std::optional<v1::Record>();
  return std::optional<v1::Record>(std::move((*stored)->record));
}

Result<std::vector<v1::Record>> StoreRecordLookup::Readable(std::vector<StoredRecord> found, v1::RecordType type) {
  std::vector<v1::Record> out;
  for (StoredRecord& r : found) {
    if (r.record.type() != type || r.record.deleted() || r.record.erased()) continue;
    Result<bool> readable = MayRead(txn_, device_, r);
    if (!readable.ok()) return readable.status();
    if (*readable) out.push_back(std::move(r.record));
  }
  return out;
}

Result<std::vector<v1::Record>> StoreRecordLookup::RecordsOfType(v1::RecordType type) {
  // A shared record is held in its home hub, which may be another (shared_reference.h).
  Result<std::vector<StoredRecord>> found = IsSharedReference(type) ? ListSharedRecords(txn_, type, device_.hub_id)
                                                                    : txn_.ListRecordsByType(device_.hub_id, type);
  if (!found.ok()) return found.status();
  Result<std::vector<v1::Record>> readable = Readable(std::move(*found), type);
  if (!readable.ok() || type != v1::RECORD_TYPE_INSTRUMENT) return readable;
  // The instrument every device holds from its first start (client/store/schema.cc), held
  // here too unless the hub publishes its own copy: the device and the server check an
  // assessment against the same instrument.
  const std::string builtin = MyJourneyInstrumentId().raw();
  if (std::none_of(readable->begin(), readable->end(), [&](const v1::Record& r) { return r.id() == builtin; })) {
    v1::Record journey;
    journey.set_id(builtin);
    journey.set_type(v1::RECORD_TYPE_INSTRUMENT);
    *journey.mutable_instrument() = MyJourneyInstrument();
    readable->push_back(std::move(journey));
  }
  return readable;
}

Result<std::vector<v1::Record>> StoreRecordLookup::RecordsLinkedTo(v1::RecordType type,
                                                                   const google::protobuf::FieldDescriptor& field,
                                                                   const Uuid& id) {
  const RecordTypeInfo* info = FindRecordType(type);
  if (info != nullptr && info->participant_field == &field) {
    Result<std::vector<StoredRecord>> found = txn_.FindRecordsByParticipant(device_.hub_id, id);
    if (!found.ok()) return found.status();
    return Readable(std::move(*found), type);
  }
  const std::string key = ListedLinkKey(type, field, id);
  if (key.empty()) {
    return Status::Internal("the server cannot list " + std::string(info ? info->name : "records") + " by " +
                            field.name());
  }
  Result<std::vector<StoredRecord>> found = txn_.FindRecordsByKey(device_.hub_id, key);
  if (!found.ok()) return found.status();
  return Readable(std::move(*found), type);
}

}  // namespace outreach::server
