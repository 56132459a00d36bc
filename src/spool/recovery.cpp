#include "spool/recovery.h"

#include <fcntl.h>

#include <algorithm>
#include <array>
#include <deque>
#include <optional>
#include <system_error>

#include "spool/content_hash.h"
#include "spool/error.h"
#include "spool/file.h"
#include "spool/segment_reader.h"

namespace statesink::spool {
namespace {

namespace fs = std::filesystem;

struct Listed {
  std::uint64_t first_seq = 0;
  fs::path path;
};

std::vector<Listed> list_segments(const fs::path& dir) {
  std::vector<Listed> found;
  std::error_code error;
  for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    std::error_code ignored;  // a file that vanishes meanwhile is simply not a segment
    if (!it->is_regular_file(ignored)) {
      continue;
    }
    if (const auto first_seq = parse_segment_file_name(it->path().filename().string())) {
      found.push_back({*first_seq, it->path()});
    }
  }
  if (error) {
    throw_io_error("list", dir, error.value());
  }
  std::sort(found.begin(), found.end(),
            [](const Listed& a, const Listed& b) { return a.first_seq < b.first_seq; });
  return found;
}

// Keys of the newest records seen so far.
class KeyWindow {
 public:
  explicit KeyWindow(std::size_t capacity) : capacity_(capacity) {}
  void add(const Record& record) {
    if (capacity_ == 0) {
      return;
    }
    keys_.push_back(
        {record.seq, record.mid, record.qos, content_hash(record.topic, record.payload)});
    if (keys_.size() > capacity_) {
      keys_.pop_front();
    }
  }
  std::vector<RecentRecord> take() { return {keys_.begin(), keys_.end()}; }

 private:
  std::size_t capacity_;
  std::deque<RecentRecord> keys_;
};

struct Scan {
  std::uint64_t size = 0;
  const char* header_problem = nullptr;
  bool torn_header = false;  // shorter than a header, and what is there is right
  std::uint64_t records = 0;
  std::uint64_t good_end = 0;  // just after the last sound record
  ReadStatus stop = ReadStatus::end;
  std::string problem;  // why the scan stopped before the end of the file
  // The scan stopped at a whole record with a sound checksum (out of sequence,
  // or with impossible fields): a crash leaves no such thing, so it is damage.
  bool whole_record_rejected = false;
};

Scan scan_segment(const fs::path& path, std::uint64_t first_seq, KeyWindow& recent) {
  Scan scan;
  File file = File::open(path, O_RDONLY);
  scan.size = file.size();
  std::array<char, kSegmentHeaderSize> header{};
  const std::size_t got = file.read_at(0, header);
  if (got < header.size()) {
    const auto expected = segment_header(first_seq);
    scan.torn_header = std::equal(header.begin(), header.begin() + got, expected.begin());
    scan.header_problem = "shorter than a segment header";
    return scan;
  }
  if ((scan.header_problem = check_segment_header(header, first_seq))) {
    return scan;
  }
  SegmentReader reader(std::move(file));
  scan.good_end = reader.offset();
  Record record;
  for (;;) {
    scan.stop = reader.next(scan.size, record);
    if (scan.stop == ReadStatus::torn) {
      scan.problem = "incomplete record";
    } else if (scan.stop == ReadStatus::corrupt) {
      scan.problem = reader.problem();
      scan.whole_record_rejected = reader.checksum_held();
    } else if (scan.stop == ReadStatus::record && record.seq != first_seq + scan.records) {
      scan.stop = ReadStatus::corrupt;
      scan.whole_record_rejected = true;
      scan.problem = "sequence number " + std::to_string(record.seq) + " where " +
                     std::to_string(first_seq + scan.records) + " was expected";
    }
    if (scan.stop != ReadStatus::record) {
      return scan;
    }
    ++scan.records;
    scan.good_end = reader.offset();
    recent.add(record);
  }
}

// The highest sequence number among sound records found after `from`, by
// looking for record markers; nullopt when there are none, i.e. the bytes
// after `from` are the remains of one interrupted write. Only records numbered
// from `min_seq` on count, so a record that happens to sit inside a torn
// record's payload is not mistaken for one.
std::optional<std::uint64_t> highest_sound_record_after(const fs::path& path, std::uint64_t from,
                                                        std::uint64_t size, std::uint64_t min_seq) {
  const File file = File::open(path, O_RDONLY);
  SegmentReader probe(File::open(path, O_RDONLY));
  std::vector<char> chunk(static_cast<std::size_t>(
      std::min<std::uint64_t>(SegmentReader::kDefaultBufferSize, size - from)));
  Record record;
  std::uint64_t pos = from + 1;
  while (pos + kRecordHeaderSize <= size) {
    const std::size_t got = file.read_at(pos, chunk);
    if (got < kRecordMarker.size()) {
      break;
    }
    const char* const begin = chunk.data();
    const char* const end = begin + got;
    for (const char* hit = std::search(begin, end, kRecordMarker.begin(), kRecordMarker.end());
         hit != end; hit = std::search(hit + 1, end, kRecordMarker.begin(), kRecordMarker.end())) {
      probe.seek(pos + static_cast<std::uint64_t>(hit - begin));
      if (probe.next(size, record) == ReadStatus::record && record.seq >= min_seq) {
        std::uint64_t highest = record.seq;
        while (probe.next(size, record) == ReadStatus::record) {
          highest = std::max(highest, record.seq);
        }
        return highest;
      }
    }
    // Step back a little so a marker split across two chunks is still seen.
    pos += got - (kRecordMarker.size() - 1);
  }
  return std::nullopt;
}

fs::path unused_aside_name(const fs::path& path) {
  fs::path target = path;
  target += ".corrupt";
  std::error_code error;
  for (int n = 2; fs::exists(target, error); ++n) {
    target = path;
    target += ".corrupt." + std::to_string(n);
  }
  if (error) {
    throw_io_error("check", target, error.value());
  }
  return target;
}

fs::path move_aside(const fs::path& path) {
  fs::path target = unused_aside_name(path);
  std::error_code error;
  fs::rename(path, target, error);
  if (error) {
    throw_io_error("rename", path, error.value());
  }
  return target;
}

fs::path copy_aside(const fs::path& path) {
  fs::path target = unused_aside_name(path);
  const File from = File::open(path, O_RDONLY);
  File to = File::open(target, O_WRONLY | O_CREAT | O_EXCL, 0600);
  std::vector<char> buffer(SegmentReader::kDefaultBufferSize);
  std::uint64_t offset = 0;
  while (const std::size_t got = from.read_at(offset, buffer)) {
    const std::string_view pieces[] = {std::string_view(buffer.data(), got)};
    to.write_at(offset, pieces);
    offset += got;
  }
  to.sync_data();
  return target;
}

void cut_to(const fs::path& path, std::uint64_t size) {
  File file = File::open(path, O_WRONLY);
  file.truncate(size);
  file.sync_data();
}

void rewrite_header(const fs::path& path, std::uint64_t first_seq) {
  File file = File::open(path, O_WRONLY);
  file.truncate(0);
  const auto header = segment_header(first_seq);
  const std::string_view pieces[] = {std::string_view(header.data(), header.size())};
  file.write_at(0, pieces);
  file.sync_data();
}

std::string kept_records(std::uint64_t first_seq, std::uint64_t records) {
  if (records == 0) {
    return "kept none of its records";
  }
  return "kept its first " + std::to_string(records) + " records (sequence numbers " +
         std::to_string(first_seq) + " to " + std::to_string(first_seq + records - 1) + ")";
}

}  // namespace

