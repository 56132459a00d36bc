#pragma once

// The ratios the design is judged by and the targets they should meet,
// computed once for both the tables and the JSON.

#include <string>
#include <vector>

#include "format.h"
#include "results.h"

namespace statesink::bench {

struct Target {
  std::string name;
  std::string target;
  double value;
  bool holds;
};

struct Ratios {
  double vs_ceiling = 0;
  double vs_naive = 0;
  double vs_ceiling_backlog = 0;
  // All four processes of the live run share the machine's CPUs: the rate at
  // which they would use every CPU completely.
  double cpus = 1;
  double e2e_cpu = 0;
  double cpu_bound = 0;
  std::vector<Target> targets;
};

// `results` holds every phase but the optional sweep; `machine` gives the CPUs.
Ratios compute_ratios(const Results& results, const Json& machine);

}  // namespace statesink::bench
