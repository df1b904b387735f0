// The instrument every device holds from its first start, as reference data: "my-journey"
// version 1, the distance-travelled instrument. One definition for the device's store
// (client/store/schema.cc) and for whatever publishes it to a hub (the bench's seeding).
#pragma once

#include <cstdint>
#include <string>

#include "common/uuid.h"
#include "outreach/v1/records.pb.h"

namespace outreach {

// "my-journey" version 1: six domains, each scored 1 to 6.
v1::Instrument MyJourneyInstrument();
// Its record id, the same everywhere: InstrumentRecordId("my-journey", 1).
Uuid MyJourneyInstrumentId();
// The record id of version `version` of instrument `instrument_id`, the same everywhere:
// Uuid::Derive("instrument", "ID/VERSION"). One version is one record.
Uuid InstrumentRecordId(const std::string& instrument_id, uint32_t version);

}  // namespace outreach
