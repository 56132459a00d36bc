// The test harness itself: the shared servers answer, survive restarts and crashes with
// their data, and the process helpers capture, time out and clean up as promised.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "servers.h"

namespace statesink::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

CommandResult publish_retained(const std::string& topic, const std::string& message) {
  return run_command(
      {"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(servers().mosquitto.port()), "-t",
       topic, "-m", message, "-r", "-q", "1"},
      {}, seconds(30));
}

CommandResult read_one(const std::string& topic) {
  return run_command(
      {"mosquitto_sub", "-h", "127.0.0.1", "-p", std::to_string(servers().mosquitto.port()), "-t",
       topic, "-C", "1", "-W", "5"},
      {}, seconds(30));
}

// Gone, or a zombie nobody has reaped yet: either way it no longer runs.
bool process_is_dead(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const std::size_t close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return true;
  const char state = line[close + 2];
  return state == 'Z' || state == 'X';
}

TEST(Harness, BothServersAnswer) {
  EXPECT_EQ(servers().mariadb.sql("SELECT 1"), "1\n");
  EXPECT_TRUE(servers().mariadb.running());
  EXPECT_TRUE(servers().mosquitto.running());
  EXPECT_EQ(servers().mariadb.url("x"), "mysql://admin:admin-secret@127.0.0.1:" +
                                            std::to_string(servers().mariadb.port()) + "/x");
  EXPECT_EQ(servers().mosquitto.url(),
            "mqtt://127.0.0.1:" + std::to_string(servers().mosquitto.port()));

  const CommandResult pub = publish_retained("harness/hello", "hi");
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  const CommandResult sub = read_one("harness/hello");
  ASSERT_EQ(sub.exit_code, 0) << sub.err;
  EXPECT_EQ(sub.out, "hi\n");
}

TEST(Harness, ScratchAndBinaryPaths) {
  EXPECT_TRUE(fs::is_directory(servers().scratch));
  EXPECT_TRUE(fs::is_regular_file(servers().statesink)) << servers().statesink;
}

TEST(Harness, SqlTakesUtf8AndReportsErrors) {
  const std::string url = servers().mariadb.create_database("harness_sql");
  EXPECT_THAT(url, HasSubstr("/harness_sql"));
  servers().mariadb.sql(
      "CREATE TABLE t (s VARCHAR(20)); INSERT INTO t VALUES ('K\xc3\xbc"
      "che');",
      "harness_sql");
  EXPECT_EQ(servers().mariadb.sql("SELECT s, CHAR_LENGTH(s) FROM t", "harness_sql"),
            "K\xc3\xbc"
            "che\t5\n");
  EXPECT_EQ(servers().mariadb.sql("SELECT @@character_set_database", "harness_sql"), "utf8mb4\n");
  try {
    servers().mariadb.sql("SELECT * FROM no_such_table", "harness_sql");
    ADD_FAILURE() << "an error was expected";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("no_such_table"));
  }
  // create_database() starts over.
  servers().mariadb.create_database("harness_sql");
  EXPECT_EQ(servers().mariadb.sql("SHOW TABLES", "harness_sql"), "");
}

TEST(Harness, MariaDbStopStartKeepsDataAndPort) {
  MariaDbServer& db = servers().mariadb;
  db.create_database("harness_restart");
  db.sql("CREATE TABLE t (v INT); INSERT INTO t VALUES (42);", "harness_restart");
  const std::uint16_t port = db.port();

  db.stop();
  EXPECT_FALSE(db.running());
  EXPECT_THROW(db.sql("SELECT 1"), std::runtime_error);
  db.start();

  EXPECT_TRUE(db.running());
  EXPECT_EQ(db.port(), port);
  EXPECT_EQ(db.sql("SELECT v FROM t", "harness_restart"), "42\n");
}

TEST(Harness, MariaDbRecoversAfterKill) {
  MariaDbServer& db = servers().mariadb;
  db.create_database("harness_kill");
  db.sql("CREATE TABLE t (v INT) ENGINE=InnoDB; INSERT INTO t VALUES (7);", "harness_kill");
  const std::uint16_t port = db.port();

  db.kill();
  EXPECT_FALSE(db.running());
  db.start();

  EXPECT_EQ(db.port(), port);
  EXPECT_EQ(db.sql("SELECT v FROM t", "harness_kill"), "7\n");
}

TEST(Harness, MosquittoRestartKeepsRetainedMessages) {
  MosquittoBroker& broker = servers().mosquitto;
  const CommandResult pub = publish_retained("harness/retained", "kept");
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  const std::uint16_t port = broker.port();

  broker.stop();
  EXPECT_FALSE(broker.running());
  broker.start();
  EXPECT_EQ(broker.port(), port);
  CommandResult sub = read_one("harness/retained");
  ASSERT_EQ(sub.exit_code, 0) << sub.err;
  EXPECT_EQ(sub.out, "kept\n");

  // After a crash it comes back too, with what it had saved.
  broker.kill();
  EXPECT_FALSE(broker.running());
  broker.start();
  EXPECT_EQ(broker.port(), port);
  sub = read_one("harness/retained");
  ASSERT_EQ(sub.exit_code, 0) << sub.err;
  EXPECT_EQ(sub.out, "kept\n");
}

TEST(Harness, FailedStartsReportTheServerLog) {
  MariaDbServer db(servers().scratch / "bad-mariadb",
                   MariaDbServer::Options{{"--statesink-no-such-option"}});
  try {
    db.start();
    ADD_FAILURE() << "MariaDB started with an unknown option";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("statesink-no-such-option"));
  }
  EXPECT_FALSE(db.running());

  MosquittoBroker broker(servers().scratch / "bad-mosquitto",
                         MosquittoBroker::Options{{"statesink_no_such_option true"}});
  try {
    broker.start();
    ADD_FAILURE() << "Mosquitto started with an unknown option";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("statesink_no_such_option"));
  }
  EXPECT_FALSE(broker.running());
}

