#include "spool/spool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <future>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "spool/content_hash.h"
#include "spool/error.h"
#include "spool/test_support.h"

namespace statesink::spool {
namespace {

using namespace std::chrono_literals;
using testing::kSampleSize;
using testing::sample;
using testing::segment_names;
using testing::TempDir;

SpoolOptions options_in(const TempDir& dir) {
  SpoolOptions options;
  options.directory = dir.path() / "spool";
  options.sync = SyncMode::never;
  return options;
}

std::vector<Record> read_all(Spool& spool) {
  std::vector<Record> all;
  for (;;) {
    std::vector<Record> batch = spool.read_batch(1000, 64 << 20, 0ms);
    if (batch.empty()) {
      return all;
    }
    for (Record& record : batch) {
      all.push_back(std::move(record));
    }
  }
}

std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::uint64_t> seqs(const std::vector<Record>& records) {
  std::vector<std::uint64_t> out;
  out.reserve(records.size());
  for (const Record& record : records) {
    out.push_back(record.seq);
  }
  return out;
}

std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t last) {
  std::vector<std::uint64_t> out;
  out.reserve(last - first + 1);
  for (std::uint64_t n = first; n <= last; ++n) {
    out.push_back(n);
  }
  return out;
}

TEST(Spool, RoundTripsExactPayloadBytes) {
  TempDir dir;
  std::vector<std::string> payloads = {"", std::string(1, '\0'), std::string("a\0b\0", 4),
                                       "{\"state\": \"on\"}"};
  std::string every_byte;
  for (int b = 0; b < 256; ++b) {
    every_byte += static_cast<char>(b);
  }
  payloads.push_back(every_byte);
  std::string big(5u << 20, '\0');
  for (std::size_t i = 0; i < big.size(); i += 7) {
    big[i] = static_cast<char>(i % 251);
  }
  payloads.push_back(big);

  std::vector<Record> expected;
  {
    Spool spool(options_in(dir));
    for (const std::string& payload : payloads) {
      Record record = sample(expected.size() + 1);
      record.payload = payload;
      EXPECT_EQ(spool.append(record.view()), record.seq);
      expected.push_back(record);
    }
    EXPECT_EQ(read_all(spool), expected);
  }
  Spool reopened(options_in(dir));
  EXPECT_EQ(reopened.recovery().records, expected.size());
  EXPECT_EQ(reopened.recovery().torn_bytes, 0u);
  EXPECT_TRUE(reopened.recovery().problems.empty());
  const std::vector<Record> again = read_all(reopened);
  ASSERT_EQ(again.size(), expected.size());
  for (std::size_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(again[i], expected[i]) << "record " << i;
  }
  EXPECT_EQ(again.back().payload.size(), 5u << 20);
}

TEST(Spool, SequenceContinuesAcrossRollsAndReopening) {
  TempDir dir;
  SpoolOptions options = options_in(dir);
  options.segment_bytes = 1024;
  {
    Spool spool(options);
    for (std::uint64_t n = 1; n <= 100; ++n) {
      ASSERT_EQ(spool.append(sample(n).view()), n);
    }
  }
  EXPECT_GT(segment_names(options.directory).size(), 5u);
  Spool spool(options);
  for (std::uint64_t n = 101; n <= 200; ++n) {
    ASSERT_EQ(spool.append(sample(n).view()), n);
  }
  const std::vector<Record> all = read_all(spool);
  ASSERT_EQ(seqs(all), range(1, 200));
  for (const Record& record : all) {
    EXPECT_EQ(record, sample(record.seq));
  }
}

TEST(Spool, RecordLargerThanASegmentGetsASegmentOfItsOwn) {
  TempDir dir;
  SpoolOptions options = options_in(dir);
  options.segment_bytes = 100;
  Spool spool(options);
  for (std::uint64_t n = 1; n <= 3; ++n) {
    spool.append(sample(n, 500).view());
  }
  EXPECT_EQ(segment_names(options.directory).size(), 3u);
  EXPECT_EQ(seqs(read_all(spool)), range(1, 3));
}

// One call writes what a segment takes at once; the files must come out as
// appending the messages one by one makes them, and read back the same.
TEST(Spool, AppendAllLaysOutSegmentsAsSingleAppendsDo) {
  std::vector<Record> records;
  for (std::uint64_t n = 1; n <= 120; ++n) {
    records.push_back(sample(n, n == 40 ? 3000 : n % 90));
  }
  std::vector<MessageView> views;
  for (const Record& record : records) {
    views.push_back(record.view());
  }
  auto small_segments = [](const TempDir& dir) {
    SpoolOptions options = options_in(dir);
    options.segment_bytes = 1024;
    return options;
  };
  TempDir single_dir;
  const SpoolOptions single = small_segments(single_dir);
  {
    Spool spool(single);
    for (const Record& record : records) {
      spool.append(record.view());
    }
  }
  TempDir joint_dir;
  const SpoolOptions joint = small_segments(joint_dir);
  {
    Spool spool(joint);
    EXPECT_EQ(spool.append_all(std::span<const MessageView>(views).first(7)), 1u);
    EXPECT_EQ(spool.append_all(std::span<const MessageView>(views).subspan(7)), 8u);
  }
  EXPECT_GT(segment_names(joint.directory).size(), 5u);
  ASSERT_EQ(segment_names(joint.directory), segment_names(single.directory));
  for (const std::string& name : segment_names(joint.directory)) {
    EXPECT_EQ(file_bytes(joint.directory / name), file_bytes(single.directory / name)) << name;
  }
  Spool spool(joint);
  const std::vector<Record> all = read_all(spool);
  ASSERT_EQ(seqs(all), range(1, 120));
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i], records[i]);
  }
  EXPECT_EQ(spool.append(sample(121).view()), 121u);
}

