#include "ingest/redelivery.h"

#include <gtest/gtest.h>

#include <fstream>

#include "spool/test_support.h"

namespace statesink::ingest {
namespace {

using spool::testing::TempDir;

struct RedeliveryTest : ::testing::Test {
  TempDir dir;
  PacketIdFile ids{dir.path() / "packet-ids"};
  Redelivery redelivery{ids};
  std::uint64_t seq = 0;

  // A new message arrives and is stored.
  void store(std::uint16_t mid, std::uint64_t content) {
    ASSERT_FALSE(redelivery.is_resend(mid, content));
    redelivery.stored(mid, content, ++seq);
  }
};

TEST_F(RedeliveryTest, ResendsOfTheUnconfirmedTailAreRecognisedInOrder) {
  redelivery.session_started(false);
  for (std::uint16_t mid = 1; mid <= 5; ++mid) {
    store(mid, 100 + mid);
  }
  redelivery.session_started(true);
  EXPECT_TRUE(redelivery.is_resend(3, 103));
  EXPECT_TRUE(redelivery.is_resend(4, 104));
  EXPECT_TRUE(redelivery.is_resend(5, 105));
  // The newest came again: whatever follows is new, even with a known id.
  EXPECT_FALSE(redelivery.resending());
  EXPECT_FALSE(redelivery.is_resend(1, 101));
}

TEST_F(RedeliveryTest, TheFirstNewMessageEndsTheResends) {
  redelivery.session_started(false);
  store(1, 11);
  store(2, 12);
  store(3, 13);
  redelivery.session_started(true);
  EXPECT_TRUE(redelivery.is_resend(2, 12));
  EXPECT_FALSE(redelivery.is_resend(4, 14));
  // Same id and content as a stored one, but after a new message: new too.
  EXPECT_FALSE(redelivery.is_resend(3, 13));
}

TEST_F(RedeliveryTest, AReusedIdWithOtherContentIsNew) {
  redelivery.session_started(false);
  store(1, 11);
  redelivery.session_started(true);
  EXPECT_FALSE(redelivery.is_resend(1, 99));
}

TEST_F(RedeliveryTest, NothingIsAResendOnANewSession) {
  redelivery.session_started(false);
  store(1, 11);
  redelivery.session_started(false);
  EXPECT_FALSE(redelivery.is_resend(1, 11));
}

TEST(Redelivery, OnlyTheNewestWindowAreCandidates) {
  // A broker numbering in turn reuses an id only after 65,535 others: the
  // entry for the id of the next new message is older than the window.
  TempDir dir;
  PacketIdFile ids(dir.path() / "packet-ids");
  Redelivery redelivery(ids, 3);
  redelivery.session_started(false);
  for (std::uint64_t seq = 1; seq <= 5; ++seq) {
    redelivery.stored(static_cast<std::uint16_t>(seq), 10 + seq, seq);
  }
  redelivery.session_started(true);
  EXPECT_FALSE(redelivery.is_resend(2, 12));  // too old: a new message
  redelivery.session_started(true);
  EXPECT_TRUE(redelivery.is_resend(3, 13));
}

TEST_F(RedeliveryTest, SurvivesARestartThroughTheFile) {
  redelivery.session_started(false);
  store(9, 99);
  {
    PacketIdFile reopened(dir.path() / "packet-ids");
    Redelivery after(reopened);
    after.session_started(true);
    EXPECT_TRUE(after.is_resend(9, 99));
  }
}

TEST_F(RedeliveryTest, ReconcileAddsWhatTheSpoolHasAndTheFileMissed) {
  // A crash between the spool append and the file update.
  redelivery.reconcile({{1, 5, 1, 55}, {2, 6, 0, 66}});
  redelivery.session_started(true);
  EXPECT_TRUE(redelivery.is_resend(5, 55));
  EXPECT_EQ(ids.get(6).seq, 0U);  // QoS 0 is never sent again
}

TEST(PacketIdFile, AFileOfTheWrongSizeIsResetAndSaysSo) {
  TempDir dir;
  const auto path = dir.path() / "packet-ids";
  { std::ofstream(path) << "not a packet id file"; }
  PacketIdFile ids(path);
  ASSERT_NE(ids.reset_reason(), nullptr);
  EXPECT_EQ(ids.last_seq(), 0U);
  ids.set(3, {1, 2});
  EXPECT_EQ(ids.get(3).seq, 2U);
}

}  // namespace
}  // namespace statesink::ingest
