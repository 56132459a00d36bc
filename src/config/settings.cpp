#include "config/settings.h"

#include <unistd.h>

#include <array>
#include <cstdlib>

#include "util/error.h"

namespace statesink::config {
namespace {

std::optional<std::string> process_environment(const std::string& name) {
  if (const char* value = std::getenv(name.c_str())) {
    return std::string(value);
  }
  return std::nullopt;
}

std::string trim(std::string_view text) {
  auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) {
    return "";
  }
  auto last = text.find_last_not_of(" \t");
  return std::string(text.substr(first, last - first + 1));
}

// MQTT 3.1.1 section 4.7: '#' only as the whole last level, '+' only as a whole level.
void validate_filter(const std::string& filter) {
  auto bad = [&](const std::string& why) {
    throw UsageError("invalid topic filter '" + filter + "': " + why +
                     " (example: homeassistant/# or home/+/sensor/#)");
  };
  if (filter.empty()) {
    bad("it is empty");
  }
  if (filter.starts_with("$share/")) {
    bad("give the group with --share-group, not in the filter");
  }
  std::size_t start = 0;
  while (true) {
    auto slash = filter.find('/', start);
    std::string_view level = std::string_view(filter).substr(
        start, slash == std::string::npos ? std::string::npos : slash - start);
    if (level.find('#') != std::string_view::npos && (level != "#" || slash != std::string::npos)) {
      bad("'#' must be a whole level and the last one");
    }
    if (level.find('+') != std::string_view::npos && level != "+") {
      bad("'+' must be a whole level");
    }
    if (slash == std::string::npos) {
      break;
    }
    start = slash + 1;
  }
  if (filter.find('\0') != std::string::npos) {
    bad("it contains a NUL character");
  }
}

}  // namespace

SettingSources::SettingSources(Lookup environment, std::map<std::string, std::string> dotenv)
    : environment_(std::move(environment)), dotenv_(std::move(dotenv)) {}

SettingSources SettingSources::from_process(const std::filesystem::path& dotenv_path) {
  return SettingSources(process_environment, load_dotenv(dotenv_path, process_environment));
}

std::optional<std::string> SettingSources::lookup(const std::string& variable) const {
  if (environment_) {
    if (auto value = environment_(variable)) {
      return value;
    }
  }
  if (auto it = dotenv_.find(variable); it != dotenv_.end()) {
    return it->second;
  }
  return std::nullopt;
}

std::string SettingSources::resolve(const std::optional<std::string>& flag,
                                    const std::string& variable, std::string_view fallback) const {
  if (flag) {
    return *flag;
  }
  if (auto value = lookup(variable)) {
    return *value;
  }
  return std::string(fallback);
}

std::vector<std::string> split_list(std::string_view list) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (true) {
    const auto comma = list.find(',', start);
    items.push_back(
        trim(list.substr(start, comma == std::string_view::npos ? comma : comma - start)));
    if (comma == std::string_view::npos) {
      return items;
    }
    start = comma + 1;
  }
}

DbUrl resolve_db_url(const std::optional<std::string>& flag, const SettingSources& sources) {
  DbUrl url = parse_db_url(sources.resolve(flag, "STATESINK_DB", kDefaultDbUrl));
  if (url.password.empty()) {
    url.password = sources.lookup("STATESINK_DB_PASSWORD").value_or("");
  }
  return url;
}

MqttUrl resolve_mqtt_url(const std::optional<std::string>& flag, const SettingSources& sources) {
  MqttUrl url = parse_mqtt_url(sources.resolve(flag, "STATESINK_MQTT", kDefaultMqttUrl));
  if (url.password.empty()) {
    url.password = sources.lookup("STATESINK_MQTT_PASSWORD").value_or("");
    if (!url.password.empty() && url.user.empty()) {
      throw UsageError(
          "STATESINK_MQTT_PASSWORD is set but the MQTT URL has no user name "
          "(write it as mqtt://USER@host:port)");
    }
  }
  return url;
}

std::vector<std::string> resolve_topics(const std::vector<std::string>& flags,
                                        const SettingSources& sources) {
  std::vector<std::string> topics;
  if (!flags.empty()) {
    topics = flags;
  } else if (auto list = sources.lookup("STATESINK_TOPICS")) {
    topics = split_list(*list);
  } else {
    topics.emplace_back(kDefaultTopic);
  }
  for (const auto& topic : topics) {
    validate_filter(topic);
  }
  return topics;
}

std::string resolve_client_id(const std::optional<std::string>& flag,
                              const SettingSources& sources) {
  std::array<char, 256> host{};
  std::string fallback = "statesink";
  if (gethostname(host.data(), host.size() - 1) == 0 && host[0] != '\0') {
    fallback += '-';
    fallback += host.data();
  }
  std::string id = sources.resolve(flag, "STATESINK_CLIENT_ID", fallback);
  if (id.empty()) {
    throw UsageError("the MQTT client id is empty (set --client-id or STATESINK_CLIENT_ID)");
  }
  // MQTT 3.1.1 brokers must accept 23 bytes and most accept far more; a
  // length limit is left to the broker, which says so when it refuses.
  return id;
}

std::string resolve_spool_dir(const std::optional<std::string>& flag,
                              const SettingSources& sources) {
  // systemd's StateDirectory= sets STATE_DIRECTORY (a colon list); elsewhere ./spool.
  std::string fallback = "spool";
  if (const char* state = std::getenv("STATE_DIRECTORY"); state != nullptr && *state != '\0') {
    const std::string first(state);
    fallback = first.substr(0, first.find(':')) + "/spool";
  }
  return sources.resolve(flag, "STATESINK_SPOOL_DIR", fallback);
}

}  // namespace statesink::config
