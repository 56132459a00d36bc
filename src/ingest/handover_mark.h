#pragma once

#include <cstdint>
#include <filesystem>

namespace statesink::ingest {

// The newest sequence number this spool saw committed, and when its message
// arrived, in a small file of the spool directory. After a restore or a
// failover the database may hold less than that: the messages in between
// were deleted from the spool once committed and are missing.
class HandoverMark {
 public:
  struct Mark {
    std::uint64_t seq = 0;
    std::int64_t received_at_us = 0;
  };

  explicit HandoverMark(std::filesystem::path path);
  ~HandoverMark();
  HandoverMark(const HandoverMark&) = delete;
  HandoverMark& operator=(const HandoverMark&) = delete;

  Mark read() const;
  // Not synced: a process crash keeps it, a power cut may make it older,
  // which can only hide a loss, never report one that did not happen.
  void write(Mark mark);

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace statesink::ingest
