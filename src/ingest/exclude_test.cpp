#include "ingest/exclude.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace statesink::ingest {
namespace {

TEST(EntityId, ReadFromTheRight) {
  EXPECT_EQ(entity_id_of("homeassistant/sensor/temp/state"), "sensor.temp");
  EXPECT_EQ(entity_id_of("home/ha1/light/desk/brightness"), "light.desk");
  EXPECT_EQ(entity_id_of("sensor/temp/state"), "");
  EXPECT_EQ(entity_id_of("/sensor/temp/state"), "");
  EXPECT_EQ(entity_id_of("ha//temp/state"), "");
  EXPECT_EQ(entity_id_of(""), "");
}

TEST(ExcludeFilter, MatchesEntityIdsAndTopics) {
  ExcludeFilter filter({"sensor.*_rssi", "*/attribution", "light.desk"});
  EXPECT_TRUE(filter.excluded("homeassistant/sensor/wifi_rssi/state"));
  EXPECT_TRUE(filter.excluded("home/ha1/sensor/plug_rssi/unit_of_measurement"));
  EXPECT_TRUE(filter.excluded("homeassistant/weather/home/attribution"));
  EXPECT_TRUE(filter.excluded("homeassistant/light/desk/brightness"));
  EXPECT_FALSE(filter.excluded("homeassistant/light/desk_lamp/state"));
  EXPECT_FALSE(filter.excluded("homeassistant/sensor/temp/state"));
  EXPECT_FALSE(filter.excluded("odd"));
}

TEST(ExcludeFilter, EmptyFilterKeepsEverything) {
  ExcludeFilter none({});
  EXPECT_TRUE(none.empty());
  EXPECT_FALSE(none.excluded("homeassistant/sensor/x/state"));
}

TEST(ExcludeFilter, EmptyPatternIsAUsageError) { EXPECT_THROW(ExcludeFilter({""}), UsageError); }

}  // namespace
}  // namespace statesink::ingest
