#pragma once

// One measurement of `statesink prune`: a messages table of a given layout
// filled with rows spread evenly over a span of days, then pruned of its
// oldest days by the statesink binary, the way an operator runs it.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "db/connection.h"
#include "history/message_partitions.h"

namespace statesink::bench {

struct PruneSetup {
  std::filesystem::path statesink;
  std::string db_url;
  std::uint64_t rows = 5'000'000;
  int days = 180;
  std::uint32_t batch = 5000;
};

struct PruneScenario {
  std::string layout;   // "unpartitioned", "month", "day"
  int prune_days = 30;  // the oldest days removed
};

struct PruneFigures {
  std::uint64_t rows_before = 0;
  std::uint64_t rows_deleted = 0;
  double fill_seconds = 0;
  double prune_seconds = 0;
  int partitions = 0;  // of the table before the prune; 0 when unpartitioned
  std::string output;  // what statesink prune printed
};

// Creates bench_source once: the rows every scenario copies, received_at
// spread evenly over the last setup.days days. Returns seconds taken.
double fill_source(db::Connection& connection, const PruneSetup& setup);

// Replaces `messages` with a table of the scenario's layout (without the
// normalising trigger: the measurement is of prune, and the facts it would
// make are never touched by it), copies bench_source into it and runs
// statesink prune. Throws when prune fails or leaves a wrong row count.
PruneFigures run_scenario(db::Connection& connection, const PruneSetup& setup,
                          const PruneScenario& scenario);

}  // namespace statesink::bench
