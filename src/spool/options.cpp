#include "spool/options.h"

#include <string>

#include "util/error.h"

namespace statesink::spool {

const char* to_string(SyncMode mode) {
  switch (mode) {
    case SyncMode::every:
      return "every";
    case SyncMode::interval:
      return "interval";
    case SyncMode::never:
      return "never";
  }
  return "unknown";
}

SyncMode parse_sync_mode(std::string_view text) {
  for (const SyncMode mode : {SyncMode::every, SyncMode::interval, SyncMode::never}) {
    if (text == to_string(mode)) {
      return mode;
    }
  }
  throw UsageError("unknown spool sync mode '" + std::string(text) +
                   "': use every, interval or never");
}

}  // namespace statesink::spool
