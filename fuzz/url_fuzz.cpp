// Any text as a --db or --mqtt URL, and as a message passing through
// redact_urls. A URL that parses must redact to one that parses to the same
// server, user, database and options, or a log line would name another.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/url.h"
#include "util/error.h"

namespace {

using namespace statesink::config;

void check_db(std::string_view text) {
  DbUrl url;
  try {
    url = parse_db_url(text);
  } catch (const statesink::UsageError&) {
    return;
  }
  const DbUrl again = parse_db_url(url.redacted());  // throwing here is a finding
  if (again.user != url.user || again.host != url.host || again.port != url.port ||
      again.database != url.database || again.options != url.options ||
      again.password.empty() != url.password.empty()) {
    __builtin_trap();
  }
}

void check_mqtt(std::string_view text) {
  MqttUrl url;
  try {
    url = parse_mqtt_url(text);
  } catch (const statesink::UsageError&) {
    return;
  }
  const MqttUrl again = parse_mqtt_url(url.redacted());
  if (again.tls != url.tls || again.user != url.user || again.host != url.host ||
      again.port != url.port || again.options != url.options ||
      again.password.empty() != url.password.empty()) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_db(text);
  check_mqtt(text);
  const std::string redacted = redact_urls(text);
  if (redact_urls(redacted) != redacted) {
    __builtin_trap();  // redacting twice changes nothing more
  }
  return 0;
}
