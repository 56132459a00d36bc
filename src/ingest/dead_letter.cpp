#include "ingest/dead_letter.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "ingest/spool_identity.h"
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

std::optional<std::string> base64_decode(std::string_view text) {
  // EVP_DecodeBlock lets through too much (surrounding blanks, "a==="), and
  // counts padding as zero bytes: the shape is checked here, the padding
  // taken off afterwards.
  std::size_t padding = 0;
  while (padding < text.size() && text[text.size() - 1 - padding] == '=') {
    ++padding;
  }
  if (text.size() % 4 != 0 || padding > 2) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < text.size() - padding; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (std::isalnum(c) == 0 && c != '+' && c != '/') {
      return std::nullopt;
    }
  }
  std::string out(3 * (text.size() / 4), '\0');
  const int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(text.data()),
                                      static_cast<int>(text.size()));
  if (written < 0) {
    return std::nullopt;
  }
  out.resize(static_cast<std::size_t>(written) - padding);
  return out;
}

DeadLetterFile::DeadLetterFile(std::filesystem::path path) : path_(std::move(path)) {}

DeadLetterFile::DeadLetterFile(std::filesystem::path path, std::string spool_id)
    : path_(std::move(path)), spool_id_(std::move(spool_id)) {}

void DeadLetterFile::write(const spool::Record& record, std::string_view reason) {
  if (!spool_id_) {
    spool_id_ = existing_spool_identity(path_.parent_path());
  }
  nlohmann::json line = {
      {"seq", record.seq},
      {"received_at", format_sql_datetime_us(record.received_at_us)},
      {"topic", record.topic},
      {"qos", record.qos},
      {"retained", record.retain},
      {"payload_bytes", record.payload.size()},
      {"payload_base64", base64(record.payload)},
      {"reason", std::string(reason)},
  };
  if (spool_id_) {
    line["spool_id"] = *spool_id_;
  }
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
