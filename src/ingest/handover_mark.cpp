#include "ingest/handover_mark.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace statesink::ingest {

HandoverMark::HandoverMark(std::filesystem::path path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    throw std::runtime_error("cannot open " + path_.string() + ": " + std::strerror(errno) +
                             "; check the spool directory's permissions");
  }
}

HandoverMark::~HandoverMark() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

HandoverMark::Mark HandoverMark::read() const {
  Mark mark;
  char bytes[sizeof mark.seq + sizeof mark.received_at_us] = {};
  if (::pread(fd_, bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    return {};  // new, or torn: nothing to compare against
  }
  std::memcpy(&mark.seq, bytes, sizeof mark.seq);
  std::memcpy(&mark.received_at_us, bytes + sizeof mark.seq, sizeof mark.received_at_us);
  return mark;
}

void HandoverMark::write(Mark mark) {
  char bytes[sizeof mark.seq + sizeof mark.received_at_us];
  std::memcpy(bytes, &mark.seq, sizeof mark.seq);
  std::memcpy(bytes + sizeof mark.seq, &mark.received_at_us, sizeof mark.received_at_us);
  if (::pwrite(fd_, bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    throw std::runtime_error("cannot write " + path_.string() + ": " + std::strerror(errno));
  }
}

}  // namespace statesink::ingest
