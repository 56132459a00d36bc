#include "ingest/receiver.h"

#include <cstdlib>
#include <thread>

#include "util/backoff.h"
#include "util/log.h"

namespace statesink::ingest {

Receiver::Receiver(ReceiverOptions options, spool::Spool& spool, Metrics& metrics)
    : options_(std::move(options)),
      spool_(spool),
      metrics_(metrics),
      exclude_(options_.exclude),
      recent_(spool.options().recent_keys),
      outage_("MQTT broker " + options_.client.url.redacted()) {
  options_.client.clean_session = false;
  for (const auto& key : spool.recent_keys()) {
    recent_.add(key);
  }
}

std::vector<std::string> Receiver::subscriptions() const {
  std::vector<std::string> filters;
  for (const auto& topic : options_.topics) {
    filters.push_back(
        options_.share_group.empty() ? topic : "$share/" + options_.share_group + "/" + topic);
  }
  return filters;
}

void Receiver::on_connected(bool session_present) {
  connecting_ = false;
  connected_ = true;
  resending_ = session_present;
  metrics_.broker_connected = true;
  outage_.recovered();
  if (!ever_connected_) {
    ever_connected_ = true;
    std::string filters;
    for (const auto& f : subscriptions()) {
      filters += (filters.empty() ? "" : ", ") + f;
    }
    log::info("connected to " + options_.client.url.redacted() + " as " +
              options_.client.client_id +
              (session_present ? " (session resumed)" : " (new session)") + "; subscribing to " +
              filters);
  }
  // Subscribing again is harmless when the session kept the subscriptions,
  // and needed when the session is new or the filters changed.
  client_->subscribe(subscriptions(), 1);
}

void Receiver::on_disconnected(int reason) {
  if (connecting_ && reason != 0) {
    refused_ = mqtt::describe_reason(reason, options_.client.protocol);
  }
  connected_ = false;
  connecting_ = false;
  resending_ = false;
  if (metrics_.broker_connected.exchange(false) && reason != 0) {
    ++metrics_.mqtt_disconnects;
  }
}

void Receiver::on_message(const mqtt::Received& m) {
  if (exclude_.excluded(m.topic)) {
    ++metrics_.excluded;
    return;
  }
  const auto key = spool::message_key(static_cast<std::uint16_t>(m.mid), m.topic, m.payload);
  if (m.qos > 0 && resending_ && recent_.contains(key)) {
    ++metrics_.redelivered;
    return;
  }
  // The first message that is not a resend ends the resends.
  resending_ = false;
  spool::MessageView view;
  view.received_at_us = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  view.mid = static_cast<std::uint16_t>(m.mid);
  view.qos = static_cast<std::uint8_t>(m.qos);
  view.retain = m.retain;
  view.topic = m.topic;
  view.payload = m.payload;
  try {
    spool_.append(view);
  } catch (const std::exception& e) {
    // Returning would acknowledge a message that is not stored. Exiting
    // leaves it with the broker, which sends it again after a restart.
    log::error(std::string("cannot store a received message in the spool: ") + e.what() +
               "; exiting without acknowledging it, so the broker keeps it");
    std::_Exit(1);
  }
  if (m.qos > 0) {
    recent_.add(key);
  }
  ++metrics_.received;
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

void Receiver::wait(std::chrono::milliseconds delay, std::stop_token stop) {
  const auto until = std::chrono::steady_clock::now() + delay;
  while (!stop.stop_requested() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void Receiver::run(std::stop_token stop) {
  mqtt::Client::Callbacks callbacks;
  callbacks.connected = [this](bool present) { on_connected(present); };
  callbacks.disconnected = [this](int reason) { on_disconnected(reason); };
  callbacks.message = [this](const mqtt::Received& m) { on_message(m); };
  callbacks.subscribed = [this](const std::vector<int>& granted) {
    resending_ = false;
    for (std::size_t i = 0; i < granted.size(); ++i) {
      if (granted[i] > 2) {
        log::error("the broker refused the subscription " + subscriptions().at(i) +
                   " (check the filter and the MQTT user's ACL)");
      }
    }
  };
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
        wait(backoff.next(), stop);
        continue;
      }
    }
    try {
      client_->loop(std::chrono::milliseconds(100));
    } catch (const mqtt::MqttError& e) {
      const bool was_connected = connected_;
      on_disconnected(-1);
      outage_.failed(refused_.empty() ? std::string(e.what())
                                      : "the broker refused the connection: " + refused_);
      if (!was_connected) {
        wait(backoff.next(), stop);
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
