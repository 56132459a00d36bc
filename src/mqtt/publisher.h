#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>

#include "mqtt/client.h"

namespace statesink::mqtt {

// A connected client that publishes and keeps count of the broker's PUBACKs,
// driven by the caller's thread: libmosquitto in threaded mode writes
// publishes and reads PUBACKs only inside loop(), which publish() and
// wait_acked() go round as needed.
//
// Counting every PUBACK is what tests that check exact counts rely on: a
// publisher that disconnects with QoS 1 messages still queued (as
// `mosquitto_pub -l` does) loses them silently.
class Publisher {
 public:
  struct Options {
    ClientOptions client;
    // At most this many QoS 1 messages waiting for their PUBACK; publish()
    // waits for the broker beyond it, so memory stays bounded when the broker
    // is slower than the caller.
    std::uint64_t max_unacknowledged = 1000;
    std::chrono::seconds connect_timeout{10};
  };

  // Connects and waits for the CONNACK. Throws MqttError when the broker
  // cannot be reached or refuses, std::runtime_error when it does not answer
  // within the timeout.
  explicit Publisher(Options options);
  // A clean session with the other options' defaults.
  Publisher(const config::MqttUrl& url, std::string client_id);
  // Disconnects; QoS 1 messages not yet acknowledged may be lost.
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // QoS 0 or 1. Throws MqttError when the connection is lost.
  void publish(std::string_view topic, std::string_view payload, int qos, bool retain);
  // Network traffic for up to `timeout`; also how a paced caller waits.
  void loop(std::chrono::milliseconds timeout);
  // Loops until the broker has acknowledged every QoS 1 message published, or
  // `timeout` has passed; true when all are acknowledged.
  bool wait_acked(std::chrono::milliseconds timeout);

  std::uint64_t sent() const { return sent_; }  // QoS 1 messages published
  std::uint64_t acked() const { return acked_; }
  std::string where() const { return client_.where(); }

 private:
  Client::Callbacks callbacks();

  Options options_;
  bool connected_ = false;
  std::string refused_;
  std::uint64_t published_ = 0;  // of any QoS, to go round the loop regularly
  std::uint64_t sent_ = 0;
  std::uint64_t acked_ = 0;
  // QoS 1 message ids without a PUBACK yet: libmosquitto reports sent QoS 0
  // messages through the same callback, and those must not count.
  std::unordered_set<int> unacknowledged_;
  Client client_;
};

}  // namespace statesink::mqtt
