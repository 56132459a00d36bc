#include "simulate/publish.h"

namespace statesink::simulate {

Published publish(MessageStream& stream, mqtt::Publisher& publisher, const Pace& pace,
                  const std::atomic<bool>& interrupted, std::chrono::seconds drain) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  std::uint64_t sent = 0;
  while (!interrupted) {
    const auto now = Clock::now();
    if ((pace.count && sent >= *pace.count) || (pace.duration && now - start >= *pace.duration)) {
      break;
    }
    if (pace.rate > 0) {
      const auto due =
          start + std::chrono::duration_cast<Clock::duration>(
                      std::chrono::duration<double>(static_cast<double>(sent) / pace.rate));
      if (due > now) {
        // Rounded up: a wait rounded down to 0 ms would spin a CPU at rates
        // above 1000/s; instead what fell due meanwhile goes out together.
        publisher.loop(std::chrono::ceil<std::chrono::milliseconds>(due - now));
        continue;
      }
    }
    const Message m = stream.next();
    publisher.publish(m.topic, m.payload, kQos, m.retain);
    ++sent;
  }
  publisher.wait_acked(drain);
  return {sent, publisher.acked(), std::chrono::duration<double>(Clock::now() - start).count()};
}

}  // namespace statesink::simulate
