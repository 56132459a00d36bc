// Ingestion when the ingester itself dies or is stopped: SIGKILL at random
// moments of a fast stream, SIGTERM under load, and two ingesters sharing one
// stream. Every published number must be stored exactly once.
#include "ingest_fixture.h"

namespace statesink::testing {
namespace {

using ::testing::HasSubstr;

TEST_F(IngestTest, SigkillMidStreamThreeTimesLosesAndRepeatsNothing) {
  constexpr std::uint64_t kTotal = 20000;
  Ingester ingester = start_ingester();
  Stream stream(prefix(), 0, kTotal, name_ + "-pub");
  for (int kill = 1; kill <= 3; ++kill) {
    // Kill while messages are still arriving: after a quarter more is stored.
    ASSERT_TRUE(wait_for_rows(kTotal * kill / 5)) << read_text(ingester.log);
    ingester.process->signal(SIGKILL);
    ASSERT_EQ(ingester.process->wait(std::chrono::seconds(10)), 128 + SIGKILL);
    ingester = start_ingester();
  }
  ASSERT_TRUE(stream.finish()) << "the broker did not acknowledge every publish";
  ASSERT_TRUE(wait_for_rows(kTotal)) << read_text(ingester.log);
  // A clean stop commits anything still held; a duplicate would show now.
  ASSERT_EQ(ingester.process->stop(std::chrono::seconds(30)), 0) << read_text(ingester.log);
  expect_exactly_once(kTotal);
}

TEST_F(IngestTest, SigtermUnderLoadExitsPromptlyAndKeepsEverything) {
  constexpr std::uint64_t kTotal = 20000;
  Ingester ingester = start_ingester();
  Stream stream(prefix(), 0, kTotal, name_ + "-pub");
  ASSERT_TRUE(wait_for_rows(kTotal / 10)) << read_text(ingester.log);
  ingester.process->signal(SIGTERM);
  // The wait's limit is a safety net for a hang, not a measurement.
  ASSERT_EQ(ingester.process->wait(std::chrono::seconds(60)), 0) << read_text(ingester.log);
  const std::string log = read_text(ingester.log);
  EXPECT_THAT(log, HasSubstr("received SIGTERM"));
  EXPECT_THAT(log, HasSubstr(" left in the spool"));
  EXPECT_THAT(log, HasSubstr(", 0 left in the spool"));
  // What it had received is all in the database: nothing was held back.
  const std::uint64_t at_exit = count();
  EXPECT_GT(at_exit, 0U);

  // The broker kept the rest for the session; the next run takes it.
  ingester = start_ingester();
  ASSERT_TRUE(stream.finish());
  ASSERT_TRUE(wait_for_rows(kTotal)) << read_text(ingester.log);
  ASSERT_EQ(ingester.process->stop(std::chrono::seconds(30)), 0);
  expect_exactly_once(kTotal);
}

TEST_F(IngestTest, TwoIngestersInAShareGroupSplitTheStream) {
  constexpr std::uint64_t kTotal = 6000;
  const std::string group = std::string("g").append(std::to_string(::getpid()));
  Ingester a = start_ingester("a", {"--share-group", group});
  Ingester b = start_ingester("b", {"--share-group", group});
  EXPECT_THAT(read_text(a.log), HasSubstr("subscribing to $share/g"));
  Stream stream(prefix(), 0, kTotal, name_ + "-pub");
  ASSERT_TRUE(stream.finish());
  ASSERT_TRUE(wait_for_rows(kTotal)) << read_text(a.log) << read_text(b.log);
  ASSERT_EQ(a.process->stop(std::chrono::seconds(30)), 0);
  ASSERT_EQ(b.process->stop(std::chrono::seconds(30)), 0);
  expect_exactly_once(kTotal);
  // Both took part: each spool has its own progress row, both well past zero.
  const std::string progress = sql("SELECT last_seq FROM ingest_progress ORDER BY last_seq");
  std::istringstream lines(progress);
  std::uint64_t first = 0;
  std::uint64_t second = 0;
  lines >> first >> second;
  EXPECT_GT(first, kTotal / 10) << progress;
  EXPECT_EQ(first + second, kTotal) << progress;
}

}  // namespace
}  // namespace statesink::testing
