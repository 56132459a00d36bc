#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace statesink::config {

// mysql://[user[:password]@]host[:port][/database][?option=value&...]
// Options: ssl-mode (DISABLED|PREFERRED|REQUIRED|VERIFY_CA|VERIFY_IDENTITY), ssl-ca,
// ssl-cert, ssl-key, socket, connect-timeout (seconds), read-timeout, write-timeout.
struct DbHost {
  std::string name;
  std::uint16_t port = 3306;
  bool bracketed = false;  // given as [IPv6]
  bool operator==(const DbHost&) const = default;
};

// mysql://user[:password]@host[:port][,host[:port]...]/database[?option=value&...]
// Several hosts are tried in order (see db::Connection::open).
struct DbUrl {
  std::string user = "statesink";
  std::string password;  // empty when none was given
  // The first host; `hosts` lists them all (empty: just this one).
  std::string host = "127.0.0.1";
  bool host_bracketed = false;  // given as [IPv6], written back the same way
  std::uint16_t port = 3306;
  std::vector<DbHost> hosts;
  std::string database = "statesink";
  std::map<std::string, std::string> options;

  // The URL with the password shown as "***": the only form that may be logged.
  std::string redacted() const;
  // The same URL naming only its `index`th host.
  DbUrl only_host(std::size_t index) const;
  std::size_t host_count() const { return hosts.empty() ? 1 : hosts.size(); }
};

// mqtt://[user[:password]@]host[:port][?option=value&...] or mqtts:// for TLS.
// Options for mqtts: ca (CA file), cert, key, insecure (true|false).
struct MqttUrl {
  bool tls = false;
  std::string user;
  std::string password;
  std::string host = "127.0.0.1";
  bool host_bracketed = false;
  std::uint16_t port = 1883;  // 8883 for mqtts when none is given
  std::map<std::string, std::string> options;

  std::string redacted() const;
};

// Both throw statesink::UsageError saying what is wrong with the URL (never
// repeating its password) and what a valid one looks like.
DbUrl parse_db_url(std::string_view url);
MqttUrl parse_mqtt_url(std::string_view url);

// Replaces the password of every "scheme://user:password@" found in text with
// "***", for messages that might quote a URL (errors from libraries, echoes).
std::string redact_urls(std::string_view text);

}  // namespace statesink::config
