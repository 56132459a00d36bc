// What the query and prune tests share: a migrated database of their own,
// messages inserted with plain SQL (the triggers make the facts), and
// statesink run as a process the way a user runs it.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <string>
#include <vector>

#include "process.h"
#include "servers.h"

namespace statesink::testing {

// One row for `INSERT INTO messages`.
struct Message {
  std::string topic;
  std::string payload;
  std::string received_at;  // SQL: a quoted literal or an expression
};

// A string literal for the mariadb client, which reads backslash escapes.
inline std::string sql_literal(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) {
    if (c == '\'' || c == '\\') {
      quoted += '\\';
    }
    quoted += c;
  }
  return quoted + "'";
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    database_ = (std::string("c_") + info->test_suite_name() + "_" + info->name()).substr(0, 64);
    for (char& c : database_) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    url_ = servers().mariadb.create_database(database_);
    work_ = servers().scratch / database_;
    std::filesystem::remove_all(work_);
    std::filesystem::create_directories(work_);
    const CommandResult migrated = statesink({"migrate", "up", "--db", url_});
    ASSERT_EQ(migrated.exit_code, 0) << migrated.err;
  }

  // statesink ARGS, from a folder without a .env and without STATESINK_* set.
  CommandResult statesink(std::vector<std::string> args) {
    args.insert(args.begin(), servers().statesink.string());
    Process::Options options;
    options.cwd = work_;
    options.unset_env = {"STATESINK_DB", "STATESINK_DB_PASSWORD"};
    return run_command(args, options);
  }

  // statesink ARGS --db <this test's database>
  CommandResult run(std::vector<std::string> args) {
    args.insert(args.end(), {"--db", url_});
    return statesink(args);
  }

  std::string sql(const std::string& statements) {
    return servers().mariadb.sql(statements, database_);
  }

  // One multi-row INSERT, as an ingester or any other client would send it.
  void insert(const std::vector<Message>& messages) {
    std::string statement =
        "INSERT INTO messages (topic, payload, qos, retained, received_at) VALUES ";
    for (std::size_t i = 0; i < messages.size(); ++i) {
      const Message& m = messages[i];
      statement += (i == 0 ? "(" : ", (") + sql_literal(m.topic) + ", " + sql_literal(m.payload) +
                   ", 1, 0, " + m.received_at + ")";
    }
    sql(statement);
  }

  std::string database_;
  std::string url_;
  std::filesystem::path work_;
};

}  // namespace statesink::testing
