#include "client/store/sync_state.h"

namespace outreach::client::store {

Result<int64_t> StateInt(sqlite::Database& db, const char* key) {
  Result<sqlite::Statement> s = db.Prepare("SELECT value FROM sync_state WHERE key = ?");
  if (!s.ok()) return s.status();
  s->Text(1, key);
  const int rc = s->Step();
  if (rc == SQLITE_DONE) return int64_t{0};
  if (rc != SQLITE_ROW) return s->Error("cannot read sync state");
  return s->ColInt(0);
}

Status SetStateInt(sqlite::Database& db, const char* key, int64_t value) {
  Result<sqlite::Statement> s = db.Prepare(
      "INSERT INTO sync_state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  if (!s.ok()) return s.status();
  s->Text(1, key).Int(2, value);
  return s->Run("cannot write sync state");
}

Status SetStateText(sqlite::Database& db, const char* key, const std::string& value) {
  Result<sqlite::Statement> s = db.Prepare(
      "INSERT INTO sync_state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  if (!s.ok()) return s.status();
  s->Text(1, key).Text(2, value);
  return s->Run("cannot write sync state");
}

Status PersistClock(sqlite::Database& db, const HybridClock& clock) {
  return SetStateInt(db, "hlc", static_cast<int64_t>(clock.Last().value()));
}

}  // namespace outreach::client::store
