#include "cli/context.h"

namespace statesink::cli {

const config::SettingSources& Context::sources() {
  if (!sources_) {
    sources_ = config::SettingSources::from_process();
  }
  return *sources_;
}

}  // namespace statesink::cli
