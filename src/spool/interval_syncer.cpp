#include "spool/interval_syncer.h"

#include <utility>

namespace statesink::spool {

IntervalSyncer::IntervalSyncer(std::chrono::milliseconds interval, std::function<void()> flush)
    : interval_(interval),
      flush_(std::move(flush)),
      thread_([this](const std::stop_token& stop) { run(stop); }) {}

void IntervalSyncer::mark_dirty() {
  std::lock_guard lock(mutex_);
  if (!due_) {
    due_ = Clock::now() + interval_;
    wake_.notify_one();
  }
}

void IntervalSyncer::run(const std::stop_token& stop) {
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    if (!due_) {
      wake_.wait(lock, stop, [this] { return due_.has_value(); });
      continue;
    }
    const Clock::time_point due = *due_;
    wake_.wait_until(lock, stop, due, [] { return false; });
    if (stop.stop_requested() || Clock::now() < due) {
      continue;
    }
    // Cleared before flushing: an append during the flush may not be covered
    // by it, and must schedule the next one.
    due_.reset();
    lock.unlock();
    flush_();
    lock.lock();
  }
}

}  // namespace statesink::spool
