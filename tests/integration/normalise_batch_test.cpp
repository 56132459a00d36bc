// The set-based path (normalise_batch(), used by the ingester) against the per-row
// trigger (every other client): the same generated messages, in the same batches,
// go into two databases, one through each path, and every normalised table must
// come out the same. Surrogate ids are compared through natural keys (a base
// topic's label, a state's topic hash, a fact's message id), because an INSERT ...
// SELECT may leave gaps in AUTO_INCREMENT values that one-row INSERTs do not.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "db/error.h"
#include "ingest/topic_order.h"
#include "normalise_fixture.h"

namespace statesink::testing {
namespace {

// A stream shaped like statestream traffic, with every kind of trouble mixed in:
// repeats, several messages of one topic per batch, received_at going backwards
// and equal, malformed topics, payloads that are not UTF-8 or hold a NUL, values
// out of DOUBLE's range, attributes as JSON of every type.
class StreamGenerator {
 public:
  // `offset_us` shifts every reception time, so that two streams never share one.
  explicit StreamGenerator(std::uint64_t seed, std::int64_t offset_us = 0)
      : random_(seed), clock_us_(3'600'000'000 + offset_us) {}

  std::vector<Message> next_batch(std::size_t size) {
    std::vector<Message> batch;
    for (std::size_t i = 0; i < size; ++i) {
      batch.push_back(next());
    }
    return batch;
  }

 private:
  Message next() {
    // Mostly forward in time, sometimes back (a late retry, another ingester) or
    // on the same microsecond.
    const int step = pick({0, 1, 1, 1, 1, 2, 5, -1, -3, 1000});
    clock_us_ += step * 250'000;
    Message m;
    m.received_at = format(clock_us_);
    m.retained = chance(10);
    if (chance(4)) {
      m.topic = pick_text({"a/b", "ha/sensor/x", "ha//x/state", "/ha/sensor/x/state",
                           "ha/sensor/x/state/", "ha /sensor/x/state", "ha/sensor/x /state",
                           std::string("ha/sensor/n\0ul/state", 20),
                           std::string(300, 'b') + "/sensor/x/state",
                           "ha/sensor/" + std::string(256, 'o') + "/state"});
      m.payload = "1";
      return m;
    }
    const std::string base = pick_text({"ha", "home/ha2", "x/y/z"});
    const std::string entity = pick_text({"sensor/temp", "sensor/power", "light/desk",
                                          "binary_sensor/door", "sensor/name", "switch/pump"});
    const int kind = pick({0, 0, 0, 0, 1, 2, 3, 3, 3, 4});
    if (kind == 0) {
      m.topic = base + "/" + entity + "/state";
      m.payload = pick_text({"21.5",
                             "21.5",
                             "22",
                             "21.50",
                             "on",
                             "off",
                             "on",
                             "true",
                             "unavailable",
                             "unknown",
                             "Küche",
                             "22 ",
                             "-0",
                             "+5",
                             ".5",
                             "5.",
                             "1e999",
                             "-1e999",
                             "1e-400",
                             "1.5e+16",
                             "0x10",
                             "",
                             "NaN",
                             std::string(301, '9'),
                             std::string("a\0b", 3),
                             "\xff\xfe",
                             "\xed\xa0\x80",
                             "\xed\x9f\xbf",
                             std::string(65536, 'x')});
    } else if (kind == 1 || kind == 2) {
      m.topic = base + "/" + entity + (kind == 1 ? "/last_updated" : "/last_changed");
      // Mostly Home Assistant's own form, an hour or so before reception; now
      // and then another offset, Z, a repeat, or no time at all.
      const std::int64_t at = clock_us_ -
                              std::int64_t{pick({0, 1, 3600, 3600, 3600, 7200})} * 1'000'000 -
                              pick({0, 0, 512'345});
      m.payload =
          pick_text({iso(at, "+00:00"), iso(at, "+00:00"), iso(at, "+00:00"), iso(at, "+02:00"),
                     iso(at, "Z"), iso(at, "-05:30"), "2024-05-01T12:00:00+00:00",
                     "2026-02-30T12:00:00+00:00", "2026-01-01T24:00:00+00:00", "garbage", ""});
    } else if (kind == 3) {
      m.topic =
          base + "/" + entity + "/" +
          pick_text({"unit_of_measurement", "brightness", "rgb_color", "friendly_name", "extra"});
      m.payload = pick_text({"\"\\u00b0C\"", "\"W\"", "180", "180", "21.0", "null", "true", "false",
                             "[255, 128, 0]", "{\"a\": 1}", "NaN", "\"on\"", "\"a\\u0000b\"",
                             "\"K\\u00fcche\"", "\"\"", "not json", "\"1e999\""});
    } else {
      m.topic = base + "/" + entity + "/" + pick_text({"state", "brightness"});
      m.payload = pick_text({"1", "1.0", "on", "\"on\""});
    }
    return m;
  }

  // The date and time of `us` as Home Assistant writes them, with `zone`
  // appended as it stands (the digits stay those of UTC).
  static std::string iso(std::int64_t us, const std::string& zone) {
    std::string text = format(us);
    text[10] = 'T';
    if (text.ends_with(".000000")) {
      text.resize(text.size() - 7);
    }
    return text + zone;
  }

  static std::string format(std::int64_t us) {
    const std::int64_t day_us = us % 86'400'000'000;
    char text[64];
    std::snprintf(text, sizeof text, "2026-01-%02d %02d:%02d:%02d.%06d",
                  static_cast<int>(1 + us / 86'400'000'000),
                  static_cast<int>(day_us / 3'600'000'000),
                  static_cast<int>(day_us / 60'000'000 % 60),
                  static_cast<int>(day_us / 1'000'000 % 60), static_cast<int>(day_us % 1'000'000));
    return text;
  }

  bool chance(int one_in) { return std::uniform_int_distribution<int>(1, one_in)(random_) == 1; }

  int pick(std::initializer_list<int> values) {
    const auto i = std::uniform_int_distribution<std::size_t>(0, values.size() - 1)(random_);
    return *(values.begin() + static_cast<std::ptrdiff_t>(i));
  }

  std::string pick_text(std::initializer_list<std::string> values) {
    const auto i = std::uniform_int_distribution<std::size_t>(0, values.size() - 1)(random_);
    return *(values.begin() + static_cast<std::ptrdiff_t>(i));
  }

  std::mt19937_64 random_;
  std::int64_t clock_us_;
};

class NormaliseBatchTest : public NormaliseTest {
 protected:
  void SetUp() override {
    NormaliseTest::SetUp();
    if (HasFatalFailure()) return;
    batch_database_ = database_.substr(0, 58) + "_batch";
    batch_url_ = servers().mariadb.create_database(batch_database_);
    const CommandResult r = statesink({"migrate", "up", "--db", batch_url_});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    batch_connection_.emplace(db::Connection::open(config::parse_db_url(batch_url_)));
  }

  // The ingester's transaction: collect the ids, insert, normalise, commit.
  void insert_as_batch(db::Connection& connection, const std::vector<Message>& messages) {
    db::Transaction transaction(connection);
    connection.execute("SET @statesink_batch_ids = ''");
    insert(connection, messages);
    connection.execute("CALL normalise_batch()");
    transaction.commit();
  }

  // `topic_order`: each batch in the ingester's order (topic_before), keeping
  // each topic's messages in order.
  void feed(std::uint64_t seed, std::size_t batches, std::size_t max_batch,
            bool topic_order = false) {
    StreamGenerator generator(seed);
    std::mt19937_64 sizes(seed + 1);
    for (std::size_t i = 0; i < batches; ++i) {
      const auto size = std::uniform_int_distribution<std::size_t>(1, max_batch)(sizes);
      std::vector<Message> batch = generator.next_batch(size);
      if (topic_order) {
        std::stable_sort(batch.begin(), batch.end(), [](const Message& a, const Message& b) {
          return ingest::topic_before(a.topic, b.topic);
        });
      }
      insert(batch);
      insert_as_batch(*batch_connection_, batch);
    }
  }

  // Every normalised table, with surrogate ids replaced by natural keys.
  static std::vector<std::vector<std::string>> tables(db::Connection& connection) {
    const char* const queries[] = {
        "SELECT label, first_seen FROM base_topics ORDER BY label",
        "SELECT b.label, e.label, e.domain, e.object_id, e.first_seen FROM entities e "
        "JOIN base_topics b ON b.id = e.base_topic_id ORDER BY b.label, e.domain, e.object_id",
        "SELECT HEX(s.topic_hash), b.label, e.label, s.label, s.first_seen FROM states s "
        "JOIN entities e ON e.id = s.entity_id JOIN base_topics b ON b.id = e.base_topic_id "
        "ORDER BY s.topic_hash",
        // Facts in id order: the history's order must match too.
        "SELECT f.message_id, HEX(s.topic_hash), HEX(f.fact), f.num_value, f.recorded_at, "
        "f.reported_at FROM facts f JOIN states s ON s.id = f.state_id ORDER BY f.id",
        "SELECT HEX(s.topic_hash), f.message_id, HEX(c.value), c.num_value, c.last_changed, "
        "c.last_seen, c.times_seen, c.last_message_id FROM current_states c "
        "JOIN states s ON s.id = c.state_id JOIN facts f ON f.id = c.fact_id "
        "ORDER BY s.topic_hash",
        "SELECT message_id, reason FROM message_rejections ORDER BY message_id",
        "SELECT COUNT(*), MAX(id) FROM messages",
    };
    std::vector<std::vector<std::string>> result;
    for (const char* sql : queries) {
      std::vector<std::string> rows;
      for (const db::Row& row : connection.query(sql)) rows.push_back(join_row(row));
      result.push_back(std::move(rows));
    }
    return result;
  }

  void expect_same_tables() {
    const auto per_row = tables(db());
    const auto batched = tables(*batch_connection_);
    ASSERT_EQ(per_row.size(), batched.size());
    for (std::size_t t = 0; t < per_row.size(); ++t) {
      // The first row that differs, rather than two tables of thousands of rows.
      const auto& a = per_row[t];
      const auto& b = batched[t];
      const auto [ia, ib] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
      EXPECT_TRUE(ia == a.end() && ib == b.end())
          << "table query " << t << ", rows " << a.size() << " per row and " << b.size()
          << " batched; first difference at row " << (ia - a.begin())
          << ":\n  per row: " << (ia == a.end() ? "(end)" : *ia)
          << "\n  batched: " << (ib == b.end() ? "(end)" : *ib);
    }
    // The streams are meant to exercise every path; a generator that stopped doing
    // so would make the comparison hollow.
    EXPECT_GT(per_row[3].size(), 100U);
    EXPECT_GT(per_row[5].size(), 10U);
  }

  // The long streams must give event time both ways: states that found their
  // last_updated, and states that did not.
  void expect_event_times_exercised() {
    const auto states_with_event_time = [this](bool known) {
      return std::stoi(
          db().query_value(std::string("SELECT COUNT(*) FROM facts f JOIN states s ON s.id = "
                                       "f.state_id WHERE s.label = 'state' AND f.reported_at IS ") +
                           (known ? "NOT NULL" : "NULL"))
              .value_or("0"));
    };
    EXPECT_GT(states_with_event_time(true), 10);
    EXPECT_GT(states_with_event_time(false), 10);
  }

  void keep_every_message() {
    for (db::Connection* c : {&db(), &*batch_connection_}) {
      c->execute("UPDATE settings SET value = '1' WHERE name = 'keep_every_message'");
    }
  }

  std::string batch_database_;
  std::string batch_url_;
  std::optional<db::Connection> batch_connection_;
};

TEST_F(NormaliseBatchTest, SameRowsAsTheTriggerForGeneratedStreams) {
  for (std::uint64_t seed : {1U, 2U, 3U}) {
    feed(seed, 60, 40);
  }
  expect_same_tables();
  expect_event_times_exercised();
}

TEST_F(NormaliseBatchTest, SameRowsAsTheTriggerInTopicOrder) {
  for (std::uint64_t seed : {4U, 5U, 6U}) {
    feed(seed, 60, 40, true);
  }
  expect_same_tables();
  expect_event_times_exercised();
}

TEST_F(NormaliseBatchTest, SameRowsAsTheTriggerInLargeBatchesOfFewTopics) {
  feed(11, 10, 400);
  expect_same_tables();
}

TEST_F(NormaliseBatchTest, SameRowsAsTheTriggerWhenEveryMessageIsKept) {
  keep_every_message();
  feed(21, 80, 40);
  expect_same_tables();
}

TEST_F(NormaliseBatchTest, SameRowsAsTheTriggerWhenRowsComeOneByOne) {
  feed(31, 300, 1);
  expect_same_tables();
}

TEST_F(NormaliseBatchTest, OtherClientsBetweenBatchesAreNormalisedByTheTrigger) {
  StreamGenerator generator(41);
  for (int i = 0; i < 40; ++i) {
    const std::vector<Message> batch = generator.next_batch(20);
    insert(batch);
    if (i % 2 == 0) {
      insert_as_batch(*batch_connection_, batch);
    } else {
      insert(*batch_connection_, batch);
    }
  }
  expect_same_tables();
}

// A batch's work must not grow with the history: migration 0011 read the whole
// facts table for every batch (and every fact of a state per last_updated),
// which the differential tests cannot see. Counted by the server, in the rows
// this session read by table scans and index ranges, not timed.
TEST_F(NormaliseBatchTest, ABatchReadsNeitherTheWholeHistoryNorAStatesWholeHistory) {
  db::Connection& c = *batch_connection_;
  // History: 3,000 facts of 30 states, through the trigger.
  c.execute(
      "INSERT INTO messages (topic, payload, received_at) "
      "SELECT CONCAT('ha/sensor/s', seq % 30, '/state'), CAST(seq AS CHAR), "
      "TIMESTAMP'2026-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_1_to_3000");
  ASSERT_EQ(c.query_value("SELECT COUNT(*) FROM facts").value_or(""), "3000");

  // One batch: a new value and its last_updated for ten of those entities.
  std::vector<Message> batch;
  for (int i = 0; i < 10; ++i) {
    const std::string entity = "ha/sensor/s" + std::to_string(i);
    batch.push_back({entity + "/state", "new", "2026-01-01 01:00:00.000000"});
    batch.push_back(
        {entity + "/last_updated", "2026-01-01T00:59:30+00:00", "2026-01-01 01:00:00.000100"});
  }
  const auto reads = [&] {
    std::uint64_t total = 0;
    for (const auto& row :
         c.query("SHOW SESSION STATUS WHERE Variable_name IN "
                 "('Handler_read_rnd_next', 'Handler_read_next', 'Handler_read_prev')")) {
      total += std::stoull(row[1].value_or("0"));
    }
    return total;
  };
  const std::uint64_t before = reads();
  insert_as_batch(c, batch);
  const std::uint64_t read = reads() - before;

  // The batch did its work, event time included ...
  EXPECT_EQ(c.query_value("SELECT COUNT(*) FROM facts f JOIN states s ON s.id = f.state_id "
                          "WHERE s.label = 'state' AND f.fact = 'new' "
                          "AND f.reported_at = '2026-01-01 00:59:30'")
                .value_or(""),
            "10");
  // ... reading its own work tables and a few rows of history (a few hundred
  // in all), where one pass over facts alone reads 3,000.
  EXPECT_LT(read, 1000U);
}

TEST_F(NormaliseBatchTest, ARolledBackBatchLeavesNothingAndTheSessionVariableIsCleared) {
  StreamGenerator generator(51);
  const std::vector<Message> batch = generator.next_batch(30);
  {
    db::Transaction transaction(*batch_connection_);
    batch_connection_->execute("SET @statesink_batch_ids = ''");
    insert(*batch_connection_, batch);
    // The procedure creates and drops its temporary tables, which must not
    // commit the transaction on the way.
    batch_connection_->execute("CALL normalise_batch()");
    // No COMMIT: the transaction rolls back when it goes out of scope.
  }
  EXPECT_EQ(batch_connection_->query_value("SELECT COUNT(*) FROM messages").value_or(""), "0");
  batch_connection_->execute("SET @statesink_batch_ids = NULL");
  EXPECT_EQ(batch_connection_->query_value("SELECT COUNT(*) FROM facts").value_or(""), "0");
  insert_as_batch(*batch_connection_, batch);
  EXPECT_EQ(batch_connection_->query_value("SELECT @statesink_batch_ids IS NULL").value_or(""),
            "1");
  // After the batch, a plain INSERT in the same session goes through the trigger.
  insert(*batch_connection_, {{"ha/sensor/after/state", "7", "2026-02-01 00:00:00.000000"}});
  EXPECT_EQ(batch_connection_
                ->query_value("SELECT f.fact FROM facts f JOIN messages m ON m.id = f.message_id "
                              "WHERE m.topic = 'ha/sensor/after/state'")
                .value_or("missing"),
            "7");
}

// Two ingesters' sessions normalising batches of the same states at once. Which
// one goes first is up to the server, so instead of a reference run the test
// checks what must hold in any order: every message accounted for once, and
// each state's current value that of its latest message.
TEST_F(NormaliseBatchTest, ConcurrentSessionsOnSharedStatesKeepTheLatestValue) {
  auto run = [&](std::uint64_t seed, std::int64_t offset_us, std::string* failure) {
    try {
      db::Connection connection = db::Connection::open(config::parse_db_url(batch_url_));
      connection.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
      StreamGenerator generator(seed, offset_us);
      for (int i = 0; i < 60; ++i) {
        const std::vector<Message> batch = generator.next_batch(30);
        for (int attempt = 0;; ++attempt) {
          try {
            insert_as_batch(connection, batch);
            break;
          } catch (const db::DbError& e) {
            // A deadlock is retried at once, as the ingester does.
            if (!e.retryable() || attempt == 20) throw;
          }
        }
      }
    } catch (const std::exception& e) {
      *failure = e.what();
    }
  };
  std::string failure_a, failure_b;
  {
    std::jthread a(run, 61, 0, &failure_a);
    std::jthread b(run, 62, 1, &failure_b);
  }
  ASSERT_EQ(failure_a, "");
  ASSERT_EQ(failure_b, "");
  db::Connection& c = *batch_connection_;
  const auto value = [&](const std::string& sql) { return c.query_value(sql).value_or("NULL"); };
  EXPECT_EQ(value("SELECT COUNT(*) FROM messages"), "3600");
  // No message normalised twice.
  EXPECT_EQ(value("SELECT COUNT(*) - COUNT(DISTINCT message_id) FROM facts"), "0");
  EXPECT_EQ(value("SELECT COUNT(*) FROM facts f JOIN message_rejections r USING (message_id)"),
            "0");
  // Every message on a state's topic that was not rejected: its state's
  // last_seen is at least its time, and the state's current row names the
  // latest of them (the two streams never share a reception time).
  EXPECT_EQ(value("SELECT COUNT(*) FROM messages m "
                  "JOIN states s ON s.topic_hash = UNHEX(SHA2(m.topic, 256)) "
                  "JOIN current_states c ON c.state_id = s.id "
                  "WHERE m.id NOT IN (SELECT message_id FROM message_rejections) "
                  "AND m.received_at > c.last_seen"),
            "0");
  EXPECT_EQ(value("SELECT COUNT(*) FROM current_states c "
                  "JOIN messages m ON m.id = c.last_message_id "
                  "WHERE m.received_at <> c.last_seen"),
            "0");
  // The current value is the value of the latest message: its own fact, or the
  // value it repeated.
  EXPECT_EQ(value("SELECT COUNT(*) FROM current_states c JOIN facts f ON f.id = c.fact_id "
                  "WHERE BINARY f.fact <> BINARY c.value "
                  "OR f.recorded_at > c.last_seen"),
            "0");
  EXPECT_EQ(value("SELECT COUNT(*) FROM current_states c "
                  "JOIN facts f ON f.message_id = c.last_message_id "
                  "WHERE BINARY f.fact <> BINARY c.value"),
            "0");
  // Facts plus rejections plus repeats account for every message: a message
  // with neither a fact nor a rejection repeated a value of a state with facts.
  EXPECT_EQ(
      value("SELECT COUNT(*) FROM messages m "
            "LEFT JOIN facts f ON f.message_id = m.id "
            "LEFT JOIN message_rejections r ON r.message_id = m.id "
            "LEFT JOIN states s ON s.topic_hash = UNHEX(SHA2(m.topic, 256)) "
            "WHERE f.message_id IS NULL AND r.message_id IS NULL "
            "AND (s.id IS NULL OR NOT EXISTS (SELECT 1 FROM facts g WHERE g.state_id = s.id))"),
      "0");
}

}  // namespace
}  // namespace statesink::testing
