// statesink against a three-node MariaDB Galera cluster: the schema, the trigger and ingestion
// replicate, and several writers on different nodes end with identical tables everywhere.
// The cluster starts once for this binary, beside the usual broker (and single server).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "galera_cluster.h"
#include "ingest_fixture.h"

namespace statesink::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;
using ::testing::HasSubstr;

class GaleraEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    try {
      dir_ = std::make_unique<TempDir>("statesink-galera");
      cluster_ = std::make_unique<GaleraCluster>(dir_->path());
      const auto started = std::chrono::steady_clock::now();
      cluster_->start();
      const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - started);
      std::cout << "[ galera   ] three synced nodes after " << took.count() << " ms\n";
    } catch (const std::exception& e) {
      cluster_.reset();
      FAIL() << "cannot start the Galera cluster: " << e.what();
    }
  }

  void TearDown() override {
    const bool failed = ::testing::UnitTest::GetInstance()->failed_test_count() > 0 ||
                        ::testing::UnitTest::GetInstance()->ad_hoc_test_result().Failed();
    cluster_.reset();
    if (!dir_) return;
    if (failed) {
      for (int i = 1; i <= GaleraCluster::kNodes; ++i) {
        const fs::path log = dir_->path() / ("node" + std::to_string(i)) / "mariadb.err";
        std::cerr << "--- last 40 lines of node " << i << "'s mariadb.err ---\n"
                  << tail_file(log, 40) << "--- end ---\n";
      }
    }
    const char* keep = std::getenv("STATESINK_KEEP_TEST_DIR");
    if (keep != nullptr && std::string(keep) == "1") {
      dir_->keep();
      std::cerr << "Galera cluster's directory kept: " << dir_->path().string() << "\n";
    }
    dir_.reset();
  }

  GaleraCluster* cluster() { return cluster_.get(); }

 private:
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<GaleraCluster> cluster_;
};

// Registered before main() runs, so the runner sets it up with (and tears it down after) the
// broker of servers_main.cpp; it owns and deletes it.
GaleraEnvironment* const environment =
    static_cast<GaleraEnvironment*>(::testing::AddGlobalTestEnvironment(new GaleraEnvironment));

constexpr int kNodes = GaleraCluster::kNodes;

class GaleraTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (environment->cluster() == nullptr) GTEST_FAIL() << "the Galera cluster is not running";
    name_ = std::string("g_") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name_) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (std::isalnum(static_cast<unsigned char>(c)) == 0) c = '_';
    }
    name_ = name_.substr(0, 60);
    cluster().create_database(name_);
    work_ = servers().scratch / name_;
    fs::remove_all(work_);
    fs::create_directories(work_);
  }

  static GaleraCluster& cluster() { return *environment->cluster(); }

  std::string url(int node) const { return cluster().node_url(node, name_); }

  // A causal read: the node first applies every write the cluster committed before it, so
  // what one node committed is visible here without polling.
  std::string sql(int node, const std::string& statements) {
    return cluster().sql(node, "SET SESSION wsrep_sync_wait = 15;\n" + statements, name_);
  }

  CommandResult statesink(std::vector<std::string> args) {
    args.insert(args.begin(), servers().statesink.string());
    Process::Options o;
    o.cwd = work_;
    o.unset_env = {"STATESINK_DB", "STATESINK_MQTT", "STATESINK_TOPICS", "STATESINK_CLIENT_ID"};
    return run_command(args, o);
  }

  void migrate(int node) {
    const CommandResult up = statesink({"migrate", "up", "--db", url(node)});
    ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  }

  // What the migrations built, in a form that does not depend on when or where it was built:
  // table definitions without their AUTO_INCREMENT counters (each node hands out its own
  // interleaved ids), triggers, views and routines.
  std::string schema(int node) {
    std::string out;
    const std::string tables =
        sql(node,
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME");
    std::istringstream names(tables);
    std::string table;
    const std::regex counter(" AUTO_INCREMENT=[0-9]+");
    while (std::getline(names, table)) {
      out += std::regex_replace(sql(node, "SHOW CREATE TABLE `" + table + "`"), counter, "");
    }
    out += sql(node,
               "SELECT TRIGGER_NAME, EVENT_MANIPULATION, EVENT_OBJECT_TABLE, ACTION_TIMING, "
               "ACTION_STATEMENT FROM information_schema.TRIGGERS "
               "WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY TRIGGER_NAME");
    out += sql(node,
               "SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS "
               "WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME");
    out += sql(node,
               "SELECT ROUTINE_NAME, ROUTINE_TYPE, ROUTINE_DEFINITION FROM "
               "information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() "
               "ORDER BY ROUTINE_NAME");
    out +=
        sql(node, "SELECT version, name, checksum, state FROM schema_migrations ORDER BY version");
    return out;
  }

  std::uint64_t count(int node, const std::string& table = "messages") {
    return std::stoull(sql(node, "SELECT COUNT(*) FROM " + table));
  }

  std::string checksums(int node) {
    return sql(node, "CHECKSUM TABLE messages, facts, states, entities, current_states");
  }

  // Every number 0..n-1 exactly once in the payloads "n=<i>", on every node, and the same
  // normalised tables everywhere.
  void expect_same_everywhere(std::uint64_t n) {
    const std::string expected_counts = std::to_string(n) + "\t" + std::to_string(n) + "\n";
    const std::string expected_range = "0\t" + std::to_string(n - 1) + "\n";
    const std::string reference = checksums(1);
    for (int node = 1; node <= kNodes; ++node) {
      SCOPED_TRACE("node " + std::to_string(node));
      EXPECT_EQ(sql(node, "SELECT COUNT(*), COUNT(DISTINCT payload) FROM messages"),
                expected_counts);
      EXPECT_EQ(sql(node,
                    "SELECT MIN(CAST(SUBSTRING(payload, 3) AS UNSIGNED)), "
                    "MAX(CAST(SUBSTRING(payload, 3) AS UNSIGNED)) FROM messages"),
                expected_range);
      // Every message is a new value of its state, so each one is a fact.
      EXPECT_EQ(count(node, "facts"), n);
      EXPECT_EQ(checksums(node), reference);
    }
  }

  struct Ingester {
    std::unique_ptr<Process> process;
    fs::path log;
    std::uint16_t metrics_port = 0;
  };

  // `node` 0: the URL naming all three nodes.
  Ingester start_ingester(const std::string& tag, int node, std::vector<std::string> extra = {}) {
    Ingester ingester;
    ingester.metrics_port = free_loopback_port();
    ingester.log = work_ / ("ingest-" + tag + ".log");
    std::vector<std::string> args = {servers().statesink.string(),
                                     "ingest",
                                     "--db",
                                     node == 0 ? cluster().url(name_) : url(node),
                                     "--mqtt",
                                     servers().mosquitto.url(),
                                     "--topic",
                                     prefix() + "/#",
                                     "--client-id",
                                     name_ + "-" + tag,
                                     "--spool-dir",
                                     (work_ / ("spool-" + tag)).string(),
                                     "--report-interval",
                                     "1s",
                                     "--metrics-addr",
                                     "127.0.0.1:" + std::to_string(ingester.metrics_port)};
    args.insert(args.end(), extra.begin(), extra.end());
    Process::Options o;
    o.cwd = work_;
    o.stdout_file = ingester.log;
    o.stderr_file = ingester.log;
    o.unset_env = {"STATESINK_DB", "STATESINK_MQTT", "STATESINK_TOPICS", "STATESINK_CLIENT_ID"};
    ingester.process = std::make_unique<Process>(args, o);
    const bool subscribed =
        wait_until([&] { return ingester_subscribed(read_text(ingester.log)); }, seconds(30));
    EXPECT_TRUE(subscribed) << read_text(ingester.log);
    return ingester;
  }

  // The value of one counter on the ingester's /metrics, or "?" when it cannot be read.
  static std::string metric(const Ingester& ingester, const std::string& name) {
    httplib::Client http("127.0.0.1", ingester.metrics_port);
    const auto response = http.Get("/metrics");
    if (!response || response->status != 200) return "?";
    const std::regex line("(^|\n)" + name + " ([0-9.e+]+)\n");
    std::smatch m;
    return std::regex_search(response->body, m, line) ? m[2].str() : "?";
  }

  // SIGTERM: it commits what it holds and exits 0.
  static void stop_ingester(Ingester& ingester) {
    const int code = ingester.process->stop(seconds(60));
    EXPECT_EQ(code, 0) << read_text(ingester.log);
  }

  std::string prefix() const { return "gal/" + name_; }

  // A node that has just rejoined can report Synced before it has applied
  // everything the state transfer brought (seen once on a loaded machine:
  // the table was not there yet): the query's answer once it is `expected`,
  // or the last answer (or error) when the deadline passes.
  std::string rows_once_applied(int node, const std::string& query, const std::string& expected) {
    std::string last;
    wait_until(
        [&] {
          try {
            last = sql(node, query);
          } catch (const std::exception& e) {
            last = e.what();
          }
          return last == expected;
        },
        seconds(60), std::chrono::milliseconds(200));
    return last;
  }

  void ingest_through_a_node_failure(const std::function<void()>& fail,
                                     const std::function<void()>& heal);

  std::string name_;
  fs::path work_;
};

