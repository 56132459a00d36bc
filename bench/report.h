#pragma once

// The benchmark's report: the tables on the terminal (the shape the README's
// Benchmark section shows) and the same figures as JSON.

#include <filesystem>
#include <ostream>
#include <vector>

#include "format.h"
#include "options.h"
#include "ratios.h"
#include "results.h"

namespace statesink::bench {

void print_tables(std::ostream& out, const Settings& s, const Results& results,
                  const Ratios& ratios, const Json& machine, double total_seconds);

// The scale-out tables alone (one server, Galera cluster: those that ran);
// what --scale-only and --galera-only print.
void print_scale_table(std::ostream& out, const Settings& s, const Results& results);
Json scale_json(const std::vector<ScaleRun>& scale);

// What every report's JSON starts with: the program, how long it ran, the machine.
Json report_header(const Json& machine, double total_seconds);

// The two ceilings alone; what --ceiling-only prints.
void print_ceiling_table(std::ostream& out, const Settings& s, const Results& results);
Json ceiling_json(const Results& results);

// End to end and from a backlog alone; what --ingest-only prints.
void print_ingest_table(std::ostream& out, const Settings& s, const Results& results);
Json ingest_only_json(const Results& results);

Json results_json(const Settings& s, const Results& results, const Ratios& ratios,
                  const Json& machine, double total_seconds);

// Writes `j` to `file`, creating its folder; throws when it cannot.
void write_json(const std::filesystem::path& file, const Json& j);

}  // namespace statesink::bench
