#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace statesink::spool {

// A segment file starts with a header: a marker with the format version, then
// the sequence number of its first record (u64, little-endian), which is also
// its name ("00000000000000000042.seg"), so names sort in sequence order.
inline constexpr std::size_t kSegmentHeaderSize = 16;
inline constexpr std::array<char, 8> kSegmentMarker = {'\xF5', 'S', 'S', 'P', 'O', 'O', 'L', '1'};

std::string segment_file_name(std::uint64_t first_seq);
// The first sequence number, or nullopt for any other file name.
std::optional<std::uint64_t> parse_segment_file_name(std::string_view name);

std::array<char, kSegmentHeaderSize> segment_header(std::uint64_t first_seq);
// What is wrong with a segment header (kSegmentHeaderSize bytes), or nullptr.
const char* check_segment_header(std::span<const char> header, std::uint64_t first_seq);

}  // namespace statesink::spool
