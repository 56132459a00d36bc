// The normalising trigger against a real MariaDB: plain INSERTs into `messages`, shaped
// like Home Assistant's statestream, must give exactly the expected facts and current
// states, and no message, however malformed, may fail the INSERT it came in.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <latch>
#include <thread>
#include <utility>

#include "db/error.h"
#include "normalise_fixture.h"

namespace statesink::testing {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// What Home Assistant publishes for one entity: state, the two timestamps, then every
// attribute as JSON.
struct Publication {
  std::string base;
  std::string entity_id;  // domain.object_id
  std::string state;
  std::string last_updated;
  std::string last_changed;
  std::vector<std::pair<std::string, std::string>> attributes;

  std::vector<Message> messages(const std::string& received_at, bool retained = false) const {
    const std::size_t dot = entity_id.find('.');
    const std::string prefix =
        base + "/" + entity_id.substr(0, dot) + "/" + entity_id.substr(dot + 1) + "/";
    std::vector<Message> out = {{prefix + "state", state, received_at, retained},
                                {prefix + "last_updated", last_updated, received_at, retained},
                                {prefix + "last_changed", last_changed, received_at, retained}};
    for (const auto& [name, json] : attributes) {
      out.push_back({prefix + name, json, received_at, retained});
    }
    return out;
  }

  void set(const std::string& name, const std::string& json) {
    for (auto& attribute : attributes) {
      if (attribute.first == name) attribute.second = json;
    }
  }
};

std::vector<Message> concat(const std::vector<std::vector<Message>>& parts) {
  std::vector<Message> all;
  for (const auto& part : parts) all.insert(all.end(), part.begin(), part.end());
  return all;
}

const std::string t1 = "2024-05-01 12:00:01.000000";
const std::string t2 = "2024-05-01 12:00:02.000000";
const std::string t3 = "2024-05-01 12:00:03.000000";
const std::string t4 = "2024-05-01 12:00:04.000000";
const std::string t5 = "2024-05-01 12:00:05.000000";
const std::string t6 = "2024-05-01 12:00:06.000000";
const std::string t7 = "2024-05-01 12:00:07.000000";

class NormaliseTrigger : public NormaliseTest {
 protected:
  // Facts added since the last call, in insertion order, as
  // base|entity|attribute|fact|num_value.
  std::vector<std::string> new_facts() {
    std::vector<std::string> out = rows(
        "SELECT b.label, e.label, s.label, f.fact, f.num_value FROM facts f "
        "JOIN states s ON s.id = f.state_id JOIN entities e ON e.id = s.entity_id "
        "JOIN base_topics b ON b.id = e.base_topic_id WHERE f.id > " +
        std::to_string(seen_fact_id_) + " ORDER BY f.id");
    seen_fact_id_ = std::stoull(value("SELECT COALESCE(MAX(id), 0) FROM facts"));
    return out;
  }

  // entity/attribute's current state as value|num_value|last_changed|last_seen|times_seen.
  std::string current(const std::string& base, const std::string& entity,
                      const std::string& attribute) {
    const std::vector<db::Row> r = db().query(
        "SELECT c.value, c.num_value, c.last_changed, c.last_seen, c.times_seen "
        "FROM base_topics b JOIN entities e ON e.base_topic_id = b.id "
        "JOIN states s ON s.entity_id = e.id JOIN current_states c ON c.state_id = s.id "
        "WHERE b.label = ? AND e.label = ? AND s.label = ?",
        std::array<db::Param, 3>{std::string_view(base), std::string_view(entity),
                                 std::string_view(attribute)});
    return r.size() == 1 ? join_row(r[0]) : "rows: " + std::to_string(r.size());
  }

