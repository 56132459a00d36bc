#include "ingest/dead_letter.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

namespace statesink::ingest {
namespace {

TEST(Base64, EncodesWithPadding) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64(std::string("\0\xff", 2)), "AP8=");
}

TEST(Base64, DecodesWhatItEncodes) {
  for (const std::string& bytes : {std::string(), std::string("f"), std::string("fo"),
                                   std::string("foo"), std::string("\0\xff\x80 x", 5)}) {
    EXPECT_EQ(base64_decode(base64(bytes)), bytes);
  }
  EXPECT_EQ(base64_decode("AGJpbg=="), std::string("\0bin", 4));
}

TEST(Base64, RefusesWhatIsNotBase64) {
  EXPECT_EQ(base64_decode("abc"), std::nullopt);
  EXPECT_EQ(base64_decode("ab!d"), std::nullopt);
  EXPECT_EQ(base64_decode("a==="), std::nullopt);
}

TEST(DeadLetterFile, AppendsOneJsonLinePerMessage) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("dead_letter_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  DeadLetterFile file(dir / "dead-letter.jsonl");
  spool::Record a;
  a.seq = 7;
  a.received_at_us = 1'700'000'000'123'456;
  a.topic = "ha/sensor/x/state";
  a.payload = std::string("\0bin", 4);
  a.qos = 1;
  file.write(a, "larger than max_allowed_packet");
  a.topic = "ha/sensor/y/state";
  file.write(a, "second");

  std::ifstream in(dir / "dead-letter.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  auto json = nlohmann::json::parse(line);
  EXPECT_EQ(json["topic"], "ha/sensor/x/state");
  EXPECT_EQ(json["received_at"], "2023-11-14 22:13:20.123456");
  EXPECT_EQ(json["payload_bytes"], 4);
  EXPECT_EQ(json["payload_base64"], "AGJpbg==");
  EXPECT_EQ(json["reason"], "larger than max_allowed_packet");
  EXPECT_EQ(json["seq"], 7);
  // No spool-id file in the directory: the line cannot name its spool.
  EXPECT_FALSE(json.contains("spool_id"));
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(nlohmann::json::parse(line)["reason"], "second");
  EXPECT_FALSE(std::getline(in, line));
  std::filesystem::remove_all(dir);
}

TEST(DeadLetterFile, NamesTheSpoolOfItsDirectoryOrTheOneGiven) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("dead_letter_id_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "spool-id") << "0123456789abcdef\n";
  spool::Record r;
  r.seq = 3;
  r.topic = "ha/sensor/x/state";
  DeadLetterFile(dir / "a.jsonl").write(r, "why");
  DeadLetterFile(dir / "b.jsonl", "fedcba9876543210").write(r, "why");

  std::ifstream a(dir / "a.jsonl");
  std::ifstream b(dir / "b.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(a, line));
  EXPECT_EQ(nlohmann::json::parse(line)["spool_id"], "0123456789abcdef");
  ASSERT_TRUE(std::getline(b, line));
  EXPECT_EQ(nlohmann::json::parse(line)["spool_id"], "fedcba9876543210");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace statesink::ingest
