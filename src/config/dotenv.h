#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace statesink::config {

using Lookup = std::function<std::optional<std::string>(const std::string&)>;

// Parses a .env file the way docker compose reads one: KEY=VALUE lines, '#'
// comments, blank lines, an optional leading "export ", unquoted values trimmed
// (a " #" starts a comment), 'single-quoted' values literal, "double-quoted"
// values with \n \t \\ \" escapes and possibly spanning lines, and ${VAR} /
// $VAR expansion in unquoted and double-quoted values (earlier keys of the file
// first, then `environment`). Throws statesink::UsageError naming the line.
std::map<std::string, std::string> parse_dotenv(std::string_view text, const Lookup& environment);

// Reads and parses `path`; a missing file is an empty map, an unreadable one an error.
std::map<std::string, std::string> load_dotenv(const std::filesystem::path& path,
                                               const Lookup& environment);

}  // namespace statesink::config
