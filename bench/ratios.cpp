#include "ratios.h"

#include <algorithm>

namespace statesink::bench {

Ratios compute_ratios(const Results& results, const Json& machine) {
  const IngestRun& e2e = *results.end_to_end;
  const LatencyRun& lat = *results.latency;
  Ratios r;
  r.vs_ceiling = e2e.rate / results.ceiling->rate;
  r.vs_naive = e2e.rate / results.naive->rate;
  r.vs_ceiling_backlog = results.backlog->rate / results.ceiling->rate;
  r.cpus = std::max(1.0, machine.value("cpus", 1.0));
  r.e2e_cpu = e2e.ingest_cpu.value_or(0) + e2e.mariadbd_cpu.value_or(0) +
              e2e.mosquitto_cpu.value_or(0) + e2e.simulate_cpu;
  r.cpu_bound = r.e2e_cpu > 0 ? r.cpus * static_cast<double>(e2e.messages) / r.e2e_cpu : 0;
  r.targets = {
      {"end to end / ceiling", "≥ 0.8", r.vs_ceiling, r.vs_ceiling >= 0.8},
      {"end to end / naive", "≥ 20", r.vs_naive, r.vs_naive >= 20},
      {"latency p99 ms at " + number(lat.target_rate, 0) + "/s", "< 500", lat.p99, lat.p99 < 500},
  };
  return r;
}

}  // namespace statesink::bench
