#include "ratios.h"

#include <algorithm>
#include <optional>

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
      {"latency p99 ms at " + number(lat.target_rate, 0) + "/s", "< 150", lat.p99, lat.p99 < 150},
  };
  // Absolute CPU targets, set on the machine the README describes; on a slower
  // or busier one, read them against `ceiling_without_triggers` of the same run.
  const DirectRun& ceiling = *results.ceiling;
  const DirectRun& per_row = *results.ceiling_per_row_trigger;
  const auto add_cpu = [&](const std::string& name, double limit, std::optional<double> cpu,
                           std::size_t messages) {
    if (!cpu) return;
    const double value = per_100k(*cpu, messages);
    r.targets.push_back({name, "≤ " + number(limit, 1), value, value <= limit});
  };
  add_cpu("ceiling mariadbd CPU s/100k", 2.0, ceiling.mariadbd_cpu, ceiling.messages);
  add_cpu("per-row trigger mariadbd CPU s/100k", 4.0, per_row.mariadbd_cpu, per_row.messages);
  add_cpu("ingester CPU s/100k end to end", 0.6, e2e.ingest_cpu, e2e.messages);
  return r;
}

}  // namespace statesink::bench
