#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace statesink::ingest {

// One line of a dead-letter file (see DeadLetterFile), decoded.
struct DeadLetter {
  std::size_t line = 0;  // 1-based, to name it in messages
  std::string spool_id;
  // The spool sequence number; lines written before it was recorded lack it.
  std::optional<std::uint64_t> seq;
  // What identifies the message in dead_letter_replays: seq, or for lines
  // without one a number from 2^63 up (above any spool's) derived from the
  // message's content, the same at every read.
  std::uint64_t replay_seq = 0;
  std::string received_at;  // DATETIME(6) text, UTC
  std::string topic;
  std::string payload;  // exact bytes
  std::uint8_t qos = 0;
  bool retained = false;
  std::string reason;
};

// A line that could not be decoded: it is reported, never guessed at.
struct DeadLetterProblem {
  std::size_t line = 0;
  std::string message;
};

struct DeadLetters {
  bool file_exists = false;
  std::vector<DeadLetter> letters;
  std::vector<DeadLetterProblem> problems;
};

// Reads every line of `file`. Lines without a spool_id (written before it was
// recorded) take `fallback_spool_id`, the id of the spool that wrote the file;
// without one such lines are problems. A missing file holds no dead letters.
// Throws only when the file exists but cannot be read.
DeadLetters read_dead_letters(const std::filesystem::path& file,
                              const std::optional<std::string>& fallback_spool_id);

}  // namespace statesink::ingest
