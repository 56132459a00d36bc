// The reading side of Spool: the database writer's thread.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <string>

#include "spool/error.h"
#include "spool/spool.h"

namespace statesink::spool {
namespace {

// Marks beyond this are dropped oldest first; commit() then falls back to
// segment boundaries, which can only overstate the backlog, never lose data.
constexpr std::size_t kMaxMarks = 4096;

}  // namespace

std::vector<Record> Spool::read_batch(std::size_t max_records, std::uint64_t max_bytes,
                                      std::chrono::milliseconds wait) {
  {
    std::unique_lock lock(mutex_);
    data_ready_.wait_for(lock, wait,
                         [this] { return stop_ || readable_last_seq_ > cursor_.after; });
  }
  std::vector<Record> batch;
  std::uint64_t bytes = 0;
  Record record;
  while (batch.size() < max_records && (batch.empty() || bytes < max_bytes) &&
         next_record(record)) {
    bytes += encoded_size(record.topic.size(), record.payload.size());
    batch.push_back(std::move(record));
    record = Record();
  }
  note_position();
  return batch;
}

void Spool::seek_after(std::uint64_t seq) {
  {
    std::lock_guard lock(mutex_);
    if (seq >= next_seq_) {
      if (appended_) {
        throw std::logic_error("Spool::seek_after(" + std::to_string(seq) +
                               ") is past the last appended record; call it before appending");
      }
      // The database is ahead of the spool (its tail was lost, or the
      // directory emptied): numbers at or below seq would be taken as
      // already stored, so new ones start above it, in a new segment.
      next_seq_ = seq + 1;
      roll_pending_ = !segments_.empty();
    }
  }
  cursor_ = Cursor();
  cursor_.after = seq;
  skip_through(seq);
  note_position();
  commit(seq);
}

void Spool::commit(std::uint64_t seq) {
  std::vector<std::filesystem::path> doomed;
  {
    std::lock_guard lock(mutex_);
    if (seq >= next_seq_) {
      // Later records would be skipped as if the database had them.
      throw std::logic_error("Spool::commit(" + std::to_string(seq) +
                             ") is past the last appended record");
    }
    if (seq > committed_seq_) {
      committed_seq_ = seq;
      while (!marks_.empty() && marks_.front().seq <= seq) {
        committed_pos_ = std::max(committed_pos_, marks_.front().pos);
        marks_.pop_front();
      }
      for (const Segment& segment : segments_) {
        if (segment.records > 0 && segment.last_seq() <= seq) {
          committed_pos_ = std::max(committed_pos_, segment.end_pos());
        }
      }
    }
    while (segments_.size() > 1) {
      const Segment& oldest = segments_.front();
      if (oldest.records > 0 && oldest.last_seq() > committed_seq_) {
        break;
      }
      doomed.push_back(segment_path(oldest.first_seq));
      segments_.pop_front();
    }
    space_freed_.notify_all();
  }
  cursor_.after = std::max(cursor_.after, seq);
  if (doomed.empty()) {
    return;
  }
  // The reader may still have one of these open; unlinking is fine then.
  int error = 0;
  std::filesystem::path failed;
  for (const std::filesystem::path& path : doomed) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT && error == 0) {
      error = errno;
      failed = path;
    }
  }
  sync_directory(options_.directory);
  if (error != 0) {
    throw_io_error("delete the committed spool segment", failed, error);
  }
}

bool Spool::next_record(Record& out) {
  while (read_any(out)) {
    if (out.seq > cursor_.after) {
      cursor_.after = out.seq;
      return true;
    }
  }
  return false;
}

// Leaves the reader just before the first record after `seq`.
void Spool::skip_through(std::uint64_t seq) {
  Record record;
  while (read_any(record)) {
    if (record.seq > seq) {
      const std::uint64_t size = encoded_size(record.topic.size(), record.payload.size());
      cursor_.reader->seek(cursor_.reader->offset() - size);
      cursor_.pos -= size;
      return;
    }
  }
}

// The next readable record, whatever its sequence number.
bool Spool::read_any(Record& out) {
  for (;;) {
    if (!cursor_.reader && !open_next_segment()) {
      return false;
    }
    if (cursor_.reader->offset() >= cursor_.limit) {
      if (cursor_.sealed) {
        cursor_.reader.reset();
        continue;
      }
      refresh_limit();
      if (cursor_.reader && cursor_.reader->offset() >= cursor_.limit && !cursor_.sealed) {
        return false;
      }
      continue;
    }
    SegmentReader& reader = *cursor_.reader;
    const ReadStatus status = reader.next(cursor_.limit, out);
    if (status == ReadStatus::record) {
      cursor_.pos = cursor_.segment_start_pos + (reader.offset() - kSegmentHeaderSize);
      return true;
    }
    if (status != ReadStatus::end) {
      throw SpoolError("spool segment " + reader.file().path().string() +
                       " is unreadable at byte " + std::to_string(reader.offset()) + " (" +
                       (reader.problem() ? reader.problem() : "incomplete record") +
                       ") although this process wrote or checked it; the disk may be failing "
                       "(see dmesg). Restart statesink: recovery sets the damage aside");
    }
  }
}

bool Spool::open_next_segment() {
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    const Segment& segment = segments_[i];
    if (segment.readable_records == 0 ||
        segment.first_seq + segment.readable_records - 1 <= cursor_.after) {
      continue;
    }
    cursor_.reader.emplace(File::open(segment_path(segment.first_seq), O_RDONLY));
    cursor_.segment_first = segment.first_seq;
    cursor_.segment_start_pos = segment.start_pos;
    cursor_.limit = segment.readable_end;
    cursor_.sealed = i + 1 < segments_.size();
    return true;
  }
  return false;
}

void Spool::refresh_limit() {
  std::lock_guard lock(mutex_);
  const Segment* segment = find_segment(cursor_.segment_first);
  if (!segment) {
    cursor_.reader.reset();  // committed and deleted meanwhile
    return;
  }
  cursor_.limit = segment->readable_end;
  cursor_.sealed = segment != &segments_.back();
}

void Spool::note_position() {
  std::lock_guard lock(mutex_);
  add_mark({cursor_.after, cursor_.pos});
}

void Spool::add_mark(Mark mark) {
  if (mark.seq <= committed_seq_) {
    if (mark.pos > committed_pos_) {
      committed_pos_ = mark.pos;
      space_freed_.notify_all();
    }
    return;
  }
  if (!marks_.empty() && marks_.back().seq >= mark.seq) {
    return;
  }
  marks_.push_back(mark);
  if (marks_.size() > kMaxMarks) {
    marks_.pop_front();
  }
}

}  // namespace statesink::spool
