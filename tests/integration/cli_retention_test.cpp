// statesink retention and the rules' part of statesink prune against a real
// MariaDB: the dry run names exactly what the run then deletes, the current
// value of every state stays, and raw messages are left to --older-than.
#include <nlohmann/json.hpp>

#include "cli_fixture.h"

namespace statesink::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

std::string days_ago(int days, int minute = 0) {
  return "UTC_TIMESTAMP(6) - INTERVAL " + std::to_string(days) + " DAY + INTERVAL " +
         std::to_string(minute) + " MINUTE";
}

class RetentionCli : public CliTest {
 protected:
  // Every value is unique, so the facts left can be listed by value.
  void load() {
    insert({// sensor.a_rssi: 3 facts 10 days old, 2 five days old, 1 of the last hour,
            // and a friendly name 10 days old that is still current.
            {"homeassistant/sensor/a_rssi/friendly_name", R"("A")", days_ago(10)},
            {"homeassistant/sensor/a_rssi/state", "a1", days_ago(10, 1)},
            {"homeassistant/sensor/a_rssi/state", "a2", days_ago(10, 2)},
            {"homeassistant/sensor/a_rssi/state", "a3", days_ago(10, 3)},
            {"homeassistant/sensor/a_rssi/state", "a4", days_ago(5)},
            {"homeassistant/sensor/a_rssi/state", "a5", days_ago(5, 1)},
            {"homeassistant/sensor/a_rssi/state", "a6", days_ago(0, -60)},
            // Another installation: two facts 10 days old, the second current.
            {"home/ha1/sensor/b_rssi/state", "b1", days_ago(10)},
            {"home/ha1/sensor/b_rssi/state", "b2", days_ago(10, 1)},
            // sensor.temp: governed by sensor.* (30 days), nothing that old.
            {"homeassistant/sensor/temp/state", "t1", days_ago(10)},
            {"homeassistant/sensor/temp/state", "t2", days_ago(0, -60)},
            // binary_sensor.door: 3 facts 100 days old, the current one 10 days old.
            {"homeassistant/binary_sensor/door/state", "d1", days_ago(100)},
            {"homeassistant/binary_sensor/door/state", "d2", days_ago(100, 1)},
            {"homeassistant/binary_sensor/door/state", "d3", days_ago(100, 2)},
            {"homeassistant/binary_sensor/door/state", "d4", days_ago(10)},
            // No rule matches: kept for ever.
            {"homeassistant/light/x/state", "l1", days_ago(100)},
            {"homeassistant/light/x/state", "l2", days_ago(100, 1)}});
    ASSERT_EQ(sql("SELECT COUNT(*) FROM facts"), "17\n");
  }

