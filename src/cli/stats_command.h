#pragma once

#include <CLI/CLI.hpp>

#include "cli/context.h"

namespace statesink::cli {

// statesink stats: what fills the database.
void add_stats_command(CLI::App& app, Context& context);

}  // namespace statesink::cli
