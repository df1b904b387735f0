#include "common/instruments.h"

#include <utility>

namespace outreach {

v1::Instrument MyJourneyInstrument() {
  v1::Instrument instrument;
  instrument.set_instrument_id("my-journey");
  instrument.set_version(1);
  instrument.set_name("My Journey");
  const std::pair<const char*, const char*> domains[] = {
      {"communication", "Communication"},
      {"confidence", "Confidence"},
      {"managing_feelings", "Managing feelings"},
      {"reliability", "Reliability"},
      {"setting_and_achieving_goals", "Setting and achieving goals"},
      {"working_with_others", "Working with others"},
  };
  for (const auto& [key, label] : domains) {
    v1::InstrumentDomain* d = instrument.add_domains();
    d->set_key(key);
    d->set_label(label);
    d->set_min_score(1);
    d->set_max_score(6);
  }
  return instrument;
}

Uuid MyJourneyInstrumentId() {
  return InstrumentRecordId("my-journey", 1);
}

Uuid InstrumentRecordId(const std::string& instrument_id, uint32_t version) {
  return Uuid::Derive("instrument", instrument_id + "/" + std::to_string(version));
}

}  // namespace outreach
