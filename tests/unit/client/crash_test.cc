// Crash test: a child process writes edits through the library in a loop and reports each
// committed edit; it is SIGKILLed at random moments. After every kill the file passes
// PRAGMA integrity_check, every reported edit is present with its change-log row and
// outbox entry, and no edit is half-present.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <set>
#include <sstream>

#include "client/journey/device_internals.h"
#include "tests/unit/client/device_test.h"

namespace outreach::testing {
namespace {

// Runs the writer until `run_ms` after its first reported edit (so the kill lands while it
// is writing, however slow its start, e.g. under sanitizers), kills it, and returns the
// ids it reported.
std::vector<std::string> RunAndKill(const std::string& db, int run_ms) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execl(OUTREACH_CRASH_WRITER, OUTREACH_CRASH_WRITER, db.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto deadline = give_up;
  char buf[4096];
  while (std::chrono::steady_clock::now() < std::min(deadline, give_up)) {
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, 5) > 0) {
      ssize_t n = read(fds[0], buf, sizeof buf);
      if (n <= 0) break;  // the child died on its own
      if (out.empty()) deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(run_ms);
      out.append(buf, static_cast<size_t>(n));
    }
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status)) << "the writer stopped by itself with status " << status;
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  std::vector<std::string> ids;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (!lines.eof()) ids.push_back(line);  // a line cut by the kill has no newline: not reported
  }
  return ids;
}

std::string Hex(const std::string& uuid_text) {
  std::string hex;
  for (char c : uuid_text)
    if (c != '-') hex.push_back(c);
  return hex;
}

TEST(CrashTest, EveryReportedEditSurvivesSigkillWithItsOutboxEntry) {
  TempDir dir;
  const std::string db = dir.path() + "/device.db";
  std::mt19937 rng(std::random_device{}());
  std::set<std::string> reported;
  for (int round = 0; round < 6; ++round) {
    const int run_ms = std::uniform_int_distribution<int>(50, 500)(rng);
    std::vector<std::string> ids = RunAndKill(db, run_ms);
    ASSERT_FALSE(ids.empty()) << "round " << round << ": the writer reported no edit";
    reported.insert(ids.begin(), ids.end());

    ASSERT_EQ(QueryOne(db, "PRAGMA integrity_check"), "ok") << "round " << round;
    ASSERT_EQ(QueryOne(db, "PRAGMA foreign_key_check"), "") << "round " << round;
    // Every reported edit: its record, its change-log row and its outbox entry.
    std::vector<std::string> complete =
        QueryColumn(db,
                    "SELECT r.id FROM record r JOIN change_log c ON c.record_id = r.id JOIN outbox o ON o.device_seq = "
                    "c.device_seq");
    std::set<std::string> present(complete.begin(), complete.end());
    for (const std::string& id : reported) ASSERT_EQ(present.count(Hex(id)), 1u) << "round " << round << ": " << id;
    // No edit half-present: every record has its change and outbox entry and vice
    // versa, every participant its projection, and device_seq has no gaps.
    EXPECT_EQ(QueryOne(db,
                       "SELECT count(*) FROM record r WHERE type <> 54 AND NOT EXISTS (SELECT 1 FROM change_log "
                       "c WHERE c.record_id = r.id)"),
              "0");
    EXPECT_EQ(QueryOne(db,
                       "SELECT count(*) FROM change_log c WHERE NOT EXISTS (SELECT 1 FROM record r WHERE r.id = "
                       "c.record_id) OR NOT EXISTS (SELECT 1 FROM outbox o WHERE o.device_seq = c.device_seq)"),
              "0");
    EXPECT_EQ(QueryOne(db, "SELECT count(*) FROM record WHERE type = 10"),
              QueryOne(db, "SELECT count(*) FROM participant_p"));
    EXPECT_EQ(QueryOne(db, "SELECT coalesce(max(device_seq), 0) FROM change_log"),
              QueryOne(db, "SELECT count(*) FROM change_log"));
    EXPECT_EQ(QueryOne(db, "SELECT value FROM sync_state WHERE key = 'reference_counter'"),
              QueryOne(db, "SELECT count(*) FROM participant_p"));
  }

  // The library opens the file after the last kill and carries on from it.
  DeviceOptions options;
  options.path = db;
  Result<std::unique_ptr<Device>> device = Device::Open(options);
  ASSERT_TRUE(device.ok()) << device.status().ToString();
  Result<uint64_t> pending = StoreOf(**device).PendingCount();
  ASSERT_TRUE(pending.ok());
  EXPECT_GE(*pending, reported.size());
}

}  // namespace
}  // namespace outreach::testing
