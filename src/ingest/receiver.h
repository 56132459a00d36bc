#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "ingest/exclude.h"
#include "ingest/metrics.h"
#include "ingest/outage.h"
#include "ingest/packet_id_file.h"
#include "ingest/received_burst.h"
#include "ingest/redelivery.h"
#include "mqtt/client.h"
#include "spool/spool.h"

namespace statesink::ingest {

struct ReceiverOptions {
  mqtt::ClientOptions client;  // clean_session is forced off
  std::vector<std::string> topics;
  std::string share_group;  // subscribe through $share/GROUP/FILTER when set
  std::vector<std::string> exclude;
};

// The broker side of ingestion: a persistent QoS 1 session whose messages go
// into the spool before they are acknowledged, each exactly once (see
// Redelivery). Reconnects with backoff; when the spool is full it disconnects
// (the broker queues for the session) and comes back once the backlog has
// room again. A session the broker kept is not subscribed again, so the
// broker does not replay its retained messages.
class Receiver {
 public:
  Receiver(ReceiverOptions options, spool::Spool& spool, Metrics& metrics);

  // Runs the network loop on the calling thread until stop is requested, then
  // disconnects cleanly. Throws mqtt::MqttError when the client cannot be set
  // up at all (e.g. a TLS file is missing).
  void run(std::stop_token stop);

  // The filters as subscribed ($share/... when in a group).
  std::vector<std::string> subscriptions() const;

 private:
  void on_connected(bool session_present);
  void on_disconnected(int reason);
  void on_message(const mqtt::Received& message);
  void on_subscribed(const std::vector<int>& granted);
  // Reads what the broker has sent, puts it into the spool with one write,
  // then lets the PUBACKs go: the connected state's step of the loop.
  void read_burst();
  // Appends burst_ to the spool; exits the process when it cannot.
  void store_burst();
  void note_lost_connection(int reason);
  // Sends DISCONNECT and gives it up to a second to go out.
  void disconnect_cleanly();
  bool subscriptions_kept() const;

  ReceiverOptions options_;
  spool::Spool& spool_;
  Metrics& metrics_;
  ExcludeFilter exclude_;
  PacketIdFile packet_ids_;
  Redelivery redelivery_;
  std::filesystem::path subscribed_file_;
  std::optional<mqtt::Client> client_;
  // Inside read_burst(): messages are collected in burst_, not stored one by one.
  bool in_burst_ = false;
  ReceivedBurst burst_;
  Outage outage_;
  bool connected_ = false;
  bool ever_connected_ = false;
  bool connecting_ = false;
  std::string refused_;  // why the broker refused the last CONNECT
  // Times at which an established connection was closed by the broker side,
  // newest last: several in a short time mean another client takes the id.
  std::deque<std::chrono::steady_clock::time_point> closed_by_broker_;
  bool takeover_logged_ = false;
};

}  // namespace statesink::ingest
