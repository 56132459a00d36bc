// The deployment files: docker-compose.yml with .env.example, the Dockerfile, the Grafana
// provisioning and dashboard, the systemd units and the install target.
//
// No Docker engine runs here, so images are not built and containers not started. What can be
// checked without one is: the compose file parses, its services carry the health checks and
// start conditions that order them, and everything it names exists (files, variables, settings
// statesink reads); the dashboard's SQL runs, expanded the way Grafana expands it, as the reader
// account against a migrated database; the ingest service's settings, taken from the compose
// file, run a real ingester through the account the grants script creates; the Dockerfile builds
// with the install script CI runs and ends unprivileged; `cmake --install` lays out what the
// systemd units name, and systemd accepts the units.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "config/dotenv.h"
#include "db/error.h"
#include "normalise_fixture.h"

#ifndef STATESINK_BUILD_DIR
#error "STATESINK_BUILD_DIR must name the build directory that `cmake --install` installs from"
#endif
#ifndef STATESINK_CMAKE
#error "STATESINK_CMAKE must name the cmake program"
#endif

namespace statesink::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

fs::path source_path(const std::string& relative) {
  return fs::path(STATESINK_SOURCE_DIR) / relative;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// YAML through python3-yaml (installed by scripts/install-deps.sh), handed over as JSON.
json load_yaml(const std::string& relative) {
  const CommandResult r =
      run_command({"python3", "-c",
                   "import json, sys, yaml\n"
                   "json.dump(yaml.safe_load(open(sys.argv[1], encoding='utf-8')), sys.stdout)",
                   source_path(relative).string()});
  if (r.exit_code != 0) {
    throw std::runtime_error(relative + " does not parse as YAML (python3-yaml comes with " +
                             "scripts/install-deps.sh): " + r.err);
  }
  return json::parse(r.out);
}

const json& compose() {
  static const json parsed = load_yaml("docker-compose.yml");
  return parsed;
}

const json& service(const std::string& name) { return compose().at("services").at(name); }

// .env.example, read by statesink's own .env parser (docker compose syntax). Nothing from the
// environment: the file alone must define every value.
const std::map<std::string, std::string>& env_example() {
  static const std::map<std::string, std::string> parsed = config::parse_dotenv(
      read_source_file(".env.example"), [](const std::string&) { return std::nullopt; });
  return parsed;
}

// Names of the variables a compose file interpolates: $NAME, ${NAME}, ${NAME:-default} and the
// like; `$$` is a literal dollar, left to the container's shell.
std::set<std::string> compose_variables(const std::string& text) {
  std::set<std::string> names;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] != '$') continue;
    if (text[i + 1] == '$') {
      ++i;
      continue;
    }
    std::size_t start = i + 1 + (text[i + 1] == '{' ? 1 : 0);
    std::size_t end = start;
    while (end < text.size() && word(text[end])) ++end;
    if (end > start) names.insert(text.substr(start, end - start));
  }
  return names;
}

// A compose value with its ${NAME} / $NAME / ${NAME:-default} references replaced.
std::string interpolate(const std::string& value, const std::map<std::string, std::string>& vars) {
  static const std::regex reference(R"(\$\$|\$\{(\w+)(?::?-([^}]*))?\}|\$(\w+))");
  std::string out;
  auto last = value.cbegin();
  for (std::sregex_iterator it(value.begin(), value.end(), reference), end; it != end; ++it) {
    const std::smatch& m = *it;
    out.append(last, m[0].first);
    last = m[0].second;
    if (m.str(0) == "$$") {
      out += '$';
      continue;
    }
    const std::string name = m[1].matched ? m.str(1) : m.str(3);
    const auto found = vars.find(name);
    out += found != vars.end() ? found->second : m.str(2);
  }
  out.append(last, value.cend());
  return out;
}

std::vector<std::string> string_list(const json& value) {
  std::vector<std::string> out;
  if (value.is_string()) {
    out.push_back(value.get<std::string>());
  } else if (value.is_array()) {
    for (const json& item : value) out.push_back(item.get<std::string>());
  }
  return out;
}

struct BindMount {
  std::string source;  // relative to the repository, as written ("./deploy/...")
  std::string target;  // inside the container
};

std::vector<BindMount> bind_mounts(const json& svc) {
  std::vector<BindMount> mounts;
  if (!svc.contains("volumes")) return mounts;
  for (const json& volume : svc.at("volumes")) {
    const std::string spec = volume.get<std::string>();
    const std::size_t colon = spec.find(':');
    const std::string source = spec.substr(0, colon);
    if (!source.starts_with(".") && !source.starts_with("/")) continue;  // a named volume
    std::string target = spec.substr(colon + 1);
    target = target.substr(0, target.find(':'));
    mounts.push_back({source, target});
  }
  return mounts;
}

