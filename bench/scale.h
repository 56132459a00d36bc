#pragma once

// The scale-out phase: 1, 2, ... ingesters in one share group, so the broker
// splits one stream between them, all writing into the one server. It shows
// whether more ingesters add throughput or only contend for the same rows.

#include "harness.h"
#include "results.h"

namespace statesink::bench {

// Starts from empty tables; throws unless every message was stored.
ScaleRun run_scale(Harness& harness, unsigned ingesters, std::size_t messages);

// Every count from 1 to --scale-max-ingesters, --repeat rounds taken in
// turns; the best round of each count goes into results.scale.
void run_scale_phase(Harness& harness, Results& results);

}  // namespace statesink::bench