  std::uint64_t seen_fact_id_ = 0;
};

TEST_F(NormaliseTrigger, HomeAssistantSequenceGivesExactlyTheExpectedFactsAndCurrentStates) {
  Publication kitchen{"homeassistant",
                      "sensor.kitchen_temperature",
                      "21.5",
                      "2024-05-01T12:00:00.512345+00:00",
                      "2024-05-01T12:00:00.512345+00:00",
                      {{"state_class", R"("measurement")"},
                       {"unit_of_measurement", R"("\u00b0C")"},
                       {"device_class", R"("temperature")"},
                       {"friendly_name", R"("K\u00fcche Temperatur")"}}};
  Publication motion{"homeassistant",
                     "binary_sensor.hallway_motion",
                     "off",
                     "2024-05-01T11:00:00+00:00",
                     "2024-05-01T11:00:00+00:00",
                     {{"device_class", R"("motion")"}, {"friendly_name", R"("Flur Bewegung")"}}};
  // A second installation under a two-level base topic; the light bulb is a surrogate pair.
  Publication light{"home/ha1",
                    "light.living_room",
                    "on",
                    "2024-05-01T11:30:00.250000+00:00",
                    "2024-05-01T11:30:00.250000+00:00",
                    {{"supported_color_modes", R"(["color_temp", "rgb"])"},
                     {"color_mode", R"("rgb")"},
                     {"brightness", "180"},
                     {"rgb_color", "[255, 128, 0]"},
                     {"friendly_name", R"("Wohnzimmer \ud83d\udca1")"}}};
  Publication climate{"homeassistant",
                      "climate.living_room",
                      "heat",
                      "2024-05-01T10:00:00+00:00",
                      "2024-05-01T10:00:00+00:00",
                      {{"hvac_modes", R"(["off", "heat", "auto"])"},
                       {"current_temperature", "21.0"},
                       {"temperature", "22.5"},
                       {"current_humidity", "NaN"},
                       {"friendly_name", R"("Thermostat")"}}};
  Publication person{"homeassistant",
                     "person.anna",
                     "home",
                     "2024-05-01T09:15:00.000001+00:00",
                     "2024-05-01T09:15:00.000001+00:00",
                     {{"latitude", "52.520008"},
                      {"longitude", "13.404954"},
                      {"gps_accuracy", "12"},
                      {"altitude", "null"},
                      {"source", R"("device_tracker.anna_phone")"},
                      {"nickname", R"("Nan \"die Gro\u00dfe\"")"},
                      {"friendly_name", R"("Anna M\u00fcller")"}}};

  // t1: everything for the first time, in one batch.
  insert(concat({kitchen.messages(t1), motion.messages(t1), light.messages(t1),
                 climate.messages(t1), person.messages(t1)}));
  const std::string ha = "homeassistant|";
  const std::string sensor = ha + "sensor.kitchen_temperature|";
  const std::string bin = ha + "binary_sensor.hallway_motion|";
  const std::string lamp = "home/ha1|light.living_room|";
  const std::string clim = ha + "climate.living_room|";
  const std::string anna = ha + "person.anna|";
  EXPECT_THAT(
      new_facts(),
      ElementsAre(
          sensor + "state|21.5|21.5", sensor + "last_updated|2024-05-01T12:00:00.512345+00:00|NULL",
          sensor + "last_changed|2024-05-01T12:00:00.512345+00:00|NULL",
          sensor + "state_class|measurement|NULL", sensor + "unit_of_measurement|\u00b0C|NULL",
          sensor + "device_class|temperature|NULL",
          sensor + "friendly_name|K\u00fcche Temperatur|NULL", bin + "state|off|0",
          bin + "last_updated|2024-05-01T11:00:00+00:00|NULL",
          bin + "last_changed|2024-05-01T11:00:00+00:00|NULL", bin + "device_class|motion|NULL",
          bin + "friendly_name|Flur Bewegung|NULL", lamp + "state|on|1",
          lamp + "last_updated|2024-05-01T11:30:00.250000+00:00|NULL",
          lamp + "last_changed|2024-05-01T11:30:00.250000+00:00|NULL",
          lamp + R"(supported_color_modes|["color_temp", "rgb"]|NULL)",
          lamp + "color_mode|rgb|NULL", lamp + "brightness|180|180",
          lamp + "rgb_color|[255, 128, 0]|NULL",
          lamp + "friendly_name|Wohnzimmer \xf0\x9f\x92\xa1|NULL", clim + "state|heat|NULL",
          clim + "last_updated|2024-05-01T10:00:00+00:00|NULL",
          clim + "last_changed|2024-05-01T10:00:00+00:00|NULL",
          clim + R"(hvac_modes|["off", "heat", "auto"]|NULL)", clim + "current_temperature|21.0|21",
          clim + "temperature|22.5|22.5", clim + "current_humidity|NaN|NULL",
          clim + "friendly_name|Thermostat|NULL", anna + "state|home|NULL",
          anna + "last_updated|2024-05-01T09:15:00.000001+00:00|NULL",
          anna + "last_changed|2024-05-01T09:15:00.000001+00:00|NULL",
          anna + "latitude|52.520008|52.520008", anna + "longitude|13.404954|13.404954",
          anna + "gps_accuracy|12|12", anna + "altitude|null|NULL",
          anna + "source|device_tracker.anna_phone|NULL",
          anna + "nickname|Nan \"die Gro\u00dfe\"|NULL",
          anna + "friendly_name|Anna M\u00fcller|NULL"));
  EXPECT_THAT(rows("SELECT DISTINCT recorded_at FROM facts"), ElementsAre(t1));

  // t2: the temperature changes; Home Assistant re-publishes every attribute unchanged.
  kitchen.state = "22.0";
  kitchen.last_updated = kitchen.last_changed = "2024-05-01T12:00:02.100000+00:00";
  insert(kitchen.messages(t2));
  EXPECT_THAT(new_facts(),
              ElementsAre(sensor + "state|22.0|22",
                          sensor + "last_updated|2024-05-01T12:00:02.100000+00:00|NULL",
                          sensor + "last_changed|2024-05-01T12:00:02.100000+00:00|NULL"));

  // t3: the light goes off; its colour attributes become null.
  light.state = "off";
  light.last_updated = light.last_changed = "2024-05-01T12:00:03+00:00";
  light.set("color_mode", "null");
  light.set("brightness", "null");
  light.set("rgb_color", "null");
  insert(light.messages(t3));
  EXPECT_THAT(new_facts(), ElementsAre(lamp + "state|off|0",
                                       lamp + "last_updated|2024-05-01T12:00:03+00:00|NULL",
                                       lamp + "last_changed|2024-05-01T12:00:03+00:00|NULL",
                                       lamp + "color_mode|null|NULL", lamp + "brightness|null|NULL",
                                       lamp + "rgb_color|null|NULL"));

  // t4: only an attribute changes: state and last_changed repeat, last_updated moves.
  climate.last_updated = "2024-05-01T12:00:04+00:00";
  climate.set("current_temperature", "21.5");
  insert(climate.messages(t4));
  EXPECT_THAT(new_facts(), ElementsAre(clim + "last_updated|2024-05-01T12:00:04+00:00|NULL",
                                       clim + "current_temperature|21.5|21.5"));

  // t5: motion.
  motion.state = "on";
  motion.last_updated = motion.last_changed = "2024-05-01T12:00:05+00:00";
  insert(motion.messages(t5));
  EXPECT_THAT(new_facts(),
              ElementsAre(bin + "state|on|1", bin + "last_updated|2024-05-01T12:00:05+00:00|NULL",
                          bin + "last_changed|2024-05-01T12:00:05+00:00|NULL"));

  // t6: the ingester reconnects and the broker replays every retained topic.
  insert(concat({kitchen.messages(t6, true), motion.messages(t6, true), light.messages(t6, true),
                 climate.messages(t6, true), person.messages(t6, true)}));
  EXPECT_THAT(new_facts(), IsEmpty());

  // t7: the sensor becomes unavailable.
  kitchen.state = "unavailable";
  kitchen.last_updated = kitchen.last_changed = "2024-05-01T12:00:07+00:00";
  insert(kitchen.messages(t7));
  EXPECT_THAT(new_facts(), ElementsAre(sensor + "state|unavailable|NULL",
                                       sensor + "last_updated|2024-05-01T12:00:07+00:00|NULL",
                                       sensor + "last_changed|2024-05-01T12:00:07+00:00|NULL"));

  // Facts carry the reception time of their message.
  EXPECT_EQ(value("SELECT COUNT(*) FROM facts f JOIN messages m ON m.id = f.message_id "
                  "WHERE f.recorded_at = m.received_at"),
            value("SELECT COUNT(*) FROM facts"));

  // The model: two installations, entities told apart by base topic.
  EXPECT_THAT(rows("SELECT label FROM base_topics ORDER BY label"),
              ElementsAre("home/ha1", "homeassistant"));
  EXPECT_THAT(rows("SELECT b.label, e.label, e.domain, e.object_id FROM entities e "
                   "JOIN base_topics b ON b.id = e.base_topic_id ORDER BY e.id"),
              ElementsAre("homeassistant|sensor.kitchen_temperature|sensor|kitchen_temperature",
                          "homeassistant|binary_sensor.hallway_motion|binary_sensor|hallway_motion",
                          "home/ha1|light.living_room|light|living_room",
                          "homeassistant|climate.living_room|climate|living_room",
                          "homeassistant|person.anna|person|anna"));
  EXPECT_EQ(value("SELECT COUNT(*) FROM states"), "38");

  // current_states: one row per state, pointing at that state's latest fact.
  EXPECT_EQ(value("SELECT COUNT(*) FROM current_states"), "38");
  EXPECT_EQ(value("SELECT COUNT(*) FROM current_states c JOIN facts f ON f.id = c.fact_id "
                  "WHERE f.state_id = c.state_id AND f.fact = c.value "
                  "AND c.fact_id = (SELECT MAX(id) FROM facts WHERE state_id = c.state_id)"),
            "38");
  EXPECT_EQ(current("homeassistant", "sensor.kitchen_temperature", "state"),
            "unavailable|NULL|" + t7 + "|" + t7 + "|1");
  EXPECT_EQ(current("homeassistant", "sensor.kitchen_temperature", "unit_of_measurement"),
            "\u00b0C|NULL|" + t1 + "|" + t7 + "|4");
  EXPECT_EQ(current("home/ha1", "light.living_room", "brightness"),
            "null|NULL|" + t3 + "|" + t6 + "|2");
  EXPECT_EQ(current("home/ha1", "light.living_room", "supported_color_modes"),
            R"(["color_temp", "rgb"]|NULL|)" + t1 + "|" + t6 + "|3");
  EXPECT_EQ(current("homeassistant", "climate.living_room", "state"),
            "heat|NULL|" + t1 + "|" + t6 + "|3");
  EXPECT_EQ(current("homeassistant", "climate.living_room", "last_changed"),
            "2024-05-01T10:00:00+00:00|NULL|" + t1 + "|" + t6 + "|3");
  EXPECT_EQ(current("homeassistant", "climate.living_room", "current_temperature"),
            "21.5|21.5|" + t4 + "|" + t6 + "|2");
  EXPECT_EQ(current("homeassistant", "binary_sensor.hallway_motion", "state"),
            "on|1|" + t5 + "|" + t6 + "|2");
  EXPECT_EQ(current("homeassistant", "person.anna", "latitude"),
            "52.520008|52.520008|" + t1 + "|" + t6 + "|2");
  // last_message_id is the newest message for the state: the replay.
  EXPECT_EQ(value("SELECT m.retained FROM current_states c JOIN states s ON s.id = c.state_id "
                  "JOIN messages m ON m.id = c.last_message_id WHERE s.topic_hash = "
                  "UNHEX(SHA2('homeassistant/person/anna/latitude', 256))"),
            "1");

  EXPECT_EQ(value("SELECT COUNT(*) FROM rejected_messages"), "0");
  EXPECT_EQ(value("SELECT COUNT(*) FROM messages"), "111");

  // The seed query from the original project, as the project ships it.
  const std::vector<db::Row> seed = db().query(read_source_file("sql/all_facts.sql"));
  std::vector<std::string> seen;
  for (const db::Row& row : seed) {
    ASSERT_EQ(row.size(), 8u);
    seen.push_back(*row[1] + "|" + *row[2] + "|" + *row[4] + "|" + *row[6]);
  }
  EXPECT_THAT(seen, SizeIs(std::stoul(value("SELECT COUNT(*) FROM facts"))));
  EXPECT_THAT(seen,
              Contains("\u00b0C|unit_of_measurement|sensor.kitchen_temperature|homeassistant"));
  EXPECT_THAT(seen, Contains("[255, 128, 0]|rgb_color|light.living_room|home/ha1"));
  EXPECT_THAT(seen, Contains("unavailable|state|sensor.kitchen_temperature|homeassistant"));
}

TEST_F(NormaliseTrigger, MalformedMessagesAreKeptAndRejectedWithoutBlockingGoodOnes) {
  const std::string at = "2024-05-01 13:00:00.000000";
  const std::string ok = "homeassistant/sensor/ok/";
  const std::string long_base(256, 'b');
  const std::string max_base(255, 'c');
  const std::string long_level(256, 'o');
  const std::string max_level(255, 'p');
  struct Case {
    std::string topic;
    std::string payload;
    std::string reason;  // empty: a good message that must become a fact
  };
  const std::vector<Case> cases = {
      {ok + "state", "1.5", ""},
      {"homeassistant/sensor/x", "1", "topic has fewer than four levels"},
      {"state", "1", "topic has fewer than four levels"},
      {"", "1", "topic has fewer than four levels"},
      {ok + "quoted", R"("it's \"quoted\"; DROP TABLE facts; --")", ""},
      {"homeassistant//x/state", "1", "topic has an empty level"},
      {"/sensor/x/state", "1", "topic has an empty level"},
      {"homeassistant/sensor/x/", "1", "topic has an empty level"},
      {"homeassistant/sensor/x /state", "1", "topic level ends with a space"},
      {"homeassistant/sensor/x/state ", "1", "topic level ends with a space"},
      {std::string("homeassistant/sensor/n\0l/state", 30), "1", "topic contains a NUL character"},
      {long_base + "/sensor/x/state", "1", "base topic longer than 255 characters"},
      {max_base + "/sensor/x/state", "1", ""},
      {"homeassistant/sensor/" + long_level + "/state", "1",
       "topic level longer than 255 characters"},
      {"homeassistant/" + long_level + "/x/state", "1", "topic level longer than 255 characters"},
      {"homeassistant/sensor/x/" + long_level, "1", "topic level longer than 255 characters"},
      {"homeassistant/sensor/" + max_level + "/" + max_level, "1", ""},
      {ok + "latin1",
       "K\xfc"
       "che",
       "payload is not valid UTF-8"},
      {ok + "ff", "\xff", "payload is not valid UTF-8"},
      {ok + "overlong", "\xc0\xaf", "payload is not valid UTF-8"},
      {ok + "surrogate", "x\xed\xa0\x80", "payload is not valid UTF-8"},
      {ok + "truncated", "\xe2\x82", "payload is not valid UTF-8"},
      {ok + "beyond", "\xf4\x90\x80\x80", "payload is not valid UTF-8"},
      {ok + "hangul", "\xed\x95\x9c\xea\xb8\x80", ""},  // ED as a valid lead byte
      {ok + "huge", std::string(70000, 'x'), "payload larger than 65535 bytes"},
      {ok + "very_huge", std::string(3000000, 'x'), "payload larger than 65535 bytes"},
      {ok + "largest", std::string(65535, 'y'), ""},
      {ok + "nul", std::string("a\0b", 3), "payload contains a NUL byte"},
      {ok + "json_nul", R"("a\u0000b")", "value contains a NUL character"},
      {ok + "nan", "NaN", ""},
      {ok + "infinity", "-Infinity", ""},
      {ok + "too_big", "1e999", ""},
      {ok + "not_json", "{broken", ""},
      {ok + "empty", "", ""},
      {"homeassistant/sensor/last/state", "2", ""},
  };
  std::vector<Message> batch;
  for (const Case& c : cases) batch.push_back({c.topic, c.payload, at});
  ASSERT_NO_THROW(insert(batch));

  EXPECT_EQ(value("SELECT COUNT(*) FROM messages"), std::to_string(cases.size()));
  std::vector<std::string> expected_rejections;
  std::vector<std::string> expected_facts;
  for (const Case& c : cases) {
    (c.reason.empty() ? expected_facts : expected_rejections)
        .push_back(c.topic + "|" + (c.reason.empty() ? "" : c.reason));
  }
  EXPECT_THAT(rows("SELECT topic, reason FROM rejected_messages ORDER BY id"),
              ::testing::ElementsAreArray(expected_rejections));
  EXPECT_THAT(rows("SELECT m.topic, '' FROM facts f JOIN messages m ON m.id = f.message_id "
                   "ORDER BY f.id"),
              ::testing::ElementsAreArray(expected_facts));
  // Every message has either a fact or a rejection, never both, never neither.
  EXPECT_EQ(value("SELECT COUNT(*) FROM messages m LEFT JOIN facts f ON f.message_id = m.id "
                  "LEFT JOIN message_rejections r ON r.message_id = m.id "
                  "WHERE (f.id IS NULL) = (r.message_id IS NULL)"),
            "0");
  // The view shows the raw row as it was stored.
  EXPECT_EQ(value("SELECT HEX(payload) FROM rejected_messages WHERE topic = '" + ok + "ff'"), "FF");
  // Rejected topics created nothing.
  EXPECT_EQ(value("SELECT COUNT(*) FROM states"), value("SELECT COUNT(*) FROM current_states"));

  auto fact = [&](const std::string& attribute) {
    return value(
        "SELECT CONCAT(f.fact, '|', COALESCE(f.num_value, 'NULL')) FROM facts f "
        "JOIN states s ON s.id = f.state_id JOIN entities e ON e.id = s.entity_id "
        "WHERE e.label = 'sensor.ok' AND s.label = '" +
        attribute + "'");
  };
  EXPECT_EQ(fact("state"), "1.5|1.5");
  EXPECT_EQ(fact("quoted"), "it's \"quoted\"; DROP TABLE facts; --|NULL");
  EXPECT_EQ(fact("hangul"), "\xed\x95\x9c\xea\xb8\x80|NULL");
  EXPECT_EQ(fact("nan"), "NaN|NULL");
  EXPECT_EQ(fact("infinity"), "-Infinity|NULL");
  EXPECT_EQ(fact("too_big"), "1e999|NULL");
  EXPECT_EQ(fact("not_json"), "{broken|NULL");
  EXPECT_EQ(fact("empty"), "|NULL");
  EXPECT_EQ(value("SELECT LENGTH(f.fact) FROM facts f JOIN states s ON s.id = f.state_id "
                  "WHERE s.label = 'largest'"),
            "65535");
  EXPECT_EQ(value("SELECT label FROM base_topics WHERE label LIKE 'ccc%'"), max_base);
}

TEST_F(NormaliseTrigger, NumbersBooleansAndJsonStrings) {
  const std::string at = "2024-05-01 14:00:00.000000";
  const std::vector<std::pair<std::string, std::string>> values = {
      {"state", "-3"},          {"a1", "2.50"},    {"a2", "1e3"},     {"a3", ".5"},
      {"a4", "true"},           {"a5", "false"},   {"a6", R"("on")"}, {"a7", R"("off")"},
      {"a8", R"("21.5")"},      {"a9", "On"},      {"b1", "0x10"},    {"b2", " 1"},
      {"b3", R"("unknown")"},   {"b4", "unknown"}, {"b5", "[1]"},     {"b6", R"({"a": 1})"},
      {"b7", R"("tab\there")"}, {"b8", R"("\/")"}, {"b9", "12abc"},   {"c1", "+7"},
  };
  std::vector<Message> batch;
  for (const auto& [attribute, payload] : values) {
    batch.push_back({"homeassistant/sensor/n/" + attribute, payload, at});
  }
  insert(batch);
  EXPECT_THAT(rows("SELECT s.label, f.fact, f.num_value FROM facts f "
                   "JOIN states s ON s.id = f.state_id ORDER BY f.id"),
              ElementsAre("state|-3|-3", "a1|2.50|2.5", "a2|1e3|1000", "a3|.5|0.5", "a4|true|1",
                          "a5|false|0", "a6|on|1", "a7|off|0", "a8|21.5|21.5", "a9|On|NULL",
                          "b1|0x10|NULL", "b2| 1|NULL", "b3|unknown|NULL", "b4|unknown|NULL",
                          "b5|[1]|NULL", R"(b6|{"a": 1}|NULL)", "b7|tab\there|NULL", "b8|/|NULL",
                          "b9|12abc|NULL", "c1|+7|7"));
}

// A state takes its event time from the first last_updated inserted after it,
// received within a minute after it.
TEST_F(NormaliseTrigger, StateFactsTakeTheEventTimeOfTheFollowingLastUpdated) {
  const std::string e = "homeassistant/sensor/e/";
  insert({{e + "state", "1", "2024-05-01 14:00:00.000000"},
          {e + "last_updated", "2024-05-01T13:00:00.250000+00:00", "2024-05-01 14:00:00.000100"},
          {e + "unit_of_measurement", R"("W")", "2024-05-01 14:00:00.000200"}});
  // Another offset; then a last_updated inserted before its state: that state
  // gets none (the ingester writes the state first).
  insert({{e + "state", "2", "2024-05-01 14:00:05.000000"},
          {e + "last_updated", "2024-05-01T15:00:05+02:00", "2024-05-01 14:00:05.000100"}});
  insert({{e + "last_updated", "2024-05-01T13:00:07Z", "2024-05-01 14:00:07.000100"},
          {e + "state", "2.5", "2024-05-01 14:00:07.000000"}});
  // No last_updated within a minute, then one that is not a time.
  insert({{e + "state", "3", "2024-05-01 14:00:10.000000"},
          {e + "last_updated", "2024-05-01T13:00:10Z", "2024-05-01 14:01:10.500000"},
          {e + "state", "4", "2024-05-01 14:02:00.000000"},
          {e + "last_updated", "yesterday", "2024-05-01 14:02:00.000100"}});
  EXPECT_THAT(rows("SELECT s.label, f.fact, f.reported_at, f.happened_at FROM facts f "
                   "JOIN states s ON s.id = f.state_id ORDER BY f.recorded_at"),
              ElementsAre("state|1|2024-05-01 13:00:00.250000|2024-05-01 13:00:00.250000",
                          "last_updated|2024-05-01T13:00:00.250000+00:00|"
                          "2024-05-01 13:00:00.250000|2024-05-01 13:00:00.250000",
                          "unit_of_measurement|W|NULL|2024-05-01 14:00:00.000200",
                          "state|2|2024-05-01 13:00:05.000000|2024-05-01 13:00:05.000000",
                          "last_updated|2024-05-01T15:00:05+02:00|2024-05-01 13:00:05.000000|"
                          "2024-05-01 13:00:05.000000",
                          "state|2.5|NULL|2024-05-01 14:00:07.000000",
                          "last_updated|2024-05-01T13:00:07Z|2024-05-01 13:00:07.000000|"
                          "2024-05-01 13:00:07.000000",
                          "state|3|NULL|2024-05-01 14:00:10.000000",
                          "last_updated|2024-05-01T13:00:10Z|2024-05-01 13:00:10.000000|"
                          "2024-05-01 13:00:10.000000",
                          "state|4|NULL|2024-05-01 14:02:00.000000",
                          "last_updated|yesterday|NULL|2024-05-01 14:02:00.000100"));
}

TEST_F(NormaliseTrigger, HomeAssistantTimestampsAreReadStrictly) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"2024-05-01T12:00:03.512345+00:00", "2024-05-01 12:00:03.512345"},
      {"2024-05-01T12:00:00+00:00", "2024-05-01 12:00:00.000000"},
      {"2024-05-01T12:00:00.5Z", "2024-05-01 12:00:00.500000"},
      {"2024-05-01T01:30:00+02:00", "2024-04-30 23:30:00.000000"},
      {"2024-12-31T20:00:00-05:30", "2025-01-01 01:30:00.000000"},
      {"2024-02-29T00:00:00+00:00", "2024-02-29 00:00:00.000000"},
      {"2023-02-29T00:00:00+00:00", "NULL"},
      {"2024-04-31T00:00:00+00:00", "NULL"},
      {"2024-13-01T00:00:00+00:00", "NULL"},
      {"2024-05-01T24:00:00+00:00", "NULL"},
      {"2024-05-01T12:60:00+00:00", "NULL"},
      {"2024-05-01T12:00:00+24:00", "NULL"},
      {"2024-05-01 12:00:00+00:00", "NULL"},
      {"2024-05-01T12:00:00", "NULL"},
      {"2024-05-01T12:00:00.1234567+00:00", "NULL"},
      {"0999-05-01T12:00:00+00:00", "NULL"},
      {"2024-05-01T12:00:00.123+00:00", "2024-05-01 12:00:00.123000"},
      {"2024-05-01T12:00:00.123456Z", "2024-05-01 12:00:00.123456"},
      {"2024-05-01T12:00:00-00:00", "2024-05-01 12:00:00.000000"},
      {"2024-05-01T12:00:00.1234567Z", "NULL"},
      {"2024-05-01T12:00:00.Z", "NULL"},
      {"2024-05-01T12:00:00.+00:00", "NULL"},
      {"2024-05-01T12:00:00+0000", "NULL"},
      {"2024-05-01T12:00:00+00:0", "NULL"},
      {"2024-05-01T12:00:0a+00:00", "NULL"},
      {"2024-5-01T12:00:00+00:00", "NULL"},
      {"2024-05-01T12:00:00Z+00:00", "NULL"},
      {"\xef\xbc\x92"
       "024-05-01T12:00:00+00:00",
       "NULL"},  // a full-width 2
      {"", "NULL"},
      {"unknown", "NULL"},
  };
  // The function (normalise_batch()) and the trigger's inline copy of it.
  std::vector<Message> messages;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(value("SELECT statesink_timestamp('" + cases[i].first + "')"), cases[i].second)
        << cases[i].first;
    messages.push_back({"homeassistant/sensor/t" + std::to_string(i) + "/last_updated",
                        cases[i].first, "2024-05-01 14:00:00.000000"});
  }
  insert(messages);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(value("SELECT COALESCE(f.reported_at, 'NULL') FROM facts f JOIN messages m ON "
                    "m.id = f.message_id WHERE m.topic = 'homeassistant/sensor/t" +
                    std::to_string(i) + "/last_updated'"),
              cases[i].second)
        << cases[i].first;
  }
}

