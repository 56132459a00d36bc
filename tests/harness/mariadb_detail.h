#pragma once

// What the MariaDB server classes share: the installed programs, the initialised data
// directory they copy, and the admin account's client. Not part of the harness API.

#include <cstdint>
#include <filesystem>
#include <string>

namespace statesink::testing::detail {

struct MariaDbPrograms {
  std::filesystem::path mariadbd;
  std::filesystem::path install_db;
  std::filesystem::path client;
  std::filesystem::path admin;
  std::string version;  // safe in a file name
};
const MariaDbPrograms& mariadb_programs();

// A data directory initialised by mariadb-install-db for this server version and user, to
// copy (never to use in place).
std::filesystem::path mariadb_template_data_dir();

bool running_as_root();
std::string quote_identifier(const std::string& name);

// True once the server on 127.0.0.1:port lets the admin account in.
bool admin_ping(std::uint16_t port);
// Runs SQL through the mariadb client as the admin account (the statements go through a file
// in `scratch`); returns stdout, tab-separated without column names; throws with the client's
// stderr on failure.
std::string admin_sql(const std::filesystem::path& scratch, std::uint16_t port,
                      const std::string& statements, const std::string& database = "");

}  // namespace statesink::testing::detail
