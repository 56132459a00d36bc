#pragma once

#include <chrono>
#include <string>

namespace statesink::simulate {

// Home Assistant keeps state times in UTC with microsecond resolution.
using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

// As Python's datetime.isoformat() writes an aware UTC time, the form
// statestream publishes: "2024-05-01T12:00:03.512345+00:00", and without the
// fraction when the microseconds are zero ("2024-05-01T12:00:00+00:00").
std::string format_timestamp(Timestamp time);

}  // namespace statesink::simulate
