#include "config/url.h"

#include <cctype>
#include <charconv>
#include <optional>
#include <set>
#include <vector>

#include "config/percent.h"
#include "util/error.h"

namespace statesink::config {
namespace {

const std::set<std::string, std::less<>> kDbOptions = {
    "ssl-mode", "ssl-ca",          "ssl-cert",     "ssl-key",
    "socket",   "connect-timeout", "read-timeout", "write-timeout"};
const std::set<std::string, std::less<>> kSslModes = {"DISABLED", "PREFERRED", "REQUIRED",
                                                      "VERIFY_CA", "VERIFY_IDENTITY"};
const std::set<std::string, std::less<>> kMqttOptions = {"ca", "cert", "key", "insecure"};

// Written so that redact_urls, which every error line passes through, leaves
// them whole: a password is shown apart from the URL.
constexpr std::string_view kDbShape =
    "mysql://user@host[:port][,host[:port]...]/database[?option=value], with "
    "user:password@ for a password";
constexpr std::string_view kMqttShape =
    "mqtt://[user@]host[:port] or mqtts://..., with user:password@ for a password";

// The parts common to both schemes, still percent-encoded where it matters.
struct Endpoint {
  std::string host;
  bool bracketed = false;  // [IPv6]
  std::optional<std::uint16_t> port;
};

struct UrlParts {
  std::string scheme;
  std::string user;
  std::string password;
  bool has_userinfo = false;
  std::vector<Endpoint> endpoints;  // host[:port], comma-separated in the URL
  std::string path;
  std::string query;
};

[[noreturn]] void fail(std::string_view what, std::string_view shape) {
  throw UsageError("invalid URL: " + std::string(what) + " (expected " + std::string(shape) + ")");
}

std::uint16_t parse_port(std::string_view text, std::string_view shape) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value == 0 ||
      value > 65535) {
    fail("port '" + std::string(text) + "' is not a number from 1 to 65535", shape);
  }
  return static_cast<std::uint16_t>(value);
}

Endpoint parse_endpoint(std::string_view rest, std::string_view shape) {
  Endpoint endpoint;
  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) {
      fail("IPv6 address without closing ']'", shape);
    }
    endpoint.host = std::string(rest.substr(1, close - 1));
    endpoint.bracketed = true;
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        fail("unexpected text after the IPv6 address", shape);
      }
      port_text = after.substr(1);
      if (port_text.empty()) {
        fail("empty port", shape);
      }
    }
  } else {
    auto colon = rest.find(':');
    endpoint.host = percent_decode(rest.substr(0, colon), "host");
    if (colon != std::string_view::npos) {
      port_text = rest.substr(colon + 1);
      if (port_text.empty()) {
        fail("empty port", shape);
      }
    }
  }
  if (endpoint.host.empty()) {
    fail("no host", shape);
  }
  if (!port_text.empty()) {
    endpoint.port = parse_port(port_text, shape);
  }
  return endpoint;
}

UrlParts split(std::string_view url, std::string_view shape) {
  UrlParts parts;
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    fail("no scheme", shape);
  }
  for (char c : url.substr(0, scheme_end)) {
    parts.scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  std::string_view rest = url.substr(scheme_end + 3);

  if (auto q = rest.find('?'); q != std::string_view::npos) {
    parts.query = std::string(rest.substr(q + 1));
    rest = rest.substr(0, q);
  }
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    parts.path = std::string(rest.substr(slash + 1));
    rest = rest.substr(0, slash);
  }
  // The password may itself contain '@' when not encoded: the last '@' ends it.
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    parts.has_userinfo = true;
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (auto colon = userinfo.find(':'); colon != std::string_view::npos) {
      parts.password = percent_decode(userinfo.substr(colon + 1), "password");
      userinfo = userinfo.substr(0, colon);
    }
    parts.user = percent_decode(userinfo, "user name");
  }

  // Commas separate hosts (a database URL may name a cluster's nodes); a
  // host name cannot contain one, and an encoded one (%2C) is split after.
  while (true) {
    const auto comma = rest.find(',');
    parts.endpoints.push_back(parse_endpoint(rest.substr(0, comma), shape));
    if (comma == std::string_view::npos) {
      break;
    }
    rest = rest.substr(comma + 1);
  }
  return parts;
}

