// Any text as a duration, a size or a --from/--to time: a value or a usage
// error, nothing else.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "util/error.h"
#include "util/time_arg.h"
#include "util/units.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    statesink::parse_duration(text, "--interval");
  } catch (const statesink::UsageError&) {
  }
  try {
    statesink::parse_size(text, "--spool-size");
  } catch (const statesink::UsageError&) {
  }
  try {
    // A fixed "now", so a finding replays the same way.
    const statesink::UtcTime now{std::chrono::microseconds{1'714'564'800'000'000}};
    statesink::parse_time_arg(text, "--from", now);
  } catch (const statesink::UsageError&) {
  }
  return 0;
}