TEST_F(GaleraTest, MigrateUpOnOneNodeBuildsTheSchemaOnEveryNode) {
  migrate(1);
  const std::string reference = schema(1);
  EXPECT_THAT(reference, HasSubstr("CREATE TABLE `messages`"));
  EXPECT_THAT(reference, HasSubstr("messages_normalise\tINSERT\tmessages\tAFTER"));
  EXPECT_THAT(reference, HasSubstr("rejected_messages\t"));
  for (int node = 2; node <= kNodes; ++node) {
    EXPECT_EQ(schema(node), reference) << "node " << node;
  }
}

TEST_F(GaleraTest, PlainInsertOnOneNodeIsNormalisedAndVisibleOnAnother) {
  migrate(1);
  sql(2,
      "INSERT INTO messages (topic, payload) VALUES "
      "('galera/sensor/kitchen/state', '21.5'), "
      "('galera/sensor/kitchen/unit_of_measurement', '\"\\\\u00b0C\"')");
  const std::string facts =
      "SELECT entities.label, states.label, facts.fact, facts.num_value FROM facts "
      "JOIN states ON facts.state_id = states.id "
      "JOIN entities ON states.entity_id = entities.id "
      "JOIN base_topics ON entities.base_topic_id = base_topics.id "
      "WHERE base_topics.label = 'galera' ORDER BY states.label";
  const std::string expected =
      "sensor.kitchen\tstate\t21.5\t21.5\n"
      "sensor.kitchen\tunit_of_measurement\t°C\tNULL\n";
  EXPECT_EQ(sql(3, facts), expected);
  EXPECT_EQ(count(3), 2U);
  EXPECT_EQ(count(3, "current_states"), 2U);
  EXPECT_EQ(checksums(3), checksums(2));
}

TEST_F(GaleraTest, IngestIntoOneNodeReachesEveryNodeExactlyOnce) {
  migrate(1);
  constexpr std::uint64_t kMessages = 2000;
  Ingester ingester = start_ingester("a", 1);
  Stream stream(prefix(), 0, kMessages, name_ + "-pub");
  ASSERT_TRUE(stream.finish()) << "the broker did not acknowledge every message";
  const bool stored = wait_until([&] { return count(1) >= kMessages; }, seconds(120),
                                 std::chrono::milliseconds(200));
  EXPECT_TRUE(stored) << count(1) << " of " << kMessages << "\n" << read_text(ingester.log);
  stop_ingester(ingester);
  expect_same_everywhere(kMessages);
}

