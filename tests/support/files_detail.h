#pragma once

// File helpers shared by the server classes; not part of the harness API.

#include <cstdint>
#include <filesystem>
#include <string>

namespace statesink::testing::detail {

// 0 when the file does not exist (yet).
std::uintmax_t file_size_or_zero(const std::filesystem::path& file);
// What was appended to a log after `offset`, i.e. what one start of a server wrote.
std::string read_file_from(const std::filesystem::path& file, std::uintmax_t offset = 0);
// $TMPDIR, or /tmp when it is unset or empty.
std::filesystem::path temp_root();

}  // namespace statesink::testing::detail
