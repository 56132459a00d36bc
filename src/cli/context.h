#pragma once

#include <iosfwd>
#include <optional>

#include "config/settings.h"

namespace statesink::cli {

// What every sub-command shares: where settings come from and where output goes.
class Context {
 public:
  Context(std::ostream& out, std::ostream& err) : out(out), err(err) {}

  // The environment and ./.env, read on first use so that --help and version
  // work even where a .env file is malformed.
  const config::SettingSources& sources();

  std::ostream& out;
  std::ostream& err;

 private:
  std::optional<config::SettingSources> sources_;
};

}  // namespace statesink::cli
