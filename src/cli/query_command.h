#pragma once

#include <CLI/CLI.hpp>

#include "cli/context.h"

namespace statesink::cli {

// statesink query latest|history: one entity's values, as a table, JSON or CSV.
void add_query_command(CLI::App& app, Context& context);

}  // namespace statesink::cli
