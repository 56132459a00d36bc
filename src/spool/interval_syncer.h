#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>

namespace statesink::spool {

// Calls `flush` on its own thread no later than `interval` after mark_dirty(),
// so data appended and then left alone still reaches the disk in time, while
// a busy stream costs at most one flush per interval.
class IntervalSyncer {
 public:
  // `flush` must not throw; it runs on the syncer's thread.
  IntervalSyncer(std::chrono::milliseconds interval, std::function<void()> flush);
  // Stops the thread without a last flush (the owner flushes if it wants to).
  ~IntervalSyncer() = default;
  IntervalSyncer(const IntervalSyncer&) = delete;
  IntervalSyncer& operator=(const IntervalSyncer&) = delete;

  void mark_dirty();

 private:
  using Clock = std::chrono::steady_clock;
  void run(const std::stop_token& stop);

  const std::chrono::milliseconds interval_;
  const std::function<void()> flush_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::optional<Clock::time_point> due_;
  std::jthread thread_;  // last, so it starts once everything above exists and stops first
};

}  // namespace statesink::spool
