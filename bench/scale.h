#pragma once

// The scale-out phase: 1, 2, ... ingesters in one share group, so the broker
// splits one stream between them, all writing into the one server, or into a
// Galera cluster with each ingester on a node of its own (galera_scale.h).
// It shows whether more ingesters add throughput or only contend for the same
// rows.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/url.h"
#include "harness.h"
#include "results.h"

namespace statesink::bench {

// What the ingesters of a scale-out run write into.
struct ScaleTarget {
  std::string name;  // "server" or "galera"
  // Where the tables are emptied and the stored rows counted.
  config::DbUrl db;
  // The --db of the ingester numbered `index` (from 0).
  std::function<std::string(unsigned index)> ingest_db;
  // CPU seconds of each database server process.
  std::function<std::vector<std::optional<double>>()> server_cpu;
  // Galera's counters summed over the nodes; unset for one server.
  struct Counters {
    std::uint64_t cert_failures = 0;
    std::uint64_t bf_aborts = 0;
    double flow_control_paused_seconds = 0;
  };
  std::function<Counters()> counters;
  // When set, no share group: ingester N subscribes to base topic N alone
  // (BASE/#), so no two ingesters write the same rows; one ingester each.
  std::vector<std::string> base_topics;
};

// The base topics of the benchmark's stream, in order.
std::vector<std::string> base_topics_of(const Harness& harness);

// The one server of the harness.
ScaleTarget server_target(const Harness& harness);

// Starts from empty tables; throws unless every message was stored.
ScaleRun run_scale(Harness& harness, const ScaleTarget& target, unsigned ingesters,
                   std::size_t messages);

// Every count from 1 to --scale-max-ingesters, --repeat rounds taken in
// turns; the best round of each count is returned.
std::vector<ScaleRun> run_scale_rounds(Harness& harness, const ScaleTarget& target);

// The rounds into the harness's one server, into results.scale.
void run_scale_phase(Harness& harness, Results& results);

}  // namespace statesink::bench
