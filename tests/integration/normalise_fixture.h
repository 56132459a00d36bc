// Shared by the normalisation tests: a fresh database per test, migrated by the statesink
// binary the way an operator does it, and plain INSERTs into `messages` as any client
// would send them.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "config/url.h"
#include "db/connection.h"
#include "db/statement.h"
#include "process.h"
#include "servers.h"
#include "source_files.h"

namespace statesink::testing {

struct Message {
  std::string topic;
  std::string payload;      // the exact bytes
  std::string received_at;  // UTC, "2024-05-01 12:00:01.000000"
  bool retained = false;
};

// One row as "a|b|NULL", so expectations read like the table they describe.
inline std::string join_row(const db::Row& row) {
  std::string joined;
  for (std::size_t i = 0; i < row.size(); ++i) {
    if (i > 0) joined += '|';
    joined += row[i].value_or("NULL");
  }
  return joined;
}

class NormaliseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    database_ = std::string("n_") + info->test_suite_name() + "_" + info->name();
    for (char& c : database_) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    database_ = database_.substr(0, 64);
    url_ = servers().mariadb.create_database(database_);
    const CommandResult r = statesink({"migrate", "up", "--db", url_});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    connection_.emplace(db::Connection::open(config::parse_db_url(url_)));
  }

  // Runs the binary under test from a folder without a .env file.
  CommandResult statesink(std::vector<std::string> args) {
    args.insert(args.begin(), servers().statesink.string());
    Process::Options options;
    options.cwd = servers().scratch;
    options.unset_env = {"STATESINK_DB", "STATESINK_DB_PASSWORD"};
    return run_command(args, options);
  }

  db::Connection& db() { return *connection_; }

  // One multi-row INSERT, the way the ingester writes a batch.
  void insert(const std::vector<Message>& messages) { insert(db(), messages); }

  static void insert(db::Connection& connection, const std::vector<Message>& messages) {
    std::string sql = "INSERT INTO messages (topic, payload, qos, retained, received_at) VALUES ";
    std::vector<db::Param> params;
    for (std::size_t i = 0; i < messages.size(); ++i) {
      sql += i == 0 ? "(?, ?, 1, ?, ?)" : ", (?, ?, 1, ?, ?)";
      const Message& m = messages[i];
      params.emplace_back(std::string_view(m.topic));
      params.emplace_back(db::Blob{m.payload});
      params.emplace_back(std::int64_t{m.retained ? 1 : 0});
      params.emplace_back(std::string_view(m.received_at));
    }
    connection.execute(sql, params);
  }

  std::vector<std::string> rows(const std::string& sql) {
    std::vector<std::string> joined;
    for (const db::Row& row : db().query(sql)) joined.push_back(join_row(row));
    return joined;
  }

  std::string value(const std::string& sql) {
    const std::optional<std::string> v = db().query_value(sql);
    return v.value_or("NULL");
  }

  // SQL through the mariadb command-line client, as a DBA runs the files in sql/:
  // tab-separated rows without a header.
  std::string client_sql(const std::string& statements) {
    return servers().mariadb.sql(statements, database_);
  }

  std::string database_;
  std::string url_;
  std::optional<db::Connection> connection_;
};

}  // namespace statesink::testing
