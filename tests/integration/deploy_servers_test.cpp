// The deployment files against the private servers: the dashboard's SQL runs, expanded the
// way Grafana expands it, as the reader account against a migrated database; the ingest
// service's settings, taken from the compose file, run a real ingester through the account
// the grants script creates.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <regex>

#include "db/error.h"
#include "deploy_files.h"
#include "ingest_log.h"
#include "normalise_fixture.h"

namespace statesink::testing {
namespace {

// The dashboard's SQL as Grafana sends it: template variables replaced first (multi-value ones
// as quoted lists), then the MySQL data source's macros.
class GrafanaExpansion {
 public:
  GrafanaExpansion(std::int64_t from, std::int64_t to) : from_(from), to_(to) {
    raw_["__interval"] = "5m";
    raw_["__interval_ms"] = "300000";
  }

  void set_variable(const std::string& name, const std::vector<std::string>& values) {
    std::string quoted;
    for (const std::string& v : values) {
      if (!quoted.empty()) quoted += ',';
      quoted += "'" + std::regex_replace(v, std::regex("'"), "''") + "'";
    }
    raw_[name] = quoted;
  }

  std::string expand(const std::string& sql) const {
    // Variables: $name and ${name}; unknown names stay for the macro pass.
    static const std::regex variable(R"(\$\{(\w+)\}|\$(\w+))");
    std::string replaced;
    auto last = sql.cbegin();
    for (std::sregex_iterator it(sql.begin(), sql.end(), variable), end; it != end; ++it) {
      const std::string name = (*it)[1].matched ? (*it).str(1) : (*it).str(2);
      const auto found = raw_.find(name);
      if (found == raw_.end()) continue;
      replaced.append(last, (*it)[0].first);
      replaced += found->second;
      last = (*it)[0].second;
    }
    replaced.append(last, sql.cend());

    static const std::regex macro(R"(\$([_a-zA-Z0-9]+)\(([^\)]*)\))");
    std::string expanded;
    last = replaced.cbegin();
    for (std::sregex_iterator it(replaced.begin(), replaced.end(), macro), end; it != end; ++it) {
      expanded.append(last, (*it)[0].first);
      expanded += evaluate((*it).str(1), split_arguments((*it).str(2)));
      last = (*it)[0].second;
    }
    expanded.append(last, replaced.cend());
    if (expanded.find('$') != std::string::npos) {
      throw std::runtime_error("unknown variable or macro left in:\n" + expanded);
    }
    return expanded;
  }

 private:
  static std::vector<std::string> split_arguments(const std::string& text) {
    std::vector<std::string> args;
    std::stringstream in(text);
    std::string arg;
    while (std::getline(in, arg, ',')) {
      const auto first = arg.find_first_not_of(' ');
      const auto last = arg.find_last_not_of(' ');
      args.push_back(first == std::string::npos ? "" : arg.substr(first, last - first + 1));
    }
    return args;
  }

  static long seconds_of(const std::string& interval) {
    std::smatch m;
    if (!std::regex_match(interval, m, std::regex(R"('?(\d+)(s|m|h|d)'?)"))) {
      throw std::runtime_error("interval '" + interval + "' is not one Grafana parses here");
    }
    const long n = std::stol(m.str(1));
    const char unit = m.str(2)[0];
    return unit == 's' ? n : unit == 'm' ? n * 60 : unit == 'h' ? n * 3600 : n * 86400;
  }

  std::string evaluate(const std::string& name, const std::vector<std::string>& args) const {
    const std::string from = "FROM_UNIXTIME(" + std::to_string(from_) + ")";
    const std::string to = "FROM_UNIXTIME(" + std::to_string(to_) + ")";
    if (name == "__timeFilter") return args.at(0) + " BETWEEN " + from + " AND " + to;
    if (name == "__timeFrom") return from;
    if (name == "__timeTo") return to;
    if (name == "__timeGroup" || name == "__timeGroupAlias") {
      if (args.size() < 2) throw std::runtime_error(name + " needs a column and an interval");
      if (args.size() == 3 && args[2] != "NULL" && args[2] != "previous" &&
          !std::regex_match(args[2], std::regex(R"(-?[0-9.]+)"))) {
        throw std::runtime_error("fill mode '" + args[2] + "' is not NULL, previous or a number");
      }
      const std::string s = std::to_string(seconds_of(args[1]));
      const std::string group = "UNIX_TIMESTAMP(" + args[0] + ") DIV " + s + " * " + s;
      return name == "__timeGroup" ? group : group + " AS \"time\"";
    }
    throw std::runtime_error("macro $" + name + " is not one this test expands");
  }

