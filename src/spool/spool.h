#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "spool/dir_lock.h"
#include "spool/file.h"
#include "spool/interval_syncer.h"
#include "spool/options.h"
#include "spool/record.h"
#include "spool/recovery.h"
#include "spool/segment_reader.h"

namespace statesink::spool {

struct Backlog {
  std::uint64_t records = 0;  // appended, not yet committed
  std::uint64_t bytes = 0;    // their size on disk
};

// A durable queue of received messages between the MQTT callback and the
// database writer, in a directory of segment files (see segment.h, record.h).
//
// The receiver appends what it read from the broker before it lets the
// PUBACKs go, so that every acknowledged message is here; the writer thread
// reads records in order, inserts them, and stores the last sequence number
// in the same database transaction. On
// start it passes that number to seek_after(), so after a crash at any
// instant reading resumes right after what the database holds: nothing lost,
// nothing twice. Which power-cut losses are possible depends on SyncMode.
//
// Threads: append() and sync() from any thread (appends are serialised);
// seek_after(), read_batch() and commit() from one reader thread;
// backlog(), full(), wait_until_not_full() and request_stop() from any thread.
class Spool {
 public:
  // Creates the directory if needed, locks it and recovers what a crash left
  // (see recovery()). Throws SpoolError.
  explicit Spool(SpoolOptions options);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  const SpoolOptions& options() const { return options_; }
  const RecoveryReport& recovery() const { return recovery_; }
  // The newest records found on opening (options().recent_records of them),
  // oldest first: what the receiver checks its packet id file against.
  const std::vector<RecentRecord>& recent_records() const { return recent_records_; }

  // Stores the message and returns its sequence number (strictly increasing,
  // never reused). When it returns, the message survives a crash of this
  // process; surviving a power cut depends on the sync mode. Throws
  // SpoolError (disk full, I/O error); after a failed sync every later append
  // throws too, since the kernel may have dropped the unsynced data.
  std::uint64_t append(const MessageView& message);
  // Stores the messages in order, with consecutive sequence numbers, and
  // returns the first (0 for none). As append(), with one write per segment
  // they go into instead of one per message. On a throw, an unknown prefix
  // of them may be stored (the receiver then exits without acknowledging
  // any of them; see Redelivery::reconcile).
  std::uint64_t append_all(std::span<const MessageView> messages);
  // Syncs everything appended so far and makes it readable now.
  void sync();

  // Reading continues after `seq`, which the database already holds: records
  // up to it count as committed (see commit()). Call it before appending, with
  // the database's last committed sequence number; numbers given out later
  // are then above it even if the spool lost its tail or was emptied.
  void seek_after(std::uint64_t seq);
  // The next records in order: at least one if any arrives within `wait`,
  // else none (also at once when stop was requested and nothing is there).
  // Stops at `max_records` or after the record that reaches `max_bytes` of
  // record sizes. Only the records' own memory is held, never a segment.
  std::vector<Record> read_batch(std::size_t max_records, std::uint64_t max_bytes,
                                 std::chrono::milliseconds wait);
  // The database holds everything up to `seq` (a number already appended):
  // deletes the segments that hold nothing newer, except the newest, which
  // keeps the highest number given out on disk.
  void commit(std::uint64_t seq);

  Backlog backlog() const;
  // Disk flushes (fdatasync) of segment files since the spool was opened: what
  // the sync mode costs the disk, for operators on flash that wears per flush.
  std::uint64_t syncs() const { return syncs_.load(std::memory_order_relaxed); }
  // The lowest sequence number whose record is still on disk (the next to be
  // given out when there is none): everything below was committed and deleted.
  std::uint64_t oldest_held() const;
  // The backlog has reached options().max_bytes: stop taking messages.
  bool full() const;
  // True once not full; false on timeout or when stop was requested.
  bool wait_until_not_full(std::chrono::milliseconds timeout);
  // Wakes read_batch() and wait_until_not_full() waiters; they stop waiting.
  void request_stop();

 private:
  struct Segment {
    std::uint64_t first_seq = 0;
    std::uint64_t start_pos = 0;  // bytes of records in all earlier segments, deleted ones too
    std::uint64_t records = 0;
    std::uint64_t end = kSegmentHeaderSize;  // file offset after the last record written
    std::uint64_t readable_records = 0;      // synced as the sync mode requires
    std::uint64_t readable_end = kSegmentHeaderSize;
    std::uint64_t last_seq() const { return first_seq + records - 1; }
    std::uint64_t end_pos() const { return start_pos + (end - kSegmentHeaderSize); }
  };
  // A reader position: every record up to `seq` lies before stream byte `pos`.
  struct Mark {
    std::uint64_t seq = 0;
    std::uint64_t pos = 0;
  };
  // The reader thread's own state.
  struct Cursor {
    std::optional<SegmentReader> reader;
    std::uint64_t segment_first = 0;
    std::uint64_t segment_start_pos = 0;
    std::uint64_t limit = 0;  // readable end of that segment when last asked
    bool sealed = false;      // a newer segment exists, so `limit` is final
    std::uint64_t after = 0;  // last sequence number returned or skipped
    std::uint64_t pos = 0;    // stream byte just after that record
  };

  std::filesystem::path segment_path(std::uint64_t first_seq) const;

  // Appending; append_mutex_ held.
  void start_segment(std::uint64_t seq);
  // Writes the records at the end of the active segment, numbered from
  // `first_seq`, and advances active_end_.
  void write_records(std::uint64_t first_seq, std::span<const MessageView> messages);
  void sync_file(File& file);

  // Publishing synced data to the reader.
  void flush_active();
  void flush_in_background() noexcept;
  void make_readable(Segment& segment, std::uint64_t records, std::uint64_t end);

  // Reading; reader thread only.
  bool next_record(Record& out);
  bool read_any(Record& out);
  bool open_next_segment();
  void refresh_limit();
  void note_position();
  void skip_through(std::uint64_t seq);

  // mutex_ held.
  Segment* find_segment(std::uint64_t first_seq);
  Backlog backlog_locked() const;
  bool full_locked() const;
  void add_mark(Mark mark);

  SpoolOptions options_;
  DirectoryLock lock_;  // before anything in the directory is looked at
  RecoveryReport recovery_;
  std::vector<RecentRecord> recent_records_;

  mutable std::mutex mutex_;  // guards everything down to active_
  std::condition_variable data_ready_;
  std::condition_variable space_freed_;
  std::deque<Segment> segments_;  // oldest first; the last one takes appends
  std::uint64_t next_seq_ = 1;
  std::uint64_t readable_last_seq_ = 0;
  std::uint64_t committed_seq_ = 0;
  std::uint64_t committed_pos_ = 0;
  std::deque<Mark> marks_;     // batches read but not yet committed
  bool roll_pending_ = false;  // next_seq_ does not follow the last segment's records
  bool appended_ = false;
  bool stop_ = false;
  std::exception_ptr sync_failure_;
  std::atomic<std::uint64_t> syncs_{0};
  std::shared_ptr<File> active_;  // the last segment, open for writing; shared with the syncer

  std::mutex append_mutex_;  // one append at a time; held during disk writes, mutex_ is not
  std::uint64_t active_end_ = 0;
  std::string encoded_;  // several records' bytes for one write; kept for its capacity

  Cursor cursor_;

  std::unique_ptr<IntervalSyncer> syncer_;  // last: stopped before anything it uses goes
};

}  // namespace statesink::spool
