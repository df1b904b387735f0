#include "client/journey/store_lookup.h"

namespace outreach::journey {

Result<std::optional<v1::Record>> StoreLookup::Get(const Uuid& id) {
  return store_.Get(id);
}

Result<std::vector<v1::Record>> StoreLookup::RecordsOfType(v1::RecordType type) {
  return store_.RecordsOfType(type);
}

Result<std::vector<v1::Record>> StoreLookup::RecordsLinkedTo(v1::RecordType type,
                                                             const google::protobuf::FieldDescriptor& field,
                                                             const Uuid& id) {
  const RecordTypeInfo* info = FindRecordType(type);
  if (info != nullptr && info->participant_field == &field) return store_.ParticipantRecords(id, type);
  if (type == v1::RECORD_TYPE_BOOKING && field.name() == "session_id") return store_.BookingsOf(id);
  return Status::Internal("the device's store cannot list " + std::string(info ? info->name : "records") + " by " +
                          field.name());
}

}  // namespace outreach::journey
