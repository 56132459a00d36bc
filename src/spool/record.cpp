#include "spool/record.h"

#include <zlib.h>

#include <algorithm>

#include "spool/byte_order.h"

namespace statesink::spool {
namespace {

std::uint32_t crc_update(std::uint32_t crc, std::span<const char> bytes) {
  // zlib treats a null buffer as "give me the initial value" and would reset
  // the running CRC, so empty pieces (whose data() may be null) are skipped.
  if (bytes.empty()) {
    return crc;
  }
  return static_cast<std::uint32_t>(
      crc32_z(crc, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

std::uint32_t crc_update(std::uint32_t crc, std::string_view bytes) {
  return crc_update(crc, std::span<const char>(bytes.data(), bytes.size()));
}

}  // namespace

MessageView Record::view() const { return {received_at_us, mid, qos, retain, topic, payload}; }

std::uint64_t encoded_size(std::size_t topic_size, std::size_t payload_size) {
  return kRecordHeaderSize + kRecordFixedBodySize + topic_size + payload_size;
}

RecordEncoder::RecordEncoder(std::uint64_t seq, const MessageView& message)
    : topic_(message.topic), payload_(message.payload) {
  const auto body_size =
      static_cast<std::uint32_t>(kRecordFixedBodySize + topic_.size() + payload_.size());
  char* const header = head_.data();
  std::copy(kRecordMarker.begin(), kRecordMarker.end(), header);
  put_le<std::uint32_t>(header + 4, body_size);
  char* const fixed = header + kRecordHeaderSize;
  put_le<std::uint64_t>(fixed, seq);
  put_le<std::int64_t>(fixed + 8, message.received_at_us);
  put_le<std::uint16_t>(fixed + 16, message.mid);
  fixed[18] = static_cast<char>(message.qos);
  fixed[19] = message.retain ? 1 : 0;
  put_le<std::uint32_t>(fixed + 20, static_cast<std::uint32_t>(topic_.size()));
  put_le<std::uint32_t>(payload_size_.data(), static_cast<std::uint32_t>(payload_.size()));

  std::uint32_t crc = crc_update(0, std::span<const char>(header + 4, 4));
  crc = crc_update(crc, std::span<const char>(fixed, 24));
  crc = crc_update(crc, topic_);
  crc = crc_update(crc, std::span<const char>(payload_size_));
  crc = crc_update(crc, payload_);
  put_le<std::uint32_t>(header + 8, crc);
}

std::array<std::string_view, 4> RecordEncoder::pieces() const {
  return {std::string_view(head_.data(), head_.size()), topic_,
          std::string_view(payload_size_.data(), payload_size_.size()), payload_};
}

const char* check_frame(std::span<const char> header, RecordFrame& frame) {
  if (!std::equal(kRecordMarker.begin(), kRecordMarker.end(), header.begin())) {
    return "no record marker";
  }
  frame.body_size = get_le<std::uint32_t>(header.data() + 4);
  frame.crc = get_le<std::uint32_t>(header.data() + 8);
  if (frame.body_size < kRecordFixedBodySize) {
    return "record length too small";
  }
  if (frame.body_size > kMaxBodySize) {
    return "record length too large";
  }
  return nullptr;
}

const char* decode_body(const RecordFrame& frame, std::span<const char> body, Record& out) {
  char size_bytes[4];
  put_le<std::uint32_t>(size_bytes, frame.body_size);
  std::uint32_t crc = crc_update(0, std::span<const char>(size_bytes));
  if (crc_update(crc, body) != frame.crc) {
    return kChecksumMismatch;
  }
  const char* p = body.data();
  const std::size_t topic_size = get_le<std::uint32_t>(p + 20);
  const std::size_t variable = body.size() - kRecordFixedBodySize;
  if (topic_size > variable) {
    return "topic length out of range";
  }
  const std::size_t payload_size = get_le<std::uint32_t>(p + 24 + topic_size);
  if (payload_size != variable - topic_size) {
    return "payload length does not match the record length";
  }
  const auto qos = static_cast<std::uint8_t>(p[18]);
  const auto retain = static_cast<std::uint8_t>(p[19]);
  if (qos > 2 || retain > 1) {
    return "invalid QoS or retain flag";
  }
  out.seq = get_le<std::uint64_t>(p);
  out.received_at_us = get_le<std::int64_t>(p + 8);
  out.mid = get_le<std::uint16_t>(p + 16);
  out.qos = qos;
  out.retain = retain == 1;
  out.topic.assign(p + 24, topic_size);
  out.payload.assign(p + 28 + topic_size, payload_size);
  return nullptr;
}

}  // namespace statesink::spool
