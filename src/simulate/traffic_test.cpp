#include "simulate/traffic.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <regex>
#include <set>

#include "simulate/stream.h"
#include "simulate/test_support.h"
#include "util/error.h"

namespace statesink::simulate {
namespace {

using testing::Change;
using testing::split_changes;
using testing::split_topic;

Options three_sites() {
  Options options;
  options.installations = 3;
  options.entities_per_installation = 30;
  options.seed = 42;
  return options;
}

// The changes that follow the snapshot, each checked to be one entity's.
std::vector<Change> run(const Options& options, int count) {
  Traffic traffic(options);
  std::vector<Change> changes;
  for (int i = 0; i < count; ++i) {
    std::vector<Change> one = split_changes(traffic.next_change());
    EXPECT_EQ(one.size(), 1U);
    changes.push_back(std::move(one.front()));
  }
  return changes;
}

const std::vector<Change>& long_run() {
  static const std::vector<Change> changes = run(three_sites(), 10'000);
  return changes;
}

double number(const std::string& text) {
  std::size_t used = 0;
  const double value = std::stod(text, &used);
  EXPECT_EQ(used, text.size()) << text;
  return value;
}

TEST(Traffic, SameSeedSameBytesOtherSeedOthers) {
  const std::vector<Message> first = generate(three_sites(), 20'000);
  EXPECT_EQ(first, generate(three_sites(), 20'000));
  Options other = three_sites();
  other.seed = 43;
  const std::vector<Message> second = generate(other, 20'000);
  EXPECT_NE(first, second);
}

TEST(Traffic, EveryInstallationHasEveryDomainUnderItsBaseTopic) {
  Traffic traffic(three_sites());
  std::map<std::string, std::set<Domain>> domains;
  std::set<std::string> ids;
  const std::regex object_id("[a-z0-9_]+");
  for (const Entity& entity : traffic.entities()) {
    domains[entity.base_topic].insert(entity.domain);
    EXPECT_TRUE(std::regex_match(entity.object_id, object_id)) << entity.object_id;
    EXPECT_TRUE(ids.insert(entity.base_topic + " " + entity.entity_id()).second)
        << "duplicate " << entity.entity_id();
  }
  ASSERT_EQ(domains.size(), 3U);
  EXPECT_EQ(domains.count("homeassistant"), 1U);
  EXPECT_EQ(domains.count("home/site2"), 1U);
  EXPECT_EQ(domains.count("sites/site3/ha"), 1U);
  for (const auto& [base, seen] : domains) {
    EXPECT_EQ(seen.size(), kDomainCount) << base;
  }
}

TEST(Traffic, TopicsReadFromTheRightNameTheEntity) {
  Traffic traffic(three_sites());
  const std::vector<Message> snapshot = traffic.snapshot();
  std::size_t at = 0;
  for (const Entity& entity : traffic.entities()) {
    ASSERT_LT(at, snapshot.size());
    for (std::size_t i = 0; i < 3 + entity.attributes.size(); ++i, ++at) {
      const auto parts = split_topic(snapshot[at].topic);
      EXPECT_EQ(parts.base, entity.base_topic);
      EXPECT_EQ(parts.domain, domain_name(entity.domain));
      EXPECT_EQ(parts.object_id, entity.object_id);
      EXPECT_EQ(snapshot[at].topic.find("//"), std::string::npos);
      EXPECT_TRUE(snapshot[at].retain);
    }
  }
  EXPECT_EQ(at, snapshot.size());
}

TEST(Traffic, SnapshotAndChangesKeepHomeAssistantOrder) {
  Traffic traffic(three_sites());
  std::vector<std::vector<Message>> writes;
  // Each entity's snapshot part and then changes.
  for (const Entity& entity : traffic.entities()) {
    writes.push_back(publish(entity));
  }
  for (int i = 0; i < 2'000; ++i) {
    writes.push_back(traffic.next_change());
    ASSERT_EQ(writes.back()[1].payload, format_timestamp(traffic.now()));
  }
  for (const auto& write : writes) {
    ASSERT_GE(write.size(), 4U);
    EXPECT_EQ(split_topic(write[0].topic).leaf, "state");
    EXPECT_EQ(split_topic(write[1].topic).leaf, "last_updated");
    EXPECT_EQ(split_topic(write[2].topic).leaf, "last_changed");
    const std::string entity = write[0].topic.substr(0, write[0].topic.rfind('/'));
    for (std::size_t i = 3; i < write.size(); ++i) {
      const std::string& topic = write[i].topic;
      EXPECT_EQ(topic.substr(0, topic.rfind('/')), entity);
      EXPECT_NE(split_topic(topic).leaf, "state");
    }
  }
}

TEST(Traffic, ClockMovesForwardWithAndWithoutMicroseconds) {
  const std::regex iso(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00)");
  int whole = 0;
  int fractional = 0;
  std::string previous;
  for (const Change& change : long_run()) {
    ASSERT_TRUE(std::regex_match(change.last_updated, iso)) << change.last_updated;
    ASSERT_TRUE(std::regex_match(change.last_changed, iso)) << change.last_changed;
    ++(change.last_updated.find('.') == std::string::npos ? whole : fractional);
    // Same width and zone while the year has four digits, so text order is time order.
    if (previous.size() == change.last_updated.size()) {
      EXPECT_LT(previous, change.last_updated);
    }
    previous = change.last_updated;
    EXPECT_LE(change.last_changed.substr(0, 19), change.last_updated.substr(0, 19));
  }
  EXPECT_GT(whole, 100);
  EXPECT_GT(fractional, 5'000);
}

TEST(Traffic, StatesArePlainTextAndAttributesPythonJson) {
  int nan = 0;
  int raw_utf8_states = 0;
  int escaped_names = 0;
  for (const Change& change : long_run()) {
    ASSERT_FALSE(change.state.empty());
    EXPECT_NE(change.state.front(), '"') << change.state;
    raw_utf8_states += change.state.find("\xc3\xbc") != std::string::npos;  // ü
    for (const auto& [name, payload] : change.attributes) {
      for (unsigned char byte : payload) {
        ASSERT_LT(byte, 0x80) << name << " = " << payload;
      }
      std::string parsable = payload;
      if (const auto token = parsable.find("NaN"); token != std::string::npos) {
        parsable.replace(token, 3, "null");
        ++nan;
      }
      EXPECT_TRUE(nlohmann::json::accept(parsable)) << name << " = " << payload;
      escaped_names += name == "friendly_name" && payload.find("\\u") != std::string::npos;
    }
  }
  EXPECT_GT(nan, 0);
  EXPECT_GT(raw_utf8_states, 0);
  EXPECT_GT(escaped_names, 0);
}

TEST(Traffic, SensorsCarryUnitsAndStayWithinBounds) {
  std::map<std::string, std::pair<double, double>> bounds{{R"("\u00b0C")", {16, 27}},
                                                          {R"("%")", {0, 100}},
                                                          {R"("W")", {0, 2500}},
                                                          {R"("lx")", {0, 1500}}};
  std::map<std::string, double> meters;
  std::set<std::string> units;
  for (const Change& change : long_run()) {
    if (change.domain != "sensor") {
      continue;
    }
    const std::string* unit = change.attribute("unit_of_measurement");
    ASSERT_NE(unit, nullptr);
    ASSERT_NE(change.attribute("device_class"), nullptr);
    ASSERT_NE(change.attribute("state_class"), nullptr);
    units.insert(*unit);
    if (change.state == "unavailable") {
      continue;
    }
    const double value = number(change.state);
    if (*unit == R"("kWh")") {
      EXPECT_GE(value, meters[change.entity]) << change.entity;  // total_increasing
      meters[change.entity] = value;
      continue;
    }
    ASSERT_EQ(bounds.count(*unit), 1U) << *unit;
    EXPECT_GE(value, bounds[*unit].first) << change.entity;
    EXPECT_LE(value, bounds[*unit].second) << change.entity;
    if (*unit == R"("\u00b0C")") {
      EXPECT_EQ(change.state.size() - change.state.find('.'), 2U) << change.state;
    }
  }
  EXPECT_EQ(units.size(), 5U);
}

TEST(Traffic, LightsNullTheirColourWhenOff) {
  int on = 0;
  int off = 0;
  for (const Change& change : long_run()) {
    if (change.domain != "light" || change.state == "unavailable") {
      continue;
    }
    const std::string* modes = change.attribute("supported_color_modes");
    ASSERT_NE(modes, nullptr);
    const bool colour = *modes == R"(["hs"])";
    EXPECT_TRUE(colour || *modes == R"(["brightness"])") << *modes;
    const std::string* brightness = change.attribute("brightness");
    ASSERT_NE(brightness, nullptr);
    if (change.state == "off") {
      ++off;
      EXPECT_EQ(*brightness, "null");
      EXPECT_EQ(*change.attribute("color_mode"), "null");
      if (colour) {
        EXPECT_EQ(*change.attribute("hs_color"), "null");
        EXPECT_EQ(*change.attribute("rgb_color"), "null");
      }
      continue;
    }
    ASSERT_EQ(change.state, "on");
    ++on;
    const int level = std::stoi(*brightness);
    EXPECT_GE(level, 1);
    EXPECT_LE(level, 255);
    if (colour) {
      EXPECT_EQ(*change.attribute("color_mode"), R"("hs")");
      const auto hs = nlohmann::json::parse(*change.attribute("hs_color"));
      ASSERT_EQ(hs.size(), 2U);
      EXPECT_TRUE(hs[0].is_number_float());
      const auto rgb = nlohmann::json::parse(*change.attribute("rgb_color"));
      ASSERT_EQ(rgb.size(), 3U);
      for (const auto& channel : rgb) {
        EXPECT_TRUE(channel.is_number_unsigned());
        EXPECT_LE(channel.get<int>(), 255);
      }
      EXPECT_NE(change.attribute("rgb_color")->find(", "), std::string::npos);
    }
  }
  EXPECT_GT(on, 100);
  EXPECT_GT(off, 100);
}

TEST(Traffic, ClimateHasModesListAndFloatTemperatures) {
  const std::regex one_decimal(R"(\d+\.\d)");
  std::set<std::string> states;
  for (const Change& change : long_run()) {
    if (change.domain != "climate") {
      continue;
    }
    states.insert(change.state);
    EXPECT_EQ(*change.attribute("hvac_modes"), R"(["off", "heat", "auto"])");
    EXPECT_EQ(*change.attribute("min_temp"), "7.0");
    EXPECT_EQ(*change.attribute("max_temp"), "35.0");
    if (change.state == "unavailable") {
      EXPECT_EQ(change.attribute("temperature"), nullptr);
      continue;
    }
    const std::string& target = *change.attribute("temperature");
    EXPECT_TRUE(std::regex_match(target, one_decimal)) << target;
    EXPECT_GE(number(target), 16.0);
    EXPECT_LE(number(target), 24.0);
    const std::string& current = *change.attribute("current_temperature");
    if (current != "NaN") {
      EXPECT_TRUE(std::regex_match(current, one_decimal)) << current;
    }
  }
  EXPECT_EQ(states, (std::set<std::string>{"off", "heat", "auto", "unavailable"}));
}

TEST(Traffic, PeopleMoveBetweenNearbyPlaces) {
  std::map<std::string, std::pair<double, double>> first_seen;
  std::set<std::string> states;
  for (const Change& change : long_run()) {
    if (change.domain != "person") {
      continue;
    }
    states.insert(change.state);
    const double latitude = number(*change.attribute("latitude"));
    const double longitude = number(*change.attribute("longitude"));
    auto [where, inserted] = first_seen.emplace(change.entity, std::pair{latitude, longitude});
    EXPECT_LT(std::abs(latitude - where->second.first), 0.1) << change.entity;
    EXPECT_LT(std::abs(longitude - where->second.second), 0.1) << change.entity;
    const std::string& accuracy = *change.attribute("gps_accuracy");
    EXPECT_EQ(accuracy.find_first_not_of("0123456789"), std::string::npos) << accuracy;
    EXPECT_EQ(change.attribute("source")->rfind(R"("device_tracker.)", 0), 0U);
  }
  EXPECT_EQ(states.count("home"), 1U);
  EXPECT_EQ(states.count("not_home"), 1U);
  EXPECT_EQ(states.count("unavailable"), 0U);
  EXPECT_GE(states.size(), 4U);  // and zones
}

TEST(Traffic, LastChangedMovesOnlyWithTheState) {
  // The same options give the same entities as long_run() starts from.
  Traffic traffic(three_sites());
  std::map<std::string, Change> previous;
  for (const Change& change : split_changes(traffic.snapshot())) {
    previous[change.entity] = change;
  }
  int state_changes = 0;
  int attribute_only = 0;
  for (const Change& change : long_run()) {
    const Change& before = previous.at(change.entity);
    if (change.state == before.state) {
      ++attribute_only;
      EXPECT_EQ(change.last_changed, before.last_changed) << change.entity;
      // Home Assistant publishes only real changes.
      EXPECT_NE(change.attributes, before.attributes) << change.entity;
    } else {
      ++state_changes;
      EXPECT_EQ(change.last_changed, change.last_updated) << change.entity;
    }
    previous[change.entity] = change;
  }
  EXPECT_GT(attribute_only, 1'000);
  EXPECT_GT(state_changes, 1'000);
}

TEST(Traffic, DevicesDropOutAndComeBack) {
  std::map<std::string, std::string> last_state;
  int dropped = 0;
  int returned = 0;
  for (const Change& change : long_run()) {
    if (change.state == "unavailable") {
      ++dropped;
      ASSERT_NE(change.attribute("friendly_name"), nullptr);
      EXPECT_EQ(change.attribute("brightness"), nullptr);
      EXPECT_EQ(change.attribute("current_temperature"), nullptr);
    } else if (last_state[change.entity] == "unavailable") {
      ++returned;
    }
    last_state[change.entity] = change.state;
  }
  EXPECT_GT(dropped, 20);
  EXPECT_GT(returned, 20);
}

TEST(Traffic, SnapshotLeavesTheSimulationAlone) {
  Traffic a(three_sites());
  Traffic b(three_sites());
  (void)a.snapshot();
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(a.next_change(), b.next_change());
  }
}

TEST(Traffic, RejectsBadOptions) {
  Options options;
  options.installations = 0;
  EXPECT_THROW(Traffic{options}, UsageError);
}

}  // namespace
}  // namespace statesink::simulate
