// statesink query against a real MariaDB: messages go in with plain INSERTs,
// the triggers make the facts, and the command is run as a process.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_fixture.h"
#include "history/fact_queries.h"

namespace statesink::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string at(const std::string& time) { return "'" + time + "'"; }

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> result;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    result.push_back(line);
  }
  return result;
}

class QueryCli : public CliTest {
 protected:
  // A temperature sensor as Home Assistant publishes it with attributes and
  // timestamps: every state change re-publishes the unchanged attributes,
  // which the triggers keep out of the history.
  void load_kitchen() {
    const std::string base = "homeassistant/sensor/kitchen_temperature/";
    std::vector<Message> messages;
    const std::pair<const char*, const char*> changes[] = {{"12:00:00", "21.5"},
                                                           {"12:01:00", "21.7"},
                                                           {"12:02:00", "22.0"},
                                                           {"12:03:00", "unavailable"}};
    for (const auto& [time, state] : changes) {
      const std::string t = std::string("2024-05-01 ") + time;
      messages.push_back({base + "state", state, at(t)});
      messages.push_back({base + "unit_of_measurement", R"("\u00b0C")", at(t + ".000100")});
      messages.push_back({base + "device_class", R"("temperature")", at(t + ".000200")});
      messages.push_back({base + "friendly_name", R"("K\u00fcche, \"oben\"")", at(t + ".000300")});
    }
    messages.push_back({base + "battery", "90", at("2024-05-01 12:01:30")});
    messages.push_back(
        {"homeassistant/light/master_bedroom_dimmer/state", "on", at("2024-05-01 12:00:00")});
    messages.push_back({"homeassistant/light/master_bedroom_dimmer/brightness", "180",
                        at("2024-05-01 12:00:00.000100")});
    // The same entity id from a second installation.
    messages.push_back(
        {"homeassistant/sensor/outdoor_temperature/state", "10.5", at("2024-05-01 12:00:00")});
    messages.push_back(
        {"home/ha2/sensor/outdoor_temperature/state", "3.25", at("2024-05-01 12:00:00")});
    insert(messages);
  }

  nlohmann::json json_of(const std::vector<std::string>& args) {
    const CommandResult r = run(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out);
  }
};

TEST_F(QueryCli, LatestShowsTheNewestFactsFirst) {
  load_kitchen();
  const nlohmann::json newest =
      json_of({"query", "latest", "sensor.kitchen_temperature", "-n", "3", "--format", "json"});
  ASSERT_EQ(newest.size(), 3U) << newest.dump();
  EXPECT_EQ(newest[0]["recorded_at"], "2024-05-01T12:03:00.000000Z");
  EXPECT_EQ(newest[0]["attribute"], "state");
  EXPECT_EQ(newest[0]["value"], "unavailable");
  EXPECT_TRUE(newest[0]["num_value"].is_null());
  EXPECT_EQ(newest[1]["value"], "22.0");
  EXPECT_EQ(newest[1]["num_value"], 22.0);
  EXPECT_EQ(newest[2]["attribute"], "battery");
  EXPECT_EQ(newest[2]["num_value"], 90.0);

  // Ten by default, as an aligned table; repeated attributes made no facts.
  const CommandResult table = run({"query", "latest", "sensor.kitchen_temperature"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  const std::vector<std::string> rows = lines(table.out);
  ASSERT_EQ(rows.size(), 2U + 8U) << table.out;
  EXPECT_THAT(rows[0], StartsWith("RECORDED AT (UTC)           ATTRIBUTE            VALUE"));
  EXPECT_THAT(rows[2], StartsWith("2024-05-01 12:03:00.000000  state                unavailable"));
  EXPECT_EQ(rows[9], "2024-05-01 12:00:00.000000  state                21.5           21.5");

  const nlohmann::json state = json_of({"query", "latest", "sensor.kitchen_temperature",
                                        "--attribute", "state", "-n", "2", "--format", "json"});
  ASSERT_EQ(state.size(), 2U);
  EXPECT_EQ(state[0]["value"], "unavailable");
  EXPECT_EQ(state[1]["value"], "22.0");
}

TEST_F(QueryCli, LatestCurrentShowsEveryAttributeNow) {
  load_kitchen();
  const nlohmann::json now =
      json_of({"query", "latest", "sensor.kitchen_temperature", "--current", "--format", "json"});
  ASSERT_EQ(now.size(), 5U) << now.dump();
  EXPECT_EQ(now[0]["attribute"], "state");
  EXPECT_EQ(now[0]["value"], "unavailable");
  EXPECT_EQ(now[0]["times_seen"], 1);
  EXPECT_EQ(now[0]["last_changed"], "2024-05-01T12:03:00.000000Z");
  EXPECT_EQ(now[1]["attribute"], "battery");
  const auto unit = std::find_if(now.begin(), now.end(), [](const nlohmann::json& row) {
    return row["attribute"] == "unit_of_measurement";
  });
  ASSERT_NE(unit, now.end());
  EXPECT_EQ((*unit)["value"], "°C");
  EXPECT_EQ((*unit)["times_seen"], 4);
  EXPECT_EQ((*unit)["last_changed"], "2024-05-01T12:00:00.000100Z");
  EXPECT_EQ((*unit)["last_seen"], "2024-05-01T12:03:00.000100Z");

  const CommandResult both =
      run({"query", "latest", "sensor.kitchen_temperature", "--current", "-n", "3"});
  EXPECT_EQ(both.exit_code, 2) << both.err;
}

TEST_F(QueryCli, HistoryBetweenTwoTimesOldestFirst) {
  load_kitchen();
  const CommandResult all =
      run({"query", "history", "sensor.kitchen_temperature", "--from", "2024-05-01T12:00:30Z",
           "--to", "2024-05-01 12:02:00", "--format", "csv"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(all.out,
            "recorded_at,attribute,value,num_value\r\n"
            "2024-05-01 12:01:00.000000,state,21.7,21.7\r\n"
            "2024-05-01 12:01:30.000000,battery,90,90\r\n"
            "2024-05-01 12:02:00.000000,state,22.0,22\r\n");

  // The same window written with an offset, for one attribute.
  const CommandResult state =
      run({"query", "history", "sensor.kitchen_temperature", "--from", "2024-05-01T14:00:30+02:00",
           "--to", "2024-05-01T14:03:00+02:00", "--attribute", "state"});
  ASSERT_EQ(state.exit_code, 0) << state.err;
  const std::vector<std::string> rows = lines(state.out);
  ASSERT_EQ(rows.size(), 2U + 3U) << state.out;
  EXPECT_EQ(rows[2], "2024-05-01 12:01:00.000000  state      21.7         21.7");
  EXPECT_EQ(rows[3], "2024-05-01 12:02:00.000000  state      22.0         22");
  EXPECT_EQ(rows[4], "2024-05-01 12:03:00.000000  state      unavailable");

  const CommandResult none = run({"query", "history", "sensor.kitchen_temperature", "--from",
                                  "2024-04-01", "--to", "2024-04-02"});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_THAT(none.out, StartsWith("no facts for homeassistant:sensor.kitchen_temperature"));
  EXPECT_EQ(json_of({"query", "history", "sensor.kitchen_temperature", "--from", "2024-04-01",
                     "--to", "2024-04-02", "--format", "json"}),
            nlohmann::json::array());
}

TEST_F(QueryCli, HistoryRelativeToNow) {
  insert({{"homeassistant/sensor/recent/state", "1", "UTC_TIMESTAMP(6) - INTERVAL 2 HOUR"},
          {"homeassistant/sensor/recent/state", "2", "UTC_TIMESTAMP(6) - INTERVAL 10 MINUTE"}});
  const nlohmann::json hour =
      json_of({"query", "history", "sensor.recent", "--from", "-1h", "--format", "json"});
  ASSERT_EQ(hour.size(), 1U) << hour.dump();
  EXPECT_EQ(hour[0]["value"], "2");
  const nlohmann::json day = json_of(
      {"query", "history", "sensor.recent", "--from=now-1d", "--to", "now", "--format", "json"});
  ASSERT_EQ(day.size(), 2U) << day.dump();
  EXPECT_EQ(day[0]["value"], "1");
}

TEST_F(QueryCli, FormatsQuoteAndTypeValues) {
  load_kitchen();
  const std::vector<std::string> args = {"query", "latest", "sensor.kitchen_temperature",
                                         "--attribute", "friendly_name"};
  auto with = [&](const char* format) {
    std::vector<std::string> a = args;
    a.insert(a.end(), {"--format", format});
    return a;
  };
  const CommandResult csv = run(with("csv"));
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out,
            "recorded_at,attribute,value,num_value\r\n"
            "2024-05-01 12:00:00.000300,friendly_name,\"Küche, \"\"oben\"\"\",\r\n");

  const nlohmann::json json = json_of(with("json"));
  ASSERT_EQ(json.size(), 1U);
  EXPECT_EQ(json[0]["value"], "Küche, \"oben\"");
  EXPECT_TRUE(json[0]["num_value"].is_null());
  EXPECT_EQ(json[0]["recorded_at"], "2024-05-01T12:00:00.000300Z");

  const CommandResult table = run(with("table"));
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(lines(table.out).at(2), "2024-05-01 12:00:00.000300  friendly_name  Küche, \"oben\"");

  const CommandResult light =
      run({"query", "latest", "light.master_bedroom_dimmer", "--format", "json"});
  ASSERT_EQ(light.exit_code, 0) << light.err;
  const nlohmann::json values = nlohmann::json::parse(light.out);
  ASSERT_EQ(values.size(), 2U);
  EXPECT_EQ(values[0]["attribute"], "brightness");
  EXPECT_EQ(values[0]["num_value"], 180.0);
  EXPECT_EQ(values[1]["value"], "on");
  EXPECT_EQ(values[1]["num_value"], 1.0);
}

TEST_F(QueryCli, UnknownEntityOrAttributeFailsWithSuggestions) {
  load_kitchen();
  const CommandResult typo = run({"query", "latest", "sensor.kitchen_temp"});
  EXPECT_EQ(typo.exit_code, 1);
  EXPECT_EQ(typo.err,
            "statesink: no entity 'sensor.kitchen_temp'; similar: sensor.kitchen_temperature\n");
  EXPECT_EQ(typo.out, "");

  const CommandResult no_domain = run({"query", "history", "outdoor_temperature", "--from", "-1d"});
  EXPECT_EQ(no_domain.exit_code, 1);
  EXPECT_THAT(no_domain.err, HasSubstr("similar: sensor.outdoor_temperature"));

  const CommandResult nothing_alike = run({"query", "latest", "switch.zzz"});
  EXPECT_EQ(nothing_alike.exit_code, 1);
  EXPECT_THAT(nothing_alike.err, HasSubstr("no entity 'switch.zzz'; entity ids look like"));

  const CommandResult attribute =
      run({"query", "latest", "sensor.kitchen_temperature", "--attribute", "colour"});
  EXPECT_EQ(attribute.exit_code, 1);
  EXPECT_EQ(attribute.err,
            "statesink: sensor.kitchen_temperature has no attribute 'colour'; it has: state, "
            "battery, device_class, friendly_name, unit_of_measurement\n");

  const CommandResult base = run({"query", "latest", "nowhere:sensor.kitchen_temperature"});
  EXPECT_EQ(base.exit_code, 1);
  EXPECT_EQ(base.err, "statesink: no base topic 'nowhere'; known: home/ha2, homeassistant\n");

  const CommandResult elsewhere = run({"query", "latest", "home/ha2:sensor.kitchen_temperature"});
  EXPECT_EQ(elsewhere.exit_code, 1);
  EXPECT_THAT(elsewhere.err, HasSubstr("it exists under: homeassistant"));
}

TEST_F(QueryCli, AmbiguousEntityNeedsABaseTopic) {
  load_kitchen();
  const CommandResult both = run({"query", "latest", "sensor.outdoor_temperature"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_EQ(both.err,
            "statesink: 'sensor.outdoor_temperature' exists under several base topics: home/ha2, "
            "homeassistant; choose one with BASE_TOPIC:sensor.outdoor_temperature or "
            "--base-topic BASE_TOPIC\n");

  const nlohmann::json ha2 =
      json_of({"query", "latest", "home/ha2:sensor.outdoor_temperature", "--format", "json"});
  ASSERT_EQ(ha2.size(), 1U);
  EXPECT_EQ(ha2[0]["value"], "3.25");
  const nlohmann::json ha = json_of({"query", "latest", "sensor.outdoor_temperature",
                                     "--base-topic", "homeassistant", "--format", "json"});
  ASSERT_EQ(ha.size(), 1U);
  EXPECT_EQ(ha[0]["value"], "10.5");
  const nlohmann::json history =
      json_of({"query", "history", "home/ha2:sensor.outdoor_temperature", "--from", "2024-05-01",
               "--to", "2024-05-02", "--format", "json"});
  ASSERT_EQ(history.size(), 1U);
  EXPECT_EQ(history[0]["num_value"], 3.25);
}

TEST_F(QueryCli, MalformedArgumentsAreUsageErrors) {
  load_kitchen();
  const CommandResult time =
      run({"query", "history", "sensor.kitchen_temperature", "--from", "yesterday"});
  EXPECT_EQ(time.exit_code, 2);
  EXPECT_THAT(time.err, StartsWith("statesink: --from: 'yesterday' is not a time; use "
                                   "2024-05-01T12:00:00Z, 2024-05-01T14:00:00+02:00,"));
  EXPECT_THAT(time.err, HasSubstr("-2h"));

  const std::vector<std::vector<std::string>> usage_errors = {
      {"query", "history", "sensor.kitchen_temperature", "--from", "2024-05-01T25:00:00Z"},
      {"query", "history", "sensor.kitchen_temperature", "--from", "2024-05-01", "--to",
       "2024-05-01T12:00:00+25:00"},
      {"query", "history", "sensor.kitchen_temperature", "--from", "2024-05-02", "--to",
       "2024-05-01"},
      {"query", "history", "sensor.kitchen_temperature"},
      {"query", "latest", "sensor.kitchen_temperature", "--format", "xml"},
      {"query", "latest", "sensor.kitchen_temperature", "-n", "0"},
      {"query", "latest", "sensor.kitchen_temperature", "-n", "ten"},
      {"query", "latest"},
      {"query"},
  };
  for (const auto& args : usage_errors) {
    const CommandResult r = run(args);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args) << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.out, "");
  }
}

// Splices literal values into SQL with placeholders, for EXPLAIN.
std::string with_values(std::string sql, const std::vector<std::string>& values) {
  for (const std::string& value : values) {
    sql.replace(sql.find('?'), 1, value);
  }
  return sql;
}

TEST_F(QueryCli, QueriesUseTheStateTimeIndex) {
  // Enough history that a scan would cost more than the index.
  std::vector<Message> messages;
  for (int minute = 0; minute < 3000; ++minute) {
    const std::string time =
        "TIMESTAMP'2024-05-01 00:00:00' + INTERVAL " + std::to_string(minute) + " MINUTE";
    messages.push_back({"homeassistant/sensor/busy/state", std::to_string(minute % 7), time});
    messages.push_back(
        {"homeassistant/sensor/busy/battery", std::to_string(100 - minute % 5), time});
    messages.push_back({"homeassistant/sensor/other/state", std::to_string(minute % 3), time});
  }
  insert(messages);
  sql("ANALYZE TABLE facts");
  const std::vector<std::string> ids =
      lines(sql("SELECT s.id FROM states s JOIN entities e ON e.id = s.entity_id "
                "WHERE e.label = 'sensor.busy' ORDER BY s.label"));
  ASSERT_EQ(ids.size(), 2U);

  const std::string from = "'2024-05-01 10:00:00'";
  const std::string to = "'2024-05-01 11:00:00'";
  for (const auto& plan :
       {sql("EXPLAIN " + with_values(history::facts_between_sql(1), {ids[0], from, to})),
        sql("EXPLAIN " + with_values(history::facts_between_sql(2), {ids[0], ids[1], from, to}))}) {
    // id select_type table type possible_keys key key_len ref rows Extra
    EXPECT_THAT(plan, HasSubstr("\tfacts\trange\t")) << plan;
    EXPECT_THAT(plan, HasSubstr("\tfacts_state_time\t")) << plan;
  }

  const std::string latest =
      sql("EXPLAIN " + with_values(history::latest_facts_sql(2, 10), {ids[0], ids[1]}));
  for (const std::string& row : lines(latest)) {
    if (row.find("\tfacts\t") != std::string::npos) {
      EXPECT_THAT(row, HasSubstr("\tfacts_state_time\t")) << latest;
      EXPECT_THAT(row, Not(HasSubstr("filesort"))) << latest;
    }
  }

  const nlohmann::json hour =
      json_of({"query", "history", "sensor.busy", "--attribute", "state", "--from",
               "2024-05-01T10:00:00Z", "--to", "2024-05-01T11:00:00Z", "--format", "json"});
  EXPECT_EQ(hour.size(), 61U);
}

}  // namespace
}  // namespace statesink::testing
