// Ingestion while the world around it fails: the database stopped mid-stream,
// the broker restarted, and payloads that are odd, huge or empty.
#include <httplib.h>

#include <chrono>

#include "ingest_fixture.h"
#include "simulate/timestamp.h"
#include "util/sql_time.h"

namespace statesink::testing {
namespace {

using ::testing::HasSubstr;

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

TEST_F(IngestTest, MessagesArriveWithExactFields) {
  Publisher early(name_ + "-early");
  // Retained before anyone subscribes: delivered with RETAIN=1 on subscribe.
  early.publish(prefix() + "/sensor/t/state", "21.5", 1, true);
  ASSERT_TRUE(early.wait_acked(std::chrono::seconds(10)));
  const std::string before = sql("SELECT UTC_TIMESTAMP(6)");

  const std::uint16_t metrics_port = free_loopback_port();
  Ingester ingester =
      start_ingester("a", {"--metrics-addr", "127.0.0.1:" + std::to_string(metrics_port)});
  const std::string binary("\x00\x01\xff\xfe\"'\\;", 8);
  early.publish(prefix() + "/sensor/t/unit_of_measurement", "\"\\u00b0C\"", 1, false);
  early.publish(prefix() + "/binary/b/payload", binary, 1, false);
  early.publish(prefix() + "/switch/q0/state", "qos0", 0, false);
  ASSERT_TRUE(early.wait_acked(std::chrono::seconds(10)));
  ASSERT_TRUE(wait_for_rows(4)) << read_text(ingester.log);

  // Reception order is received_at: within one batch ids follow the topics.
  EXPECT_EQ(sql("SELECT topic, HEX(payload), qos, retained FROM messages "
                "ORDER BY received_at, id"),
            prefix() + "/sensor/t/state\t" + "32312E35\t1\t1\n" + prefix() +
                "/sensor/t/unit_of_measurement\t225C75303062304322\t1\t0\n" + prefix() +
                "/binary/b/payload\t0001FFFE22275C3B\t1\t0\n" + prefix() +
                "/switch/q0/state\t716F7330\t0\t0\n");
  // Reception times are UTC with microseconds, between the test's readings.
  const std::string after = sql("SELECT UTC_TIMESTAMP(6)");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages WHERE received_at BETWEEN '" +
                before.substr(0, before.size() - 1) + "' AND '" +
                after.substr(0, after.size() - 1) + "'"),
            "4\n");
  EXPECT_EQ(sql("SELECT COUNT(DISTINCT MICROSECOND(received_at)) > 1 FROM messages"), "1\n");

  httplib::Client http("127.0.0.1", metrics_port);
  auto health = http.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200) << health->body;
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body, HasSubstr("statesink_messages_inserted_total 4\n"));
  EXPECT_THAT(metrics->body, HasSubstr("statesink_database_connected 1\n"));
  EXPECT_EQ(ingester.process->stop(), 0);
}

// The store writes a batch in topic order (so concurrent ingesters lock the
// trigger's rows in one order); each topic's messages must keep their order,
// since the trigger decides repeats and the current value from it.
TEST_F(IngestTest, BatchInTopicOrderKeepsEachTopicsOrder) {
  Ingester ingester = start_ingester("a", {"--batch-delay", "1s"});
  Publisher publisher(name_ + "-pub");
  const std::string z = prefix() + "/sensor/z/state";
  const std::string a = prefix() + "/sensor/a/state";
  for (const char* v : {"3", "1", "2", "2"}) {
    publisher.publish(z, v);
    publisher.publish(a, std::string("x") + v);
  }
  ASSERT_TRUE(publisher.wait_acked(std::chrono::seconds(10)));
  ASSERT_TRUE(wait_for_rows(8)) << read_text(ingester.log);

  EXPECT_EQ(sql("SELECT payload FROM messages WHERE topic = '" + z + "' ORDER BY id"),
            "3\n1\n2\n2\n");
  EXPECT_EQ(sql("SELECT payload FROM messages WHERE topic = '" + a + "' ORDER BY id"),
            "x3\nx1\nx2\nx2\n");
  // The last 2 repeats the one before it: three facts, current value 2.
  EXPECT_EQ(sql("SELECT f.fact FROM facts f JOIN states s ON s.id = f.state_id "
                "WHERE s.topic_hash = UNHEX(SHA2('" +
                z + "', 256)) ORDER BY f.id"),
            "3\n1\n2\n");
  EXPECT_EQ(sql("SELECT c.value, c.times_seen FROM current_states c JOIN states s "
                "ON s.id = c.state_id WHERE s.topic_hash = UNHEX(SHA2('" +
                z + "', 256))"),
            "2\t2\n");
  EXPECT_EQ(ingester.process->stop(), 0);
}

