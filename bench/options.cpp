#include "options.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace statesink::bench {

std::optional<int> parse_options(int argc, char** argv, Settings& s) {
  CLI::App app{
      "statesink benchmark: database ceiling, end to end, naive design, latency, batch sweep and "
      "scale-out "
      "against a private MariaDB and Mosquitto. It empties the tables of the database it is "
      "given: point it only at a database of its own (bench/run.sh does)."};
  const char* db = std::getenv("STATESINK_DB");
  const char* mqtt = std::getenv("STATESINK_MQTT");
  s.db = db != nullptr ? db : "";
  s.mqtt = mqtt != nullptr ? mqtt : "";
  std::string mariadb_pid_file;
  bool no_sweep = false;
  app.add_option("--statesink", s.statesink, "The statesink binary to run")->required();
  app.add_option("--db", s.db, "Database URL (STATESINK_DB); its tables are emptied");
  app.add_option("--mqtt", s.mqtt, "Broker URL (STATESINK_MQTT)");
  app.add_option("--work", s.work, "Folder for spools and logs")->required();
  app.add_option("--json", s.json, "Where to write the results")->required();
  app.add_option("--mariadb-pid-file", mariadb_pid_file,
                 "mariadbd's PID file (default: the process listening on the database port)");
  app.add_option("--broker-version", s.broker_version, "Broker version, for the description");
  app.add_option("--installations", s.installations, "Simulated installations")
      ->capture_default_str();
  app.add_option("--entities", s.entities, "Entities per installation")->capture_default_str();
  app.add_option("--seed", s.seed, "Simulator seed")->capture_default_str();
  app.add_option("--messages", s.messages, "Messages for the ceiling and end to end")
      ->capture_default_str();
  app.add_option("--ceiling-rows", s.ceiling_rows, "Rows per INSERT for the ceiling")
      ->capture_default_str();
  app.add_option("--repeat", s.repeat,
                 "Rounds of the ceiling, end to end and each sweep run; the best counts")
      ->capture_default_str();
  app.add_option("--naive-messages", s.naive_messages, "Messages for the naive design")
      ->capture_default_str();
  app.add_option("--latency-rate", s.latency_rate, "Messages/s for the latency phase")
      ->capture_default_str();
  app.add_option("--latency-seconds", s.latency_seconds, "Length of the latency phase")
      ->capture_default_str();
  app.add_flag("--no-sweep", no_sweep, "Skip the batch-size sweep");
  app.add_option("--sweep-messages", s.sweep_messages,
                 "Messages per sweep run at batch sizes 100 and 1000")
      ->capture_default_str();
  app.add_option("--sweep-single-messages", s.sweep_single_messages,
                 "Messages per sweep run at batch size 1")
      ->capture_default_str();
  bool no_statistics = false;
  app.add_flag("--no-statistics", no_statistics,
               "Skip the statistics phase (the ceiling with statistics updates beside it)");
  bool no_scale = false;
  app.add_flag("--no-scale", no_scale, "Skip the scale-out phase");
  app.add_flag("--scale-only", s.scale_only, "Run only the scale-out phase (and report only it)");
  app.add_option("--scale-messages", s.scale_messages,
                 "Messages per scale-out run (1, 2, 3 ingesters in one share group)")
      ->capture_default_str();
  app.add_option("--scale-max-ingesters", s.scale_max_ingesters,
                 "The scale-out phase runs 1 up to this many ingesters")
      ->capture_default_str();
  app.add_flag("--galera", s.galera,
               "Also run the scale-out phase into a private three-node MariaDB Galera cluster "
               "(needs galera-4 and rsync): 1 to 3 ingesters in one share group, one per node, "
               "then one ingester per base topic");
  app.add_flag("--ceiling-only", s.ceiling_only,
               "Run only the database ceiling through both normalisation paths (and report "
               "only it): for comparing versions of the trigger and normalise_batch()");
  app.add_flag("--ingest-only", s.ingest_only,
               "Run only end to end and from a broker backlog (and report only them): for "
               "comparing versions of the ingester");
  app.add_flag("--galera-only", s.galera_only,
               "Run only the scale-out phase into the Galera cluster (and report only it)");
  app.add_option(
         "--ingest-arg", s.ingest_args,
         "Extra argument for every statesink ingest, repeatable (--ingest-arg=--sync=never)")
      ->allow_extra_args(false);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  s.sweep = !no_sweep;
  s.scale = !no_scale || s.scale_only;
  s.statistics = !no_statistics;
  s.galera = s.galera || s.galera_only;
  if (!mariadb_pid_file.empty()) s.mariadb_pid_file = mariadb_pid_file;
  if (s.db.empty() || s.mqtt.empty()) {
    std::cerr << "bench: give --db and --mqtt (or STATESINK_DB and STATESINK_MQTT)\n";
    return 2;
  }
  if (s.messages == 0 || s.naive_messages == 0 || s.ceiling_rows == 0 || s.latency_rate <= 0 ||
      s.latency_seconds <= 0 || s.repeat == 0 || s.sweep_messages == 0 ||
      s.sweep_single_messages == 0 || s.scale_messages == 0 || s.scale_max_ingesters == 0) {
    std::cerr << "bench: counts, rates and durations must be above zero\n";
    return 2;
  }
  // An earlier run's spools would be inserted again by the next ingester of the same phase and
  // counted as its messages.
  std::error_code ec;
  if (std::filesystem::exists(s.work, ec) && !std::filesystem::is_empty(s.work, ec)) {
    std::cerr << "bench: --work " << s.work.string()
              << " is not empty; an earlier run's spools there would be inserted again and "
                 "counted. Give a new or empty folder.\n";
    return 2;
  }
  // The children run in folders of their own, where relative paths would not resolve.
  s.statesink = std::filesystem::absolute(s.statesink);
  s.work = std::filesystem::absolute(s.work);
  return std::nullopt;
}

}  // namespace statesink::bench
