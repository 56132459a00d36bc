#include "sweep.h"

#include <cstddef>
#include <optional>
#include <string>

#include "ceiling.h"
#include "database.h"
#include "end_to_end.h"
#include "progress.h"

namespace statesink::bench {

void run_sweep(Harness& harness, Results& results) {
  const Settings& s = harness.settings();
  Clock::time_point t;
  for (const bool triggers : {true, false}) {
    if (!triggers) {
      drop_triggers(harness.db_url());
      t = step("ceiling without triggers: multi-row INSERTs of " + std::to_string(s.messages) +
               " messages");
      results.ceiling_without_triggers =
          run_direct(harness, "ceiling-without-triggers", s.ceiling_rows, s.messages);
      done(t, results.ceiling_without_triggers->rate);
    }
    for (const std::size_t batch : {std::size_t{1}, std::size_t{100}, std::size_t{1000}}) {
      const std::size_t n = batch == 1 ? s.sweep_single_messages : s.sweep_messages;
      const std::string name = std::string("sweep-") + (triggers ? "with" : "without") +
                               "-triggers-batch-" + std::to_string(batch);
      std::optional<IngestRun> best;
      for (unsigned round = 1; round <= s.repeat; ++round) {
        t = step("batch sweep: batch size " + std::to_string(batch) + ", " +
                 (triggers ? "with" : "without") + " triggers, " + std::to_string(n) +
                 " messages (" + std::to_string(round) + "/" + std::to_string(s.repeat) + ")");
        IngestRun r = run_ingest(harness, name, batch, n, triggers);
        done(t, r.rate);
        if (!best || r.rate > best->rate) best = r;
      }
      results.sweep.push_back(*best);
    }
  }
}

}  // namespace statesink::bench