// The repository file that a container path of `svc` shows, through its bind mounts.
std::optional<fs::path> repository_file(const json& svc, const std::string& container_path) {
  for (const BindMount& m : bind_mounts(svc)) {
    if (container_path == m.target) return source_path(m.source);
    if (container_path.starts_with(m.target + "/")) {
      return source_path(m.source) / container_path.substr(m.target.size() + 1);
    }
  }
  return std::nullopt;
}

std::string restart_policy(const json& svc) {
  return svc.contains("restart") ? svc.at("restart").get<std::string>() : "no";
}

bool has_health_check(const json& svc) {
  if (!svc.contains("healthcheck")) return false;
  const json& check = svc.at("healthcheck");
  return !check.value("disable", false) && check.contains("test") && !check.at("test").empty();
}

// `statesink ingest --help`: the settings it reads, by flag and environment variable.
const std::string& ingest_help() {
  static const std::string help = [] {
    const CommandResult r = run_command({STATESINK_BINARY, "ingest", "--help"});
    if (r.exit_code != 0) throw std::runtime_error("statesink ingest --help failed: " + r.err);
    return r.out;
  }();
  return help;
}

// Passwords are settings too, but --help does not list them (they have no flags).
const std::set<std::string> kPasswordVariables = {"STATESINK_DB_PASSWORD",
                                                  "STATESINK_MQTT_PASSWORD"};

bool ingest_reads(const std::string& variable) {
  return kPasswordVariables.contains(variable) ||
         std::regex_search(ingest_help(), std::regex("\\b" + variable + "\\b"));
}

// ---------------------------------------------------------------------------------------------
// docker-compose.yml and .env.example

TEST(Compose, HasTheServicesWithHealthChecksAndStartConditions) {
  const json& services = compose().at("services");
  std::set<std::string> names;
  for (const auto& [name, svc] : services.items()) names.insert(name);
  EXPECT_EQ(names, (std::set<std::string>{"mysql", "mosquitto", "migrate", "grants", "ingest",
                                          "grafana"}));

  const std::set<std::string> one_shots = {"migrate", "grants"};
  for (const auto& [name, svc] : services.items()) {
    SCOPED_TRACE("service " + name);
    if (one_shots.contains(name)) {
      // A one-shot that restarts never completes, and what waits for it never starts.
      EXPECT_EQ(restart_policy(svc), "no");
    } else {
      EXPECT_THAT(restart_policy(svc), ::testing::AnyOf("unless-stopped", "always"));
      EXPECT_TRUE(has_health_check(svc)) << "a long-running service needs a health check";
    }
    if (svc.contains("ports")) {
      // Unquoted, YAML 1.1 reads 1883:1883 as a number in base 60.
      for (const json& port : svc.at("ports")) EXPECT_TRUE(port.is_string()) << port.dump();
    }
    if (svc.contains("environment")) {
      ASSERT_TRUE(svc.at("environment").is_object()) << "environment as a map";
      for (const auto& [key, value] : svc.at("environment").items()) {
        EXPECT_TRUE(value.is_string())
            << key << ": quote it (YAML turns false/no/on into booleans)";
      }
    }
    if (!svc.contains("depends_on")) continue;
    const json& depends = svc.at("depends_on");
    ASSERT_TRUE(depends.is_object()) << "depends_on with conditions, not a plain list";
    for (const auto& [target, how] : depends.items()) {
      ASSERT_TRUE(services.contains(target)) << "depends on unknown service " << target;
      const std::string condition = how.at("condition").get<std::string>();
      if (condition == "service_healthy") {
        EXPECT_TRUE(has_health_check(services.at(target)))
            << target << " is waited for as healthy but has no health check";
      } else if (condition == "service_completed_successfully") {
        EXPECT_TRUE(one_shots.contains(target)) << target << " never completes";
      } else {
        ADD_FAILURE() << name << " waits for " << target << " only to start (" << condition
                      << "): nothing says it is ready";
      }
    }
  }

  auto condition = [&](const std::string& svc, const std::string& on) -> std::string {
    const json& depends = service(svc).value("depends_on", json::object());
    return depends.contains(on) ? depends.at(on).at("condition").get<std::string>() : "none";
  };
  EXPECT_EQ(condition("migrate", "mysql"), "service_healthy");
  EXPECT_EQ(condition("grants", "migrate"), "service_completed_successfully");
  EXPECT_EQ(condition("ingest", "migrate"), "service_completed_successfully");
  EXPECT_EQ(condition("ingest", "grants"), "service_completed_successfully");
  EXPECT_EQ(condition("ingest", "mysql"), "service_healthy");
  EXPECT_EQ(condition("ingest", "mosquitto"), "service_healthy");
  EXPECT_EQ(condition("grafana", "grants"), "service_completed_successfully");
  EXPECT_EQ(condition("grafana", "mysql"), "service_healthy");

  // MySQL 8.4, with what creating triggers needs when the binary log is on.
  EXPECT_THAT(service("mysql").at("image").get<std::string>(), ::testing::StartsWith("mysql:8.4"));
  EXPECT_THAT(string_list(service("mysql").at("command")),
              Contains("--log-bin-trust-function-creators=1"));
  EXPECT_THAT(service("grafana").at("image").get<std::string>(), HasSubstr("grafana"));
  EXPECT_THAT(string_list(service("migrate").at("command")),
              ::testing::ElementsAre("migrate", "up"));
  EXPECT_THAT(string_list(service("ingest").at("command")), ::testing::ElementsAre("ingest"));
  // The broker keeps the session under the client id; the default (the host name) changes with
  // every new container.
  EXPECT_TRUE(service("ingest").at("environment").contains("STATESINK_CLIENT_ID"));
  // The owner account migrates; ingest only inserts.
  EXPECT_THAT(service("migrate").at("environment").at("STATESINK_DB").get<std::string>(),
              HasSubstr("//statesink@"));
  EXPECT_THAT(service("ingest").at("environment").at("STATESINK_DB").get<std::string>(),
              HasSubstr("//statesink_ingest@"));
}

