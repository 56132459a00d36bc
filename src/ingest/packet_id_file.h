#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>

namespace statesink::ingest {

// For each of the 65,536 MQTT packet ids, the latest QoS 1/2 message received
// with that id: its content hash and spool sequence number.
//
// The file lives in the spool directory and is memory-mapped: an update is in
// the kernel's page cache when the call returns, so it survives a crash of the
// process like a spool append does. A broker may reuse a packet id only after
// it has processed the PUBACK of the message that held it, so an entry is
// never overwritten while the broker could still send its message again.
class PacketIdFile {
 public:
  struct Entry {
    std::uint64_t content = 0;
    std::uint64_t seq = 0;  // 0: no message seen with this id
  };

  // Opens or creates `path`. A file of the wrong size or format is replaced by
  // an empty one; `reset_reason()` then says why (what was in it is lost, so
  // resends of messages received before may be stored twice).
  explicit PacketIdFile(std::filesystem::path path);
  ~PacketIdFile();
  PacketIdFile(const PacketIdFile&) = delete;
  PacketIdFile& operator=(const PacketIdFile&) = delete;

  Entry get(std::uint16_t mid) const;
  void set(std::uint16_t mid, Entry entry);

  // The highest sequence number set().
  std::uint64_t last_seq() const;

  const std::filesystem::path& path() const { return path_; }
  const char* reset_reason() const { return reset_reason_; }

 private:
  struct Header;
  Header& header() const;
  std::uint64_t* slot(std::uint16_t mid) const;

  std::filesystem::path path_;
  int fd_ = -1;
  void* map_ = nullptr;
  std::size_t size_ = 0;
  const char* reset_reason_ = nullptr;
};

}  // namespace statesink::ingest
