// Programme reference data that several hubs share: a programme and the hubs delivering
// it, a partner organisation holding contracts in several hubs, an instrument of a
// programme (DOMAIN.md "How the programmes are organised").
//
// Every record lives in one hub's store and log, and a device pulls its own hub's log by
// one cursor. A shared record keeps that shape: it is held once, as a record of its home
// hub (the first hub it names, fixed when it is created), and every change to it is also
// logged in the log of each other hub it names, so each hub's devices pull it as they pull
// their own records, in order with them, and a link to it names one id everywhere (a
// referral in one hub and a consent in another name the same partner; a report counts
// referrals by partner across hubs). A hub named later receives the whole record as one
// change. A hub is never taken off a shared record (a partner that leaves keeps its
// history; its contract ends instead), so no hub's devices hold a record its log stops
// telling them about.
//
// Reads: a device reads a shared record when its hub is named, unless it is a kiosk
// (sign-in needs none of it). Writes: shared records are managed on the server
// (server/service/administration.h), which takes the lock of every hub it logs in.
#pragma once

#include <vector>

#include "common/record_registry.h"
#include "common/uuid.h"
#include "server/store/store.h"

namespace outreach::server {

// Whether records of `type` are shared by the hubs they name.
bool IsSharedReference(v1::RecordType type);

// The hubs `record` names (its home hub first when it was created), or empty for a record
// of one hub.
std::vector<Uuid> SharingHubs(const v1::Record& record);

// Whether `record` is shared with `hub_id` (names it).
bool SharedWith(const v1::Record& record, const Uuid& hub_id);

// Every live record of shared `type`, wherever it is held (each once); with a `hub_id`,
// only those shared with it. Reference data is small: every hub's records of the type
// are read.
Result<std::vector<StoredRecord>> ListSharedRecords(StoreTxn& txn, v1::RecordType type, const Uuid& hub_id = Uuid());

}  // namespace outreach::server
