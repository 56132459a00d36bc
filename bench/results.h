#pragma once

// What the phases measured, kept for the report.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace statesink::bench {

// How one end-to-end run went.
struct IngestRun {
  std::string name;
  std::size_t batch_size = 0;
  bool triggers = true;
  // The simulator published everything before the ingester started, so only
  // broker -> ingester -> database runs in the timed window.
  bool from_backlog = false;
  std::size_t messages = 0;
  double seconds = 0;
  double rate = 0;
  std::optional<double> ingest_cpu;
  std::optional<double> mariadbd_cpu;
  std::optional<double> mosquitto_cpu;
  double simulate_cpu = 0;
  std::optional<double> simulate_rate;
  std::optional<std::uint64_t> peak_rss;
  std::optional<double> ingest_syscalls_per_message;  // read/write-type, see io_syscalls()
  std::optional<double> mean_batch;  // what the ingester achieved, from its metrics
  // The spool's disk flushes per 1,000 messages inserted, over the ingester's life.
  std::optional<double> spool_syncs_per_1k;
  std::uint64_t facts = 0;
  std::uint64_t rejected = 0;
};

// How one run of INSERTs straight into the database went.
struct DirectRun {
  std::string name;
  std::size_t rows_per_statement = 0;
  bool set_based = false;  // normalise_batch() per statement, else the per-row trigger
  std::size_t messages = 0;
  double seconds = 0;
  double rate = 0;
  std::optional<double> mariadbd_cpu;
  double client_cpu = 0;
  std::uint64_t facts = 0;
};

struct LatencyRun {
  std::size_t messages = 0;
  double target_rate = 0;
  double achieved_rate = 0;
  std::size_t seen = 0;
  std::size_t mismatched = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0, mean = 0;
  // The same path in two legs, split at the ingester's reception time
  // (messages.received_at, from the same clock as the publish time).
  double to_ingester_p50 = 0, to_ingester_p99 = 0;
  double to_commit_p50 = 0, to_commit_p99 = 0;
};

// N ingesters in one share group splitting one stream into one server, or
// into a Galera cluster with each ingester on a node of its own.
struct ScaleRun {
  std::string target;          // "server" or "galera"
  bool by_base_topic = false;  // one base topic per ingester instead of a share group
  unsigned ingesters = 0;
  std::size_t messages = 0;
  double seconds = 0;
  double rate = 0;
  std::uint64_t batches = 0;                             // committed, summed over the ingesters
  std::uint64_t conflict_retries = 0;                    // deadlocks (1213) retried, summed
  std::vector<double> ingest_cpu;                        // CPU seconds of each ingester
  std::optional<double> mariadbd_cpu;                    // all servers together
  std::vector<std::optional<double>> mariadbd_cpu_each;  // per server (cluster node)
  // Galera only, summed over the nodes: local transactions that failed
  // certification, local transactions aborted by an applier (brute force),
  // and the time replication was paused by flow control.
  std::optional<std::uint64_t> cert_failures;
  std::optional<std::uint64_t> bf_aborts;
  std::optional<double> flow_control_paused_seconds;
  std::optional<double> mosquitto_cpu;
  double simulate_cpu = 0;
  std::uint64_t facts = 0;
  std::uint64_t rejected = 0;
  std::vector<double> round_rates;  // messages/s of every round of this count
};

// The statistics phase: the ceiling with and without statistics updates
// running back to back beside it, and one update catching up with a stream.
struct StatisticsCost {
  std::optional<DirectRun> without;
  std::optional<DirectRun> with;
  std::uint64_t updates = 0;      // update runs during `with`
  double update_seconds = 0;      // their wall time, summed
  double update_client_cpu = 0;   // the updating thread's own CPU seconds
  std::uint64_t rows_during = 0;  // statistics rows after `with`
  std::uint64_t facts = 0;        // facts the catch-up took in
  double facts_span_hours = 0;    // from the first to the last fact's happened_at
  double catch_up_seconds = 0;
  std::optional<double> catch_up_mariadbd_cpu;
  double catch_up_client_cpu = 0;
  std::uint64_t catch_up_rows = 0;
};

// Everything one benchmark run measured. Where a phase is repeated, the best
// round is kept and the rates of all rounds are listed beside it.
struct Results {
  std::optional<DirectRun> ceiling;  // the ingester's path: set-based normalisation
  std::vector<double> ceiling_rates;
  std::optional<DirectRun> ceiling_per_row_trigger;  // the same INSERTs from any other client
  std::vector<double> ceiling_per_row_trigger_rates;
  std::optional<IngestRun> end_to_end;
  std::vector<double> end_to_end_rates;
  std::optional<IngestRun> backlog;
  std::optional<IngestRun> naive;
  std::optional<DirectRun> direct_single;
  std::optional<LatencyRun> latency;
  std::optional<DirectRun> ceiling_without_triggers;
  std::vector<IngestRun> sweep;
  std::vector<ScaleRun> scale;         // best round for 1, 2 and 3 ingesters
  std::vector<ScaleRun> galera_scale;  // the same into a three-node Galera cluster
  std::optional<StatisticsCost> statistics;
};

}  // namespace statesink::bench
