// Helpers for the client tests: temporary directories, a fixed clock, database dumps.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace outreach::testing {

// A fresh directory under $TMPDIR, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Unix milliseconds of a UTC date and time, e.g. MillisOf("2026-11-23", 10, 0).
int64_t MillisOf(const std::string& day, int hour = 10, int minute = 0);

// Every row of every table of an SQLite file, in a stable order, as text. Read through
// a separate connection, so it shows what is committed.
std::string Dump(const std::string& path);

// Runs one query through a separate connection; the first column of the first row.
std::string QueryOne(const std::string& path, const std::string& sql);

// The first column of every row (blobs as lower-case hex), through a separate connection.
std::vector<std::string> QueryColumn(const std::string& path, const std::string& sql);

}  // namespace outreach::testing
