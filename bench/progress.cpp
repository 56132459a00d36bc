#include "progress.h"

#include <iostream>

#include "format.h"

namespace statesink::bench {

Clock::time_point step(const std::string& what) {
  std::cout << "  " << what << " ..." << std::flush;
  return Clock::now();
}

void done(Clock::time_point since, double rate) {
  std::cout << " " << number(rate, 0) << " msg/s (" << number(seconds_since(since), 1) << " s)\n";
}

}  // namespace statesink::bench
