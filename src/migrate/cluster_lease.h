#pragma once

#include <chrono>
#include <functional>
#include <ostream>
#include <string>

#include "db/connection.h"

namespace statesink::migrate {

// The migration lock on a Galera cluster, where GET_LOCK and row locks hold
// on one node only. A committed UPDATE is cluster-wide: when two nodes claim
// the lock row at once, certification lets exactly one commit (the other gets
// error 1213 and tries again). The claim is a lease, renewed after every
// statement, so the lock of a killed migrator lapses after kTtl instead of
// dying with its connection as GET_LOCK's does.
class ClusterLease {
 public:
  static constexpr std::chrono::seconds kTtl{120};

  // Waits up to `timeout` for the lease. Throws MigrationError on timeout.
  ClusterLease(db::Connection& connection, std::chrono::seconds timeout, std::ostream& err);
  ~ClusterLease();  // gives the lease back
  ClusterLease(const ClusterLease&) = delete;
  ClusterLease& operator=(const ClusterLease&) = delete;

  // Extends the lease; throws MigrationError if another migrator took it
  // (this one stalled for longer than kTtl).
  void renew();

 private:
  bool claim();

  db::Connection& db_;
  std::string holder_;
};

// Runs a statement that two migrators may run at once on different nodes of
// a cluster (CREATE TABLE IF NOT EXISTS, INSERT IGNORE), again when the other
// node's certified first (1213).
void execute_past_conflicts(db::Connection& connection, const std::string& sql);
// Runs `action` again after a conflict (1213), as above. For the migrator's
// own bookkeeping: on Galera another node's DDL (a second `migrate up`
// creating its tables) aborts whatever this node is writing at that moment.
void retry_past_conflicts(const std::function<void()>& action);

}  // namespace statesink::migrate