TEST_F(IngestTest, DatabaseStoppedMidStreamLosesAndRepeatsNothing) {
  constexpr std::uint64_t kTotal = 8000;
  Ingester ingester = start_ingester();
  Stream stream(prefix(), 0, kTotal, name_ + "-pub");
  ASSERT_TRUE(wait_for_rows(kTotal / 5)) << read_text(ingester.log);
  servers().mariadb.stop();
  ASSERT_TRUE(wait_until(
      [&] {
        return read_text(ingester.log).find("database") != std::string::npos &&
               read_text(ingester.log).find("unavailable") != std::string::npos;
      },
      std::chrono::seconds(30)))
      << read_text(ingester.log);
  // An outage of a few seconds, with the stream still running into the spool.
  std::this_thread::sleep_for(std::chrono::seconds(4));
  EXPECT_TRUE(ingester.process->running());
  servers().mariadb.start();

  ASSERT_TRUE(stream.finish());
  ASSERT_TRUE(wait_for_rows(kTotal)) << read_text(ingester.log);
  EXPECT_TRUE(ingester.process->running());
  ASSERT_EQ(ingester.process->stop(std::chrono::seconds(30)), 0);
  expect_exactly_once(kTotal);
  // One line when the outage starts and one when it ends, not one per retry.
  const std::string log = read_text(ingester.log);
  EXPECT_EQ(occurrences(log, "unavailable"), 1U) << log;
  EXPECT_EQ(occurrences(log, " back after "), 1U) << log;
}

// Home Assistant's own times survive a backlog: changes made an hour before the
// ingester came back arrive within a second or two, and their facts still say
// when each change happened (reported_at), beside when it arrived (recorded_at).
TEST_F(IngestTest, ABacklogDeliveredAnHourLateKeepsItsEventTimes) {
  {
    Ingester ingester = start_ingester();
    ASSERT_EQ(ingester.process->stop(), 0);
  }
  // While the ingester is away, the broker queues for its session: per change
  // the state, last_updated and an attribute, in Home Assistant's order.
  constexpr int kChanges = 600;
  // Whole seconds, as Home Assistant writes them without a fraction.
  const auto hour_ago = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) -
                        std::chrono::hours(1);
  Publisher publisher(name_ + "-pub");
  for (int i = 0; i < kChanges; ++i) {
    const std::string entity = prefix() + "/sensor/s" + std::to_string(i % 40);
    const auto at = hour_ago + std::chrono::seconds(i);
    publisher.publish(entity + "/state", std::to_string(i));
    publisher.publish(entity + "/last_updated", simulate::format_timestamp(at));
    publisher.publish(entity + "/friendly_name", "\"S " + std::to_string(i) + "\"");
  }
  ASSERT_TRUE(publisher.wait_acked(std::chrono::seconds(60)));

  Ingester ingester = start_ingester();
  ASSERT_TRUE(wait_for_rows(3 * kChanges)) << read_text(ingester.log);
  ASSERT_EQ(ingester.process->stop(), 0);

  // Every state fact has the time its last_updated gave, which is the hour-old
  // time the change was made, while it arrived just now.
  EXPECT_EQ(sql("SELECT COUNT(*), COUNT(f.reported_at), "
                "SUM(f.reported_at = l.reported_at AND f.happened_at = l.reported_at), "
                "SUM(f.recorded_at > f.reported_at + INTERVAL 50 MINUTE) "
                "FROM facts f JOIN states s ON s.id = f.state_id AND s.label = 'state' "
                "JOIN messages m ON m.id = f.message_id "
                "JOIN messages ml ON ml.topic = REPLACE(m.topic, '/state', '/last_updated') "
                "AND ml.received_at >= m.received_at "
                "AND NOT EXISTS (SELECT 1 FROM messages m2 WHERE m2.topic = ml.topic "
                "AND m2.received_at >= m.received_at AND m2.received_at < ml.received_at) "
                "JOIN facts l ON l.message_id = ml.id"),
            std::to_string(kChanges) + "\t" + std::to_string(kChanges) + "\t" +
                std::to_string(kChanges) + "\t" + std::to_string(kChanges) + "\n");
  // The first change's state: exactly the hour-old time that was published.
  EXPECT_EQ(sql("SELECT f.reported_at = '" + format_sql_datetime(hour_ago) +
                "' FROM facts f JOIN messages m ON m.id = f.message_id "
                "WHERE m.topic = '" +
                prefix() + "/sensor/s0/state' AND f.fact = '0'"),
            "1\n");
  // An attribute has no event time of its own: it falls back to its arrival.
  EXPECT_EQ(sql("SELECT COUNT(*) FROM facts f JOIN states s ON s.id = f.state_id "
                "WHERE s.label = 'friendly_name' AND (f.reported_at IS NOT NULL "
                "OR f.happened_at <> f.recorded_at)"),
            "0\n");
}

