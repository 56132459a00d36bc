#include "cli/simulate_command.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>

#include "mqtt/publisher.h"
#include "simulate/publish.h"
#include "util/error.h"
#include "util/time_arg.h"
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
  std::optional<std::string> start;
};

std::atomic<bool> interrupted{false};

extern "C" void on_interrupt(int /*signal*/) { interrupted = true; }

void run(const SimulateFlags& f, Context& context) {
  simulate::Options options;
  options.installations = f.installations;
  options.entities_per_installation = f.entities;
  options.seed = f.seed;
  options.unavailable_chance = f.unavailable_percent / 100.0;
  // Stamped with the present by default, so the simulated history lands where
  // dashboards look; --start fixes it for streams that must repeat exactly.
  const auto now = std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
  options.start = f.start ? parse_time_arg(*f.start, "--start", now) : now;
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
  simulate::Pace pace{.rate = f.rate, .count = f.count, .duration = std::nullopt};
  if (f.duration) {
    pace.duration = parse_duration(*f.duration, "--duration");
  }

  mqtt::Publisher::Options publisher_options;
  publisher_options.client.url = config::resolve_mqtt_url(f.mqtt, context.sources());
  publisher_options.client.client_id =
      f.client_id.value_or("statesink-simulate-" + std::to_string(::getpid()));
  publisher_options.max_unacknowledged = 2000;
  mqtt::Publisher publisher(publisher_options);

  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  simulate::MessageStream stream(options);
  const simulate::Published done = simulate::publish(stream, publisher, pace, interrupted);
  char line[200];
  std::snprintf(
      line, sizeof line, "published %llu messages (%llu acknowledged) in %.2f s: %.0f/s\n",
      static_cast<unsigned long long>(done.sent), static_cast<unsigned long long>(done.acked),
      done.seconds, static_cast<double>(done.sent) / std::max(done.seconds, 1e-6));
  context.out << line;
  if (done.acked < done.sent) {
    throw std::runtime_error("the broker acknowledged only " + std::to_string(done.acked) + " of " +
                             std::to_string(done.sent) + " messages within 60 s");
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
  cmd->add_option("--start", flags->start,
                  "Simulated time of the first change (default now; e.g. 2024-05-01T12:00:00Z "
                  "with --seed for a stream that repeats exactly)");
  cmd->add_option("--count", flags->count, "Stop after this many messages");
  cmd->add_option("--duration", flags->duration, "Stop after this long (e.g. 60s, 5m)");
  cmd->callback([flags, &context] { run(*flags, context); });
}

}  // namespace statesink::cli