TEST(Process, RunCommandCapturesOutputAndExitCode) {
  CommandResult r = run_command({"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");

  r = run_command({"sh", "-c", "kill -KILL $$"});
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);

  // Far more than a pipe holds, on both streams at once.
  r = run_command({"sh", "-c", "head -c 3000000 /dev/zero; head -c 2000000 /dev/zero >&2"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.size(), 3000000U);
  EXPECT_EQ(r.err.size(), 2000000U);
}

TEST(Process, RunCommandAppliesOptions) {
  const fs::path dir = servers().scratch / "options";
  fs::create_directories(dir);
  std::ofstream(dir / "in.txt") << "from stdin\n";
  Process::Options o;
  o.cwd = dir;
  o.stdin_file = dir / "in.txt";
  o.env["HARNESS_VALUE"] = "set";
  o.unset_env = {"HOME"};
  const CommandResult r =
      run_command({"sh", "-c", "echo \"$HARNESS_VALUE ${HOME-unset}\"; pwd; cat"}, o);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "set unset\n" + fs::canonical(dir).string() + "\nfrom stdin\n");

  // Without a stdin file the child reads /dev/null rather than the test's input.
  EXPECT_EQ(run_command({"cat"}).out, "");
}

TEST(Process, RunCommandTimesOut) {
  // -1 says the timeout ended it: sleep itself would have exited with 0.
  const CommandResult r = run_command({"sleep", "30"}, {}, milliseconds(200));
  EXPECT_EQ(r.exit_code, -1);
}

TEST(Process, UnknownProgramThrows) {
  EXPECT_THROW(Process({"statesink-no-such-program"}), std::runtime_error);
  EXPECT_THROW(Process({"/nonexistent/statesink-no-such-program"}), std::system_error);
}

TEST(Process, WaitReportsExitCodeOrTimeout) {
  Process quick({"sh", "-c", "exit 7"});
  EXPECT_EQ(quick.wait(seconds(10)), 7);
  EXPECT_FALSE(quick.running());
  EXPECT_EQ(quick.stop(), 7);  // already gone: just the status

  Process slow({"sleep", "600"});
  EXPECT_TRUE(slow.running());
  EXPECT_EQ(slow.wait(milliseconds(50)), std::nullopt);
  EXPECT_EQ(slow.stop(), 128 + SIGTERM);
  EXPECT_FALSE(slow.running());
}

TEST(Process, StopKillsAProcessIgnoringSigterm) {
  const fs::path out = servers().scratch / "ignores-term.out";
  Process::Options o;
  o.stdout_file = out;
  // The ignored disposition survives exec, so sleep itself ignores SIGTERM.
  Process stubborn({"sh", "-c", "trap '' TERM; echo ready; exec sleep 600"}, o);
  ASSERT_TRUE(wait_until([&] { return slurp(out) == "ready\n"; }, seconds(20)));

  // The status says SIGKILL ended it, so SIGTERM alone did not; and it is gone.
  EXPECT_EQ(stubborn.stop(milliseconds(300)), 128 + SIGKILL);
  EXPECT_FALSE(stubborn.running());
  EXPECT_TRUE(process_is_dead(stubborn.pid()));
}

TEST(Process, MovedProcessIsOwnedOnce) {
  Process a({"sleep", "600"});
  const pid_t pid = a.pid();
  Process b(std::move(a));
  EXPECT_EQ(b.pid(), pid);
  EXPECT_TRUE(b.running());
  Process c({"sleep", "600"});
  const pid_t replaced = c.pid();
  c = std::move(b);  // stops what c had
  EXPECT_TRUE(process_is_dead(replaced));
  EXPECT_EQ(c.pid(), pid);
  EXPECT_EQ(c.stop(), 128 + SIGTERM);
}

// The child of a test process that dies without cleaning up is killed by the kernel.
TEST(ProcessDeathTest, ChildDiesWithItsParent) {
  const fs::path pid_file = servers().scratch / "orphan.pid";
  EXPECT_EXIT(
      {
        Process orphan({"sleep", "600"});
        std::ofstream(pid_file) << orphan.pid() << "\n";
        std::_Exit(0);  // no destructors: only PR_SET_PDEATHSIG can stop the child
      },
      ::testing::ExitedWithCode(0), "");
  pid_t pid = 0;
  std::ifstream(pid_file) >> pid;
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(wait_until([&] { return process_is_dead(pid); }, seconds(20)));
}

TEST(Process, WaitUntil) {
  // A condition that never holds is asked again after the last sleep.
  int never = 0;
  EXPECT_FALSE(wait_until([&] { return ++never < 0; }, milliseconds(100), milliseconds(20)));
  EXPECT_GE(never, 2);

  int calls = 0;
  EXPECT_TRUE(wait_until([&] { return ++calls == 3; }, seconds(10), milliseconds(1)));
  EXPECT_EQ(calls, 3);
}

TEST(Process, TempDirAndFreePort) {
  fs::path kept;
  {
    const TempDir dir("statesink-harness");
    kept = dir.path();
    EXPECT_TRUE(fs::is_directory(kept));
    std::ofstream(kept / "f") << "x";
    fs::create_directories(kept / "sub" / "deeper");
  }
  EXPECT_FALSE(fs::exists(kept));

  const std::uint16_t port = free_loopback_port();
  EXPECT_GT(port, 0);
  EXPECT_NE(port, servers().mariadb.port());
  EXPECT_NE(port, servers().mosquitto.port());
}

}  // namespace
}  // namespace statesink::testing
