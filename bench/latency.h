#pragma once

// Latency, publish -> committed, at a fixed moderate rate: how long a state
// change takes to become a row, with the ingester's batching in the way.

#include "harness.h"
#include "results.h"

namespace statesink::bench {

// Starts from empty tables and leaves the broker tidy for the next phase.
LatencyRun run_latency(Harness& harness);

}  // namespace statesink::bench