std::map<std::string, std::string> parse_options(std::string_view query,
                                                 const std::set<std::string, std::less<>>& known,
                                                 std::string_view shape) {
  std::map<std::string, std::string> options;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) {
      continue;
    }
    auto eq = pair.find('=');
    std::string key = percent_decode(pair.substr(0, eq), "option name");
    if (!known.contains(key)) {
      std::string list;
      for (const auto& name : known) {
        list += list.empty() ? "" : ", ";
        list += name;
      }
      fail(
          std::string("unknown option '").append(key).append("' (known: ").append(list).append(")"),
          shape);
    }
    if (eq == std::string_view::npos) {
      fail("option '" + key + "' has no value", shape);
    }
    if (!options.emplace(key, percent_decode(pair.substr(eq + 1), "option value")).second) {
      fail("option '" + key + "' given twice", shape);
    }
  }
  return options;
}

void require_positive_seconds(const std::map<std::string, std::string>& options,
                              const std::string& key, std::string_view shape) {
  auto it = options.find(key);
  if (it == options.end()) {
    return;
  }
  unsigned value = 0;
  const std::string& text = it->second;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value == 0) {
    fail(key + " must be a whole number of seconds, got '" + text + "'", shape);
  }
}

std::string userinfo_redacted(const std::string& user, const std::string& password) {
  if (user.empty() && password.empty()) {
    return "";
  }
  std::string out = percent_encode(user);
  if (!password.empty()) {
    out += ":***";
  }
  return out + "@";
}

// A host given percent-encoded was decoded on parsing; encoding it again keeps
// a '@', '/' or ':' in it from reading as another part of the URL. An IPv6
// address goes between brackets as it came, since ':' there is expected.
std::string host_for_url(const std::string& host, bool bracketed) {
  return bracketed ? "[" + host + "]" : percent_encode(host);
}

std::string query_string(const std::map<std::string, std::string>& options) {
  std::string out;
  for (const auto& [key, value] : options) {
    out += (out.empty() ? "?" : "&") + key + "=" + percent_encode(value);
  }
  return out;
}

}  // namespace

