#include "mqtt/publisher.h"

#include <stdexcept>
#include <utility>

namespace statesink::mqtt {
namespace {

using Clock = std::chrono::steady_clock;

// Publishes are written only inside loop(); going round it this often keeps
// them flowing without a system call per message.
constexpr std::uint64_t kLoopEvery = 32;

}  // namespace

Publisher::Publisher(Options options)
    : options_(std::move(options)), client_(options_.client, callbacks()) {
  client_.connect();
  const auto deadline = Clock::now() + options_.connect_timeout;
  while (!connected_) {
    client_.loop(std::chrono::milliseconds(20));
    if (!refused_.empty()) {
      throw std::runtime_error("the broker " + where() + " refused the connection: " + refused_);
    }
    if (Clock::now() > deadline) {
      throw std::runtime_error("no answer from the broker " + where() + " within " +
                               std::to_string(options_.connect_timeout.count()) + " s");
    }
  }
}

Publisher::Publisher(const config::MqttUrl& url, std::string client_id)
    : Publisher([&] {
        Options options;
        options.client.url = url;
        options.client.client_id = std::move(client_id);
        return options;
      }()) {}

Publisher::~Publisher() {
  try {
    client_.disconnect();
    client_.loop(std::chrono::milliseconds(20));
  } catch (const std::exception&) {
    // Going away anyway; the broker notices the closed socket.
  }
}

Client::Callbacks Publisher::callbacks() {
  Client::Callbacks c;
  c.connected = [this](bool) { connected_ = true; };
  c.disconnected = [this](int reason) {
    if (!connected_ && reason != 0) {
      refused_ = describe_reason(reason, options_.client.protocol);
    }
  };
  c.published = [this](int mid) {
    if (unacknowledged_.erase(mid) > 0) {
      ++acked_;
    }
  };
  return c;
}

void Publisher::publish(std::string_view topic, std::string_view payload, int qos, bool retain) {
  if (options_.max_unacknowledged > 0) {
    while (sent_ - acked_ >= options_.max_unacknowledged) {
      client_.loop(std::chrono::milliseconds(5));
    }
  }
  const int mid = client_.publish(topic, payload, qos, retain);
  if (qos > 0) {
    unacknowledged_.insert(mid);
    ++sent_;
  }
  if (++published_ % kLoopEvery == 0) {
    client_.loop(std::chrono::milliseconds(0));
  }
}

void Publisher::loop(std::chrono::milliseconds timeout) { client_.loop(timeout); }

bool Publisher::wait_acked(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (acked_ < sent_ && Clock::now() < deadline) {
    client_.loop(std::chrono::milliseconds(10));
  }
  return acked_ >= sent_;
}

}  // namespace statesink::mqtt
