#include "ingest/dead_letter.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "util/sql_time.h"

namespace statesink::ingest {

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(bytes.data()),
                                      static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

DeadLetterFile::DeadLetterFile(std::filesystem::path path) : path_(std::move(path)) {}

void DeadLetterFile::write(const spool::Record& record, std::string_view reason) {
  nlohmann::json line = {
      {"received_at", format_sql_datetime_us(record.received_at_us)},
      {"topic", record.topic},
      {"qos", record.qos},
      {"retained", record.retain},
      {"payload_bytes", record.payload.size()},
      {"payload_base64", base64(record.payload)},
      {"reason", std::string(reason)},
  };
  // Invalid UTF-8 in the topic is replaced rather than refused: the payload
  // bytes, which matter, are exact in base64.
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    throw std::runtime_error("cannot open the dead-letter file " + path_.string() + ": " +
                             std::strerror(errno) + " (check the spool directory's permissions)");
  }
  std::size_t done = 0;
  int error = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      error = errno;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (error == 0 && ::fdatasync(fd) != 0) {
    error = errno;
  }
  ::close(fd);
  if (error != 0) {
    throw std::runtime_error("cannot write the dead-letter file " + path_.string() + ": " +
                             std::strerror(error) + " (free disk space)");
  }
}

}  // namespace statesink::ingest
