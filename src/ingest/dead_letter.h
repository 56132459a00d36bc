#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "spool/record.h"

namespace statesink::ingest {

// Messages the database refused for good (larger than max_allowed_packet, or a
// permanent error on that one row) are kept here instead, one JSON object per
// line: received_at, topic, qos, retained, payload_bytes, payload_base64,
// reason. Each line is synced before the spool moves past the message, so a
// message is always in the table, in this file, or still in the spool.
class DeadLetterFile {
 public:
  explicit DeadLetterFile(std::filesystem::path path);

  void write(const spool::Record& record, std::string_view reason);
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string base64(std::string_view bytes);

}  // namespace statesink::ingest
