// What the ingestion tests share: a publisher built on the project's MQTT
// publisher, an ingester run as a process, and queries on the test database.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <csignal>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "config/url.h"
#include "ingest_log.h"
#include "mqtt/publisher.h"
#include "process.h"
#include "servers.h"

namespace statesink::testing {

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A value from the ingester's /metrics text; 0 when the metric is not there.
inline std::uint64_t metric_value(const std::string& body, const std::string& name) {
  const auto at = body.find("\n" + name + " ");
  return at == std::string::npos ? 0 : std::stoull(body.substr(at + name.size() + 2));
}

// Publishes through the project's MQTT publisher, which waits for the
// broker's PUBACK of every QoS 1 message. A lost connection makes failed()
// true instead of throwing, so a publishing thread can end quietly.
class Publisher {
 public:
  // `broker`: a URL, or empty for the shared broker.
  explicit Publisher(const std::string& client_id, const std::string& broker = "") {
    try {
      publisher_.emplace(
          config::parse_mqtt_url(broker.empty() ? servers().mosquitto.url() : broker), client_id);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "publisher did not connect: " << e.what();
      failed_ = true;
    }
  }

  void publish(const std::string& topic, std::string_view payload, int qos = 1,
               bool retain = false) {
    if (failed_) {
      return;
    }
    try {
      publisher_->publish(topic, payload, qos, retain);
    } catch (const mqtt::MqttError&) {
      failed_ = true;
    }
  }
  // True once the broker has acknowledged every QoS 1 message published.
  bool wait_acked(std::chrono::milliseconds timeout) {
    if (failed_) {
      return false;
    }
    try {
      return publisher_->wait_acked(timeout);
    } catch (const mqtt::MqttError&) {
      failed_ = true;
      return false;
    }
  }
  bool failed() const { return failed_; }

 private:
  std::optional<mqtt::Publisher> publisher_;
  bool failed_ = false;
};

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    name_ = std::string("i_") + info->name();
    for (char& c : name_) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      // Parameterised tests are named "Name/0": keep database and file names plain.
      if (std::isalnum(static_cast<unsigned char>(c)) == 0) {
        c = '_';
      }
    }
    name_ = name_.substr(0, 60);
    db_url_ = servers().mariadb.create_database(name_);
    work_ = servers().scratch / name_;
    std::filesystem::remove_all(work_);
    std::filesystem::create_directories(work_);
    CommandResult up =
        run_command({servers().statesink.string(), "migrate", "up", "--db", db_url_});
    ASSERT_EQ(up.exit_code, 0) << up.err;
  }

  // Topic prefix of this test, so sessions of other tests never match.
  std::string prefix() const { return "it/" + name_; }

  struct Ingester {
    std::unique_ptr<Process> process;
    std::filesystem::path log;
  };

  // statesink ingest for this test's database and topics; `tag` tells
  // instances apart (client id, spool and log).
  Ingester start_ingester(const std::string& tag = "a", std::vector<std::string> extra = {}) {
    Ingester ingester = launch_ingester(tag, std::move(extra));
    const auto& log = ingester.log;
    if (!wait_until([&] { return ingester_subscribed(read_text(log)); },
                    std::chrono::seconds(30))) {
      ADD_FAILURE() << "ingester did not subscribe:\n" << read_text(log);
    }
    return ingester;
  }

  // As start_ingester, without waiting for anything.
  Ingester launch_ingester(const std::string& tag = "a", std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {servers().statesink.string(),
                                     "ingest",
                                     "--db",
                                     ingest_db_url_.empty() ? db_url_ : ingest_db_url_,
                                     "--mqtt",
                                     mqtt_url_.empty() ? servers().mosquitto.url() : mqtt_url_,
                                     "--topic",
                                     prefix() + "/#",
                                     "--client-id",
                                     client_id_.empty() ? name_ + "-" + tag : client_id_,
                                     "--spool-dir",
                                     (work_ / ("spool-" + tag)).string(),
                                     "--report-interval",
                                     "1s"};
    args.insert(args.end(), extra.begin(), extra.end());
    Process::Options options;
    options.cwd = work_;
    const auto log = work_ / ("ingest-" + tag + "-" + std::to_string(++starts_) + ".log");
    options.stdout_file = log;
    options.stderr_file = log;
    options.unset_env = {"STATESINK_DB", "STATESINK_MQTT", "STATESINK_TOPICS",
                         "STATESINK_CLIENT_ID"};
    return Ingester{std::make_unique<Process>(args, options), log};
  }

  std::string sql(const std::string& statements) {
    return servers().mariadb.sql(statements, name_);
  }

  std::uint64_t count(const std::string& where = "1") {
    return std::stoull(sql("SELECT COUNT(*) FROM messages WHERE " + where));
  }

  // Waits until `messages` holds at least n rows.
  bool wait_for_rows(std::uint64_t n, std::chrono::seconds timeout = std::chrono::seconds(120)) {
    return wait_until([&] { return count() >= n; }, timeout, std::chrono::milliseconds(200));
  }

  // Every number 0..n-1 exactly once in payloads "n=<i>".
  void expect_exactly_once(std::uint64_t n) {
    EXPECT_EQ(sql("SELECT COUNT(*), COUNT(DISTINCT payload) FROM messages"),
              std::to_string(n) + "\t" + std::to_string(n) + "\n");
    EXPECT_EQ(sql("SELECT MIN(CAST(SUBSTRING(payload, 3) AS UNSIGNED)), "
                  "MAX(CAST(SUBSTRING(payload, 3) AS UNSIGNED)) FROM messages"),
              "0\t" + std::to_string(n - 1) + "\n");
  }

  std::string name_;
  std::string db_url_;
  std::string ingest_db_url_;  // the ingester's account, when not the admin's
  std::string mqtt_url_;       // the ingester's broker, when not the shared one
  std::string client_id_;      // the ingester's client id, when not derived from the tag
  std::filesystem::path work_;
  int starts_ = 0;
};

// Publishes "n=<i>" for i in [from, to) over 50 topics, from a thread, to
// `broker` (a URL; empty for the shared broker).
class Stream {
 public:
  Stream(std::string prefix, std::uint64_t from, std::uint64_t to, const std::string& client_id,
         const std::string& broker = "")
      : thread_([this, prefix = std::move(prefix), from, to, client_id, broker] {
          Publisher publisher(client_id, broker);
          for (std::uint64_t i = from; i < to && !publisher.failed(); ++i) {
            publisher.publish(prefix + "/sensor/s" + std::to_string(i % 50) + "/state",
                              "n=" + std::to_string(i));
            published_ = i + 1 - from;
          }
          ok_ = publisher.wait_acked(std::chrono::seconds(120));
        }) {}
  ~Stream() {
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  bool finish() {
    thread_.join();
    return ok_;
  }
  std::uint64_t published() const { return published_; }

 private:
  std::atomic<std::uint64_t> published_{0};
  std::atomic<bool> ok_{false};
  std::thread thread_;
};

}  // namespace statesink::testing
