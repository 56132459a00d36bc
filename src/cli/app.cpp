#include "cli/app.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "cli/context.h"
#include "cli/dead_letter_command.h"
#include "cli/ingest_command.h"
#include "cli/migrate_command.h"
#include "cli/partitions_command.h"
#include "cli/prune_command.h"
#include "cli/query_command.h"
#include "cli/retention_command.h"
#include "cli/simulate_command.h"
#include "cli/statistics_command.h"
#include "cli/stats_command.h"
#include "config/url.h"
#include "db/error.h"
#include "util/error.h"
#include "version.h"

namespace statesink::cli {
namespace {

constexpr int kFailure = 1;
constexpr int kUsage = 2;

void print_error(std::ostream& err, const std::string& message) {
  err << "statesink: " << config::redact_urls(message) << "\n";
}

// Hides URL passwords given as flags from ps and /proc/PID/cmdline by
// rewriting the argument memory, as database clients do. Until this runs,
// right after start, the password is visible: STATESINK_DB_PASSWORD avoids that.
void scrub_arguments(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::size_t length = std::strlen(argv[i]);
    const std::string shown = config::redact_urls(argv[i]);
    if (shown == argv[i]) {
      continue;
    }
    if (shown.size() <= length) {
      std::memcpy(argv[i], shown.data(), shown.size());
      std::memset(argv[i] + shown.size(), 0, length - shown.size());
    } else {
      // A password shorter than "***": mask it where it stands.
      char* colon = std::strchr(std::strstr(argv[i], "://") + 3, ':');
      char* at = std::strrchr(argv[i], '@');
      for (char* c = colon + 1; c < at; ++c) {
        *c = '*';
      }
    }
  }
}

}  // namespace

int run(int argc, char** argv) {
  Context context(std::cout, std::cerr);
  CLI::App app{"statesink records Home Assistant MQTT statestream messages into MySQL/MariaDB",
               "statesink"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every sub-command");
  app.add_subcommand("version", "Print the version")->callback([&context] {
    context.out << "statesink " << kVersion << "\n";
  });
  add_migrate_command(app, context);
  add_ingest_command(app, context);
  add_query_command(app, context);
  add_prune_command(app, context);
  add_partitions_command(app, context);
  add_retention_command(app, context);
  add_stats_command(app, context);
  add_dead_letter_command(app, context);
  add_statistics_command(app, context);
  add_simulate_command(app, context);

  try {
    // CLI11 takes the arguments in reverse order.
    std::vector<std::string> arguments(argv + 1, argv + argc);
    std::reverse(arguments.begin(), arguments.end());
    scrub_arguments(argc, argv);
    app.parse(arguments);
    return 0;
  } catch (const CLI::ParseError& e) {
    // --help and --help-all arrive as "errors" with a success exit code.
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      return app.exit(e, context.out, context.err);
    }
    print_error(context.err, std::string(e.what()) + " (run with --help for usage)");
    return kUsage;
  } catch (const UsageError& e) {
    print_error(context.err, e.what());
    return kUsage;
  } catch (const db::DbError& e) {
    print_error(context.err, db::describe(e));
    return kFailure;
  } catch (const std::exception& e) {
    print_error(context.err, e.what());
    return kFailure;
  }
}

}  // namespace statesink::cli
