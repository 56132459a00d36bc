#include "scale.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "child.h"
#include "database.h"
#include "ingester.h"
#include "mqtt/publisher.h"
#include "proc_stats.h"
#include "progress.h"
#include "simulate/message.h"
#include "timing.h"

namespace statesink::bench {
namespace {

struct Member {
  std::unique_ptr<Child> child;
  std::uint16_t port = 0;
  std::string client_id;
};

std::uint64_t metric_of(const Member& m, const std::string& name) {
  const auto v = ingest_metric(m.port, name);
  return v ? static_cast<std::uint64_t>(*v) : 0;
}

std::uint64_t sum_metric(const std::vector<Member>& group, const std::string& name) {
  std::uint64_t sum = 0;
  for (const Member& m : group) sum += metric_of(m, name);
  return sum;
}

void check_running(std::vector<Member>& group) {
  for (Member& m : group) {
    if (!m.child->running()) {
      throw std::runtime_error("statesink ingest exited:\n" +
                               testing::tail_file(m.child->log(), 20));
    }
  }
}

// The broker hands each message of a shared subscription to one member
// only, so a single probe in the table proves nothing about the others:
// probes go out until every member has committed at least one.
void wait_until_all_subscribed(const Harness& harness, std::vector<Member>& group) {
  mqtt::Publisher probe(harness.mqtt_url(),
                        "statesink-bench-scale-probe-" + std::to_string(::getpid()));
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  for (int attempt = 0; Clock::now() < deadline; ++attempt) {
    // A topic per member: ingesters that split the stream by base topic
    // subscribe to their own probe topic only, so no two of them write the
    // same row, not even a probe's.
    for (std::size_t k = 1; k <= group.size(); ++k) {
      probe.publish("bench/probe" + std::to_string(k) + "/ready/state", std::to_string(attempt),
                    simulate::kQos, false);
    }
    probe.loop(std::chrono::milliseconds(100));
    check_running(group);
    bool all = true;
    for (const Member& m : group) {
      all = all && metric_of(m, "statesink_messages_inserted_total") > 0;
    }
    if (all) {
      drain(probe, std::chrono::seconds(5));
      // Let the last probes reach the table before the baseline is taken.
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      return;
    }
  }
  throw std::runtime_error("not every ingester of the share group stored a probe within 60 s");
}

}  // namespace

ScaleTarget server_target(const Harness& harness) {
  ScaleTarget t;
  t.name = "server";
  t.db = harness.db_url();
  const std::string url = harness.settings().db;
  t.ingest_db = [url](unsigned) { return url; };
  t.server_cpu = [&harness] {
    return std::vector<std::optional<double>>{harness.cpu(-1).mariadbd};
  };
  return t;
}

ScaleRun run_scale(Harness& harness, const ScaleTarget& target, unsigned ingesters,
                   std::size_t messages) {
  const Settings& s = harness.settings();
  empty_tables(target.db);
  const PhaseSpace phase =
      harness.next_phase("scale-" + target.name + "-" + std::to_string(ingesters));
  const std::string group_name = "bench" + std::to_string(::getpid());
  ScaleRun r;
  r.target = target.name;
  r.by_base_topic = !target.base_topics.empty();
  r.ingesters = ingesters;
  r.messages = messages;
  db::Connection c = db::Connection::open(target.db);

  std::vector<Member> group(ingesters);
  for (unsigned i = 0; i < ingesters; ++i) {
    Member& m = group[i];
    const std::filesystem::path dir = phase.dir / ("ingest-" + std::to_string(i + 1));
    std::filesystem::create_directories(dir);
    m.port = testing::free_loopback_port();
    m.client_id = phase.client_id + "-" + std::to_string(i + 1);
    if (target.base_topics.empty()) {
      m.child = start_ingester(harness, dir, m.client_id, 1000, m.port,
                               {"--share-group", group_name}, target.ingest_db(i));
    } else {
      // Its own probe topic shows that it is subscribed.
      m.child = start_ingester(
          harness, dir, m.client_id, 1000, m.port, {}, target.ingest_db(i),
          {target.base_topics.at(i) + "/#", "bench/probe" + std::to_string(i + 1) + "/#"});
    }
  }
  wait_until_all_subscribed(harness, group);
  const std::uint64_t baseline = sum_metric(group, "statesink_messages_inserted_total");
  const std::uint64_t batches_before = sum_metric(group, "statesink_batches_total");
  const std::uint64_t retries_before = sum_metric(group, "statesink_db_conflict_retries_total");
  const std::uint64_t rows_before = count_rows(c, "messages");

  const std::vector<std::string> simulate_args = {s.statesink.string(),
                                                  "simulate",
                                                  "--mqtt",
                                                  s.mqtt,
                                                  "--client-id",
                                                  phase.client_id + "-simulate",
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
  // A plain value rather than an optional: GCC 12 in Release sees the
  // optional's payload as maybe uninitialized.
  const bool counted = static_cast<bool>(target.counters);
  const ScaleTarget::Counters counters_before =
      counted ? target.counters() : ScaleTarget::Counters{};
  const auto start = Clock::now();
  const CpuSample before = harness.cpu(-1);
  const std::vector<std::optional<double>> servers_before = target.server_cpu();
  std::vector<std::optional<double>> ingest_before;
  for (const Member& m : group) ingest_before.push_back(cpu_seconds(m.child->pid()));
  Child simulate(simulate_args, phase.dir, phase.dir / "simulate.log");

  // The members' own counters say when everything is committed: MAX(id)
  // would run ahead of missing rows, since a batch rolled back by a deadlock
  // leaves a gap in the auto-increment ids.
  std::uint64_t last = baseline;
  auto last_progress = Clock::now();
  while (true) {
    const std::uint64_t now = sum_metric(group, "statesink_messages_inserted_total");
    if (now >= baseline + messages) break;
    if (now != last) {
      last = now;
      last_progress = Clock::now();
    }
    check_running(group);
    if (auto code = simulate.wait(std::chrono::milliseconds(0)); code && *code != 0) {
      throw std::runtime_error("statesink simulate failed:\n" +
                               testing::tail_file(simulate.log(), 20));
    }
    if (Clock::now() - last_progress > std::chrono::seconds(60)) {
      throw std::runtime_error("scale-out: nothing committed for 60 s (" +
                               std::to_string(now - baseline) + " of " + std::to_string(messages) +
                               ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  r.seconds = seconds_since(start);
  const CpuSample after = harness.cpu(-1);
  const std::vector<std::optional<double>> servers_after = target.server_cpu();
  for (std::size_t i = 0; i < group.size(); ++i) {
    r.ingest_cpu.push_back(
        delta(ingest_before[i], cpu_seconds(group[i].child->pid())).value_or(0.0));
  }
  r.rate = static_cast<double>(messages) / r.seconds;
  for (std::size_t i = 0; i < servers_after.size() && i < servers_before.size(); ++i) {
    r.mariadbd_cpu_each.push_back(delta(servers_before[i], servers_after[i]));
    if (const auto d = r.mariadbd_cpu_each.back()) r.mariadbd_cpu = r.mariadbd_cpu.value_or(0) + *d;
  }
  r.mosquitto_cpu = delta(before.mosquitto, after.mosquitto);
  if (counted) {
    const ScaleTarget::Counters now = target.counters();
    r.cert_failures = now.cert_failures - counters_before.cert_failures;
    r.bf_aborts = now.bf_aborts - counters_before.bf_aborts;
    r.flow_control_paused_seconds =
        now.flow_control_paused_seconds - counters_before.flow_control_paused_seconds;
  }
  r.batches = sum_metric(group, "statesink_batches_total") - batches_before;
  r.conflict_retries = sum_metric(group, "statesink_db_conflict_retries_total") - retries_before;

  if (simulate.wait(std::chrono::seconds(60)).value_or(-1) != 0) {
    throw std::runtime_error("statesink simulate failed:\n" +
                             testing::tail_file(simulate.log(), 20));
  }
  r.simulate_cpu = simulate.cpu_seconds_at_exit();
  for (Member& m : group) {
    if (const int code = m.child->stop(std::chrono::seconds(60)); code != 0) {
      throw std::runtime_error("statesink ingest exited with " + std::to_string(code) + ":\n" +
                               testing::tail_file(m.child->log(), 20));
    }
  }
  const std::uint64_t stored = count_rows(c, "messages");
  if (stored < rows_before + messages) {
    throw std::runtime_error("scale-out: " + std::to_string(stored - rows_before) +
                             " rows, expected " + std::to_string(messages));
  }
  r.facts = count_rows(c, "facts");
  r.rejected = count_rows(c, "message_rejections");
  for (const Member& m : group) tidy_broker(harness, m.client_id);
  return r;
}

std::vector<std::string> base_topics_of(const Harness& harness) {
  std::set<std::string> bases;
  for (const std::string& topic : harness.topics()) {
    // BASE/DOMAIN/OBJECT_ID/ATTRIBUTE: the base is everything before the last three levels.
    std::size_t cut = topic.size();
    for (int level = 0; level < 3 && cut != std::string::npos; ++level) {
      cut = cut == 0 ? std::string::npos : topic.rfind('/', cut - 1);
    }
    if (cut != std::string::npos) bases.insert(topic.substr(0, cut));
  }
  return {bases.begin(), bases.end()};
}

std::vector<ScaleRun> run_scale_rounds(Harness& harness, const ScaleTarget& target) {
  const Settings& s = harness.settings();
  const bool split = !target.base_topics.empty();
  std::vector<unsigned> counts;
  if (split) {
    counts.push_back(static_cast<unsigned>(target.base_topics.size()));
  } else {
    for (unsigned n = 1; n <= s.scale_max_ingesters; ++n) counts.push_back(n);
  }
  std::vector<std::optional<ScaleRun>> best(counts.size());
  std::vector<std::vector<double>> rates(counts.size());
  const std::string how = split ? ", one base topic each" : " in one share group";
  const std::string into = target.name == "server" ? "" : " into " + target.name;
  for (unsigned round = 1; round <= s.repeat; ++round) {
    for (std::size_t k = 0; k < counts.size(); ++k) {
      const unsigned n = counts[k];
      const Clock::time_point t =
          step("scale-out: " + std::to_string(n) + " ingester(s)" + how + into + ", " +
               std::to_string(s.scale_messages) + " messages (" + std::to_string(round) + "/" +
               std::to_string(s.repeat) + ")");
      ScaleRun r = run_scale(harness, target, n, s.scale_messages);
      done(t, r.rate);
      if (r.conflict_retries > 0) {
        std::cout << "    " << r.conflict_retries << " conflict retries in " << r.batches
                  << " batches\n";
      }
      rates[k].push_back(std::round(r.rate));
      if (!best[k] || r.rate > best[k]->rate) best[k] = std::move(r);
    }
  }
  std::vector<ScaleRun> out;
  for (std::size_t k = 0; k < counts.size(); ++k) {
    best[k]->round_rates = rates[k];
    out.push_back(*best[k]);
  }
  return out;
}

void run_scale_phase(Harness& harness, Results& results) {
  results.scale = run_scale_rounds(harness, server_target(harness));
}

}  // namespace statesink::bench
