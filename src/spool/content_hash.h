#pragma once

#include <cstdint>
#include <string_view>

namespace statesink::spool {

// A 64-bit hash of a message's topic and payload that is the same in every
// process and build, so it can be kept on disk and compared after a restart
// (std::hash promises neither). ("ab", "c") and ("a", "bc") hash apart.
std::uint64_t content_hash(std::string_view topic, std::string_view payload);

}  // namespace statesink::spool
