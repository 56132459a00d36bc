#include "ingest/dead_letter_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "ingest/dead_letter.h"

namespace statesink::ingest {
namespace {

constexpr const char* kSpool = "0123456789abcdef";

class DeadLetterReader : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("dead_letter_reader_" + std::string(info->name()) + "_" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    file_ = dir_ / "dead-letter.jsonl";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void append(const std::string& text) {
    std::ofstream(file_, std::ios::app | std::ios::binary) << text << "\n";
  }

  static spool::Record record(std::uint64_t seq, std::string payload) {
    spool::Record r;
    r.seq = seq;
    r.received_at_us = 1'700'000'000'123'456;
    r.topic = "ha/sensor/x/state";
    r.payload = std::move(payload);
    r.qos = 1;
    r.retain = true;
    return r;
  }

  std::filesystem::path dir_;
  std::filesystem::path file_;
};

// A line as the first writer (before seq and spool_id) wrote it.
const char* kOldLine =
    R"({"payload_base64":"MjEuNQ==","payload_bytes":4,"qos":0,"reason":"old",)"
    R"("received_at":"2023-11-14 22:13:20.000001","retained":false,"topic":"ha/sensor/y/state"})";

TEST_F(DeadLetterReader, ReadsWhatTheWriterWrote) {
  DeadLetterFile writer(file_, kSpool);
  writer.write(record(7, std::string("\0bin\xff", 5)), "too large");
  writer.write(record(9, ""), "refused");

  const DeadLetters read = read_dead_letters(file_, std::nullopt);
  EXPECT_TRUE(read.file_exists);
  EXPECT_TRUE(read.problems.empty());
  ASSERT_EQ(read.letters.size(), 2u);
  const DeadLetter& first = read.letters[0];
  EXPECT_EQ(first.line, 1u);
  EXPECT_EQ(first.spool_id, kSpool);
  EXPECT_EQ(first.seq, 7u);
  EXPECT_EQ(first.replay_seq, 7u);
  EXPECT_EQ(first.received_at, "2023-11-14 22:13:20.123456");
  EXPECT_EQ(first.topic, "ha/sensor/x/state");
  EXPECT_EQ(first.payload, std::string("\0bin\xff", 5));
  EXPECT_EQ(first.qos, 1);
  EXPECT_TRUE(first.retained);
  EXPECT_EQ(first.reason, "too large");
  EXPECT_EQ(read.letters[1].line, 2u);
  EXPECT_EQ(read.letters[1].payload, "");
}

TEST_F(DeadLetterReader, MissingFileHoldsNothing) {
  const DeadLetters read = read_dead_letters(dir_ / "none.jsonl", kSpool);
  EXPECT_FALSE(read.file_exists);
  EXPECT_TRUE(read.letters.empty());
  EXPECT_TRUE(read.problems.empty());
}

TEST_F(DeadLetterReader, OlderLinesTakeTheSpoolOfTheDirectoryAndAStableContentSeq) {
  append(kOldLine);
  const DeadLetters read = read_dead_letters(file_, std::string(kSpool));
  ASSERT_EQ(read.letters.size(), 1u) << (read.problems.empty() ? "" : read.problems[0].message);
  const DeadLetter& letter = read.letters[0];
  EXPECT_EQ(letter.spool_id, kSpool);
  EXPECT_EQ(letter.seq, std::nullopt);
  EXPECT_GE(letter.replay_seq, std::uint64_t{1} << 63);
  EXPECT_EQ(letter.payload, "21.5");
  EXPECT_EQ(read_dead_letters(file_, std::string(kSpool)).letters[0].replay_seq, letter.replay_seq);

  // Without a spool id to fall back on, the line cannot be identified.
  const DeadLetters orphan = read_dead_letters(file_, std::nullopt);
  EXPECT_TRUE(orphan.letters.empty());
  ASSERT_EQ(orphan.problems.size(), 1u);
  EXPECT_EQ(orphan.problems[0].line, 1u);
  EXPECT_NE(orphan.problems[0].message.find("spool_id"), std::string::npos);
}

TEST_F(DeadLetterReader, MalformedLinesAreReportedWithTheirNumberAndTheRestIsRead) {
  DeadLetterFile writer(file_, kSpool);
  writer.write(record(1, "ok"), "r");
  append("{\"topic\": \"cut off");                                         // 2
  append("[1, 2]");                                                        // 3
  append(R"({"topic":"t","received_at":"2023-11-14 22:13:20","qos":1})");  // 4
  append(R"({"topic":"t","received_at":"yesterday","qos":0,"retained":false,"payload_base64":""})");
  append(
      R"({"topic":"t","received_at":"2023-11-14 22:13:20","qos":3,"retained":false,"payload_base64":""})");
  append(
      R"({"topic":"t","received_at":"2023-11-14 22:13:20","qos":0,"retained":false,"payload_base64":"a!=="})");
  append(
      R"({"topic":"t","received_at":"2023-11-14 22:13:20","qos":0,"retained":false,"payload_base64":"YQ==","payload_bytes":2})");
  append(
      R"({"topic":7,"received_at":"2023-11-14 22:13:20","qos":0,"retained":false,"payload_base64":""})");
  append(
      R"({"topic":"t","received_at":"2023-11-14 22:13:20","qos":0,"retained":false,"payload_base64":"","seq":-4})");
  append("");                               // blank lines are skipped, not errors
  writer.write(record(2, "also ok"), "r");  // 12

  const DeadLetters read = read_dead_letters(file_, std::nullopt);
  ASSERT_EQ(read.letters.size(), 2u);
  EXPECT_EQ(read.letters[0].line, 1u);
  EXPECT_EQ(read.letters[1].line, 12u);
  EXPECT_EQ(read.letters[1].payload, "also ok");

  std::vector<std::pair<std::size_t, std::string>> problems;
  for (const auto& p : read.problems) {
    problems.emplace_back(p.line, p.message);
  }
  const std::vector<std::pair<std::size_t, std::string>> expected = {
      {2, "not valid JSON (a cut-off or edited line)"},
      {3, "not a JSON object"},
      {4, "\"retained\" is missing"},
      {5, "\"received_at\" is not a time like 2024-05-01 12:00:03.512345"},
      {6, "\"qos\" is not 0, 1 or 2"},
      {7, "\"payload_base64\" is not base64"},
      {8, "the payload has 1 bytes, but \"payload_bytes\" says 2"},
      {9, "\"topic\" is not text"},
      {10, "\"seq\" is not a whole number"},
  };
  EXPECT_EQ(problems, expected);
}

}  // namespace
}  // namespace statesink::ingest
