// The instrument every device holds from its first start, as reference data: "my-journey"
// version 1, the distance-travelled instrument. One definition for the device's store
// (client/store/schema.cc) and for whatever publishes it to a hub (the bench's seeding).
#pragma once

#include "common/uuid.h"
#include "outreach/v1/records.pb.h"

namespace outreach {

// "my-journey" version 1: six domains, each scored 1 to 6.
v1::Instrument MyJourneyInstrument();
// Its record id, the same everywhere: Uuid::Derive("instrument", "my-journey/1").
Uuid MyJourneyInstrumentId();

}  // namespace outreach
