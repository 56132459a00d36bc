#pragma once

#include <string_view>
#include <vector>

namespace statesink::migrate {

// A migration file compiled into the binary (see cmake/EmbedMigrations.cmake).
struct EmbeddedFile {
  std::string_view name;  // file name, e.g. "0001_messages.up.sql"
  std::string_view text;  // exact bytes of the file
};

std::vector<EmbeddedFile> embedded_migration_files();

}  // namespace statesink::migrate
