#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "process.h"

namespace statesink::testing {

// A private three-node MariaDB Galera cluster on 127.0.0.1: each node has its own data
// directory under `dir` and its own SQL, group communication (gmcast), IST and SST ports.
// Nodes are numbered 1 to 3. The admin account is the one MariaDbServer has, created on the
// bootstrapping node and replicated to the others.
//
// When the harness runs as root the servers run as the `mysql` user, which owns their
// directories: the rsync SST script drops to that user and cannot write a root-owned data
// directory. Like every Process, the nodes die with the process that started them; create
// and restart them from one long-lived thread.
class GaleraCluster {
 public:
  static constexpr int kNodes = 3;

  explicit GaleraCluster(const std::filesystem::path& dir);
  ~GaleraCluster();  // stops every node that runs
  GaleraCluster(const GaleraCluster&) = delete;
  GaleraCluster& operator=(const GaleraCluster&) = delete;

  // Bootstraps node 1 (also after a full stop), joins nodes 2 and 3, and returns once every
  // node is ready, synced and sees a cluster of three.
  void start();
  // Stops every node (SIGTERM by PID), node 3 first.
  void stop();

  void kill_node(int node);  // SIGKILL by PID
  void stop_node(int node);  // SIGTERM by PID and waits for a clean exit
  // Joins the running cluster: a node stopped cleanly catches up by IST when the donor's
  // gcache holds the gap; a killed one has no saved position and receives a full SST.
  void start_node(int node);
  bool node_running(int node);
  // The node's mariadbd, while it runs (for CPU accounting).
  std::optional<pid_t> pid(int node);

  // Cuts the node off from the others (gmcast.isolate=1) and waits until it has left the
  // primary component; rejoin_node() undoes it and waits until it is synced again.
  void isolate_node(int node);
  void rejoin_node(int node);

  // Polls until the node is ready, synced and in a primary component of `size` nodes.
  bool wait_synced(int node, int size = kNodes,
                   std::chrono::milliseconds timeout = std::chrono::seconds(120));
  // A global status variable of the node, e.g. "wsrep_cluster_size".
  std::string status(int node, const std::string& variable);

  std::uint16_t port(int node) const;
  // mysql://admin:admin-secret@127.0.0.1:PORT/DATABASE for one node.
  std::string node_url(int node, const std::string& database) const;
  // mysql://admin:admin-secret@127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3/DATABASE, the nodes
  // listed from `first` on (then wrapping), so a client prefers `first`.
  std::string url(const std::string& database, int first = 1) const;
  // Creates the database on node 1 (dropping an old one of that name) and returns the URL of
  // node 1. The other nodes apply DDL in the same order; a read there that must see it sets
  // wsrep_sync_wait.
  std::string create_database(const std::string& database);
  // Runs SQL on one node as the admin account, as MariaDbServer::sql does.
  std::string sql(int node, const std::string& statements, const std::string& database = "");

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path error_log(int node) const;

 private:
  struct Node {
    std::filesystem::path dir;
    std::uint16_t sql_port = 0;
    std::uint16_t gmcast_port = 0;
    std::uint16_t ist_port = 0;
    std::uint16_t sst_port = 0;
    bool ports_fixed = false;  // by its first successful start, so URLs stay valid
    std::unique_ptr<Process> process;
  };

  Node& node(int number);
  const Node& node(int number) const;
  void prepare_node(Node& n, bool with_data);
  void forget_stale_ddl_log(const Node& n);
  void launch(int number, bool bootstrap);
  std::string others_at_a_stalled_join(int joiner);

  std::filesystem::path dir_;
  std::array<Node, kNodes> nodes_;
  bool bootstrapped_ = false;  // node 1 has created the cluster's data once
};

}  // namespace statesink::testing
