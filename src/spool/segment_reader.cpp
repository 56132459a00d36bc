#include "spool/segment_reader.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "spool/segment.h"

namespace statesink::spool {

SegmentReader::SegmentReader(File file, std::size_t buffer_size)
    : file_(std::move(file)),
      buffer_size_(std::max(buffer_size, kRecordHeaderSize)),
      offset_(kSegmentHeaderSize) {}

void SegmentReader::seek(std::uint64_t offset) {
  offset_ = offset;
  buffer_offset_ = offset;
  buffered_ = 0;
}

bool SegmentReader::fill(std::size_t size, std::uint64_t limit) {
  const std::uint64_t buffered_end = buffer_offset_ + buffered_;
  std::size_t have = 0;
  if (offset_ >= buffer_offset_ && offset_ <= buffered_end) {
    have = static_cast<std::size_t>(buffered_end - offset_);
  }
  if (have >= size) {
    return true;
  }
  if (have > 0) {
    std::memmove(buffer_.data(), at_offset(), have);
  }
  buffer_offset_ = offset_;
  buffered_ = have;
  // Grown on demand: a short segment never costs a full buffer, and one
  // record larger than the buffer gets room of its own until it is read.
  const std::uint64_t wanted =
      std::max<std::uint64_t>(size, std::min<std::uint64_t>(buffer_size_, limit - buffer_offset_));
  if (buffer_.size() < wanted) {
    buffer_.resize(static_cast<std::size_t>(wanted));
  }
  const std::uint64_t wanted_end = std::min<std::uint64_t>(limit, offset_ + buffer_.size());
  const auto room = static_cast<std::size_t>(wanted_end - (offset_ + have));
  buffered_ += file_.read_at(offset_ + have, std::span<char>(buffer_.data() + have, room));
  return buffered_ >= size;
}

ReadStatus SegmentReader::next(std::uint64_t limit, Record& out) {
  problem_ = nullptr;
  checksum_held_ = false;
  if (offset_ >= limit) {
    return ReadStatus::end;
  }
  if (limit - offset_ < kRecordHeaderSize || !fill(kRecordHeaderSize, limit)) {
    return ReadStatus::torn;
  }
  RecordFrame frame;
  problem_ = check_frame(std::span<const char>(at_offset(), kRecordHeaderSize), frame);
  if (problem_) {
    return ReadStatus::corrupt;
  }
  const std::size_t total = kRecordHeaderSize + frame.body_size;
  if (limit - offset_ < total || !fill(total, limit)) {
    return ReadStatus::torn;
  }
  problem_ = decode_body(
      frame, std::span<const char>(at_offset() + kRecordHeaderSize, frame.body_size), out);
  if (problem_) {
    checksum_held_ = problem_ != kChecksumMismatch;
    return ReadStatus::corrupt;
  }
  offset_ += total;
  if (buffer_.size() > buffer_size_) {
    buffer_ = std::vector<char>();
    seek(offset_);
  }
  return ReadStatus::record;
}

}  // namespace statesink::spool
