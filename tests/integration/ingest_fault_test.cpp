// Ingestion through the faults of a real deployment, all in one run: a backlog
// queued on the broker for the ingester's persistent session is drained while
// the ingester is killed with SIGKILL several times and the database and the
// broker are each restarted once; and retained messages across a broker
// restart that keeps the session. Every message must be stored exactly once.
//
// This file is built twice: with the harness broker (no in-flight limit) and
// with Mosquitto's default in-flight window of 20 (see tests/CMakeLists.txt).
#include <httplib.h>

#include <optional>

#include "ingest_fixture.h"

#ifndef STATESINK_MOSQUITTO_EXTRA_CONFIG
#define STATESINK_MOSQUITTO_EXTRA_CONFIG ""
#endif

namespace statesink::testing {
namespace {

// The broker configuration this binary runs with, for failure messages.
std::string broker_setup() {
  const std::string extra = STATESINK_MOSQUITTO_EXTRA_CONFIG;
  return "broker: persistence true, max_queued_messages 0, " +
         (extra.empty() ? std::string("max_inflight_messages 0 (no limit)") : extra);
}

// "3-7 (5), 12" for the sorted numbers {3,4,5,6,7,12}.
std::string ranges(const std::vector<std::uint64_t>& sorted) {
  std::string text;
  for (std::size_t i = 0; i < sorted.size();) {
    std::size_t j = i;
    while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) {
      ++j;
    }
    // Appended piece by piece: `"literal" + std::string` sets off GCC 12's
    // false -Wrestrict warning in optimised builds.
    if (!text.empty()) {
      text += ", ";
    }
    text += std::to_string(sorted[i]);
    if (j > i) {
      text += '-';
      text += std::to_string(sorted[j]);
      text += " (";
      text += std::to_string(j - i + 1);
      text += ')';
    }
    i = j + 1;
  }
  return text.empty() ? "none" : text;
}

class IngestFaultTest : public IngestTest {
 protected:
  // Rows of the numbered messages "n=<i>": how often each number is stored.
  struct Tally {
    std::uint64_t rows = 0;
    std::vector<std::uint64_t> duplicated;  // numbers stored more than once
    std::uint64_t extra_rows = 0;           // rows beyond the first of each number
    std::vector<std::uint64_t> missing;     // numbers below `total` never stored
  };

  Tally tally(std::uint64_t total) {
    Tally t;
    std::istringstream lines(
        sql("SELECT CAST(SUBSTRING(payload, 3) AS UNSIGNED), COUNT(*) FROM messages "
            "WHERE payload LIKE 'n=%' GROUP BY 1 ORDER BY 1"));
    std::uint64_t expected = 0;
    std::uint64_t number = 0;
    std::uint64_t copies = 0;
    while (lines >> number >> copies) {
      for (; expected < number && expected < total; ++expected) {
        t.missing.push_back(expected);
      }
      expected = number + 1;
      t.rows += copies;
      if (copies > 1) {
        t.duplicated.push_back(number);
        t.extra_rows += copies - 1;
      }
    }
    for (; expected < total; ++expected) {
      t.missing.push_back(expected);
    }
    return t;
  }

  // "rows R, distinct D": how far the drain got.
  std::string progress() {
    std::istringstream line(sql("SELECT COUNT(*), COUNT(DISTINCT payload) FROM messages"));
    std::uint64_t rows = 0;
    std::uint64_t distinct = 0;
    line >> rows >> distinct;
    return "rows " + std::to_string(rows) + ", distinct " + std::to_string(distinct) +
           (rows > distinct ? " (" + std::to_string(rows - distinct) + " duplicated so far)" : "");
  }

  std::uint64_t distinct_numbered() {
    return std::stoull(
        sql("SELECT COUNT(DISTINCT payload) FROM messages WHERE payload LIKE 'n=%'"));
  }

