#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace statesink::ingest {

// The id under which a spool directory's progress is kept in ingest_progress:
// read from `spool-id` in the directory, created at random the first time.
// Several ingesters may share a database, each with its own spool.
std::string spool_identity(const std::filesystem::path& directory);

// The id of `spool-id` in the directory, without creating one: nullopt when
// the file is missing or damaged. For readers of a spool's files that must
// not change the spool.
std::optional<std::string> existing_spool_identity(const std::filesystem::path& directory);

}  // namespace statesink::ingest
