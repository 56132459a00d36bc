#pragma once

#include <CLI/CLI.hpp>

#include "cli/context.h"

namespace statesink::cli {

// statesink simulate: publishes Home Assistant statestream traffic.
void add_simulate_command(CLI::App& app, Context& context);

}  // namespace statesink::cli
