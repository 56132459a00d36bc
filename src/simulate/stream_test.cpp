#include "simulate/stream.h"

#include <gtest/gtest.h>

#include "simulate/test_support.h"

namespace statesink::simulate {
namespace {

Options small() {
  Options options;
  options.entities_per_installation = 8;
  options.seed = 5;
  return options;
}

TEST(MessageStream, StartsWithTheSnapshotThenChanges) {
  const std::vector<Message> expected = Traffic(small()).snapshot();
  MessageStream stream(small());
  for (const Message& message : expected) {
    ASSERT_EQ(stream.next(), message);
  }
  const Message after = stream.next();
  EXPECT_EQ(testing::split_topic(after.topic).leaf, "state");
  EXPECT_GT(stream.traffic().now(), small().start);
}

TEST(MessageStream, CanSkipTheSnapshot) {
  Options options = small();
  options.snapshot_first = false;
  MessageStream stream(options);
  Traffic traffic(options);
  for (const Message& message : traffic.next_change()) {
    ASSERT_EQ(stream.next(), message);
  }
}

TEST(Generate, ExactCountEvenInsideAChange) {
  const std::vector<Message> many = generate(small(), 1'000);
  ASSERT_EQ(many.size(), 1'000U);
  for (std::size_t count : {0U, 1U, 7U, 333U}) {
    const std::vector<Message> few = generate(small(), count);
    ASSERT_EQ(few.size(), count);
    EXPECT_TRUE(std::equal(few.begin(), few.end(), many.begin()));
  }
}

}  // namespace
}  // namespace statesink::simulate
