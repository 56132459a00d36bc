#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string_view>

namespace statesink::spool {

// When appended data is forced to the disk with fdatasync(). A process crash
// (SIGKILL included) loses nothing in any mode: written data is in the kernel's
// page cache. The modes differ only on a power cut or kernel crash:
//
//   every     each append is synced before it returns, so before the broker is
//             acknowledged: nothing acknowledged is ever lost. Costs one disk
//             flush per append; the receiver appends a whole burst at once, and
//             bursts grow while a flush runs, so slow disks cost latency more
//             than rate.
//   interval  synced at most `sync_interval` (default kDefaultSyncInterval) after an append,
//             by a background thread even when no more messages come: a power
//             cut loses at most the messages acknowledged in that last window
//             (plus the time one fdatasync takes).
//   never     the kernel writes back when it likes (typically within 30 s on
//             Linux, see vm.dirty_expire_centisecs): a power cut can lose that
//             much, and can damage older segments too, which the next start
//             reports and sets aside.
//
// In `every` and `interval` the reader only sees synced records, so the
// database never gets ahead of what the spool can prove after a power cut.
enum class SyncMode { every, interval, never };

const char* to_string(SyncMode mode);
// "every", "interval" or "never"; throws UsageError otherwise.
SyncMode parse_sync_mode(std::string_view text);

// What `interval` waits at most when no setting says otherwise. The writer only
// reads synced records, so this is most of the latency from broker to database.
inline constexpr std::chrono::milliseconds kDefaultSyncInterval{50};

struct SpoolOptions {
  std::filesystem::path directory;
  // A segment is closed and a new one started when a record would take it past this size.
  std::uint64_t segment_bytes = 64u << 20;
  // Backlog (appended but not committed) at which full() turns true, so the
  // ingester pauses reading from the broker. Appends still succeed beyond it:
  // messages already received must be stored. 0: no limit.
  std::uint64_t max_bytes = 1u << 30;
  SyncMode sync = SyncMode::interval;
  std::chrono::milliseconds sync_interval = kDefaultSyncInterval;
  // How many of the newest records recent_records() reports after opening.
  std::size_t recent_records = 1024;
};

}  // namespace statesink::spool
