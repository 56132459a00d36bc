#include "spool/record.h"

#include <gtest/gtest.h>

#include <string>

#include "spool/segment.h"

namespace statesink::spool {
namespace {

std::string encode(std::uint64_t seq, const MessageView& message) {
  const RecordEncoder encoder(seq, message);
  std::string bytes;
  for (const std::string_view piece : encoder.pieces()) {
    bytes += piece;
  }
  EXPECT_EQ(bytes.size(), encoder.size());
  return bytes;
}

// Decodes a whole record; returns the problem, or nullptr.
const char* decode(const std::string& bytes, Record& out) {
  RecordFrame frame;
  if (const char* problem = check_frame(bytes, frame)) {
    return problem;
  }
  if (bytes.size() != kRecordHeaderSize + frame.body_size) {
    return "size";
  }
  return decode_body(frame, std::span<const char>(bytes).subspan(kRecordHeaderSize), out);
}

TEST(Record, RoundTripKeepsEveryField) {
  const std::string payload("\0bin\xff\0ary\n", 10);
  const MessageView message{-12345, 65535, 2, true, "a/b c/#", payload};
  Record out;
  ASSERT_EQ(decode(encode(42, message), out), nullptr);
  EXPECT_EQ(out.seq, 42u);
  EXPECT_EQ(out.received_at_us, -12345);
  EXPECT_EQ(out.mid, 65535);
  EXPECT_EQ(out.qos, 2);
  EXPECT_TRUE(out.retain);
  EXPECT_EQ(out.topic, "a/b c/#");
  EXPECT_EQ(out.payload, payload);
  EXPECT_EQ(out.payload.size(), 10u);
}

TEST(Record, EmptyTopicAndPayload) {
  Record out;
  out.payload = "left over";
  ASSERT_EQ(decode(encode(1, MessageView{}), out), nullptr);
  EXPECT_TRUE(out.topic.empty());
  EXPECT_TRUE(out.payload.empty());
}

TEST(Record, EveryFlippedBitIsDetected) {
  const std::string good = encode(7, MessageView{99, 3, 1, false, "t/x", "payload"});
  for (std::size_t byte = 0; byte < good.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = good;
      bad[byte] = static_cast<char>(bad[byte] ^ (1 << bit));
      Record out;
      EXPECT_NE(decode(bad, out), nullptr) << "byte " << byte << " bit " << bit;
    }
  }
}

TEST(Record, LengthOutsideLimitsIsRejectedBeforeReadingTheBody) {
  std::string bytes = encode(1, MessageView{});
  RecordFrame frame;
  bytes[4] = 1;  // body_size 1: below the fixed fields
  bytes[5] = bytes[6] = bytes[7] = 0;
  EXPECT_STREQ(check_frame(bytes, frame), "record length too small");
  bytes[4] = bytes[5] = bytes[6] = bytes[7] = '\xff';
  EXPECT_STREQ(check_frame(bytes, frame), "record length too large");
  bytes[0] = 'X';
  EXPECT_STREQ(check_frame(bytes, frame), "no record marker");
}

TEST(SegmentName, FormatsAndParses) {
  EXPECT_EQ(segment_file_name(1), "00000000000000000001.seg");
  EXPECT_EQ(segment_file_name(18446744073709551615ull), "18446744073709551615.seg");
  EXPECT_EQ(parse_segment_file_name("18446744073709551615.seg"), 18446744073709551615ull);
  EXPECT_EQ(parse_segment_file_name("00000000000000000042.seg"), 42u);
  EXPECT_EQ(parse_segment_file_name("00000000000000000042.seg.corrupt"), std::nullopt);
  EXPECT_EQ(parse_segment_file_name("0000000000000000042.seg"), std::nullopt);
  EXPECT_EQ(parse_segment_file_name("000000000000000000x2.seg"), std::nullopt);
  EXPECT_EQ(parse_segment_file_name("00000000000000000000.seg"), std::nullopt);
  EXPECT_EQ(parse_segment_file_name("99999999999999999999.seg"), std::nullopt);  // > uint64_t
  EXPECT_EQ(parse_segment_file_name("spool.lock"), std::nullopt);
}

TEST(SegmentHeader, ChecksMarkerAndFirstSequenceNumber) {
  const auto header = segment_header(77);
  EXPECT_EQ(check_segment_header(header, 77), nullptr);
  EXPECT_NE(check_segment_header(header, 78), nullptr);
  auto bad = header;
  bad[0] = 'X';
  EXPECT_NE(check_segment_header(bad, 77), nullptr);
}

}  // namespace
}  // namespace statesink::spool