TEST(Spool, AppendAllOfNothingStoresNothing) {
  TempDir dir;
  Spool spool(options_in(dir));
  EXPECT_EQ(spool.append_all({}), 0u);
  EXPECT_EQ(spool.backlog().records, 0u);
  EXPECT_EQ(spool.append(sample(1).view()), 1u);
}

TEST(Spool, AppendAllInEveryModeMakesTheRecordsReadableAtOnce) {
  TempDir dir;
  SpoolOptions options = options_in(dir);
  options.sync = SyncMode::every;
  Spool spool(options);
  const Record first = sample(1);
  const Record second = sample(2);
  const MessageView views[] = {first.view(), second.view()};
  ASSERT_EQ(spool.append_all(views), 1u);
  EXPECT_EQ(seqs(spool.read_batch(10, 1 << 20, 0ms)), range(1, 2));
}

TEST(Spool, SeekAfterReopeningResumesAfterTheCommittedRecord) {
  TempDir dir;
  SpoolOptions options = options_in(dir);
  options.segment_bytes = 512;
  {
    Spool spool(options);
    for (std::uint64_t n = 1; n <= 50; ++n) {
      spool.append(sample(n).view());
    }
  }
  Spool spool(options);
  spool.seek_after(20);
  EXPECT_EQ(spool.backlog().records, 30u);
  EXPECT_EQ(spool.backlog().bytes, 30 * kSampleSize);
  EXPECT_EQ(seqs(read_all(spool)), range(21, 50));
  EXPECT_EQ(spool.append(sample(51).view()), 51u);
  EXPECT_EQ(seqs(read_all(spool)), std::vector<std::uint64_t>{51});
}

TEST(Spool, SeekAfterBeyondTheSpoolKeepsNewNumbersAboveIt) {
  TempDir dir;
  {
    Spool spool(options_in(dir));
    for (std::uint64_t n = 1; n <= 5; ++n) {
      spool.append(sample(n).view());
    }
  }
  {
    // The database holds up to 1000, e.g. the spool lost its tail in a power cut.
    Spool spool(options_in(dir));
    spool.seek_after(1000);
    EXPECT_EQ(spool.backlog().records, 0u);
    EXPECT_EQ(spool.append(sample(1).view()), 1001u);
    EXPECT_EQ(seqs(read_all(spool)), std::vector<std::uint64_t>{1001});
    EXPECT_THROW(spool.seek_after(2000), std::logic_error);
  }
  Spool spool(options_in(dir));
  spool.seek_after(1000);
  EXPECT_EQ(seqs(read_all(spool)), std::vector<std::uint64_t>{1001});
  EXPECT_EQ(spool.append(sample(2).view()), 1002u);
}

