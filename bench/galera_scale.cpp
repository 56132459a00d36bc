#include "galera_scale.h"

#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/url.h"
#include "format.h"
#include "galera_cluster.h"
#include "proc_stats.h"
#include "progress.h"
#include "scale.h"
#include "timing.h"

namespace statesink::bench {
namespace {

using testing::GaleraCluster;

constexpr const char* kDatabase = "statesink_bench";

std::uint64_t counter(GaleraCluster& cluster, int node, const std::string& name) {
  const std::string value = cluster.status(node, name);
  return value.empty() ? 0 : std::stoull(value);
}

ScaleTarget galera_target(GaleraCluster& cluster) {
  ScaleTarget t;
  t.name = "galera";
  t.db = config::parse_db_url(cluster.node_url(1, kDatabase));
  // Each URL names every node, its own first: what a deployment gives each
  // host's ingester, so it prefers its own node and moves on when it is lost.
  t.ingest_db = [&cluster](unsigned index) {
    return cluster.url(kDatabase, static_cast<int>(index % GaleraCluster::kNodes) + 1);
  };
  t.server_cpu = [&cluster] {
    std::vector<std::optional<double>> cpu;
    for (int node = 1; node <= GaleraCluster::kNodes; ++node) {
      const auto pid = cluster.pid(node);
      cpu.push_back(pid ? cpu_seconds(*pid) : std::nullopt);
    }
    return cpu;
  };
  t.counters = [&cluster] {
    ScaleTarget::Counters c;
    for (int node = 1; node <= GaleraCluster::kNodes; ++node) {
      c.cert_failures += counter(cluster, node, "wsrep_local_cert_failures");
      c.bf_aborts += counter(cluster, node, "wsrep_local_bf_aborts");
      c.flow_control_paused_seconds +=
          static_cast<double>(counter(cluster, node, "wsrep_flow_control_paused_ns")) / 1e9;
    }
    return c;
  };
  return t;
}

}  // namespace

void run_galera_scale_phase(Harness& harness, Results& results) {
  const Settings& s = harness.settings();
  Clock::time_point t = step("galera: starting a three-node cluster and migrating it");
  GaleraCluster cluster(s.work / "galera");
  cluster.start();
  cluster.create_database(kDatabase);
  testing::Process::Options o;
  o.cwd = s.work;  // where no stray .env changes its settings
  o.unset_env = {"STATESINK_DB"};
  const testing::CommandResult migrated = testing::run_command(
      {s.statesink.string(), "migrate", "up", "--db", cluster.node_url(1, kDatabase)}, o);
  if (migrated.exit_code != 0) {
    throw std::runtime_error("migrating the Galera cluster failed:\n" + migrated.out +
                             migrated.err);
  }
  std::cout << " (" << number(seconds_since(t), 1) << " s)\n";
  results.galera_scale = run_scale_rounds(harness, galera_target(cluster));
  // The same stream with each installation written through a node of its
  // own: what the share group's runs cost in conflicts, and what is left
  // when no two nodes write the same rows.
  ScaleTarget split = galera_target(cluster);
  split.base_topics = base_topics_of(harness);
  if (split.base_topics.size() > static_cast<std::size_t>(GaleraCluster::kNodes)) {
    std::cout << "  (no runs with one base topic per node: the stream has "
              << split.base_topics.size() << " base topics for " << GaleraCluster::kNodes
              << " nodes)\n";
  } else if (split.base_topics.size() > 1) {
    for (ScaleRun& r : run_scale_rounds(harness, split)) results.galera_scale.push_back(r);
  }
  cluster.stop();
}

}  // namespace statesink::bench
