// The database layer against a real MariaDB: binary-safe parameters, typed
// errors, time zone, and what happens when the server goes away.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>

#include "config/url.h"
#include "db/connection.h"
#include "db/error.h"
#include "db/statement.h"
#include "servers.h"

namespace statesink::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

config::DbUrl database(const std::string& name) {
  return config::parse_db_url(servers().mariadb.create_database(name));
}

// A URL naming a port where nothing listens first, then the real server.
config::DbUrl behind_a_dead_host(const std::string& name) {
  config::DbUrl url = database(name);
  const config::DbHost dead{"127.0.0.1", free_loopback_port()};
  url.hosts = {dead, {url.host, url.port}};
  url.host = dead.name;
  url.port = dead.port;
  return url;
}

TEST(DbConnection, SeveralHostsUseTheFirstThatAnswers) {
  const config::DbUrl url = behind_a_dead_host("db_hosts");
  db::Connection c = db::Connection::open(url);
  EXPECT_EQ(c.query_value("SELECT 1"), "1");
  // The same from the text a user writes.
  const std::string text = std::string("mysql://") + MariaDbServer::kAdminUser + ":" +
                           MariaDbServer::kAdminPassword +
                           "@127.0.0.1:" + std::to_string(url.hosts[0].port) +
                           ",127.0.0.1:" + std::to_string(url.hosts[1].port) + "/db_hosts";
  db::Connection again = db::Connection::open(config::parse_db_url(text));
  EXPECT_EQ(again.query_value("SELECT DATABASE()"), "db_hosts");
}

TEST(DbConnection, WhenNoHostAnswersEveryReasonIsGiven) {
  config::DbUrl url = database("db_no_hosts");
  const std::uint16_t a = free_loopback_port();
  const std::uint16_t b = free_loopback_port();
  url.hosts = {{"127.0.0.1", a}, {"127.0.0.1", b}};
  url.host = "127.0.0.1";
  url.port = a;
  try {
    db::Connection::open(url);
    FAIL() << "connected to nothing";
  } catch (const db::DbError& e) {
    EXPECT_TRUE(e.connection_lost()) << e.code();
    EXPECT_THAT(e.what(), HasSubstr("no database host of"));
    EXPECT_THAT(e.what(), HasSubstr(":" + std::to_string(a)));
    EXPECT_THAT(e.what(), HasSubstr(":" + std::to_string(b)));
    EXPECT_THAT(e.what(), Not(HasSubstr(MariaDbServer::kAdminPassword)));
  }
}

TEST(DbConnection, PreparedParametersAreBinarySafe) {
  db::Connection c = db::Connection::open(database("db_binary"));
  c.execute(
      "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, topic TEXT CHARACTER SET utf8mb4, "
      "payload LONGBLOB, n BIGINT, u BIGINT UNSIGNED, d DOUBLE)");
  const std::string payload("\xff\x00'\"\\;\xc3\x28 end", 13);
  const std::string topic =
      "home/K\xc3\xbc"
      "che/sensor";
  db::Statement insert =
      c.prepare("INSERT INTO t (topic, payload, n, u, d) VALUES (?, ?, ?, ?, ?)");
  insert.execute(std::array<db::Param, 5>{std::string_view(topic), db::Blob{payload},
                                          std::int64_t{-5}, std::uint64_t{18446744073709551615ULL},
                                          2.5});
  EXPECT_EQ(insert.last_insert_id(), 1u);
  insert.execute(std::array<db::Param, 5>{
      std::string_view("t2"), db::Blob{std::string(100000, 'x')}, nullptr, nullptr, nullptr});

  std::vector<db::Row> rows = c.query("SELECT topic, payload, n, u, d FROM t WHERE id = ?",
                                      std::array<db::Param, 1>{std::int64_t{1}});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], topic);
  EXPECT_EQ(rows[0][1], payload);
  EXPECT_EQ(rows[0][2], "-5");
  EXPECT_EQ(rows[0][3], "18446744073709551615");
  EXPECT_EQ(rows[0][4], "2.5");
  // Long values come back whole; NULLs as nullopt.
  rows =
      c.query("SELECT payload, n FROM t WHERE id = ?", std::array<db::Param, 1>{std::int64_t{2}});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0]->size(), 100000u);
  EXPECT_FALSE(rows[0][1].has_value());
  // The text protocol gives the same bytes.
  EXPECT_EQ(c.query_value("SELECT payload FROM t WHERE id = 1"), payload);
}

TEST(DbConnection, SessionIsUtcAndUtf8mb4) {
  db::Connection c = db::Connection::open(database("db_session"));
  EXPECT_EQ(c.query_value("SELECT @@session.time_zone"), "+00:00");
  EXPECT_EQ(c.query_value("SELECT @@character_set_client"), "utf8mb4");
  EXPECT_EQ(c.query_value("SELECT TIMESTAMPDIFF(SECOND, NOW(), UTC_TIMESTAMP()) BETWEEN -2 AND 2"),
            "1");
  EXPECT_TRUE(c.is_mariadb());
}

TEST(DbConnection, ErrorsAreTypedAndNameTheServerWithoutPassword) {
  db::Connection c = db::Connection::open(database("db_errors"));
  try {
    c.execute("SELEC 1");
    FAIL() << "syntax error expected";
  } catch (const db::DbError& e) {
    EXPECT_EQ(e.code(), 1064u);
    EXPECT_FALSE(e.retryable());
    EXPECT_THAT(e.what(), HasSubstr("127.0.0.1"));
    EXPECT_THAT(e.what(), Not(HasSubstr(MariaDbServer::kAdminPassword)));
  }
  config::DbUrl wrong = database("db_errors2");
  wrong.password = "not-the-password";
  try {
    db::Connection::open(wrong);
    FAIL() << "access denied expected";
  } catch (const db::DbError& e) {
    EXPECT_EQ(e.code(), 1045u);
    EXPECT_THAT(e.what(), Not(HasSubstr("not-the-password")));
  }
}

TEST(DbConnection, TransactionRollsBackUnlessCommitted) {
  db::Connection c = db::Connection::open(database("db_tx"));
  c.execute("CREATE TABLE t (id INT) ENGINE=InnoDB");
  {
    db::Transaction tx(c);
    c.execute("INSERT INTO t VALUES (1)");
  }
  EXPECT_EQ(c.query_value("SELECT COUNT(*) FROM t"), "0");
  {
    db::Transaction tx(c);
    c.execute("INSERT INTO t VALUES (2)");
    tx.commit();
  }
  EXPECT_EQ(c.query_value("SELECT COUNT(*) FROM t"), "1");
}

TEST(DbConnection, ServerRestartGivesARetryableConnectionError) {
  config::DbUrl url = database("db_restart");
  db::Connection c = db::Connection::open(url);
  EXPECT_EQ(c.query_value("SELECT 1"), "1");
  servers().mariadb.stop();
  try {
    c.query_value("SELECT 1");
    ADD_FAILURE() << "a lost connection was expected";
  } catch (const db::DbError& e) {
    EXPECT_TRUE(e.connection_lost()) << e.code() << " " << e.what();
    EXPECT_TRUE(e.retryable());
  }
  try {
    db::Connection::open(url);
    ADD_FAILURE() << "connecting to a stopped server should fail";
  } catch (const db::DbError& e) {
    EXPECT_TRUE(e.connection_lost()) << e.code() << " " << e.what();
  }
  servers().mariadb.start();
  db::Connection again = db::Connection::open(url);
  EXPECT_EQ(again.query_value("SELECT 1"), "1");
}

}  // namespace
}  // namespace statesink::testing
