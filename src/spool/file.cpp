#include "spool/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <stdexcept>
#include <utility>

#include "spool/error.h"

namespace statesink::spool {

File File::open(const std::filesystem::path& path, int flags, unsigned mode) {
  int fd = -1;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, static_cast<mode_t>(mode));
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    throw_io_error("open", path, errno);
  }
  return File(fd, path);
}

File::File(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}

File::File(File&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

File::~File() { close(); }

void File::close() noexcept {
  // A close() error says nothing about durability (sync_data() does), and a
  // retry after EINTR could close a descriptor another thread just opened.
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

std::size_t File::read_at(std::uint64_t offset, std::span<char> out) const {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n =
        ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw_io_error("read", path_, errno);
    }
    if (n == 0) {
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  return done;
}

void File::write_at(std::uint64_t offset, std::span<const std::string_view> pieces) {
  std::array<iovec, 8> vectors{};
  if (pieces.size() > vectors.size()) {
    throw std::logic_error("File::write_at takes at most 8 pieces");
  }
  std::size_t count = 0;
  for (const std::string_view piece : pieces) {
    if (!piece.empty()) {
      // iovec is shared with readv(), hence the non-const pointer; pwritev only reads it.
      vectors[count++] = {const_cast<char*>(piece.data()), piece.size()};
    }
  }
  std::size_t first = 0;
  while (first < count) {
    const ssize_t n = ::pwritev(fd_, vectors.data() + first, static_cast<int>(count - first),
                                static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw_io_error("write to", path_, errno);
    }
    if (n == 0) {
      throw_io_error("write to", path_, EIO);
    }
    offset += static_cast<std::uint64_t>(n);
    auto written = static_cast<std::size_t>(n);
    while (first < count && written >= vectors[first].iov_len) {
      written -= vectors[first].iov_len;
      ++first;
    }
    if (first < count) {
      vectors[first].iov_base = static_cast<char*>(vectors[first].iov_base) + written;
      vectors[first].iov_len -= written;
    }
  }
}

void File::sync_data() {
  while (::fdatasync(fd_) != 0) {
    if (errno != EINTR) {
      throw_io_error("sync", path_, errno);
    }
  }
}

void File::truncate(std::uint64_t size) {
  while (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    if (errno != EINTR) {
      throw_io_error("truncate", path_, errno);
    }
  }
}

std::uint64_t File::size() const {
  struct stat info {};
  if (::fstat(fd_, &info) != 0) {
    throw_io_error("stat", path_, errno);
  }
  return static_cast<std::uint64_t>(info.st_size);
}

void sync_directory(const std::filesystem::path& dir) {
  File file = File::open(dir, O_RDONLY | O_DIRECTORY);
  while (::fsync(file.fd()) != 0) {
    if (errno != EINTR) {
      throw_io_error("sync the directory", dir, errno);
    }
  }
}

}  // namespace statesink::spool
