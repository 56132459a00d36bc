#include "ingest/spool_identity.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>

#include "spool/layout.h"

namespace statesink::ingest {
namespace {

std::string random_id() {
  std::random_device device;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 32; ++i) {
    id += kHex[device() % 16];
  }
  return id;
}

bool valid_id(const std::string& id) { return id.size() >= 8 && id.size() <= 64; }

}  // namespace

std::optional<std::string> existing_spool_identity(const std::filesystem::path& directory) {
  std::ifstream in(spool::Layout{directory}.id());
  std::string id;
  if (in && std::getline(in, id) && valid_id(id)) {
    return id;
  }
  return std::nullopt;
}

std::string spool_identity(const std::filesystem::path& directory) {
  const auto path = spool::Layout{directory}.id();
  if (std::ifstream in(path); in) {
    std::string id;
    std::getline(in, id);
    if (valid_id(id)) {
      return id;
    }
    throw std::runtime_error(path.string() +
                             " is damaged: it should hold one id of 8 to 64 characters. "
                             "Restore it, or remove it only together with the spool's segments");
  }
  const std::string id = random_id();
  const auto temporary = directory / "spool-id.new";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << id << "\n";
    out.flush();
    if (!out) {
      throw std::runtime_error("cannot write " + temporary.string() + ": " + std::strerror(errno));
    }
  }
  // Synced and renamed so that a crash leaves either no id or a whole one.
  const int fd = ::open(temporary.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  std::filesystem::rename(temporary, path);
  const int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return id;
}

}  // namespace statesink::ingest
