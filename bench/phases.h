#pragma once

// The order of the phases, with a progress line for each run.

#include "harness.h"
#include "results.h"

namespace statesink::bench {

// Runs every phase the settings ask for; the harness has its traffic.
Results run_phases(Harness& harness);

}  // namespace statesink::bench
