#include "history/retention_age.h"

#include <chrono>

#include "util/error.h"
#include "util/units.h"

namespace statesink::history {

std::int64_t parse_retention_age(std::string_view text) {
  const std::chrono::milliseconds age = parse_duration(text, "AGE");
  if (age.count() <= 0) {
    throw UsageError("AGE: '" + std::string(text) + "' must be longer than zero");
  }
  if (age.count() % 1000 != 0) {
    throw UsageError("AGE: '" + std::string(text) + "' is not a whole number of seconds");
  }
  constexpr std::chrono::milliseconds kLongest = std::chrono::hours{24} * 365 * 300;
  if (age > kLongest) {
    throw UsageError("AGE: '" + std::string(text) + "' is longer than 300 years");
  }
  return age.count() / 1000;
}

std::string format_retention_age(std::int64_t seconds) {
  struct Unit {
    std::int64_t seconds;
    char suffix;
  };
  for (const Unit unit : {Unit{86400, 'd'}, Unit{3600, 'h'}, Unit{60, 'm'}}) {
    if (seconds > 0 && seconds % unit.seconds == 0) {
      return std::to_string(seconds / unit.seconds) + unit.suffix;
    }
  }
  return std::to_string(seconds) + "s";
}

}  // namespace statesink::history
