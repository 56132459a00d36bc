#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "spool/record.h"

namespace statesink::ingest {

// Messages the database refused for good (larger than max_allowed_packet, or a
// permanent error on that one row) are kept here instead, one JSON object per
// line: spool_id, seq, received_at, topic, qos, retained, payload_bytes,
// payload_base64, reason. Each line is synced before the spool moves past the
// message, so a message is always in the table, in this file, or still in the
// spool. spool_id and seq identify the message for an exactly-once replay
// (see dead_letter_replay.h); lines written before they existed lack them.
class DeadLetterFile {
 public:
  // The spool id is read from the `spool-id` file beside `path` at the first
  // write (the spool's directory); without one, lines carry no spool_id.
  explicit DeadLetterFile(std::filesystem::path path);
  DeadLetterFile(std::filesystem::path path, std::string spool_id);

  void write(const spool::Record& record, std::string_view reason);
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::optional<std::string> spool_id_;
};

std::string base64(std::string_view bytes);
// nullopt when `text` is not base64 (padding included).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace statesink::ingest
