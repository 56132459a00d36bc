#include "cli/query_command.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "cli/output_format.h"
#include "config/settings.h"
#include "db/connection.h"
#include "history/entity_lookup.h"
#include "history/fact_queries.h"
#include "util/error.h"
#include "util/time_arg.h"

namespace statesink::cli {
namespace {

struct QueryFlags {
  std::optional<std::string> db;
  std::string entity;
  std::optional<std::string> base_topic;
  std::optional<std::string> attribute;
  std::string format = "table";
  std::uint32_t count = 10;
  bool current = false;
  std::string from;
  std::string to = "now";
};

// Options that `latest` and `history` share, on each so that their --help shows them.
void add_common_options(CLI::App* command, QueryFlags& flags) {
  command
      ->add_option("ENTITY_ID", flags.entity,
                   "Entity id (sensor.kitchen_temperature), or BASE_TOPIC:ENTITY_ID when several "
                   "Home Assistant installations have it")
      ->required();
  command->add_option("--attribute", flags.attribute,
                      "Only this state of the entity: state, last_changed, or an attribute such "
                      "as brightness (default: all)");
  command->add_option("--base-topic", flags.base_topic,
                      "Base topic of the installation to read (instead of BASE_TOPIC:ENTITY_ID)");
  command->add_option("--format", flags.format, "table, json or csv")->capture_default_str();
  command->add_option("--db", flags.db,
                      "Database URL mysql://user[:password]@host[:port]/database "
                      "[env: STATESINK_DB]");
}

struct Target {
  db::Connection connection;
  history::EntityRef entity;
  std::vector<history::StateRef> states;
};

Target open_target(Context& context, const QueryFlags& flags) {
  db::Connection connection =
      db::Connection::open(config::resolve_db_url(flags.db, context.sources()));
  history::EntityRef entity = history::find_entity(connection, flags.entity, flags.base_topic);
  std::vector<history::StateRef> states = history::find_states(connection, entity, flags.attribute);
  return {std::move(connection), std::move(entity), std::move(states)};
}

void print(Context& context, const ResultTable& result, OutputFormat format,
           const std::string& when_empty) {
  // An empty table would be a bare header; a sentence says more. JSON and
  // CSV stay parseable instead.
  if (format == OutputFormat::table && result.rows.empty()) {
    context.out << when_empty << "\n";
    return;
  }
  write_result(context.out, result, format);
}

void run_latest(Context& context, const QueryFlags& flags) {
  const OutputFormat format = parse_output_format(flags.format);
  Target target = open_target(context, flags);
  const std::string what =
      target.entity.qualified() + (flags.attribute ? " " + *flags.attribute : "");
  if (flags.current) {
    print(context, history::current_values(target.connection, target.states), format,
          "no current value for " + what);
  } else {
    print(context, history::latest_facts(target.connection, target.states, flags.count), format,
          "no facts recorded for " + what);
  }
}

void run_history(Context& context, const QueryFlags& flags) {
  const OutputFormat format = parse_output_format(flags.format);
  const UtcTime now = utc_now();
  const UtcTime from = parse_time_arg(flags.from, "--from", now);
  const UtcTime to = parse_time_arg(flags.to, "--to", now);
  if (from > to) {
    throw UsageError("--from (" + format_sql_datetime(from) + ") is after --to (" +
                     format_sql_datetime(to) + ")");
  }
  Target target = open_target(context, flags);
  print(context, history::facts_between(target.connection, target.states, from, to), format,
        "no facts for " + target.entity.qualified() +
            (flags.attribute ? " " + *flags.attribute : "") + " between " +
            format_sql_datetime(from) + " and " + format_sql_datetime(to) + " UTC");
}

}  // namespace

void add_query_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<QueryFlags>();
  CLI::App* query = app.add_subcommand("query", "Show one entity's values from the database");
  query->require_subcommand(1);

  CLI::App* latest = query->add_subcommand(
      "latest",
      "The entity's newest facts (changes of value), newest first: columns recorded_at, "
      "attribute, value, num_value. With --current, the value each of its attributes has now "
      "instead: attribute, value, num_value, last_changed (when it took this value), last_seen "
      "(when a message last repeated it) and times_seen (messages with this value since)");
  add_common_options(latest, *flags);
  CLI::Option* count =
      latest->add_option("-n,--count", flags->count, "How many facts, across the attributes shown")
          ->check(CLI::Range(1, 100000))
          ->capture_default_str();
  latest
      ->add_flag("--current", flags->current,
                 "Show the current value of every attribute instead of the newest facts")
      ->excludes(count);
  latest->callback([&context, flags] { run_latest(context, *flags); });

  CLI::App* history = query->add_subcommand(
      "history",
      "The entity's facts with FROM <= recorded_at <= TO, oldest first: columns recorded_at, "
      "attribute, value, num_value");
  add_common_options(history, *flags);
  history->add_option("--from", flags->from, "Start time (see TIME below)")->required();
  history->add_option("--to", flags->to, "End time (see TIME below)")->capture_default_str();
  history->footer("TIME: " + std::string(kTimeForms) +
                  ". Times are UTC unless they carry an offset; output times are UTC "
                  "(JSON: ISO-8601 with Z).");
  history->callback([&context, flags] { run_history(context, *flags); });

  latest->footer(
      "Exit status: 0 success, 1 unknown entity or attribute or a database error, 2 usage "
      "error (also an entity id that several base topics have).");
  history->footer(history->get_footer() +
                  "\nExit status: 0 success, 1 unknown entity or attribute or a database "
                  "error, 2 usage error (also an entity id that several base topics have).");
}

}  // namespace statesink::cli
