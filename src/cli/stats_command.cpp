#include "cli/stats_command.h"

#include <memory>
#include <optional>
#include <string>

#include "cli/output_sections.h"
#include "config/settings.h"
#include "db/connection.h"
#include "history/database_stats.h"

namespace statesink::cli {
namespace {

struct StatsFlags {
  std::optional<std::string> db;
  std::string format = "table";
};

constexpr std::size_t kTop = 20;

void run_stats(Context& context, const StatsFlags& flags) {
  const OutputFormat format = parse_output_format(flags.format);
  db::Connection connection =
      db::Connection::open(config::resolve_db_url(flags.db, context.sources()));
  history::DatabaseStats stats = history::collect_stats(connection, kTop);
  const std::string top = std::to_string(kTop);
  write_sections(
      context.out,
      {{"summary", "Messages and facts (last 24 hours)", std::move(stats.summary), true},
       {"tables", "Tables", std::move(stats.tables), false},
       {"top_entities_by_messages", "The " + top + " entities with most messages (last 24 hours)",
        std::move(stats.top_by_messages), false},
       {"top_entities_by_facts", "The " + top + " entities with most facts (last 24 hours)",
        std::move(stats.top_by_facts), false}},
      format);
}

}  // namespace

void add_stats_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<StatsFlags>();
  CLI::App* stats = app.add_subcommand(
      "stats",
      "What fills the database: the oldest and newest message, messages, facts, rejected "
      "messages and repeats (messages that added no fact) in the last 24 hours, size and "
      "estimated rows of every table, and the 20 entities with most messages and most facts in "
      "the last 24 hours with their share of the total");
  stats->add_option("--format", flags->format, "table, json or csv")->capture_default_str();
  stats->add_option("--db", flags->db,
                    "Database URL mysql://user[:password]@host[:port]/database "
                    "[env: STATESINK_DB]");
  stats->footer(
      "Sections: summary, tables, top_entities_by_messages, top_entities_by_facts (JSON keys; "
      "CSV title lines). Exit status: 0 success, 1 database error, 2 usage error.");
  stats->callback([&context, flags] { run_stats(context, *flags); });
}

}  // namespace statesink::cli
