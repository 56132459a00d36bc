#include "harness.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>

#include "proc_stats.h"
#include "simulate/stream.h"

namespace statesink::bench {

namespace fs = std::filesystem;

std::optional<double> delta(std::optional<double> before, std::optional<double> after) {
  if (!before || !after) return std::nullopt;
  return *after - *before;
}

Harness::Harness(Settings settings)
    : s_(std::move(settings)),
      db_url_(config::parse_db_url(s_.db)),
      mqtt_url_(config::parse_mqtt_url(s_.mqtt)) {}

void Harness::find_servers() {
  if (s_.mariadb_pid_file) {
    std::ifstream in(*s_.mariadb_pid_file);
    long pid = 0;
    if (in >> pid && pid > 0) mariadbd_pid_ = static_cast<pid_t>(pid);
  }
  if (!mariadbd_pid_) mariadbd_pid_ = listening_pid(db_url_.port);
  mosquitto_pid_ = listening_pid(mqtt_url_.port);
  if (!mariadbd_pid_) std::cerr << "bench: mariadbd's PID not found; its CPU is not reported\n";
  if (!mosquitto_pid_) std::cerr << "bench: Mosquitto's PID not found; its CPU is not reported\n";
}

simulate::Options Harness::simulate_options() const {
  simulate::Options o;
  o.installations = s_.installations;
  o.entities_per_installation = s_.entities;
  o.seed = s_.seed;
  simulate::validate(o);
  return o;
}

void Harness::generate_traffic() {
  const std::size_t longest =
      std::max({s_.messages, s_.naive_messages, s_.sweep_messages, s_.sweep_single_messages,
                static_cast<std::size_t>(s_.latency_rate * s_.latency_seconds)});
  // The stream's own times (last_updated, hence facts.happened_at) end a
  // little before now, so that the statistics phase finds complete buckets,
  // as after an outage: a first pass counts the changes to learn its span.
  simulate::Options options = simulate_options();
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  options.start = now;
  std::size_t changes = 0;
  for (const auto& m : simulate::generate(options, longest)) {
    changes += m.topic.ends_with("/last_updated") ? 1 : 0;
  }
  options.start = now - std::chrono::minutes(10) -
                  options.mean_interval * static_cast<std::int64_t>(changes * 13 / 10);
  messages_ = simulate::generate(options, longest);
  for (const auto& m : messages_) topics_.insert(m.topic);
}

CpuSample Harness::cpu(pid_t ingest) const {
  CpuSample sample;
  if (ingest > 0) sample.ingest = cpu_seconds(ingest);
  if (mariadbd_pid_) sample.mariadbd = cpu_seconds(*mariadbd_pid_);
  if (mosquitto_pid_) sample.mosquitto = cpu_seconds(*mosquitto_pid_);
  return sample;
}

PhaseSpace Harness::next_phase(const std::string& name) {
  PhaseSpace space;
  space.dir = s_.work / (std::to_string(++phase_number_) + "-" + name);
  fs::create_directories(space.dir);
  space.client_id =
      "statesink-bench-" + std::to_string(::getpid()) + "-" + std::to_string(phase_number_);
  return space;
}

}  // namespace statesink::bench
