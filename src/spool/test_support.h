#pragma once

// Helpers shared by the spool's unit tests.

#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "spool/record.h"

namespace statesink::spool::testing {

// A fresh directory under the system's temporary directory, removed with
// everything in it when the object goes away.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "statesink-spool-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::system_error(errno, std::generic_category(), "mkdtemp");
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A record with recognisable contents for sequence number `n`.
inline Record sample(std::uint64_t n, std::size_t payload_size = 16) {
  Record record;
  record.seq = n;
  record.received_at_us = 1'700'000'000'000'000 + static_cast<std::int64_t>(n);
  record.mid = static_cast<std::uint16_t>(n % 65535 + 1);
  record.qos = 1;
  record.retain = n % 3 == 0;
  record.topic = "homeassistant/sensor/s" + std::to_string(n % 7) + "/state";
  record.payload.resize(payload_size);
  for (std::size_t i = 0; i < payload_size; ++i) {
    record.payload[i] = static_cast<char>((n * 31 + i) % 256);
  }
  return record;
}

// Bytes sample(n) takes on disk with the default payload: its topic always
// has 29 characters.
inline constexpr std::uint64_t kSampleSize = kRecordHeaderSize + kRecordFixedBodySize + 29 + 16;

// Names of the segment files in `dir`, sorted.
inline std::vector<std::string> segment_names(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".seg")) {
      names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace statesink::spool::testing
