#pragma once

#include <CLI/CLI.hpp>

#include "cli/context.h"

namespace statesink::cli {

// statesink dead-letter list|replay: what the ingester set aside, and putting
// it back into `messages` exactly once.
void add_dead_letter_command(CLI::App& app, Context& context);

}  // namespace statesink::cli