TEST_F(NormaliseTrigger, RepeatsOnlyRefreshCurrentStateUnlessKeepEveryMessageIsOn) {
  const std::string topic = "homeassistant/switch/pump/state";
  insert({{topic, "on", t1}});
  insert({{topic, "on", t2}, {topic, "on", t3}});
  EXPECT_EQ(value("SELECT COUNT(*) FROM facts"), "1");
  EXPECT_EQ(value("SELECT CONCAT_WS('|', value, last_changed, last_seen, times_seen) "
                  "FROM current_states"),
            "on|" + t1 + "|" + t3 + "|3");
  // Only byte-identical values are repeats: case and trailing spaces count.
  insert({{topic, "On", t4}, {topic, "On ", t5}});
  EXPECT_EQ(value("SELECT GROUP_CONCAT(CONCAT('[', fact, ']') ORDER BY id) FROM facts"),
            "[on],[On],[On ]");

  db().execute("UPDATE settings SET value = '1' WHERE name = 'keep_every_message'");
  insert({{topic, "On ", t6}, {topic, "On ", t7}});
  EXPECT_EQ(value("SELECT COUNT(*) FROM facts"), "5");
  // Repeats kept as facts still are repeats: last_changed stays, times_seen counts them.
  EXPECT_EQ(value("SELECT CONCAT_WS('|', value, last_changed, last_seen, times_seen) "
                  "FROM current_states"),
            "On |" + t5 + "|" + t7 + "|3");
  EXPECT_EQ(value("SELECT fact_id = (SELECT MAX(id) FROM facts) FROM current_states"), "1");

  db().execute("UPDATE settings SET value = '0' WHERE name = 'keep_every_message'");
  insert({{topic, "On ", "2024-05-01 12:00:08.000000"}});
  EXPECT_EQ(value("SELECT COUNT(*) FROM facts"), "5");
  EXPECT_EQ(value("SELECT times_seen FROM current_states"), "4");
}