TEST_F(GaleraTest, TwoIngestersInOneShareGroupOnTwoNodes) {
  migrate(1);
  constexpr std::uint64_t kMessages = 3000;
  std::vector<Ingester> ingesters;
  ingesters.push_back(start_ingester("a", 1, {"--share-group", "g"}));
  ingesters.push_back(start_ingester("b", 2, {"--share-group", "g"}));
  Stream stream(prefix(), 0, kMessages, name_ + "-pub");
  ASSERT_TRUE(stream.finish()) << "the broker did not acknowledge every message";
  const bool stored = wait_until([&] { return count(1) >= kMessages; }, seconds(120),
                                 std::chrono::milliseconds(200));
  EXPECT_TRUE(stored) << count(1) << " of " << kMessages;
  for (std::size_t i = 0; i < ingesters.size(); ++i) {
    const std::string inserted = metric(ingesters[i], "statesink_messages_inserted_total");
    // Reported rather than asserted: how often certification conflicts hit depends on timing.
    const std::string retries = metric(ingesters[i], "statesink_db_conflict_retries_total");
    std::cout << "[ galera   ] ingester on node " << i + 1 << ": " << inserted
              << " messages inserted, " << retries << " conflict retries\n";
    RecordProperty("conflict_retries_node" + std::to_string(i + 1), retries);
    // The broker split the stream, so both nodes took writes at the same time.
    EXPECT_NE(inserted, "0") << "ingester on node " << i + 1;
  }
  for (Ingester& ingester : ingesters) stop_ingester(ingester);
  expect_same_everywhere(kMessages);
}

// Two operators (or two deployments) upgrading at once through different nodes: the
// migration lock must hold across the cluster, so one waits and then finds nothing to do.
TEST_F(GaleraTest, ConcurrentMigrateUpOnTwoNodes) {
  struct Run {
    std::unique_ptr<Process> process;
    fs::path log;
    int code = -1;
  };
  std::vector<Run> runs(2);
  for (int i = 0; i < 2; ++i) {
    Run& run = runs[static_cast<std::size_t>(i)];
    run.log = work_ / ("migrate-node" + std::to_string(i + 1) + ".log");
    Process::Options o;
    o.cwd = work_;
    o.stdout_file = run.log;
    o.stderr_file = run.log;
    o.unset_env = {"STATESINK_DB"};
    run.process = std::make_unique<Process>(
        std::vector<std::string>{servers().statesink.string(), "migrate", "up", "--db", url(i + 1)},
        o);
  }
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto code = runs[i].process->wait(seconds(300));
    runs[i].code = code.value_or(-1);
    std::cout << "[ galera   ] migrate up on node " << i + 1 << " exited " << runs[i].code << ":\n"
              << read_text(runs[i].log);
  }
  for (std::size_t i = 0; i < runs.size(); ++i) {
    EXPECT_EQ(runs[i].code, 0) << "node " << i + 1 << ": " << read_text(runs[i].log);
  }
  // The one that waited for the lock found the other's work done.
  EXPECT_TRUE(read_text(runs[0].log).find("nothing to apply") != std::string::npos ||
              read_text(runs[1].log).find("nothing to apply") != std::string::npos);
  std::size_t migrations = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(STATESINK_SOURCE_DIR) / "migrations")) {
    if (entry.path().string().ends_with(".up.sql")) ++migrations;
  }
  for (int node = 1; node <= kNodes; ++node) {
    EXPECT_EQ(sql(node, "SELECT COUNT(*) FROM schema_migrations WHERE state = 'applied'"),
              std::to_string(migrations) + "\n")
        << "node " << node;
  }
  const CommandResult status = statesink({"migrate", "status", "--db", url(3)});
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  const CommandResult again = statesink({"migrate", "up", "--db", url(3)});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("nothing to apply"));
}

