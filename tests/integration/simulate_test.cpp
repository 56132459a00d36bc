// statesink simulate against the real broker: what it publishes is the
// generator's stream, retained at QoS 1, and the normalising trigger accepts
// every message of it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>

#include "config/url.h"
#include "ingest_fixture.h"
#include "mqtt/client.h"
#include "simulate/stream.h"

namespace statesink::testing {
namespace {

using ::testing::HasSubstr;

struct Delivery {
  std::string payload;
  int qos = 0;
  bool retain = false;
};

// Subscribes to `filter` with a clean session and keeps the last delivery of
// every topic.
class Subscriber {
 public:
  explicit Subscriber(const std::string& filter) {
    mqtt::ClientOptions options;
    options.url = config::parse_mqtt_url(servers().mosquitto.url());
    options.client_id = "simulate-test-subscriber";
    mqtt::Client::Callbacks callbacks;
    callbacks.connected = [this, filter](bool) { client_->subscribe({filter}, 1); };
    callbacks.message = [this](const mqtt::Received& m) {
      std::lock_guard lock(mutex_);
      last_[std::string(m.topic)] = {std::string(m.payload), m.qos, m.retain};
      ++deliveries_;
    };
    client_.emplace(options, callbacks);
    client_->connect();
    loop_ = std::thread([this] {
      while (!stop_) {
        client_->loop(std::chrono::milliseconds(20));
      }
    });
  }
  ~Subscriber() {
    stop_ = true;
    loop_.join();
    client_->disconnect();
  }
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  std::map<std::string, Delivery> last() const {
    std::lock_guard lock(mutex_);
    return last_;
  }
  std::size_t topics() const {
    std::lock_guard lock(mutex_);
    return last_.size();
  }
  std::size_t deliveries() const {
    std::lock_guard lock(mutex_);
    return deliveries_;
  }

 private:
  std::optional<mqtt::Client> client_;
  std::thread loop_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::map<std::string, Delivery> last_;
  std::size_t deliveries_ = 0;
};

std::string format_day(std::chrono::sys_days day) {
  const std::chrono::year_month_day ymd(day);
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return text;
}

CommandResult simulate(const std::vector<std::string>& extra) {
  std::vector<std::string> args = {servers().statesink.string(), "simulate", "--mqtt",
                                   servers().mosquitto.url()};
  args.insert(args.end(), extra.begin(), extra.end());
  Process::Options options;
  options.unset_env = {"STATESINK_MQTT"};
  return run_command(args, options);
}

TEST(SimulateCli, PublishesTheGeneratedStreamRetainedAtQos1) {
  constexpr std::size_t kCount = 900;
  const CommandResult run =
      simulate({"--installations", "2", "--entities", "15", "--seed", "7", "--start",
                "2024-05-01T12:00:00Z", "--count", std::to_string(kCount)});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out + run.err, HasSubstr("published 900 messages (900 acknowledged)"));

  // The same options through the library give the bytes the command sent;
  // the broker keeps the last of each topic.
  simulate::Options options;
  options.installations = 2;
  options.entities_per_installation = 15;
  options.seed = 7;
  std::map<std::string, std::string> expected;
  for (const simulate::Message& m : simulate::generate(options, kCount)) {
    expected[m.topic] = m.payload;
  }

  // A new subscriber gets every retained topic, with RETAIN set; granted
  // QoS 1 passes on the QoS the message was published with.
  Subscriber subscriber("#");
  ASSERT_TRUE(
      wait_until([&] { return subscriber.topics() >= expected.size(); }, std::chrono::seconds(30)))
      << subscriber.topics() << " of " << expected.size() << " retained topics arrived";
  const std::map<std::string, Delivery> got = subscriber.last();
  ASSERT_EQ(got.size(), expected.size());
  for (const auto& [topic, payload] : expected) {
    const auto found = got.find(topic);
    ASSERT_NE(found, got.end()) << topic;
    EXPECT_EQ(found->second.payload, payload) << topic;
    EXPECT_TRUE(found->second.retain) << topic;
    EXPECT_EQ(found->second.qos, 1) << topic;
  }
  EXPECT_EQ(subscriber.deliveries(), expected.size());