TEST_F(NormaliseTrigger, LateMessageBecomesHistoryWithoutReplacingTheCurrentValue) {
  const std::string topic = "homeassistant/sensor/t/state";
  insert({{topic, "20", t1}});
  insert({{topic, "22", t3}});
  // A message received at t2 arrives after the one of t3 (another ingester, a retry).
  insert({{topic, "21", t2}});
  EXPECT_THAT(rows("SELECT fact, recorded_at FROM facts ORDER BY recorded_at"),
              ElementsAre("20|" + t1, "21|" + t2, "22|" + t3));
  EXPECT_EQ(value("SELECT CONCAT_WS('|', value, last_changed, last_seen, times_seen) "
                  "FROM current_states"),
            "22|" + t3 + "|" + t3 + "|1");
}

TEST_F(NormaliseTrigger, UnexpectedErrorIsRecordedAsRejectionInsteadOfFailingTheInsert) {
  const std::string topic = "homeassistant/sensor/t/state";
  insert({{topic, "1", t1}});
  // Stands in for any error the checks do not foresee: the fact insert itself fails.
  db().execute("ALTER TABLE facts ADD CONSTRAINT test_no_boom CHECK (fact <> 'boom')");
  ASSERT_NO_THROW(insert({{topic, "boom", t2}, {topic, "2", t3}}));
  EXPECT_THAT(
      rows("SELECT payload, reason FROM rejected_messages"),
      ElementsAre(AllOf(HasSubstr("boom|unexpected error 4025"), HasSubstr("test_no_boom"))));
  EXPECT_THAT(rows("SELECT fact FROM facts ORDER BY id"), ElementsAre("1", "2"));
  EXPECT_EQ(value("SELECT value FROM current_states"), "2");
}