TEST(Compose, ReferencesOnlyFilesThatExist) {
  const json& services = compose().at("services");
  std::set<std::string> declared_volumes;
  const json volumes = compose().value("volumes", json::object());
  for (const auto& [name, v] : volumes.items()) {
    declared_volumes.insert(name);
  }
  for (const auto& [name, svc] : services.items()) {
    SCOPED_TRACE("service " + name);
    EXPECT_TRUE(svc.contains("image") || svc.contains("build"));
    if (svc.contains("build")) {
      const json& build = svc.at("build");
      const std::string context =
          build.is_string() ? build.get<std::string>() : build.value("context", ".");
      const std::string dockerfile =
          build.is_object() ? build.value("dockerfile", "Dockerfile") : std::string("Dockerfile");
      EXPECT_TRUE(fs::is_regular_file(source_path(context) / dockerfile))
          << context << "/" << dockerfile;
    }
    if (svc.contains("volumes")) {
      for (const json& volume : svc.at("volumes")) {
        const std::string spec = volume.get<std::string>();
        const std::string source = spec.substr(0, spec.find(':'));
        if (source.starts_with("/")) {
          ADD_FAILURE() << spec << ": an absolute path exists on one machine only";
        } else if (source.starts_with(".")) {
          EXPECT_TRUE(fs::exists(source_path(source)))
              << spec << ": no such file in the repository";
        } else {
          EXPECT_TRUE(declared_volumes.contains(source)) << spec << ": volume not declared";
        }
      }
    }
    // Scripts the containers run from the repository's files.
    for (const char* key : {"entrypoint", "command"}) {
      if (!svc.contains(key)) continue;
      for (const std::string& arg : string_list(svc.at(key))) {
        if (!arg.starts_with("/statesink/")) continue;
        const auto file = repository_file(svc, arg);
        ASSERT_TRUE(file.has_value()) << arg << " is not mounted from the repository";
        EXPECT_TRUE(fs::is_regular_file(*file)) << arg << " -> " << file->string();
      }
    }
  }

  // Grafana: the provisioned dashboard folder and the home dashboard are mounted files.
  const json& grafana = service("grafana");
  for (const char* dir :
       {"/etc/grafana/provisioning/datasources", "/etc/grafana/provisioning/dashboards"}) {
    const auto mounted = repository_file(grafana, dir);
    ASSERT_TRUE(mounted.has_value()) << dir;
    EXPECT_FALSE(fs::is_empty(*mounted)) << dir;
  }
  const json providers = load_yaml("deploy/grafana/provisioning/dashboards/statesink.yaml");
  const std::string dashboards_dir =
      providers.at("providers").at(0).at("options").at("path").get<std::string>();
  const auto dashboards = repository_file(grafana, dashboards_dir);
  ASSERT_TRUE(dashboards.has_value()) << dashboards_dir << " is not mounted";
  EXPECT_TRUE(fs::is_regular_file(*dashboards / "statesink.json"));
  const auto home = repository_file(
      grafana,
      grafana.at("environment").at("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH").get<std::string>());
  ASSERT_TRUE(home.has_value());
  EXPECT_TRUE(fs::is_regular_file(*home));

  // Mosquitto: start.sh writes the password file that mosquitto.conf reads, and persistence goes
  // to a volume.
  const json& mosquitto = service("mosquitto");
  const auto conf_file = repository_file(mosquitto, "/mosquitto/config/mosquitto.conf");
  ASSERT_TRUE(conf_file.has_value()) << "mosquitto.conf is not mounted";
  const std::string conf = read_file(*conf_file);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(conf, m, std::regex(R"((^|\n)password_file\s+(\S+))")));
  EXPECT_THAT(read_source_file("deploy/mosquitto/start.sh"), HasSubstr("passwords=" + m.str(2)));
  ASSERT_TRUE(std::regex_search(conf, m, std::regex(R"((^|\n)persistence_location\s+(\S+))")));
  EXPECT_THAT(string_list(mosquitto.at("volumes")),
              Contains("mosquitto-data:" + std::regex_replace(m.str(2), std::regex("/$"), "")));
  // The ingester logs in as the user the broker is given a password for.
  EXPECT_THAT(env_example().at("MQTT_URL"), HasSubstr("//statesink@mosquitto:1883"));
  EXPECT_THAT(read_source_file("deploy/mosquitto/start.sh"),
              HasSubstr("statesink \"$MQTT_STATESINK_PASSWORD\""));
}

