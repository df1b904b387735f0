// The shared SQLite layer (common/sqlite/) on real files.
#include "common/sqlite/database.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace outreach::sqlite {
namespace {

class SqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("outreach-sqlite-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Database> OpenDb(Database::Options options = {}) {
    auto db = Database::Open((dir_ / "test.db").string(), options);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return std::move(*db);
  }
  int64_t Count(Database& db) { return *db.QueryInt("SELECT count(*) FROM t"); }

  std::filesystem::path dir_;
};

TEST_F(SqliteTest, BindsAndReadsEveryType) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Exec("CREATE TABLE t (id BLOB, n INTEGER, s TEXT, b BLOB, z BLOB)").ok());
  const Uuid id = Uuid::NewV7();
  const std::string text = "Ama Owusu";
  const std::string empty;
  {
    auto st = db->Prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)");
    ASSERT_TRUE(st.ok());
    st->Id(1, id).Int(2, -42).Text(3, text).Blob(4, empty).Null(5);
    ASSERT_TRUE(st->Run("insert").ok());
  }
  auto st = db->Prepare("SELECT id, n, s, b, typeof(b), z FROM t");
  ASSERT_TRUE(st.ok());
  ASSERT_EQ(st->Step(), SQLITE_ROW);
  EXPECT_EQ(st->ColId(0), id);
  EXPECT_EQ(st->ColInt(1), -42);
  EXPECT_EQ(st->ColText(2), text);
  EXPECT_EQ(st->ColBlob(3), "");
  EXPECT_EQ(st->ColText(4), "blob") << "an empty blob must stay a blob, not NULL";
  EXPECT_TRUE(st->IsNull(5));
  EXPECT_EQ(st->ColId(5), Uuid());
  EXPECT_EQ(st->Step(), SQLITE_DONE);
}

TEST_F(SqliteTest, AStatementIsCachedAndResetWhenItGoesOutOfScope) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Exec("CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), (2)").ok());
  static const char* const kSql = "SELECT n FROM t ORDER BY n";
  sqlite3_stmt* first = nullptr;
  {
    auto st = db->Prepare(kSql);
    ASSERT_TRUE(st.ok());
    first = st->get();
    ASSERT_EQ(st->Step(), SQLITE_ROW);
    EXPECT_EQ(st->ColInt(0), 1);
  }
  auto again = db->Prepare(kSql);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), first);
  ASSERT_EQ(again->Step(), SQLITE_ROW);
  EXPECT_EQ(again->ColInt(0), 1) << "the statement was reset when the first use ended";
}

TEST_F(SqliteTest, ATransactionRollsBackUnlessCommitted) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Exec("CREATE TABLE t (n INTEGER)").ok());
  {
    Transaction txn(*db);
    ASSERT_TRUE(txn.status().ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (1)").ok());
  }
  EXPECT_EQ(Count(*db), 0);
  EXPECT_TRUE(db->autocommit());
  {
    Transaction txn(*db);
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (1)").ok());
    ASSERT_TRUE(txn.Commit().ok());
  }
  EXPECT_EQ(Count(*db), 1);
}

TEST_F(SqliteTest, ASavepointUndoesOnlyItsOwnWork) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Exec("CREATE TABLE t (n INTEGER)").ok());
  Transaction txn(*db);
  ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (1)").ok());
  {
    Savepoint kept(*db);
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (2)").ok());
    ASSERT_TRUE(kept.Release().ok());
  }
  {
    Savepoint undone(*db);
    ASSERT_TRUE(undone.status().ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (3)").ok());
  }
  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_EQ(*db->QueryInt("SELECT sum(n) FROM t"), 3);
}

TEST_F(SqliteTest, ALockHeldPastTheBusyTimeoutIsUnavailable) {
  auto writer = OpenDb();
  ASSERT_TRUE(writer->Exec("PRAGMA journal_mode=WAL; CREATE TABLE t (n INTEGER)").ok());
  Database::Options quick;
  quick.busy_timeout_ms = 50;
  auto other = OpenDb(quick);
  Transaction held(*writer);
  ASSERT_TRUE(held.status().ok());
  Transaction blocked(*other);
  EXPECT_EQ(blocked.status().code(), ErrorCode::kUnavailable) << blocked.status().ToString();
}

TEST_F(SqliteTest, TruncatingTheWalLeavesItEmpty) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Exec("PRAGMA journal_mode=WAL; CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1)").ok());
  const auto wal = dir_ / "test.db-wal";
  ASSERT_GT(std::filesystem::file_size(wal), 0u);
  ASSERT_TRUE(db->TruncateWal().ok());
  EXPECT_EQ(std::filesystem::file_size(wal), 0u);
  EXPECT_EQ(Count(*db), 1);
}

TEST_F(SqliteTest, AFileThatIsNotADatabaseIsDataLossNamingThePath) {
  const std::string path = (dir_ / "test.db").string();
  std::ofstream(path) << std::string(4096, 'x');
  auto db = OpenDb();
  Status st = db->Exec("CREATE TABLE t (n INTEGER)");
  EXPECT_EQ(st.code(), ErrorCode::kDataLoss) << st.ToString();
  EXPECT_NE(st.message().find(path), std::string::npos) << st.message();
}

TEST_F(SqliteTest, APrepareErrorNamesTheProblem) {
  auto db = OpenDb();
  auto st = db->Prepare("SELECT n FROM nowhere");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("no such table"), std::string::npos) << st.status().message();
}

}  // namespace
}  // namespace outreach::sqlite
