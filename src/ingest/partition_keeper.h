#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "config/url.h"

namespace statesink::ingest {

// Keeps the partitions of `messages` ahead of time while `statesink ingest`
// runs: at start and then every `interval`, on a connection of its own so
// that the committer never waits for it. A failure is logged, once until it
// changes, and never stops ingestion: rows dated past the last partition go
// to the catch-all partition meanwhile. The least-privilege ingest account
// may not ALTER messages; then `migrate up`, `prune` or `partitions split`,
// run as the owner account, keep the partitions ahead instead.
class PartitionKeeper {
 public:
  PartitionKeeper(config::DbUrl url, std::chrono::milliseconds interval);
  ~PartitionKeeper();  // stops the thread; waits for a split under way
  PartitionKeeper(const PartitionKeeper&) = delete;
  PartitionKeeper& operator=(const PartitionKeeper&) = delete;

 private:
  void run(std::stop_token stop);
  void keep_once();

  config::DbUrl url_;
  std::chrono::milliseconds interval_;
  std::string last_problem_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::jthread thread_;  // last: starts once the members above exist
};

}  // namespace statesink::ingest
