// The deployment files, checked without servers and without a Docker engine (images are not
// built, containers not started): the compose file parses, its services carry the health
// checks and start conditions that order them, and everything it names exists (files,
// variables, settings statesink reads); the Grafana data source and dashboard are complete;
// the Dockerfile builds with the install script CI runs and ends unprivileged; `cmake
// --install` lays out what the systemd units name, and systemd accepts the units.
#include "deploy_files.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <regex>
#include <set>

#ifndef STATESINK_BUILD_DIR
#error "STATESINK_BUILD_DIR must name the build directory that `cmake --install` installs from"
#endif
#ifndef STATESINK_CMAKE
#error "STATESINK_CMAKE must name the cmake program"
#endif

namespace statesink::testing {
namespace {

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
  EXPECT_TRUE(uses("$__timeFilter(f.happened_at)")) << "numeric time series, at event time";
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

// ---------------------------------------------------------------------------------------------
// Dockerfile

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
  EXPECT_THAT(read_file(units / "statesink-statistics.service"),
              HasSubstr("\nExecStart=" + binary.string() + " statistics update\n"));
  EXPECT_THAT(read_file(units / "statesink-statistics.timer"),
              HasSubstr("\nOnCalendar=*:01/5\n"));
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
                           "statesink-prune.service", "statesink-prune.timer",
                           "statesink-statistics.service", "statesink-statistics.timer"}) {
    args.push_back((units / unit).string());
  }
  const CommandResult r = run_command(args);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // Unknown or misspelt keys are only warnings, with exit status 0.
  EXPECT_EQ(r.out + r.err, "");
}

}  // namespace
}  // namespace statesink::testing