TEST_F(IngestTest, KeepsPartitionsAheadAndLosesNothingWhileMessagesIsConverted) {
  auto partitions = [this] {
    return std::stoi(
        sql("SELECT COUNT(partition_name) FROM information_schema.partitions "
            "WHERE table_schema = DATABASE() AND table_name = 'messages'"));
  };
  // Only the catch-all, as before any statesink split it: the ingester's own
  // connection adds the months ahead when it starts.
  sql("ALTER TABLE messages PARTITION BY RANGE COLUMNS (received_at) "
      "(PARTITION p_future VALUES LESS THAN (MAXVALUE))");
  ASSERT_EQ(partitions(), 1);
  Ingester ingester = start_ingester();
  ASSERT_TRUE(wait_until([&] { return partitions() == 6; }, std::chrono::seconds(30)))
      << read_text(ingester.log);
  EXPECT_THAT(read_text(ingester.log), HasSubstr("added 5 partition(s) of messages ahead"));

  // An installation from before migration 0010, converted while messages
  // keep arriving: the swap's moment without a messages table is an outage
  // the ingester waits out.
  sql("ALTER TABLE messages REMOVE PARTITIONING");
  constexpr std::uint64_t kBefore = 3000;
  constexpr std::uint64_t kTotal = 9000;
  Stream before(prefix(), 0, kBefore, name_ + "-pub1");
  ASSERT_TRUE(before.finish());
  ASSERT_TRUE(wait_for_rows(kBefore)) << read_text(ingester.log);
  Stream during(prefix(), kBefore, kTotal, name_ + "-pub2");
  const CommandResult convert = run_command(
      {servers().statesink.string(), "partitions", "convert", "--chunk", "100", "--db", db_url_});
  ASSERT_EQ(convert.exit_code, 0) << convert.err;
  EXPECT_THAT(convert.out, HasSubstr("swapped: messages is partitioned"));
  ASSERT_TRUE(during.finish());
  ASSERT_TRUE(wait_for_rows(kTotal)) << read_text(ingester.log);
  EXPECT_TRUE(ingester.process->running());
  ASSERT_EQ(ingester.process->stop(std::chrono::seconds(30)), 0);
  expect_exactly_once(kTotal);
  EXPECT_GT(partitions(), 1);
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages_conversion"), "0\n");
}

