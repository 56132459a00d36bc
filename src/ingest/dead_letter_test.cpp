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
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(nlohmann::json::parse(line)["reason"], "second");
  EXPECT_FALSE(std::getline(in, line));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace statesink::ingest
