#include "history/retention_pattern.h"

#include <gtest/gtest.h>

#include "history/retention_age.h"
#include "util/error.h"

namespace statesink::history {
namespace {

TEST(GlobMatches, StarsAndQuestionMarks) {
  EXPECT_TRUE(glob_matches("sensor.*_rssi", "sensor.kitchen_rssi"));
  EXPECT_TRUE(glob_matches("sensor.*_rssi", "sensor._rssi"));
  EXPECT_FALSE(glob_matches("sensor.*_rssi", "sensor.kitchen_rssi_2"));
  EXPECT_FALSE(glob_matches("sensor.*_rssi", "binary_sensor.kitchen_rssi"));
  EXPECT_TRUE(glob_matches("*", ""));
  EXPECT_TRUE(glob_matches("*.*", "light.x"));
  EXPECT_TRUE(glob_matches("light.???", "light.abc"));
  EXPECT_FALSE(glob_matches("light.???", "light.ab"));
  EXPECT_FALSE(glob_matches("light.???", "light.abcd"));
  EXPECT_TRUE(glob_matches("*a*b*c", "xxaxxbxxbxc"));
  EXPECT_FALSE(glob_matches("*a*b*c", "xxaxxbxxbx"));
  EXPECT_FALSE(glob_matches("", "x"));
  // A star in the middle must be able to give back what it took.
  EXPECT_TRUE(glob_matches("a*aab", "aaaaab"));
}

TEST(GlobMatches, ManyStarsStayFast) {
  // Exponential backtracking would not finish; the linear matcher answers at once.
  const std::string text(5000, 'a');
  EXPECT_FALSE(glob_matches("*a*a*a*a*a*a*a*a*a*a*a*b", text));
}

TEST(RetentionPattern, EntityOnlyMatchesEveryBaseTopic) {
  const RetentionPattern p = RetentionPattern::parse("binary_sensor.*");
  EXPECT_TRUE(p.matches("homeassistant", "binary_sensor.door"));
  EXPECT_TRUE(p.matches("home/ha1", "binary_sensor.door"));
  EXPECT_FALSE(p.matches("home/ha1", "sensor.door"));
  EXPECT_EQ(p.literal_characters(), 14u);
}

TEST(RetentionPattern, BaseTopicPrefixSplitsAtTheLastColon) {
  const RetentionPattern p = RetentionPattern::parse("home:ha?:sensor.*");
  EXPECT_TRUE(p.matches("home:ha1", "sensor.x"));
  EXPECT_FALSE(p.matches("home:ha12", "sensor.x"));
  EXPECT_FALSE(p.matches("homeassistant", "sensor.x"));
  EXPECT_EQ(p.literal_characters(), std::string("home:ha").size() + std::string("sensor.").size());
  EXPECT_TRUE(RetentionPattern::parse("home/*:sensor.x").matches("home/ha2", "sensor.x"));
}

TEST(RetentionPattern, RejectsWhatCouldMatchNothing) {
  for (const char* bad : {"", "sensor", "Sensor.x", "sensor.x.y", "sensor.k-x", ":sensor.x",
                          "home :sensor.x", "home:", "sensor.x y", "sensor.%"}) {
    EXPECT_THROW(RetentionPattern::parse(bad), UsageError) << bad;
  }
  EXPECT_THROW(RetentionPattern::parse(std::string(256, 'a') + ".x"), UsageError);
  EXPECT_NO_THROW(RetentionPattern::parse("*"));
  EXPECT_NO_THROW(RetentionPattern::parse("sensor?x"));
  try {
    RetentionPattern::parse("sensor.K");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("'K' cannot be in an entity id"), std::string::npos)
        << e.what();
  }
}

std::vector<RuleCandidate> rules(std::initializer_list<std::pair<const char*, long long>> list) {
  std::vector<RuleCandidate> out;
  for (const auto& [text, age] : list) {
    out.push_back({RetentionPattern::parse(text), age});
  }
  return out;
}

TEST(WinningRule, MostLiteralCharactersWins) {
  const auto r = rules({{"sensor.*", 30}, {"sensor.*_rssi", 7}, {"*", 400}});
  EXPECT_EQ(winning_rule(r, "ha", "sensor.kitchen_rssi"), 1u);
  EXPECT_EQ(winning_rule(r, "ha", "sensor.kitchen"), 0u);
  EXPECT_EQ(winning_rule(r, "ha", "light.kitchen"), 2u);
  EXPECT_EQ(winning_rule(rules({{"sensor.*", 30}}), "ha", "light.x"), std::nullopt);
}

TEST(WinningRule, BaseTopicCountsAndTiesKeepLonger) {
  const auto r = rules({{"sensor.*", 30}, {"ha:sensor.*", 5}});
  EXPECT_EQ(winning_rule(r, "ha", "sensor.x"), 1u);
  EXPECT_EQ(winning_rule(r, "hb", "sensor.x"), 0u);
  // sensor.a* and sensor.*a have as many literal characters: the longer age wins.
  const auto tie = rules({{"sensor.a*", 7}, {"sensor.*a", 9}});
  EXPECT_EQ(winning_rule(tie, "ha", "sensor.aa"), 1u);
  const auto same_age = rules({{"sensor.b*", 7}, {"sensor.*b", 7}});
  EXPECT_EQ(winning_rule(same_age, "ha", "sensor.bb"), 1u);  // "sensor.*b" sorts first
}

TEST(RetentionAge, ParsesAndFormats) {
  EXPECT_EQ(parse_retention_age("7d"), 7 * 86400);
  EXPECT_EQ(parse_retention_age("90m"), 5400);
  EXPECT_EQ(parse_retention_age("45"), 45);
  for (const char* bad : {"0d", "-1d", "soon", "1500ms", "400000d", ""}) {
    EXPECT_THROW(parse_retention_age(bad), UsageError) << bad;
  }
  EXPECT_EQ(format_retention_age(7 * 86400), "7d");
  EXPECT_EQ(format_retention_age(5400), "90m");
  EXPECT_EQ(format_retention_age(7200), "2h");
  EXPECT_EQ(format_retention_age(61), "61s");
}

}  // namespace
}  // namespace statesink::history
