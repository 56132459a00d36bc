#include "latency.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "database.h"
#include "db/statement.h"
#include "ingester.h"
#include "latency_publisher.h"
#include "timing.h"

namespace statesink::bench {
namespace {

// Nearest-rank percentile of sorted values.
double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank =
      static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace

LatencyRun run_latency(Harness& harness) {
  const Settings& s = harness.settings();
  const std::vector<simulate::Message>& stream = harness.messages();
  empty_tables(harness.db_url());
  const PhaseSpace phase = harness.next_phase("latency");
  const auto total = static_cast<std::size_t>(s.latency_rate * s.latency_seconds);

  db::Connection c = harness.connect();
  auto ingester =
      start_ingester(harness, phase.dir, phase.client_id, 1000, testing::free_loopback_port());
  const std::uint64_t baseline = wait_until_subscribed(harness, *ingester, c);

  std::vector<Clock::time_point> seen(total);
  std::vector<std::int64_t> received_us(total);
  LatencyPublisher publisher(harness.mqtt_url(), phase.client_id + "-latency", stream, total,
                             s.latency_rate);

  // Rows arrive in publish order (one publisher, QoS 1, one subscriber, one
  // spool), so the k-th new row answers the k-th message; its topic and
  // payload are compared to be sure.
  LatencyRun r;
  r.messages = total;
  r.target_rate = s.latency_rate;
  db::Statement poll = c.prepare(
      "SELECT id, topic, payload, CAST(UNIX_TIMESTAMP(received_at) * 1000000 AS SIGNED) "
      "FROM messages WHERE id > ? ORDER BY id");
  std::uint64_t last_id = baseline;
  std::optional<Clock::time_point> gave_up;
  while (r.seen < total) {
    const db::Param after[] = {last_id};
    const auto rows = poll.query(after);
    const auto now = Clock::now();
    for (const auto& row : rows) {
      last_id = std::stoull(row[0].value_or("0"));
      if (r.seen < total) {
        const simulate::Message& m = stream[r.seen];
        if (row[1].value_or("") != m.topic || row[2].value_or("") != m.payload) ++r.mismatched;
        received_us[r.seen] = std::stoll(row[3].value_or("0"));
        seen[r.seen++] = now;
      }
    }
    if (publisher.done() && !gave_up) gave_up = Clock::now() + std::chrono::seconds(30);
    if (gave_up && Clock::now() > *gave_up) break;
    if (!ingester->running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  publisher.join();
  if (r.seen < total) {
    throw std::runtime_error("latency: only " + std::to_string(r.seen) + " of " +
                             std::to_string(total) + " messages arrived; ingest log:\n" +
                             testing::tail_file(ingester->log(), 20));
  }
  const std::vector<Clock::time_point>& published = publisher.published();
  const std::vector<std::int64_t>& published_us = publisher.published_micros();
  r.achieved_rate = static_cast<double>(total) / publisher.seconds();
  std::vector<double> ms;
  ms.reserve(total);
  for (std::size_t i = 0; i < total; ++i) {
    ms.push_back(std::chrono::duration<double, std::milli>(seen[i] - published[i]).count());
  }
  std::sort(ms.begin(), ms.end());
  r.p50 = percentile(ms, 50);
  r.p90 = percentile(ms, 90);
  r.p99 = percentile(ms, 99);
  r.max = ms.back();
  double sum = 0;
  for (double v : ms) sum += v;
  r.mean = sum / static_cast<double>(ms.size());
  std::vector<double> to_ingester;
  std::vector<double> to_commit;
  for (std::size_t i = 0; i < total; ++i) {
    const double first = static_cast<double>(received_us[i] - published_us[i]) / 1000.0;
    to_ingester.push_back(first);
    to_commit.push_back(std::chrono::duration<double, std::milli>(seen[i] - published[i]).count() -
                        first);
  }
  std::sort(to_ingester.begin(), to_ingester.end());
  std::sort(to_commit.begin(), to_commit.end());
  r.to_ingester_p50 = percentile(to_ingester, 50);
  r.to_ingester_p99 = percentile(to_ingester, 99);
  r.to_commit_p50 = percentile(to_commit, 50);
  r.to_commit_p99 = percentile(to_commit, 99);
  if (const int code = ingester->stop(std::chrono::seconds(60)); code != 0) {
    throw std::runtime_error("statesink ingest exited with " + std::to_string(code));
  }
  tidy_broker(harness, phase.client_id);
  return r;
}

}  // namespace statesink::bench
