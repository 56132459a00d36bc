#include "ingest/packet_id_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace statesink::ingest {

struct PacketIdFile::Header {
  std::array<char, 8> magic;
  std::uint64_t reserved0;
  std::uint64_t last_seq;
  std::array<std::uint64_t, 5> reserved;
};

namespace {

constexpr std::array<char, 8> kMagic = {'S', 'S', 'P', 'K', 'T', 'I', 'D', '1'};
constexpr std::size_t kSlots = 65536;
constexpr std::size_t kSlotBytes = 16;
constexpr std::size_t kHeaderBytes = 64;
constexpr std::size_t kFileBytes = kHeaderBytes + kSlots * kSlotBytes;

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& path) {
  throw std::runtime_error("cannot " + what + " " + path.string() + ": " + std::strerror(errno) +
                           "; check the spool directory's permissions and free space");
}

}  // namespace

PacketIdFile::PacketIdFile(std::filesystem::path path) : path_(std::move(path)) {
  static_assert(sizeof(Header) == kHeaderBytes);
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    fail("open", path_);
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    ::close(fd_);
    fail("read the size of", path_);
  }
  bool fresh = st.st_size == 0;
  if (!fresh && static_cast<std::size_t>(st.st_size) != kFileBytes) {
    reset_reason_ = "it had the wrong size";
    fresh = true;
  }
  if (fresh && (::ftruncate(fd_, 0) != 0 || ::ftruncate(fd_, kFileBytes) != 0)) {
    ::close(fd_);
    fail("size", path_);
  }
  map_ = ::mmap(nullptr, kFileBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (map_ == MAP_FAILED) {
    map_ = nullptr;
    ::close(fd_);
    fail("map", path_);
  }
  size_ = kFileBytes;
  if (!fresh && header().magic != kMagic) {
    reset_reason_ = "it is not a packet id file of this version";
    std::memset(map_, 0, size_);
    fresh = true;
  }
  if (fresh) {
    header().magic = kMagic;
  }
}

PacketIdFile::~PacketIdFile() {
  if (map_ != nullptr) {
    ::munmap(map_, size_);
  }
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

PacketIdFile::Header& PacketIdFile::header() const { return *static_cast<Header*>(map_); }

std::uint64_t* PacketIdFile::slot(std::uint16_t mid) const {
  return reinterpret_cast<std::uint64_t*>(static_cast<char*>(map_) + kHeaderBytes +
                                          std::size_t{mid} * kSlotBytes);
}

PacketIdFile::Entry PacketIdFile::get(std::uint16_t mid) const {
  const std::uint64_t* s = slot(mid);
  return {s[0], s[1]};
}

void PacketIdFile::set(std::uint16_t mid, Entry entry) {
  std::uint64_t* s = slot(mid);
  s[0] = entry.content;
  s[1] = entry.seq;
  if (entry.seq > header().last_seq) {
    header().last_seq = entry.seq;
  }
}

std::uint64_t PacketIdFile::last_seq() const { return header().last_seq; }

}  // namespace statesink::ingest
