#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "db/connection.h"
#include "util/time_arg.h"

namespace statesink::history {

// One of the two statistics tables.
struct Granularity {
  std::string_view name;   // its row in statistics_progress
  std::string_view table;  // statistics_5min / statistics_hourly
  std::chrono::seconds step;
};

inline constexpr Granularity kFiveMinutes{"5min", "statistics_5min", std::chrono::minutes(5)};
inline constexpr Granularity kHourly{"hourly", "statistics_hourly", std::chrono::hours(1)};

struct StatisticsOptions {
  // How old an observed fact id must be before the update relies on every
  // lower id being committed (see statistics_progress.observed_fact_id).
  std::chrono::seconds settle{60};
  // New facts read per transaction, by id.
  std::uint32_t fact_chunk = 20000;
  // States recomputed per transaction when the complete buckets move on.
  std::uint32_t state_chunk = 200;
};

struct StatisticsProgress {
  std::string_view granularity;
  std::uint64_t facts = 0;            // new facts taken into account
  std::uint64_t recomputed = 0;       // (state, time range) pairs recomputed
  std::uint64_t rows_written = 0;     // statistics rows inserted
  std::uint64_t rows_deleted = 0;     // rows replaced or removed
  std::optional<UtcTime> done_until;  // the work has reached this time
  std::optional<UtcTime> target;      // and goes on to this one
};

struct StatisticsReport {
  StatisticsProgress five_minutes;
  StatisticsProgress hourly;
  bool skipped = false;  // another run held the lock
  std::chrono::milliseconds took{0};
};

using ProgressCallback = std::function<void(const StatisticsProgress&)>;

// Brings both tables up to date with the facts: every bucket that ended
// before `now` is written, and buckets that late or out-of-order facts
// changed are recomputed. Idempotent, and resumable after an interruption:
// each transaction moves statistics_progress together with the rows it
// wrote. Returns with `skipped` set when another update or rebuild is running.
StatisticsReport update_statistics(db::Connection& connection, UtcTime now,
                                   const StatisticsOptions& options,
                                   const ProgressCallback& progress = {});

// Recomputes every bucket in [from, to) (to: nullopt or later than the last
// complete bucket means up to it) from the facts, replacing what the tables
// hold there. Waits up to `lock_wait` for a running update to finish.
StatisticsReport rebuild_statistics(db::Connection& connection, UtcTime from,
                                    std::optional<UtcTime> to, UtcTime now,
                                    const StatisticsOptions& options,
                                    std::chrono::seconds lock_wait,
                                    const ProgressCallback& progress = {});

// Thrown when the statistics tables are missing (migration 0008 not applied).
bool has_statistics_tables(db::Connection& connection);

}  // namespace statesink::history
