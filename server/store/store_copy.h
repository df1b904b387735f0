// CopyStore: moves a whole deployment's data from one store to another, e.g. a hub
// outgrowing its SQLite file onto PostgreSQL (`outreach-server store copy`), or back.
//
// Every row is copied through the Store interface, so any pair of implementations works:
// hubs, devices, enrolment codes, the derived records (with field versions and lookup
// keys), each hub's change log (re-appended in order: the target must hand out the same
// server sequence numbers, or the copy fails with kDataLoss), the dedupe ledger and the
// audit trail. Devices keep their cursors and credentials: after the copy they sync with
// a server on the new store as if nothing had happened.
//
// The copy reads the source in one transaction and writes the target in one transaction:
// a failure or crash part-way leaves the target as it was. The target must be empty (no
// hubs): copying into a store in use is refused (kFailedPrecondition, field "to").
// Servers on the source should be stopped first; on SQLite the read transaction blocks
// their writes anyway until the copy ends.
#pragma once

#include <cstdint>

#include "common/status.h"
#include "server/store/store.h"

namespace outreach::server {

struct CopyReport {
  uint64_t hubs = 0;
  uint64_t devices = 0;
  uint64_t enrolment_codes = 0;
  uint64_t records = 0;
  uint64_t changes = 0;
  uint64_t ledger_entries = 0;
  uint64_t audit_rows = 0;
};

Result<CopyReport> CopyStore(Store& from, Store& to);

}  // namespace outreach::server
