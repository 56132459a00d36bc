// What the checks of the deployment files share: reading the compose file, .env.example and
// the Grafana dashboard, and what `statesink ingest --help` says it reads.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config/dotenv.h"
#include "process.h"
#include "source_files.h"

namespace statesink::testing {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

inline std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// YAML through python3-yaml (installed by scripts/install-deps.sh), handed over as JSON.
inline json load_yaml(const std::string& relative) {
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

inline const json& compose() {
  static const json parsed = load_yaml("docker-compose.yml");
  return parsed;
}

inline const json& service(const std::string& name) { return compose().at("services").at(name); }

// .env.example, read by statesink's own .env parser (docker compose syntax). Nothing from the
// environment: the file alone must define every value.
inline const std::map<std::string, std::string>& env_example() {
  static const std::map<std::string, std::string> parsed = config::parse_dotenv(
      read_source_file(".env.example"), [](const std::string&) { return std::nullopt; });
  return parsed;
}

// Names of the variables a compose file interpolates: $NAME, ${NAME}, ${NAME:-default} and the
// like; `$$` is a literal dollar, left to the container's shell.
inline std::set<std::string> compose_variables(const std::string& text) {
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
inline std::string interpolate(const std::string& value,
                               const std::map<std::string, std::string>& vars) {
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

inline std::vector<std::string> string_list(const json& value) {
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

inline std::vector<BindMount> bind_mounts(const json& svc) {
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
inline std::optional<fs::path> repository_file(const json& svc, const std::string& container_path) {
  for (const BindMount& m : bind_mounts(svc)) {
    if (container_path == m.target) return source_path(m.source);
    if (container_path.starts_with(m.target + "/")) {
      return source_path(m.source) / container_path.substr(m.target.size() + 1);
    }
  }
  return std::nullopt;
}

inline std::string restart_policy(const json& svc) {
  return svc.contains("restart") ? svc.at("restart").get<std::string>() : "no";
}

inline bool has_health_check(const json& svc) {
  if (!svc.contains("healthcheck")) return false;
  const json& check = svc.at("healthcheck");
  return !check.value("disable", false) && check.contains("test") && !check.at("test").empty();
}

// `statesink ingest --help`: the settings it reads, by flag and environment variable.
inline const std::string& ingest_help() {
  static const std::string help = [] {
    const CommandResult r = run_command({STATESINK_BINARY, "ingest", "--help"});
    if (r.exit_code != 0) throw std::runtime_error("statesink ingest --help failed: " + r.err);
    return r.out;
  }();
  return help;
}

// Passwords are settings too, but --help does not list them (they have no flags).
inline const std::set<std::string> kPasswordVariables = {"STATESINK_DB_PASSWORD",
                                                         "STATESINK_MQTT_PASSWORD"};

inline bool ingest_reads(const std::string& variable) {
  return kPasswordVariables.contains(variable) ||
         std::regex_search(ingest_help(), std::regex("\\b" + variable + "\\b"));
}

inline const json& dashboard() {
  static const json parsed =
      json::parse(read_source_file("deploy/grafana/dashboards/statesink.json"));
  return parsed;
}

struct Query {
  std::string where;  // panel title or variable name, for messages
  std::string sql;
};

inline std::vector<Query> panel_queries() {
  std::vector<Query> queries;
  for (const json& panel : dashboard().at("panels")) {
    for (const json& target : panel.at("targets")) {
      queries.push_back(
          {panel.at("title").get<std::string>(), target.at("rawSql").get<std::string>()});
    }
  }
  return queries;
}

// Instructions with continuation lines joined and comments dropped, e.g. "RUN apt-get ...".
inline std::vector<std::string> dockerfile_instructions() {
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

}  // namespace statesink::testing
