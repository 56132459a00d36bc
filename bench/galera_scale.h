#pragma once

// The scale-out phase into a private three-node MariaDB Galera cluster (the
// test harness's GaleraCluster) beside the harness's broker: ingester N
// writes through node N, all in one share group, so every node takes writes
// at once and applies the others' write sets. Then, when the stream has two
// or three base topics, one ingester per base topic, each on its own node,
// without a share group: no two nodes write the same rows.

#include "harness.h"
#include "results.h"

namespace statesink::bench {

// Starts the cluster in the work folder, migrates it, runs the rounds into
// results.galera_scale and stops the cluster (by PID) when done.
void run_galera_scale_phase(Harness& harness, Results& results);

}  // namespace statesink::bench
