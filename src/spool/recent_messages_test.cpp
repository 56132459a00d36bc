#include "spool/recent_messages.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "spool/spool.h"
#include "spool/test_support.h"

namespace statesink::spool {
namespace {

TEST(RecentMessages, RemembersTheLastCapacityKeys) {
  RecentMessages recent(3);
  for (std::uint16_t mid = 1; mid <= 5; ++mid) {
    recent.add(message_key(mid, "t", "on"));
  }
  EXPECT_EQ(recent.size(), 3u);
  EXPECT_FALSE(recent.contains(message_key(1, "t", "on")));
  EXPECT_FALSE(recent.contains(message_key(2, "t", "on")));
  EXPECT_TRUE(recent.contains(message_key(3, "t", "on")));
  EXPECT_TRUE(recent.contains(message_key(5, "t", "on")));
}

TEST(RecentMessages, KeyDependsOnIdTopicAndPayload) {
  const MessageKey key = message_key(7, "ab", "c");
  EXPECT_EQ(key, message_key(7, "ab", "c"));
  EXPECT_NE(key, message_key(8, "ab", "c"));
  EXPECT_NE(key, message_key(7, "a", "bc"));
  EXPECT_NE(key, message_key(7, "ab", std::string("c\0", 2)));
  RecentMessages recent(10);
  recent.add(key);
  EXPECT_FALSE(recent.contains(message_key(7, "ab", "d")));
}

TEST(RecentMessages, AKeyAddedTwiceStaysUntilItsLastCopyIsForgotten) {
  RecentMessages recent(2);
  const MessageKey key = message_key(1, "t", "x");
  recent.add(key);
  recent.add(key);
  recent.add(message_key(2, "t", "y"));  // forgets the first copy only
  EXPECT_TRUE(recent.contains(key));
  recent.add(message_key(3, "t", "z"));
  EXPECT_FALSE(recent.contains(key));
}

TEST(RecentMessages, ZeroCapacityRemembersNothing) {
  RecentMessages recent(0);
  recent.add(message_key(1, "t", "x"));
  EXPECT_FALSE(recent.contains(message_key(1, "t", "x")));
}

TEST(RecentMessages, SeededFromTheSpoolItSpotsAResend) {
  testing::TempDir dir;
  SpoolOptions options;
  options.directory = dir.path();
  options.sync = SyncMode::never;
  {
    Spool spool(options);
    for (std::uint64_t n = 1; n <= 5; ++n) {
      spool.append(testing::sample(n).view());
    }
  }  // killed before the PUBACK of message 5 left
  options.recent_keys = 2;
  Spool spool(options);
  RecentMessages recent(100);
  for (const MessageKey& key : spool.recent_keys()) {
    recent.add(key);
  }
  const Record resent = testing::sample(5);
  EXPECT_TRUE(recent.contains(message_key(resent.mid, resent.topic, resent.payload)));
  const Record older = testing::sample(3);  // outside the window of 2
  EXPECT_FALSE(recent.contains(message_key(older.mid, older.topic, older.payload)));
  Record changed = testing::sample(5);
  changed.payload += "!";
  EXPECT_FALSE(recent.contains(message_key(changed.mid, changed.topic, changed.payload)));
}

}  // namespace
}  // namespace statesink::spool