  // An empty retained message deletes a retained topic: leave the broker
  // as this test found it.
  Publisher cleaner("simulate-test-cleaner");
  for (const auto& entry : expected) {
    cleaner.publish(entry.first, "", 1, true);
  }
  ASSERT_TRUE(cleaner.wait_acked(std::chrono::seconds(30)));
}

TEST(SimulateCli, StampsThePresentUnlessToldOtherwise) {
  const auto before = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  const CommandResult run =
      simulate({"--entities", "3", "--domains", "sensor", "--seed", "11", "--count", "40"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto after = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  Subscriber subscriber("#");
  ASSERT_TRUE(wait_until([&] { return subscriber.topics() > 0; }, std::chrono::seconds(30)));
  std::size_t stamps = 0;
  for (const auto& [topic, delivery] : subscriber.last()) {
    if (topic.ends_with("/last_updated")) {
      ++stamps;
      // "YYYY-MM-DDT...": the day the command ran (or the next, across midnight).
      const std::string day = delivery.payload.substr(0, 10);
      EXPECT_TRUE(day == format_day(before) || day == format_day(after))
          << topic << " = " << delivery.payload;
    }
  }
  EXPECT_GT(stamps, 0U);
  Publisher cleaner("simulate-test-cleaner-2");
  for (const auto& entry : subscriber.last()) {
    cleaner.publish(entry.first, "", 1, true);
  }
  ASSERT_TRUE(cleaner.wait_acked(std::chrono::seconds(30)));
}

TEST(SimulateCli, UsageErrors) {
  EXPECT_EQ(simulate({"--entities", "3"}).exit_code, 2);  // neither --count nor --duration
  EXPECT_EQ(simulate({"--count", "5", "--rate", "-1"}).exit_code, 2);
  EXPECT_EQ(simulate({"--count", "5", "--domains", "toaster"}).exit_code, 2);
  EXPECT_EQ(simulate({"--count", "5", "--start", "not-a-time"}).exit_code, 2);
  const CommandResult unreachable = run_command(
      {servers().statesink.string(), "simulate", "--count", "5", "--mqtt", "mqtt://127.0.0.1:1"});
  EXPECT_EQ(unreachable.exit_code, 1);
  EXPECT_THAT(unreachable.err, HasSubstr("127.0.0.1:1"));
}

class SimulateIngest : public IngestTest {};

// Every domain's topics and encodings, through the broker and the ingester,
// are understood by the trigger: nothing is rejected, every entity appears
// under its base topic, numbers and booleans get num_value.
TEST_F(SimulateIngest, TriggerNormalisesEverySimulatedMessage) {
  Ingester ingester = start_ingester("a", {"--topic", "homeassistant/#", "--topic", "home/#"});
  // Nothing retained from other tests may be replayed into this one.
  ASSERT_EQ(count(), 0U);
  constexpr std::size_t kCount = 3000;
  const CommandResult run = simulate({"--installations", "2", "--entities", "30", "--seed", "11",
                                      "--unavailable", "10", "--count", std::to_string(kCount)});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_TRUE(wait_for_rows(kCount)) << count() << " of " << kCount;
  EXPECT_EQ(ingester.process->stop(), 0);

  EXPECT_EQ(count(), kCount);
  EXPECT_EQ(sql("SELECT COUNT(*) FROM rejected_messages"), "0\n")
      << sql("SELECT topic, payload, reason FROM rejected_messages LIMIT 5");

  simulate::Options options;
  options.installations = 2;
  options.entities_per_installation = 30;
  options.seed = 11;
  std::set<std::string> entities;
  std::set<std::string> domains;
  for (const simulate::Message& m : simulate::generate(options, kCount)) {
    // BASE.../DOMAIN/OBJECT/ATTRIBUTE, read from the right.
    const std::size_t attribute = m.topic.rfind('/');
    const std::size_t object = m.topic.rfind('/', attribute - 1);
    const std::size_t domain = m.topic.rfind('/', object - 1);
    entities.insert(m.topic.substr(0, domain) + " " +
                    m.topic.substr(domain + 1, object - domain - 1) + "." +
                    m.topic.substr(object + 1, attribute - object - 1));
    domains.insert(m.topic.substr(domain + 1, object - domain - 1));
  }
  EXPECT_EQ(sql("SELECT COUNT(*) FROM entities"), std::to_string(entities.size()) + "\n");
  const std::string stored =
      sql("SELECT CONCAT(b.label, ' ', e.label) FROM entities e "
          "JOIN base_topics b ON b.id = e.base_topic_id ORDER BY 1");
  std::string wanted;
  for (const std::string& e : entities) {
    wanted += e + "\n";
  }
  EXPECT_EQ(stored, wanted);
  EXPECT_EQ(domains, (std::set<std::string>{"binary_sensor", "climate", "light", "person", "sensor",
                                            "switch"}));

  // Numeric sensor states and on/off states all have a number; unavailable
  // has none; quoted attribute strings are stored unquoted.
  EXPECT_EQ(sql("SELECT COUNT(*) FROM facts f JOIN states s ON s.id = f.state_id "
                "JOIN entities e ON e.id = s.entity_id WHERE s.label = 'state' "
                "AND e.domain IN ('binary_sensor', 'switch', 'light') "
                "AND f.fact IN ('on', 'off') AND f.num_value IS NULL"),
            "0\n");
  EXPECT_NE(sql("SELECT COUNT(*) FROM facts f JOIN states s ON s.id = f.state_id "
                "WHERE s.label = 'state' AND f.fact = 'unavailable' AND f.num_value IS NULL"),
            "0\n");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM facts f JOIN states s ON s.id = f.state_id "
                "WHERE s.label = 'friendly_name' AND f.fact LIKE '\"%'"),
            "0\n");
  EXPECT_NE(sql("SELECT COUNT(*) FROM facts f JOIN states s ON s.id = f.state_id "
                "JOIN entities e ON e.id = s.entity_id WHERE e.domain = 'sensor' "
                "AND s.label = 'state' AND f.num_value IS NOT NULL"),
            "0\n");
}

}  // namespace
}  // namespace statesink::testing
