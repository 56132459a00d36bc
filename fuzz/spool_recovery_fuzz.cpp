// Any bytes as the newest spool segment. Recovery must never crash or throw
// for bad data, and what it leaves must be sound: recovering a second time
// finds the same records and nothing to repair.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "spool/recovery.h"
#include "spool/segment.h"

namespace {

namespace fs = std::filesystem;

fs::path scratch_dir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("statesink-fuzz-spool-" + std::to_string(getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace statesink::spool;
  const fs::path dir = scratch_dir();
  for (const auto& entry : fs::directory_iterator(dir)) {
    fs::remove_all(entry.path());
  }
  // The first byte chooses whether a valid header comes first, so most inputs
  // reach the records instead of stopping at a bad header.
  std::string bytes;
  if (size > 0 && (data[0] & 1) == 1) {
    const auto header = segment_header(1);
    bytes.assign(header.begin(), header.end());
    ++data;
    --size;
  }
  bytes.append(reinterpret_cast<const char*>(data), size);
  {
    std::ofstream out(dir / segment_file_name(1), std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  const Recovered first = recover_segments(dir, 16);
  const Recovered second = recover_segments(dir, 16);
  if (!second.report.problems.empty() || second.report.torn_bytes != 0 ||
      second.report.records != first.report.records) {
    __builtin_trap();
  }
  return 0;
}