TEST(Spool, EmptiedDirectoryStillNumbersAboveTheDatabase) {
  TempDir dir;
  Spool spool(options_in(dir));
  spool.seek_after(77);
  EXPECT_EQ(spool.append(sample(1).view()), 78u);
  EXPECT_EQ(segment_names(spool.options().directory),
            std::vector<std::string>{"00000000000000000078.seg"});
}

TEST(Spool, CommitDeletesOnlyWhollyCommittedSegments) {
  TempDir dir;
  SpoolOptions options = options_in(dir);
  options.segment_bytes = kSegmentHeaderSize + 4 * kSampleSize;  // four records each
  Spool spool(options);
  for (std::uint64_t n = 1; n <= 20; ++n) {
    spool.append(sample(n).view());
  }
  auto name = [](std::uint64_t first) { return segment_file_name(first); };
  ASSERT_EQ(segment_names(options.directory),
            (std::vector<std::string>{name(1), name(5), name(9), name(13), name(17)}));
  ASSERT_EQ(read_all(spool).size(), 20u);

  spool.commit(6);
  EXPECT_EQ(segment_names(options.directory),
            (std::vector<std::string>{name(5), name(9), name(13), name(17)}));
  spool.commit(8);
  EXPECT_EQ(segment_names(options.directory),
            (std::vector<std::string>{name(9), name(13), name(17)}));
  spool.commit(20);
  // The newest segment stays: it keeps the highest number on disk.
  EXPECT_EQ(segment_names(options.directory), std::vector<std::string>{name(17)});
  EXPECT_EQ(spool.backlog().records, 0u);
  EXPECT_EQ(spool.backlog().bytes, 0u);
}

TEST(Spool, CommitAheadOfReadingSkipsCommittedRecords) {
  TempDir dir;
  Spool spool(options_in(dir));
  for (std::uint64_t n = 1; n <= 10; ++n) {
    spool.append(sample(n).view());
  }
  spool.commit(4);
  EXPECT_EQ(seqs(read_all(spool)), range(5, 10));
}

TEST(Spool, BacklogCountsWhatIsNotCommitted) {
  TempDir dir;
  SpoolOptions options = options_in(dir);
  options.max_bytes = 10 * kSampleSize;
  Spool spool(options);
  for (std::uint64_t n = 1; n <= 9; ++n) {
    spool.append(sample(n).view());
  }
  EXPECT_EQ(spool.backlog().records, 9u);
  EXPECT_EQ(spool.backlog().bytes, 9 * kSampleSize);
  EXPECT_FALSE(spool.full());
  spool.append(sample(10).view());
  EXPECT_TRUE(spool.full());
  EXPECT_FALSE(spool.wait_until_not_full(1ms));

  ASSERT_EQ(spool.read_batch(3, 1 << 20, 0ms).size(), 3u);
  spool.commit(3);
  EXPECT_FALSE(spool.full());
  EXPECT_EQ(spool.backlog().records, 7u);
  EXPECT_EQ(spool.backlog().bytes, 7 * kSampleSize);

  ASSERT_EQ(spool.read_batch(5, 1 << 20, 0ms).size(), 5u);  // 4..8
  spool.commit(6);  // inside the batch: records exact, bytes may only be overstated
  EXPECT_EQ(spool.backlog().records, 4u);
  EXPECT_GE(spool.backlog().bytes, 4 * kSampleSize);
  spool.commit(8);
  EXPECT_EQ(spool.backlog().records, 2u);
  EXPECT_EQ(spool.backlog().bytes, 2 * kSampleSize);
}

TEST(Spool, BacklogSurvivesReopening) {
  TempDir dir;
  {
    Spool spool(options_in(dir));
    for (std::uint64_t n = 1; n <= 6; ++n) {
      spool.append(sample(n).view());
    }
  }
  Spool spool(options_in(dir));
  EXPECT_EQ(spool.backlog().records, 6u);
  spool.seek_after(2);
  EXPECT_EQ(spool.backlog().records, 4u);
  EXPECT_EQ(spool.backlog().bytes, 4 * kSampleSize);
}

