#include "prune_scenario.h"

#include <chrono>
#include <stdexcept>
#include <string>

#include "process.h"
#include "util/time_arg.h"

namespace statesink::bench {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::uint64_t count(db::Connection& connection, const std::string& sql) {
  return std::stoull(connection.query_value(sql).value_or("0"));
}

// The columns of migration 0001; the primary key as migration 0010 makes it
// for every layout, so that only the partitioning differs.
constexpr const char* kColumns =
    "(id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT, "
    "topic TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, "
    "payload LONGBLOB NOT NULL, qos TINYINT UNSIGNED NOT NULL DEFAULT 0, "
    "retained BOOLEAN NOT NULL DEFAULT FALSE, "
    "received_at DATETIME(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)), "
    "PRIMARY KEY (id, received_at), KEY messages_received_at (received_at)) "
    "ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci ROW_FORMAT = DYNAMIC ";

}  // namespace

double fill_source(db::Connection& connection, const PruneSetup& setup) {
  const auto start = std::chrono::steady_clock::now();
  connection.execute("DROP TABLE IF EXISTS bench_source");
  connection.execute(
      "CREATE TABLE bench_source (id BIGINT UNSIGNED NOT NULL PRIMARY KEY, "
      "topic TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, "
      "payload LONGBLOB NOT NULL, received_at DATETIME(6) NOT NULL) ENGINE = InnoDB");
  // MariaDB's sequence engine makes the rows without a round trip each; 500
  // topics, small payloads as Home Assistant sends them, evenly spread.
  const std::string rows = std::to_string(setup.rows);
  const std::string span = std::to_string(static_cast<std::int64_t>(setup.days) * 86400 * 1000000);
  connection.execute(
      "INSERT INTO bench_source "
      "SELECT seq, CONCAT('homeassistant/sensor/s', seq % 500, '/state'), "
      "CAST(seq % 1000 AS CHAR), "
      "UTC_TIMESTAMP(6) - INTERVAL " +
      std::to_string(setup.days) + " DAY + INTERVAL (seq * (" + span + " DIV " + rows +
      ")) MICROSECOND FROM seq_1_to_" + rows);
  return seconds_since(start);
}

PruneFigures run_scenario(db::Connection& connection, const PruneSetup& setup,
                          const PruneScenario& scenario) {
  PruneFigures figures;
  connection.execute("DROP TABLE IF EXISTS messages");
  std::string create = std::string("CREATE TABLE messages ") + kColumns;
  if (scenario.layout != "unpartitioned") {
    history::PartitionLayout layout;
    layout.period = history::parse_partition_period(scenario.layout, "layout");
    const auto oldest = connection.query_value("SELECT MIN(received_at) FROM bench_source");
    const UtcTime now = utc_now();
    create += history::partition_clause(parse_time_arg(oldest.value_or("now"), "oldest", now), now,
                                        layout);
  }
  connection.execute(create);
  figures.partitions =
      static_cast<int>(count(connection,
                             "SELECT COUNT(partition_name) FROM information_schema.partitions "
                             "WHERE table_schema = DATABASE() AND table_name = 'messages'"));

  auto start = std::chrono::steady_clock::now();
  connection.execute(
      "INSERT INTO messages (id, topic, payload, qos, retained, received_at) "
      "SELECT id, topic, payload, 1, 0, received_at FROM bench_source ORDER BY id");
  figures.fill_seconds = seconds_since(start);
  figures.rows_before = count(connection, "SELECT COUNT(*) FROM messages");

  const int older_than = setup.days - scenario.prune_days;
  // Taken before prune starts, so prune's own cutoff is at or after it.
  const std::string cutoff =
      connection
          .query_value("SELECT UTC_TIMESTAMP(6) - INTERVAL " + std::to_string(older_than) + " DAY")
          .value_or("");
  start = std::chrono::steady_clock::now();
  const testing::CommandResult r = testing::run_command(
      {setup.statesink.string(), "prune", "--older-than", std::to_string(older_than) + "d",
       "--batch", std::to_string(setup.batch), "--db", setup.db_url},
      {}, std::chrono::hours(6));
  figures.prune_seconds = seconds_since(start);
  figures.output = r.out;
  if (r.exit_code != 0) {
    throw std::runtime_error("statesink prune failed (" + std::to_string(r.exit_code) +
                             "): " + r.err);
  }
  const std::uint64_t after = count(connection, "SELECT COUNT(*) FROM messages");
  const std::uint64_t older =
      count(connection, "SELECT COUNT(*) FROM messages WHERE received_at < '" + cutoff + "'");
  if (older != 0) {
    throw std::runtime_error("statesink prune left " + std::to_string(older) +
                             " message(s) older than its cutoff");
  }
  figures.rows_deleted = figures.rows_before - after;
  return figures;
}

}  // namespace statesink::bench
