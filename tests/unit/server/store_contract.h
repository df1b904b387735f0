// The Store contract (server/store/store.h), written once and run on every store: each
// test binary instantiates StoreContractTest for the stores it can reach. server_test
// runs it on SQLite files (SqliteStoreKind); postgres_store_test on databases of their
// own on the test PostgreSQL (fixture postgres_cluster).
//
//   INSTANTIATE_TEST_SUITE_P(Store, StoreContractTest, ::testing::Values(SqliteStoreKind()),
//                            StoreKindName);
//
// What only one store has (its settings, its indexes' plans, group commit, a pool of
// connections on one database, timeouts) stays in that store's own test file.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "common/status.h"
#include "server/store/store.h"

namespace outreach::server::testing {

// A fresh, empty place for one store of a kind, and a view of it from outside the store.
class StoreUnderTest {
 public:
  virtual ~StoreUnderTest() = default;
  // What OpenStore opens: "sqlite:PATH" or a "postgresql://" URL.
  virtual std::string location() const = 0;
  // Runs `sql` (of one column, written so both stores run it) on a connection of the
  // test's own: the column's values, one row a line.
  virtual Result<std::string> Query(const std::string& sql) = 0;
  // Marks what is stored as written by a server of schema `version`.
  virtual Status SetSchemaVersion(int version) = 0;
};

// A kind of store the contract runs on.
struct StoreKind {
  std::string name;  // the test name's suffix: "sqlite", "postgresql"
  std::function<Result<std::unique_ptr<StoreUnderTest>>()> create;
};
inline void PrintTo(const StoreKind& kind, std::ostream* out) {
  *out << kind.name;
}
inline std::string StoreKindName(const ::testing::TestParamInfo<StoreKind>& info) {
  return info.param.name;
}

// The SQLite store: a file in a fresh temporary directory.
StoreKind SqliteStoreKind();

// Rows the cases write: a hub named `name`, an upsert of a session record stamped `hlc`,
// an adviser's device in `hub` whose credential hash holds NUL bytes.
HubRow Hub(const std::string& name);
v1::Change ChangeOf(const Uuid& record, uint64_t hlc);
DeviceRow Device(const Uuid& hub, const std::string& prefix);

class StoreContractTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override;

  // Opens (creating on first use) the store; null, with the test failed, if it cannot.
  std::unique_ptr<Store> Open();
  // StoreUnderTest::Query; "" (with the test failed) on an error.
  std::string Query(const std::string& sql);

  std::unique_ptr<StoreUnderTest> under_test_;
};

}  // namespace outreach::server::testing
