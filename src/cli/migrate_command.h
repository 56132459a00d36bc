#pragma once

#include <CLI/CLI.hpp>

#include "cli/context.h"

namespace statesink::cli {

// statesink migrate status|up|down|verify|new|forget
void add_migrate_command(CLI::App& app, Context& context);

}  // namespace statesink::cli
