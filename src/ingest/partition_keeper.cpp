#include "ingest/partition_keeper.h"

#include <exception>
#include <utility>

#include "db/connection.h"
#include "db/error.h"
#include "history/message_partitions.h"
#include "util/log.h"
#include "util/time_arg.h"

namespace statesink::ingest {

PartitionKeeper::PartitionKeeper(config::DbUrl url, std::chrono::milliseconds interval)
    : url_(std::move(url)),
      interval_(interval),
      thread_([this](std::stop_token stop) { run(std::move(stop)); }) {}

PartitionKeeper::~PartitionKeeper() {
  thread_.request_stop();
  wake_.notify_all();
}

void PartitionKeeper::run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    keep_once();
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, stop, interval_, [] { return false; });
  }
}

void PartitionKeeper::keep_once() {
  std::string problem;
  try {
    db::ConnectOptions options;
    options.connect_timeout = std::chrono::seconds(5);
    options.read_timeout = std::chrono::seconds(120);
    db::Connection connection = db::Connection::open(url_, options);
    const history::SplitResult split =
        history::split_ahead(connection, utc_now(), history::read_partition_layout(connection));
    if (!split.added.empty()) {
      log::info("added " + std::to_string(split.added.size()) +
                " partition(s) of messages ahead: " + split.added.front() + " to " +
                split.added.back());
    }
  } catch (const db::DbError& e) {
    problem = e.code() == 1142 || e.code() == 1044
                  ? std::string(
                        "this account may not ALTER messages, so its partitions are "
                        "kept ahead by statesink migrate up, prune or partitions split "
                        "run as the owner account (no insert fails meanwhile)")
                  : "cannot keep the partitions of messages ahead: " + db::describe(e);
  } catch (const std::exception& e) {
    problem = std::string("cannot keep the partitions of messages ahead: ") + e.what();
  }
  if (problem != last_problem_ && !problem.empty()) {
    log::warn(problem);
  }
  last_problem_ = problem;
}

}  // namespace statesink::ingest
