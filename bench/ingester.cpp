#include "ingester.h"

#include <httplib.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "database.h"
#include "simulate/message.h"
#include "timing.h"

namespace statesink::bench {

std::optional<double> ingest_metric(std::uint16_t port, const std::string& name) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(std::chrono::seconds(2));
  client.set_read_timeout(std::chrono::seconds(2));
  const auto response = client.Get("/metrics");
  if (!response || response->status != 200) return std::nullopt;
  std::istringstream lines(response->body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with(name + " ")) return std::atof(line.c_str() + name.size() + 1);
  }
  return std::nullopt;
}

std::unique_ptr<Child> start_ingester(const Harness& harness, const std::filesystem::path& dir,
                                      const std::string& client_id, std::size_t batch_size,
                                      std::uint16_t metrics_port,
                                      const std::vector<std::string>& extra_args,
                                      const std::string& db,
                                      const std::vector<std::string>& topics) {
  const Settings& s = harness.settings();
  std::vector<std::string> args = {s.statesink.string(),
                                   "ingest",
                                   "--db",
                                   db.empty() ? s.db : db,
                                   "--mqtt",
                                   s.mqtt,
                                   "--client-id",
                                   client_id,
                                   "--spool-dir",
                                   (dir / "spool").string(),
                                   "--batch-size",
                                   std::to_string(batch_size),
                                   "--report-interval",
                                   "2s",
                                   "--metrics-addr",
                                   "127.0.0.1:" + std::to_string(metrics_port)};
  for (const std::string& topic : topics) {
    args.emplace_back("--topic");
    args.push_back(topic);
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  args.insert(args.end(), s.ingest_args.begin(), s.ingest_args.end());
  return std::make_unique<Child>(args, dir, dir / "ingest.log");
}

// The ingester subscribes a moment after it connects; anything published
// before that would be lost to a new session. Probe messages are published
// until one arrives in the table.
std::uint64_t wait_until_subscribed(const Harness& harness, Child& ingester, db::Connection& c) {
  mqtt::Publisher probe(harness.mqtt_url(), "statesink-bench-probe-" + std::to_string(::getpid()));
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  for (int attempt = 0; Clock::now() < deadline; ++attempt) {
    probe.publish("bench/probe/ready/state", std::to_string(attempt), simulate::kQos, false);
    const auto until = Clock::now() + std::chrono::seconds(1);
    while (Clock::now() < until) {
      probe.loop(std::chrono::milliseconds(20));
      if (max_id(c) > 0) {
        // A probe sent just before may still be on its way.
        drain(probe, std::chrono::seconds(5));
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        return max_id(c);
      }
      if (!ingester.running()) {
        throw std::runtime_error("statesink ingest exited during start-up:\n" +
                                 testing::tail_file(ingester.log(), 20));
      }
    }
  }
  throw std::runtime_error("statesink ingest did not store a probe message within 60 s:\n" +
                           testing::tail_file(ingester.log(), 20));
}

// Polling MAX(id) reads one end of the primary key, so it costs the server
// next to nothing while it is being measured.
void wait_for_rows(Child& ingester, Child* simulate, db::Connection& c, std::uint64_t target) {
  std::uint64_t last = max_id(c);
  auto last_progress = Clock::now();
  while (true) {
    const std::uint64_t now = max_id(c);
    if (now >= target) return;
    if (now != last) {
      last = now;
      last_progress = Clock::now();
    }
    if (!ingester.running()) {
      throw std::runtime_error("statesink ingest exited:\n" +
                               testing::tail_file(ingester.log(), 20));
    }
    if (simulate != nullptr) {
      if (auto code = simulate->wait(std::chrono::milliseconds(0)); code && *code != 0) {
        throw std::runtime_error("statesink simulate failed:\n" +
                                 testing::tail_file(simulate->log(), 20));
      }
    }
    if (Clock::now() - last_progress > std::chrono::seconds(60)) {
      throw std::runtime_error("no new rows for 60 s (" + std::to_string(now) + " of " +
                               std::to_string(target) + "); ingest log:\n" +
                               testing::tail_file(ingester.log(), 20));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void drain(mqtt::Publisher& publisher, std::chrono::seconds timeout) {
  if (!publisher.wait_acked(timeout)) {
    throw std::runtime_error("the broker acknowledged " + std::to_string(publisher.acked()) +
                             " of " + std::to_string(publisher.sent()) + " messages");
  }
}

// The stopped ingester's persistent session would otherwise queue every
// later message, and the retained copies of the simulator's topics would be
// replayed to the next subscriber and counted as its traffic.
void tidy_broker(const Harness& harness, const std::string& ingest_client_id) {
  { mqtt::Publisher end_session(harness.mqtt_url(), ingest_client_id); }
  mqtt::Publisher tidy(harness.mqtt_url(), "statesink-bench-tidy-" + std::to_string(::getpid()));
  for (const std::string& topic : harness.topics()) tidy.publish(topic, "", simulate::kQos, true);
  drain(tidy, std::chrono::seconds(60));
}

}  // namespace statesink::bench
