#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace statesink::ingest {

// Counters shared by the receiving and the writing threads; plain atomics so
// neither ever waits on the other to count.
struct Metrics {
  std::atomic<std::uint64_t> received{0};     // appended to the spool
  std::atomic<std::uint64_t> excluded{0};     // dropped by --exclude
  std::atomic<std::uint64_t> redelivered{0};  // duplicates after a crash, skipped
  std::atomic<std::uint64_t> inserted{0};     // committed into messages
  std::atomic<std::uint64_t> batches{0};
  std::atomic<std::uint64_t> dead_lettered{0};
  std::atomic<std::uint64_t> db_errors{0};
  // Transactions rolled back by a deadlock or certification conflict and retried at once.
  std::atomic<std::uint64_t> db_conflict_retries{0};
  std::atomic<std::uint64_t> mqtt_disconnects{0};
  std::atomic<std::uint64_t> last_batch_size{0};
  std::atomic<std::uint64_t> last_batch_micros{0};
  std::atomic<std::uint64_t> backlog_records{0};
  std::atomic<std::uint64_t> backlog_bytes{0};
  std::atomic<std::uint64_t> spool_syncs{0};  // disk flushes of the spool's files
  std::atomic<bool> broker_connected{false};
  std::atomic<bool> db_connected{false};
  std::atomic<bool> spool_full{false};
  // The broker keeps handing our session to another client with the same id.
  std::atomic<bool> client_id_clash{false};
  // The database holds less of this spool than was already handed over to it
  // (a restore, a failover to a lagging replica): how many messages may be missing.
  std::atomic<std::uint64_t> db_behind_messages{0};
  // The database is failing (any error, retried) right now.
  std::atomic<bool> db_outage{false};
  // Steady-clock microseconds of the last commit (0: none yet).
  std::atomic<std::int64_t> last_commit_steady_us{0};

  // Up while both connections stand and the backlog drains: empty, or a
  // commit within `stall`.
  bool healthy(std::chrono::steady_clock::time_point now, std::chrono::seconds stall) const;
  // Why healthy() is false, in words for /healthz.
  std::string unhealthy_reason(std::chrono::seconds stall) const;
  // Prometheus text exposition format 0.0.4.
  std::string prometheus() const;
};

// Turns two readings of the counters into the periodic report line.
class Reporter {
 public:
  explicit Reporter(const Metrics& metrics);
  std::string line(std::chrono::steady_clock::time_point now);

 private:
  const Metrics& metrics_;
  std::chrono::steady_clock::time_point last_time_;
  std::uint64_t last_received_;
  std::uint64_t last_inserted_;
  std::uint64_t last_errors_;
};

}  // namespace statesink::ingest
