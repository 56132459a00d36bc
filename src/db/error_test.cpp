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

TEST(DbError, KeepsCodeStateAndMessage) {
  DbError e("deadlock found", 1213, "40001");
  EXPECT_EQ(e.code(), 1213u);
  EXPECT_EQ(e.sqlstate(), "40001");
  EXPECT_STREQ(e.what(), "deadlock found");
}

}  // namespace
}  // namespace statesink::db
