#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace statesink::migrate {

// One numbered migration: NNNN_name.up.sql and, optionally, NNNN_name.down.sql.
struct Migration {
  std::uint64_t version = 0;
  std::string name;  // "messages"
  std::string up_sql;
  std::optional<std::string> down_sql;
  std::string checksum;  // SHA-256 of the up file's bytes

  std::string label() const;  // "0001_messages"
  std::string up_file() const { return label() + ".up.sql"; }
  std::string down_file() const { return label() + ".down.sql"; }
};

// The migrations statesink knows of, in version order. Throws
// std::runtime_error for a malformed set (a badly named .sql file, two files
// for one version, a down file without its up file).
class MigrationSet {
 public:
  using NamedText = std::pair<std::string, std::string>;  // file name, content

  static MigrationSet from_files(const std::vector<NamedText>& files, std::string origin);
  static MigrationSet from_directory(const std::filesystem::path& dir);
  static MigrationSet embedded();  // compiled into the binary

  const std::vector<Migration>& all() const { return migrations_; }
  const Migration* find(std::uint64_t version) const;
  std::uint64_t latest_version() const;  // 0 when empty
  // Where the files came from, for messages: a folder, or "built-in".
  const std::string& origin() const { return origin_; }

 private:
  std::vector<Migration> migrations_;
  std::string origin_;
};

// The version-number width used in file names (0001).
inline constexpr int kVersionWidth = 4;
std::string format_version(std::uint64_t version);

}  // namespace statesink::migrate
