#pragma once

#include <string>
#include <string_view>

namespace statesink::migrate {

// Lower-case hex SHA-256 of the bytes, as stored in schema_migrations.checksum.
std::string sha256_hex(std::string_view bytes);

}  // namespace statesink::migrate
