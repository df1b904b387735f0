#include "server/store/store.h"

#include "server/store/postgres_store.h"
#include "server/store/sqlite_store.h"

namespace outreach::server {

Result<std::vector<LoggedChange>> StoreTxn::ReadLogEncoded(const Uuid& hub_id, uint64_t after_seq, uint32_t limit) {
  auto entries = ReadLog(hub_id, after_seq, limit);
  if (!entries.ok()) return entries.status();
  std::vector<LoggedChange> out(entries->size());
  for (size_t i = 0; i < entries->size(); ++i) {
    out[i].server_seq = (*entries)[i].server_seq();
    if (!(*entries)[i].SerializeToString(&out[i].change)) return Status::Internal("a logged change does not serialise");
  }
  return out;
}

Result<std::unique_ptr<Store>> OpenStore(const std::string& location) {
  if (location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0) {
    auto store = PostgresStore::Open(location);
    if (!store.ok()) return store.status();
    return std::unique_ptr<Store>(std::move(*store));
  }
  std::string path = location.rfind("sqlite:", 0) == 0 ? location.substr(7) : location;
  if (path.empty()) return Status::InvalidArgument("store", "no store location given");
  auto store = SqliteStore::Open(path);
  if (!store.ok()) return store.status();
  return std::unique_ptr<Store>(std::move(*store));
}

}  // namespace outreach::server
