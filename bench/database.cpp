#include "database.h"

#include <set>

namespace statesink::bench {

// Foreign key checks are off for the session because TRUNCATE refuses
// referenced tables otherwise; tables a migration has not created yet are
// skipped.
void empty_tables(const config::DbUrl& url) {
  db::Connection c = db::Connection::open(url);
  const auto existing =
      c.query("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()");
  std::set<std::string> tables;
  for (const auto& row : existing) tables.insert(row[0].value_or(""));
  c.execute("SET SESSION foreign_key_checks = 0");
  for (const char* t : {"messages", "message_rejections", "facts", "current_states", "states",
                        "entities", "base_topics", "ingest_progress"}) {
    if (tables.contains(t)) c.execute(std::string("TRUNCATE TABLE ") + t);
  }
  if (tables.contains("statistics_progress")) reset_statistics(c);
  c.execute("SET SESSION foreign_key_checks = 1");
}

void reset_statistics(db::Connection& c) {
  c.execute("TRUNCATE TABLE statistics_5min");
  c.execute("TRUNCATE TABLE statistics_hourly");
  c.execute(
      "UPDATE statistics_progress SET last_fact_id = 0, computed_until = NULL, "
      "observed_fact_id = 0, observed_at = NULL, updated_at = NULL");
}

void drop_triggers(const config::DbUrl& url) {
  db::Connection c = db::Connection::open(url);
  const auto triggers = c.query(
      "SELECT trigger_name FROM information_schema.triggers "
      "WHERE trigger_schema = DATABASE() AND event_object_table = 'messages'");
  for (const auto& row : triggers) {
    c.execute("DROP TRIGGER " + db::quote_identifier(row[0].value_or("")));
  }
}

std::uint64_t max_id(db::Connection& c) {
  return std::stoull(c.query_value("SELECT COALESCE(MAX(id), 0) FROM messages").value_or("0"));
}

std::uint64_t count_rows(db::Connection& c, const std::string& table) {
  return std::stoull(c.query_value("SELECT COUNT(*) FROM " + table).value_or("0"));
}

nlohmann::ordered_json describe_database(db::Connection& c) {
  nlohmann::ordered_json database;
  database["version"] = c.server_version();
  for (const char* variable :
       {"innodb_flush_log_at_trx_commit", "innodb_buffer_pool_size", "log_bin", "sync_binlog"}) {
    database[variable] = c.query_value(std::string("SELECT @@") + variable).value_or("");
  }
  return database;
}

}  // namespace statesink::bench
