#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/url.h"

struct mosquitto;

namespace statesink::mqtt {

// A libmosquitto failure; the message names the operation and the broker.
class MqttError : public std::runtime_error {
 public:
  MqttError(const std::string& what, int code) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

enum class Protocol { v311, v5 };

struct ClientOptions {
  config::MqttUrl url;
  std::string client_id;
  // false keeps the session (subscriptions and queued QoS 1 messages) on the
  // broker while the client is away: what ingestion relies on.
  bool clean_session = true;
  Protocol protocol = Protocol::v311;
  std::chrono::seconds keepalive{30};
  // MQTT 5 only: at most this many QoS 1/2 messages unacknowledged from the
  // broker at once (Receive Maximum); 0 leaves the broker's default (65535).
  std::uint16_t receive_maximum = 0;
};

// MQTT 5 reason code of a DISCONNECT sent because another client connected
// with the same client id.
inline constexpr int kSessionTakenOver = 142;

// One received message. The views point into libmosquitto's buffers and are
// valid only during the callback.
struct Received {
  std::string_view topic;
  std::string_view payload;
  int mid = 0;
  int qos = 0;
  bool retain = false;
};

// A libmosquitto client driven by the caller's own thread through loop().
//
// The client runs in libmosquitto's threaded mode, in which the PUBACK for a
// QoS 1 message is queued while the message callback runs and written only
// after it returns. The ingester relies on that: a message is in the spool
// before the broker hears that it was received.
class Client {
 public:
  struct Callbacks {
    std::function<void(bool session_present)> connected;
    std::function<void(int reason)> disconnected;  // 0 when this side asked for it
    std::function<void(const Received&)> message;
    std::function<void(const std::vector<int>& granted_qos)> subscribed;
    std::function<void(int mid)> published;  // QoS 1: PUBACK arrived; QoS 0: sent
  };

  Client(ClientOptions options, Callbacks callbacks);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Blocking TCP (and TLS) connect; CONNACK arrives through loop().
  void connect();
  void disconnect();
  // Processes network traffic for up to `timeout`; throws MqttError when the
  // connection is lost or cannot be used.
  void loop(std::chrono::milliseconds timeout);

  // loop() in three steps, for a caller that acts on a burst of messages
  // between reading them and acknowledging them. Only once connected.
  //
  // Waits up to `timeout` for the broker, then reads every packet the socket
  // holds, up to `max_packets` (messages reach the callback); their PUBACKs
  // are queued, not sent. Throws MqttError when the connection is lost.
  void read(std::chrono::milliseconds timeout, int max_packets);
  // Sends what is queued (PUBACKs, PINGREQ, SUBSCRIBE) as far as the socket
  // takes it; throws MqttError when the connection is lost.
  void write();
  // Keepalive: sends a PINGREQ when due, notices a broker that went silent.
  void keep_alive();

  // With MQTT 5, retained messages are sent only for a subscription the
  // session did not hold already (retain handling 1), so subscribing again
  // does not replay them.
  void subscribe(const std::vector<std::string>& filters, int qos);
  // Returns the message id.
  int publish(std::string_view topic, std::string_view payload, int qos, bool retain);

  const ClientOptions& options() const { return options_; }
  // "mqtt://user:***@host:port": for messages.
  std::string where() const { return options_.url.redacted(); }

 private:
  friend struct ClientCallbacks;

  [[noreturn]] void fail(const std::string& operation, int rc) const;

  ClientOptions options_;
  Callbacks callbacks_;
  std::unique_ptr<mosquitto, void (*)(mosquitto*)> handle_;
  // read() stopped at max_packets: more may wait, possibly inside TLS
  // buffers where poll() does not see it.
  bool more_to_read_ = false;
};

// The broker's CONNACK refusal or a disconnect reason, in words.
std::string describe_reason(int reason, Protocol protocol);

}  // namespace statesink::mqtt