  std::int64_t from_;
  std::int64_t to_;
  std::map<std::string, std::string> raw_;
};

// ---------------------------------------------------------------------------------------------
// The dashboard and the compose ingest settings against the test database

std::string utc_text(std::chrono::system_clock::time_point t) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d:%02d.%06lld", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros % 1000000));
  return text;
}

std::int64_t epoch(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

class DeployDatabase : public NormaliseTest {
 protected:
  // deploy/mysql/grants.sh, as the compose `grants` service runs it, with the passwords of
  // .env.example, against this test's database.
  void run_grants_script() {
    Process::Options options;
    options.env = {{"MYSQL_HOST", "127.0.0.1"},
                   {"MYSQL_PORT", std::to_string(servers().mariadb.port())},
                   {"MYSQL_ADMIN_USER", MariaDbServer::kAdminUser},
                   {"MYSQL_ROOT_PASSWORD", MariaDbServer::kAdminPassword},
                   {"STATESINK_DATABASE", database_},
                   {"DB_INGEST_PASSWORD", env_example().at("DB_INGEST_PASSWORD")},
                   {"DB_READER_PASSWORD", env_example().at("DB_READER_PASSWORD")}};
    const CommandResult r = run_command({"bash", source_path("deploy/mysql/grants.sh").string(),
                                         source_path("sql/grants.sql").string()},
                                        options);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_THAT(r.out, HasSubstr("are ready in " + database_));
  }

  db::Connection connect_as(const std::string& user, const std::string& password) {
    config::DbUrl url = config::parse_db_url(url_);
    url.user = user;
    url.password = password;
    return db::Connection::open(url);
  }

  db::Connection reader() {
    db::Connection c = connect_as("statesink_reader", env_example().at("DB_READER_PASSWORD"));
    // What the provisioned data source's jsonData.timezone makes Grafana do.
    c.execute("SET time_zone = '+00:00'");
    return c;
  }

  struct DashboardRun {
    std::map<std::string, std::vector<std::string>> variables;
    std::map<std::string, std::vector<db::Row>> panels;  // by title
  };

  // Loads the dashboard the way Grafana does: each query variable in order (with every value
  // selected, "All"), then every panel's query. Each must run and return rows.
  DashboardRun run_dashboard(db::Connection& connection, std::chrono::system_clock::time_point from,
                             std::chrono::system_clock::time_point to) {
    DashboardRun run;
    GrafanaExpansion grafana(epoch(from), epoch(to));
    auto run_sql = [&](const std::string& where, const std::string& sql) {
      std::string expanded;
      try {
        expanded = grafana.expand(sql);
        std::vector<db::Row> rows = connection.query(expanded);
        EXPECT_THAT(rows, Not(IsEmpty())) << where << " returned no rows:\n" << expanded;
        return rows;
      } catch (const std::exception& e) {
        ADD_FAILURE() << where << ": " << e.what() << "\n" << (expanded.empty() ? sql : expanded);
        return std::vector<db::Row>{};
      }
    };
    for (const json& v : dashboard().at("templating").at("list")) {
      if (v.at("type") != "query") continue;
      const std::string name = v.at("name").get<std::string>();
      std::vector<std::string> values;
      for (const db::Row& row : run_sql("variable " + name, v.at("query").get<std::string>())) {
        values.push_back(row.at(0).value_or(""));
      }
      EXPECT_TRUE(v.value("multi", false) && v.value("includeAll", false))
          << name << ": the SQL uses IN ($" << name << "), which needs quoted lists";
      grafana.set_variable(name, values);
      run.variables[name] = values;
    }
    for (const Query& q : panel_queries()) run.panels[q.where] = run_sql(q.where, q.sql);
    return run;
  }

  static std::vector<std::string> column(const std::vector<db::Row>& rows, std::size_t i) {
    std::vector<std::string> out;
    for (const db::Row& row : rows) out.push_back(row.at(i).value_or("NULL"));
    return out;
  }
};

TEST_F(DeployDatabase, DashboardQueriesRunAsTheReaderAccount) {
  ASSERT_NO_FATAL_FAILURE(run_grants_script());
  using std::chrono::hours;
  using std::chrono::minutes;
  const auto now = std::chrono::system_clock::now();
  auto at = [&](std::chrono::system_clock::duration ago) { return utc_text(now - ago); };
  const std::string outside = "homeassistant/sensor/outside_temperature/";
  const std::string living = "homeassistant/sensor/living_room_temperature/";
  const std::vector<Message> messages = {
      // Set long before the time range and steady since: the graph must still show it.
      {living + "unit_of_measurement", R"("\u00b0C")", at(hours(30))},
      {living + "friendly_name", R"("Living room")", at(hours(30))},
      {living + "state", "21.0", at(hours(30))},
      {outside + "unit_of_measurement", R"("\u00b0C")", at(hours(5))},
      {outside + "friendly_name", R"("Au\u00dfen")", at(hours(5))},
      {outside + "state", "10.5", at(hours(5))},
      {outside + "last_changed", "2024-05-01T12:00:03.512345+00:00", at(hours(5))},
      {outside + "state", "11.0", at(hours(3))},
      {outside + "state", "unavailable", at(hours(2))},
      {outside + "state", "12.5", at(hours(1))},
      {"home/ha2/sensor/outside_temperature/state", "7.0", at(hours(2))},
      {"homeassistant/light/kitchen/state", "on", at(hours(4))},
      {"homeassistant/light/kitchen/brightness", "180", at(hours(4))},
      {"homeassistant/light/kitchen/rgb_color", "[255, 128, 0]", at(hours(4))},
      {"homeassistant/binary_sensor/door/state", "off", at(minutes(30))},
      {"homeassistant/bad", "x", at(minutes(10))},
      {"homeassistant/sensor/broken/state", std::string("\xff\xfe", 2), at(minutes(9))},
  };
  // As statesink ingest writes them: through the ingest account.
  db::Connection ingest = connect_as("statesink_ingest", env_example().at("DB_INGEST_PASSWORD"));
  insert(ingest, messages);

  db::Connection connection = reader();
  const auto from = now - hours(6);
  const auto to = now + minutes(1);
  const DashboardRun run = run_dashboard(connection, from, to);
  ASSERT_FALSE(HasFailure());

  EXPECT_EQ(run.variables.at("base_topic"),
            (std::vector<std::string>{"home/ha2", "homeassistant"}));
  EXPECT_THAT(
      run.variables.at("entity"),
      ::testing::IsSupersetOf({"sensor.living_room_temperature", "sensor.outside_temperature",
                               "light.kitchen", "binary_sensor.door"}));

  // Time series: time bucket | metric | value. The living room's value in force at the start of
  // the range; both installations' outside temperatures; no text states.
  const auto& numeric = run.panels.at("Numeric states");
  std::set<std::string> metrics;
  for (const db::Row& row : numeric) {
    metrics.insert(row.at(1).value_or(""));
    EXPECT_TRUE(row.at(2).has_value());
  }
  EXPECT_EQ(metrics, (std::set<std::string>{
                         "binary_sensor.door", "light.kitchen", "sensor.living_room_temperature",
                         "sensor.outside_temperature", "sensor.outside_temperature (home/ha2)"}));
  const long bucket = epoch(from) / 300 * 300;
  EXPECT_THAT(numeric,
              Contains(db::Row{std::to_string(bucket), "sensor.living_room_temperature", "21"}));

  // Latest states: entity | name | state | unit | last_changed | last_seen | base_topic.
  const auto& latest = run.panels.at("Latest states");
  bool outside_seen = false;
  for (const db::Row& row : latest) {
    if (row.at(0) != "sensor.outside_temperature" || row.at(6) != "homeassistant") continue;
    outside_seen = true;
    EXPECT_EQ(row.at(1), "Au\u00dfen");
    EXPECT_EQ(row.at(2), "12.5");
    EXPECT_EQ(row.at(3), "\u00b0C");
  }
  EXPECT_TRUE(outside_seen);

  // Counts agree with the raw table; the rate panel adds up to the same messages.
  const std::string in_range =
      value("SELECT COUNT(*) FROM messages WHERE received_at >= '" + utc_text(from) + "'");
  EXPECT_EQ(column(run.panels.at("Messages received"), 0), std::vector<std::string>{in_range});
  double per_minute_sum = 0;
  for (const std::string& v : column(run.panels.at("Ingestion rate"), 1)) {
    per_minute_sum += std::stod(v);
  }
  EXPECT_NEAR(per_minute_sum * 5, std::stod(in_range), 0.01) << "5-minute buckets";
  // The invalid payload was rejected before its entity was created.
  EXPECT_EQ(column(run.panels.at("Entities"), 0), std::vector<std::string>{"5"});
  const long since_last = std::stol(column(run.panels.at("Since the last message"), 0).at(0));
  EXPECT_GE(since_last, 9 * 60 - 5);
  EXPECT_LE(since_last, 9 * 60 + 120);
  EXPECT_EQ(column(run.panels.at("Rejected messages"), 0).size(), 2u);
  std::vector<std::string> reasons = column(run.panels.at("Rejected messages"), 2);
  EXPECT_THAT(reasons, ::testing::UnorderedElementsAre("topic has fewer than four levels",
                                                       "payload is not valid UTF-8"));

  // A range with nothing in it: the queries still run (and the steady values still show).
  GrafanaExpansion empty(epoch(now + hours(1)), epoch(now + hours(2)));
  empty.set_variable("base_topic", run.variables.at("base_topic"));
  empty.set_variable("entity", run.variables.at("entity"));
  for (const Query& q : panel_queries()) {
    EXPECT_NO_THROW(connection.query(empty.expand(q.sql))) << q.where;
  }

  // Over a day, the time series reads the hourly statistics: the living room's steady value has
  // a point every hour, then the changes after the last complete hour come from the facts.
  const CommandResult statistics =
      statesink({"statistics", "update", "--settle", "0s", "--db", url_});
  ASSERT_EQ(statistics.exit_code, 0) << statistics.err;
  const DashboardRun week = run_dashboard(connection, now - hours(72), now + minutes(1));
  std::size_t living_points = 0;
  for (const db::Row& row : week.panels.at("Numeric states")) {
    if (row.at(1) == "sensor.living_room_temperature") {
      ++living_points;
      EXPECT_EQ(row.at(2), "21");
    }
  }
  EXPECT_GE(living_points, 29u) << "one per complete hour since it was set";
  EXPECT_THAT(week.panels.at("Numeric states"),
              Contains(::testing::ElementsAre(::testing::_, "binary_sensor.door", "0")))
      << "the door's change 30 minutes ago";
}

// The ingest service's environment from docker-compose.yml (over the image's ENV), with the
// values of .env.example, pointed at the test servers instead of the compose host names.
std::map<std::string, std::string> compose_ingest_environment(const std::string& database,
                                                              const fs::path& spool,
                                                              std::uint16_t metrics_port) {
  std::map<std::string, std::string> env;
  for (const std::string& line : dockerfile_instructions()) {
    if (!line.starts_with("ENV ")) continue;
    std::istringstream words(line.substr(4));
    std::string word;
    while (words >> word) {
      const auto eq = word.find('=');
      if (eq != std::string::npos) env[word.substr(0, eq)] = word.substr(eq + 1);
    }
  }
  for (const auto& [key, value] : service("ingest").at("environment").items()) {
    env[key] = interpolate(value.get<std::string>(), env_example());
  }
  auto replace = [](std::string& text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    if (at == std::string::npos) {
      ADD_FAILURE() << "expected '" << from << "' in '" << text << "'";
      return;
    }
    text.replace(at, from.size(), to);
  };
  replace(env["STATESINK_DB"], "@mysql:3306/statesink",
          "@127.0.0.1:" + std::to_string(servers().mariadb.port()) + "/" + database);
  const std::string broker = servers().mosquitto.url();  // mqtt://127.0.0.1:PORT
  replace(env["STATESINK_MQTT"], "@mosquitto:1883", "@" + broker.substr(broker.find("//") + 2));
  replace(env["STATESINK_METRICS_ADDR"], "0.0.0.0:9464",
          "127.0.0.1:" + std::to_string(metrics_port));
  replace(env["STATESINK_SPOOL_DIR"], "/var/lib/statesink/spool", spool.string());
  return env;
}

CommandResult container_health_check(const std::map<std::string, std::string>& env) {
  Process::Options options;
  options.env = {{"STATESINK_METRICS_ADDR", env.at("STATESINK_METRICS_ADDR")}};
  return run_command({"bash", source_path("deploy/docker/healthcheck.sh").string()}, options,
                     std::chrono::seconds(30));
}

TEST_F(DeployDatabase, ComposeIngestSettingsRecordIntoTheDashboard) {
  ASSERT_NO_FATAL_FAILURE(run_grants_script());
  const fs::path work = servers().scratch / database_;
  fs::remove_all(work);
  fs::create_directories(work);
  const std::map<std::string, std::string> env =
      compose_ingest_environment(database_, work / "spool", free_loopback_port());
  ASSERT_FALSE(HasFailure());
  ASSERT_THAT(env.at("STATESINK_DB"), HasSubstr("//statesink_ingest@"));

  // Only the compose settings: no flags, nothing else from the test's environment.
  Process::Options options;
  options.cwd = work;
  options.env = env;
  for (const char* name : {"STATESINK_SHARE_GROUP", "STATESINK_EXCLUDE", "STATESINK_MQTT_PROTOCOL",
                           "STATESINK_SPOOL_MAX", "STATESINK_SYNC", "STATESINK_BATCH_SIZE",
                           "STATESINK_REPORT_INTERVAL"}) {
    options.unset_env.push_back(name);
  }
  const fs::path log = work / "ingest.log";
  options.stdout_file = log;
  options.stderr_file = log;
  auto ingester = std::make_unique<Process>(
      std::vector<std::string>{servers().statesink.string(), "ingest"}, options);
  ASSERT_TRUE(
      wait_until([&] { return ingester_subscribed(read_file(log)); }, std::chrono::seconds(60)))
      << read_file(log);
  EXPECT_THAT(read_file(log), HasSubstr("as " + env.at("STATESINK_CLIENT_ID")));

  const int count = 300;
  const CommandResult simulated =
      run_command({servers().statesink.string(), "simulate", "--mqtt", servers().mosquitto.url(),
                   "--installations", "1", "--entities", "12", "--count", std::to_string(count),
                   "--seed", "7"});
  ASSERT_EQ(simulated.exit_code, 0) << simulated.err;
  const std::string broker = servers().mosquitto.url();
  const CommandResult bad = run_command({find_program("mosquitto_pub").string(), "-h", "127.0.0.1",
                                         "-p", broker.substr(broker.rfind(':') + 1), "-q", "1",
                                         "-t", "homeassistant/bad", "-m", "x"});
  ASSERT_EQ(bad.exit_code, 0) << bad.err;
  ASSERT_TRUE(
      wait_until([&] { return std::stoi(value("SELECT COUNT(*) FROM messages")) >= count + 1; },
                 std::chrono::seconds(60), std::chrono::milliseconds(200)))
      << value("SELECT COUNT(*) FROM messages") << " messages\n"
      << read_file(log);

  // The container health check, against the ingester's own endpoint.
  CommandResult health;
  EXPECT_TRUE(wait_until(
      [&] {
        health = container_health_check(env);
        return health.exit_code == 0;
      },
      std::chrono::seconds(30), std::chrono::milliseconds(500)))
      << health.out << health.err;
  EXPECT_THAT(health.out, HasSubstr("statesink health: ok"));

  db::Connection connection = reader();
  const auto now = std::chrono::system_clock::now();
  const DashboardRun run =
      run_dashboard(connection, now - std::chrono::hours(1), now + std::chrono::minutes(1));
  EXPECT_EQ(run.variables.at("base_topic"), std::vector<std::string>{"homeassistant"});
  EXPECT_EQ(column(run.panels.at("Rejected messages"), 1),
            std::vector<std::string>{"homeassistant/bad"});

  EXPECT_EQ(ingester->stop(std::chrono::seconds(40)), 0) << read_file(log);
  const CommandResult after = container_health_check(env);
  EXPECT_EQ(after.exit_code, 1) << "the health check must fail when nothing answers";
  EXPECT_THAT(after.out, HasSubstr("no answer"));
}

}  // namespace
}  // namespace statesink::testing
