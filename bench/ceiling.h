#pragma once

// The database's side alone: the simulator's messages inserted straight into
// `messages`, with no broker and no ingester. With multi-row INSERTs this is
// the ceiling any ingester can reach; with one row per statement, the
// reference for the naive design.

#include <cstddef>
#include <functional>
#include <stop_token>
#include <string>

#include "harness.h"
#include "results.h"

namespace statesink::bench {

// How each statement's rows are normalised.
enum class Normalise {
  per_row_trigger,  // autocommit INSERTs, as any client sends them
  set_based,        // the ingester's transaction: INSERT, CALL normalise_batch(), COMMIT
};

// Work that runs beside the INSERTs on a thread of its own, from the moment
// the tables are empty until the last INSERT is done (then asked to stop).
using Background = std::function<void(std::stop_token)>;

// Starts from empty tables; throws unless exactly `messages` rows were stored.
DirectRun run_direct(const Harness& harness, const std::string& name,
                     std::size_t rows_per_statement, std::size_t messages,
                     Normalise normalise = Normalise::per_row_trigger,
                     const Background& background = {});

}  // namespace statesink::bench
