#pragma once

// The benchmark's dealings with the database it measures: resetting it
// between phases, counting what the phases stored, and describing the server.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "config/url.h"
#include "db/connection.h"

namespace statesink::bench {

// Empties what the trigger and the ingester write, so each phase starts from
// the same state, with the auto-increment counters reset.
void empty_tables(const config::DbUrl& url);

// Empties the statistics tables and moves their progress back to the start,
// so the next update computes everything afresh (migration 0008 applied).
void reset_statistics(db::Connection& c);

// Removes the normalising triggers on `messages`, for the runs without them.
void drop_triggers(const config::DbUrl& url);

// The highest id in `messages`: one end of the primary key, so cheap to poll.
std::uint64_t max_id(db::Connection& c);

std::uint64_t count_rows(db::Connection& c, const std::string& table);

// The server's version and the settings that decide how fast commits are.
nlohmann::ordered_json describe_database(db::Connection& c);

}  // namespace statesink::bench
