// The committer against a fake database that fails in the ways a real one
// does at the worst moments: commits whose outcome is unknown, commits that
// land late, refused rows, unknown errors. The real-server side of the same
// guarantees is in tests/integration.
#include "ingest/committer.h"

#include <gtest/gtest.h>

#include <deque>
#include <fstream>
#include <map>
#include <optional>

#include "spool/test_support.h"

namespace statesink::ingest {
namespace {

using spool::testing::TempDir;

// What the fake server holds, shared by every connection to it.
struct FakeServer {
  std::map<std::uint64_t, int> rows;  // seq -> how many times inserted
  std::uint64_t progress = 0;
  std::uint64_t max_packet = 1 << 20;
  // Errors the next calls to insert() throw, in order; `commits` says
  // whether that attempt committed first (an ambiguous COMMIT).
  struct Fault {
    unsigned code = 0;
    bool commits = false;
    bool lands_later = false;  // committed by the server only at the next connect
  };
  std::deque<Fault> faults;
  std::optional<std::pair<std::uint64_t, std::vector<std::uint64_t>>> late;  // to, seqs
  std::uint64_t refused_seq = 0;  // content error whenever this row is in a batch
  int connects = 0;
  std::size_t largest_statement = 0;

  void apply(std::uint64_t to, std::span<const spool::Record> records) {
    for (const auto& r : records) {
      ++rows[r.seq];
    }
    progress = to;
  }
};

class FakeStore final : public Store {
 public:
  explicit FakeStore(FakeServer& server) : server_(server) { ++server_.connects; }
  std::uint64_t max_packet() const override { return server_.max_packet; }
  std::uint64_t committed_seq() override { return server_.progress; }
  bool insert(std::uint64_t from, std::span<const spool::Record> records) override {
    if (server_.late) {
      // The stalled COMMIT of a connection that looked dead lands now, after
      // the retry has read the position and before it commits.
      for (auto seq : server_.late->second) {
        ++server_.rows[seq];
      }
      server_.progress = server_.late->first;
      server_.late.reset();
    }
    std::size_t bytes = 0;
    for (const auto& r : records) {
      bytes += r.topic.size() + r.payload.size();
      if (r.seq == server_.refused_seq) {
        throw db::DbError("Data too long for column 'topic'", 1406, "22001");
      }
    }
    server_.largest_statement = std::max(server_.largest_statement, bytes);
    if (server_.progress != from) {
      return false;
    }
    if (!server_.faults.empty()) {
      const auto fault = server_.faults.front();
      server_.faults.pop_front();
      if (fault.commits) {
        server_.apply(records.back().seq, records);
      }
      if (fault.lands_later) {
        std::vector<std::uint64_t> seqs;
        for (const auto& r : records) {
          seqs.push_back(r.seq);
        }
        server_.late.emplace(records.back().seq, seqs);
      }
      throw db::DbError("injected", fault.code, "HY000");
    }
    server_.apply(records.back().seq, records);
    return true;
  }
  bool skip(std::uint64_t from, std::uint64_t to) override {
    if (server_.progress != from) {
      return false;
    }
    server_.progress = to;
    return true;
  }

 private:
  FakeServer& server_;
};

struct CommitterTest : ::testing::Test {
  TempDir dir;
  FakeServer server;
  Metrics metrics;
  std::optional<spool::Spool> spool;

  void fill(std::uint64_t count, std::size_t payload = 16, std::uint64_t segment_bytes = 64 << 20) {
    spool::SpoolOptions options;
    options.directory = dir.path();
    options.segment_bytes = segment_bytes;
    options.sync = spool::SyncMode::never;
    spool.emplace(options);
    for (std::uint64_t n = 1; n <= count; ++n) {
      spool->append(spool::testing::sample(n, payload).view());
    }
    spool->sync();
  }

  Committer committer(std::size_t batch_size = 100) {
    return Committer(
        CommitterOptions{"fake", batch_size, std::chrono::milliseconds(1)},
        [this] { return std::make_unique<FakeStore>(server); }, *spool, metrics);
  }

  // What a start does: waits for the database and returns its position.
  std::uint64_t position(Committer& committer) {
    std::stop_source never;
    std::uint64_t committed = 0;
    EXPECT_TRUE(committer.connect_and_position(never.get_token(), committed));
    return committed;
  }

  // Commits everything in the spool, as a SIGTERM drain does.
  void drain(std::size_t batch_size = 100) {
    Committer c = committer(batch_size);
    spool->seek_after(position(c));
    std::stop_source stop;
    stop.request_stop();
    std::atomic<bool> abandon{false};
    c.run(stop.get_token(), abandon);
  }