TEST_F(IngestTest, MissingPrivilegeWaitsForTheGrantAndSetsNothingAside) {
  // An ingest account like sql/grants.sql makes, on this test's database.
  const std::string user = name_.substr(0, 32);
  sql("CREATE USER '" + user + "'@'%' IDENTIFIED BY 'pw-" + user + "'; GRANT INSERT ON " + name_ +
      ".messages TO '" + user + "'@'%'; GRANT SELECT, INSERT, UPDATE ON " + name_ +
      ".ingest_progress TO '" + user + "'@'%';");
  const std::string account_url = "mysql://" + user + ":pw-" + user +
                                  "@127.0.0.1:" + std::to_string(servers().mariadb.port()) + "/" +
                                  name_;
  ingest_db_url_ = account_url;
  Ingester ingester = start_ingester();
  {
    Stream first(prefix(), 0, 100, name_ + "-pub1");
    ASSERT_TRUE(first.finish());
  }
  ASSERT_TRUE(wait_for_rows(100)) << read_text(ingester.log);

  // Someone revokes the grant: every insert is refused, whatever it holds.
  sql("REVOKE INSERT ON " + name_ + ".messages FROM '" + user + "'@'%'");
  {
    Stream second(prefix(), 100, 300, name_ + "-pub2");
    ASSERT_TRUE(second.finish());
  }
  ASSERT_TRUE(wait_until(
      [&] { return read_text(ingester.log).find("(see sql/grants.sql)") != std::string::npos; },
      std::chrono::seconds(30)))
      << read_text(ingester.log);
  EXPECT_TRUE(ingester.process->running());
  EXPECT_EQ(count(), 100U);

  sql("GRANT INSERT ON " + name_ + ".messages TO '" + user + "'@'%'");
  ASSERT_TRUE(wait_for_rows(300)) << read_text(ingester.log);
  EXPECT_EQ(ingester.process->stop(), 0);
  expect_exactly_once(300);
  // Waited for, not set aside: no dead letters, one line when the outage
  // started and one when it ended.
  EXPECT_FALSE(std::filesystem::exists(work_ / "spool-a" / "dead-letter.jsonl"));
  const std::string log = read_text(ingester.log);
  EXPECT_EQ(occurrences(log, "unavailable:"), 1U) << log;
  EXPECT_EQ(occurrences(log, "back after"), 1U) << log;
  sql("DROP USER '" + user + "'@'%'");
}

TEST_F(IngestTest, BrokerRestartKeepsWhatItAccepted) {
  Ingester ingester = start_ingester();
  {
    Publisher publisher(name_ + "-pub1");
    for (int i = 0; i < 1000; ++i) {
      publisher.publish(prefix() + "/sensor/s/state", "n=" + std::to_string(i));
    }
    ASSERT_TRUE(publisher.wait_acked(std::chrono::seconds(60)));
  }
  ASSERT_TRUE(wait_for_rows(1000)) << read_text(ingester.log);

  // Queued for the ingester's session while it is away, then the broker restarts.
  ASSERT_EQ(ingester.process->stop(), 0);
  {
    Publisher publisher(name_ + "-pub2");
    for (int i = 1000; i < 3000; ++i) {
      publisher.publish(prefix() + "/sensor/s/state", "n=" + std::to_string(i));
    }
    ASSERT_TRUE(publisher.wait_acked(std::chrono::seconds(60)));
  }
  servers().mosquitto.stop();
  servers().mosquitto.start();
  ingester = start_ingester();
  ASSERT_TRUE(wait_for_rows(3000)) << read_text(ingester.log);

  // Restarted under a running ingester: it reconnects by itself.
  servers().mosquitto.stop();
  servers().mosquitto.start();
  ASSERT_TRUE(
      wait_until([&] { return read_text(ingester.log).find(" back after ") != std::string::npos; },
                 std::chrono::seconds(60)))
      << read_text(ingester.log);
  {
    Publisher publisher(name_ + "-pub3");
    for (int i = 3000; i < 3500; ++i) {
      publisher.publish(prefix() + "/sensor/s/state", "n=" + std::to_string(i));
    }
    ASSERT_TRUE(publisher.wait_acked(std::chrono::seconds(60)));
  }
  ASSERT_TRUE(wait_for_rows(3500)) << read_text(ingester.log);
  ASSERT_EQ(ingester.process->stop(std::chrono::seconds(30)), 0);
  expect_exactly_once(3500);
}

