// A PostgreSQL database of one test's own, on a throwaway cluster.
//
// The cluster is the one ctest's `postgres_cluster` fixture started
// (scripts/test-postgres.sh; its directory in $OUTREACH_TEST_PG_DIR). A test binary run by
// hand, without that variable, starts its own cluster on first use and stops it at exit.
// Each TestDatabase is a fresh CREATE DATABASE with a unique name, dropped on destruction,
// so tests run in parallel without seeing each other's rows.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"

namespace outreach::testing {

class TestDatabase {
 public:
  static Result<std::unique_ptr<TestDatabase>> Create();
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  // "postgresql://outreach@/NAME?host=DIR": a location OpenStore accepts.
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

  // Runs `sql` on this database (text results); the first column of each row, joined by
  // newlines, or the error.
  Result<std::string> Query(const std::string& sql) const;
  // Runs `sql` with binary results: the raw bytes of the first column of every row,
  // concatenated (a bytea column gives its bytes as stored).
  Result<std::string> RawValues(const std::string& sql) const;

 private:
  TestDatabase(std::string name, std::string url) : name_(std::move(name)), url_(std::move(url)) {}
  std::string name_;
  std::string url_;
};

// The cluster's socket directory (starting a cluster for this process if needed).
Result<std::string> TestClusterDir();

}  // namespace outreach::testing
