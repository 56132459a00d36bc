#pragma once

namespace statesink::cli {

// Parses the command line, runs the sub-command and returns the exit status:
// 0 success, 2 usage error, 1 any other failure (one line on stderr saying what
// failed and what to do).
int run(int argc, char** argv);

}  // namespace statesink::cli
