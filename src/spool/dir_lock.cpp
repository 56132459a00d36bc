#include "spool/dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string>

#include "spool/error.h"

namespace statesink::spool {
namespace {

std::string owner_pid(const File& file) {
  std::array<char, 32> text{};
  const std::size_t size = file.read_at(0, std::span<char>(text.data(), text.size() - 1));
  std::string pid(text.data(), size);
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) {
    pid.pop_back();
  }
  return pid;
}

}  // namespace

DirectoryLock::DirectoryLock(const std::filesystem::path& dir) {
  const std::filesystem::path path = dir / kFileName;
  file_ = File::open(path, O_RDWR | O_CREAT, 0600);
  while (::flock(file_.fd(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) {
      continue;
    }
    if (errno == EWOULDBLOCK) {
      const std::string pid = owner_pid(file_);
      throw SpoolError("spool directory " + dir.string() + " is in use by another process" +
                       (pid.empty() ? std::string() : " (pid " + pid + ")") +
                       "; stop that process first, or give each ingester its own spool directory");
    }
    throw_io_error("lock", path, errno);
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  file_.truncate(0);
  const std::string_view pieces[] = {pid};
  file_.write_at(0, pieces);
}

}  // namespace statesink::spool
