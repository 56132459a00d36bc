#include "ingest/topic_order.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace statesink::ingest {
namespace {

TEST(TopicOrder, EntitiesInOrderAndWithinOneStateThenLastUpdatedThenAttributes) {
  std::vector<std::string> topics = {
      "ha/sensor/b/friendly_name", "ha/sensor/b/last_updated", "ha/sensor/a/unit_of_measurement",
      "ha/sensor/b/state",         "ha/sensor/a/brightness",   "ha/sensor/a/last_changed",
      "ha/sensor/a/state",         "ha/sensor/a/last_updated", "x"};
  std::stable_sort(topics.begin(), topics.end(),
                   [](const std::string& a, const std::string& b) { return topic_before(a, b); });
  EXPECT_EQ(topics,
            (std::vector<std::string>{"x", "ha/sensor/a/state", "ha/sensor/a/last_updated",
                                      "ha/sensor/a/brightness", "ha/sensor/a/last_changed",
                                      "ha/sensor/a/unit_of_measurement", "ha/sensor/b/state",
                                      "ha/sensor/b/last_updated", "ha/sensor/b/friendly_name"}));
}

TEST(TopicOrder, IsAStrictWeakOrder) {
  EXPECT_FALSE(topic_before("ha/s/a/state", "ha/s/a/state"));
  EXPECT_TRUE(topic_before("ha/s/a/state", "ha/s/a/last_updated"));
  EXPECT_FALSE(topic_before("ha/s/a/last_updated", "ha/s/a/state"));
  // An entity whose name extends another's sorts after all of the shorter one.
  EXPECT_TRUE(topic_before("ha/s/a/zzz", "ha/s/ab/state"));
}

TEST(TopicOrder, KeysOrderAsTopicBeforeDoes) {
  const std::vector<std::string> topics = {
      "ha/s/a/state", "ha/s/a/last_updated", "ha/s/a/zzz", "ha/s/ab/state", "x", "",
      "ha/s/a/brightness", "h/a/s/a/state"};
  for (const std::string& a : topics) {
    for (const std::string& b : topics) {
      EXPECT_EQ(topic_key(a) < topic_key(b), topic_before(a, b)) << a << " / " << b;
    }
  }
}

}  // namespace
}  // namespace statesink::ingest
