#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

#include "mqtt/publisher.h"
#include "simulate/stream.h"

namespace statesink::simulate {

// When publishing stops, and how fast it goes.
struct Pace {
  double rate = 0;  // messages per second; 0 publishes as fast as possible
  std::optional<std::uint64_t> count;
  std::optional<std::chrono::milliseconds> duration;
};

struct Published {
  std::uint64_t sent = 0;
  std::uint64_t acked = 0;
  double seconds = 0;  // from the first publish until the last PUBACK
};

// Publishes the stream's messages at `pace` until its count or duration is
// reached or `interrupted` becomes true, then waits up to `drain` for the
// broker to acknowledge them all (Published says how many it did).
Published publish(MessageStream& stream, mqtt::Publisher& publisher, const Pace& pace,
                  const std::atomic<bool>& interrupted,
                  std::chrono::seconds drain = std::chrono::seconds(60));

}  // namespace statesink::simulate
