#include "cli/app.h"

namespace statesink::cli {
int run(int, char**) { return 0; }
}  // namespace statesink::cli