  void expect_each_once(std::uint64_t count, std::uint64_t except = 0) {
    for (std::uint64_t n = 1; n <= count; ++n) {
      if (n == except) {
        EXPECT_EQ(server.rows.count(n), 0U) << n;
      } else {
        EXPECT_EQ(server.rows[n], 1) << "message " << n;
      }
    }
    EXPECT_EQ(server.progress, count);
  }

  std::size_t dead_letter_lines() {
    std::ifstream in(dir.path() / "dead-letter.jsonl");
    std::size_t lines = 0;
    for (std::string line; std::getline(in, line);) {
      ++lines;
    }
    return lines;
  }
};

TEST_F(CommitterTest, ACommitThatLandedBeforeTheConnectionDroppedIsNotRepeated) {
  fill(250);
  server.faults.push_back({2013, true, false});
  drain();
  expect_each_once(250);
  EXPECT_EQ(dead_letter_lines(), 0U);
  EXPECT_GE(server.connects, 2);
}

TEST_F(CommitterTest, ACommitThatLandsLateAndItsRetryNeverBothCount) {
  fill(250);
  server.faults.push_back({2013, false, true});
  drain();
  expect_each_once(250);
}

TEST_F(CommitterTest, ARefusedRowIsSetAsideAloneAndTheRestGoesIn) {
  fill(120);
  server.refused_seq = 57;
  drain();
  expect_each_once(120, 57);
  EXPECT_EQ(dead_letter_lines(), 1U);
  EXPECT_EQ(metrics.dead_lettered, 1U);
}

TEST_F(CommitterTest, ServerStateErrorsNeverSetMessagesAside) {
  fill(50);
  // No quorum, node not ready, disk full, a code nobody listed.
  for (unsigned code : {1180U, 1047U, 1021U, 64999U}) {
    server.faults.push_back({code, false, false});
  }
  drain();
  expect_each_once(50);
  EXPECT_EQ(dead_letter_lines(), 0U);
  EXPECT_EQ(metrics.db_errors, 4U);
}

TEST_F(CommitterTest, DeadlocksAreRetriedAtOnceNotAsAnOutage) {
  fill(50);
  server.faults.push_back({1213, false, false});
  server.faults.push_back({1213, false, false});
  drain();
  expect_each_once(50);
  EXPECT_EQ(metrics.db_conflict_retries, 2U);
  EXPECT_EQ(metrics.db_errors, 0U);
  EXPECT_EQ(server.connects, 1);  // the session survives a deadlock: no reconnect
}

TEST_F(CommitterTest, StatementsStayUnderThePacketLimitAndOnlyTheTooLargeIsSetAside) {
  server.max_packet = 64 * 1024;
  spool::SpoolOptions options;
  options.directory = dir.path();
  options.sync = spool::SyncMode::never;
  spool.emplace(options);
  for (std::uint64_t n = 1; n <= 40; ++n) {
    const std::size_t size = n == 20 ? 100 * 1024 : (n % 3 == 0 ? 20 * 1024 : 10);
    spool->append(spool::testing::sample(n, size).view());
  }
  spool->sync();
  drain();
  expect_each_once(40, 20);
  EXPECT_LE(server.largest_statement, server.max_packet);
  EXPECT_EQ(dead_letter_lines(), 1U);
}

TEST_F(CommitterTest, MessagesTheDatabaseLostAndTheSpoolDeletedAreReported) {
  fill(30, 16, 300);  // a few records per segment: committed ones get deleted
  drain();
  ASSERT_EQ(server.progress, 30U);
  EXPECT_EQ(metrics.db_behind_messages, 0U);
  const std::uint64_t held_from = spool->oldest_held();
  ASSERT_GT(held_from, 11U);
  // A restore from an older backup.
  server.progress = 10;
  Committer again = committer();
  EXPECT_EQ(position(again), 10U);
  EXPECT_EQ(metrics.db_behind_messages, held_from - 1 - 10);
  EXPECT_FALSE(metrics.healthy(std::chrono::steady_clock::now(), std::chrono::seconds(60)));
}

TEST_F(CommitterTest, ADatabaseBehindWhatTheSpoolStillHoldsIsFilledInWithoutAlarm) {
  fill(30);  // one segment, kept as the newest
  drain();
  server.progress = 10;
  Committer again = committer();
  EXPECT_EQ(position(again), 10U);
  EXPECT_EQ(metrics.db_behind_messages, 0U);
}

}  // namespace
}  // namespace statesink::ingest
