#pragma once

#include <CLI/CLI.hpp>

#include "cli/context.h"

namespace statesink::cli {

// statesink partitions status|split|convert: the partitions of `messages`.
void add_partitions_command(CLI::App& app, Context& context);

}  // namespace statesink::cli
