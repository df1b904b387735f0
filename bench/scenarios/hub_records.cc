#include "bench/scenarios/hub_records.h"
#include "tests/support/drama_numbers.h"

#include <algorithm>
#include <vector>

#include "common/instruments.h"

namespace outreach::bench {
namespace {

constexpr uint64_t kPeoplePerSession = 25;

v1::Participant Person(const std::string& prefix, uint64_t i) {
  v1::Participant p;
  p.set_reference(prefix + "-" + std::to_string(i + 1));
  p.set_given_name("Seeded");
  p.set_family_name("Person " + std::to_string(i));
  p.set_date_of_birth("19" + std::to_string(50 + i % 50) + "-0" + std::to_string(1 + i % 9) + "-1" +
                      std::to_string(i % 10));
  p.set_postcode("NG1 " + std::to_string(i % 10) + "AA");
  p.set_phone(testing::DramaPhoneNumberE164(i));
  p.set_status(v1::PARTICIPANT_STATUS_ACTIVE);
  p.set_registered_on("2026-11-01");
  p.set_adviser("Seeding Adviser");
  return p;
}

}  // namespace

void ForEachHubRecord(const HubShape& shape, const std::string& prefix, const Uuid& venue, const RecordSink& add) {
  std::vector<Uuid> people;
  people.reserve(shape.participants);
  for (uint64_t i = 0; i < shape.participants; ++i) {
    people.push_back(Uuid::NewV7());
    add(v1::RECORD_TYPE_PARTICIPANT, people.back(), Person(prefix, i));
  }
  const v1::Instrument journey = MyJourneyInstrument();  // what the hub's devices assess against
  uint64_t made = 0;
  uint64_t session_number = 0;
  while (made < shape.records && !people.empty()) {
    const Uuid session = Uuid::NewV7();
    v1::Session s;
    s.set_venue_id(venue.raw());
    s.set_kind(v1::SESSION_KIND_GROUP);
    s.set_title("Job club " + std::to_string(session_number));
    s.set_starts_at("2026-11-" + std::to_string(10 + session_number % 18) + "T10:00");
    s.set_duration_min(90);
    s.set_facilitator("Seeding Adviser");
    s.set_status(v1::SESSION_STATUS_SCHEDULED);
    add(v1::RECORD_TYPE_SESSION, session, s);
    // At most one mark per person per session (a mark's id is derived from the pair).
    const uint64_t size = std::min<uint64_t>(kPeoplePerSession, people.size());
    for (uint64_t k = 0; k < size && made < shape.records; ++k, ++made) {
      const Uuid& person = people[(session_number * size + k) % people.size()];
      if (made % 3 == 2) {
        v1::Assessment a;
        a.set_participant_id(person.raw());
        a.set_instrument_id(journey.instrument_id());
        a.set_instrument_version(journey.version());
        a.set_completed_on("2026-11-" + std::to_string(10 + session_number % 18));
        a.set_assessor("Seeding Adviser");
        // Every domain of the instrument, once, within its range.
        for (const v1::InstrumentDomain& domain : journey.domains()) {
          v1::DomainScore* d = a.add_scores();
          d->set_domain(domain.key());
          d->set_score(static_cast<int32_t>(domain.min_score() +
                                            (made + session_number) % (domain.max_score() - domain.min_score() + 1)));
        }
        add(v1::RECORD_TYPE_ASSESSMENT, Uuid::NewV7(), a);
      } else {
        v1::Attendance a;
        a.set_session_id(session.raw());
        a.set_participant_id(person.raw());
        a.set_status(made % 7 == 0 ? v1::ATTENDANCE_STATUS_LATE : v1::ATTENDANCE_STATUS_ATTENDED);
        a.set_marked_by(v1::MARKED_BY_ADVISER);
        a.set_marked_at(s.starts_at());
        add(v1::RECORD_TYPE_ATTENDANCE, Uuid::DeriveRegisterRow("attendance", session.raw(), person.raw()), a);
      }
    }
    ++session_number;
  }
}

}  // namespace outreach::bench
