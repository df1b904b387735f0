#include "tests/unit/client/test_util.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "client/journey/dates.h"

namespace outreach::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/outreach-client-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

int64_t MillisOf(const std::string& day, int hour, int minute) {
  auto d = journey::ParseDate(day);
  if (!d) throw std::runtime_error("bad day " + day);
  return (journey::DaysFromCivil(*d) * 86400 + hour * 3600 + minute * 60) * 1000;
}

namespace {

std::string Hex(const void* p, int n) {
  static const char* k = "0123456789abcdef";
  std::string out;
  const auto* b = static_cast<const unsigned char*>(p);
  for (int i = 0; i < n; ++i) {
    out.push_back(k[b[i] >> 4]);
    out.push_back(k[b[i] & 15]);
  }
  return out;
}

sqlite3* OpenReadOnly(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    throw std::runtime_error("cannot open " + path);
  }
  return db;
}

}  // namespace

std::string Dump(const std::string& path) {
  sqlite3* db = OpenReadOnly(path);
  std::vector<std::string> tables;
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", -1, &s, nullptr);
  while (sqlite3_step(s) == SQLITE_ROW) tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
  sqlite3_finalize(s);
  std::string out;
  for (const std::string& t : tables) {
    std::vector<std::string> rows;
    std::string sql = "SELECT * FROM \"" + t + "\"";
    sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
    while (sqlite3_step(s) == SQLITE_ROW) {
      std::string row;
      for (int c = 0; c < sqlite3_column_count(s); ++c) {
        if (sqlite3_column_type(s, c) == SQLITE_BLOB) {
          row += Hex(sqlite3_column_blob(s, c), sqlite3_column_bytes(s, c));
        } else if (const unsigned char* text = sqlite3_column_text(s, c)) {
          row += reinterpret_cast<const char*>(text);
        }
        row += "|";
      }
      rows.push_back(std::move(row));
    }
    sqlite3_finalize(s);
    std::sort(rows.begin(), rows.end());
    out += "== " + t + "\n";
    for (const std::string& r : rows) out += r + "\n";
  }
  sqlite3_close(db);
  return out;
}

std::string QueryOne(const std::string& path, const std::string& sql) {
  sqlite3* db = OpenReadOnly(path);
  sqlite3_stmt* s = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
    if (const unsigned char* text = sqlite3_column_text(s, 0)) out = reinterpret_cast<const char*>(text);
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

std::vector<std::string> QueryColumn(const std::string& path, const std::string& sql) {
  sqlite3* db = OpenReadOnly(path);
  sqlite3_stmt* s = nullptr;
  std::vector<std::string> out;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK) {
    while (sqlite3_step(s) == SQLITE_ROW) {
      if (sqlite3_column_type(s, 0) == SQLITE_BLOB) {
        out.push_back(Hex(sqlite3_column_blob(s, 0), sqlite3_column_bytes(s, 0)));
      } else if (const unsigned char* text = sqlite3_column_text(s, 0)) {
        out.emplace_back(reinterpret_cast<const char*>(text));
      }
    }
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

}  // namespace outreach::testing
