#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "util/sql_time.h"

namespace statesink {

// A point in time with the precision of the DATETIME(6) columns.
using UtcTime = std::chrono::sys_time<std::chrono::microseconds>;

// What --from / --to accept, for help texts and error messages.
inline constexpr std::string_view kTimeForms =
    "2024-05-01T12:00:00Z, 2024-05-01T14:00:00+02:00, '2024-05-01 12:00:00' (UTC), "
    "2024-05-01 (midnight UTC), now, or a duration before now: -90s, -30m, -2h, -7d";

// Reads a time given on the command line:
//   YYYY-MM-DD[(T| )HH:MM[:SS[.ffffff]]][Z|+HH:MM|-HH:MM|+HHMM|+HH]  (no zone: UTC)
//   now, -DURATION or now-DURATION (DURATION as parse_duration reads it)
// Throws UsageError naming `option` and the accepted forms.
UtcTime parse_time_arg(std::string_view text, std::string_view option, UtcTime now);

// The current time, truncated to microseconds.
UtcTime utc_now();

}  // namespace statesink
