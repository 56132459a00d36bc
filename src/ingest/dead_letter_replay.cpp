#include "ingest/dead_letter_replay.h"

#include <utility>

#include "db/error.h"

namespace statesink::ingest {
namespace {

// Room for the statement and the other columns, as the ingester reckons it.
constexpr std::uint64_t kRowOverhead = 4096;
// MySQL and MariaDB: duplicate key.
constexpr unsigned kDuplicateKey = 1062;

}  // namespace

DeadLetterReplayer::DeadLetterReplayer(db::Connection& connection) : connection_(connection) {
  const auto packet = connection_.query_value("SELECT @@max_allowed_packet");
  const std::uint64_t max_packet = packet ? std::stoull(*packet) : (16ULL << 20);
  max_message_bytes_ = max_packet > 2 * kRowOverhead ? max_packet - kRowOverhead : max_packet / 2;
}

std::optional<std::uint64_t> DeadLetterReplayer::replayed_as(const DeadLetter& letter) {
  if (!lookup_) {
    lookup_ = connection_.prepare(
        "SELECT message_id FROM dead_letter_replays WHERE spool_id = ? AND seq = ?");
  }
  const db::Param key[] = {std::string_view(letter.spool_id), letter.replay_seq};
  const auto rows = lookup_->query(key);
  if (rows.empty() || !rows[0][0]) {
    return std::nullopt;
  }
  return std::stoull(*rows[0][0]);
}

DeadLetterReplayer::Result DeadLetterReplayer::replay(const DeadLetter& letter, bool dry_run) {
  if (const auto id = replayed_as(letter)) {
    return {Outcome::already_replayed, *id, ""};
  }
  const std::uint64_t bytes = letter.topic.size() + letter.payload.size();
  if (bytes > max_message_bytes_) {
    // The server would drop the connection rather than answer; say why instead.
    return {Outcome::refused, 0,
            "larger than the server's max_allowed_packet allows (" + std::to_string(bytes) +
                " bytes; limit about " + std::to_string(max_message_bytes_) +
                "); raise max_allowed_packet on the server (SET GLOBAL max_allowed_packet, and in "
                "its configuration), then replay again"};
  }
  if (dry_run) {
    return {Outcome::would_replay, 0, ""};
  }
  std::optional<db::Transaction> transaction(std::in_place, connection_);
  std::uint64_t message_id = 0;
  try {
    const db::Param message[] = {std::string_view(letter.topic), db::Blob{letter.payload},
                                 static_cast<std::int64_t>(letter.qos),
                                 static_cast<std::int64_t>(letter.retained ? 1 : 0),
                                 std::string_view(letter.received_at)};
    auto insert = connection_.prepare(
        "INSERT INTO messages (topic, payload, qos, retained, received_at) VALUES (?, ?, ?, ?, ?)");
    insert.execute(message);
    message_id = insert.last_insert_id();
  } catch (const db::DbError& e) {
    if (e.retryable() || e.connection_lost() || e.needs_operator()) {
      throw;
    }
    const std::string hint = db::advice(e);
    return {Outcome::refused, 0,
            std::string(e.what()) + (hint.empty() ? "" : "; " + hint) +
                "; fix the cause on the server (or the line), then replay again"};
  }
  try {
    const db::Param record[] = {std::string_view(letter.spool_id), letter.replay_seq, message_id};
    connection_.execute(
        "INSERT INTO dead_letter_replays (spool_id, seq, message_id, replayed_at) "
        "VALUES (?, ?, ?, UTC_TIMESTAMP(6))",
        record);
  } catch (const db::DbError& e) {
    if (e.code() != kDuplicateKey) {
      throw;
    }
    // Another replay got there first; the rollback takes this insert back.
    transaction.reset();
    return {Outcome::already_replayed, replayed_as(letter).value_or(0), ""};
  }
  transaction->commit();
  return {Outcome::replayed, message_id, ""};
}

}  // namespace statesink::ingest
