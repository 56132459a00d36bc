#pragma once

// The benchmark's settings and the command line that sets them.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace statesink::bench {

struct Settings {
  std::filesystem::path statesink;
  std::string db;
  std::string mqtt;
  std::filesystem::path work;
  std::filesystem::path json;
  std::optional<std::filesystem::path> mariadb_pid_file;
  std::string broker_version;
  unsigned installations = 2;
  unsigned entities = 200;
  std::uint64_t seed = 1;
  std::size_t messages = 100'000;
  std::size_t ceiling_rows = 1000;
  unsigned repeat = 3;
  std::size_t naive_messages = 10'000;
  double latency_rate = 2000;
  double latency_seconds = 30;
  bool sweep = true;
  std::size_t sweep_messages = 30'000;
  std::size_t sweep_single_messages = 3'000;
  bool scale = true;
  bool statistics = true;  // the cost of keeping the statistics current
  bool scale_only = false;
  std::size_t scale_messages = 30'000;
  unsigned scale_max_ingesters = 3;
  bool galera = false;        // also the scale-out phase into a three-node Galera cluster
  bool galera_only = false;   // only that phase
  bool ceiling_only = false;  // only the two ceilings, for comparing schema versions
  bool ingest_only = false;   // only end to end and backlog, for comparing ingest loops
  std::vector<std::string> ingest_args;
};

// Fills `settings` from the flags (STATESINK_DB and STATESINK_MQTT as the
// defaults of --db and --mqtt). Returns the exit code when the program should
// stop here: after --help, or on a usage error, which it has reported.
std::optional<int> parse_options(int argc, char** argv, Settings& settings);

}  // namespace statesink::bench
