// statesink_bench: the numbers behind statesink's design, measured in one run
// against a database and a broker that belong to the benchmark alone (see
// bench/run.sh, which starts them). Every phase starts from empty tables.
//
//   ceiling      the same messages the simulator publishes, inserted straight
//                into `messages` as multi-row INSERTs (triggers installed):
//                what the database can take, whatever the ingester does
//   end to end   statesink simulate -> Mosquitto -> statesink ingest -> rows
//                committed (facts are written by the trigger in the same
//                transaction, so a committed message is a committed fact)
//   backlog      the same stream queued by the broker while the ingester is
//                away, then drained: the pipeline without the publisher
//                competing for the CPUs
//   naive        end to end with the ingester committing every message alone
//                (--batch-size 1): the one-INSERT-per-message design
//   latency      publish -> committed, at a fixed moderate rate
//   batch sweep  end to end for batch sizes 1, 100 and 1000, with the
//                normalising triggers and without them
//   scale-out    1, 2 and 3 ingesters in one share group into one server:
//                throughput, deadlock retries, CPU of each process
//   galera       (--galera) the same into a three-node Galera cluster, one
//                ingester per node: also certification failures, brute-force
//                aborts, flow control and each node's CPU
//
// Each phase has a file of its own (ceiling, end_to_end, latency, scale,
// galera_scale, sweep; phases.cpp gives their order); this file wires
// settings, servers, phases and report together.
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "database.h"
#include "format.h"
#include "harness.h"
#include "machine.h"
#include "options.h"
#include "phases.h"
#include "ratios.h"
#include "report.h"
#include "timing.h"

namespace statesink::bench {
namespace {

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string line;
  std::getline(in, line);
  return line;
}

int run(Settings settings) {
  Harness harness(std::move(settings));
  const auto started = Clock::now();
  const Settings& s = harness.settings();
  std::filesystem::create_directories(s.work);
  harness.find_servers();
  Json machine = describe_machine(s.work);
  {
    db::Connection c = harness.connect();
    machine["database"] = describe_database(c);
  }
  if (!s.broker_version.empty()) machine["broker"] = s.broker_version;
  std::cout << "machine: " << machine_summary(machine) << "\n" << std::flush;

  harness.generate_traffic();
  std::cout << "traffic: " << s.installations << " installation(s) x " << s.entities
            << " entities, seed " << s.seed << ", " << harness.topics().size() << " topics\n";

  const Results results = run_phases(harness);
  machine["load_average_at_end"] = load_average();

  const double total_seconds = seconds_since(started);
  if (s.scale_only || s.galera_only || s.ceiling_only || s.ingest_only) {
    std::cout << "\nstatesink benchmark, " << machine_summary(machine) << "\n";
    Json j = report_header(machine, total_seconds);
    if (s.ceiling_only) {
      print_ceiling_table(std::cout, s, results);
      j["results"] = ceiling_json(results);
    } else if (s.ingest_only) {
      print_ingest_table(std::cout, s, results);
      j["results"] = ingest_only_json(results);
    } else {
      print_scale_table(std::cout, s, results);
      j["settings"] = {{"installations", s.installations},
                       {"entities_per_installation", s.entities},
                       {"seed", s.seed},
                       {"repeat", s.repeat},
                       {"scale_messages", s.scale_messages},
                       {"scale_max_ingesters", s.scale_max_ingesters},
                       {"galera", s.galera},
                       {"ingest_args", s.ingest_args}};
      j["results"] = Json::object();
      if (!results.scale.empty()) j["results"]["scale_out"] = scale_json(results.scale);
      if (!results.galera_scale.empty()) {
        j["results"]["scale_out_galera"] = scale_json(results.galera_scale);
      }
    }
    write_json(s.json, j);
    std::cout << "\nresults written to " << s.json.string() << "\n";
    return 0;
  }
  const Ratios ratios = compute_ratios(results, machine);
  print_tables(std::cout, s, results, ratios, machine, total_seconds);
  write_json(s.json, results_json(s, results, ratios, machine, total_seconds));
  std::cout << "\nresults written to " << s.json.string() << "\n";
  return 0;
}

}  // namespace
}  // namespace statesink::bench

int main(int argc, char** argv) {
  statesink::bench::Settings s;
  if (const auto code = statesink::bench::parse_options(argc, argv, s)) return *code;
  try {
    return statesink::bench::run(std::move(s));
  } catch (const std::exception& e) {
    std::cerr << "bench: " << e.what() << "\n";
    return 1;
  }
}
