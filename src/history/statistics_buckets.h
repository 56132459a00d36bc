#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "util/time_arg.h"

namespace statesink::history {

// One fact as the statistics see it: when it was recorded and its number
// (nullopt for unavailable, unknown and text, which end the value in force).
struct TimedValue {
  UtcTime at;
  std::optional<double> value;
};

// One row of statistics_5min or statistics_hourly.
struct BucketStats {
  UtcTime bucket_start;
  std::uint32_t samples = 0;  // numeric facts recorded in the bucket
  double min_value = 0;
  double max_value = 0;
  std::optional<double> mean_value;  // nullopt only when the weighted mean overflows
  double first_value = 0;
  double last_value = 0;
  double covered_seconds = 0;  // time in the bucket during which a number was in force
};

// Statistics of one state for the buckets of `step` in [from, to), both
// multiples of `step` since the epoch. `in_force` is the value of the last
// fact before `from` (nullopt: none, or not a number); `facts` are the state's
// facts in [from, to), ordered by time and then by id.
//
// A bucket gets a row when a number is in force during it or a numeric fact
// is recorded in it, so a value that holds for days fills every bucket it
// spans. A non-numeric fact interrupts: its time counts neither for nor
// against the mean, which is weighted over the time a number was in force.
// The value in force at a bucket's start takes part (min, max, first) unless a
// fact replaces it at that very instant.
std::vector<BucketStats> compute_buckets(std::chrono::seconds step, UtcTime from, UtcTime to,
                                         std::optional<double> in_force,
                                         std::span<const TimedValue> facts);

// The start of the bucket of `step` that holds `time`.
UtcTime bucket_floor(UtcTime time, std::chrono::seconds step);

}  // namespace statesink::history
