#include "history/statistics_buckets.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace statesink::history {
namespace {

using std::chrono::microseconds;

// What one bucket has seen so far.
class Accumulator {
 public:
  // A value the state took in the bucket (carried in, or a numeric fact).
  void take(double value) {
    if (!first_) {
      first_ = value;
      min_ = max_ = value;
    }
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
    last_ = value;
    plain_sum_ += value;
    ++plain_count_;
  }

  void hold(double value, microseconds duration) {
    if (duration.count() > 0) {
      segments_.emplace_back(value, duration);
      covered_ += duration;
    }
  }

  void count_sample() { ++samples_; }

  std::optional<BucketStats> finish(UtcTime bucket_start) const {
    if (!first_) {
      return std::nullopt;
    }
    BucketStats row;
    row.bucket_start = bucket_start;
    row.samples = samples_;
    row.min_value = min_;
    row.max_value = max_;
    row.first_value = *first_;
    row.last_value = last_;
    row.covered_seconds = static_cast<double>(covered_.count()) / 1e6;
    double mean = 0;
    if (covered_.count() > 0) {
      // Each term is scaled by its share of the time before it is added, so
      // that values near DOUBLE's limits do not overflow the sum.
      const double total = static_cast<double>(covered_.count());
      for (const auto& [value, duration] : segments_) {
        mean += value * (static_cast<double>(duration.count()) / total);
      }
    } else {
      // Numbers that held for no time at all (replaced within the same
      // microsecond): their plain mean is the only sensible answer.
      mean = plain_sum_ / plain_count_;
    }
    if (std::isfinite(mean)) {
      // Rounding can put a weighted mean a hair outside [min, max].
      row.mean_value = std::clamp(mean, min_, max_);
    }
    return row;
  }

 private:
  std::optional<double> first_;
  double min_ = 0;
  double max_ = 0;
  double last_ = 0;
  double plain_sum_ = 0;
  double plain_count_ = 0;
  std::uint32_t samples_ = 0;
  microseconds covered_{0};
  std::vector<std::pair<double, microseconds>> segments_;
};

}  // namespace

UtcTime bucket_floor(UtcTime time, std::chrono::seconds step) {
  const auto since_epoch = time.time_since_epoch();
  const microseconds width = step;
  auto rest = since_epoch % width;
  if (rest.count() < 0) {
    rest += width;
  }
  return time - rest;
}

std::vector<BucketStats> compute_buckets(std::chrono::seconds step, UtcTime from, UtcTime to,
                                         std::optional<double> in_force,
                                         std::span<const TimedValue> facts) {
  std::vector<BucketStats> rows;
  std::size_t next = 0;
  std::optional<double> current = in_force;
  for (UtcTime start = from; start < to; start += step) {
    const UtcTime end = start + step;
    // Nothing in force and nothing recorded: no row, and nothing to walk.
    if (!current && (next == facts.size() || facts[next].at >= end)) {
      continue;
    }
    Accumulator bucket;
    const bool replaced_at_start = next < facts.size() && facts[next].at == start;
    if (current && !replaced_at_start) {
      bucket.take(*current);
    }
    UtcTime position = start;
    for (; next < facts.size() && facts[next].at < end; ++next) {
      const TimedValue& fact = facts[next];
      if (current) {
        bucket.hold(*current, fact.at - position);
      }
      position = fact.at;
      current = fact.value;
      if (current) {
        bucket.take(*current);
        bucket.count_sample();
      }
    }
    if (current) {
      bucket.hold(*current, end - position);
    }
    if (auto row = bucket.finish(start)) {
      rows.push_back(*row);
    }
  }
  return rows;
}

}  // namespace statesink::history