TEST_F(NormaliseTrigger, LockWaitTimeoutFailsTheInsertSoTheClientCanRetry) {
  const std::string topic = "homeassistant/sensor/t/state";
  insert({{topic, "1", t1}});
  db::Connection other = db::Connection::open(config::parse_db_url(url_));
  other.execute("START TRANSACTION");
  other.execute("SELECT * FROM current_states FOR UPDATE");
  db().execute("SET SESSION innodb_lock_wait_timeout = 1");
  try {
    insert({{"homeassistant/sensor/other/state", "5", t2}, {topic, "1", t2}});
    FAIL() << "the INSERT should have waited for the lock and failed";
  } catch (const db::DbError& e) {
    EXPECT_EQ(e.code(), 1205u) << e.what();
    EXPECT_TRUE(e.retryable());
  }
  // The whole statement was undone: neither message, nor the other message's rows.
  EXPECT_EQ(value("SELECT COUNT(*) FROM messages"), "1");
  EXPECT_EQ(value("SELECT COUNT(*) FROM message_rejections"), "0");
  EXPECT_EQ(value("SELECT COUNT(*) FROM facts"), "1");
  other.execute("ROLLBACK");
  insert({{"homeassistant/sensor/other/state", "5", t2}, {topic, "1", t2}});
  EXPECT_EQ(value("SELECT COUNT(*) FROM facts"), "2");
  EXPECT_EQ(value("SELECT times_seen FROM current_states c JOIN states s ON s.id = c.state_id "
                  "JOIN entities e ON e.id = s.entity_id WHERE e.label = 'sensor.t'"),
            "2");
}

