#pragma once

#include <string_view>

namespace statesink::log {

// One line per event on stderr, with a UTC timestamp and a level, so that
// journald, docker logs and a terminal all read the same thing. spdlog does the
// formatting and keeps lines from different threads whole.
void info(std::string_view message);
void warn(std::string_view message);
void error(std::string_view message);

// Quiets info lines (for tests of other output) or turns them back on.
void set_verbose(bool verbose);

}  // namespace statesink::log
