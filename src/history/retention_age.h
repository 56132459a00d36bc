#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace statesink::history {

// AGE of `statesink retention set`: a duration as parse_duration reads it
// (7d, 12h, 90m, 3600s), in whole seconds, above zero and at most 300 years.
// Throws UsageError.
std::int64_t parse_retention_age(std::string_view text);

// Seconds in the largest unit that divides them: 604800 -> "7d", 5400 -> "90m".
std::string format_retention_age(std::int64_t seconds);

}  // namespace statesink::history
