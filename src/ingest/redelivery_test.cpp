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

TEST_F(RedeliveryTest, ConfirmedMessagesAreNoLongerCandidates) {
  // A broker that hands out the lowest free id reuses 1 at once; the probe's
  // answer proved the first message's PUBACK arrived.
  redelivery.session_started(false);
  store(1, 11);
  const auto now = std::chrono::steady_clock::now();
  ASSERT_TRUE(redelivery.probe_due(now + std::chrono::seconds(1)));
  redelivery.probe_sent(42, now);
  EXPECT_FALSE(redelivery.probe_due(now + std::chrono::seconds(1)));  // one at a time
  redelivery.probe_answered(41);                                      // not ours
  EXPECT_EQ(redelivery.unconfirmed(), 1U);
  redelivery.probe_answered(42);
  EXPECT_EQ(redelivery.unconfirmed(), 0U);
  redelivery.session_started(true);
  EXPECT_FALSE(redelivery.resending());
  EXPECT_FALSE(redelivery.is_resend(1, 11));
}

TEST_F(RedeliveryTest, AProbeLostWithItsConnectionConfirmsNothing) {
  redelivery.session_started(false);
  store(1, 11);
  const auto now = std::chrono::steady_clock::now();
  redelivery.probe_sent(7, now);
  redelivery.connection_lost();
  redelivery.probe_answered(7);
  EXPECT_EQ(redelivery.unconfirmed(), 1U);
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