// Ingests through the URL naming every node; once a quarter is in, `fail`
// takes away the node in use (node 1, the first of the URL) and, after the
// stream is stored, `heal` brings it back. Nothing may be lost, stored twice
// or set aside, and every node must end with the same rows.
void GaleraTest::ingest_through_a_node_failure(const std::function<void()>& fail,
                                               const std::function<void()>& heal) {
  migrate(1);
  constexpr std::uint64_t kMessages = 6000;
  Ingester ingester = start_ingester("a", 0);
  Stream stream(prefix(), 0, kMessages, name_ + "-pub");
  ASSERT_TRUE(wait_until([&] { return count(2) >= kMessages / 4; }, seconds(120),
                         std::chrono::milliseconds(100)))
      << read_text(ingester.log);
  fail();
  ASSERT_TRUE(stream.finish()) << "the broker did not acknowledge every message";
  const bool stored = wait_until([&] { return count(2) >= kMessages; }, seconds(180),
                                 std::chrono::milliseconds(200));
  EXPECT_TRUE(stored) << count(2) << " of " << kMessages << "\n" << read_text(ingester.log);
  stop_ingester(ingester);
  EXPECT_FALSE(fs::exists(work_ / "spool-a" / "dead-letter.jsonl")) << read_text(ingester.log);
  heal();
  ASSERT_TRUE(cluster().wait_synced(1, kNodes, seconds(120)));
  expect_same_everywhere(kMessages);
}

// The ingester moves on to the next node when its node dies mid-stream (the
// progress row is read causally and moved only by compare-and-set); the node
// catches up by IST.
TEST_F(GaleraTest, IngesterMovesOnWhenItsNodeIsKilledAndTheNodeCatchesUp) {
  ingest_through_a_node_failure([] { cluster().kill_node(1); }, [] { cluster().start_node(1); });
}

// A node cut off from the others stops serving; the ingester leaves it for
// the next node and sets nothing aside, and the node rejoins with the same rows.
TEST_F(GaleraTest, IngesterLeavesAnIsolatedNodeAndSetsNothingAside) {
  ingest_through_a_node_failure([] { cluster().isolate_node(1); },
                                [] { cluster().rejoin_node(1); });
}

// The harness's own promises, last because a full restart takes the longest: a node killed
// right after a DDL (often while it still applies it) rejoins by a full state transfer with
// the table, an isolated one leaves the primary component and comes back, and the cluster
// restarts from its data after a full stop (every node then says safe_to_bootstrap: 0).
// Without the harness's forget_stale_ddl_log the killed node could come back without the
// table; the next write set on it then voted that node out, and node 2 never again saw a
// cluster of three.
TEST_F(GaleraTest, ClusterSurvivesNodeLossIsolationAndFullRestart) {
  GaleraCluster& c = cluster();
  sql(1, "CREATE TABLE t (id INT PRIMARY KEY, note VARCHAR(20)); INSERT INTO t VALUES (1, 'a')");

  c.kill_node(3);
  EXPECT_FALSE(c.node_running(3));
  EXPECT_TRUE(c.wait_synced(1, 2, seconds(60))) << "node 1 still counts the killed node";
  sql(1, "INSERT INTO t VALUES (2, 'while 3 was down')");
  const std::uintmax_t log_before = fs::file_size(c.error_log(3));
  c.start_node(3);
  EXPECT_EQ(rows_once_applied(3, "SELECT id FROM t ORDER BY id", "1\n2\n"), "1\n2\n");
  // Killed, it had no saved position to resume from.
  EXPECT_THAT(read_text(c.error_log(3)).substr(log_before), HasSubstr("SST received"));

  c.isolate_node(2);
  EXPECT_NE(c.status(2, "wsrep_cluster_status"), "Primary");
  // A node outside the primary component refuses reads and writes of data.
  EXPECT_THROW(c.sql(2, "SELECT COUNT(*) FROM t", name_), std::runtime_error);
  sql(1, "INSERT INTO t VALUES (3, 'while 2 was isolated')");
  c.rejoin_node(2);
  EXPECT_EQ(rows_once_applied(2, "SELECT id FROM t ORDER BY id", "1\n2\n3\n"), "1\n2\n3\n");

  c.stop();
  for (int node = 1; node <= kNodes; ++node) EXPECT_FALSE(c.node_running(node));
  c.start();
  for (int node = 1; node <= kNodes; ++node) {
    EXPECT_EQ(sql(node, "SELECT id FROM t ORDER BY id"), "1\n2\n3\n") << "node " << node;
    EXPECT_EQ(c.status(node, "wsrep_cluster_size"), "3") << "node " << node;
  }
}

}  // namespace
}  // namespace statesink::testing
