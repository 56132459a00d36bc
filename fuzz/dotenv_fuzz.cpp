// Any bytes as a .env file: parsed, or refused with a usage error; never a
// crash, a stack overflow or an allocation the size of the expansion.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/dotenv.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // One variable from the environment, so ${HOME...} forms take both branches.
  const statesink::config::Lookup environment =
      [](const std::string& name) -> std::optional<std::string> {
    if (name == "HOME") {
      return std::string("/home/someone");
    }
    return std::nullopt;
  };
  try {
    statesink::config::parse_dotenv(text, environment);
  } catch (const statesink::UsageError&) {
  }
  return 0;
}
