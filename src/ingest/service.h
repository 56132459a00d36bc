#pragma once

#include <chrono>
#include <string>

#include "ingest/committer.h"
#include "ingest/receiver.h"
#include "spool/options.h"

namespace statesink::ingest {

struct ServiceOptions {
  config::DbUrl db;
  ReceiverOptions receiver;
  CommitterOptions committer;
  spool::SpoolOptions spool;
  std::chrono::milliseconds report_interval{10'000};
  std::string metrics_address;  // empty: no HTTP endpoint
  // How long SIGTERM waits for the database to take what is held; the rest
  // stays in the spool for the next start.
  std::chrono::milliseconds shutdown_timeout{30'000};
};

// `statesink ingest`: runs until SIGINT or SIGTERM, then stops reading,
// commits what it holds and returns 0. Throws on errors that retrying cannot
// fix (spool directory unusable, no ingest_progress table, metrics port taken),
// also when one of its threads fails; by then both threads have ended, or the
// shutdown timeout (counted from the signal or the failure) has passed.
int run_service(const ServiceOptions& options);

}  // namespace statesink::ingest
