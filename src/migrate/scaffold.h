#pragma once

#include <filesystem>
#include <string>
#include <utility>

namespace statesink::migrate {

// Creates NNNN_name.up.sql and NNNN_name.down.sql in `dir`, numbered one
// above the highest version there. Returns both paths. Throws UsageError for
// a name that is not [a-z0-9_]+, std::runtime_error when a file exists or
// cannot be written.
std::pair<std::filesystem::path, std::filesystem::path> create_migration_files(
    const std::filesystem::path& dir, const std::string& name);

}  // namespace statesink::migrate
