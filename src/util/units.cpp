#include "util/units.h"

#include <charconv>
#include <string>
#include <utility>

#include "util/error.h"

namespace statesink {
namespace {

// The number in front and the unit after it.
std::pair<std::uint64_t, std::string_view> split_number(std::string_view text, bool& ok) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  ok = ec == std::errc{} && end != text.data();
  return {value, text.substr(static_cast<std::size_t>(end - text.data()))};
}

}  // namespace

std::chrono::milliseconds parse_duration(std::string_view text, std::string_view setting) {
  bool ok = false;
  auto [value, unit] = split_number(text, ok);
  std::uint64_t factor = 0;
  if (unit == "ms") {
    factor = 1;
  } else if (unit.empty() || unit == "s") {
    factor = 1000;
  } else if (unit == "m" || unit == "min") {
    factor = 60'000;
  } else if (unit == "h") {
    factor = 3'600'000;
  } else if (unit == "d") {
    factor = 86'400'000;
  }
  if (!ok || factor == 0 || value > UINT64_MAX / factor / 2) {
    throw UsageError(std::string(setting) + ": '" + std::string(text) +
                     "' is not a duration (examples: 250ms, 10s, 5m, 2h, 30d)");
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(value * factor));
}

std::uint64_t parse_size(std::string_view text, std::string_view setting) {
  bool ok = false;
  auto [value, unit] = split_number(text, ok);
  std::uint64_t factor = 0;
  if (unit.empty() || unit == "B") {
    factor = 1;
  } else if (unit == "K" || unit == "KiB") {
    factor = 1ULL << 10;
  } else if (unit == "M" || unit == "MiB") {
    factor = 1ULL << 20;
  } else if (unit == "G" || unit == "GiB") {
    factor = 1ULL << 30;
  } else if (unit == "KB") {
    factor = 1000;
  } else if (unit == "MB") {
    factor = 1000 * 1000;
  } else if (unit == "GB") {
    factor = 1000 * 1000 * 1000;
  }
  if (!ok || factor == 0 || value > UINT64_MAX / factor) {
    throw UsageError(std::string(setting) + ": '" + std::string(text) +
                     "' is not a size (examples: 65536, 64MiB, 1GiB)");
  }
  return value * factor;
}

}  // namespace statesink
