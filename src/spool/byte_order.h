#pragma once

#include <cstdint>

// Fixed little-endian integers for the spool's file formats, written byte by
// byte so the files read the same on any machine.
namespace statesink::spool {

template <typename T>
void put_le(char* out, T value) {
  for (unsigned i = 0; i < sizeof(T); ++i) {
    out[i] = static_cast<char>(static_cast<std::uint64_t>(value) >> (8 * i));
  }
}

template <typename T>
T get_le(const char* in) {
  std::uint64_t value = 0;
  for (unsigned i = 0; i < sizeof(T); ++i) {
    value |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  }
  return static_cast<T>(value);
}

}  // namespace statesink::spool
