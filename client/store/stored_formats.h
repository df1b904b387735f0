// Schema version 5: the values a device stored before their formats were checked (phone
// numbers, postcodes, e-mail addresses, NI numbers: common/validation/formats.h), put in
// their normal form so that this device, every other device and the server hold one form.
//
// - A queued change (not yet pushed) is rewritten in place, and the record's field with
//   it: the server has never seen the value, and would refuse a new value not in normal
//   form.
// - A value the server already holds is normalised by an ordinary edit, stamped, based
//   on the held version and queued in the outbox like any other: the server takes it and
//   every other device pulls it. Devices that queue the same normalisation converge on it:
//   the server applies a value identical to the one it holds without a conflict.
//   Only where the device's role may change the record (not a kiosk; reference data such
//   as a venue only on a manager's device, as the server's access policy allows): elsewhere
//   the held value stays until a device that may change it sends its normal form.
// - A value that does not parse is kept as it is (Device::FormatProblems lists it, and
//   `outreach validation check`), for a person to correct.
#pragma once

#include <string>

#include "common/hlc.h"
#include "common/sqlite/database.h"
#include "common/status.h"

namespace outreach::client::store {

// Runs inside the migration's transaction. `clock` is the store's clock (restored here
// from the file); `fallback_author` the author of local changes until enrolment.
Status NormaliseStoredFormats(sqlite::Database& db, HybridClock& clock, const std::string& fallback_author);

}  // namespace outreach::client::store
