#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

namespace statesink::spool {

// An open file descriptor, closed when the object goes away. Every failure
// throws SpoolError naming the file; interrupted calls are retried.
class File {
 public:
  // `flags` as for open(2); O_CLOEXEC is always added.
  static File open(const std::filesystem::path& path, int flags, unsigned mode = 0600);

  File() = default;
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File();

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const std::filesystem::path& path() const { return path_; }

  // Reads up to out.size() bytes at `offset`; fewer only at the end of the file.
  std::size_t read_at(std::uint64_t offset, std::span<char> out) const;
  // Writes the pieces back to back from `offset`, all of them (at most 8 pieces).
  void write_at(std::uint64_t offset, std::span<const std::string_view> pieces);
  void sync_data();
  void truncate(std::uint64_t size);
  std::uint64_t size() const;

 private:
  File(int fd, std::filesystem::path path);
  void close() noexcept;

  int fd_ = -1;
  std::filesystem::path path_;
};

// fsync() of a directory, so that files created, renamed or removed in it stay
// so after a power cut.
void sync_directory(const std::filesystem::path& dir);

}  // namespace statesink::spool
