#include "cli/query_command.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "cli/entity_lookup.h"
#include "cli/fact_queries.h"
#include "cli/output_format.h"
#include "cli/time_arg.h"
#include "config/settings.h"
#include "db/connection.h"
#include "util/error.h"

namespace statesink::cli {
namespace {

struct QueryOptions {
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
void add_common_options(CLI::App* command, QueryOptions& options) {
  command
      ->add_option("ENTITY_ID", options.entity,
                   "Entity id (sensor.kitchen_temperature), or BASE_TOPIC:ENTITY_ID when several "
                   "Home Assistant installations have it")
      ->required();
  command->add_option("--attribute", options.attribute,
                      "Only this state of the entity: state, last_changed, or an attribute such "
                      "as brightness (default: all)");
  command->add_option("--base-topic", options.base_topic,
                      "Base topic of the installation to read (instead of BASE_TOPIC:ENTITY_ID)");
  command->add_option("--format", options.format, "table, json or csv")->capture_default_str();
  command->add_option("--db", options.db,
                      "Database URL mysql://user[:password]@host[:port]/database "
                      "[env: STATESINK_DB]");
}

struct Target {
  db::Connection connection;
  EntityRef entity;
  std::vector<StateRef> states;
};

Target open_target(Context& context, const QueryOptions& options) {
  db::Connection connection =
      db::Connection::open(config::resolve_db_url(options.db, context.sources()));
  EntityRef entity = find_entity(connection, options.entity, options.base_topic);
  std::vector<StateRef> states = find_states(connection, entity, options.attribute);
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

void run_latest(Context& context, const QueryOptions& options) {
  const OutputFormat format = parse_output_format(options.format);
  Target target = open_target(context, options);
  const std::string what =
      target.entity.qualified() + (options.attribute ? " " + *options.attribute : "");
  if (options.current) {
    print(context, current_values(target.connection, target.states), format,
          "no current value for " + what);
  } else {
    print(context, latest_facts(target.connection, target.states, options.count), format,
          "no facts recorded for " + what);
  }
}

void run_history(Context& context, const QueryOptions& options) {
  const OutputFormat format = parse_output_format(options.format);
  const UtcTime now = utc_now();
  const UtcTime from = parse_time_arg(options.from, "--from", now);
  const UtcTime to = parse_time_arg(options.to, "--to", now);
  if (from > to) {
    throw UsageError("--from (" + format_sql_datetime(from) + ") is after --to (" +
                     format_sql_datetime(to) + ")");
  }
  Target target = open_target(context, options);
  print(context, facts_between(target.connection, target.states, from, to), format,
        "no facts for " + target.entity.qualified() +
            (options.attribute ? " " + *options.attribute : "") + " between " +
            format_sql_datetime(from) + " and " + format_sql_datetime(to) + " UTC");
}

}  // namespace

void add_query_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<QueryOptions>();
  CLI::App* query = app.add_subcommand("query", "Show one entity's values from the database");
  query->require_subcommand(1);

  CLI::App* latest = query->add_subcommand(
      "latest",
      "The entity's newest facts (changes of value), newest first: columns recorded_at, "
      "attribute, value, num_value. With --current, the value each of its attributes has now "
      "instead: attribute, value, num_value, last_changed (when it took this value), last_seen "
      "(when a message last repeated it) and times_seen (messages with this value since)");
  add_common_options(latest, *options);
  CLI::Option* count =
      latest
          ->add_option("-n,--count", options->count, "How many facts, across the attributes shown")
          ->check(CLI::Range(1, 100000))
          ->capture_default_str();
  latest
      ->add_flag("--current", options->current,
                 "Show the current value of every attribute instead of the newest facts")
      ->excludes(count);
  latest->callback([&context, options] { run_latest(context, *options); });

  CLI::App* history = query->add_subcommand(
      "history",
      "The entity's facts with FROM <= recorded_at <= TO, oldest first: columns recorded_at, "
      "attribute, value, num_value");
  add_common_options(history, *options);
  history->add_option("--from", options->from, "Start time (see TIME below)")->required();
  history->add_option("--to", options->to, "End time (see TIME below)")->capture_default_str();
  history->footer("TIME: " + std::string(kTimeForms) +
                  ". Times are UTC unless they carry an offset; output times are UTC "
                  "(JSON: ISO-8601 with Z).");
  history->callback([&context, options] { run_history(context, *options); });

  latest->footer(
      "Exit status: 0 success, 1 unknown entity or attribute or a database error, 2 usage "
      "error (also an entity id that several base topics have).");
  history->footer(history->get_footer() +
                  "\nExit status: 0 success, 1 unknown entity or attribute or a database "
                  "error, 2 usage error (also an entity id that several base topics have).");
}

}  // namespace statesink::cli
