#include "spool/content_hash.h"

#include <gtest/gtest.h>

#include <string>

namespace statesink::spool {
namespace {

TEST(ContentHash, IsStableAcrossBuilds) {
  // Kept on disk (the packet id file): a change here would make every
  // resend after an upgrade look new.
  // The value comes from an independent FNV-1a computation of the same bytes.
  EXPECT_EQ(content_hash("home/sensor/t/state", "21.5"), 0x82f6f279736a8945ULL);
}

TEST(ContentHash, SeparatesTopicFromPayload) {
  EXPECT_NE(content_hash("ab", "c"), content_hash("a", "bc"));
  EXPECT_NE(content_hash("t", ""), content_hash("", "t"));
}

TEST(ContentHash, SeesEveryByte) {
  EXPECT_NE(content_hash("t", "on"), content_hash("t", "off"));
  EXPECT_NE(content_hash("t", std::string("a\0b", 3)), content_hash("t", std::string("a\0c", 3)));
}

}  // namespace
}  // namespace statesink::spool
