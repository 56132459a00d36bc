#include "spool/recovery.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "spool/spool.h"
#include "spool/test_support.h"

namespace statesink::spool {
namespace {

using namespace std::chrono_literals;
using testing::kSampleSize;
using testing::sample;
using testing::segment_names;
using testing::TempDir;
namespace fs = std::filesystem;

SpoolOptions options_in(const fs::path& dir) {
  SpoolOptions options;
  options.directory = dir;
  options.sync = SyncMode::never;
  options.segment_bytes = kSegmentHeaderSize + 4 * kSampleSize;  // four records each
  return options;
}

void fill(const fs::path& dir, std::uint64_t count) {
  Spool spool(options_in(dir));
  for (std::uint64_t n = 1; n <= count; ++n) {
    spool.append(sample(n).view());
  }
}

std::vector<std::uint64_t> read_seqs(Spool& spool) {
  std::vector<std::uint64_t> out;
  for (;;) {
    const std::vector<Record> batch = spool.read_batch(1000, 1 << 20, 0ms);
    if (batch.empty()) {
      return out;
    }
    for (const Record& record : batch) {
      EXPECT_EQ(record.payload, sample(record.seq).payload);
      out.push_back(record.seq);
    }
  }
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void flip_byte(const fs::path& path, std::uint64_t offset) {
  std::string bytes = read_file(path);
  bytes.at(offset) = static_cast<char>(bytes.at(offset) ^ 0x40);
  write_file(path, bytes);
}

fs::path segment(const fs::path& dir, std::uint64_t first_seq) {
  return dir / segment_file_name(first_seq);
}

TEST(Recovery, TornLastRecordIsCutAtEveryByte) {
  TempDir pristine;
  fill(pristine.path(), 3);
  const std::string bytes = read_file(segment(pristine.path(), 1));
  const std::uint64_t last_start = kSegmentHeaderSize + 2 * kSampleSize;
  ASSERT_EQ(bytes.size(), last_start + kSampleSize);

  for (std::uint64_t cut = last_start; cut < bytes.size(); ++cut) {
    SCOPED_TRACE("cut at byte " + std::to_string(cut));
    TempDir dir;
    write_file(segment(dir.path(), 1), bytes.substr(0, cut));
    {
      Spool spool(options_in(dir.path()));
      EXPECT_EQ(spool.recovery().torn_bytes, cut - last_start);
      EXPECT_TRUE(spool.recovery().problems.empty());
      EXPECT_EQ(spool.recovery().records, 2u);
      EXPECT_EQ(fs::file_size(segment(dir.path(), 1)), last_start);
      EXPECT_EQ(read_seqs(spool), (std::vector<std::uint64_t>{1, 2}));
      // The broker sends the torn message again; it gets the next number.
      EXPECT_EQ(spool.append(sample(3).view()), 3u);
    }
    Spool reopened(options_in(dir.path()));
    EXPECT_EQ(reopened.recovery().torn_bytes, 0u);
    EXPECT_EQ(read_seqs(reopened), (std::vector<std::uint64_t>{1, 2, 3}));
  }
}

TEST(Recovery, ZerosAfterTheLastRecordAreCut) {
  TempDir dir;
  fill(dir.path(), 3);
  const fs::path path = segment(dir.path(), 1);
  write_file(path, read_file(path) + std::string(4096, '\0'));
  Spool spool(options_in(dir.path()));
  EXPECT_EQ(spool.recovery().torn_bytes, 4096u);
  EXPECT_TRUE(spool.recovery().problems.empty());
  EXPECT_EQ(read_seqs(spool), (std::vector<std::uint64_t>{1, 2, 3}));
}

TEST(Recovery, TornSegmentHeaderIsRewritten) {
  TempDir dir;
  fill(dir.path(), 4);
  for (std::uint64_t size = 0; size < kSegmentHeaderSize; ++size) {
    SCOPED_TRACE("header of " + std::to_string(size) + " bytes");
    const auto header = segment_header(5);
    write_file(segment(dir.path(), 5), std::string(header.data(), size));
    Spool spool(options_in(dir.path()));
    EXPECT_EQ(spool.recovery().torn_bytes, size);
    EXPECT_TRUE(spool.recovery().problems.empty());
    EXPECT_EQ(fs::file_size(segment(dir.path(), 5)), kSegmentHeaderSize);
    EXPECT_EQ(read_seqs(spool), (std::vector<std::uint64_t>{1, 2, 3, 4}));
    EXPECT_EQ(spool.append(sample(5).view()), 5u);
    fs::remove(segment(dir.path(), 5));
  }
}

TEST(Recovery, DamageInsideAnOlderSegmentIsSetAsideAndIngestionGoesOn) {
  TempDir dir;
  fill(dir.path(), 12);  // segments 1, 5 and 9
  const fs::path damaged = segment(dir.path(), 5);
  const std::uint64_t original_size = fs::file_size(damaged);
  flip_byte(damaged, kSegmentHeaderSize + kSampleSize + 60);  // in record 6

  {
    Spool spool(options_in(dir.path()));
    const RecoveryReport& report = spool.recovery();
    ASSERT_EQ(report.problems.size(), 1u);
    const std::string& problem = report.problems[0];
    EXPECT_NE(problem.find(segment_file_name(5)), std::string::npos) << problem;
    EXPECT_NE(problem.find("checksum mismatch"), std::string::npos) << problem;
    EXPECT_NE(problem.find("kept its first 1 records"), std::string::npos) << problem;
    EXPECT_NE(problem.find("up to sequence number 8"), std::string::npos) << problem;
    ASSERT_EQ(report.set_aside.size(), 1u);
    EXPECT_EQ(report.set_aside[0].filename().string(), segment_file_name(5) + ".corrupt");
    EXPECT_EQ(fs::file_size(report.set_aside[0]), original_size);
    EXPECT_EQ(report.torn_bytes, 0u);

    EXPECT_EQ(read_seqs(spool), (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 9, 10, 11, 12}));
    EXPECT_EQ(spool.append(sample(13).view()), 13u);
  }
  Spool again(options_in(dir.path()));
  EXPECT_TRUE(again.recovery().problems.empty());
  EXPECT_EQ(read_seqs(again), (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 9, 10, 11, 12, 13}));
}

// One segment of records 1..5 with a byte of record 2 flipped: damage inside
// the newest segment, not a torn write at its end.
SpoolOptions five_records_damaged_in_the_second(const TempDir& dir) {
  SpoolOptions options = options_in(dir.path());
  options.segment_bytes = 1 << 20;
  {
    Spool spool(options);
    for (std::uint64_t n = 1; n <= 5; ++n) {
      spool.append(sample(n).view());
    }
  }
  flip_byte(segment(dir.path(), 1), kSegmentHeaderSize + kSampleSize + 50);
  return options;
}

TEST(Recovery, DamageInsideTheNewestSegmentIsNotTakenForATornWrite) {
  TempDir dir;
  const SpoolOptions options = five_records_damaged_in_the_second(dir);
  Spool spool(options);
  ASSERT_EQ(spool.recovery().problems.size(), 1u);
  EXPECT_NE(spool.recovery().problems[0].find("up to sequence number 5"), std::string::npos)
      << spool.recovery().problems[0];
  EXPECT_EQ(spool.recovery().torn_bytes, 0u);
  EXPECT_TRUE(fs::exists(segment(dir.path(), 1).string() + ".corrupt"));
  EXPECT_EQ(read_seqs(spool), (std::vector<std::uint64_t>{1}));
  // Numbers stay above those in the set-aside part, which the database may hold.
  EXPECT_EQ(spool.append(sample(6).view()), 6u);
}

TEST(Recovery, NumbersOnlyInSetAsideDataStayUsedAcrossRestarts) {
  TempDir dir;
  const SpoolOptions options = five_records_damaged_in_the_second(dir);
  { Spool first(options); }  // sets records 2..5 aside, appends nothing
  Spool second(options);
  EXPECT_TRUE(second.recovery().problems.empty());
  EXPECT_EQ(read_seqs(second), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(second.append(sample(6).view()), 6u);
}

TEST(Recovery, UnreadableSegmentHeaderMovesTheWholeSegmentAside) {
  TempDir dir;
  fill(dir.path(), 12);
  flip_byte(segment(dir.path(), 5), 2);
  Spool spool(options_in(dir.path()));
  ASSERT_EQ(spool.recovery().problems.size(), 1u);
  EXPECT_FALSE(fs::exists(segment(dir.path(), 5)));
  EXPECT_TRUE(fs::exists(segment(dir.path(), 5).string() + ".corrupt"));
  EXPECT_EQ(read_seqs(spool), (std::vector<std::uint64_t>{1, 2, 3, 4, 9, 10, 11, 12}));
}

TEST(Recovery, OverlappingSegmentIsMovedAside) {
  TempDir dir;
  fill(dir.path(), 8);  // segments 1 (1..4) and 5 (5..8)
  TempDir other;
  {
    Spool spool(options_in(other.path()));
    spool.seek_after(2);
    spool.append(sample(3).view());  // a segment named 3: overlaps 1..4
  }
  fs::copy_file(segment(other.path(), 3), segment(dir.path(), 3));
  Spool spool(options_in(dir.path()));
  ASSERT_EQ(spool.recovery().problems.size(), 1u);
  EXPECT_NE(spool.recovery().problems[0].find("already holds"), std::string::npos);
  EXPECT_EQ(read_seqs(spool), (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(Recovery, OtherFilesAreLeftAlone) {
  TempDir dir;
  fill(dir.path(), 2);
  write_file(dir.path() / "spool-id", "abc\n");
  write_file(dir.path() / "dead-letters.jsonl", "{}\n");
  write_file(dir.path() / (segment_file_name(1) + ".corrupt"), "old damage");
  Spool spool(options_in(dir.path()));
  EXPECT_TRUE(spool.recovery().problems.empty());
  EXPECT_EQ(read_file(dir.path() / "spool-id"), "abc\n");
  EXPECT_EQ(read_file(dir.path() / (segment_file_name(1) + ".corrupt")), "old damage");
  EXPECT_EQ(read_seqs(spool), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(segment_names(dir.path()), std::vector<std::string>{segment_file_name(1)});
}

}  // namespace
}  // namespace statesink::spool

namespace statesink::spool {
namespace {

std::string encoded(std::uint64_t seq, const Record& record) {
  const RecordEncoder encoder(seq, record.view());
  std::string bytes;
  for (std::string_view piece : encoder.pieces()) {
    bytes += piece;
  }
  return bytes;
}

void append_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::filesystem::path first_segment(const std::filesystem::path& dir) {
  return dir / segment_file_name(1);
}

SpoolOptions one_segment(const std::filesystem::path& dir) {
  SpoolOptions options;
  options.directory = dir;
  options.sync = SyncMode::never;
  options.segment_bytes = 1 << 20;
  return options;
}

// A crash can tear the last record but cannot write a whole one with a sound
// checksum and a wrong sequence number: that is damage, reported and kept.
TEST(RecoverySoundLastRecord, OutOfSequenceIsSetAsideNotCutAsTorn) {
  testing::TempDir dir;
  {
    Spool spool(one_segment(dir.path()));
    for (std::uint64_t n = 1; n <= 3; ++n) {
      spool.append(testing::sample(n).view());
    }
  }
  append_bytes(first_segment(dir.path()), encoded(9, testing::sample(9)));
  Spool spool(one_segment(dir.path()));
  const RecoveryReport& report = spool.recovery();
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_NE(report.problems[0].find("sequence number 9 where 4 was expected"), std::string::npos)
      << report.problems[0];
  EXPECT_EQ(report.torn_bytes, 0u);
  ASSERT_EQ(report.set_aside.size(), 1u);
  EXPECT_TRUE(std::filesystem::exists(report.set_aside[0]));
  EXPECT_EQ(report.records, 3u);
}

TEST(RecoverySoundLastRecord, ImpossibleQosIsSetAsideNotCutAsTorn) {
  testing::TempDir dir;
  {
    Spool spool(one_segment(dir.path()));
    for (std::uint64_t n = 1; n <= 2; ++n) {
      spool.append(testing::sample(n).view());
    }
  }
  Record bad = testing::sample(3);
  bad.qos = 7;
  append_bytes(first_segment(dir.path()), encoded(3, bad));
  Spool spool(one_segment(dir.path()));
  const RecoveryReport& report = spool.recovery();
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_NE(report.problems[0].find("invalid QoS"), std::string::npos) << report.problems[0];
  EXPECT_EQ(report.torn_bytes, 0u);
  EXPECT_EQ(report.set_aside.size(), 1u);
}

TEST(RecoverySoundLastRecord, ATornLastRecordIsStillCutQuietly) {
  testing::TempDir dir;
  {
    Spool spool(one_segment(dir.path()));
    spool.append(testing::sample(1).view());
  }
  const std::string next = encoded(2, testing::sample(2));
  append_bytes(first_segment(dir.path()), next.substr(0, next.size() - 1));
  Spool spool(one_segment(dir.path()));
  EXPECT_TRUE(spool.recovery().problems.empty());
  EXPECT_EQ(spool.recovery().torn_bytes, next.size() - 1);
}

}  // namespace
}  // namespace statesink::spool
