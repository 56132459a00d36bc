#include "ingest/dead_letter_reader.h"

#include <openssl/sha.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "ingest/dead_letter.h"

namespace statesink::ingest {
namespace {

using Json = nlohmann::json;

constexpr std::uint64_t kContentSeqBase = std::uint64_t{1} << 63;

// "2024-05-01 12:00:03[.512345]": what the writer produces and the server
// takes as a DATETIME(6) parameter.
bool is_sql_datetime(const std::string& text) {
  static constexpr std::string_view kShape = "dddd-dd-dd dd:dd:dd";
  if (text.size() < kShape.size() || text.size() == kShape.size() + 1 ||
      text.size() > kShape.size() + 7) {
    return false;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char expected = i < kShape.size() ? kShape[i] : (i == kShape.size() ? '.' : 'd');
    const bool digit = std::isdigit(static_cast<unsigned char>(text[i])) != 0;
    if (expected == 'd' ? !digit : text[i] != expected) {
      return false;
    }
  }
  return true;
}

std::uint64_t content_seq(const DeadLetter& letter) {
  std::string content = letter.received_at + '\0' + letter.topic + '\0' +
                        std::to_string(letter.qos) + (letter.retained ? "r" : "-") + '\0' +
                        letter.payload;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(content.data()), content.size(), digest);
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) {
    value = (value << 8) | digest[i];
  }
  return value | kContentSeqBase;
}

// Throws std::runtime_error naming what is wrong with the line.
DeadLetter decode(const Json& json, const std::optional<std::string>& fallback_spool_id) {
  if (!json.is_object()) {
    throw std::runtime_error("not a JSON object");
  }
  auto field = [&](const char* name, Json::value_t type) -> const Json* {
    const auto it = json.find(name);
    if (it == json.end()) {
      return nullptr;
    }
    // Any unsigned JSON number is number_unsigned; negative ones are not.
    if (it->type() != type) {
      const char* wanted = type == Json::value_t::string    ? "text"
                           : type == Json::value_t::boolean ? "true or false"
                                                            : "a whole number";
      throw std::runtime_error(std::string("\"") + name + "\" is not " + wanted);
    }
    return &*it;
  };
  auto required = [&](const char* name, Json::value_t type) -> const Json& {
    const Json* value = field(name, type);
    if (value == nullptr) {
      throw std::runtime_error(std::string("\"") + name + "\" is missing");
    }
    return *value;
  };

  DeadLetter letter;
  letter.topic = required("topic", Json::value_t::string).get<std::string>();
  letter.received_at = required("received_at", Json::value_t::string).get<std::string>();
  if (!is_sql_datetime(letter.received_at)) {
    throw std::runtime_error("\"received_at\" is not a time like 2024-05-01 12:00:03.512345");
  }
  const auto qos = required("qos", Json::value_t::number_unsigned).get<std::uint64_t>();
  if (qos > 2) {
    throw std::runtime_error("\"qos\" is not 0, 1 or 2");
  }
  letter.qos = static_cast<std::uint8_t>(qos);
  letter.retained = required("retained", Json::value_t::boolean).get<bool>();
  const auto payload =
      base64_decode(required("payload_base64", Json::value_t::string).get<std::string>());
  if (!payload) {
    throw std::runtime_error("\"payload_base64\" is not base64");
  }
  letter.payload = *payload;
  if (const Json* bytes = field("payload_bytes", Json::value_t::number_unsigned);
      bytes != nullptr && bytes->get<std::uint64_t>() != letter.payload.size()) {
    throw std::runtime_error("the payload has " + std::to_string(letter.payload.size()) +
                             " bytes, but \"payload_bytes\" says " +
                             std::to_string(bytes->get<std::uint64_t>()));
  }
  if (const Json* reason = field("reason", Json::value_t::string)) {
    letter.reason = reason->get<std::string>();
  }
  if (const Json* seq = field("seq", Json::value_t::number_unsigned)) {
    letter.seq = seq->get<std::uint64_t>();
    if (*letter.seq == 0 || *letter.seq >= kContentSeqBase) {
      throw std::runtime_error("\"seq\" is not a spool sequence number");
    }
  }
  if (const Json* id = field("spool_id", Json::value_t::string)) {
    letter.spool_id = id->get<std::string>();
  } else if (fallback_spool_id) {
    letter.spool_id = *fallback_spool_id;
  } else {
    throw std::runtime_error(
        "no \"spool_id\", and no spool-id file beside the dead-letter file to take it from");
  }
  if (letter.spool_id.size() < 8 || letter.spool_id.size() > 64) {
    throw std::runtime_error("\"spool_id\" is not 8 to 64 characters");
  }
  letter.replay_seq = letter.seq ? *letter.seq : content_seq(letter);
  return letter;
}

}  // namespace

DeadLetters read_dead_letters(const std::filesystem::path& file,
                              const std::optional<std::string>& fallback_spool_id) {
  DeadLetters result;
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) {
      return result;
    }
    throw std::runtime_error("cannot read the dead-letter file " + file.string() + ": " +
                             std::strerror(errno));
  }
  result.file_exists = true;
  std::string text;
  for (std::size_t number = 1; std::getline(in, text); ++number) {
    if (text.empty()) {
      continue;
    }
    const Json json = Json::parse(text, nullptr, false);
    if (json.is_discarded()) {
      // A crash in the middle of a write can leave a cut-off last line.
      result.problems.push_back({number, "not valid JSON (a cut-off or edited line)"});
      continue;
    }
    try {
      DeadLetter letter = decode(json, fallback_spool_id);
      letter.line = number;
      result.letters.push_back(std::move(letter));
    } catch (const std::exception& e) {
      result.problems.push_back({number, e.what()});
    }
  }
  if (in.bad()) {
    throw std::runtime_error("cannot read the dead-letter file " + file.string() + ": " +
                             std::strerror(errno));
  }
  return result;
}

}  // namespace statesink::ingest
