#include "spool/interval_syncer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace statesink::spool {
namespace {

using namespace std::chrono_literals;

TEST(IntervalSyncer, FlushesAfterMarkDirtyWithoutAnythingElseHappening) {
  std::mutex mutex;
  std::condition_variable flushed;
  int flushes = 0;
  IntervalSyncer syncer(5ms, [&] {
    std::lock_guard lock(mutex);
    ++flushes;
    flushed.notify_all();
  });
  syncer.mark_dirty();
  std::unique_lock lock(mutex);
  EXPECT_TRUE(flushed.wait_for(lock, 30s, [&] { return flushes >= 1; }));
  lock.unlock();
  syncer.mark_dirty();  // dirty again after a flush: flushed again
  lock.lock();
  EXPECT_TRUE(flushed.wait_for(lock, 30s, [&] { return flushes >= 2; }));
}

TEST(IntervalSyncer, StopsPromptlyWithoutFlushingEarly) {
  std::atomic<int> flushes = 0;
  {
    // Destroying it must not wait out the hour: the test would hang (and
    // ctest's timeout fail it) if it did.
    IntervalSyncer syncer(std::chrono::hours(1), [&] { ++flushes; });
    syncer.mark_dirty();
  }
  EXPECT_EQ(flushes, 0);
}

}  // namespace
}  // namespace statesink::spool
