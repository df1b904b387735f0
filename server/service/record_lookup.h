// The server's side of record validation (common/validation/record_rules.h): the records
// a pushed body's rules read, read from the store inside the push's transaction, as the
// writing device may see them. A record of another hub, an erased one, or one the
// device's role may not read (access_policy.h MayRead) reads as absent, so a rule never
// tells a device about a record it could not pull, and the device and the server answer
// a rule from the same records.
#pragma once

#include <string>

#include "common/validation/record_rules.h"
#include "server/service/sync_service.h"
#include "server/store/store.h"

namespace outreach::server {

// The lookup key a record carries for a link that validation lists records by (the
// bookings of a session): RecordsLinkedTo answers it by one index probe (FindRecordsByKey).
// Empty when `type`'s `field` is not such a link. The participant link needs no key: the
// store indexes it (FindRecordsByParticipant).
std::string ListedLinkKey(v1::RecordType type, const google::protobuf::FieldDescriptor& field, const Uuid& target);

class StoreRecordLookup : public validation::RecordLookup {
 public:
  // `txn` and `device` must outlive the lookup.
  StoreRecordLookup(StoreTxn& txn, const DeviceContext& device) : txn_(txn), device_(device) {}

  Result<std::optional<v1::Record>> Get(const Uuid& id) override;
  // Instruments include "my-journey" v1, which every device holds built in
  // (common/instruments.h), unless the hub holds its own record of it.
  Result<std::vector<v1::Record>> RecordsOfType(v1::RecordType type) override;
  // The type's participant link, or a link with a ListedLinkKey; kInternal otherwise.
  Result<std::vector<v1::Record>> RecordsLinkedTo(v1::RecordType type, const google::protobuf::FieldDescriptor& field,
                                                  const Uuid& id) override;

 private:
  // The live records of `found` of `type` the device may read.
  Result<std::vector<v1::Record>> Readable(std::vector<StoredRecord> found, v1::RecordType type);

  StoreTxn& txn_;
  const DeviceContext& device_;
};

}  // namespace outreach::server
