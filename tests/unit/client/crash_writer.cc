// The child of the crash test: writes edits in a loop through the library and prints the
// id of each edit as soon as its commit has returned, one line per edit, flushed.
// Usage: client_crash_writer DB_PATH
#include <cstdio>

#include "outreach/device.h"

int main(int argc, char** argv) {
  using namespace outreach;
  if (argc != 2) return 2;
  DeviceOptions options;
  options.path = argv[1];
  options.user_name = "crash";
  Result<std::unique_ptr<Device>> opened = Device::Open(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
    return 1;
  }
  Device& device = **opened;
  for (uint64_t i = 0;; ++i) {
    // Alternate a registration (record, projection, reference counter) and a case note
    // (record + link), so kills land in edits of both shapes.
    Result<v1::Record> r = Status::Internal("unset");
    if (i % 2 == 0) {
      v1::Participant p;
      p.set_given_name("Crash");
      p.set_family_name("Test " + std::to_string(i));
      p.set_date_of_birth("1990-01-01");
      r = device.RegisterParticipant(p);
    } else {
      Result<std::vector<v1::Record>> people = device.FindParticipants("crash");
      if (!people.ok() || people->empty()) return 1;
      v1::CaseNote n;
      n.set_participant_id(people->back().id());
      n.set_text("note " + std::to_string(i));
      r = device.AddCaseNote(n);
    }
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 1;
    }
    std::printf("%s\n", Uuid::FromBytes(r->id())->ToString().c_str());
    std::fflush(stdout);
  }
}