TEST_F(NormaliseTrigger, ConcurrentWritersCreateEachRowOnce) {
  // Two sessions insert the same new topics at the same moment, the way two ingesters
  // sharing a subscription start up, so both find each topic missing and race to create
  // it. Deadlocks are allowed (the client retries them); duplicates and lost messages are
  // not.
  constexpr int kTopics = 200;
  std::vector<Message> forward;
  for (int i = 0; i < kTopics; ++i) {
    forward.push_back(
        {"homeassistant/sensor/s" + std::to_string(i % 20) + "/a" + std::to_string(i), "v", t1});
  }
  std::atomic<int> retries{0};
  std::latch connected(2);
  auto writer = [&](const std::vector<Message>& messages, std::string& failure) {
    try {
      db::Connection c = db::Connection::open(config::parse_db_url(url_));
      connected.arrive_and_wait();
      for (std::size_t i = 0; i < messages.size(); i += 2) {
        const std::vector<Message> batch(messages.begin() + static_cast<long>(i),
                                         messages.begin() + static_cast<long>(i + 2));
        for (int attempt = 0;; ++attempt) {
          try {
            insert(c, batch);
            break;
          } catch (const db::DbError& e) {
            if (!e.retryable() || attempt == 20) throw;
            ++retries;
          }
        }
      }
    } catch (const std::exception& e) {
      failure = e.what();
    }
  };
  std::string failure_a;
  std::string failure_b;
  std::thread a(writer, std::cref(forward), std::ref(failure_a));
  std::thread b(writer, std::cref(forward), std::ref(failure_b));
  a.join();
  b.join();
  ASSERT_EQ(failure_a, "");
  ASSERT_EQ(failure_b, "");
  EXPECT_EQ(value("SELECT COUNT(*) FROM messages"), std::to_string(2 * kTopics));
  EXPECT_EQ(value("SELECT COUNT(*) FROM base_topics"), "1");
  EXPECT_EQ(value("SELECT COUNT(*) FROM entities"), "20");
  EXPECT_EQ(value("SELECT COUNT(*) FROM states"), std::to_string(kTopics));
  EXPECT_EQ(value("SELECT COUNT(*) FROM current_states"), std::to_string(kTopics));
  EXPECT_EQ(value("SELECT SUM(times_seen) FROM current_states"), std::to_string(2 * kTopics));
  EXPECT_EQ(value("SELECT COUNT(*) FROM message_rejections"), "0");
  RecordProperty("deadlock_retries", retries.load());
  RecordProperty("states_auto_increment",
                 value("SELECT AUTO_INCREMENT FROM information_schema.tables "
                       "WHERE table_schema = DATABASE() AND table_name = 'states'"));
}

