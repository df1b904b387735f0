// The device's side of record validation: the records the rules read
// (common/validation/record_rules.h), read from the device's store.
#pragma once

#include "client/store/local_store.h"
#include "common/validation/record_rules.h"

namespace outreach::journey {

class StoreLookup : public validation::RecordLookup {
 public:
  explicit StoreLookup(client::LocalStore& store) : store_(store) {}

  Result<std::optional<v1::Record>> Get(const Uuid& id) override;
  Result<std::vector<v1::Record>> RecordsOfType(v1::RecordType type) override;
  // The store answers for a type's participant link, and for a session's bookings.
  Result<std::vector<v1::Record>> RecordsLinkedTo(v1::RecordType type, const google::protobuf::FieldDescriptor& field,
                                                  const Uuid& id) override;

 private:
  client::LocalStore& store_;
};

}  // namespace outreach::journey
