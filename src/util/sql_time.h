#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace statesink {

// "2024-05-01 12:00:03.512345": the text form of a DATETIME(6) value, which
// both servers accept as a parameter and print back the same way. UTC.
std::string format_sql_datetime(std::chrono::sys_time<std::chrono::microseconds> time);
// The same for microseconds since 1970, as spool records keep reception times.
std::string format_sql_datetime_us(std::int64_t micros);

}  // namespace statesink
