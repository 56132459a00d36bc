#include "end_to_end.h"

#include <chrono>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <vector>

#include "child.h"
#include "database.h"
#include "ingester.h"
#include "proc_stats.h"
#include "timing.h"

namespace statesink::bench {

IngestRun run_ingest(Harness& harness, const std::string& name, std::size_t batch_size,
                     std::size_t messages, bool triggers, bool from_backlog) {
  const Settings& s = harness.settings();
  empty_tables(harness.db_url());
  const PhaseSpace phase = harness.next_phase(name);
  const std::filesystem::path& dir = phase.dir;
  const std::string& client_id = phase.client_id;

  IngestRun r;
  r.name = name;
  r.batch_size = batch_size;
  r.triggers = triggers;
  r.from_backlog = from_backlog;
  r.messages = messages;
  db::Connection c = harness.connect();
  std::uint16_t metrics_port = testing::free_loopback_port();
  auto ingester = start_ingester(harness, dir, client_id, batch_size, metrics_port);
  const std::uint64_t baseline = wait_until_subscribed(harness, *ingester, c);
  const std::vector<std::string> simulate_args = {s.statesink.string(),
                                                  "simulate",
                                                  "--mqtt",
                                                  s.mqtt,
                                                  "--client-id",
                                                  client_id + "-simulate",
                                                  "--installations",
                                                  std::to_string(s.installations),
                                                  "--entities",
                                                  std::to_string(s.entities),
                                                  "--seed",
                                                  std::to_string(s.seed),
                                                  "--rate",
                                                  "0",
                                                  "--count",
                                                  std::to_string(messages)};
  std::unique_ptr<Child> simulate;
  if (from_backlog) {
    // The session and its subscription stay on the broker, which queues the
    // whole stream for it; the clock starts when the ingester comes back.
    if (const int code = ingester->stop(std::chrono::seconds(60)); code != 0) {
      throw std::runtime_error("statesink ingest exited with " + std::to_string(code) + ":\n" +
                               testing::tail_file(ingester->log(), 20));
    }
    simulate = std::make_unique<Child>(simulate_args, dir, dir / "simulate.log");
    if (simulate->wait(std::chrono::minutes(10)).value_or(-1) != 0) {
      throw std::runtime_error("statesink simulate failed:\n" +
                               testing::tail_file(simulate->log(), 20));
    }
    metrics_port = testing::free_loopback_port();
  }
  // Resuming a kept session, the ingester does not subscribe again, so the
  // broker sends the queue and nothing else: no retained copies.
  if (from_backlog) {
    r.messages = messages;
  }
  const auto start = Clock::now();
  CpuSample before = harness.cpu(-1);
  std::optional<std::uint64_t> syscalls_before;
  if (from_backlog) {
    ingester = start_ingester(harness, dir, client_id, batch_size, metrics_port);
    before.ingest = 0.0;  // it starts now; all its CPU counts
    syscalls_before = 0;
  } else {
    before.ingest = cpu_seconds(ingester->pid());
    syscalls_before = io_syscalls(ingester->pid());
    simulate = std::make_unique<Child>(simulate_args, dir, dir / "simulate.log");
  }
  wait_for_rows(*ingester, from_backlog ? nullptr : simulate.get(), c, baseline + r.messages);
  r.seconds = seconds_since(start);
  const CpuSample after = harness.cpu(ingester->pid());
  r.peak_rss = peak_rss_bytes(ingester->pid());
  if (const auto syscalls = io_syscalls(ingester->pid()); syscalls && syscalls_before) {
    r.ingest_syscalls_per_message =
        static_cast<double>(*syscalls - *syscalls_before) / static_cast<double>(r.messages);
  }
  const auto inserted = ingest_metric(metrics_port, "statesink_messages_inserted_total");
  const auto batches = ingest_metric(metrics_port, "statesink_batches_total");
  if (inserted && batches && *batches > 0) r.mean_batch = *inserted / *batches;
  const auto syncs = ingest_metric(metrics_port, "statesink_spool_syncs_total");
  if (inserted && syncs && *inserted > 0) r.spool_syncs_per_1k = *syncs * 1000 / *inserted;
  r.rate = static_cast<double>(r.messages) / r.seconds;
  r.ingest_cpu = delta(before.ingest, after.ingest);
  r.mariadbd_cpu = delta(before.mariadbd, after.mariadbd);
  r.mosquitto_cpu = delta(before.mosquitto, after.mosquitto);

  if (simulate->wait(std::chrono::seconds(60)).value_or(-1) != 0) {
    throw std::runtime_error("statesink simulate failed:\n" +
                             testing::tail_file(simulate->log(), 20));
  }
  r.simulate_cpu = simulate->cpu_seconds_at_exit();
  // "published N messages (N acknowledged) in S s: R/s"
  const std::string said = testing::tail_file(simulate->log(), 1);
  if (const auto colon = said.rfind(": "); colon != std::string::npos) {
    r.simulate_rate = std::atof(said.c_str() + colon + 2);
  }
  if (const int code = ingester->stop(std::chrono::seconds(60)); code != 0) {
    throw std::runtime_error("statesink ingest exited with " + std::to_string(code) + ":\n" +
                             testing::tail_file(ingester->log(), 20));
  }
  const std::uint64_t stored = count_rows(c, "messages");
  if (stored < baseline + r.messages) {
    throw std::runtime_error(name + ": " + std::to_string(stored) + " rows, expected " +
                             std::to_string(baseline + r.messages));
  }
  if (triggers) {
    r.facts = count_rows(c, "facts");
    r.rejected = count_rows(c, "message_rejections");
  }
  tidy_broker(harness, client_id);
  return r;
}

}  // namespace statesink::bench
