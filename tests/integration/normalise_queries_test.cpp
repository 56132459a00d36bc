// The ready-made queries in sql/ and the grants script, run the way a DBA runs them: through
// the mariadb client, on data that the trigger normalised from plain INSERTs.
#include <array>

#include "db/error.h"
#include "normalise_fixture.h"

namespace statesink::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    out.push_back(text.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

std::string at(const std::string& hh_mm) { return "2024-05-01 " + hh_mm + ":00.000000"; }

class NormaliseQueries : public NormaliseTest {
 protected:
  void SetUp() override {
    NormaliseTest::SetUp();
    if (HasFatalFailure()) return;
    const std::string outside = "homeassistant/sensor/outside_temperature/";
    insert({{outside + "unit_of_measurement", R"("\u00b0C")", at("10:05")},
            {outside + "friendly_name", R"("Au\u00dfen")", at("10:05")},
            {outside + "state", "10.0", at("10:05")},
            {outside + "state", "12.0", at("10:20")},
            {outside + "state", "11.0", at("10:50")},
            {outside + "state", "15.5", at("11:10")},
            {outside + "state", "unavailable", at("11:40")},
            {outside + "state", "14.5", at("11:45")},
            {outside + "state", "13.0", at("12:30")},
            // The same entity id in a second installation.
            {"home/ha1/sensor/outside_temperature/state", "5.0", at("10:10")},
            {"homeassistant/sensor/mode/state", "eco", at("10:00")},
            {"homeassistant/binary_sensor/door/state", "on", at("10:00")}});
    std::vector<Message> brightness;
    for (int minute = 1; minute <= 12; ++minute) {
      char time[8];
      std::snprintf(time, sizeof time, "10:%02d", minute);
      brightness.push_back(
          {"homeassistant/light/kitchen/brightness", std::to_string(minute * 10), at(time)});
    }
    insert(brightness);
    insert({{"homeassistant/light/kitchen/state", "on", at("10:12")}});
  }

  // Runs a file of sql/ after setting its parameters, as a DBA would.
  std::vector<std::string> run_file(const std::string& file, const std::string& parameters = "") {
    return lines(client_sql(parameters + "\n" + read_source_file("sql/" + file)));
  }

  config::DbUrl account(const std::string& user, const std::string& password) {
    config::DbUrl url = config::parse_db_url(url_);
    url.user = user;
    url.password = password;
    return url;
  }
};

TEST_F(NormaliseQueries, LatestValues) {
  EXPECT_THAT(run_file("latest_values.sql"),
              ElementsAre("home/ha1\tsensor.outside_temperature\tsensor\t5.0\t5\tNULL\tNULL\t" +
                              at("10:10") + "\t" + at("10:10"),
                          "homeassistant\tbinary_sensor.door\tbinary_sensor\ton\t1\tNULL\tNULL\t" +
                              at("10:00") + "\t" + at("10:00"),
                          "homeassistant\tlight.kitchen\tlight\ton\t1\tNULL\tNULL\t" + at("10:12") +
                              "\t" + at("10:12"),
                          "homeassistant\tsensor.mode\tsensor\teco\tNULL\tNULL\tNULL\t" +
                              at("10:00") + "\t" + at("10:00"),
                          "homeassistant\tsensor.outside_temperature\tsensor\t13.0\t13\t\u00b0C\t"
                          "Au\u00dfen\t" +
                              at("12:30") + "\t" + at("12:30")));
}

TEST_F(NormaliseQueries, EntityHistoryBetweenTwoTimes) {
  const std::string parameters =
      "SET @entity_id = 'sensor.outside_temperature', @attribute = 'state', "
      "@from = '2024-05-01 10:30:00', @to = '2024-05-01 11:45:00', ";
  // The value in force at @from comes first, then every change; @to is exclusive.
  EXPECT_THAT(run_file("entity_history.sql", parameters + "@base_topic = 'homeassistant';"),
              ElementsAre(at("10:30") + "\t12.0\t12\thomeassistant",
                          at("10:50") + "\t11.0\t11\thomeassistant",
                          at("11:10") + "\t15.5\t15.5\thomeassistant",
                          at("11:40") + "\tunavailable\tNULL\thomeassistant"));
  EXPECT_THAT(
      run_file("entity_history.sql", parameters + "@base_topic = NULL;"),
      ElementsAre(at("10:30") + "\t5.0\t5\thome/ha1", at("10:30") + "\t12.0\t12\thomeassistant",
                  at("10:50") + "\t11.0\t11\thomeassistant",
                  at("11:10") + "\t15.5\t15.5\thomeassistant",
                  at("11:40") + "\tunavailable\tNULL\thomeassistant"));
  // Nothing before @from: the history starts with the first change.
  EXPECT_THAT(run_file("entity_history.sql",
                       "SET @entity_id = 'sensor.outside_temperature', @attribute = 'state', "
                       "@from = '2024-05-01 09:00:00', @to = '2024-05-01 10:10:00', "
                       "@base_topic = 'homeassistant';"),
              ElementsAre(at("10:05") + "\t10.0\t10\thomeassistant"));
}

// A backlog that arrived late is charted when it happened in Home Assistant.
TEST_F(NormaliseQueries, HistoryIsPlacedAtTheEventTimeWhereHomeAssistantGivesIt) {
  const std::string e = "homeassistant/sensor/late/";
  insert({{e + "state", "7", "2024-05-01 15:00:00.000000"},
          {e + "last_updated", "2024-05-01T13:20:00+00:00", "2024-05-01 15:00:00.000100"},
          {e + "state", "8", "2024-05-01 15:00:00.000200"},
          {e + "last_updated", "2024-05-01T13:40:00+00:00", "2024-05-01 15:00:00.000300"}});
  EXPECT_THAT(run_file("entity_history.sql",
                       "SET @entity_id = 'sensor.late', @attribute = 'state', "
                       "@from = '2024-05-01 13:30:00', @to = '2024-05-01 14:00:00', "
                       "@base_topic = NULL;"),
              ElementsAre("2024-05-01 13:30:00.000000\t7\t7\thomeassistant",
                          "2024-05-01 13:40:00.000000\t8\t8\thomeassistant"));
  EXPECT_THAT(run_file("last_values.sql",
                       "SET @entity_id = 'sensor.late', @attribute = 'state', @base_topic = NULL;"),
              ElementsAre("2024-05-01 13:40:00.000000\t8\t8\thomeassistant\t"
                          "2024-05-01 15:00:00.000200",
                          "2024-05-01 13:20:00.000000\t7\t7\thomeassistant\t"
                          "2024-05-01 15:00:00.000000"));
}

TEST_F(NormaliseQueries, LastTenValues) {
  std::vector<std::string> expected;
  for (int minute = 12; minute >= 3; --minute) {
    char time[8];
    std::snprintf(time, sizeof time, "10:%02d", minute);
    expected.push_back(at(time) + "\t" + std::to_string(minute * 10) + "\t" +
                       std::to_string(minute * 10) + "\thomeassistant\t" + at(time));
  }
  EXPECT_THAT(run_file("last_values.sql",
                       "SET @entity_id = 'light.kitchen', @attribute = 'brightness', "
                       "@base_topic = NULL;"),
              ::testing::ElementsAreArray(expected));
}

TEST_F(NormaliseQueries, HourlyMinMeanMaxOfNumericSensors) {
  // Text states (eco, unavailable) and other domains are left out.
  EXPECT_THAT(run_file("hourly_numeric.sql",
                       "SET @from = '2024-05-01 10:00:00', @to = '2024-05-01 13:00:00';"),
              ElementsAre("2024-05-01 10:00:00\tsensor.outside_temperature\t10\t11\t12\t3",
                          "2024-05-01 10:00:00\tsensor.outside_temperature (home/ha1)\t5\t5\t5\t1",
                          "2024-05-01 11:00:00\tsensor.outside_temperature\t14.5\t15\t15.5\t2",
                          "2024-05-01 12:00:00\tsensor.outside_temperature\t13\t13\t13\t1"));
  EXPECT_THAT(run_file("hourly_numeric.sql",
                       "SET @from = '2024-05-01 11:00:00', @to = '2024-05-01 12:00:00';"),
              ElementsAre("2024-05-01 11:00:00\tsensor.outside_temperature\t14.5\t15\t15.5\t2"));
}

TEST_F(NormaliseQueries, AllFactsIsTheSeedQuery) {
  const std::vector<std::string> all = run_file("all_facts.sql");
  EXPECT_THAT(all, SizeIs(std::stoul(value("SELECT COUNT(*) FROM facts"))));
  EXPECT_THAT(all, ::testing::Contains(::testing::MatchesRegex(
                       "[0-9]+\t5.0\tstate\t[0-9]+\tsensor.outside_temperature\t[0-9]+\t"
                       "home/ha1\t[0-9]+")));
}

TEST_F(NormaliseQueries, GrantsGiveIngestInsertOnlyAndReaderSelectOnly) {
  const std::string grants = read_source_file("sql/grants.sql");
  // Placeholders a DBA cannot miss.
  EXPECT_THAT(grants, HasSubstr("CHANGE_ME_ingest_password"));
  EXPECT_THAT(grants, HasSubstr("CHANGE_ME_reader_password"));
  client_sql(grants);

  auto denied = [](db::Connection& c, const std::string& sql) {
    try {
      c.execute(sql);
    } catch (const db::DbError& e) {
      return e.code() == 1142u ? std::string("denied") : std::string(e.what());
    }
    return std::string("allowed");
  };

  db::Connection ingest =
      db::Connection::open(account("statesink_ingest", "CHANGE_ME_ingest_password"));
  // The trigger runs with its definer's rights: an insert is normalised all the same.
  ingest.execute(
      "INSERT INTO messages (topic, payload) VALUES ('homeassistant/sensor/granted/state', '7')");
  EXPECT_EQ(value("SELECT f.fact FROM facts f JOIN states s ON s.id = f.state_id "
                  "JOIN entities e ON e.id = s.entity_id WHERE e.label = 'sensor.granted'"),
            "7");
  EXPECT_EQ(denied(ingest, "UPDATE facts SET fact = 'x'"), "denied");
  EXPECT_EQ(denied(ingest, "DELETE FROM facts"), "denied");
  EXPECT_EQ(denied(ingest,
                   "INSERT INTO facts (state_id, message_id, fact, recorded_at) "
                   "VALUES (1, 1, 'x', NOW())"),
            "denied");
  EXPECT_EQ(denied(ingest, "UPDATE messages SET payload = 'x'"), "denied");
  EXPECT_EQ(denied(ingest, "DELETE FROM messages"), "denied");
  EXPECT_EQ(denied(ingest, "SELECT * FROM facts"), "denied");
  EXPECT_EQ(denied(ingest, "UPDATE settings SET value = '1'"), "denied");
  // What statesink ingest does besides inserting messages: read and move its
  // spool's position, in the same transaction.
  ingest.execute(
      "INSERT INTO ingest_progress (spool_id, last_seq, updated_at) "
      "VALUES ('grants-test', 5, UTC_TIMESTAMP(6)) "
      "ON DUPLICATE KEY UPDATE last_seq = 6, updated_at = UTC_TIMESTAMP(6)");
  ingest.execute(
      "INSERT INTO ingest_progress (spool_id, last_seq, updated_at) "
      "VALUES ('grants-test', 5, UTC_TIMESTAMP(6)) "
      "ON DUPLICATE KEY UPDATE last_seq = 6, updated_at = UTC_TIMESTAMP(6)");
  EXPECT_EQ(
      ingest.query_value("SELECT last_seq FROM ingest_progress WHERE spool_id = 'grants-test'"),
      "6");
  EXPECT_EQ(denied(ingest, "DELETE FROM ingest_progress"), "denied");

  db::Connection reader =
      db::Connection::open(account("statesink_reader", "CHANGE_ME_reader_password"));
  EXPECT_EQ(reader.query_value("SELECT COUNT(*) FROM facts"), value("SELECT COUNT(*) FROM facts"));
  EXPECT_EQ(reader.query_value("SELECT COUNT(*) FROM rejected_messages"), "0");
  // The statistics (written by `statesink statistics` as the owner): readable, not by ingest.
  EXPECT_EQ(reader.query_value("SELECT COUNT(*) FROM statistics_hourly"), "0");
  EXPECT_EQ(denied(reader, "DELETE FROM statistics_5min"), "denied");
  EXPECT_EQ(denied(ingest, "DELETE FROM statistics_5min"), "denied");
  EXPECT_EQ(reader.query_value("SELECT value FROM current_states c JOIN states s "
                               "ON s.id = c.state_id WHERE s.label = 'brightness'"),
            "120");
  EXPECT_EQ(denied(reader, "INSERT INTO messages (topic, payload) VALUES ('a/b/c/d', 'x')"),
            "denied");
  EXPECT_EQ(denied(reader, "UPDATE current_states SET value = 'x'"), "denied");
  EXPECT_EQ(denied(reader, "DELETE FROM facts"), "denied");
  EXPECT_EQ(denied(reader, "UPDATE settings SET value = '1'"), "denied");
  EXPECT_EQ(denied(reader, "CREATE TABLE sneaky (id INT)"), "denied");
  EXPECT_EQ(value("SELECT COUNT(*) FROM messages WHERE topic = 'a/b/c/d'"), "0");
}

}  // namespace
}  // namespace statesink::testing
