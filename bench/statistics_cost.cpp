#include "statistics_cost.h"

#include <time.h>

#include <atomic>
#include <cmath>
#include <iostream>
#include <string>

#include "ceiling.h"
#include "database.h"
#include "format.h"
#include "history/statistics_updater.h"
#include "progress.h"
#include "timing.h"

namespace statesink::bench {
namespace {

// CPU seconds of the calling thread: the updates' own share of the
// benchmark process.
double thread_cpu_seconds() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

std::uint64_t statistics_rows(db::Connection& c) {
  return count_rows(c, "statistics_5min") + count_rows(c, "statistics_hourly");
}

// New facts are taken at once: the INSERTs commit before the next update.
history::StatisticsOptions no_settling() {
  history::StatisticsOptions options;
  options.settle = std::chrono::seconds(0);
  return options;
}

}  // namespace

void run_statistics_phase(const Harness& harness, Results& results) {
  const Settings& s = harness.settings();
  StatisticsCost cost;
  Clock::time_point t;
  for (unsigned round = 1; round <= s.repeat; ++round) {
    const std::string of = " (" + std::to_string(round) + "/" + std::to_string(s.repeat) + ")";
    t = step("statistics: the ceiling's INSERTs without statistics" + of);
    DirectRun without =
        run_direct(harness, "statistics-off", s.ceiling_rows, s.messages, Normalise::set_based);
    done(t, without.rate);
    if (!cost.without || without.rate > cost.without->rate) cost.without = without;

    t = step("statistics: the same with statistics updates back to back" + of);
    std::atomic<std::uint64_t> updates{0};
    std::atomic<double> update_seconds{0};
    std::atomic<double> update_cpu{0};
    const Background updater = [&](const std::stop_token& stop) {
      db::Connection c = harness.connect();
      const double cpu_before = thread_cpu_seconds();
      while (!stop.stop_requested()) {
        const auto began = Clock::now();
        history::update_statistics(c, utc_now(), no_settling());
        update_seconds = update_seconds + seconds_since(began);
        ++updates;
      }
      update_cpu = thread_cpu_seconds() - cpu_before;
    };
    DirectRun with = run_direct(harness, "statistics-on", s.ceiling_rows, s.messages,
                                Normalise::set_based, updater);
    done(t, with.rate);
    if (!cost.with || with.rate > cost.with->rate) {
      cost.with = with;
      cost.updates = updates;
      cost.update_seconds = update_seconds;
      cost.update_client_cpu = update_cpu;
      db::Connection c = harness.connect();
      cost.rows_during = statistics_rows(c);
    }
  }

  // The tables still hold the last run's facts and statistics; start the
  // statistics afresh and catch up with every fact in one update.
  t = step("statistics: one update catching up with " + std::to_string(s.messages) +
           " messages' facts");
  {
    db::Connection c = harness.connect();
    reset_statistics(c);
    cost.facts = count_rows(c, "facts");
    const CpuSample before = harness.cpu(-1);
    const double client_before = self_cpu_seconds();
    const auto began = Clock::now();
    history::update_statistics(c, utc_now(), no_settling());
    // The first update only notes the newest fact id; with no settling the
    // second takes every fact in.
    history::update_statistics(c, utc_now(), no_settling());
    cost.catch_up_seconds = seconds_since(began);
    cost.catch_up_mariadbd_cpu = delta(before.mariadbd, harness.cpu(-1).mariadbd);
    cost.catch_up_client_cpu = self_cpu_seconds() - client_before;
    cost.catch_up_rows = statistics_rows(c);
    const auto span = c.query_value(
        "SELECT TIMESTAMPDIFF(SECOND, MIN(happened_at), MAX(happened_at)) FROM facts");
    cost.facts_span_hours = std::stod(span.value_or("0")) / 3600.0;
  }
  std::cout << " " << number(cost.catch_up_seconds, 2) << " s, "
            << std::to_string(cost.catch_up_rows) << " statistics rows\n";
  results.statistics = cost;
}

}  // namespace statesink::bench
