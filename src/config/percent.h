#pragma once

#include <string>
#include <string_view>

namespace statesink::config {

// Decodes %XX sequences; `what` names the URL part in the UsageError thrown
// for a malformed sequence. '+' is left alone: URLs here are not form data.
std::string percent_decode(std::string_view text, std::string_view what);

// Encodes everything outside the unreserved set, so a redacted URL can be
// pasted back and parses to the same values.
std::string percent_encode(std::string_view text);

}  // namespace statesink::config
