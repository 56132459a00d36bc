#include "db/error.h"

#include <gtest/gtest.h>

namespace statesink::db {
namespace {

TEST(DbError, LostConnectionsAreRetryableAndNeedAReconnect) {
  for (unsigned code : {2002u, 2003u, 2006u, 2013u, 1053u, 1927u, 4031u}) {
    DbError e("x", code, "HY000");
    EXPECT_TRUE(e.retryable()) << code;
    EXPECT_TRUE(e.connection_lost()) << code;
  }
}

TEST(DbError, DeadlocksAndLockWaitsAreRetryableOnTheSameConnection) {
  for (unsigned code : {1213u, 1205u, 3101u}) {
    DbError e("x", code, "40001");
    EXPECT_TRUE(e.retryable()) << code;
    EXPECT_FALSE(e.connection_lost()) << code;
  }
}

TEST(DbError, SyntaxAndDataErrorsArePermanent) {
  // 1064 syntax, 1146 no such table, 1406 data too long, 1153 packet too large, 1045 access denied
  for (unsigned code : {1064u, 1146u, 1406u, 1153u, 1045u, 1062u}) {
    DbError e("x", code, "42000");
    EXPECT_FALSE(e.retryable()) << code;
    EXPECT_FALSE(e.connection_lost()) << code;
  }
}

TEST(DbError, SetUpProblemsNeedAnOperatorNotOtherData) {
  // Privileges, missing schema, a dropped trigger definer, a full disk.
  for (unsigned code : {1142u, 1044u, 1146u, 1054u, 1449u, 1021u, 1114u}) {
    DbError e("x", code, "42000");
    EXPECT_TRUE(e.needs_operator()) << code;
    EXPECT_FALSE(advice(e).empty()) << code;
  }
  // About the data itself: another row may well succeed.
  for (unsigned code : {1406u, 1366u, 1153u, 1062u, 1213u}) {
    EXPECT_FALSE(DbError("x", code, "HY000").needs_operator()) << code;
  }
  EXPECT_EQ(advice(DbError("x", 1142, "42000")),
            "grant the account the privileges it needs (see sql/grants.sql)");
  EXPECT_EQ(advice(DbError("x", 1064, "42000")), "");
}

TEST(DbError, KeepsCodeStateAndMessage) {
  DbError e("deadlock found", 1213, "40001");
  EXPECT_EQ(e.code(), 1213u);
  EXPECT_EQ(e.sqlstate(), "40001");
  EXPECT_STREQ(e.what(), "deadlock found");
}

}  // namespace
}  // namespace statesink::db

namespace statesink::db {
namespace {

TEST(DbError, OnlyErrorsAboutTheDataConcernContent) {
  for (unsigned code : {1406U, 1366U, 1292U, 1153U}) {
    EXPECT_TRUE(DbError("x", code, "HY000").about_content()) << code;
  }
  // Server state, however permanent it looks, never condemns a message:
  // Galera without quorum, a node not ready, disk full, a statement timeout,
  // and codes nobody listed.
  for (unsigned code : {1180U, 1047U, 1021U, 1030U, 1969U, 3024U, 1064U, 9999U, 2013U, 1213U}) {
    EXPECT_FALSE(DbError("x", code, "HY000").about_content()) << code;
  }
}

}  // namespace
}  // namespace statesink::db
