#pragma once

#include <CLI/CLI.hpp>

#include "cli/context.h"

namespace statesink::cli {

// statesink prune --older-than DURATION: raw-message retention.
void add_prune_command(CLI::App& app, Context& context);

}  // namespace statesink::cli
