#include "latency_publisher.h"

#include "ingester.h"
#include "mqtt/publisher.h"

namespace statesink::bench {

LatencyPublisher::LatencyPublisher(const config::MqttUrl& url, const std::string& client_id,
                                   const std::vector<simulate::Message>& messages,
                                   std::size_t count, double rate)
    : published_(count), published_us_(count) {
  thread_ = std::thread(
      [this, url, client_id, &messages, rate] { publish(url, client_id, messages, rate); });
}

LatencyPublisher::~LatencyPublisher() {
  if (thread_.joinable()) thread_.join();
}

void LatencyPublisher::join() {
  thread_.join();
  if (error_) std::rethrow_exception(error_);
}

void LatencyPublisher::publish(const config::MqttUrl& url, const std::string& client_id,
                               const std::vector<simulate::Message>& messages, double rate) {
  try {
    mqtt::Publisher session(url, client_id);
    const auto start = Clock::now();
    for (std::size_t i = 0; i < published_.size(); ++i) {
      const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(static_cast<double>(i) / rate));
      // Sleeping rather than spinning: the benchmark shares the CPUs with
      // what it measures.
      for (auto now = Clock::now(); now < due; now = Clock::now()) {
        if (due - now >= std::chrono::milliseconds(2)) {
          session.loop(std::chrono::milliseconds(1));
        } else {
          std::this_thread::sleep_for(due - now);
        }
      }
      published_[i] = Clock::now();
      published_us_[i] = now_micros();
      session.publish(messages[i].topic, messages[i].payload, simulate::kQos, messages[i].retain);
      // libmosquitto keeps only 20 QoS 1 messages in flight and sends the
      // next one when a PUBACK is read, which happens only in loop(): going
      // round it after every message keeps the publish time the send time.
      session.loop(std::chrono::milliseconds(0));
    }
    seconds_ = seconds_since(start);
    drain(session, std::chrono::seconds(60));
  } catch (...) {
    error_ = std::current_exception();
  }
  done_ = true;
}

}  // namespace statesink::bench
