#include "util/wait.h"

#include <algorithm>
#include <thread>

namespace statesink {
namespace {

template <typename Stopped>
bool wait_until_stopped(std::chrono::milliseconds delay, Stopped stopped) {
  const auto until = std::chrono::steady_clock::now() + delay;
  for (;;) {
    if (stopped()) {
      return false;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) {
      return true;
    }
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(std::chrono::milliseconds(20), until - now));
  }
}

}  // namespace

bool wait_for(std::chrono::milliseconds delay, const std::stop_token& stop) {
  return wait_until_stopped(delay, [&] { return stop.stop_requested(); });
}

bool wait_for(std::chrono::milliseconds delay, const std::atomic<bool>& abandon) {
  return wait_until_stopped(delay, [&] { return abandon.load(); });
}

}  // namespace statesink
