#include "spool/segment.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "spool/byte_order.h"

namespace statesink::spool {
namespace {

constexpr std::string_view kSuffix = ".seg";
constexpr std::size_t kDigits = 20;  // any uint64_t

}  // namespace

std::string segment_file_name(std::uint64_t first_seq) {
  char name[32];
  std::snprintf(name, sizeof name, "%020llu.seg", static_cast<unsigned long long>(first_seq));
  return name;
}

std::optional<std::uint64_t> parse_segment_file_name(std::string_view name) {
  if (name.size() != kDigits + kSuffix.size() || !name.ends_with(kSuffix)) {
    return std::nullopt;
  }
  const std::string_view digits = name.substr(0, kDigits);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc() || end != digits.data() + digits.size() || value == 0) {
    return std::nullopt;
  }
  return value;
}

std::array<char, kSegmentHeaderSize> segment_header(std::uint64_t first_seq) {
  std::array<char, kSegmentHeaderSize> header{};
  std::copy(kSegmentMarker.begin(), kSegmentMarker.end(), header.begin());
  put_le<std::uint64_t>(header.data() + kSegmentMarker.size(), first_seq);
  return header;
}

const char* check_segment_header(std::span<const char> header, std::uint64_t first_seq) {
  if (!std::equal(kSegmentMarker.begin(), kSegmentMarker.end(), header.begin())) {
    return "not a spool segment (or an unknown format version)";
  }
  if (get_le<std::uint64_t>(header.data() + kSegmentMarker.size()) != first_seq) {
    return "the header's first sequence number does not match the file name";
  }
  return nullptr;
}

}  // namespace statesink::spool
