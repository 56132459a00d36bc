#pragma once

// The whole pipeline: statesink simulate -> Mosquitto -> statesink ingest ->
// rows committed. The end-to-end, naive and batch-sweep phases are runs of
// it with different batch sizes; the backlog phase lets the broker queue the
// stream first and times only the drain.

#include <cstddef>
#include <string>

#include "harness.h"
#include "results.h"

namespace statesink::bench {

// Starts from empty tables and leaves the broker tidy for the next phase.
IngestRun run_ingest(Harness& harness, const std::string& name, std::size_t batch_size,
                     std::size_t messages, bool triggers, bool from_backlog = false);

}  // namespace statesink::bench
