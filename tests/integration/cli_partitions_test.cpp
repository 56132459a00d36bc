// The partitioned messages table against a real MariaDB: what a fresh
// migrate gives, rows of any date, splitting ahead, prune by whole
// partitions, and the conversion of a filled unpartitioned table.
#include <algorithm>

#include "cli_fixture.h"

namespace statesink::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

class PartitionsCli : public CliTest {
 protected:
  // Partition names and bounds in order: "name|bound" per line.
  std::string layout() {
    return sql(
        "SELECT CONCAT(partition_name, '|', partition_description) "
        "FROM information_schema.partitions "
        "WHERE table_schema = DATABASE() AND table_name = 'messages' "
        "ORDER BY partition_ordinal_position");
  }

  std::string first_partition() {
    std::string name =
        sql("SELECT partition_name FROM information_schema.partitions "
            "WHERE table_schema = DATABASE() AND table_name = 'messages' "
            "AND partition_ordinal_position = 1");
    if (!name.empty()) {
      name.pop_back();
    }
    return name;
  }

  int partition_count() {
    return std::stoi(
        sql("SELECT COUNT(partition_name) FROM information_schema.partitions "
            "WHERE table_schema = DATABASE() AND table_name = 'messages'"));
  }

  // The first day of the month `offset` months from the current one, as SQL
  // prints a DATE.
  std::string month_start(int offset) {
    std::string day = sql("SELECT DATE_FORMAT(UTC_DATE(), '%Y-%m-01') + INTERVAL " +
                          std::to_string(offset) + " MONTH");
    day.pop_back();
    return day;
  }

  // Every column of every row, payload in hex, in id order.
  std::string dump(const std::string& table) {
    return sql("SELECT id, topic, HEX(payload), qos, retained, received_at FROM " + table +
               " ORDER BY id");
  }

  // Everything BI users read, in one text to compare before and after.
  std::string history() {
    return sql(
        "SELECT f.id, f.state_id, f.message_id, f.fact, f.num_value, f.recorded_at FROM facts f "
        "ORDER BY f.id; "
        "SELECT * FROM current_states ORDER BY state_id; "
        "SELECT id, reason FROM rejected_messages ORDER BY id");
  }
};

TEST_F(PartitionsCli, FreshMigrateGivesPartitionsAheadAndACatchAll) {
  EXPECT_THAT(sql("SHOW CREATE TABLE messages"),
              AllOf(HasSubstr("PRIMARY KEY (`id`,`received_at`)"),
                    HasSubstr("PARTITION BY RANGE  COLUMNS(`received_at`)")));
  // The month before this one and older, this month, three ahead, the rest.
  const std::string expected = "p_before_" + month_start(0).substr(0, 4) +
                               month_start(0).substr(5, 2) + "01|'" + month_start(0) +
                               " 00:00:00.000000'\n";
  const std::string actual = layout();
  EXPECT_THAT(actual, StartsWith(expected));
  EXPECT_THAT(actual, HasSubstr("|'" + month_start(4) + " 00:00:00.000000'\np_future|MAXVALUE\n"));
  EXPECT_EQ(partition_count(), 6) << actual;

  // Migrating again adds nothing.
  const CommandResult again = run({"migrate", "up"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, Not(HasSubstr("partition")));
  EXPECT_EQ(layout(), actual);

  const CommandResult status = run({"partitions", "status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, StartsWith("messages is partitioned by received_at, one partition per "
                                     "month, 3 period(s) ahead\n"));
  EXPECT_THAT(status.out, HasSubstr("p_future"));
  const CommandResult csv = run({"partitions", "status", "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 1 + 6) << csv.out;
}

TEST_F(PartitionsCli, RowsOfAnyDateLandAndNormalise) {
  insert({{"homeassistant/sensor/a/state", "1", "'1000-01-01 00:00:00'"},
          {"homeassistant/sensor/b/state", "2", "'1970-01-01 00:00:00.000001'"},
          {"homeassistant/sensor/c/state", "3", "UTC_TIMESTAMP(6)"},
          {"homeassistant/sensor/d/state", "4", "UTC_TIMESTAMP(6) + INTERVAL 20 YEAR"},
          {"homeassistant/sensor/e/state", "5", "'9999-12-31 23:59:59.999999'"}});
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages"), "5\n");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM facts"), "5\n");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages PARTITION (p_future)"), "2\n");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages PARTITION (" + first_partition() + ")"), "2\n");
  // A plain insert without received_at takes the default and lands too.
  sql("INSERT INTO messages (topic, payload) VALUES ('homeassistant/sensor/f/state', '6')");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM facts"), "6\n");
}

