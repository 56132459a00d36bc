#include "mqtt_session.h"

#include <stdexcept>

#include "simulate/message.h"
#include "timing.h"

namespace statesink::bench {

MqttSession::MqttSession(const config::MqttUrl& url, const std::string& client_id) {
  mqtt::ClientOptions options;
  options.url = url;
  options.client_id = client_id;
  options.clean_session = true;
  mqtt::Client::Callbacks callbacks;
  callbacks.connected = [this](bool) { connected_ = true; };
  callbacks.published = [this](int) { ++acked_; };
  client_ = std::make_unique<mqtt::Client>(options, callbacks);
  client_->connect();
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!connected_) {
    client_->loop(std::chrono::milliseconds(20));
    if (Clock::now() > deadline) {
      throw std::runtime_error("no CONNACK from the broker " + client_->where() + " in 10 s");
    }
  }
}

MqttSession::~MqttSession() {
  try {
    client_->disconnect();
    client_->loop(std::chrono::milliseconds(20));
  } catch (const std::exception&) {
    // Going away anyway; the broker notices the closed socket.
  }
}

void MqttSession::publish(std::string_view topic, std::string_view payload, bool retain) {
  // Bounded in-flight window, as a real publisher keeps it.
  while (sent_ - acked_ >= 1000) client_->loop(std::chrono::milliseconds(5));
  client_->publish(topic, payload, simulate::kQos, retain);
  if (++sent_ % 32 == 0) client_->loop(std::chrono::milliseconds(0));
}

void MqttSession::loop(std::chrono::milliseconds timeout) { client_->loop(timeout); }

void MqttSession::drain(std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (acked_ < sent_ && Clock::now() < deadline) client_->loop(std::chrono::milliseconds(10));
  if (acked_ < sent_) {
    throw std::runtime_error("the broker acknowledged " + std::to_string(acked_) + " of " +
                             std::to_string(sent_) + " messages");
  }
}

}  // namespace statesink::bench
