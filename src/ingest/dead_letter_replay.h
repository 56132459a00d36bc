#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "db/connection.h"
#include "db/statement.h"
#include "ingest/dead_letter_reader.h"

namespace statesink::ingest {

// Puts dead letters back into `messages`, exactly once: the message and its
// row in dead_letter_replays (spool id and sequence number as primary key)
// are inserted in one transaction, so a message replayed once, by this run,
// an earlier one or a concurrent one, is never inserted again. The plain
// INSERT fires the normalising trigger like any other client's.
class DeadLetterReplayer {
 public:
  enum class Outcome {
    replayed,          // inserted now
    already_replayed,  // found in dead_letter_replays; nothing inserted
    would_replay,      // dry run: not replayed yet, nothing inserted
    refused,           // the server refused it again; nothing inserted
  };
  struct Result {
    Outcome outcome = Outcome::refused;
    std::uint64_t message_id = 0;  // replayed, already_replayed
    std::string error;             // refused: the server's error and what to do
  };

  // Throws DbError when the connection fails.
  explicit DeadLetterReplayer(db::Connection& connection);

  // The id of the message it was replayed as, nullopt when not replayed.
  std::optional<std::uint64_t> replayed_as(const DeadLetter& letter);

  // Errors that concern the server rather than this message (connection lost,
  // privileges, missing tables, deadlocks) are thrown as DbError: the run
  // stops, and running it again is safe.
  Result replay(const DeadLetter& letter, bool dry_run);

 private:
  db::Connection& connection_;
  std::uint64_t max_message_bytes_ = 0;
  std::optional<db::Statement> lookup_;
};

}  // namespace statesink::ingest