TEST_F(PartitionsCli, SplitAheadIsIdempotentAndMovesRowsOutOfTheCatchAll) {
  insert({{"homeassistant/sensor/a/state", "1", "UTC_TIMESTAMP(6) + INTERVAL 6 MONTH"}});
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages PARTITION (p_future)"), "1\n");
  const std::string before = layout();

  const CommandResult dry = run({"partitions", "split", "--ahead", "8", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_THAT(dry.out, StartsWith("dry run: would add 5 partition(s):\nALTER TABLE `messages` "
                                  "REORGANIZE PARTITION `p_future` INTO ("));
  EXPECT_EQ(layout(), before);

  const CommandResult split = run({"partitions", "split", "--ahead", "8"});
  ASSERT_EQ(split.exit_code, 0) << split.err;
  EXPECT_THAT(split.out, MatchesRegex("added 5 partition\\(s\\): p[0-9]{8} to p[0-9]{8}\n"));
  EXPECT_EQ(partition_count(), 11);
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages PARTITION (p_future)"), "0\n");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages"), "1\n");
  EXPECT_THAT(layout(),
              HasSubstr("|'" + month_start(9) + " 00:00:00.000000'\np_future|MAXVALUE\n"));
  // The layout is kept for every later split.
  EXPECT_EQ(sql("SELECT value FROM settings WHERE name = 'messages_partitions_ahead'"), "8\n");

  const std::string after = layout();
  const CommandResult again = run({"partitions", "split"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, StartsWith("nothing to add"));
  EXPECT_EQ(layout(), after);
  // Days within months already split add nothing either.
  const CommandResult days = run({"partitions", "split", "--period", "day", "--ahead", "3"});
  ASSERT_EQ(days.exit_code, 0) << days.err;
  EXPECT_THAT(days.out, StartsWith("nothing to add"));
  EXPECT_EQ(layout(), after);

  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"partitions", "split", "--period", "week"},
                                             {"partitions", "split", "--ahead", "0"},
                                             {"partitions"}}) {
    const CommandResult r = run(args);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST_F(PartitionsCli, PruneDropsWholePartitionsAndDeletesInChunksOnlyAtTheEdge) {
  // Past months as their own partitions, the way months of ingestion leave them.
  sql("ALTER TABLE messages REORGANIZE PARTITION " + first_partition() +
      " INTO (PARTITION pa VALUES LESS THAN ('" + month_start(-3) +
      "'), PARTITION pb VALUES LESS THAN ('" + month_start(-2) +
      "'), PARTITION pc VALUES LESS THAN ('" + month_start(-1) +
      "'), PARTITION pd VALUES LESS THAN ('" + month_start(0) + "'))");
  std::vector<Message> messages;
  // `count` messages a minute apart from `start` (SQL).
  auto add = [&messages](int count, const std::string& start, const std::string& name) {
    for (int i = 0; i < count; ++i) {
      messages.push_back({"homeassistant/sensor/" + name + "/state", name + std::to_string(i),
                          start + " + INTERVAL " + std::to_string(i) + " MINUTE"});
    }
  };
  const std::string pb_start = "TIMESTAMP('" + month_start(-3) + "')";
  const std::string pc_start = "TIMESTAMP('" + month_start(-2) + "')";
  add(2, "TIMESTAMP('1990-01-01')", "a");  // pa
  messages.push_back({"bad/a", "x", "'1990-01-02'"});
  add(3, pb_start, "b");  // pb
  messages.push_back({"bad/b", "x", pb_start + " + INTERVAL 1 DAY"});
  add(5, pc_start, "c");                                // pc, before the cutoff
  add(3, pc_start + " + INTERVAL 20 DAY", "d");         // pc, after it
  add(2, "TIMESTAMP('" + month_start(-1) + "')", "e");  // pd
  add(2, "UTC_TIMESTAMP(6) - INTERVAL 1 HOUR", "f");    // this month
  insert(messages);
  ASSERT_EQ(sql("SELECT COUNT(*) FROM messages"), "19\n");
  ASSERT_EQ(sql("SELECT COUNT(*) FROM rejected_messages"), "2\n");
  const std::string before =
      sql("SELECT f.id, f.state_id, f.message_id, f.fact, f.num_value, f.recorded_at FROM facts f "
          "ORDER BY f.id; SELECT * FROM current_states ORDER BY state_id");
  const std::string kept =
      sql("SELECT GROUP_CONCAT(id ORDER BY id) FROM messages "
          "WHERE received_at >= TIMESTAMP('" +
          month_start(-2) + "') + INTERVAL 10 DAY");

  // Ten days into pc, in seconds before now.
  const std::string age = sql("SELECT TIMESTAMPDIFF(SECOND, TIMESTAMP('" + month_start(-2) +
                              "') + INTERVAL 10 DAY, UTC_TIMESTAMP())");
  const std::string older_than = age.substr(0, age.size() - 1) + "s";

  const CommandResult dry = run({"prune", "--older-than", older_than, "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_THAT(
      dry.out,
      MatchesRegex("dry run: would drop partition pa \\(received_at before " + month_start(-3) +
                   " 00:00:00.000000 UTC\\) holding 3 message\\(s\\)\n"
                   "dry run: would drop partition pb \\(received_at from " +
                   month_start(-3) + " 00:00:00.000000 before " + month_start(-2) +
                   " 00:00:00.000000 UTC\\) holding 4 message\\(s\\)\n"
                   "dry run: would delete 5 message\\(s\\) received before [0-9-]+ "
                   "[0-9:.]+ UTC \\(the oldest from " +
                   month_start(-2) + " 00:00:00.000000 UTC\\); nothing was deleted\n"));
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages"), "19\n");

  const CommandResult r = run({"prune", "--older-than", older_than, "--batch", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, MatchesRegex("dropping partition pa .*\ndropping partition pb .*\n"
                                  "dropped 2 partition\\(s\\) holding 7 message\\(s\\) received "
                                  "before " +
                                  month_start(-2) +
                                  " 00:00:00.000000 UTC, [0-9.]+ s; the facts made from them are "
                                  "kept\n"
                                  "deleted the rejection records of 2 of those message\\(s\\)\n"
                                  "deleted 5 message\\(s\\) received before [0-9-]+ [0-9:.]+ UTC "
                                  "in 3 chunk\\(s\\) of at most 2, [0-9.]+ s; the facts made "
                                  "from them are kept\n"
                                  "oldest remaining message: [0-9-]+ [0-9:.]+ UTC\n"));
  EXPECT_EQ(sql("SELECT GROUP_CONCAT(id ORDER BY id) FROM messages"), kept);
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages"), "7\n");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM message_rejections"), "0\n");
  EXPECT_THAT(layout(), StartsWith("pc|"));
  EXPECT_EQ(sql("SELECT f.id, f.state_id, f.message_id, f.fact, f.num_value, f.recorded_at "
                "FROM facts f ORDER BY f.id; SELECT * FROM current_states ORDER BY state_id"),
            before);

  // The first partition is open below again: an old row still lands.
  insert({{"homeassistant/sensor/a/state", "late", "'1980-01-01'"}});
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages PARTITION (pc)"), "4\n");

  const CommandResult again = run({"prune", "--older-than", older_than});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, StartsWith("deleted 1 message(s)"));
}

