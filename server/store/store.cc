#include "server/store/store.h"

#include "server/store/postgres_store.h"
#include "server/store/sqlite_store.h"

namespace outreach::server {

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