Recovered recover_segments(const fs::path& dir, std::size_t recent_count) {
  Recovered result;
  RecoveryReport& report = result.report;
  KeyWindow recent(recent_count);
  const std::vector<Listed> listed = list_segments(dir);
  std::uint64_t highest = 0;  // highest sequence number seen, set-aside data included
  bool directory_changed = false;

  for (std::size_t i = 0; i < listed.size(); ++i) {
    const auto& [first_seq, path] = listed[i];
    const bool newest = i + 1 == listed.size();
    const std::string name = path.filename().string();

    if (first_seq <= highest) {
      const fs::path target = move_aside(path);
      directory_changed = true;
      report.problems.push_back(name + " starts at sequence number " + std::to_string(first_seq) +
                                ", which an older segment already holds (up to " +
                                std::to_string(highest) + "); moved it to " + target.string());
      report.set_aside.push_back(target);
      continue;
    }

    const Scan scan = scan_segment(path, first_seq, recent);
    if (scan.header_problem) {
      if (newest && scan.torn_header) {
        // A crash while the segment was being created.
        rewrite_header(path, first_seq);
        report.torn_bytes += scan.size;
        result.segments.push_back({first_seq, 0, kSegmentHeaderSize});
        continue;
      }
      const fs::path target = move_aside(path);
      directory_changed = true;
      report.problems.push_back(name + ": " + scan.header_problem + "; moved it to " +
                                target.string());
      report.set_aside.push_back(target);
      continue;
    }

    if (scan.stop != ReadStatus::end) {
      const std::optional<std::uint64_t> beyond =
          highest_sound_record_after(path, scan.good_end, scan.size, first_seq + scan.records);
      if (newest && !beyond && !scan.whole_record_rejected) {
        cut_to(path, scan.good_end);
        report.torn_bytes += scan.size - scan.good_end;
      } else {
        const fs::path target = copy_aside(path);
        directory_changed = true;
        cut_to(path, scan.good_end);
        if (beyond) {
          highest = std::max(highest, *beyond);
        }
        report.problems.push_back(
            name + " is damaged at byte " + std::to_string(scan.good_end) + " (" + scan.problem +
            "): " + kept_records(first_seq, scan.records) + " and cut the remaining " +
            std::to_string(scan.size - scan.good_end) + " bytes" +
            (beyond ? ", which hold sound records up to sequence number " + std::to_string(*beyond)
                    : std::string()) +
            "; the whole file is copied to " + target.string() + " for inspection");
        report.set_aside.push_back(target);
      }
    }
    result.segments.push_back({first_seq, scan.records, scan.good_end});
    report.records += scan.records;
    if (scan.records > 0) {
      highest = std::max(highest, first_seq + scan.records - 1);
    }
  }

  // Numbers seen only in data that was set aside are remembered on disk by an
  // empty segment that starts above them: without it, the next start (with
  // nothing appended in between) would see only the kept records and hand
  // those numbers out again.
  const std::uint64_t proven =
      result.segments.empty() ? 1
                              : result.segments.back().first_seq + result.segments.back().records;
  if (highest + 1 > proven) {
    const fs::path path = dir / segment_file_name(highest + 1);
    File::open(path, O_WRONLY | O_CREAT);  // closed at once; rewrite_header fills it
    rewrite_header(path, highest + 1);
    result.segments.push_back({highest + 1, 0, kSegmentHeaderSize});
    directory_changed = true;
  }

  if (directory_changed) {
    sync_directory(dir);
  }
  report.segments = result.segments.size();
  result.next_seq = highest + 1;
  if (!result.segments.empty()) {
    const SegmentInfo& last = result.segments.back();
    result.next_seq = std::max(result.next_seq, last.first_seq + last.records);
  }
  result.recent = recent.take();
  return result;
}

}  // namespace statesink::spool
