// The migration CLI against a real MariaDB: statesink is run as a process,
// the way an operator runs it, and the database is inspected afterwards.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <sstream>

#include "migrate/sha256.h"
#include "process.h"
#include "servers.h"

namespace statesink::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class MigrateCli : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    // Database names are limited to 64 characters.
    database_ = (std::string("m_") + info->name()).substr(0, 64);
    for (char& c : database_) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    url_ = servers().mariadb.create_database(database_);
    work_ = servers().scratch / database_;
    std::filesystem::remove_all(work_);
    std::filesystem::create_directories(work_ / "migrations");
  }

  CommandResult statesink(std::vector<std::string> args, Process::Options options = {}) {
    args.insert(args.begin(), servers().statesink.string());
    if (!options.cwd) {
      options.cwd = work_;
    }
    options.unset_env.push_back("STATESINK_DB");
    options.unset_env.push_back("STATESINK_DB_PASSWORD");
    return run_command(args, options);
  }

  // statesink migrate <args> --db <this test's database> --dir <its folder>
  CommandResult migrate(std::vector<std::string> args) {
    args.insert(args.begin(), "migrate");
    args.insert(args.end(), {"--db", url_, "--dir", (work_ / "migrations").string()});
    return statesink(args);
  }

  void write(const std::string& file, const std::string& text) {
    std::ofstream(work_ / "migrations" / file, std::ios::binary) << text;
  }

  std::string sql(const std::string& statements) {
    return servers().mariadb.sql(statements, database_);
  }

  std::string tables() {
    return sql(
        "SELECT COALESCE(GROUP_CONCAT(table_name ORDER BY table_name), '') "
        "FROM information_schema.tables WHERE table_schema = DATABASE()");
  }

  std::string database_;
  std::string url_;
  std::filesystem::path work_;
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_F(MigrateCli, BuiltInMigrationsApplyFromEmptyDatabase) {
  // No --dir: the migrations compiled into the binary, from a folder without any.
  CommandResult r = statesink({"migrate", "up", "--db", url_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("applied 0001_messages"));
  EXPECT_THAT(tables(), HasSubstr("messages"));
  EXPECT_THAT(tables(), HasSubstr("schema_migrations"));

  const std::string file = read_file(std::filesystem::path(STATESINK_SOURCE_DIR) / "migrations" /
                                     "0001_messages.up.sql");
  EXPECT_EQ(sql("SELECT checksum, state FROM schema_migrations WHERE version = 1"),
            migrate::sha256_hex(file) + "\tapplied\n");
  EXPECT_THAT(sql("SELECT applied_by FROM schema_migrations"), HasSubstr("admin@"));

  // The table takes a plain INSERT from any client, received_at defaulting to UTC now.
  sql("INSERT INTO messages (topic, payload) VALUES ('homeassistant/sensor/t/state', '21.5')");
  EXPECT_EQ(sql("SELECT topic, payload, qos, retained, "
                "ABS(TIMESTAMPDIFF(SECOND, received_at, UTC_TIMESTAMP())) < 60 FROM messages"),
            "homeassistant/sensor/t/state\t21.5\t0\t0\t1\n");
}

TEST_F(MigrateCli, UpAgainIsANoOp) {
  write("0001_a.up.sql", "CREATE TABLE a (id INT PRIMARY KEY);\n");
  ASSERT_EQ(migrate({"up"}).exit_code, 0);
  const std::string before = sql("SELECT applied_at FROM schema_migrations");
  CommandResult again = migrate({"up"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("nothing to apply"));
  EXPECT_EQ(sql("SELECT applied_at FROM schema_migrations"), before);
  EXPECT_EQ(sql("SELECT COUNT(*) FROM schema_migrations"), "1\n");
}

TEST_F(MigrateCli, DownAndUpRoundTrip) {
  write("0001_a.up.sql", "CREATE TABLE a (id INT PRIMARY KEY);");
  write("0001_a.down.sql", "DROP TABLE a;");
  write("0002_b.up.sql", "CREATE TABLE b (id INT PRIMARY KEY);\nINSERT INTO b VALUES (1);");
  write("0002_b.down.sql", "DROP TABLE b;");
  write("0003_c.up.sql", "CREATE TABLE c (id INT PRIMARY KEY);");
  write("0003_c.down.sql", "DROP TABLE c;");
  ASSERT_EQ(migrate({"up", "--to", "0002"}).exit_code, 0);
  EXPECT_EQ(tables(), "a,b,schema_migrations\n");
  ASSERT_EQ(migrate({"up"}).exit_code, 0);
  EXPECT_EQ(tables(), "a,b,c,schema_migrations\n");

  // Written as `migrate status` shows it; a leading zero is not octal.
  CommandResult down = migrate({"down", "--to", "0001"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_THAT(down.out, HasSubstr("rolled back 0003_c"));
  EXPECT_THAT(down.out, HasSubstr("rolled back 0002_b"));
  EXPECT_EQ(tables(), "a,schema_migrations\n");
  EXPECT_EQ(sql("SELECT GROUP_CONCAT(version) FROM schema_migrations"), "1\n");

  ASSERT_EQ(migrate({"up"}).exit_code, 0);
  EXPECT_EQ(tables(), "a,b,c,schema_migrations\n");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM b"), "1\n");

  ASSERT_EQ(migrate({"down", "--to", "0000"}).exit_code, 0);
  EXPECT_EQ(tables(), "schema_migrations\n");
  EXPECT_EQ(migrate({"up", "--to", "x2"}).exit_code, 2);
}

TEST_F(MigrateCli, DownWithoutDownFileRefusesBeforeDoingAnything) {
  write("0001_a.up.sql", "CREATE TABLE a (id INT PRIMARY KEY);");
  write("0001_a.down.sql", "DROP TABLE a;");
  write("0002_b.up.sql", "CREATE TABLE b (id INT PRIMARY KEY);");
  write("0003_c.up.sql", "CREATE TABLE c (id INT PRIMARY KEY);");
  write("0003_c.down.sql", "DROP TABLE c;");
  ASSERT_EQ(migrate({"up"}).exit_code, 0);
  CommandResult down = migrate({"down", "--to", "0"});
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_THAT(down.err, HasSubstr("0002_b.down.sql"));
  EXPECT_EQ(tables(), "a,b,c,schema_migrations\n");
}

TEST_F(MigrateCli, StatusShowsAppliedPendingAndChanged) {
  write("0001_a.up.sql", "CREATE TABLE a (id INT PRIMARY KEY);");
  write("0002_b.up.sql", "CREATE TABLE b (id INT PRIMARY KEY);");
  ASSERT_EQ(migrate({"up", "--to", "1"}).exit_code, 0);
  CommandResult status = migrate({"status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr("VERSION"));
  EXPECT_THAT(status.out, ::testing::ContainsRegex("0001 +a +applied"));
  EXPECT_THAT(status.out, ::testing::ContainsRegex("0002 +b +pending"));

  write("0001_a.up.sql", "CREATE TABLE a (id BIGINT PRIMARY KEY);");
  status = migrate({"status"});
  EXPECT_THAT(status.out, ::testing::ContainsRegex("0001 +a +changed"));
}

TEST_F(MigrateCli, VerifyDetectsAnEditedFile) {
  write("0001_a.up.sql", "CREATE TABLE a (id INT PRIMARY KEY);");
  write("0002_b.up.sql", "CREATE TABLE b (id INT PRIMARY KEY);");
  ASSERT_EQ(migrate({"up"}).exit_code, 0);
  CommandResult ok = migrate({"verify"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("2 applied migration(s) match"));

  write("0002_b.up.sql", "CREATE TABLE b (id INT PRIMARY KEY); -- edited");
  CommandResult bad = migrate({"verify"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("0002_b changed"));
  EXPECT_THAT(bad.err, Not(HasSubstr("0001_a")));
  // One line, as the CLI promises for failures.
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1);
}

TEST_F(MigrateCli, ConcurrentUpsApplyEachMigrationOnce) {
  // Each migration logs itself into a table, so a second application would show.
  write("0001_log.up.sql",
        "CREATE TABLE applied_log (version INT NOT NULL);\n"
        "INSERT INTO applied_log VALUES (1);");
  write("0002_x.up.sql", "CREATE TABLE x (id INT);\nINSERT INTO applied_log VALUES (2);");
  write("0003_y.up.sql", "CREATE TABLE y (id INT);\nINSERT INTO applied_log VALUES (3);");

  // Hold the migration lock so both runs start, find it taken and queue up.
  Process::Options holder_options;
  holder_options.stdin_file = work_ / "hold.sql";
  holder_options.stdout_file = work_ / "hold.out";
  holder_options.env["MYSQL_PWD"] = MariaDbServer::kAdminPassword;
  std::ofstream(work_ / "hold.sql")
      << "SELECT GET_LOCK('statesink.migrate." << database_ << "', 10);\n"
      << "SELECT 'locked';\nSELECT SLEEP(600);\n";
  Process holder({"mariadb", "--no-defaults", "--protocol=TCP", "-h127.0.0.1",
                  "-P" + std::to_string(servers().mariadb.port()), "-u", MariaDbServer::kAdminUser,
                  "--batch", "--unbuffered", "--skip-column-names", database_},
                 holder_options);
  ASSERT_TRUE(
      wait_until([&] { return read_file(work_ / "hold.out").find("locked") != std::string::npos; },
                 std::chrono::seconds(20)));

  auto start_up = [&](const std::string& name) {
    Process::Options o;
    o.cwd = work_;
    o.stdout_file = work_ / (name + ".out");
    o.stderr_file = work_ / (name + ".err");
    o.unset_env = {"STATESINK_DB", "STATESINK_DB_PASSWORD"};
    return Process({servers().statesink.string(), "migrate", "up", "--db", url_, "--dir",
                    (work_ / "migrations").string()},
                   o);
  };
  Process first = start_up("first");
  Process second = start_up("second");
  auto waiting = [&](const std::string& name) {
    return read_file(work_ / (name + ".err")).find("waiting") != std::string::npos;
  };
  ASSERT_TRUE(
      wait_until([&] { return waiting("first") && waiting("second"); }, std::chrono::seconds(30)));
  // While they wait, ps shows their --db URL without its password.
  const std::string cmdline = read_file("/proc/" + std::to_string(first.pid()) + "/cmdline");
  EXPECT_THAT(cmdline, HasSubstr("mysql://admin:***@127.0.0.1"));
  EXPECT_THAT(cmdline, Not(HasSubstr(MariaDbServer::kAdminPassword)));
  holder.signal(SIGKILL);  // its session, and the lock with it, ends

  ASSERT_EQ(first.wait(std::chrono::seconds(60)), 0) << read_file(work_ / "first.err");
  ASSERT_EQ(second.wait(std::chrono::seconds(60)), 0) << read_file(work_ / "second.err");
  EXPECT_EQ(sql("SELECT GROUP_CONCAT(version ORDER BY version) FROM applied_log"), "1,2,3\n");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM schema_migrations WHERE state = 'applied'"), "3\n");
  const std::string outputs = read_file(work_ / "first.out") + read_file(work_ / "second.out");
  EXPECT_THAT(outputs, HasSubstr("nothing to apply"));
}

TEST_F(MigrateCli, FailedMigrationNamesTheStatementAndResumesAfterAFix) {
  write("0001_a.up.sql", "CREATE TABLE a (id INT PRIMARY KEY);");
  write("0002_b.up.sql",
        "-- two tables and a view\n"
        "CREATE TABLE b1 (id INT PRIMARY KEY);\n"
        "\n"
        "CREATE TABLE b2 (id INT PRIMARY KEY, CONSTRAINT bad FOREIGN KEY (id) REFERENCES nope "
        "(id));\n"
        "CREATE VIEW b3 AS SELECT id FROM b1;\n");
  CommandResult failed = migrate({"up"});
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_THAT(failed.err, HasSubstr("0002_b"));
  EXPECT_THAT(failed.err, HasSubstr("statement 2 of 3"));
  EXPECT_THAT(failed.err, HasSubstr("line 4"));
  EXPECT_THAT(failed.err, HasSubstr("statement 1 of it were applied"));
  EXPECT_EQ(std::count(failed.err.begin(), failed.err.end(), '\n'), 1) << failed.err;
  EXPECT_EQ(sql("SELECT version, state, statements_done, statements_total FROM "
                "schema_migrations ORDER BY version"),
            "1\tapplied\t1\t1\n2\tfailed\t1\t3\n");
  CommandResult status = migrate({"status"});
  EXPECT_THAT(status.out, ::testing::ContainsRegex("0002 +b +failed"));
  EXPECT_THAT(status.out, HasSubstr("stopped after 1 of 3 statements"));

  // Fixing the failed statement resumes there: b1 is not created twice.
  write("0002_b.up.sql",
        "-- two tables and a view\n"
        "CREATE TABLE b1 (id INT PRIMARY KEY);\n"
        "\n"
        "CREATE TABLE b2 (id INT PRIMARY KEY);\n"
        "CREATE VIEW b3 AS SELECT id FROM b1;\n");
  CommandResult fixed = migrate({"up"});
  ASSERT_EQ(fixed.exit_code, 0) << fixed.err;
  EXPECT_THAT(fixed.out, HasSubstr("resuming 0002_b at statement 2 of 3"));
  EXPECT_EQ(tables(), "a,b1,b2,b3,schema_migrations\n");
  EXPECT_EQ(sql("SELECT state, statements_done FROM schema_migrations WHERE version = 2"),
            "applied\t3\n");
  EXPECT_EQ(migrate({"verify"}).exit_code, 0);
}

TEST_F(MigrateCli, EditingAnAppliedStatementOfAFailedMigrationIsRefusedUntilForgotten) {
  write("0001_a.up.sql", "CREATE TABLE a1 (id INT);\nCREATE TABLE a1 (id INT);");
  ASSERT_EQ(migrate({"up"}).exit_code, 1);
  write("0001_a.up.sql", "CREATE TABLE a0 (id INT);\nCREATE TABLE a2 (id INT);");
  CommandResult refused = migrate({"up"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("no longer starts with those statements"));
  EXPECT_THAT(refused.err, HasSubstr("statesink migrate forget 1"));
  EXPECT_EQ(tables(), "a1,schema_migrations\n");

  sql("DROP TABLE a1");
  CommandResult forget = migrate({"forget", "1"});
  ASSERT_EQ(forget.exit_code, 0) << forget.err;
  ASSERT_EQ(migrate({"up"}).exit_code, 0);
  EXPECT_EQ(tables(), "a0,a2,schema_migrations\n");
  EXPECT_EQ(migrate({"forget", "1"}).exit_code, 1);  // applied migrations are not forgotten
}

constexpr const char* kTriggerBody = R"(
  DECLARE v_level INT DEFAULT 0;
  DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN SET v_level = -1; END;
  IF NEW.topic LIKE '%;%' THEN
    SET v_level = 99;
  ELSEIF LENGTH(NEW.topic) > 3 THEN
    SET v_level = CASE WHEN NEW.topic LIKE 'a/%' THEN 1 ELSE 2 END;
  END IF;
  counting: LOOP
    LEAVE counting;
  END LOOP counting;
  INSERT INTO seen (topic, level) VALUES (NEW.topic, IF(v_level > 0, v_level, 0));
END)";

TEST_F(MigrateCli, TriggerBodiesApplyWithoutDelimiter) {
  write("0001_t.up.sql", std::string("CREATE TABLE src (topic VARCHAR(100));\n"
                                     "CREATE TABLE seen (topic VARCHAR(100), level INT);\n"
                                     "CREATE TRIGGER src_ai AFTER INSERT ON src FOR EACH ROW\n"
                                     "BEGIN") +
                             kTriggerBody + ";\n");
  CommandResult r = migrate({"up"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  sql("INSERT INTO src VALUES ('a/b/c'), ('x;y'), ('zzzz')");
  EXPECT_EQ(sql("SELECT topic, level FROM seen ORDER BY topic"), "a/b/c\t1\nx;y\t99\nzzzz\t2\n");
}

TEST_F(MigrateCli, TriggerBodiesApplyWithDelimiterLines) {
  write("0001_t.up.sql", std::string("CREATE TABLE src (topic VARCHAR(100));\n"
                                     "CREATE TABLE seen (topic VARCHAR(100), level INT);\n"
                                     "DELIMITER $$\n"
                                     "CREATE TRIGGER src_ai AFTER INSERT ON src FOR EACH ROW\n"
                                     "BEGIN") +
                             kTriggerBody + "$$\nDELIMITER ;\nINSERT INTO src VALUES ('a/12');\n");
  CommandResult r = migrate({"up"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  sql("INSERT INTO src VALUES ('x;y')");
  EXPECT_EQ(sql("SELECT topic, level FROM seen ORDER BY topic"), "a/12\t1\nx;y\t99\n");
}

TEST_F(MigrateCli, DryRunPrintsSqlAndChangesNothing) {
  write("0001_t.up.sql", std::string("CREATE TABLE src (topic VARCHAR(100));\n"
                                     "CREATE TABLE seen (topic VARCHAR(100), level INT);\n"
                                     "CREATE TRIGGER src_ai AFTER INSERT ON src FOR EACH ROW\n"
                                     "BEGIN") +
                             kTriggerBody + ";\n");
  write("0001_t.down.sql", "DROP TABLE seen;\nDROP TABLE src;\n");
  CommandResult dry = migrate({"up", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_THAT(dry.out, HasSubstr("-- 0001_t.up.sql"));
  EXPECT_THAT(dry.out, HasSubstr("CREATE TABLE src (topic VARCHAR(100));"));
  EXPECT_THAT(dry.out, HasSubstr("DELIMITER $$\nCREATE TRIGGER src_ai"));
  EXPECT_EQ(tables(), "\n");  // not even schema_migrations

  // The printed SQL is what the mysql client accepts as it is.
  std::ofstream(work_ / "dry.sql") << dry.out;
  Process::Options o;
  o.stdin_file = work_ / "dry.sql";
  o.env["MYSQL_PWD"] = MariaDbServer::kAdminPassword;
  CommandResult client = run_command(
      {"mariadb", "--no-defaults", "--protocol=TCP", "-h127.0.0.1",
       "-P" + std::to_string(servers().mariadb.port()), "-u", MariaDbServer::kAdminUser, database_},
      o);
  ASSERT_EQ(client.exit_code, 0) << client.err;
  EXPECT_EQ(tables(), "seen,src\n");
  sql("DROP TABLE seen; DROP TABLE src;");

  ASSERT_EQ(migrate({"up"}).exit_code, 0);
  CommandResult dry_down = migrate({"down", "--to", "0", "--dry-run"});
  ASSERT_EQ(dry_down.exit_code, 0) << dry_down.err;
  EXPECT_THAT(dry_down.out, HasSubstr("DROP TABLE seen;\nDROP TABLE src;"));
  EXPECT_EQ(tables(), "schema_migrations,seen,src\n");
}

TEST_F(MigrateCli, OutOfOrderMigrationIsRefused) {
  write("0002_b.up.sql", "CREATE TABLE b (id INT);");
  ASSERT_EQ(migrate({"up"}).exit_code, 0);
  write("0001_a.up.sql", "CREATE TABLE a (id INT);");
  CommandResult r = migrate({"up"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("0001_a.up.sql is pending but a later migration"));
}

TEST_F(MigrateCli, NewCreatesTheNextNumberedPair) {
  write("0007_seven.up.sql", "SELECT 1;");
  CommandResult r = statesink({"migrate", "new", "add_index", "--dir", "migrations"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(work_ / "migrations" / "0008_add_index.up.sql"));
  EXPECT_TRUE(std::filesystem::exists(work_ / "migrations" / "0008_add_index.down.sql"));
  CommandResult bad = statesink({"migrate", "new", "Bad Name", "--dir", "migrations"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("a-z, 0-9 and _"));
}

TEST_F(MigrateCli, SettingsComeFromEnvironmentAndDotEnv) {
  // From .env in the working directory, with the password in its own variable.
  const std::string no_password =
      "mysql://admin@127.0.0.1:" + std::to_string(servers().mariadb.port()) + "/" + database_;
  std::ofstream(work_ / ".env") << "# settings\nSTATESINK_DB=" << no_password
                                << "\nSTATESINK_DB_PASSWORD='" << MariaDbServer::kAdminPassword
                                << "'\n";
  CommandResult from_dotenv = statesink({"migrate", "up"});
  ASSERT_EQ(from_dotenv.exit_code, 0) << from_dotenv.err;
  EXPECT_THAT(tables(), HasSubstr("messages"));

  // The environment beats .env; the flag beats both.
  Process::Options wrong_env;
  wrong_env.env["STATESINK_DB"] = "mysql://admin@127.0.0.1:1/nowhere";
  CommandResult env_wins = statesink({"migrate", "status"}, wrong_env);
  EXPECT_EQ(env_wins.exit_code, 1);
  EXPECT_THAT(env_wins.err, HasSubstr("127.0.0.1:1"));
  CommandResult flag_wins = statesink({"migrate", "status", "--db", url_}, wrong_env);
  EXPECT_EQ(flag_wins.exit_code, 0) << flag_wins.err;
}

TEST_F(MigrateCli, FailuresAreOneLineWithoutThePassword) {
  const std::string port = std::to_string(servers().mariadb.port());
  CommandResult wrong = statesink(
      {"migrate", "status", "--db", "mysql://admin:Sup3rS3cret@127.0.0.1:" + port + "/x"});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_THAT(wrong.err, HasSubstr("Access denied"));
  EXPECT_THAT(wrong.err, HasSubstr("password"));
  EXPECT_THAT(wrong.err, Not(HasSubstr("Sup3rS3cret")));
  EXPECT_EQ(std::count(wrong.err.begin(), wrong.err.end(), '\n'), 1);

  const std::uint16_t closed = free_loopback_port();
  CommandResult down =
      statesink({"migrate", "status", "--db",
                 "mysql://u:Sup3rS3cret@127.0.0.1:" + std::to_string(closed) + "/x"});
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_THAT(down.err, HasSubstr("check that the server is running"));
  EXPECT_THAT(down.err, Not(HasSubstr("Sup3rS3cret")));

  CommandResult malformed =
      statesink({"migrate", "status", "--db", "mysql://u:Sup3rS3cret@127.0.0.1:99999/x"});
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_THAT(malformed.err, Not(HasSubstr("Sup3rS3cret")));

  CommandResult unknown_flag = statesink({"migrate", "up", "--no-such-flag"});
  EXPECT_EQ(unknown_flag.exit_code, 2);
  EXPECT_THAT(unknown_flag.err, HasSubstr("--no-such-flag"));

  CommandResult no_subcommand = statesink({"migrate"});
  EXPECT_EQ(no_subcommand.exit_code, 2);
}

TEST_F(MigrateCli, HelpAndVersionSucceed) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--help"}, {"migrate", "--help"}, {"migrate", "up", "--help"}, {"version"}}) {
    CommandResult r = statesink(args);
    EXPECT_EQ(r.exit_code, 0) << args.back() << ": " << r.err;
    EXPECT_FALSE(r.out.empty());
  }
  EXPECT_THAT(statesink({"migrate", "up", "--help"}).out, HasSubstr("--dry-run"));
}

// --- files as people write them ---------------------------------------------

TEST_F(MigrateCli, LockTablesFromADumpIsRefusedBeforeAnythingRuns) {
  write("0001_a.up.sql", "CREATE TABLE a (id INT PRIMARY KEY);\n");
  write("0002_dump.up.sql",
        "CREATE TABLE t (id INT PRIMARY KEY);\n"
        "LOCK TABLES `t` WRITE;\n"
        "INSERT INTO `t` VALUES (1),(2);\n"
        "UNLOCK TABLES;\n");
  CommandResult r = migrate({"up"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("0002_dump.up.sql line 2: LOCK TABLES `t` WRITE"));
  EXPECT_THAT(r.err, HasSubstr("remove those lines"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(tables(), "schema_migrations\n");  // not even 0001 ran
  EXPECT_EQ(sql("SELECT COUNT(*) FROM schema_migrations"), "0\n");

  // The same file without the lock lines applies, so nothing got stuck.
  write("0002_dump.up.sql",
        "CREATE TABLE t (id INT PRIMARY KEY);\n"
        "INSERT INTO `t` VALUES (1),(2);\n");
  CommandResult fixed = migrate({"up"});
  ASSERT_EQ(fixed.exit_code, 0) << fixed.err;
  EXPECT_EQ(sql("SELECT COUNT(*) FROM t"), "2\n");
}

TEST_F(MigrateCli, FileWithAByteOrderMarkApplies) {
  write("0001_bom.up.sql",
        "\xEF\xBB\xBF-- saved by an editor that adds a BOM\n"
        "CREATE TABLE bom (id INT PRIMARY KEY);\n");
  CommandResult r = migrate({"up"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(tables(), "bom,schema_migrations\n");
}

TEST_F(MigrateCli, CrlfFileCreatesTheSameTriggerAsAnLfFile) {
  const std::string lf =
      "CREATE TABLE src_NAME (topic VARCHAR(100));\n"
      "CREATE TABLE seen_NAME (topic VARCHAR(100), note VARCHAR(100));\n"
      "CREATE TRIGGER NAME AFTER INSERT ON src_NAME FOR EACH ROW\n"
      "BEGIN\n"
      "  INSERT INTO seen_NAME VALUES (NEW.topic, 'two\n"
      "lines');\n"
      "END;\n";
  auto named = [](std::string text, const std::string& name) {
    for (std::size_t at = text.find("NAME"); at != std::string::npos; at = text.find("NAME", at)) {
      text.replace(at, 4, name);
    }
    return text;
  };
  std::string crlf;
  for (char c : named(lf, "t_crlf")) {
    crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  }
  write("0001_lf.up.sql", named(lf, "t_lf"));
  write("0002_crlf.up.sql", crlf);
  CommandResult r = migrate({"up"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string body_lf =
      sql("SELECT HEX(ACTION_STATEMENT) FROM information_schema.TRIGGERS "
          "WHERE TRIGGER_SCHEMA = DATABASE() AND TRIGGER_NAME = 't_lf'");
  const std::string body_crlf = sql(
      "SELECT HEX(REPLACE(ACTION_STATEMENT, 't_crlf', 't_lf')) FROM information_schema.TRIGGERS "
      "WHERE TRIGGER_SCHEMA = DATABASE() AND TRIGGER_NAME = 't_crlf'");
  EXPECT_FALSE(body_lf.empty());
  EXPECT_EQ(body_crlf, body_lf);
  sql("INSERT INTO src_t_crlf VALUES ('x')");
  EXPECT_EQ(sql("SELECT HEX(note) FROM seen_t_crlf"), sql("SELECT HEX('two\nlines')"));
}

TEST_F(MigrateCli, UnquotedEndColumnInAProcedureIsRefusedBeforeAnythingRuns) {
  write("0001_spans.up.sql", "CREATE TABLE spans (id INT, `begin` INT, `end` INT);\n");
  write("0002_widest.up.sql",
        "CREATE PROCEDURE widest()\n"
        "BEGIN\n"
        "  SELECT id, end - `begin` AS width\n"
        "  FROM spans ORDER BY width DESC LIMIT 1;\n"
        "END;\n");
  CommandResult r = migrate({"up"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("0002_widest.up.sql line 3"));
  EXPECT_THAT(r.err, HasSubstr("word end on line 3"));
  EXPECT_THAT(r.err, HasSubstr("`end`"));
  EXPECT_THAT(r.err, HasSubstr("nothing was applied"));
  EXPECT_EQ(tables(), "schema_migrations\n");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM information_schema.ROUTINES "
                "WHERE ROUTINE_SCHEMA = DATABASE()"),
            "0\n");

  // Quoted as the message says, the whole procedure applies.
  write("0002_widest.up.sql",
        "CREATE PROCEDURE widest()\n"
        "BEGIN\n"
        "  SELECT id, `end` - `begin` AS width\n"
        "  FROM spans ORDER BY width DESC LIMIT 1;\n"
        "END;\n");
  CommandResult fixed = migrate({"up"});
  ASSERT_EQ(fixed.exit_code, 0) << fixed.err;
  sql("INSERT INTO spans VALUES (1, 0, 5), (2, 0, 9)");
  EXPECT_EQ(sql("CALL widest()"), "2\t9\n");
}

TEST_F(MigrateCli, EventsTakeTheServersTimeZoneAsWithTheClient) {
  write("0001_event.up.sql",
        "CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 03:00:00'\n"
        "DO DELETE FROM schema_migrations WHERE 1 = 0;\n");
  CommandResult r = migrate({"up"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(sql("SELECT TIME_ZONE FROM information_schema.EVENTS "
                "WHERE EVENT_SCHEMA = DATABASE() AND EVENT_NAME = 'nightly'"),
            sql("SELECT @@GLOBAL.time_zone"));
}

}  // namespace
}  // namespace statesink::testing
