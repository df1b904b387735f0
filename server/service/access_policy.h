// Who may write and read what, checked per change (DESIGN.md, "The server").
//
// Writes (CheckWrite): a refused change is reported alone; the rest of its batch goes on.
// - restricted case notes never leave the device: always refused;
// - health case notes only from health workers;
// - a kiosk writes only attendance (marked by the kiosk, for a session at its venue)
//   and creates enquiries;
// - reference data (hub, venue, instrument) only from managers; reference data several
//   hubs share (programme, partner: shared_reference.h) never from a device;
// - erasure and duplicate-review decisions only from managers;
// - conflict records are created by the server; devices only resolve them.
// Reads (FilterForRead): shared reference data to the devices of the hubs it names (not
// kiosks); health notes only to health workers; a kiosk sees its hub's
// record (its time zone says what "today" is there), its venue's sessions, their
// bookings and attendance, and of the participants booked into, attending or registered
// at its venue only reference and names; nothing else.
#pragma once

#include <google/protobuf/message.h>

#include <optional>
#include <string>
#include <string_view>

#include "common/record_registry.h"
#include "server/service/sync_service.h"
#include "server/store/store.h"

namespace outreach::server {

// The lookup key (StoredRecord::keys) that a booking or attendance record carries to
// say "this participant comes to this venue", so a kiosk's read check is one index probe.
std::string VenueParticipantKey(const Uuid& venue_id, const Uuid& participant_id);
inline constexpr std::string_view kVenueParticipantPrefix = "venue-participant:";

// Ok, or kPermissionDenied naming the field and a reason the person can read.
// `existing` is the record's current state (nullptr for a create); `proposed` is the
// body with the change applied. Besides the rules above, every link the change sets
// (RecordTypeInfo::links) must name a record that is available to the device (see
// NotAvailable); fields naming who acted must name the device's person; enum values
// must be ones this server knows. Store failures come back as their own status.
Status CheckWrite(StoreTxn& txn, const DeviceContext& device, const RecordTypeInfo& info, const v1::Change& change,
                  const StoredRecord* existing, const google::protobuf::Message& proposed);

// Whether `device` may read `record` as it stands: a record of its hub, not erased, that
// its role sees (not a restricted note; a health note only by a health worker; for a
// kiosk only its hub's record, its venue, its venue's sessions, their bookings and attendance, and the
// participants who come to its venue). The one answer for reads and links.
Result<bool> MayRead(StoreTxn& txn, const DeviceContext& device, const StoredRecord& record);

// The refusal for a record a device may not see or write, whatever the reason (missing,
// in another hub, erased, of another type, or hidden from its role), so that a refusal
// never tells whether the id exists elsewhere.
Status NotAvailable(const std::string& field, const std::string& id);

// Ok when record `id` exists, is of `type` (UNSPECIFIED: any type), is not erased and
// `device` may read it; NotAvailable(field, id) otherwise. The check every link gets.
Status CheckAvailable(StoreTxn& txn, const DeviceContext& device, const Uuid& id, v1::RecordType type,
                      const std::string& field);

// The logged `change` as `device` may see it: unchanged, reduced to the fields it may
// see, or nullopt when it may not see it at all.
Result<std::optional<v1::Change>> FilterForRead(StoreTxn& txn, const DeviceContext& device, v1::Change change);

// Whether FilterForRead passes every change of `type` with a valid record id to
// `device` unchanged, without reading the store: true for most entries (not notes,
// conflicts, or anything a kiosk reads).
bool ReadPassesUnfiltered(const DeviceContext& device, v1::RecordType type);

}  // namespace outreach::server
