#include "cli/app.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "cli/context.h"
#include "cli/ingest_command.h"
#include "cli/migrate_command.h"
#include "cli/prune_command.h"
#include "cli/query_command.h"
#include "cli/simulate_command.h"
#include "config/url.h"
#include "db/error.h"
#include "util/error.h"
#include "version.h"

namespace statesink::cli {
namespace {

constexpr int kFailure = 1;
constexpr int kUsage = 2;

// What to do about the most common database errors, for the one-line message.
std::string advice(const db::DbError& e) {
  switch (e.code()) {
    case 1045:
      return "check the user name and the password (in the URL or STATESINK_DB_PASSWORD)";
    case 1049:
      return "create the database (CREATE DATABASE name CHARACTER SET utf8mb4) or fix its name "
             "in the URL";
    case 1044:
    case 1142:
      return "grant the account the privileges it needs (see sql/grants.sql)";
    case 1146:
      return "create or upgrade the schema with statesink migrate up";
    case 1419:
      return "creating triggers with binary logging on needs SUPER or "
             "log_bin_trust_function_creators=1 on the server";
    default:
      break;
  }
  if (e.connection_lost()) {
    return "check that the server is running and that --db / STATESINK_DB points at it";
  }
  return "";
}

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
    const std::string hint = advice(e);
    print_error(context.err, std::string(e.what()) + (hint.empty() ? "" : "; " + hint));
    return kFailure;
  } catch (const std::exception& e) {
    print_error(context.err, e.what());
    return kFailure;
  }
}

}  // namespace statesink::cli
