// statesink prune against a real MariaDB: old raw messages go, in chunks,
// and the history made from them stays exactly as it was.
#include <algorithm>

#include "cli_fixture.h"

namespace statesink::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

class PruneCli : public CliTest {
 protected:
  // 26 messages from 40 days ago (25 state changes and one malformed) and 5
  // from yesterday; every one of the 30 good ones changes a value, so each
  // made a fact.
  void load() {
    // The chunked delete that installations older than migration 0010 keep
    // (cli_partitions_test covers partitions): on a partitioned table, which
    // of these rows share a partition would depend on today's date.
    sql("ALTER TABLE messages REMOVE PARTITIONING");
    std::vector<Message> messages;
    for (int i = 0; i < 25; ++i) {
      messages.push_back(
          {"homeassistant/sensor/old_" + std::to_string(i % 5) + "/state", std::to_string(i),
           "UTC_TIMESTAMP(6) - INTERVAL 40 DAY + INTERVAL " + std::to_string(i) + " MINUTE"});
    }
    messages.push_back({"too/short", "x", "UTC_TIMESTAMP(6) - INTERVAL 40 DAY"});
    for (int i = 0; i < 5; ++i) {
      messages.push_back(
          {"homeassistant/sensor/old_" + std::to_string(i) + "/state", "new " + std::to_string(i),
           "UTC_TIMESTAMP(6) - INTERVAL 1 DAY + INTERVAL " + std::to_string(i) + " SECOND"});
    }
    insert(messages);
    ASSERT_EQ(sql("SELECT COUNT(*) FROM facts"), "30\n");
    ASSERT_EQ(sql("SELECT COUNT(*) FROM rejected_messages"), "1\n");
  }

  // Everything BI users read, in one text to compare before and after.
  std::string history() {
    return sql(
        "SELECT f.id, f.state_id, f.message_id, f.fact, f.num_value, f.recorded_at FROM facts f "
        "ORDER BY f.id; "
        "SELECT * FROM current_states ORDER BY state_id; "
        "SELECT facts.id, facts.fact, states.label as state, states.id as state_id, "
        "       entities.label as entity, entities.id as entity_id, "
        "       base_topics.label as main_topic, base_topic_id as main_topic_id "
        "FROM facts "
        "JOIN states on facts.state_id = states.id "
        "JOIN entities on states.entity_id = entities.id "
        "JOIN base_topics on entities.base_topic_id = base_topics.id ORDER BY facts.id");
  }
};

TEST_F(PruneCli, DeletesOnlyOldMessagesInChunksAndKeepsFacts) {
  load();
  const std::string before = history();
  const std::string newest_before =
      sql("SELECT GROUP_CONCAT(id ORDER BY id) FROM messages "
          "WHERE received_at > UTC_TIMESTAMP() - INTERVAL 30 DAY");

  const CommandResult r = run({"prune", "--older-than", "30d", "--batch", "10"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, MatchesRegex("deleted 26 message\\(s\\) received before "
                                  "[0-9-]+ [0-9:.]+ UTC in 3 chunk\\(s\\) of at most 10, "
                                  "[0-9.]+ s; the facts made from them are kept\n"
                                  "deleted the rejection records of 1 of those message\\(s\\)\n"
                                  "oldest remaining message: [0-9-]+ [0-9:.]+ UTC\n"));
  EXPECT_THAT(r.out, HasSubstr("oldest remaining message: " +
                               sql("SELECT MIN(received_at) FROM messages").substr(0, 26)));

  EXPECT_EQ(sql("SELECT GROUP_CONCAT(id ORDER BY id) FROM messages"), newest_before);
  EXPECT_EQ(sql("SELECT COUNT(*) FROM message_rejections"), "0\n");
  EXPECT_EQ(history(), before);

  // The history from the deleted messages still answers queries.
  const CommandResult old = run(
      {"query", "history", "sensor.old_0", "--from", "-41d", "--to", "-39d", "--format", "csv"});
  ASSERT_EQ(old.exit_code, 0) << old.err;
  EXPECT_EQ(std::count(old.out.begin(), old.out.end(), '\n'), 1 + 5) << old.out;

  // Nothing left to do the second time.
  const CommandResult again = run({"prune", "--older-than", "30d"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, StartsWith("deleted 0 message(s)"));
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages"), "5\n");
}

TEST_F(PruneCli, ExactMultipleOfTheBatchAndEverything) {
  load();
  const std::string before = history();
  const CommandResult r = run({"prune", "--older-than", "1h", "--batch", "31"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("deleted 31 message(s)"));
  EXPECT_THAT(r.out, HasSubstr(" in 1 chunk(s) of at most 31,"));
  EXPECT_THAT(r.out, HasSubstr("\nno messages remain\n"));
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages"), "0\n");
  EXPECT_EQ(history(), before);

  // New messages after a prune still normalise onto the same states.
  insert({{"homeassistant/sensor/old_0/state", "fresh", "UTC_TIMESTAMP(6)"}});
  EXPECT_EQ(sql("SELECT COUNT(*) FROM facts"), "31\n");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM states"), "5\n");
}

TEST_F(PruneCli, DryRunDeletesNothing) {
  load();
  const std::string before = history();
  const CommandResult r = run({"prune", "--older-than", "30d", "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, MatchesRegex("dry run: would delete 26 message\\(s\\) received before "
                                  "[0-9-]+ [0-9:.]+ UTC \\(the oldest from [0-9-]+ [0-9:.]+ "
                                  "UTC\\); nothing was deleted\n"));
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages"), "31\n");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM message_rejections"), "1\n");
  EXPECT_EQ(history(), before);
}

TEST_F(PruneCli, RejectsZeroNegativeAndMalformedAges) {
  load();
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"prune", "--older-than", "0d"},
                                             {"prune", "--older-than", "0"},
                                             {"prune", "--older-than=-5d"},
                                             {"prune", "--older-than", "soon"},
                                             {"prune", "--older-than", "30d", "--batch", "0"},
                                             {"prune"}}) {
    const CommandResult r = run(args);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_THAT(run({"prune", "--older-than", "0d"}).err, HasSubstr("must be longer than zero"));
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages"), "31\n");
}

TEST_F(PruneCli, WithoutSchemaSaysToMigrate) {
  sql("DROP TABLE messages");
  const CommandResult r = run({"prune", "--older-than", "30d"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("statesink migrate up"));
}

}  // namespace
}  // namespace statesink::testing
