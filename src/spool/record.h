#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace statesink::spool {

// A message as handed to Spool::append; the strings are borrowed, not copied.
struct MessageView {
  std::int64_t received_at_us = 0;  // UTC, microseconds since 1970
  std::uint16_t mid = 0;            // MQTT packet id, to spot redeliveries
  std::uint8_t qos = 0;
  bool retain = false;
  std::string_view topic;
  std::string_view payload;  // exact bytes: may be empty or hold NUL bytes
};

// What identifies a stored message when the broker sends it again.
struct RecentRecord {
  std::uint64_t seq = 0;
  std::uint16_t mid = 0;
  std::uint8_t qos = 0;
  std::uint64_t content = 0;  // content_hash(topic, payload)
  bool operator==(const RecentRecord&) const = default;
};

// A message read back from the spool, with the sequence number it was given.
struct Record {
  std::uint64_t seq = 0;
  std::int64_t received_at_us = 0;
  std::uint16_t mid = 0;
  std::uint8_t qos = 0;
  bool retain = false;
  std::string topic;
  std::string payload;

  MessageView view() const;
  bool operator==(const Record&) const = default;
};

// A record on disk, little-endian:
//
//   marker[4] | body_size u32 | crc32 u32 | body
//   body: seq u64 | received_at_us i64 | mid u16 | qos u8 | retain u8 |
//         topic_size u32 | topic | payload_size u32 | payload
//
// The CRC (zlib's CRC-32) covers body_size as well as the body, so a damaged
// length is caught as surely as a damaged payload byte. The marker's first
// byte, 0xF5, never occurs in UTF-8 text, which keeps false matches rare when
// recovery searches damaged data for the next intact record.
inline constexpr std::array<char, 4> kRecordMarker = {'\xF5', 'S', 'R', '1'};
inline constexpr std::size_t kRecordHeaderSize = 12;
inline constexpr std::size_t kRecordFixedBodySize = 28;
inline constexpr std::size_t kMaxTopicSize = 65535;         // MQTT's limit
inline constexpr std::size_t kMaxPayloadSize = 256u << 20;  // MQTT's packet limit
inline constexpr std::size_t kMaxBodySize = kRecordFixedBodySize + kMaxTopicSize + kMaxPayloadSize;

// Bytes a record takes on disk.
std::uint64_t encoded_size(std::size_t topic_size, std::size_t payload_size);

// A record's bytes as pieces for one gather write, so the payload is not copied.
// The pieces point into this object and into the message's strings.
class RecordEncoder {
 public:
  // The message's sizes must be within kMaxTopicSize and kMaxPayloadSize.
  RecordEncoder(std::uint64_t seq, const MessageView& message);
  RecordEncoder(const RecordEncoder&) = delete;
  RecordEncoder& operator=(const RecordEncoder&) = delete;

  std::array<std::string_view, 4> pieces() const;
  std::uint64_t size() const { return encoded_size(topic_.size(), payload_.size()); }

 private:
  std::array<char, kRecordHeaderSize + 24> head_{};  // header, fixed fields, topic_size
  std::array<char, 4> payload_size_{};
  std::string_view topic_;
  std::string_view payload_;
};

// What a record header says about the bytes that follow it.
struct RecordFrame {
  std::uint32_t body_size = 0;
  std::uint32_t crc = 0;
};

// decode_body's answer when the checksum does not match. Any other problem is
// in a record whose checksum holds: something wrote it whole, which an
// interrupted append cannot do.
inline constexpr const char* kChecksumMismatch = "checksum mismatch";

// Each returns what is wrong with the bytes, or nullptr when they are sound.
// `header` holds at least kRecordHeaderSize bytes; `body` exactly frame.body_size.
const char* check_frame(std::span<const char> header, RecordFrame& frame);
const char* decode_body(const RecordFrame& frame, std::span<const char> body, Record& out);

}  // namespace statesink::spool
