#pragma once

// What every phase runs against: the settings, the two servers (and their
// PIDs, for CPU accounting) and the simulator's stream, generated once so
// that every phase sends the same messages.

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/url.h"
#include "db/connection.h"
#include "options.h"
#include "simulate/message.h"
#include "simulate/options.h"

namespace statesink::bench {

// CPU seconds of the processes that share the machine during a phase.
struct CpuSample {
  std::optional<double> ingest;
  std::optional<double> mariadbd;
  std::optional<double> mosquitto;
};

// after - before, when both were readable.
std::optional<double> delta(std::optional<double> before, std::optional<double> after);

// Where a phase keeps its spool and logs, and the MQTT client id of its
// ingester; numbered so that the logs of a run read in order.
struct PhaseSpace {
  std::filesystem::path dir;
  std::string client_id;
};

class Harness {
 public:
  explicit Harness(Settings settings);

  const Settings& settings() const { return s_; }
  const config::DbUrl& db_url() const { return db_url_; }
  const config::MqttUrl& mqtt_url() const { return mqtt_url_; }
  const std::vector<simulate::Message>& messages() const { return messages_; }
  const std::set<std::string>& topics() const { return topics_; }

  // Finds mariadbd and Mosquitto; a missing one is reported, and its CPU is not.
  void find_servers();
  // Enough of the simulator's stream for the longest phase.
  void generate_traffic();

  db::Connection connect() const { return db::Connection::open(db_url_); }
  // The servers' CPU, and the ingester's when `ingest` is a PID (> 0).
  CpuSample cpu(pid_t ingest) const;
  PhaseSpace next_phase(const std::string& name);

 private:
  simulate::Options simulate_options() const;

  Settings s_;
  config::DbUrl db_url_;
  config::MqttUrl mqtt_url_;
  std::optional<pid_t> mariadbd_pid_;
  std::optional<pid_t> mosquitto_pid_;
  std::vector<simulate::Message> messages_;
  std::set<std::string> topics_;  // every topic in messages_, to clear retained copies
  int phase_number_ = 0;
};

}  // namespace statesink::bench