DbUrl parse_db_url(std::string_view url) {
  UrlParts parts = split(url, kDbShape);
  if (parts.scheme != "mysql" && parts.scheme != "mariadb") {
    fail("scheme '" + parts.scheme + "' is not mysql:// or mariadb://", kDbShape);
  }
  DbUrl result;
  if (parts.has_userinfo) {
    if (parts.user.empty()) {
      fail("empty user name", kDbShape);
    }
    result.user = parts.user;
    result.password = parts.password;
  }
  for (const Endpoint& e : parts.endpoints) {
    result.hosts.push_back({e.host, e.port.value_or(std::uint16_t{3306}), e.bracketed});
  }
  result.host = result.hosts.front().name;
  result.port = result.hosts.front().port;
  result.host_bracketed = result.hosts.front().bracketed;
  if (!parts.path.empty()) {
    if (parts.path.find('/') != std::string::npos) {
      fail("the path must be just the database name", kDbShape);
    }
    result.database = percent_decode(parts.path, "database name");
  }
  result.options = parse_options(parts.query, kDbOptions, kDbShape);
  if (auto it = result.options.find("ssl-mode"); it != result.options.end()) {
    std::string mode;
    for (char c : it->second) {
      mode += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (!kSslModes.contains(mode)) {
      fail("ssl-mode '" + it->second +
               "' is not one of DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY",
           kDbShape);
    }
    it->second = mode;
  }
  for (const char* key : {"connect-timeout", "read-timeout", "write-timeout"}) {
    require_positive_seconds(result.options, key, kDbShape);
  }
  return result;
}

MqttUrl parse_mqtt_url(std::string_view url) {
  UrlParts parts = split(url, kMqttShape);
  MqttUrl result;
  if (parts.scheme == "mqtts") {
    result.tls = true;
  } else if (parts.scheme != "mqtt") {
    fail("scheme '" + parts.scheme + "' is not mqtt:// or mqtts://", kMqttShape);
  }
  if (!parts.path.empty()) {
    fail("an MQTT URL has no path; give topics with --topic", kMqttShape);
  }
  result.user = parts.user;
  result.password = parts.password;
  if (!result.password.empty() && result.user.empty()) {
    fail("a password without a user name", kMqttShape);
  }
  if (parts.endpoints.size() > 1) {
    fail("several hosts: an MQTT URL names one broker", kMqttShape);
  }
  result.host = parts.endpoints.front().host;
  result.host_bracketed = parts.endpoints.front().bracketed;
  result.port = parts.endpoints.front().port.value_or(result.tls ? 8883 : 1883);
  result.options = parse_options(parts.query, kMqttOptions, kMqttShape);
  if (!result.tls && !result.options.empty()) {
    fail("option '" + result.options.begin()->first + "' needs mqtts://", kMqttShape);
  }
  if (auto it = result.options.find("insecure"); it != result.options.end()) {
    if (it->second != "true" && it->second != "false") {
      fail("insecure must be true or false", kMqttShape);
    }
  }
  return result;
}

std::string DbUrl::redacted() const {
  // Appended piece by piece: `"literal" + std::string` here sets off GCC 12's
  // false -Wrestrict warning (GCC bug 105651) in optimised builds.
  std::string text = "mysql://";
  text += userinfo_redacted(user, password);
  const std::vector<DbHost> one = {{host, port, host_bracketed}};
  const std::vector<DbHost>& all = hosts.empty() ? one : hosts;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (i > 0) {
      text += ',';
    }
    text += host_for_url(all[i].name, all[i].bracketed);
    text += ':';
    text += std::to_string(all[i].port);
  }
  text += '/';
  text += percent_encode(database);
  text += query_string(options);
  return text;
}

DbUrl DbUrl::only_host(std::size_t index) const {
  DbUrl one = *this;
  if (!hosts.empty()) {
    one.host = hosts.at(index).name;
    one.port = hosts.at(index).port;
    one.host_bracketed = hosts.at(index).bracketed;
  }
  one.hosts.clear();
  return one;
}

std::string MqttUrl::redacted() const {
  return std::string(tls ? "mqtts://" : "mqtt://") + userinfo_redacted(user, password) +
         host_for_url(host, host_bracketed) + ":" + std::to_string(port) + query_string(options);
}

std::string redact_urls(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto marker = text.find("://", pos);
    if (marker == std::string_view::npos) {
      break;
    }
    std::size_t authority = marker + 3;
    // The authority ends at the first character that cannot be part of it;
    // whitespace and quotes end a URL quoted in prose.
    std::size_t end = authority;
    while (end < text.size() && text[end] != '/' && text[end] != '?' && text[end] != ' ' &&
           text[end] != '\t' && text[end] != '\n' && text[end] != '\'' && text[end] != '"') {
      ++end;
    }
    // Searched within the authority only: searching back from its end into
    // text already passed made a run of "://" quadratic.
    const std::string_view authority_text = text.substr(authority, end - authority);
    std::size_t at = authority_text.rfind('@');
    std::size_t colon = std::string_view::npos;
    if (at != std::string_view::npos) {
      colon = authority_text.find(':');
      at += authority;
      colon = colon == std::string_view::npos ? colon : colon + authority;
    }
    if (colon != std::string_view::npos && colon < at) {
      out.append(text.substr(pos, colon + 1 - pos));
      out += "***";
      out.append(text.substr(at, end - at));
    } else {
      out.append(text.substr(pos, end - pos));
    }
    pos = end;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace statesink::config