  void set(const std::string& pattern, const std::string& age) {
    const CommandResult r = run({"retention", "set", pattern, age});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  std::string facts() { return sql("SELECT GROUP_CONCAT(fact ORDER BY fact) FROM facts"); }
  std::string current() { return sql("SELECT * FROM current_states ORDER BY state_id"); }
};

TEST_F(RetentionCli, DryRunCountsExactlyWhatPruneThenDeletes) {
  load();
  set("sensor.*_rssi", "7d");
  set("sensor.*", "30d");
  set("binary_sensor.*", "90d");
  const std::string current_before = current();
  const std::string messages_before = sql("SELECT COUNT(*) FROM messages");

  const CommandResult dry = run({"prune", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  const std::string time = "[0-9-]+ [0-9:.]+ UTC";
  EXPECT_THAT(dry.out,
              MatchesRegex("dry run: rule binary_sensor\\.\\* \\(90d, 1 entit\\(ies\\)\\): would "
                           "delete 3 fact\\(s\\) recorded before " +
                           time +
                           "; nothing was deleted\n"
                           "dry run: rule sensor\\.\\* \\(30d, 1 entit\\(ies\\)\\): would delete "
                           "0 fact\\(s\\) recorded before " +
                           time +
                           "; nothing was deleted\n"
                           "dry run: rule sensor\\.\\*_rssi \\(7d, 2 entit\\(ies\\)\\): would "
                           "delete 4 fact\\(s\\) recorded before " +
                           time + "; nothing was deleted\n"));
  EXPECT_EQ(sql("SELECT COUNT(*) FROM facts"), "17\n");

  const CommandResult r = run({"prune", "--batch", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("rule binary_sensor.* (90d, 1 entit(ies)): deleting 3 fact(s) "
                               "recorded before "));
  EXPECT_THAT(r.out, HasSubstr("rule binary_sensor.* (90d, 1 entit(ies)): deleted 3 fact(s) in 2 "
                               "chunk(s) of at most 2\n"));
  EXPECT_THAT(r.out, HasSubstr("rule sensor.* (30d, 1 entit(ies)): deleting 0 fact(s)"));
  EXPECT_THAT(r.out, HasSubstr("rule sensor.*_rssi (7d, 2 entit(ies)): deleted 4 fact(s) in 2 "
                               "chunk(s) of at most 2\n"));
  // Exactly a1-a3, b1 and d1-d3: the current values (A, b2, d4) stay, however old.
  EXPECT_EQ(facts(), "A,a4,a5,a6,b2,d4,l1,l2,t1,t2\n");
  EXPECT_EQ(current(), current_before);
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages"), messages_before);

  const CommandResult again = run({"prune", "--dry-run"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, Not(HasSubstr("would delete 1")));
  EXPECT_THAT(again.out, Not(HasSubstr("would delete 3")));
  EXPECT_THAT(again.out, Not(HasSubstr("would delete 4")));
}

TEST_F(RetentionCli, RulesAndOlderThanInOneRun) {
  load();
  set("binary_sensor.*", "90d");
  // Messages 100 days old: d1-d3 and l1-l2. Their facts go by the rule for d1-d3 only.
  const CommandResult dry = run({"prune", "--older-than", "50d", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_THAT(dry.out, HasSubstr("would delete 3 fact(s)"));
  EXPECT_THAT(dry.out, HasSubstr("dry run: would delete 5 message(s)"));

  const CommandResult r = run({"prune", "--older-than", "50d"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("deleted 3 fact(s)"));
  EXPECT_THAT(r.out, HasSubstr("deleted 5 message(s)"));
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages"), "12\n");
  // l1 and l2 lost their messages and keep their facts.
  EXPECT_EQ(facts(), "A,a1,a2,a3,a4,a5,a6,b1,b2,d4,l1,l2,t1,t2\n");
}

TEST_F(RetentionCli, BaseTopicRuleBeatsAPlainOne) {
  load();
  set("sensor.*_rssi", "400d");
  set("home/ha1:sensor.*", "1d");
  const CommandResult r = run({"prune"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("rule home/ha1:sensor.* (1d, 1 entit(ies)): deleted 1 fact(s)"));
  EXPECT_EQ(facts(), "A,a1,a2,a3,a4,a5,a6,b2,d1,d2,d3,d4,l1,l2,t1,t2\n");
}

TEST_F(RetentionCli, SetListRemove) {
  load();
  const CommandResult empty = run({"retention", "list"});
  ASSERT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_THAT(empty.out, HasSubstr("no retention rules"));

  const CommandResult added = run({"retention", "set", "sensor.*", "30d"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_EQ(added.out,
            "added rule sensor.*: statesink prune deletes facts older than 30d of the 3 "
            "entit(ies) it governs now (current values are kept)\n");
  set("sensor.*_rssi", "168h");
  const CommandResult changed = run({"retention", "set", "sensor.*", "2592000s"});
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_THAT(changed.out, ::testing::StartsWith("changed rule sensor.*:"));
  EXPECT_THAT(changed.out, HasSubstr(" of the 1 entit(ies)"));

  const CommandResult list = run({"retention", "list", "--format", "json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  nlohmann::json rules = nlohmann::json::parse(list.out);
  for (auto& rule : rules) {
    EXPECT_TRUE(rule.at("updated_at").is_string());
    rule.erase("updated_at");
  }
  EXPECT_EQ(rules, nlohmann::json::parse(R"([
    {"pattern": "sensor.*", "max_age": "30d", "max_age_seconds": 2592000, "entities": 1},
    {"pattern": "sensor.*_rssi", "max_age": "7d", "max_age_seconds": 604800, "entities": 2}])"));

  const CommandResult removed = run({"retention", "remove", "sensor.*_rssi"});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_THAT(removed.out, ::testing::StartsWith("removed rule sensor.*_rssi"));
  EXPECT_EQ(sql("SELECT pattern FROM retention_rules"), "sensor.*\n");

  const CommandResult unknown = run({"retention", "remove", "sensor.*_rssi"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("no retention rule 'sensor.*_rssi'"));
  EXPECT_EQ(sql("SELECT COUNT(*) FROM facts"), "17\n");
}

TEST_F(RetentionCli, UsageErrorsChangeNothing) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"retention", "set", "Sensor.x", "7d"},
                                             {"retention", "set", "sensor", "7d"},
                                             {"retention", "set", "sensor.a.b", "7d"},
                                             {"retention", "set", ":sensor.x", "7d"},
                                             {"retention", "set", "sensor.*", "0d"},
                                             {"retention", "set", "sensor.*", "soon"},
                                             {"retention", "set", "sensor.*"},
                                             {"retention", "remove"},
                                             {"retention"},
                                             {"prune"}}) {
    const CommandResult r = run(args);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_THAT(run({"retention", "set", "sensor", "7d"}).err,
              HasSubstr("matches no entity id: entity ids are DOMAIN.OBJECT_ID"));
  EXPECT_EQ(sql("SELECT COUNT(*) FROM retention_rules"), "0\n");
}

TEST_F(RetentionCli, HandWrittenBadRuleStopsPruneBeforeDeleting) {
  load();
  set("binary_sensor.*", "1d");
  sql("INSERT INTO retention_rules VALUES ('Bad', 60, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))");
  const CommandResult r = run({"prune"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("retention_rules holds an invalid rule"));
  EXPECT_EQ(sql("SELECT COUNT(*) FROM facts"), "17\n");
}

}  // namespace
}  // namespace statesink::testing
