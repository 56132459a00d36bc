#include "cli/app.h"

int main(int argc, char** argv) { return statesink::cli::run(argc, argv); }
