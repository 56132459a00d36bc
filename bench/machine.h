#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

namespace statesink::bench {

// What the figures depend on: CPU, cores, memory, the disk under `dir` (where
// the servers keep their data) and how long one flush to it takes, kernel and
// load. The database server's own description is added by the caller.
nlohmann::ordered_json describe_machine(const std::filesystem::path& dir);

// One line for the table's heading, from describe_machine()'s result.
std::string machine_summary(const nlohmann::ordered_json& machine);

}  // namespace statesink::bench
