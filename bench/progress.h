#pragma once

// The progress lines printed while the phases run, one per run:
// "  what ... 12345 msg/s (3.2 s)", the first half before it starts, so a
// slow phase shows what it is doing.

#include <string>

#include "timing.h"

namespace statesink::bench {

Clock::time_point step(const std::string& what);
void done(Clock::time_point since, double rate);

}  // namespace statesink::bench
