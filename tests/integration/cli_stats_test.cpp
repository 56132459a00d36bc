// The entity_catalog view and statesink stats on a small stream that the
// trigger normalised: exact counts for a known last day.
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cli_fixture.h"

namespace statesink::testing {
namespace {

using ::testing::HasSubstr;

// A time `minutes` ago, as SQL.
std::string ago(int minutes) {
  return "UTC_TIMESTAMP(6) - INTERVAL " + std::to_string(minutes) + " MINUTE";
}

class StatsCli : public CliTest {
 protected:
  // Two days ago: the kitchen sensor's first values and sensor.mode. In the
  // last hour: 10 messages, of which 7 change a value, 2 repeat one (21.0 and
  // the friendly name) and 1 is malformed.
  void load() {
    const std::string kitchen = "homeassistant/sensor/kitchen_temperature/";
    insert({{kitchen + "friendly_name", R"("K\u00fcche")", ago(2 * 1440)},
            {kitchen + "unit_of_measurement", R"("\u00b0C")", ago(2 * 1440)},
            {kitchen + "device_class", R"("temperature")", ago(2 * 1440)},
            {kitchen + "state_class", R"("measurement")", ago(2 * 1440)},
            {kitchen + "state", "20.5", ago(2 * 1440)},
            {"homeassistant/sensor/mode/state", "eco", ago(2 * 1440 - 1)},
            {kitchen + "state", "21.0", ago(60)},
            {kitchen + "state", "21.0", ago(59)},
            {kitchen + "friendly_name", R"("K\u00fcche")", ago(58)},
            {kitchen + "state", "21.5", ago(57)},
            {"homeassistant/binary_sensor/door/friendly_name", R"("Door")", ago(56)},
            {"homeassistant/binary_sensor/door/state", "on", ago(55)},
            {"homeassistant/binary_sensor/door/state", "off", ago(54)},
            {"home/ha1/sensor/kitchen_temperature/state_class", R"("measurement")", ago(53)},
            {"home/ha1/sensor/kitchen_temperature/state", "unavailable", ago(52)},
            {"too/short", "x", ago(51)}});
  }
};

TEST_F(StatsCli, CatalogHasOneRowPerEntityWithCurrentAttributesAndDayCounts) {
  load();
  EXPECT_EQ(
      sql("SELECT base_topic, entity_id, domain, friendly_name, unit_of_measurement, "
          "device_class, state_class, is_numeric, state, messages_24h, facts_24h "
          "FROM entity_catalog ORDER BY base_topic, entity_id"),
      "home/ha1\tsensor.kitchen_temperature\tsensor\tNULL\tNULL\tNULL\tmeasurement\t1\t"
      "unavailable\t2\t2\n"
      "homeassistant\tbinary_sensor.door\tbinary_sensor\tDoor\tNULL\tNULL\tNULL\t0\toff\t3\t3\n"
      "homeassistant\tsensor.kitchen_temperature\tsensor\tKüche\t°C\ttemperature\t"
      "measurement\t1\t21.5\t4\t2\n"
      "homeassistant\tsensor.mode\tsensor\tNULL\tNULL\tNULL\tNULL\t0\teco\t0\t0\n");
  // last_changed: when the current state value arrived; first_seen: the
  // entity's first message.
  EXPECT_EQ(sql("SELECT c.last_changed = m.received_at, c.first_seen = f.received_at "
                "FROM entity_catalog c, "
                "(SELECT MAX(received_at) AS received_at FROM messages "
                " WHERE topic = 'homeassistant/sensor/kitchen_temperature/state') m, "
                "(SELECT MIN(received_at) AS received_at FROM messages "
                " WHERE topic LIKE 'homeassistant/sensor/kitchen_temperature/%') f "
                "WHERE c.base_topic = 'homeassistant' "
                "AND c.entity_id = 'sensor.kitchen_temperature'"),
            "1\t1\n");
}

TEST_F(StatsCli, CatalogNumbersFollowTheWindow) {
  load();
  // A message just over a day old counts for nothing; one inside does.
  insert({{"homeassistant/sensor/mode/state", "away", ago(1441)},
          {"homeassistant/sensor/mode/state", "home", ago(1439)}});
  EXPECT_EQ(sql("SELECT messages_24h, facts_24h, state FROM entity_catalog "
                "WHERE entity_id = 'sensor.mode'"),
            "1\t1\thome\n");
}

TEST_F(StatsCli, DayCountsReadOnlyTheLastDayThroughIndexes) {
  load();
  // Enough old history that scanning it would cost more than the indexes.
  std::vector<Message> old;
  for (int i = 0; i < 600; ++i) {
    old.push_back({"homeassistant/sensor/busy_" + std::to_string(i % 6) + "/state",
                   std::to_string(i), ago(3 * 1440 + 600 - i)});
  }
  insert(old);
  sql("ANALYZE TABLE messages, facts, states, entities");
  const std::string plan = sql("EXPLAIN SELECT * FROM entity_catalog");
  // id select_type table type possible_keys key key_len ref rows Extra
  EXPECT_THAT(plan, ::testing::ContainsRegex("\tf\trange\t[^\t]*\tfacts_recorded_at\t")) << plan;
  // messages is partitioned by received_at: the last day is read through
  // the received_at index, or, when the old history lies in other
  // partitions (which depends on today's date), by scanning only partitions
  // that hold none of it.
  if (!::testing::Matches(::testing::ContainsRegex("\tm\trange\t[^\t]*\tmessages_received_at\t"))(
          plan)) {
    // id select_type table partitions type ...
    const std::string explained = sql("EXPLAIN PARTITIONS SELECT * FROM entity_catalog");
    std::istringstream lines(explained);
    std::string line;
    std::string partitions;
    while (std::getline(lines, line)) {
      std::vector<std::string> columns;
      std::istringstream cells(line);
      for (std::string cell; std::getline(cells, cell, '\t');) {
        columns.push_back(cell);
      }
      if (columns.size() > 3 && columns[2] == "m") {
        partitions = columns[3];
      }
    }
    ASSERT_FALSE(partitions.empty()) << explained;
    EXPECT_EQ(sql("SELECT COUNT(*) FROM messages PARTITION (" + partitions +
                  ") WHERE received_at < UTC_TIMESTAMP() - INTERVAL 1 DAY"),
              "0\n")
        << explained;
  }
  EXPECT_EQ(sql("SELECT SUM(messages_24h), SUM(facts_24h) FROM entity_catalog"), "9\t7\n");
}

TEST_F(StatsCli, JsonHasExactCountsAndShares) {
  load();
  const CommandResult r = run({"stats", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json stats = nlohmann::json::parse(r.out);
  const nlohmann::json& summary = stats.at("summary");
  EXPECT_EQ(summary.at("messages_24h"), 10);
  EXPECT_EQ(summary.at("facts_24h"), 7);
  EXPECT_EQ(summary.at("rejected_24h"), 1);
  EXPECT_EQ(summary.at("repeats_24h"), 2);
  EXPECT_EQ(summary.at("repeat_share_percent"), 20.0);
  const std::string oldest = sql("SELECT MIN(received_at) FROM messages");
  EXPECT_EQ(summary.at("oldest_message"), oldest.substr(0, 10) + "T" + oldest.substr(11, 15) + "Z");
  const std::string newest = sql("SELECT MAX(received_at) FROM messages");
  EXPECT_EQ(summary.at("newest_message"), newest.substr(0, 10) + "T" + newest.substr(11, 15) + "Z");

  EXPECT_EQ(stats.at("top_entities_by_messages"), nlohmann::json::parse(R"([
              {"base_topic": "homeassistant", "entity_id": "sensor.kitchen_temperature",
               "messages_24h": 4, "share_percent": 40.0},
              {"base_topic": "homeassistant", "entity_id": "binary_sensor.door",
               "messages_24h": 3, "share_percent": 30.0},
              {"base_topic": "home/ha1", "entity_id": "sensor.kitchen_temperature",
               "messages_24h": 2, "share_percent": 20.0}])"));
  // Ties by base topic, then entity id.
  EXPECT_EQ(stats.at("top_entities_by_facts"), nlohmann::json::parse(R"([
              {"base_topic": "homeassistant", "entity_id": "binary_sensor.door",
               "facts_24h": 3, "share_percent": 42.9},
              {"base_topic": "home/ha1", "entity_id": "sensor.kitchen_temperature",
               "facts_24h": 2, "share_percent": 28.6},
              {"base_topic": "homeassistant", "entity_id": "sensor.kitchen_temperature",
               "facts_24h": 2, "share_percent": 28.6}])"));

  std::set<std::string> tables;
  for (const auto& table : stats.at("tables")) {
    tables.insert(table.at("table").get<std::string>());
    EXPECT_EQ(
        table.at("total_bytes").get<std::int64_t>(),
        table.at("data_bytes").get<std::int64_t>() + table.at("index_bytes").get<std::int64_t>());
    EXPECT_GT(table.at("data_bytes").get<std::int64_t>(), 0) << table;
  }
  for (const char* expected : {"messages", "facts", "states", "entities", "current_states",
                               "retention_rules", "schema_migrations"}) {
    EXPECT_EQ(tables.count(expected), 1u) << expected;
  }
  // Views have no storage of their own.
  EXPECT_EQ(tables.count("entity_catalog"), 0u);
}

TEST_F(StatsCli, TableAndCsvShowTheSameNumbers) {
  load();
  const CommandResult table = run({"stats"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("Messages and facts (last 24 hours)\n"));
  EXPECT_THAT(table.out, ::testing::ContainsRegex("repeats \\(24 h\\) +2\n"));
  EXPECT_THAT(table.out, ::testing::ContainsRegex("repeats % +20.0\n"));
  EXPECT_THAT(table.out,
              ::testing::ContainsRegex("homeassistant +sensor.kitchen_temperature +4 +40.0\n"));

  const CommandResult csv = run({"stats", "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_THAT(csv.out, HasSubstr("summary\r\noldest_message,newest_message,messages_24h,facts_24h,"
                                 "rejected_24h,repeats_24h,repeat_share_percent,data_bytes,"
                                 "index_bytes\r\n"));
  EXPECT_THAT(csv.out, ::testing::ContainsRegex(",10,7,1,2,20.0,[0-9]+,[0-9]+\r\n"));
  EXPECT_THAT(csv.out, HasSubstr("\r\n\r\ntop_entities_by_facts\r\nbase_topic,entity_id,facts_24h,"
                                 "share_percent\r\nhomeassistant,binary_sensor.door,3,42.9\r\n"
                                 "home/ha1,sensor.kitchen_temperature,2,28.6\r\n"
                                 "homeassistant,sensor.kitchen_temperature,2,28.6\r\n"));
  EXPECT_THAT(csv.out, HasSubstr("\r\n\r\ntables\r\ntable,rows_estimate,data_bytes,index_bytes,"
                                 "total_bytes\r\n"));
}

TEST_F(StatsCli, EmptyDatabaseAndBadFormat) {
  const CommandResult r = run({"stats", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json stats = nlohmann::json::parse(r.out);
  EXPECT_TRUE(stats.at("summary").at("oldest_message").is_null());
  EXPECT_EQ(stats.at("summary").at("messages_24h"), 0);
  EXPECT_EQ(stats.at("summary").at("repeat_share_percent"), 0.0);
  EXPECT_TRUE(stats.at("top_entities_by_messages").empty());

  const CommandResult bad = run({"stats", "--format", "xml"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("is not an output format"));
}

}  // namespace
}  // namespace statesink::testing