TEST_F(IngestTest, BadInputIsStoredOrDeadLetteredAndGoodMessagesKeepFlowing) {
  const std::uint16_t metrics_port = free_loopback_port();
  Ingester ingester =
      start_ingester("a", {"--metrics-addr", "127.0.0.1:" + std::to_string(metrics_port)});
  const std::string five_mib(5 << 20, 'x');
  const std::string too_big((20 << 20) + 7, 'y');  // above the server's 16 MiB max_allowed_packet
  Publisher publisher(name_ + "-pub");
  publisher.publish(prefix() + "/sensor/latin1/state", std::string("K\xfc\x63he\xff", 6));
  publisher.publish(prefix() + "/sensor/empty/state", "");
  publisher.publish(prefix() + "/sensor/big/state", five_mib);
  publisher.publish(prefix() + "/sensor/huge/state", too_big);
  publisher.publish(prefix() + "/sensor/w\xc3\xa9ird name \xe2\x9c\x93/state", "odd topic");
  publisher.publish(prefix() + "/sensor/quote'\"`;--/state", "quotes");
  publisher.publish(prefix() + "/x", "short topic");
  publisher.publish(prefix() + "/sensor/after/state", "good");
  ASSERT_TRUE(publisher.wait_acked(std::chrono::seconds(60)));
  ASSERT_TRUE(wait_for_rows(7)) << read_text(ingester.log);

  EXPECT_EQ(sql("SELECT HEX(payload) FROM messages WHERE topic LIKE '%/latin1/state'"),
            "4BFC636865FF\n");
  EXPECT_EQ(sql("SELECT LENGTH(payload) FROM messages WHERE topic LIKE '%/empty/state'"), "0\n");
  EXPECT_EQ(sql("SELECT LENGTH(payload), MD5(payload) = MD5(REPEAT('x', 5242880)) FROM messages "
                "WHERE topic LIKE '%/big/state'"),
            "5242880\t1\n");
  EXPECT_EQ(sql("SELECT payload FROM messages WHERE topic = '" + prefix() +
                "/sensor/w\xc3\xa9ird name \xe2\x9c\x93/state'"),
            "odd topic\n");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages WHERE payload = 'quotes' AND topic LIKE "
                "'%quote''\"`;--%'"),
            "1\n");
  EXPECT_EQ(count("payload = 'good'"), 1U);
  EXPECT_EQ(count("topic LIKE '%/huge/state'"), 0U);

  // The one the server cannot take is in the dead-letter file, with the reason.
  const std::string dead = read_text(work_ / "spool-a" / "dead-letter.jsonl");
  EXPECT_THAT(dead, HasSubstr("/sensor/huge/state"));
  EXPECT_THAT(dead, HasSubstr("max_allowed_packet"));
  EXPECT_THAT(dead, HasSubstr("\"payload_bytes\":20971527"));
  // It names its spool and sequence number, for an exactly-once replay.
  std::string spool_id = read_text(work_ / "spool-a" / "spool-id");
  spool_id.erase(spool_id.find_last_not_of('\n') + 1);
  EXPECT_THAT(dead, HasSubstr("\"spool_id\":\"" + spool_id + "\""));
  EXPECT_THAT(dead, HasSubstr("\"seq\":4,"));
  auto dead_letter = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {servers().statesink.string(), "dead-letter"});
    args.insert(args.end(), {"--spool-dir", (work_ / "spool-a").string(), "--db", db_url_});
    return run_command(args);
  };
  const CommandResult list = dead_letter({"list", "--format", "csv"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr(spool_id + ",4,"));
  EXPECT_THAT(list.out, HasSubstr("/sensor/huge/state,20971527,yyyy"));
  // Still too large for this server: it stays in the file, and nothing goes in.
  const CommandResult replay = dead_letter({"replay"});
  EXPECT_EQ(replay.exit_code, 1) << replay.out;
  EXPECT_THAT(replay.out, HasSubstr("raise max_allowed_packet on the server"));
  EXPECT_EQ(count("topic LIKE '%/huge/state'"), 0U);
  httplib::Client http("127.0.0.1", metrics_port);
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body, HasSubstr("statesink_messages_dead_lettered_total 1\n"));
  EXPECT_TRUE(ingester.process->running());
  EXPECT_EQ(ingester.process->stop(), 0);
}

}  // namespace
}  // namespace statesink::testing