  // Publishes a message after everything the broker holds for the session and
  // waits until it is stored: whatever the broker sent before it is stored too.
  bool marker_stored(const std::string& payload) {
    Publisher publisher(name_ + "-marker");
    publisher.publish(prefix() + "/marker", payload);
    return publisher.wait_acked(std::chrono::seconds(30)) &&
           wait_until([&] { return count("payload = '" + payload + "'") >= 1; },
                      std::chrono::seconds(120), std::chrono::milliseconds(200));
  }
};

class FaultRun : public IngestFaultTest, public ::testing::WithParamInterface<int> {};

// The run, scaled down: a backlog of numbered QoS 1 messages queued
// for the session while the ingester is stopped, drained by `statesink ingest`
// (defaults) while it is SIGKILLed five times, MariaDB restarted once and
// Mosquitto restarted once.
TEST_P(FaultRun, BacklogDrainedThroughKillsAndRestartsIsStoredExactlyOnce) {
  constexpr std::uint64_t kTotal = 30000;

  // The session exists and holds the subscription; then the ingester is away.
  {
    Ingester first = start_ingester();
    ASSERT_EQ(first.process->stop(), 0) << read_text(first.log);
  }
  {
    // Waits for every PUBACK, so the broker holds all of them.
    Stream stream(prefix(), 0, kTotal, name_ + "-pub");
    ASSERT_TRUE(stream.finish()) << "the broker did not acknowledge every publish";
  }

  // Each fault strikes while the ingester is receiving: once the running
  // process has taken `received` more messages from the broker since the last
  // fault (its own metric), whatever the database has caught up with.
  enum class Fault { kill_ingester, restart_database, restart_broker };
  struct Step {
    std::uint64_t received;
    Fault fault;
  };
  // 12,000 of the 30,000 plus overshoot: the backlog outlasts the faults. The
  // database restart comes last: while it is down the receiver goes on taking
  // the backlog into the spool, so a fault after it could find nothing left.
  const Step steps[] = {
      {2000, Fault::kill_ingester},    {2000, Fault::kill_ingester}, {2000, Fault::kill_ingester},
      {1000, Fault::restart_broker},   {2000, Fault::kill_ingester}, {2000, Fault::kill_ingester},
      {1000, Fault::restart_database},
  };

  std::string journal = broker_setup() + "; " + std::to_string(kTotal) + " messages queued\n";
  std::uint16_t metrics_port = 0;
  auto start = [&] {
    metrics_port = free_loopback_port();
    return start_ingester("a", {"--metrics-addr", "127.0.0.1:" + std::to_string(metrics_port)});
  };
  auto received = [&]() -> std::optional<std::uint64_t> {
    httplib::Client http("127.0.0.1", metrics_port);
    auto metrics = http.Get("/metrics");
    if (!metrics || metrics->status != 200) {
      return std::nullopt;
    }
    return metric_value(metrics->body, "statesink_messages_received_total");
  };
  Ingester ingester = start();
  std::uint64_t base = 0;  // the running process's count at the last fault
  for (const Step& step : steps) {
    std::uint64_t now = 0;
    // On a loaded machine one burst from the broker can outrun the polling and
    // take the whole rest of the backlog; then the fault strikes once the
    // count has stood still for a while, while the database still catches up.
    std::uint64_t last = 0;
    auto still_since = std::chrono::steady_clock::now();
    bool ran_dry = false;
    ASSERT_TRUE(wait_until(
        [&] {
          now = received().value_or(0);
          if (now != last) {
            last = now;
            still_since = std::chrono::steady_clock::now();
          }
          ran_dry = now > base &&
                    std::chrono::steady_clock::now() - still_since > std::chrono::seconds(3);
          return now >= base + step.received || ran_dry;
        },
        std::chrono::seconds(60), std::chrono::milliseconds(5)))
        << journal << "the ingester received only " << now - base << " of " << step.received
        << " more messages: " << progress() << "\n"
        << read_text(ingester.log);
    const std::string at = "after " + std::to_string(now - base) + " received" +
                           (ran_dry ? " (the broker had no more)" : "") + ": ";
    switch (step.fault) {
      case Fault::kill_ingester:
        ingester.process->signal(SIGKILL);
        ASSERT_EQ(ingester.process->wait(std::chrono::seconds(10)), 128 + SIGKILL);
        journal += "SIGKILL " + at + progress() + "\n";
        ingester = start();
        base = 0;
        break;
      case Fault::restart_database:
        servers().mariadb.stop();
        servers().mariadb.start();
        journal += "MariaDB restarted " + at + progress() + "\n";
        base = now;
        break;
      case Fault::restart_broker:
        servers().mosquitto.stop();
        journal += "Mosquitto stopped " + at + progress() + "\n";
        servers().mosquitto.start();
        base = now;
        break;
    }
  }

  ASSERT_TRUE(wait_until([&] { return distinct_numbered() >= kTotal; }, std::chrono::seconds(180),
                         std::chrono::milliseconds(200)))
      << journal << "not every message arrived: " << progress() << "\n"
      << read_text(ingester.log);
  ASSERT_TRUE(marker_stored("marker")) << journal << read_text(ingester.log);
  ASSERT_EQ(ingester.process->stop(std::chrono::seconds(30)), 0) << read_text(ingester.log);
  journal += "end: " + progress() + "\n";

  const Tally t = tally(kTotal);
  EXPECT_EQ(t.rows, kTotal) << journal << t.extra_rows << " duplicate row(s) of "
                            << t.duplicated.size()
                            << " message(s); stored more than once: " << ranges(t.duplicated);
  EXPECT_TRUE(t.missing.empty()) << journal << t.missing.size()
                                 << " message(s) never stored: " << ranges(t.missing);
  EXPECT_EQ(count("payload = 'marker'"), 1U) << journal;
}

// Three times over, so that a fault that strikes one run in three shows.
INSTANTIATE_TEST_SUITE_P(Repeated, FaultRun, ::testing::Values(1, 2, 3));

TEST_F(IngestFaultTest, RetainedMessagesAreStoredOnceAcrossABrokerRestart) {
  constexpr int kRetained = 50;
  auto publish_retained = [&](int from, int to) {
    Publisher publisher(name_ + "-retained");
    for (int i = from; i < to; ++i) {
      publisher.publish(prefix() + "/sensor/r" + std::to_string(i) + "/state",
                        "r=" + std::to_string(i), 1, true);
    }
    return publisher.wait_acked(std::chrono::seconds(30));
  };
  // Half retained before the first subscription (delivered because of it),
  // half published live to the subscribed session.
  ASSERT_TRUE(publish_retained(0, kRetained / 2));
  const std::uint16_t metrics_port = free_loopback_port();
  Ingester ingester =
      start_ingester("a", {"--metrics-addr", "127.0.0.1:" + std::to_string(metrics_port)});
  ASSERT_TRUE(publish_retained(kRetained / 2, kRetained));
  ASSERT_TRUE(wait_for_rows(kRetained)) << read_text(ingester.log);
  ASSERT_EQ(count(), static_cast<std::uint64_t>(kRetained)) << read_text(ingester.log);

  // Restarted with the session (and the retained messages) kept; the ingester
  // reconnects by itself and the session resumes.
  servers().mosquitto.stop();
  servers().mosquitto.start();
  httplib::Client http("127.0.0.1", metrics_port);
  ASSERT_TRUE(wait_until(
      [&] {
        auto metrics = http.Get("/metrics");
        return metrics && metric_value(metrics->body, "statesink_mqtt_disconnects_total") >= 1 &&
               metric_value(metrics->body, "statesink_broker_connected") == 1;
      },
      std::chrono::seconds(60), std::chrono::milliseconds(50)))
      << read_text(ingester.log);

  // Sent after the ingester is back: once it is stored, whatever the broker
  // sent the session on reconnecting is stored as well.
  ASSERT_TRUE(marker_stored("after restart")) << read_text(ingester.log);
  ASSERT_EQ(ingester.process->stop(std::chrono::seconds(30)), 0) << read_text(ingester.log);

  std::string repeated;
  std::istringstream lines(
      sql("SELECT payload, COUNT(*) FROM messages GROUP BY payload HAVING COUNT(*) > 1 "
          "ORDER BY MIN(id)"));
  for (std::string payload, copies; lines >> payload >> copies;) {
    repeated += " " + payload + " x" + copies;
  }
  EXPECT_EQ(count(), kRetained + 1U) << broker_setup() << "; stored more than once:" << repeated;
  EXPECT_EQ(count("payload LIKE 'r=%'"), static_cast<std::uint64_t>(kRetained));
  EXPECT_EQ(count("payload = 'after restart'"), 1U);
}

}  // namespace
}  // namespace statesink::testing