TEST(Compose, EveryVariableIsDefinedInEnvExample) {
  const std::set<std::string> used = compose_variables(read_source_file("docker-compose.yml"));
  EXPECT_THAT(used, Not(IsEmpty()));
  for (const std::string& name : used) {
    ASSERT_TRUE(env_example().contains(name)) << "${" << name << "} is not in .env.example";
    EXPECT_THAT(env_example().at(name), Not(IsEmpty())) << name;
  }
  for (const auto& [name, value] : env_example()) {
    EXPECT_TRUE(used.contains(name)) << name << " in .env.example is not used by the compose file";
    // statesink started in this folder reads ./.env as well: container host names must not
    // become its settings.
    EXPECT_FALSE(name.starts_with("STATESINK_")) << name;
  }
}

TEST(Compose, ServicesUseSettingsStatesinkReads) {
  for (const char* name : {"migrate", "ingest"}) {
    for (const auto& [key, value] : service(name).at("environment").items()) {
      EXPECT_TRUE(ingest_reads(key)) << name << ": " << key << " is not a statesink setting";
    }
  }
  // The systemd settings files, including the commented-out examples.
  for (const char* file :
       {"deploy/systemd/statesink.env.example", "deploy/systemd/migrate.env.example"}) {
    const std::string text = read_source_file(file);
    const std::regex key(R"((^|\n)#?\s*(STATESINK_\w+)=)");
    int keys = 0;
    for (std::sregex_iterator it(text.begin(), text.end(), key), end; it != end; ++it, ++keys) {
      EXPECT_TRUE(ingest_reads((*it).str(2))) << file << ": " << (*it).str(2);
    }
    EXPECT_GT(keys, 0) << file;
  }
}

// ---------------------------------------------------------------------------------------------
// Grafana

TEST(Grafana, DataSourceIsTheReaderAccount) {
  const json provisioning = load_yaml("deploy/grafana/provisioning/datasources/statesink.yaml");
  ASSERT_EQ(provisioning.at("datasources").size(), 1u);
  const json& ds = provisioning.at("datasources").at(0);
  EXPECT_EQ(ds.at("type"), "mysql");
  EXPECT_EQ(ds.at("user"), "statesink_reader");
  EXPECT_EQ(ds.at("url"), "mysql:3306") << "the compose service and its port";
  EXPECT_EQ(ds.at("jsonData").at("database"),
            service("mysql").at("environment").at("MYSQL_DATABASE"));
  // The time macros convert with the session time zone; statesink stores UTC.
  EXPECT_EQ(ds.at("jsonData").at("timezone"), "+00:00");
  // The password comes from Grafana's environment, which the compose file fills from .env.
  const std::string password = ds.at("secureJsonData").at("password").get<std::string>();
  EXPECT_EQ(password, "${DB_READER_PASSWORD}");
  EXPECT_EQ(service("grafana").at("environment").at("DB_READER_PASSWORD"), "${DB_READER_PASSWORD}");
  // The account is the read-only one of the grants script.
  EXPECT_THAT(read_source_file("sql/grants.sql"),
              HasSubstr("GRANT SELECT ON * TO 'statesink_reader'@'%';"));
}

const json& dashboard() {
  static const json parsed =
      json::parse(read_source_file("deploy/grafana/dashboards/statesink.json"));
  return parsed;
}

struct Query {
  std::string where;  // panel title or variable name, for messages
  std::string sql;
};

