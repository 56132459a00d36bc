#pragma once

// What keeping the long-term statistics current costs the database: the
// ceiling's INSERTs (the ingester's path) alone, and again while statistics
// updates run back to back beside them; then one update that catches up with
// a whole stream at once, as the five-minute timer would after an outage.

#include "harness.h"
#include "results.h"

namespace statesink::bench {

void run_statistics_phase(const Harness& harness, Results& results);

}  // namespace statesink::bench
