#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/dotenv.h"
#include "config/url.h"

namespace statesink::config {

inline constexpr std::string_view kDefaultDbUrl = "mysql://statesink@127.0.0.1:3306/statesink";
inline constexpr std::string_view kDefaultMqttUrl = "mqtt://127.0.0.1:1883";
inline constexpr std::string_view kDefaultTopic = "homeassistant/#";

// Where a setting comes from when no flag gives it: the environment first,
// then the .env file of the working directory.
class SettingSources {
 public:
  SettingSources(Lookup environment, std::map<std::string, std::string> dotenv);

  // The process environment and ./.env (or another file).
  static SettingSources from_process(const std::filesystem::path& dotenv_path = ".env");

  std::optional<std::string> lookup(const std::string& variable) const;

  // The flag if given, else the variable from the environment, else from .env, else fallback.
  std::string resolve(const std::optional<std::string>& flag, const std::string& variable,
                      std::string_view fallback) const;

 private:
  Lookup environment_;
  std::map<std::string, std::string> dotenv_;
};

// The items of a comma list in a setting ("a, b,c"), each without the spaces
// and tabs around it; empty items are kept, for the caller to reject.
std::vector<std::string> split_list(std::string_view list);

// --db / STATESINK_DB; the password comes from the URL, or else from
// STATESINK_DB_PASSWORD (environment, then .env).
DbUrl resolve_db_url(const std::optional<std::string>& flag, const SettingSources& sources);

// --mqtt / STATESINK_MQTT; password from the URL or STATESINK_MQTT_PASSWORD.
MqttUrl resolve_mqtt_url(const std::optional<std::string>& flag, const SettingSources& sources);

// --topic (repeatable) / STATESINK_TOPICS (comma list) / homeassistant/#.
// Empty filters and filters with misplaced wildcards are usage errors.
std::vector<std::string> resolve_topics(const std::vector<std::string>& flags,
                                        const SettingSources& sources);

// --client-id / STATESINK_CLIENT_ID / statesink-<hostname>.
std::string resolve_client_id(const std::optional<std::string>& flag,
                              const SettingSources& sources);

// --spool-dir / STATESINK_SPOOL_DIR / $STATE_DIRECTORY/spool under systemd,
// else ./spool: the ingester's spool, and the dead letters beside it.
std::string resolve_spool_dir(const std::optional<std::string>& flag,
                              const SettingSources& sources);

}  // namespace statesink::config
