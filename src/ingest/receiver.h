#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "ingest/exclude.h"
#include "ingest/metrics.h"
#include "ingest/outage.h"
#include "mqtt/client.h"
#include "spool/recent_messages.h"
#include "spool/spool.h"

namespace statesink::ingest {

struct ReceiverOptions {
  mqtt::ClientOptions client;  // clean_session is forced off
  std::vector<std::string> topics;
  std::string share_group;  // subscribe through $share/GROUP/FILTER when set
  std::vector<std::string> exclude;
};

// The broker side of ingestion: a persistent QoS 1 session whose messages go
// into the spool before they are acknowledged. Reconnects with backoff; when
// the spool is full it disconnects (the broker queues for the session) and
// comes back once the backlog has room again.
class Receiver {
 public:
  Receiver(ReceiverOptions options, spool::Spool& spool, Metrics& metrics);

  // Runs the network loop on the calling thread until stop is requested, then
  // disconnects cleanly.
  void run(std::stop_token stop);

  // The filters as subscribed ($share/... when in a group).
  std::vector<std::string> subscriptions() const;

 private:
  void on_connected(bool session_present);
  void on_disconnected(int reason);
  void on_message(const mqtt::Received& message);
  void wait(std::chrono::milliseconds delay, std::stop_token stop);
  // Sends DISCONNECT and gives it up to a second to go out.
  void disconnect_cleanly();

  ReceiverOptions options_;
  spool::Spool& spool_;
  Metrics& metrics_;
  ExcludeFilter exclude_;
  spool::RecentMessages recent_;
  std::optional<mqtt::Client> client_;
  Outage outage_;
  bool connected_ = false;
  bool ever_connected_ = false;
  bool connecting_ = false;
  // Between a CONNACK that resumed the session and the SUBACK: the broker is
  // resending what was in flight, some of which may already be in the spool.
  bool resending_ = false;
  std::string refused_;  // why the broker refused the last CONNECT
};

}  // namespace statesink::ingest