TEST_F(NormaliseTrigger, KeysMakeHistoryARangeScanAndLatestValueAPrimaryKeyLookup) {
  std::vector<Message> batch;
  for (int i = 0; i < 3000; ++i) {
    char at[32];
    std::snprintf(at, sizeof at, "2024-05-01 %02d:%02d:%02d.000000", i / 3600, i / 60 % 60, i % 60);
    batch.push_back(
        {"homeassistant/sensor/s" + std::to_string(i % 30) + "/state", std::to_string(i), at});
  }
  insert(batch);
  db().execute("ANALYZE TABLE facts, states, entities, current_states");
  auto plan = [&](const std::string& sql, const std::string& table) {
    for (const db::Row& row : db().query("EXPLAIN " + sql)) {
      // MariaDB: id, select_type, table, type, possible_keys, key, ...
      if (row[2] == table) return row[3].value_or("") + " " + row[5].value_or("");
    }
    return std::string("table not in plan");
  };
  const std::string history =
      "SELECT f.recorded_at, f.fact FROM entities e JOIN states s ON s.entity_id = e.id "
      "JOIN facts f ON f.state_id = s.id WHERE e.label = 'sensor.s7' AND s.label = 'state' "
      "AND f.recorded_at >= '2024-05-01 00:10:00' AND f.recorded_at < '2024-05-01 00:20:00'";
  EXPECT_THAT(plan(history, "f"),
              ::testing::AnyOf("range facts_state_time", "ref facts_state_time"));
  EXPECT_EQ(rows(history).size(), 20u);
  const std::string latest =
      "SELECT c.value FROM entities e JOIN states s ON s.entity_id = e.id "
      "JOIN current_states c ON c.state_id = s.id "
      "WHERE e.label = 'sensor.s7' AND s.label = 'state'";
  EXPECT_EQ(plan(latest, "c"), "eq_ref PRIMARY");
  EXPECT_THAT(rows(latest), ElementsAre("2977"));
  // The trigger's own lookup: one unique key.
  EXPECT_EQ(plan("SELECT id FROM states WHERE topic_hash = "
                 "UNHEX(SHA2('homeassistant/sensor/s7/state', 256))",
                 "states"),
            "const states_topic_hash");
}

TEST_F(NormaliseTrigger, MigratingDownAndUpAgain) {
  insert({{"homeassistant/sensor/t/state", "1", t1}});
  CommandResult down = statesink({"migrate", "down", "--to", "1", "--db", url_});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_EQ(value("SELECT GROUP_CONCAT(table_name ORDER BY table_name) FROM "
                  "information_schema.tables WHERE table_schema = DATABASE()"),
            "messages,schema_migrations");
  EXPECT_EQ(value("SELECT COUNT(*) FROM information_schema.triggers "
                  "WHERE trigger_schema = DATABASE()"),
            "0");
  insert({{"homeassistant/sensor/t/state", "2", t2}});  // raw only, no trigger

  CommandResult up = statesink({"migrate", "up", "--db", url_});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  insert({{"homeassistant/sensor/t/state", "3", t3}});
  // Messages from before the trigger existed are not normalised.
  EXPECT_THAT(rows("SELECT fact, message_id FROM facts"), ElementsAre("3|3"));
}

}  // namespace
}  // namespace statesink::testing
