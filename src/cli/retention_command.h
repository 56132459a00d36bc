#pragma once

#include <CLI/CLI.hpp>

#include "cli/context.h"

namespace statesink::cli {

// statesink retention list|set|remove: per-entity retention rules for facts,
// which `statesink prune` applies.
void add_retention_command(CLI::App& app, Context& context);

}  // namespace statesink::cli
