// LocalStore's front (local_store.h): the connection and its settings, the identity and
// the state cached from the file, the clock offset, and Wipe. The other methods are
// defined with the part they hand their work to (outbox.cc, pull_applier.cc,
// queries.cc).
#include "client/store/local_store.h"

#include "client/store/projections.h"
#include "client/store/record_row.h"
#include "client/store/schema.h"
#include "client/store/sync_state.h"
#include "common/reference.h"
#include "common/sqlite/database.h"

namespace outreach::client {

LocalStore::LocalStore(const StoreOptions& options)
    : path_(options.path), fallback_user_(options.user_name), clock_(options.clock) {}

LocalStore::~LocalStore() = default;

// ---------------------------------------------------------------- open

Result<std::unique_ptr<LocalStore>> LocalStore::Open(const StoreOptions& options) {
  if (options.path.empty()) return Status::InvalidArgument("path", "no database file given");
  std::unique_ptr<LocalStore> store(new LocalStore(options));
  std::lock_guard<std::mutex> lock(store->mu_);
  OUTREACH_RETURN_IF_ERROR(store->Init());
  return store;
}

Status LocalStore::Init() {
  sqlite::Database::Options options;
  options.busy_timeout_ms = 5000;
  Result<std::unique_ptr<sqlite::Database>> db = sqlite::Database::Open(path_, options);
  if (!db.ok()) return db.status();
  db_ = std::move(db).value();
  // 4 KiB pages, whatever SQLite's build default (set before a new file's first table;
  // a file with tables keeps its own). Larger pages make a bulk pull's B-trees shallower
  // (16 KiB: about 20% less applier CPU) but every durable edit writes each page it
  // touches whole into the WAL: on the quiet machine a single attendance mark took 2.0x
  // a plain insert at 8 KiB and 2.8x at 16 KiB against 1.45x at 4 KiB (capture_bench,
  // docs/PERFORMANCE.md). The adviser waits on every edit; a pull runs in the background.
  OUTREACH_RETURN_IF_ERROR(db_->Exec("PRAGMA page_size=4096"));
  // WAL + synchronous=FULL: every commit is fsynced, so a committed edit survives a power
  // cut (NORMAL could lose the last commits, i.e. an adviser's work).
  OUTREACH_RETURN_IF_ERROR(db_->Exec("PRAGMA journal_mode=WAL"));
  OUTREACH_RETURN_IF_ERROR(db_->Exec("PRAGMA synchronous=FULL"));
  OUTREACH_RETURN_IF_ERROR(db_->Exec("PRAGMA foreign_keys=ON"));
  // Deleted and overwritten content is zeroed, so an erasure leaves no personal data in
  // free pages of the file.
  OUTREACH_RETURN_IF_ERROR(db_->Exec("PRAGMA secure_delete=ON"));
  // A 16 MiB page cache instead of SQLite's 2 MiB: applying a pulled page of 1,000
  // changes touches more pages than 2 MiB holds, and a full cache spills dirty pages to
  // the WAL mid-transaction and re-reads index pages (docs/PERFORMANCE.md, bootstrap).
  OUTREACH_RETURN_IF_ERROR(db_->Exec("PRAGMA cache_size=-16384"));
  OUTREACH_RETURN_IF_ERROR(store::Migrate(*db_, clock_, fallback_user_));
  OUTREACH_RETURN_IF_ERROR(store::InitStateIfNew(*db_));
  return LoadCachedState();
}

Result<int> LocalStore::SchemaVersion() {
  std::lock_guard<std::mutex> lock(mu_);
  Result<int64_t> version = db_->QueryInt("PRAGMA user_version");
  if (!version.ok()) return version.status();
  return static_cast<int>(*version);
}

// ---------------------------------------------------------------- cached state

Status LocalStore::LoadCachedState() {
  {
    Result<sqlite::Statement> s = db_->Prepare("SELECT value FROM sync_state WHERE key = 'device_id'");
    if (!s.ok()) return s.status();
    if (s->Step() != SQLITE_ROW) return s->Error("cannot read device id");
    device_id_ = s->ColId(0);
  }
  hub_id_.clear();
  author_ = fallback_user_;
  {
    Result<sqlite::Statement> s = db_->Prepare("SELECT device_id, hub_id, user_name FROM identity");
    if (!s.ok()) return s.status();
    const int rc = s->Step();
    if (rc == SQLITE_ROW) {
      device_id_ = s->ColId(0);
      hub_id_ = s->ColBlob(1);
      author_ = s->ColText(2);
    } else if (rc != SQLITE_DONE) {
      return s->Error("cannot read identity");
    }
  }
  Result<int64_t> hlc = store::StateInt(*db_, "hlc");
  if (!hlc.ok()) return hlc.status();
  clock_.Restore(Hlc(static_cast<uint64_t>(*hlc)));
  Result<int64_t> offset = store::StateInt(*db_, "clock_offset_ms");
  if (!offset.ok()) return offset.status();
  clock_.SetOffsetMs(*offset);
  return LoadHubTimeZone();
}

Status LocalStore::LoadHubTimeZone() {
  hub_time_zone_.clear();
  Result<Uuid> hub = Uuid::FromBytes(hub_id_);
  if (hub_id_.empty() || !hub.ok()) return Status::Ok();
  Result<store::Row> row = store::LoadRow(*db_, *hub);
  if (!row.ok()) return row.status();
  if (row->exists) {
    const v1::Record record = row->ToRecord();
    if (record.has_hub()) hub_time_zone_ = record.hub().time_zone();
  }
  return Status::Ok();
}

Uuid LocalStore::device_id() {
  std::lock_guard<std::mutex> lock(mu_);
  return device_id_;
}

std::string LocalStore::hub_time_zone() {
  std::lock_guard<std::mutex> lock(mu_);
  return hub_time_zone_;
}

// ---------------------------------------------------------------- identity

Result<std::optional<DeviceIdentity>> LocalStore::LoadIdentity() {
  std::lock_guard<std::mutex> lock(mu_);
  Result<sqlite::Statement> s = db_->Prepare(
      "SELECT device_id, credential, server, ca_pem, hub_id, role, user_name, reference_prefix, venue_id FROM "
      "identity");
  if (!s.ok()) return s.status();
  const int rc = s->Step();
  if (rc == SQLITE_DONE) return std::optional<DeviceIdentity>();
  if (rc != SQLITE_ROW) return s->Error("cannot read identity");
  DeviceIdentity id;
  id.device_id = s->ColId(0);
  id.credential = s->ColBlob(1);
  id.server = s->ColText(2);
  id.ca_pem = s->ColText(3);
  id.hub_id = s->ColId(4);
  id.role = static_cast<v1::Role>(s->ColInt(5));
  id.user_name = s->ColText(6);
  id.reference_prefix = s->ColText(7);
  id.venue_id = s->ColId(8);
  return std::optional<DeviceIdentity>(std::move(id));
}

Status LocalStore::SaveIdentity(const DeviceIdentity& identity) {
  if (identity.device_id.is_nil()) return Status::InvalidArgument("device_id", "is missing");
  if (identity.server.empty()) return Status::InvalidArgument("server", "is missing");
  if (identity.ca_pem.empty()) return Status::InvalidArgument("ca_pem", "is missing");
  if (!ReferenceNumber::Format(identity.reference_prefix, 1).ok()) {
    return Status::InvalidArgument("reference_prefix",
                                   "'" + identity.reference_prefix + "' is not a 4-character reference prefix");
  }
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::Transaction txn(*db_);
  OUTREACH_RETURN_IF_ERROR(txn.status());
  {
    Result<sqlite::Statement> s = db_->Prepare(
        "INSERT OR REPLACE INTO identity(one, device_id, credential, server, ca_pem, hub_id, role, user_name, "
        "reference_prefix, venue_id) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!s.ok()) return s.status();
    const std::string hub = identity.hub_id.is_nil() ? std::string() : identity.hub_id.raw();
    const std::string venue = identity.venue_id.is_nil() ? std::string() : identity.venue_id.raw();
    s->Id(1, identity.device_id).Blob(2, identity.credential).Text(3, identity.server);
    s->Text(4, identity.ca_pem).Blob(5, hub);
    s->Int(6, identity.role).Text(7, identity.user_name).Text(8, identity.reference_prefix);
    s->Blob(9, venue);
    OUTREACH_RETURN_IF_ERROR(s->Run("cannot write identity"));
  }
  // Future references use the server's prefix; the counter carries on (unique either way).
  OUTREACH_RETURN_IF_ERROR(store::SetStateText(*db_, "reference_prefix", identity.reference_prefix));
  OUTREACH_RETURN_IF_ERROR(txn.Commit());
  return LoadCachedState();
}

// ---------------------------------------------------------------- sync state

Result<uint64_t> LocalStore::PullCursor() {
  std::lock_guard<std::mutex> lock(mu_);
  Result<int64_t> v = store::StateInt(*db_, "pull_cursor");
  if (!v.ok()) return v.status();
  return static_cast<uint64_t>(*v);
}

Status LocalStore::SetClockOffsetMs(int64_t offset_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::Transaction txn(*db_);
  OUTREACH_RETURN_IF_ERROR(txn.status());
  OUTREACH_RETURN_IF_ERROR(store::SetStateInt(*db_, "clock_offset_ms", offset_ms));
  OUTREACH_RETURN_IF_ERROR(txn.Commit());
  clock_.SetOffsetMs(offset_ms);
  return Status::Ok();
}

Status LocalStore::Wipe() {
  std::lock_guard<std::mutex> lock(mu_);
  {
    sqlite::Transaction txn(*db_);
    OUTREACH_RETURN_IF_ERROR(txn.status());
    OUTREACH_RETURN_IF_ERROR(db_->Exec("DELETE FROM outbox; DELETE FROM rejected_change; DELETE FROM change_log;"));
    OUTREACH_RETURN_IF_ERROR(store::EmptyProjections(*db_));
    OUTREACH_RETURN_IF_ERROR(db_->Exec("DELETE FROM record; DELETE FROM identity; DELETE FROM sync_state;"));
    OUTREACH_RETURN_IF_ERROR(txn.Commit());
  }
  OUTREACH_RETURN_IF_ERROR(store::InitStateIfNew(*db_));
  // Deleted pages are overwritten on disk by VACUUM, so no personal data lingers.
  OUTREACH_RETURN_IF_ERROR(db_->Exec("VACUUM"));
  return LoadCachedState();
}

}  // namespace outreach::client
