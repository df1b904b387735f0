#include "tests/unit/server/postgres/test_database.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>

namespace outreach::testing {
namespace {

// A cluster this process started itself (no $OUTREACH_TEST_PG_DIR); stopped at exit.
struct OwnCluster {
  std::string dir;
  ~OwnCluster() {
    if (dir.empty()) return;
    const std::string cmd = std::string(OUTREACH_SOURCE_DIR) + "/scripts/test-postgres.sh stop " + dir;
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not stop the test cluster in %s\n", dir.c_str());
  }
};

std::string Url(const std::string& dir, const std::string& db) {
  return "postgresql://outreach@/" + db + "?host=" + dir;
}

// Runs `sql` on `url`: the first column of every row, text rows joined by newlines, or
// (binary) raw values concatenated.
Result<std::string> Run(const std::string& url, const std::string& sql, bool binary = false) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    PQfinish(conn);
    return Status::IoError("test database: " + msg);
  }
  PGresult* r =
      binary ? PQexecParams(conn, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 1) : PQexec(conn, sql.c_str());
  const ExecStatusType st = PQresultStatus(r);
  std::string out;
  Status error;
  if (st == PGRES_TUPLES_OK) {
    for (int i = 0; i < PQntuples(r); ++i) {
      if (binary) {
        out.append(PQgetvalue(r, i, 0), static_cast<size_t>(PQgetlength(r, i, 0)));
        continue;
      }
      if (i) out += "\n";
      out += PQgetvalue(r, i, 0);
    }
  } else if (st != PGRES_COMMAND_OK) {
    error = Status::IoError("test database: " + std::string(PQresultErrorMessage(r)));
  }
  PQclear(r);
  PQfinish(conn);
  if (!error.ok()) return error;
  return out;
}

}  // namespace

Result<std::string> TestClusterDir() {
  static std::mutex mu;
  static OwnCluster own;
  std::lock_guard<std::mutex> lock(mu);
  if (const char* dir = std::getenv("OUTREACH_TEST_PG_DIR"); dir != nullptr && dir[0] != '\0') return std::string(dir);
  if (own.dir.empty()) {
    const std::string dir = "/tmp/outreach-pg-" + std::to_string(::getpid());
    const std::string cmd = std::string(OUTREACH_SOURCE_DIR) + "/scripts/test-postgres.sh start " + dir + " >/dev/null";
    if (std::system(cmd.c_str()) != 0) return Status::IoError("could not start a test PostgreSQL in " + dir);
    own.dir = dir;
  }
  return own.dir;
}

Result<std::unique_ptr<TestDatabase>> TestDatabase::Create() {
  auto dir = TestClusterDir();
  if (!dir.ok()) return dir.status();
  static std::atomic<int> counter{0};
  const std::string name = "t" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
                           std::to_string(std::random_device{}() % 100000);
  auto made = Run(Url(*dir, "postgres"), "CREATE DATABASE " + name);
  if (!made.ok()) return made.status();
  return std::unique_ptr<TestDatabase>(new TestDatabase(name, Url(*dir, name)));
}

TestDatabase::~TestDatabase() {
  auto dir = TestClusterDir();
  if (dir.ok()) (void)Run(Url(*dir, "postgres"), "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
}

Result<std::string> TestDatabase::Query(const std::string& sql) const {
  return Run(url_, sql);
}

Result<std::string> TestDatabase::RawValues(const std::string& sql) const {
  return Run(url_, sql, /*binary=*/true);
}

}  // namespace outreach::testing