std::vector<Query> panel_queries() {
  std::vector<Query> queries;
  for (const json& panel : dashboard().at("panels")) {
    for (const json& target : panel.at("targets")) {
      queries.push_back(
          {panel.at("title").get<std::string>(), target.at("rawSql").get<std::string>()});
    }
  }
  return queries;
}

TEST(Grafana, DashboardIsComplete) {
  const json& d = dashboard();
  EXPECT_EQ(d.at("uid"), "statesink");
  std::map<std::string, json> variables;
  for (const json& v : d.at("templating").at("list")) {
    variables[v.at("name").get<std::string>()] = v;
  }
  // The data source is a variable, so the file also works imported into another Grafana.
  ASSERT_TRUE(variables.contains("datasource"));
  EXPECT_EQ(variables.at("datasource").at("query"), "mysql");
  ASSERT_TRUE(variables.contains("entity")) << "the entity picker";
  EXPECT_THAT(variables.at("entity").at("query").get<std::string>(), HasSubstr("FROM entities"));

  std::set<int> ids;
  std::set<std::string> types;
  for (const json& panel : d.at("panels")) {
    SCOPED_TRACE(panel.at("title").get<std::string>());
    EXPECT_TRUE(ids.insert(panel.at("id").get<int>()).second) << "panel ids must be unique";
    types.insert(panel.at("type").get<std::string>());
    EXPECT_TRUE(panel.contains("gridPos"));
    ASSERT_THAT(panel.at("targets"), Not(IsEmpty()));
    for (const json& target : panel.at("targets")) {
      EXPECT_EQ(target.at("datasource").at("uid"), "${datasource}");
      EXPECT_EQ(target.at("rawQuery"), true);
      EXPECT_THAT(target.at("format").get<std::string>(), ::testing::AnyOf("time_series", "table"));
    }
  }
  EXPECT_TRUE(types.contains("timeseries"));
  EXPECT_TRUE(types.contains("table"));

  std::vector<Query> queries = panel_queries();
  auto uses = [&](const std::string& needle) {
    return std::any_of(queries.begin(), queries.end(),
                       [&](const Query& q) { return q.sql.find(needle) != std::string::npos; });
  };
  EXPECT_TRUE(uses("FROM current_states") || uses("JOIN current_states")) << "latest states";
  EXPECT_TRUE(uses("$__timeGroupAlias(received_at")) << "ingestion rate";
  EXPECT_TRUE(uses("$__timeFilter(f.recorded_at)")) << "numeric time series";
  EXPECT_TRUE(uses("IN ($entity)")) << "panels follow the entity picker";
  // Grafana refuses queries that name the session's user (pkg/tsdb/mysql/macros.go).
  for (const Query& q : queries) {
    std::string lower = q.sql;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const char* refused :
         {"show grants", "session_user", "current_user", "system_user", " user(", ",user("}) {
      EXPECT_THAT(lower, Not(HasSubstr(refused))) << q.where;
    }
  }
}

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
}

std::vector<std::string> dockerfile_instructions();  // below

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
  ASSERT_TRUE(wait_until([&] { return read_file(log).find("subscribing to") != std::string::npos; },
                         std::chrono::seconds(60)))
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

// ---------------------------------------------------------------------------------------------
// Dockerfile

// Instructions with continuation lines joined and comments dropped, e.g. "RUN apt-get ...".
std::vector<std::string> dockerfile_instructions() {
  std::vector<std::string> out;
  std::istringstream in(read_source_file("Dockerfile"));
  std::string line;
  std::string pending;
  while (std::getline(in, line)) {
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    line = line.substr(first);
    if (line.ends_with("\\")) {
      pending += line.substr(0, line.size() - 1) + " ";
      continue;
    }
    out.push_back(pending + line);
    pending.clear();
  }
  return out;
}

struct Stage {
  std::string from;
  std::vector<std::string> instructions;
};

std::vector<Stage> dockerfile_stages() {
  std::vector<Stage> stages;
  for (const std::string& i : dockerfile_instructions()) {
    if (i.starts_with("FROM ")) {
      stages.push_back({i.substr(5), {}});
    } else if (!stages.empty()) {
      stages.back().instructions.push_back(i);
    }
  }
  return stages;
}

