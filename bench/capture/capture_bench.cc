// capture_bench [N]: the cost of one durable edit.
//
// Library: N attendance marks through outreach::Device::MarkAttendance, each its own
// transaction (record, field versions, projection, change log, outbox, clock), on a
// file in WAL mode with synchronous=FULL.
// Plain:   N inserts of the same attendance row (same columns, serialised the same way)
// into one table of a file with the same settings (WAL, synchronous=FULL, foreign keys),
// each its own BEGIN/INSERT/COMMIT with a prepared statement.
// Prints the mean and median per edit of each and the ratio library / plain (goal <= 2).
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

v1::Attendance Mark(const std::string& session, const std::string& participant) {
  v1::Attendance a;
  a.set_session_id(session);
  a.set_participant_id(participant);
  a.set_status(v1::ATTENDANCE_STATUS_ATTENDED);
  a.set_marked_by(v1::MARKED_BY_ADVISER);
  a.set_marked_at("2026-11-23T10:00");
  return a;
}

Figures Library(const std::string& path, int n) {
  DeviceOptions options;
  options.path = path;
  options.user_name = "bench";
  Result<std::unique_ptr<Device>> opened = Device::Open(options);
  if (!opened.ok()) Die(opened.status().ToString());
  Device& device = **opened;
  v1::Session s;
  s.set_venue_id(Uuid::NewV7().raw());
  s.set_kind(v1::SESSION_KIND_GROUP);
  s.set_title("Job club");
  s.set_starts_at("2026-11-23T10:00");
  Result<v1::Record> session = device.CreateSession(s);
  if (!session.ok()) Die(session.status().ToString());
  std::vector<std::string> people;
  for (int i = 0; i < n; ++i) {
    v1::Participant p;
    p.set_given_name("Bench");
    p.set_family_name("Person " + std::to_string(i));
    p.set_date_of_birth("1990-01-01");
    Result<v1::Record> r = device.RegisterParticipant(p);
    if (!r.ok()) Die(r.status().ToString());
    people.push_back(r->id());
  }
  std::vector<double> us;
  for (const std::string& person : people) {
    v1::Attendance a = Mark(session->id(), person);
    auto t0 = Clock::now();
    Result<v1::Record> r = device.MarkAttendance(a);
    auto t1 = Clock::now();
    if (!r.ok()) Die(r.status().ToString());
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  return Summarise(us);
}

Figures Plain(const std::string& path, int n) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) Die("cannot open " + path);
  auto exec = [&](const char* sql) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) Die(sqlite3_errmsg(db));
  };
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=FULL");
  exec("PRAGMA foreign_keys=ON");
  exec(
      "CREATE TABLE attendance(id BLOB PRIMARY KEY, session_id BLOB NOT NULL, participant_id BLOB NOT NULL, "
      "body BLOB NOT NULL)");
  sqlite3_stmt* insert = nullptr;
  if (sqlite3_prepare_v2(db, "INSERT INTO attendance(id, session_id, participant_id, body) VALUES (?, ?, ?, ?)", -1,
                         &insert, nullptr) != SQLITE_OK) {
    Die(sqlite3_errmsg(db));
  }
  const std::string session = Uuid::NewV7().raw();
  std::vector<double> us;
  for (int i = 0; i < n; ++i) {
    const std::string person = Uuid::NewV7().raw();
    v1::Attendance a = Mark(session, person);
    auto t0 = Clock::now();
    const std::string id = Uuid::Derive("attendance", session + person).raw();
    const std::string body = a.SerializeAsString();
    exec("BEGIN");
    sqlite3_bind_blob(insert, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
    sqlite3_bind_blob(insert, 2, session.data(), static_cast<int>(session.size()), SQLITE_STATIC);
    sqlite3_bind_blob(insert, 3, person.data(), static_cast<int>(person.size()), SQLITE_STATIC);
    sqlite3_bind_blob(insert, 4, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
    if (sqlite3_step(insert) != SQLITE_DONE) Die(sqlite3_errmsg(db));
    sqlite3_reset(insert);
    exec("COMMIT");
    auto t1 = Clock::now();
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  sqlite3_finalize(insert);
  sqlite3_close(db);
  return Summarise(us);
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::max(1, std::atoi(argv[1])) : 300;
  std::string tmpl = (std::filesystem::temp_directory_path() / "capture-bench-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) Die("mkdtemp failed");
  Figures plain = Plain(tmpl + "/plain.db", n);
  Figures library = Library(tmpl + "/device.db", n);
  std::filesystem::remove_all(tmpl);
  std::printf("capture benchmark: %d durable attendance marks, each its own transaction (WAL, synchronous=FULL)\n", n);
  std::printf("  plain SQLite insert : mean %8.1f us  median %8.1f us\n", plain.mean_us, plain.median_us);
  std::printf("  liboutreach mark    : mean %8.1f us  median %8.1f us\n", library.mean_us, library.median_us);
  std::printf("  ratio library/plain : mean %.2fx  median %.2fx  (goal <= 2x)\n", library.mean_us / plain.mean_us,
              library.median_us / plain.median_us);
  return 0;
}