TEST_F(PartitionsCli, ConvertsAFilledTableResumablyAndRowForRow) {
  // An installation from before migration 0010, holding messages.
  const CommandResult down = run({"migrate", "down", "--to", "8"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_EQ(partition_count(), 0);
  std::vector<Message> messages;
  for (int i = 0; i < 200; ++i) {
    messages.push_back({i % 40 == 0 ? "bad/" + std::to_string(i)
                                    : "homeassistant/sensor/s" + std::to_string(i % 7) + "/state",
                        std::to_string(i * 3 % 11),
                        "UTC_TIMESTAMP(6) - INTERVAL " + std::to_string(100 - i / 2) +
                            " DAY + INTERVAL " + std::to_string(i) + " SECOND"});
  }
  insert(messages);
  const CommandResult up = run({"migrate", "up"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_THAT(up.out, HasSubstr("left it unpartitioned; statesink partitions convert --dry-run"));
  EXPECT_EQ(partition_count(), 0);
  const std::string unconverted = dump("messages");

  const CommandResult dry = run({"partitions", "convert", "--dry-run", "--chunk", "30"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_THAT(dry.out, StartsWith("dry run: nothing is changed\nmessages holds 200 row(s), ids 1 "
                                  "to 200"));
  EXPECT_THAT(dry.out, HasSubstr("PARTITION BY RANGE COLUMNS (received_at)"));
  EXPECT_EQ(sql("SHOW TABLES LIKE 'messages_partitioned'"), "");

  // Interrupted after two chunks; messages arriving meanwhile are copied
  // by the trigger and still normalised.
  const CommandResult first = run({"partitions", "convert", "--chunk", "30", "--max-chunks", "2"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_THAT(first.out, HasSubstr("copied 60 row(s) in 2 chunk(s), ids up to 60 of 200; run "
                                   "statesink partitions convert again to go on\n"));
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages_partitioned"), "60\n");
  const std::string facts_before = sql("SELECT COUNT(*) FROM facts");
  insert({{"homeassistant/sensor/new/state", "1", "UTC_TIMESTAMP(6)"},
          {"homeassistant/sensor/new/state", "2", "'2001-01-01'"},
          {"bad/new", "x", "UTC_TIMESTAMP(6)"}});
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages_partitioned"), "63\n");
  EXPECT_EQ(std::stoi(sql("SELECT COUNT(*) FROM facts")), std::stoi(facts_before) + 2);

  const CommandResult prune = run({"prune", "--older-than", "30d"});
  EXPECT_EQ(prune.exit_code, 1);
  EXPECT_THAT(prune.err, HasSubstr("while statesink partitions convert has not finished"));

  const CommandResult resumed_dry = run({"partitions", "convert", "--dry-run"});
  ASSERT_EQ(resumed_dry.exit_code, 0) << resumed_dry.err;
  EXPECT_THAT(resumed_dry.out, HasSubstr("has copied ids up to 60 of 200; it would go on"));

  const std::string all_rows = dump("messages");
  const std::string read_by_bi = history();
  const CommandResult rest = run({"partitions", "convert", "--chunk", "30"});
  ASSERT_EQ(rest.exit_code, 0) << rest.err;
  EXPECT_THAT(rest.out, HasSubstr("copied 140 row(s) in 5 chunk(s); every id up to 200 is in "
                                  "messages_partitioned\nboth tables hold 203 row(s)\nswapped"));
  EXPECT_THAT(sql("SHOW CREATE TABLE messages"),
              HasSubstr("PARTITION BY RANGE  COLUMNS(`received_at`)"));
  EXPECT_EQ(dump("messages"), all_rows);
  EXPECT_EQ(dump("messages_unpartitioned"), all_rows);
  EXPECT_THAT(all_rows, StartsWith(unconverted.substr(0, unconverted.size() - 1)));
  EXPECT_EQ(history(), read_by_bi);
  EXPECT_EQ(sql("SELECT trigger_name, event_object_table FROM information_schema.triggers "
                "WHERE trigger_schema = DATABASE()"),
            "messages_normalise\tmessages\n");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages_conversion"), "0\n");

  // After the swap: the trigger normalises, ids go on, prune works again.
  insert({{"homeassistant/sensor/new/state", "3", "UTC_TIMESTAMP(6)"}});
  EXPECT_EQ(std::stoi(sql("SELECT COUNT(*) FROM facts")), std::stoi(facts_before) + 3);
  EXPECT_EQ(sql("SELECT MAX(id) FROM messages"), "204\n");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages_unpartitioned"), "203\n");
  const CommandResult pruned = run({"prune", "--older-than", "70d"});
  ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
  EXPECT_THAT(pruned.out, HasSubstr("dropped "));
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages WHERE received_at < UTC_TIMESTAMP() - "
                "INTERVAL 70 DAY"),
            "0\n");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages_unpartitioned WHERE received_at >= "
                "UTC_TIMESTAMP() - INTERVAL 70 DAY"),
            sql("SELECT COUNT(*) - 1 FROM messages"));

  const CommandResult again = run({"partitions", "convert"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, StartsWith("messages is partitioned already"));
}

TEST_F(PartitionsCli, ConvertCompletesASwapStoppedHalfway) {
  ASSERT_EQ(run({"migrate", "down", "--to", "8"}).exit_code, 0);
  std::vector<Message> messages;
  for (int i = 0; i < 50; ++i) {
    messages.push_back({"homeassistant/sensor/s" + std::to_string(i % 4) + "/state",
                        std::to_string(i),
                        "UTC_TIMESTAMP(6) - INTERVAL " + std::to_string(i) + " DAY"});
  }
  insert(messages);
  ASSERT_EQ(run({"migrate", "up"}).exit_code, 0);
  const CommandResult first = run({"partitions", "convert", "--chunk", "20", "--max-chunks", "1"});
  ASSERT_EQ(first.exit_code, 0) << first.err;

  // What a run killed in the middle of the swap leaves: the copy complete,
  // the triggers saved, messages renamed away and its triggers dropped.
  sql("INSERT IGNORE INTO messages_partitioned SELECT * FROM messages; "
      "UPDATE messages_conversion SET copied_up_to = high_water_id; "
      "INSERT INTO messages_conversion_triggers "
      "(name, action_order, sql_mode, character_set_client, collation_connection, definition) "
      "SELECT trigger_name, action_order, sql_mode, character_set_client, collation_connection, "
      "CONCAT('CREATE TRIGGER ', trigger_name, ' ', action_timing, ' ', event_manipulation, "
      "'\n  ON messages FOR EACH ROW ', action_statement) FROM information_schema.triggers "
      "WHERE trigger_schema = DATABASE() AND trigger_name = 'messages_normalise'; "
      "RENAME TABLE messages TO messages_unpartitioned; "
      "DROP TRIGGER messages_normalise; DROP TRIGGER messages_conversion_copy");
  const std::string rows = dump("messages_unpartitioned");
  EXPECT_THROW(insert({{"homeassistant/sensor/s0/state", "x", "UTC_TIMESTAMP(6)"}}),
               std::exception);

  const CommandResult dry = run({"partitions", "convert", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_THAT(dry.out, HasSubstr("an interrupted swap would be completed"));
  EXPECT_EQ(sql("SHOW TABLES LIKE 'messages'"), "");

  const CommandResult rest = run({"partitions", "convert"});
  ASSERT_EQ(rest.exit_code, 0) << rest.err;
  EXPECT_THAT(rest.out, StartsWith("swapped: messages is partitioned"));
  EXPECT_EQ(dump("messages"), rows);
  EXPECT_EQ(sql("SELECT trigger_name, event_object_table FROM information_schema.triggers "
                "WHERE trigger_schema = DATABASE()"),
            "messages_normalise\tmessages\n");
  const std::string facts = sql("SELECT COUNT(*) FROM facts");
  insert({{"homeassistant/sensor/s0/state", "after", "UTC_TIMESTAMP(6)"}});
  EXPECT_EQ(std::stoi(sql("SELECT COUNT(*) FROM facts")), std::stoi(facts) + 1);
}

TEST_F(PartitionsCli, MigrateDownUnpartitionsAndKeepsRows) {
  insert({{"homeassistant/sensor/a/state", "1", "'1990-01-01'"},
          {"homeassistant/sensor/a/state", "2", "UTC_TIMESTAMP(6)"}});
  const std::string rows = dump("messages");
  const CommandResult down = run({"migrate", "down", "--to", "8"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_EQ(partition_count(), 0);
  EXPECT_THAT(sql("SHOW CREATE TABLE messages"), HasSubstr("PRIMARY KEY (`id`)"));
  EXPECT_EQ(dump("messages"), rows);
  EXPECT_EQ(sql("SELECT COUNT(*) FROM settings WHERE name LIKE 'messages_partition%'"), "0\n");
}

}  // namespace
}  // namespace statesink::testing