// A path of the build context that .dockerignore leaves out, matched the way Docker does:
// patterns anchored at the top, '*' within one level, '**' across levels, and a directory
// that matches takes everything in it along.
bool docker_ignores(const std::string& path) {
  std::vector<std::pair<std::regex, bool>> rules;  // pattern, is an exception ('!')
  std::istringstream in(read_source_file(".dockerignore"));
  std::string line;
  while (std::getline(in, line)) {
    line = std::regex_replace(line, std::regex(R"(^\s+|\s+$)"), "");
    if (line.empty() || line[0] == '#') continue;
    const bool exception = line[0] == '!';
    if (exception) line = line.substr(1);
    line = std::regex_replace(line, std::regex("^/+|/+$"), "");
    std::string re;
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (line.compare(i, 3, "**/") == 0) {
        re += "(.*/)?";
        i += 2;
      } else if (line.compare(i, 2, "**") == 0) {
        re += ".*";
        ++i;
      } else if (line[i] == '*') {
        re += "[^/]*";
      } else if (line[i] == '?') {
        re += "[^/]";
      } else if (std::strchr(".+()^$|{}[]\\", line[i]) != nullptr) {
        re += std::string("\\") + line[i];
      } else {
        re += line[i];
      }
    }
    rules.emplace_back(std::regex(re), exception);
  }
  bool ignored = false;
  for (const auto& [pattern, exception] : rules) {
    for (std::size_t end = path.find('/');; end = path.find('/', end + 1)) {
      if (std::regex_match(path.substr(0, end), pattern)) {
        ignored = !exception;
        break;
      }
      if (end == std::string::npos) break;
    }
  }
  return ignored;
}

