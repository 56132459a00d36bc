#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace statesink {

// "250ms", "10s", "5m", "2h", "30d" (a bare number is seconds). Throws
// UsageError naming `setting` and the accepted forms.
std::chrono::milliseconds parse_duration(std::string_view text, std::string_view setting);

// "1048576", "512KiB", "64MiB", "1GiB" (also KB/MB/GB as powers of 1000, and
// K/M/G as powers of 1024). Throws UsageError naming `setting`.
std::uint64_t parse_size(std::string_view text, std::string_view setting);

}  // namespace statesink
