#include "spool/content_hash.h"

namespace statesink::spool {
namespace {

// FNV-1a: fast on short strings, stable by definition, no dependency. It only
// has to tell a broker's resend from a different message with the same
// packet id, not resist an adversary.
constexpr std::uint64_t kOffset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kPrime = 0x100000001b3ULL;

std::uint64_t mix(std::uint64_t hash, std::string_view bytes) {
  for (const char c : bytes) {
    hash = (hash ^ static_cast<unsigned char>(c)) * kPrime;
  }
  return hash;
}

std::uint64_t mix_length(std::uint64_t hash, std::uint64_t length) {
  for (int i = 0; i < 8; ++i) {
    hash = (hash ^ ((length >> (8 * i)) & 0xFF)) * kPrime;
  }
  return hash;
}

}  // namespace

std::uint64_t content_hash(std::string_view topic, std::string_view payload) {
  std::uint64_t hash = mix_length(kOffset, topic.size());
  hash = mix(hash, topic);
  hash = mix_length(hash, payload.size());
  return mix(hash, payload);
}

}  // namespace statesink::spool
