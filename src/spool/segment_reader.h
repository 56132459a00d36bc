#pragma once

#include <cstdint>
#include <vector>

#include "spool/file.h"
#include "spool/record.h"

namespace statesink::spool {

enum class ReadStatus {
  record,   // a sound record was read
  end,      // nothing left before the limit
  torn,     // the bytes before the limit (or the end of the file) stop inside a record
  corrupt,  // the bytes are not a sound record; problem() says why
};

// Reads a segment's records one by one through a buffer, so memory stays at
// the buffer plus the largest single record however big the segment is.
class SegmentReader {
 public:
  static constexpr std::size_t kDefaultBufferSize = 1 << 20;

  // Starts at the first record, just after the segment header.
  explicit SegmentReader(File file, std::size_t buffer_size = kDefaultBufferSize);

  // The next record that ends at or before `limit` (a file offset). Moves past
  // it only when the status is ReadStatus::record.
  ReadStatus next(std::uint64_t limit, Record& out);

  // File offset of the next record to read.
  std::uint64_t offset() const { return offset_; }
  void seek(std::uint64_t offset);
  const char* problem() const { return problem_; }
  // After `corrupt`: the record's checksum matched, yet its content is impossible.
  bool checksum_held() const { return checksum_held_; }
  const File& file() const { return file_; }

 private:
  // Makes the buffer hold `size` bytes from offset_, reading no further than
  // `limit`; false when the file ends first.
  bool fill(std::size_t size, std::uint64_t limit);
  const char* at_offset() const { return buffer_.data() + (offset_ - buffer_offset_); }

  File file_;
  std::size_t buffer_size_;
  std::vector<char> buffer_;
  std::uint64_t buffer_offset_ = 0;  // file offset of buffer_[0]
  std::size_t buffered_ = 0;         // valid bytes in buffer_
  std::uint64_t offset_;
  const char* problem_ = nullptr;
  bool checksum_held_ = false;
};

}  // namespace statesink::spool
