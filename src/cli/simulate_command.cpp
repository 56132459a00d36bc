#include "cli/simulate_command.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>

#include "mqtt/client.h"
#include "simulate/stream.h"
#include "util/error.h"
#include "util/units.h"

namespace statesink::cli {
namespace {

struct SimulateFlags {
  std::optional<std::string> mqtt;
  std::optional<std::string> client_id;
  unsigned installations = 1;
  unsigned entities = 20;
  std::uint64_t seed = 1;
  std::optional<std::string> domains;
  double rate = 0;
  std::optional<std::uint64_t> count;
  std::optional<std::string> duration;
  unsigned unavailable_percent = 1;
};

std::atomic<bool> interrupted{false};

extern "C" void on_interrupt(int /*signal*/) { interrupted = true; }

// Keeps at most this many publishes waiting for their PUBACK, so memory stays
// bounded when the broker is slower than the loop.
constexpr std::uint64_t kMaxUnacknowledged = 2000;

void run(const SimulateFlags& f, Context& context) {
  simulate::Options options;
  options.installations = f.installations;
  options.entities_per_installation = f.entities;
  options.seed = f.seed;
  options.unavailable_chance = f.unavailable_percent / 100.0;
  if (f.domains) {
    options.mix = simulate::parse_domain_mix(*f.domains, "--domains");
  }
  simulate::validate(options);
  if (f.rate < 0) {
    throw UsageError("--rate must be 0 (as fast as possible) or a positive number of messages/s");
  }
  if (!f.count && !f.duration) {
    throw UsageError("give --count N or --duration D (e.g. --duration 60s)");
  }
  std::optional<std::chrono::milliseconds> duration;
  if (f.duration) {
    duration = parse_duration(*f.duration, "--duration");
  }

  mqtt::ClientOptions client_options;
  client_options.url = config::resolve_mqtt_url(f.mqtt, context.sources());
  client_options.client_id =
      f.client_id.value_or("statesink-simulate-" + std::to_string(::getpid()));
  std::atomic<std::uint64_t> acked{0};
  bool connected = false;
  std::string refused;
  mqtt::Client::Callbacks callbacks;
  callbacks.connected = [&](bool) { connected = true; };
  callbacks.disconnected = [&](int reason) {
    if (!connected && reason != 0) {
      refused = mqtt::describe_reason(reason, client_options.protocol);
    }
  };
  callbacks.published = [&](int) { ++acked; };
  mqtt::Client client(client_options, callbacks);
  client.connect();
  const auto connect_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!connected) {
    client.loop(std::chrono::milliseconds(50));
    if (!refused.empty()) {
      throw std::runtime_error("the broker " + client.where() +
                               " refused the connection: " + refused);
    }
    if (std::chrono::steady_clock::now() > connect_deadline) {
      throw std::runtime_error("no answer from the broker " + client.where() + " within 10 s");
    }
  }

  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  simulate::MessageStream stream(options);
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t sent = 0;
  while (!interrupted) {
    const auto now = std::chrono::steady_clock::now();
    if ((f.count && sent >= *f.count) || (duration && now - start >= *duration)) {
      break;
    }
    if (f.rate > 0) {
      const auto due =
          start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                      std::chrono::duration<double>(static_cast<double>(sent) / f.rate));
      if (due > now) {
        // Rounded up: a wait rounded down to 0 ms would spin a CPU at rates
        // above 1000/s; instead what fell due meanwhile goes out together.
        client.loop(std::chrono::ceil<std::chrono::milliseconds>(due - now));
        continue;
      }
    }
    while (sent - acked >= kMaxUnacknowledged) {
      client.loop(std::chrono::milliseconds(10));
    }
    const simulate::Message m = stream.next();
    client.publish(m.topic, m.payload, simulate::kQos, m.retain);
    ++sent;
    if (sent % 64 == 0) {
      client.loop(std::chrono::milliseconds(0));
    }
  }
  const auto drain_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (acked < sent && std::chrono::steady_clock::now() < drain_deadline) {
    client.loop(std::chrono::milliseconds(20));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  client.disconnect();
  client.loop(std::chrono::milliseconds(50));
  char line[200];
  std::snprintf(
      line, sizeof line, "published %llu messages (%llu acknowledged) in %.2f s: %.0f/s\n",
      static_cast<unsigned long long>(sent), static_cast<unsigned long long>(acked.load()), seconds,
      static_cast<double>(sent) / std::max(seconds, 1e-6));
  context.out << line;
  if (acked < sent) {
    throw std::runtime_error("the broker acknowledged only " + std::to_string(acked.load()) +
                             " of " + std::to_string(sent) + " messages within 60 s");
  }
}

}  // namespace

void add_simulate_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<SimulateFlags>();
  CLI::App* cmd = app.add_subcommand(
      "simulate",
      "Publish realistic Home Assistant statestream traffic (state, timestamps and JSON "
      "attributes, retained, QoS 1)");
  cmd->add_option("--mqtt", flags->mqtt, "Broker URL (STATESINK_MQTT)");
  cmd->add_option("--client-id", flags->client_id,
                  "MQTT client id (default statesink-simulate-PID)");
  cmd->add_option("--installations", flags->installations,
                  "Home Assistant installations, each under its own base topic")
      ->capture_default_str();
  cmd->add_option("--entities", flags->entities, "Entities per installation")
      ->capture_default_str();
  cmd->add_option("--domains", flags->domains,
                  "Domain mix, e.g. sensor=4,light=1 (sensor, binary_sensor, light, switch, "
                  "climate, person)");
  cmd->add_option("--unavailable", flags->unavailable_percent,
                  "Percent of changes that make a device unavailable")
      ->capture_default_str();
  cmd->add_option("--seed", flags->seed, "Seed: the same seed gives the same stream")
      ->capture_default_str();
  cmd->add_option("--rate", flags->rate, "Messages per second; 0 publishes as fast as possible")
      ->capture_default_str();
  cmd->add_option("--count", flags->count, "Stop after this many messages");
  cmd->add_option("--duration", flags->duration, "Stop after this long (e.g. 60s, 5m)");
  cmd->callback([flags, &context] { run(*flags, context); });
}

}  // namespace statesink::cli
