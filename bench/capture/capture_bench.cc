// capture_bench [N]: the cost of one durable edit.
//
// Library: N attendance marks through outreach::Device::MarkAttendance, each its own
// transaction (record, field versions, projection, change log, outbox, clock), on a
// file in WAL mode with synchronous=FULL.
// Plain:   N inserts of the same attendance row (same columns, serialised the same way)
// into one table of a file with the same settings (WAL, synchronous=FULL, foreign keys),
// each its own BEGIN/INSERT/COMMIT with a prepared statement.
// The two run interleaved, one edit each in turn, so both meet the same disk. Prints the
// mean and median per edit of each and the ratio library / plain (goal <= 2x).
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "outreach/device.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace outreach;

struct Figures {
  double mean_us = 0;
  double median_us = 0;
};

Figures Summarise(std::vector<double> us) {
  Figures f;
  for (double x : us) f.mean_us += x;
  f.mean_us /= static_cast<double>(us.size());
  std::sort(us.begin(), us.end());
  f.median_us = us[us.size() / 2];
  return f;
}

void Die(const std::string& what) {
  std::fprintf(stderr, "capture_bench: %s\n", what.c_str());
  std::exit(1);
}

v1::Attendance MarkOf(const std::string& session, const std::string& participant) {
  v1::Attendance a;
  a.set_session_id(session);
  a.set_participant_id(participant);
  a.set_status(v1::ATTENDANCE_STATUS_ATTENDED);
  a.set_marked_by(v1::MARKED_BY_ADVISER);
  a.set_marked_at("2026-11-23T10:00");
  return a;
}

// The library side: a device with one session and n registered people.
struct LibrarySide {
  std::unique_ptr<Device> device;
  std::string session;
  std::vector<std::string> people;

  LibrarySide(const std::string& path, int n) {
    DeviceOptions options;
    options.path = path;
    options.user_name = "bench";
    Result<std::unique_ptr<Device>> opened = Device::Open(options);
    if (!opened.ok()) Die(opened.status().ToString());
    device = std::move(opened).value();
    v1::Session s;
    s.set_venue_id(Uuid::NewV7().raw());
    s.set_kind(v1::SESSION_KIND_GROUP);
    s.set_title("Job club");
    s.set_starts_at("2026-11-23T10:00");
    Result<v1::Record> created = device->CreateSession(s);
    if (!created.ok()) Die(created.status().ToString());
    session = created->id();
    for (int i = 0; i < n; ++i) {
      v1::Participant p;
      p.set_given_name("Bench");
      p.set_family_name("Person " + std::to_string(i));
      p.set_date_of_birth("1990-01-01");
      p.set_registered_on("2026-11-02");  // registered before the session they are marked at
      Result<v1::Record> r = device->RegisterParticipant(p);
      if (!r.ok()) Die(r.status().ToString());
      people.push_back(r->id());
    }
  }

  // One mark through the library, timed.
  double Mark(int i) {
    v1::Attendance a = MarkOf(session, people[static_cast<size_t>(i)]);
    auto t0 = Clock::now();
    Result<v1::Record> r = device->MarkAttendance(a);
    auto t1 = Clock::now();
    if (!r.ok()) Die(r.status().ToString());
    return std::chrono::duration<double, std::micro>(t1 - t0).count();
  }
};

// The plain side: one table, the same row, the same pragmas, a prepared insert.
struct PlainSide {
  sqlite3* db = nullptr;
  sqlite3_stmt* insert = nullptr;
  std::string session = Uuid::NewV7().raw();

  explicit PlainSide(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) Die("cannot open " + path);
    Exec("PRAGMA journal_mode=WAL");
    Exec("PRAGMA synchronous=FULL");
    Exec("PRAGMA foreign_keys=ON");
    Exec(
        "CREATE TABLE attendance(id BLOB PRIMARY KEY, session_id BLOB NOT NULL, participant_id BLOB NOT NULL, "
        "body BLOB NOT NULL)");
    if (sqlite3_prepare_v2(db, "INSERT INTO attendance(id, session_id, participant_id, body) VALUES (?, ?, ?, ?)", -1,
                           &insert, nullptr) != SQLITE_OK) {
      Die(sqlite3_errmsg(db));
    }
  }
  ~PlainSide() {
    sqlite3_finalize(insert);
    sqlite3_close(db);
  }
  void Exec(const char* sql) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) Die(sqlite3_errmsg(db));
  }

  // One insert in its own transaction, timed (serialising the row included).
  double Mark() {
    const std::string person = Uuid::NewV7().raw();
    v1::Attendance a = MarkOf(session, person);
    auto t0 = Clock::now();
    const std::string id = Uuid::DeriveRegisterRow("attendance", session, person).raw();
    const std::string body = a.SerializeAsString();
    Exec("BEGIN");
    sqlite3_bind_blob(insert, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
    sqlite3_bind_blob(insert, 2, session.data(), static_cast<int>(session.size()), SQLITE_STATIC);
    sqlite3_bind_blob(insert, 3, person.data(), static_cast<int>(person.size()), SQLITE_STATIC);
    sqlite3_bind_blob(insert, 4, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
    if (sqlite3_step(insert) != SQLITE_DONE) Die(sqlite3_errmsg(db));
    sqlite3_reset(insert);
    Exec("COMMIT");
    auto t1 = Clock::now();
    return std::chrono::duration<double, std::micro>(t1 - t0).count();
  }
};

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::max(1, std::atoi(argv[1])) : 300;
  std::string tmpl = (std::filesystem::temp_directory_path() / "capture-bench-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) Die("mkdtemp failed");
  std::vector<double> plain_us, library_us;
  {
    PlainSide plain(tmpl + "/plain.db");
    LibrarySide library(tmpl + "/device.db", n);
    // Interleaved, so both sides meet the same disk (and the same neighbours on it).
    for (int i = 0; i < n; ++i) {
      plain_us.push_back(plain.Mark());
      library_us.push_back(library.Mark(i));
    }
  }
  std::filesystem::remove_all(tmpl);
  Figures plain = Summarise(plain_us);
  Figures library = Summarise(library_us);
  std::printf("capture benchmark: %d durable attendance marks, each its own transaction (WAL, synchronous=FULL)\n", n);
  std::printf("  plain SQLite insert : mean %8.1f us  median %8.1f us\n", plain.mean_us, plain.median_us);
  std::printf("  liboutreach mark    : mean %8.1f us  median %8.1f us\n", library.mean_us, library.median_us);
  std::printf("  ratio library/plain : mean %.2fx  median %.2fx  (goal <= 2x)\n", library.mean_us / plain.mean_us,
              library.median_us / plain.median_us);
  return 0;
}
