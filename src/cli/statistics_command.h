#pragma once

#include <CLI/CLI.hpp>

#include "cli/context.h"

namespace statesink::cli {

// statesink statistics update|rebuild: the 5-minute and hourly statistics.
void add_statistics_command(CLI::App& app, Context& context);

}  // namespace statesink::cli
