#include "migrate/migration_set.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "migrate/embedded_migrations.h"
#include "migrate/sha256.h"

namespace statesink::migrate {
namespace {

const std::regex& file_pattern() {
  static const std::regex pattern(R"(^([0-9]+)_([A-Za-z0-9_-]+)\.(up|down)\.sql$)");
  return pattern;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read migration file " + path.string());
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::string format_version(std::uint64_t version) {
  std::string digits = std::to_string(version);
  if (digits.size() < static_cast<std::size_t>(kVersionWidth)) {
    digits.insert(0, static_cast<std::size_t>(kVersionWidth) - digits.size(), '0');
  }
  return digits;
}

std::string Migration::label() const { return format_version(version) + "_" + name; }

MigrationSet MigrationSet::from_files(const std::vector<NamedText>& files, std::string origin) {
  std::map<std::uint64_t, Migration> by_version;
  std::map<std::uint64_t, std::string> downs;
  auto where = [&origin](const std::string& file) { return file + " (in " + origin + ")"; };
  for (const auto& [file, text] : files) {
    if (file.size() < 4 || file.substr(file.size() - 4) != ".sql") {
      continue;  // READMEs and the like may live beside the migrations
    }
    std::smatch match;
    if (!std::regex_match(file, match, file_pattern())) {
      throw std::runtime_error("migration file " + where(file) +
                               " is not named NNNN_name.up.sql or NNNN_name.down.sql; rename it");
    }
    const std::string digits = match[1];
    if (digits.size() > 18) {
      throw std::runtime_error("migration file " + where(file) + " has a version number too long");
    }
    const std::uint64_t version = std::stoull(digits);
    if (version == 0) {
      throw std::runtime_error("migration file " + where(file) +
                               " uses version 0, which stands for the empty schema; start at 1");
    }
    const std::string name = match[2];
    const bool up = match[3] == "up";
    if (!up) {
      if (!downs.emplace(version, name).second) {
        throw std::runtime_error("two down files for version " + format_version(version) + " in " +
                                 origin + "; keep one");
      }
      by_version[version].down_sql = text;
      continue;
    }
    Migration& m = by_version[version];
    if (!m.up_sql.empty() || !m.checksum.empty()) {
      throw std::runtime_error("two up files for version " + format_version(version) + " in " +
                               origin + " (" + m.name + " and " + name + "); renumber one");
    }
    m.version = version;
    m.name = name;
    m.up_sql = text;
    m.checksum = sha256_hex(text);
  }
  MigrationSet set;
  set.origin_ = std::move(origin);
  for (auto& [version, m] : by_version) {
    if (m.checksum.empty()) {
      throw std::runtime_error("down file for version " + format_version(version) + " (" +
                               downs[version] + ") has no up file in " + set.origin_);
    }
    if (downs.count(version) && downs[version] != m.name) {
      throw std::runtime_error("version " + format_version(version) + " has up file " +
                               m.up_file() + " but down file " + format_version(version) + "_" +
                               downs[version] + ".down.sql in " + set.origin_ +
                               "; give both the same name");
    }
    set.migrations_.push_back(std::move(m));
  }
  return set;
}

MigrationSet MigrationSet::from_directory(const std::filesystem::path& dir) {
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error)) {
    throw std::runtime_error("migrations folder " + dir.string() +
                             " does not exist or is not a folder; check --dir");
  }
  std::vector<NamedText> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file()) {
      files.emplace_back(entry.path().filename().string(), read_file(entry.path()));
    }
  }
  return from_files(files, dir.string());
}

MigrationSet MigrationSet::embedded() {
  std::vector<NamedText> files;
  for (const EmbeddedFile& file : embedded_migration_files()) {
    files.emplace_back(std::string(file.name), std::string(file.text));
  }
  return from_files(files, "built-in");
}

const Migration* MigrationSet::find(std::uint64_t version) const {
  auto it = std::lower_bound(migrations_.begin(), migrations_.end(), version,
                             [](const Migration& m, std::uint64_t v) { return m.version < v; });
  return it != migrations_.end() && it->version == version ? &*it : nullptr;
}

std::uint64_t MigrationSet::latest_version() const {
  return migrations_.empty() ? 0 : migrations_.back().version;
}

}  // namespace statesink::migrate
