#pragma once

// A short-lived MQTT client of the benchmark itself: readiness probes,
// latency traffic, and tidying the broker between phases.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "config/url.h"
#include "mqtt/client.h"

namespace statesink::bench {

class MqttSession {
 public:
  // Waits up to 10 s for the CONNACK, so a session is usable once constructed.
  MqttSession(const config::MqttUrl& url, const std::string& client_id);
  ~MqttSession();
  MqttSession(const MqttSession&) = delete;
  MqttSession& operator=(const MqttSession&) = delete;

  // QoS 1, with at most 1000 messages unacknowledged.
  void publish(std::string_view topic, std::string_view payload, bool retain);
  void loop(std::chrono::milliseconds timeout);
  // Waits until the broker has acknowledged everything; throws at the timeout.
  void drain(std::chrono::seconds timeout);

 private:
  std::unique_ptr<mqtt::Client> client_;
  bool connected_ = false;
  std::uint64_t sent_ = 0;
  std::uint64_t acked_ = 0;
};

}  // namespace statesink::bench
