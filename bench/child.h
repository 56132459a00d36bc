#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "process.h"

namespace statesink::bench {

// A program the benchmark starts (statesink ingest, statesink simulate), with
// stdout and stderr appended to `log` and `cwd` as its working directory, so
// no stray .env file of the caller's directory changes its settings. Like
// every testing::Process it dies with the benchmark, and the destructor stops
// it, so nothing outlives a run.
class Child : public testing::Process {
 public:
  Child(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
        const std::filesystem::path& log)
      : Process(argv, options(cwd, log)), log_(log) {}

  const std::filesystem::path& log() const { return log_; }

 private:
  static Options options(const std::filesystem::path& cwd, const std::filesystem::path& log) {
    Options o;
    o.cwd = cwd;
    o.stdout_file = log;
    o.stderr_file = log;
    o.append_output = true;
    return o;
  }

  std::filesystem::path log_;
};

}  // namespace statesink::bench
