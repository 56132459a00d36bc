#pragma once

// The latency phase's traffic: the simulator's messages published at a
// fixed rate on a thread of their own, each with the moment it left, while
// the phase watches the table for their arrival.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "config/url.h"
#include "simulate/message.h"
#include "timing.h"

namespace statesink::bench {

class LatencyPublisher {
 public:
  // Starts publishing the first `count` of `messages` at `rate` per second;
  // `messages` must outlive the publisher.
  LatencyPublisher(const config::MqttUrl& url, const std::string& client_id,
                   const std::vector<simulate::Message>& messages, std::size_t count, double rate);
  ~LatencyPublisher();
  LatencyPublisher(const LatencyPublisher&) = delete;
  LatencyPublisher& operator=(const LatencyPublisher&) = delete;

  // Everything was published and acknowledged, or publishing failed.
  bool done() const { return done_; }
  // Waits for the thread; rethrows what made publishing fail.
  void join();

  // Valid after join(): when each message was sent, by the steady clock and
  // by the wall clock (to compare with received_at), and how long it took.
  const std::vector<Clock::time_point>& published() const { return published_; }
  const std::vector<std::int64_t>& published_micros() const { return published_us_; }
  double seconds() const { return seconds_; }

 private:
  void publish(const config::MqttUrl& url, const std::string& client_id,
               const std::vector<simulate::Message>& messages, double rate);

  std::vector<Clock::time_point> published_;
  std::vector<std::int64_t> published_us_;
  double seconds_ = 0;
  std::atomic<bool> done_{false};
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace statesink::bench
