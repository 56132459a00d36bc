#pragma once

#include <cstddef>

#include "db/connection.h"
#include "util/result_table.h"

namespace statesink::history {

// What `statesink stats` shows: what fills the database.
struct DatabaseStats {
  // One row per table of the database, largest first: table, rows_estimate,
  // data_bytes, index_bytes, total_bytes. From information_schema.TABLES, so
  // it costs nothing; InnoDB's row counts there are estimates.
  ResultTable tables;
  // One row: oldest_message, newest_message, messages_24h, facts_24h,
  // rejected_24h, repeats_24h, repeat_share_percent, data_bytes, index_bytes.
  // Repeats are the last day's messages that added no fact and were not
  // rejected: messages - facts - rejected, as every other message made one
  // fact (facts carry their message's reception time).
  ResultTable summary;
  // The `limit` entities with the most messages (facts) in the last 24 hours:
  // base_topic, entity_id, messages_24h (facts_24h), share_percent (of all
  // the last day's messages, or facts). Entities with none are left out.
  ResultTable top_by_messages;
  ResultTable top_by_facts;
};

// Reads through the received_at and facts_recorded_at indexes and the
// entity_catalog view: the cost follows the last day's traffic, not the size
// of the tables.
DatabaseStats collect_stats(db::Connection& connection, std::size_t limit = 20);

}  // namespace statesink::history
