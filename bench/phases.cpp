#include "phases.h"

#include <cmath>
#include <iostream>
#include <string>

#include "ceiling.h"
#include "end_to_end.h"
#include "format.h"
#include "galera_scale.h"
#include "latency.h"
#include "progress.h"
#include "scale.h"
#include "statistics_cost.h"
#include "sweep.h"

namespace statesink::bench {

Results run_phases(Harness& harness) {
  const Settings& s = harness.settings();
  Results results;
  if (s.galera_only) {
    run_galera_scale_phase(harness, results);
    return results;
  }
  if (s.scale_only) {
    run_scale_phase(harness, results);
    if (s.galera) run_galera_scale_phase(harness, results);
    return results;
  }
  // Taken in turns, so that whatever else the machine does at the time
  // weighs on both alike; the best of each is reported.
  Clock::time_point t;
  for (unsigned round = 1; round <= s.repeat; ++round) {
    const std::string of = " (" + std::to_string(round) + "/" + std::to_string(s.repeat) + ")";
    if (!s.ingest_only) {
      t = step("ceiling: multi-row INSERTs normalised by normalise_batch(), " +
               std::to_string(s.messages) + " messages" + of);
      DirectRun c =
          run_direct(harness, "ceiling", s.ceiling_rows, s.messages, Normalise::set_based);
      done(t, c.rate);
      results.ceiling_rates.push_back(std::round(c.rate));
      if (!results.ceiling || c.rate > results.ceiling->rate) results.ceiling = c;
      t = step("ceiling through the per-row trigger: multi-row INSERTs of " +
               std::to_string(s.messages) + " messages" + of);
      DirectRun p = run_direct(harness, "ceiling-per-row-trigger", s.ceiling_rows, s.messages);
      done(t, p.rate);
      results.ceiling_per_row_trigger_rates.push_back(std::round(p.rate));
      if (!results.ceiling_per_row_trigger || p.rate > results.ceiling_per_row_trigger->rate) {
        results.ceiling_per_row_trigger = p;
      }
    }
    if (s.ceiling_only) continue;
    t = step("end to end: simulate -> broker -> ingest, " + std::to_string(s.messages) +
             " messages" + of);
    IngestRun e = run_ingest(harness, "end-to-end", 1000, s.messages, true);
    done(t, e.rate);
    results.end_to_end_rates.push_back(std::round(e.rate));
    if (!results.end_to_end || e.rate > results.end_to_end->rate) results.end_to_end = e;
  }
  if (s.ceiling_only) return results;
  t = step("end to end from a broker backlog, " + std::to_string(s.messages) + " messages");
  results.backlog = run_ingest(harness, "backlog", 1000, s.messages, true, true);
  done(t, results.backlog->rate);
  if (s.ingest_only) return results;
  t = step("naive: ingest --batch-size 1, " + std::to_string(s.naive_messages) + " messages");
  results.naive = run_ingest(harness, "naive", 1, s.naive_messages, true);
  done(t, results.naive->rate);
  t = step("single-row autocommit INSERTs, " + std::to_string(s.naive_messages) + " messages");
  results.direct_single = run_direct(harness, "single-row", 1, s.naive_messages);
  done(t, results.direct_single->rate);
  t = step("latency at " + number(s.latency_rate, 0) + "/s for " + number(s.latency_seconds, 0) +
           " s");
  results.latency = run_latency(harness);
  const LatencyRun& lat = *results.latency;
  std::cout << " p50 " << number(lat.p50, 0) << " ms, p99 " << number(lat.p99, 0)
            << " ms; to the ingester p50 " << number(lat.to_ingester_p50, 0)
            << " ms, from there to committed p50 " << number(lat.to_commit_p50, 0) << " ms ("
            << number(seconds_since(t), 1) << " s)\n";
  // Before the sweep, which drops the triggers for its second half.
  if (s.statistics) run_statistics_phase(harness, results);
  if (s.scale) run_scale_phase(harness, results);
  if (s.galera) run_galera_scale_phase(harness, results);
  if (s.sweep) run_sweep(harness, results);
  return results;
}

}  // namespace statesink::bench
