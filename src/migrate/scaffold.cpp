#include "migrate/scaffold.h"

#include <fstream>
#include <regex>
#include <stdexcept>

#include "migrate/migration_set.h"
#include "util/error.h"

namespace statesink::migrate {
namespace {

void write_new_file(const std::filesystem::path& path, const std::string& text) {
  if (std::filesystem::exists(path)) {
    throw std::runtime_error(path.string() + " already exists; choose another name");
  }
  std::ofstream file(path, std::ios::binary);
  file << text;
  if (!file.flush()) {
    throw std::runtime_error("cannot write " + path.string() + "; check the folder's permissions");
  }
}

}  // namespace

std::pair<std::filesystem::path, std::filesystem::path> create_migration_files(
    const std::filesystem::path& dir, const std::string& name) {
  static const std::regex valid("[a-z0-9_]{1,100}");
  if (!std::regex_match(name, valid)) {
    throw UsageError("migration name '" + name +
                     "' must be 1-100 characters of a-z, 0-9 and _, e.g. add_facts_index");
  }
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  const MigrationSet existing = MigrationSet::from_directory(dir);
  const std::string label = format_version(existing.latest_version() + 1) + "_" + name;
  const auto up = dir / (label + ".up.sql");
  const auto down = dir / (label + ".down.sql");
  write_new_file(up,
                 "-- " + label +
                     ": what this migration changes, and why.\n"
                     "-- Statements end with ';'. Trigger and procedure bodies need no DELIMITER.\n"
                     "-- Keep to SQL that both MariaDB 10.6+ and MySQL 8.0+ accept.\n\n");
  write_new_file(down, "-- Undoes " + label + ".up.sql, statement by statement in reverse.\n\n");
  return {up, down};
}

}  // namespace statesink::migrate