TEST(Spool, WaitUntilNotFullWakesWhenACommitMakesRoom) {
  TempDir dir;
  SpoolOptions options = options_in(dir);
  options.max_bytes = 3 * kSampleSize;
  Spool spool(options);
  for (std::uint64_t n = 1; n <= 3; ++n) {
    spool.append(sample(n).view());
  }
  ASSERT_TRUE(spool.full());
  auto waiter = std::async(std::launch::async, [&] { return spool.wait_until_not_full(60s); });
  ASSERT_EQ(spool.read_batch(2, 1 << 20, 0ms).size(), 2u);
  spool.commit(2);
  ASSERT_EQ(waiter.wait_for(30s), std::future_status::ready);
  EXPECT_TRUE(waiter.get());
}

TEST(Spool, RequestStopWakesWaiters) {
  TempDir dir;
  SpoolOptions options = options_in(dir);
  options.max_bytes = kSampleSize;
  Spool spool(options);
  auto reader = std::async(std::launch::async, [&] { return spool.read_batch(10, 1 << 20, 60s); });
  spool.append(sample(1).view());
  ASSERT_TRUE(spool.full());
  ASSERT_EQ(reader.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(reader.get().size(), 1u);  // woken by the record

  auto waiter = std::async(std::launch::async, [&] { return spool.wait_until_not_full(60s); });
  auto idle_reader =
      std::async(std::launch::async, [&] { return spool.read_batch(10, 1 << 20, 60s); });
  spool.request_stop();
  ASSERT_EQ(waiter.wait_for(30s), std::future_status::ready);
  ASSERT_EQ(idle_reader.wait_for(30s), std::future_status::ready);
  EXPECT_FALSE(waiter.get());
  EXPECT_TRUE(idle_reader.get().empty());
}

TEST(Spool, BatchLimits) {
  TempDir dir;
  Spool spool(options_in(dir));
  for (std::uint64_t n = 1; n <= 10; ++n) {
    spool.append(sample(n).view());
  }
  EXPECT_EQ(seqs(spool.read_batch(3, 1 << 20, 0ms)), range(1, 3));
  EXPECT_EQ(seqs(spool.read_batch(100, 1, 0ms)), range(4, 4));  // always at least one
  EXPECT_EQ(seqs(spool.read_batch(100, 2 * kSampleSize, 0ms)), range(5, 6));
  EXPECT_EQ(seqs(spool.read_batch(100, 1 << 20, 0ms)), range(7, 10));
  EXPECT_TRUE(spool.read_batch(100, 1 << 20, 0ms).empty());
}

TEST(Spool, ConcurrentAppendAndReadKeepOrderAndCount) {
  constexpr std::uint64_t kCount = 100'000;
  TempDir dir;
  SpoolOptions options = options_in(dir);
  options.segment_bytes = 64 << 10;  // many rolls and deletions while both run
  Spool spool(options);

  auto reader = std::async(std::launch::async, [&] {
    std::uint64_t expected = 1;
    while (expected <= kCount) {
      const std::vector<Record> batch = spool.read_batch(500, 1 << 20, 10s);
      if (batch.empty()) {
        return "the reader waited 10 s without a record at " + std::to_string(expected);
      }
      for (const Record& record : batch) {
        if (record != sample(expected, expected % 50)) {
          return "record " + std::to_string(record.seq) + " where " + std::to_string(expected) +
                 " was expected, or with other contents";
        }
        ++expected;
      }
      spool.commit(batch.back().seq);
    }
    return std::string();
  });
  for (std::uint64_t n = 1; n <= kCount; ++n) {
    ASSERT_EQ(spool.append(sample(n, n % 50).view()), n);
  }
  ASSERT_EQ(reader.wait_for(120s), std::future_status::ready);
  EXPECT_EQ(reader.get(), "");
  EXPECT_EQ(spool.backlog().records, 0u);
  EXPECT_EQ(spool.backlog().bytes, 0u);
  EXPECT_EQ(segment_names(options.directory).size(), 1u);
}

TEST(Spool, EveryModeMakesEachRecordReadableAtOnce) {
  TempDir dir;
  SpoolOptions options = options_in(dir);
  options.sync = SyncMode::every;
  Spool spool(options);
  spool.append(sample(1).view());
  EXPECT_EQ(seqs(spool.read_batch(10, 1 << 20, 0ms)), range(1, 1));
}

TEST(Spool, IntervalModeSyncsWithoutFurtherAppends) {
  TempDir dir;
  SpoolOptions options = options_in(dir);
  options.sync = SyncMode::interval;
  options.sync_interval = 20ms;
  Spool spool(options);
  spool.append(sample(1).view());
  // Readable only once synced, which the background thread does on its own.
  EXPECT_EQ(seqs(spool.read_batch(10, 1 << 20, 30s)), range(1, 1));
  spool.append(sample(2).view());
  spool.sync();
  EXPECT_EQ(seqs(spool.read_batch(10, 1 << 20, 0ms)), range(2, 2));
}

TEST(Spool, SyncsCountTheFlushesEachModeMakes) {
  TempDir dir;
  const Record first = sample(1);
  const Record second = sample(2);
  const MessageView burst[] = {first.view(), second.view()};
  {
    SpoolOptions options = options_in(dir);
    options.directory = dir.path() / "every";
    options.sync = SyncMode::every;
    Spool spool(options);
    spool.append(first.view());  // starts the segment, whose header is flushed too
    const std::uint64_t after_first = spool.syncs();
    EXPECT_GE(after_first, 1u);
    spool.append_all(burst);
    EXPECT_EQ(spool.syncs(), after_first + 1);  // one flush for the whole burst
    spool.append(second.view());
    EXPECT_EQ(spool.syncs(), after_first + 2);
  }
  {
    SpoolOptions options = options_in(dir);
    options.directory = dir.path() / "never";
    Spool spool(options);
    spool.append_all(burst);
    spool.append(first.view());
    EXPECT_EQ(spool.syncs(), 0u);
  }
}

TEST(Spool, IntervalModeKeepsRecordsOverAReopen) {
  TempDir dir;
  SpoolOptions options = options_in(dir);
  options.sync = SyncMode::interval;
  options.sync_interval = std::chrono::hours(1);
  {
    Spool spool(options);
    for (std::uint64_t n = 1; n <= 3; ++n) {
      spool.append(sample(n).view());
    }
  }
  Spool spool(options);
  EXPECT_EQ(seqs(read_all(spool)), range(1, 3));
}

TEST(Spool, LockKeepsASecondSpoolOut) {
  TempDir dir;
  const SpoolOptions options = options_in(dir);
  {
    Spool first(options);
    try {
      Spool second(options);
      FAIL() << "a second spool opened the same directory";
    } catch (const SpoolError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(options.directory.string()), std::string::npos) << what;
      EXPECT_NE(what.find("in use by another process"), std::string::npos) << what;
      EXPECT_NE(what.find("own spool directory"), std::string::npos) << what;
    }
  }
  EXPECT_NO_THROW(Spool again(options));
}

