#include "spool/spool.h"

#include <fcntl.h>

#include <algorithm>
#include <string>
#include <system_error>
#include <utility>

#include "spool/error.h"
#include "spool/segment.h"

namespace statesink::spool {
namespace {

// Records written together are copied into one buffer first; past this size
// the copy costs more than the system call it saves.
constexpr std::uint64_t kMaxCopiedBytes = std::uint64_t{256} << 10;

void check_message(const MessageView& message) {
  if (message.topic.size() > kMaxTopicSize) {
    throw SpoolError("a topic of " + std::to_string(message.topic.size()) +
                     " bytes is longer than MQTT allows (65535); the message was not stored");
  }
  if (message.payload.size() > kMaxPayloadSize) {
    throw SpoolError("a message of " + std::to_string(message.payload.size()) + " bytes on " +
                     std::string(message.topic) +
                     " is larger than the spool takes (256 MiB); it was not stored");
  }
  if (message.qos > 2) {
    throw SpoolError("a message on " + std::string(message.topic) + " has QoS " +
                     std::to_string(message.qos) + "; it was not stored");
  }
}

const std::filesystem::path& created(const std::filesystem::path& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    throw_io_error("create the spool directory", dir, error.value());
  }
  return dir;
}

}  // namespace

Spool::Spool(SpoolOptions options)
    : options_(std::move(options)), lock_(created(options_.directory)) {
  Recovered found = recover_segments(options_.directory, options_.recent_records);
  recovery_ = std::move(found.report);
  recent_records_ = std::move(found.recent);
  std::uint64_t pos = 0;
  for (const SegmentInfo& info : found.segments) {
    Segment segment;
    segment.first_seq = info.first_seq;
    segment.start_pos = pos;
    segment.records = segment.readable_records = info.records;
    segment.end = segment.readable_end = info.end;
    pos = segment.end_pos();
    if (info.records > 0) {
      readable_last_seq_ = segment.last_seq();
    }
    segments_.push_back(segment);
  }
  next_seq_ = found.next_seq;
  if (!segments_.empty()) {
    const Segment& last = segments_.back();
    roll_pending_ = next_seq_ != last.first_seq + last.records;
    active_ = std::make_shared<File>(File::open(segment_path(last.first_seq), O_WRONLY));
    active_end_ = last.end;
  }
  if (options_.sync == SyncMode::interval) {
    syncer_ =
        std::make_unique<IntervalSyncer>(options_.sync_interval, [this] { flush_in_background(); });
  }
}

Spool::~Spool() {
  syncer_.reset();
  if (options_.sync == SyncMode::interval) {
    // A clean stop makes the last window durable as well. A failure has
    // nowhere to go from a destructor; callers that must know call sync().
    try {
      flush_active();
    } catch (const SpoolError&) {
    }
  }
}

std::filesystem::path Spool::segment_path(std::uint64_t first_seq) const {
  return options_.directory / segment_file_name(first_seq);
}

std::uint64_t Spool::append(const MessageView& message) {
  return append_all(std::span<const MessageView>(&message, 1));
}

std::uint64_t Spool::append_all(std::span<const MessageView> messages) {
  for (const MessageView& message : messages) {
    check_message(message);
  }
  std::lock_guard appending(append_mutex_);
  std::uint64_t first_seq = 0;
  std::size_t next = 0;
  while (next < messages.size()) {
    const std::uint64_t size =
        encoded_size(messages[next].topic.size(), messages[next].payload.size());
    std::uint64_t seq = 0;
    bool roll = false;
    {
      std::lock_guard lock(mutex_);
      if (sync_failure_) {
        std::rethrow_exception(sync_failure_);
      }
      seq = next_seq_;
      roll = !active_ || roll_pending_ ||
             (segments_.back().records > 0 && active_end_ + size > options_.segment_bytes);
    }
    if (roll) {
      start_segment(seq);
    }
    if (first_seq == 0) {
      first_seq = seq;
    }

    // The messages that still fit into this segment (at least one) go out in
    // one write; a large one goes alone, without copying its payload.
    std::size_t count = 1;
    std::uint64_t end = active_end_ + size;
    while (next + count < messages.size() && end - active_end_ < kMaxCopiedBytes) {
      const MessageView& m = messages[next + count];
      const std::uint64_t more = encoded_size(m.topic.size(), m.payload.size());
      if (end + more > options_.segment_bytes || more > kMaxCopiedBytes) {
        break;
      }
      end += more;
      ++count;
    }
    write_records(seq, messages.subspan(next, count));
    if (options_.sync == SyncMode::every) {
      sync_file(*active_);
    }

    std::lock_guard lock(mutex_);
    Segment& segment = segments_.back();
    segment.records += count;
    segment.end = active_end_;
    next_seq_ = seq + count;
    appended_ = true;
    if (options_.sync != SyncMode::interval) {
      make_readable(segment, segment.records, segment.end);
    }
    next += count;
  }
  if (syncer_ && first_seq != 0) {
    syncer_->mark_dirty();
  }
  return first_seq;
}