TEST(Dockerfile, BuildsWithTheInstallScriptAndRunsUnprivileged) {
  const std::vector<Stage> stages = dockerfile_stages();
  ASSERT_GE(stages.size(), 2u) << "multi-stage: build tools stay out of the image";
  const std::string dockerfile = read_source_file("Dockerfile");
  EXPECT_THAT(dockerfile, ::testing::ContainsRegex("ARG DEBIAN_IMAGE=debian:12"));
  for (const Stage& s : stages) EXPECT_THAT(s.from, HasSubstr("${DEBIAN_IMAGE}"));

  // The build stage installs with the script CI runs (scripts/test.sh runs it first).
  const Stage& build = stages.front();
  bool copied = false;
  bool installed = false;
  for (const std::string& i : build.instructions) {
    if (i.starts_with("COPY ") && i.find("scripts/install-deps.sh") != std::string::npos) {
      copied = true;
    }
    if (i.starts_with("RUN ") && i.find("scripts/install-deps.sh") != std::string::npos) {
      EXPECT_TRUE(copied) << "the script is copied before it runs";
      installed = true;
    }
  }
  EXPECT_TRUE(installed) << "the build stage must run scripts/install-deps.sh";
  EXPECT_THAT(read_source_file("scripts/test.sh"), HasSubstr("scripts/install-deps.sh"));
  EXPECT_THAT(read_source_file(".ci/run"), HasSubstr("scripts/test.sh"));

  // The image runs as a user of its own.
  const Stage& runtime = stages.back();
  std::string user;
  std::set<std::string> copied_to;
  std::string healthcheck;
  std::string entrypoint;
  for (const std::string& i : runtime.instructions) {
    if (i.starts_with("USER ")) user = i.substr(5);
    if (i.starts_with("HEALTHCHECK ")) healthcheck = i;
    if (i.starts_with("ENTRYPOINT ")) entrypoint = i;
    if (i.starts_with("COPY ")) {
      std::istringstream words(i.substr(5));
      std::string word;
      std::string last;
      while (words >> word) last = word;
      copied_to.insert(last);
    }
  }
  EXPECT_THAT(user, Not(IsEmpty())) << "no USER: the container would run as root";
  EXPECT_THAT(user, Not(::testing::AnyOf("root", "0", "root:root", "0:0")));
  EXPECT_THAT(user, Not(::testing::StartsWith("root:")));
  EXPECT_THAT(user, Not(::testing::StartsWith("0:")));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(healthcheck, m, std::regex(R"re(CMD \["([^"]+)")re")));
  EXPECT_TRUE(copied_to.contains(m.str(1)))
      << "health check " << m.str(1) << " is not in the image";
  EXPECT_EQ(service("ingest").at("healthcheck").at("test").at(1), m.str(1))
      << "compose runs the image's health check";
  ASSERT_TRUE(std::regex_search(entrypoint, m, std::regex(R"re(\["([^"]+)")re")));
  EXPECT_TRUE(copied_to.contains(m.str(1))) << m.str(1);

  // Settings the image sets are ones statesink reads.
  for (const std::string& i : runtime.instructions) {
    if (!i.starts_with("ENV ")) continue;
    std::istringstream words(i.substr(4));
    std::string word;
    while (words >> word) {
      const std::string key = word.substr(0, word.find('='));
      if (key.starts_with("STATESINK_")) {
        EXPECT_TRUE(ingest_reads(key)) << key;
      }
    }
  }

  // What the stages copy from the build context exists and is not left out of it.
  for (const Stage& s : stages) {
    for (const std::string& i : s.instructions) {
      if (!i.starts_with("COPY ") || i.find("--from=") != std::string::npos) continue;
      std::istringstream words(i.substr(5));
      std::vector<std::string> args;
      std::string word;
      while (words >> word) {
        if (!word.starts_with("--")) args.push_back(word);
      }
      ASSERT_GE(args.size(), 2u) << i;
      for (std::size_t a = 0; a + 1 < args.size(); ++a) {
        if (args[a] == ".") continue;
        EXPECT_TRUE(fs::exists(source_path(args[a]))) << i;
        EXPECT_FALSE(docker_ignores(args[a])) << args[a] << " is left out by .dockerignore";
      }
    }
  }
}

TEST(Dockerfile, BuildContextHasTheSourcesButNoSecrets) {
  int checked = 0;
  for (const char* top : {"src", "cmake", "migrations", "sql", "deploy"}) {
    for (const auto& entry : fs::recursive_directory_iterator(source_path(top))) {
      if (!entry.is_regular_file()) continue;
      const std::string relative =
          fs::relative(entry.path(), fs::path(STATESINK_SOURCE_DIR)).generic_string();
      EXPECT_FALSE(docker_ignores(relative)) << relative << " is left out of the build context";
      ++checked;
    }
  }
  for (const char* file : {"CMakeLists.txt", "scripts/install-deps.sh"}) {
    EXPECT_FALSE(docker_ignores(file)) << file;
  }
  EXPECT_GT(checked, 50);
  EXPECT_FALSE(docker_ignores("src/spool/spool.cpp")) << "source code named like the spool";
  EXPECT_TRUE(docker_ignores(".env")) << "passwords must not go into the image";
  EXPECT_TRUE(docker_ignores("build-deploy/statesink"));
  EXPECT_TRUE(docker_ignores(".git/config"));
  EXPECT_TRUE(docker_ignores("spool/segment-1"));
}

// Debian 12 is the image's base: there, the binary built here needs exactly the runtime stage's
// packages (the build checks it with ldd too, but only when an image is built).
TEST(Dockerfile, RuntimePackagesCoverWhatTheBinaryLinks) {
  const std::string os = read_file("/etc/os-release");
  if (os.find("\nID=debian") == std::string::npos ||
      os.find("VERSION_ID=\"12\"") == std::string::npos) {
    GTEST_SKIP() << "package names are Debian 12's (the image's base); this machine is not "
                    "Debian 12";
  }
  std::set<std::string> runtime_packages;
  const std::vector<Stage> stages = dockerfile_stages();
  for (const std::string& i : stages.back().instructions) {
    if (!i.starts_with("RUN ") || i.find("apt-get") == std::string::npos) continue;
    const std::string after = i.substr(i.find("--no-install-recommends") + 23);
    std::istringstream words(after.substr(0, after.find("&&")));
    std::string word;
    while (words >> word) runtime_packages.insert(word);
  }
  ASSERT_THAT(runtime_packages, Not(IsEmpty()));

  const CommandResult ldd = run_command({"ldd", STATESINK_BINARY});
  ASSERT_EQ(ldd.exit_code, 0) << ldd.err;
  std::vector<std::string> args = {"dpkg-query", "-S"};
  const std::regex library(R"(=> (/\S+))");
  for (std::sregex_iterator it(ldd.out.begin(), ldd.out.end(), library), end; it != end; ++it) {
    const std::string path = (*it).str(1);
    // dpkg knows a library under /lib or /usr/lib, whichever its package ships (usrmerge).
    args.push_back(path);
    args.push_back(path.starts_with("/usr/") ? path.substr(4) : "/usr" + path);
  }
  const CommandResult owners = run_command(args);
  std::set<std::string> needed;
  std::istringstream lines(owners.out);
  std::string line;
  while (std::getline(lines, line)) needed.insert(line.substr(0, line.find(':')));
  ASSERT_THAT(needed, Not(IsEmpty())) << owners.err;
  for (const std::string& package : needed) {
    // Part of every Debian image, or sanitizer runtimes of a test build.
    if (package == "libc6" || package == "libgcc-s1" || package == "libstdc++6" ||
        package.starts_with("libasan") || package.starts_with("libubsan")) {
      continue;
    }
    EXPECT_TRUE(runtime_packages.contains(package))
        << "the binary links a library of " << package
        << ", which the Dockerfile's runtime stage does not install";
  }
}

// ---------------------------------------------------------------------------------------------
// cmake --install and the systemd units

class Install : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    prefix_ = std::make_unique<TempDir>("statesink-install");
    result_ = run_command(
        {STATESINK_CMAKE, "--install", STATESINK_BUILD_DIR, "--prefix", prefix_->path().string()},
        {}, std::chrono::seconds(300));
  }
  static void TearDownTestSuite() { prefix_.reset(); }

  void SetUp() override { ASSERT_EQ(result_.exit_code, 0) << result_.out << result_.err; }

  static fs::path prefix() { return prefix_->path(); }

  static inline std::unique_ptr<TempDir> prefix_;
  static inline CommandResult result_;
};

TEST_F(Install, PlacesBinaryMigrationsUnitsAndDashboard) {
  const fs::path binary = prefix() / "bin" / "statesink";
  ASSERT_TRUE(fs::is_regular_file(binary));
  EXPECT_EQ(::access(binary.c_str(), X_OK), 0);
  const CommandResult version = run_command({binary.string(), "version"});
  EXPECT_EQ(version.exit_code, 0) << version.err;

  std::set<std::string> source_migrations;
  for (const auto& e : fs::directory_iterator(source_path("migrations"))) {
    source_migrations.insert(e.path().filename().string());
  }
  std::set<std::string> installed_migrations;
  for (const auto& e : fs::directory_iterator(prefix() / "share/statesink/migrations")) {
    installed_migrations.insert(e.path().filename().string());
    EXPECT_EQ(e.path().extension(), ".sql");
  }
  EXPECT_EQ(installed_migrations, source_migrations);
  EXPECT_TRUE(fs::is_regular_file(prefix() / "share/statesink/sql/grants.sql"));
  EXPECT_EQ(read_file(prefix() / "share/statesink/grafana/statesink.json"),
            read_source_file("deploy/grafana/dashboards/statesink.json"));
  EXPECT_TRUE(fs::is_regular_file(prefix() / "share/statesink/systemd/statesink.env.example"));

  const fs::path units = prefix() / "lib/systemd/system";
  const std::string ingest = read_file(units / "statesink-ingest.service");
  EXPECT_THAT(ingest, HasSubstr("\nExecStart=" + binary.string() + " ingest\n"));
  EXPECT_THAT(ingest, Not(HasSubstr("/usr/local/bin/statesink")));
  for (const char* line :
       {"Restart=on-failure", "EnvironmentFile=/etc/statesink/statesink.env", "NoNewPrivileges=yes",
        "ProtectSystem=strict", "StateDirectory=statesink"}) {
    EXPECT_THAT(ingest, HasSubstr("\n" + std::string(line) + "\n"));
  }
  const std::string migrate = read_file(units / "statesink-migrate.service");
  EXPECT_THAT(migrate, HasSubstr("\nExecStart=" + binary.string() + " migrate up\n"));
  EXPECT_THAT(migrate, HasSubstr("\nType=oneshot\n"));
  const std::string prune = read_file(units / "statesink-prune.service");
  EXPECT_THAT(prune, HasSubstr("\nExecStart=" + binary.string() +
                               " prune --older-than ${PRUNE_OLDER_THAN}\n"));
  EXPECT_THAT(prune, HasSubstr("\nEnvironment=PRUNE_OLDER_THAN=90d\n"));
  EXPECT_THAT(read_file(units / "statesink-prune.timer"), HasSubstr("\nOnCalendar=daily\n"));
  EXPECT_THAT(read_file(prefix() / "share/statesink/systemd/migrate.env.example"),
              HasSubstr("PRUNE_OLDER_THAN="));
  // The spool lives in the state directory, which is where statesink looks under systemd.
  EXPECT_THAT(ingest_help(), HasSubstr("$STATE_DIRECTORY/spool"));
}

TEST_F(Install, SystemdAcceptsTheUnits) {
  const char* candidates[] = {"/usr/bin/systemd-analyze", "/bin/systemd-analyze"};
  std::string analyze;
  for (const char* c : candidates) {
    if (::access(c, X_OK) == 0) analyze = c;
  }
  if (analyze.empty()) {
    GTEST_SKIP() << "systemd-analyze is not installed (package systemd), so the units are not "
                    "verified here";
  }
  const fs::path units = prefix() / "lib/systemd/system";
  std::vector<std::string> args = {analyze, "verify", "--man=no"};
  for (const char* unit : {"statesink-ingest.service", "statesink-migrate.service",
                           "statesink-prune.service", "statesink-prune.timer"}) {
    args.push_back((units / unit).string());
  }
  const CommandResult r = run_command(args);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // Unknown or misspelt keys are only warnings, with exit status 0.
  EXPECT_EQ(r.out + r.err, "");
}

}  // namespace
}  // namespace statesink::testing
