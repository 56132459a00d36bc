#pragma once

// The batch sweep: end to end at batch sizes 1, 100 and 1000, with the
// normalising triggers and then without them, and the database ceiling
// without them for comparison. It drops the triggers, so it runs last.

#include "harness.h"
#include "results.h"

namespace statesink::bench {

void run_sweep(Harness& harness, Results& results);

}  // namespace statesink::bench