void Spool::write_records(std::uint64_t first_seq, std::span<const MessageView> messages) {
  std::uint64_t size = 0;
  try {
    if (messages.size() == 1) {
      const RecordEncoder encoder(first_seq, messages.front());
      active_->write_at(active_end_, encoder.pieces());
      size = encoder.size();
    } else {
      encoded_.clear();
      for (std::size_t i = 0; i < messages.size(); ++i) {
        const RecordEncoder encoder(first_seq + i, messages[i]);
        for (const std::string_view piece : encoder.pieces()) {
          encoded_.append(piece);
        }
      }
      const std::string_view pieces[] = {encoded_};
      active_->write_at(active_end_, pieces);
      size = encoded_.size();
    }
  } catch (const SpoolError&) {
    // Cut off a partial write so the file ends on a record boundary again; if
    // that fails too, the next append overwrites it, or recovery cuts it.
    try {
      active_->truncate(active_end_);
    } catch (const SpoolError&) {
    }
    throw;
  }
  active_end_ += size;
}

void Spool::start_segment(std::uint64_t seq) {
  if (active_ && options_.sync != SyncMode::never) {
    // A segment is complete on disk before a newer one exists, so a power cut
    // can only ever tear the newest segment.
    sync_file(*active_);
  }
  auto file = std::make_shared<File>(File::open(segment_path(seq), O_WRONLY | O_CREAT | O_TRUNC));
  const auto header = segment_header(seq);
  const std::string_view pieces[] = {std::string_view(header.data(), header.size())};
  file->write_at(0, pieces);
  if (options_.sync != SyncMode::never) {
    sync_file(*file);
  }
  sync_directory(options_.directory);

  std::lock_guard lock(mutex_);
  Segment segment;
  segment.first_seq = seq;
  segment.start_pos = committed_pos_;
  if (!segments_.empty()) {
    Segment& previous = segments_.back();
    make_readable(previous, previous.records, previous.end);
    segment.start_pos = previous.end_pos();
  }
  segments_.push_back(segment);
  active_ = std::move(file);
  active_end_ = kSegmentHeaderSize;
  roll_pending_ = false;
}

void Spool::sync_file(File& file) {
  try {
    file.sync_data();
    syncs_.fetch_add(1, std::memory_order_relaxed);
  } catch (const SpoolError&) {
    // After a failed fdatasync the kernel may have marked the unwritten pages
    // clean, so a retry could report success for data that never reached the
    // disk. Refuse further appends: a restart lets recovery check the files.
    std::lock_guard lock(mutex_);
    sync_failure_ = std::current_exception();
    throw;
  }
}

void Spool::sync() { flush_active(); }

void Spool::flush_active() {
  std::shared_ptr<File> file;
  std::uint64_t first_seq = 0;
  std::uint64_t records = 0;
  std::uint64_t end = 0;
  {
    std::lock_guard lock(mutex_);
    if (sync_failure_) {
      std::rethrow_exception(sync_failure_);
    }
    if (!active_) {
      return;
    }
    file = active_;  // kept open by this reference even if a roll replaces it
    const Segment& last = segments_.back();
    first_seq = last.first_seq;
    records = last.records;
    end = last.end;
  }
  sync_file(*file);
  std::lock_guard lock(mutex_);
  if (Segment* segment = find_segment(first_seq)) {
    make_readable(*segment, records, end);
  }
}

void Spool::flush_in_background() noexcept {
  try {
    flush_active();
  } catch (const SpoolError&) {
    // Kept in sync_failure_; the next append() reports it.
  }
}

void Spool::make_readable(Segment& segment, std::uint64_t records, std::uint64_t end) {
  if (records <= segment.readable_records) {
    return;
  }
  segment.readable_records = records;
  segment.readable_end = end;
  readable_last_seq_ = std::max(readable_last_seq_, segment.first_seq + records - 1);
  data_ready_.notify_all();
}

Spool::Segment* Spool::find_segment(std::uint64_t first_seq) {
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    if (it->first_seq == first_seq) {
      return &*it;
    }
  }
  return nullptr;
}

std::uint64_t Spool::oldest_held() const {
  std::lock_guard lock(mutex_);
  for (const Segment& segment : segments_) {
    if (segment.records > 0) {
      return segment.first_seq;
    }
  }
  return next_seq_;
}

Backlog Spool::backlog() const {
  std::lock_guard lock(mutex_);
  return backlog_locked();
}

Backlog Spool::backlog_locked() const {
  Backlog backlog;
  for (const Segment& segment : segments_) {
    if (segment.records > 0 && segment.last_seq() > committed_seq_) {
      backlog.records += segment.last_seq() - std::max(committed_seq_, segment.first_seq - 1);
    }
  }
  if (!segments_.empty()) {
    const std::uint64_t end = segments_.back().end_pos();
    backlog.bytes = end > committed_pos_ ? end - committed_pos_ : 0;
  }
  return backlog;
}

bool Spool::full() const {
  std::lock_guard lock(mutex_);
  return full_locked();
}

bool Spool::full_locked() const {
  if (options_.max_bytes == 0 || segments_.empty()) {
    return false;
  }
  const std::uint64_t end = segments_.back().end_pos();
  return end > committed_pos_ && end - committed_pos_ >= options_.max_bytes;
}

bool Spool::wait_until_not_full(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  space_freed_.wait_for(lock, timeout, [this] { return stop_ || !full_locked(); });
  return !full_locked();
}

void Spool::request_stop() {
  std::lock_guard lock(mutex_);
  stop_ = true;
  data_ready_.notify_all();
  space_freed_.notify_all();
}

}  // namespace statesink::spool
