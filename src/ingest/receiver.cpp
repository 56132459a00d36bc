#include "ingest/receiver.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "spool/content_hash.h"
#include "spool/layout.h"
#include "util/backoff.h"
#include "util/log.h"
#include "util/wait.h"

namespace statesink::ingest {
namespace {

// Broker-side closes of an established connection within this window that
// make us say the client id is probably in use elsewhere (MQTT 3.1.1 gives no
// reason; MQTT 5 says so directly).
constexpr std::size_t kTakeoverCloses = 3;
constexpr std::chrono::seconds kTakeoverWindow{60};

// How long one step of the network loop waits for the broker.
constexpr std::chrono::milliseconds kPollTimeout{100};
// At most this many packets are read before the spool write and the PUBACKs
// (a broker's in-flight window, 20 by Mosquitto's default, is usually smaller).
constexpr int kMaxBurst = 1000;

std::string joined(const std::vector<std::string>& filters, std::string_view separator = "\n") {
  std::string text;
  for (const auto& f : filters) {
    text += (text.empty() ? std::string() : std::string(separator)) + f;
  }
  return text;
}

}  // namespace

Receiver::Receiver(ReceiverOptions options, spool::Spool& spool, Metrics& metrics)
    : options_(std::move(options)),
      spool_(spool),
      metrics_(metrics),
      exclude_(options_.exclude),
      packet_ids_(spool::Layout{spool.options().directory}.packet_ids()),
      redelivery_(packet_ids_),
      subscribed_file_(spool::Layout{spool.options().directory}.subscriptions()),
      outage_("MQTT broker " + options_.client.url.redacted()) {
  options_.client.clean_session = false;
  if (packet_ids_.reset_reason() != nullptr) {
    log::warn("packet id file " + packet_ids_.path().string() + " was reset (" +
              packet_ids_.reset_reason() +
              "): messages the broker sends again from before this start may be stored twice");
  }
  redelivery_.reconcile(spool.recent_records());
}

std::vector<std::string> Receiver::subscriptions() const {
  std::vector<std::string> filters;
  for (const auto& topic : options_.topics) {
    filters.push_back(
        options_.share_group.empty() ? topic : "$share/" + options_.share_group + "/" + topic);
  }
  return filters;
}

bool Receiver::subscriptions_kept() const {
  std::ifstream in(subscribed_file_);
  if (!in) {
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str() == joined(subscriptions());
}

void Receiver::on_connected(bool session_present) {
  connecting_ = false;
  connected_ = true;
  metrics_.broker_connected = true;
  outage_.recovered();
  redelivery_.session_started(session_present);
  // A kept session keeps its subscriptions. Subscribing again would make the
  // broker send every retained message again (MQTT 3.1.1 has no way to say
  // otherwise), and those would be stored again.
  const bool subscribe = !session_present || !subscriptions_kept();
  if (!ever_connected_) {
    ever_connected_ = true;
    const std::string filters = joined(subscriptions(), ", ");
    log::info("connected to " + options_.client.url.redacted() + " as " +
              options_.client.client_id +
              (session_present ? " (session resumed)" : " (new session)") +
              (subscribe ? "; subscribing to " : "; subscribed to ") + filters);
  }
  if (subscribe) {
    std::filesystem::remove(subscribed_file_);
    client_->subscribe(subscriptions(), 1);
  }
}

void Receiver::on_subscribed(const std::vector<int>& granted) {
  bool all = true;
  for (std::size_t i = 0; i < granted.size(); ++i) {
    if (granted[i] > 2) {
      all = false;
      log::error("the broker refused the subscription " + subscriptions().at(i) +
                 " (check the filter and the MQTT user's ACL)");
    }
  }
  if (all) {
    std::ofstream(subscribed_file_, std::ios::trunc) << joined(subscriptions());
    // Only from here on does the broker route new messages to this session;
    // what was published before went to no one (a new session has no queue).
    log::info("the broker confirmed the subscription to " + joined(subscriptions(), ", "));
  }
}

void Receiver::note_lost_connection(int reason) {
  const auto now = std::chrono::steady_clock::now();
  const bool taken =
      options_.client.protocol == mqtt::Protocol::v5 && reason == mqtt::kSessionTakenOver;
  closed_by_broker_.push_back(now);
  while (!closed_by_broker_.empty() && now - closed_by_broker_.front() > kTakeoverWindow) {
    closed_by_broker_.pop_front();
  }
  if (!taken && closed_by_broker_.size() < kTakeoverCloses) {
    return;
  }
  metrics_.client_id_clash = true;
  if (!takeover_logged_) {
    takeover_logged_ = true;
    log::error(std::string(taken ? "the broker handed this session to another client"
                                 : "the broker closed the connection " +
                                       std::to_string(closed_by_broker_.size()) +
                                       " times within a minute, right after accepting it") +
               ": another client probably uses the client id '" + options_.client.client_id +
               "'. Two clients with one id take the session from each other; give each "
               "ingester a unique --client-id (STATESINK_CLIENT_ID), or use --share-group to "
               "split one stream between several");
  }
}

void Receiver::on_disconnected(int reason) {
  if (connecting_ && reason != 0) {
    refused_ = mqtt::describe_reason(reason, options_.client.protocol);
  }
  const bool was_connected = connected_;
  connected_ = false;
  connecting_ = false;
  redelivery_.connection_lost();
  if (metrics_.broker_connected.exchange(false) && reason != 0) {
    ++metrics_.mqtt_disconnects;
  }
  if (was_connected && reason != 0) {
    note_lost_connection(reason);
  }
}

void Receiver::on_message(const mqtt::Received& m) {
  const std::uint64_t content =
      m.qos > 0 ? spool::content_hash(m.topic, m.payload) : std::uint64_t{0};
  const auto mid = static_cast<std::uint16_t>(m.mid);
  if (m.qos > 0 && redelivery_.is_resend(mid, content)) {
    ++metrics_.redelivered;
    return;
  }
  if (exclude_.excluded(m.topic)) {
    ++metrics_.excluded;
    return;
  }
  spool::MessageView view;
  view.received_at_us = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  view.mid = mid;
  view.qos = static_cast<std::uint8_t>(m.qos);
  view.retain = m.retain;
  view.topic = m.topic;
  view.payload = m.payload;
  burst_.add(view, content);
  if (!in_burst_) {
    // Under mosquitto_loop() (while connecting or disconnecting) the PUBACK
    // goes out in the same call: store the message before returning.
    store_burst();
  }
}

void Receiver::store_burst() {
  if (burst_.empty()) {
    return;
  }
  const std::span<const spool::MessageView> messages = burst_.views();
  std::uint64_t first = 0;
  try {
    first = spool_.append_all(messages);
  } catch (const std::exception& e) {
    // Returning would acknowledge messages that are not stored. Exiting
    // leaves them with the broker, which sends them again after a restart.
    log::error(std::string("cannot store received messages in the spool: ") + e.what() +
               "; exiting without acknowledging them, so the broker keeps them");
    std::_Exit(1);
  }
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (messages[i].qos > 0) {
      redelivery_.stored(messages[i].mid, burst_.content(i), first + i);
    }
  }
  metrics_.received += messages.size();
  burst_.clear();
}

void Receiver::read_burst() {
  std::optional<mqtt::MqttError> lost;
  in_burst_ = true;
  try {
    client_->read(kPollTimeout, kMaxBurst);
  } catch (const mqtt::MqttError& e) {
    lost = e;
  }
  in_burst_ = false;
  // Stored even when the connection broke during the read: the broker sends
  // them again, and the packet id file then tells them as resends.
  store_burst();
  if (lost) {
    throw *lost;
  }
  client_->write();
  client_->keep_alive();
}

void Receiver::disconnect_cleanly() {
  client_->disconnect();
  // Let the DISCONNECT go out.
  for (int i = 0; i < 20 && connected_; ++i) {
    try {
      client_->loop(std::chrono::milliseconds(50));
    } catch (const mqtt::MqttError&) {
      break;
    }
  }
}

void Receiver::run(std::stop_token stop) {
  mqtt::Client::Callbacks callbacks;
  callbacks.connected = [this](bool present) { on_connected(present); };
  callbacks.disconnected = [this](int reason) { on_disconnected(reason); };
  callbacks.message = [this](const mqtt::Received& m) { on_message(m); };
  callbacks.subscribed = [this](const std::vector<int>& granted) { on_subscribed(granted); };
  client_.emplace(options_.client, callbacks);
  Backoff backoff(std::chrono::milliseconds(250), std::chrono::seconds(15));
  bool paused = false;

  while (!stop.stop_requested()) {
    if (paused) {
      if (!spool_.wait_until_not_full(std::chrono::milliseconds(500))) {
        continue;
      }
      paused = false;
      metrics_.spool_full = false;
      log::info("spool has room again: reading from the broker again");
    }
    if (!connected_ && !connecting_) {
      try {
        refused_.clear();
        client_->connect();
        connecting_ = true;
      } catch (const mqtt::MqttError& e) {
        outage_.failed(e.what());
        wait_for(backoff.next(), stop);
        continue;
      }
    }
    try {
      if (connected_) {
        read_burst();
      } else {
        client_->loop(kPollTimeout);
      }
    } catch (const mqtt::MqttError& e) {
      const bool was_connected = connected_;
      on_disconnected(was_connected ? e.code() : -1);
      outage_.failed(refused_.empty() ? std::string(e.what())
                                      : "the broker refused the connection: " + refused_);
      if (!was_connected) {
        wait_for(backoff.next(), stop);
      }
      continue;
    }
    if (connected_) {
      backoff.reset();
    }
    if (connected_ && spool_.full()) {
      const auto backlog = spool_.backlog();
      log::warn("spool full (" + std::to_string(backlog.bytes >> 20) +
                " MiB not yet in the database): disconnecting from the broker, which keeps "
                "queueing for this session; reading resumes when the database catches up");
      metrics_.spool_full = true;
      disconnect_cleanly();
      on_disconnected(0);
      paused = true;
    }
  }

  if (connected_) {
    disconnect_cleanly();
  }
  metrics_.broker_connected = false;
  client_.reset();
}

}  // namespace statesink::ingest