TEST(Spool, RecentRecordsAreTheNewestOnes) {
  TempDir dir;
  SpoolOptions options = options_in(dir);
  options.segment_bytes = 300;
  {
    Spool spool(options);
    for (std::uint64_t n = 1; n <= 10; ++n) {
      spool.append(sample(n).view());
    }
  }
  options.recent_records = 3;
  Spool spool(options);
  std::vector<RecentRecord> expected;
  for (std::uint64_t n = 8; n <= 10; ++n) {
    const Record record = sample(n);
    expected.push_back(
        {record.seq, record.mid, record.qos, content_hash(record.topic, record.payload)});
  }
  EXPECT_EQ(spool.recent_records(), expected);
}

TEST(Spool, RefusesOversizedMessagesAndGoesOn) {
  TempDir dir;
  Spool spool(options_in(dir));
  const std::string topic(kMaxTopicSize + 1, 't');
  MessageView message;
  message.topic = topic;
  EXPECT_THROW(spool.append(message), SpoolError);
  EXPECT_EQ(spool.append(sample(1).view()), 1u);
  EXPECT_EQ(seqs(read_all(spool)), range(1, 1));
}

TEST(SyncMode, ParsesItsNames) {
  EXPECT_EQ(parse_sync_mode("every"), SyncMode::every);
  EXPECT_EQ(parse_sync_mode("interval"), SyncMode::interval);
  EXPECT_EQ(parse_sync_mode("never"), SyncMode::never);
  EXPECT_THROW(parse_sync_mode("always"), std::exception);
}

}  // namespace
}  // namespace statesink::spool
