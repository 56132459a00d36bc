#pragma once

#include <CLI/CLI.hpp>

#include "cli/context.h"

namespace statesink::cli {

// statesink ingest: the long-running subscriber.
void add_ingest_command(CLI::App& app, Context& context);

}  // namespace statesink::cli
