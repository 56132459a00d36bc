#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "db/connection.h"
#include "util/time_arg.h"

namespace statesink::history {

struct PruneProgress {
  std::uint64_t messages = 0;    // rows deleted from messages
  std::uint64_t rejections = 0;  // their rows in message_rejections
  std::uint64_t chunks = 0;      // transactions committed
  std::chrono::milliseconds took{0};
};

struct PrunableMessages {
  std::uint64_t count = 0;
  std::optional<std::string> oldest;  // received_at, UTC
};

// Raw messages received before `cutoff` (and from `from`, when given),
// counted through the received_at index.
PrunableMessages count_prunable(db::Connection& connection, UtcTime cutoff,
                                std::optional<UtcTime> from = std::nullopt);

// Deletes the raw messages received before `cutoff`, at most `batch` per
// transaction, so that row locks are held briefly and the ingester's inserts
// go on meanwhile; an interrupted run leaves whole chunks deleted. Their rows
// in message_rejections go in the same transaction (without the message they
// explain nothing). Facts and current_states are not touched: they keep their
// values and times, and their message ids then point at deleted messages.
// `progress` is called after every chunk.
PruneProgress prune_messages(db::Connection& connection, UtcTime cutoff, std::uint32_t batch,
                             const std::function<void(const PruneProgress&)>& progress = {});

// received_at of the oldest message, or nullopt when none is left.
std::optional<std::string> oldest_message(db::Connection& connection);

}  // namespace statesink::history
