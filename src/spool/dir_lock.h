#pragma once

#include <filesystem>

#include "spool/file.h"

namespace statesink::spool {

// An exclusive flock() on DIR/spool.lock for the object's lifetime, so two
// processes never share one spool. The kernel drops the lock when the process
// dies, so a crash never leaves a stale lock behind. The file holds the
// owner's pid, for the message the next contender gets.
class DirectoryLock {
 public:
  static constexpr const char* kFileName = "spool.lock";

  // Throws SpoolError naming the directory when another process holds it.
  explicit DirectoryLock(const std::filesystem::path& dir);

 private:
  File file_;
};

}  // namespace statesink::spool
