#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "spool/record.h"
#include "spool/segment.h"

namespace statesink::spool {

// What opening the spool found and repaired; for the log.
struct RecoveryReport {
  std::size_t segments = 0;
  std::uint64_t records = 0;
  // Bytes cut from the end of the newest segment: a write that a crash or
  // power cut interrupted. In sync mode `every` these were never acknowledged,
  // so the broker sends them again.
  std::uint64_t torn_bytes = 0;
  // Damage a crash does not explain, one sentence each: which file, where,
  // what was kept and where a copy of the rest went. Worth a loud log line.
  std::vector<std::string> problems;
  std::vector<std::filesystem::path> set_aside;  // *.corrupt files written
};

// A segment as recovery left it: every record in it is sound.
struct SegmentInfo {
  std::uint64_t first_seq = 0;
  std::uint64_t records = 0;
  std::uint64_t end = kSegmentHeaderSize;  // file size, just after the last record
};

struct Recovered {
  std::vector<SegmentInfo> segments;  // in sequence order
  // Above every sequence number seen, set-aside data included, so numbers are
  // never given out twice.
  std::uint64_t next_seq = 1;
  RecoveryReport report;
  std::vector<RecentRecord> recent;  // the newest records, oldest first
};

// Checks every record of every segment in `dir`. The newest segment may end
// in a torn write (a crash mid-append): it is cut back to its last sound
// record. Any other damage is copied aside to NAME.corrupt and the segment
// cut back to its sound records before the damage, so ingestion goes on with
// everything that can be trusted. Never throws for bad data; throws
// SpoolError when the directory or a file cannot be read or changed.
Recovered recover_segments(const std::filesystem::path& dir, std::size_t recent_count);

}  // namespace statesink::spool
