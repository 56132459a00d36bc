#include "cli/retention_command.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>

#include "cli/output_format.h"
#include "config/settings.h"
#include "db/connection.h"
#include "history/retention_age.h"
#include "history/retention_pattern.h"
#include "history/retention_rules.h"

namespace statesink::cli {
namespace {

struct RetentionFlags {
  std::optional<std::string> db;
  std::string format = "table";
  std::string pattern;
  std::string age;
};

db::Connection open(Context& context, const RetentionFlags& flags) {
  return db::Connection::open(config::resolve_db_url(flags.db, context.sources()));
}

std::size_t entities_governed(db::Connection& connection, const std::string& pattern) {
  for (const history::RulePlan& plan : history::plan_rules(connection)) {
    if (plan.rule.pattern == pattern) {
      return plan.entity_ids.size();
    }
  }
  return 0;
}

void run_list(Context& context, const RetentionFlags& flags) {
  const OutputFormat format = parse_output_format(flags.format);
  db::Connection connection = open(context, flags);
  ResultTable result;
  result.columns = {{"pattern", "pattern", ColumnKind::text},
                    {"max_age", "max age", ColumnKind::text},
                    {"max_age_seconds", "seconds", ColumnKind::integer},
                    {"entities", "entities", ColumnKind::integer},
                    {"updated_at", "updated at", ColumnKind::time}};
  for (const history::RulePlan& plan : history::plan_rules(connection)) {
    result.rows.push_back({plan.rule.pattern,
                           history::format_retention_age(plan.rule.max_age_seconds),
                           std::to_string(plan.rule.max_age_seconds),
                           std::to_string(plan.entity_ids.size()), plan.rule.updated_at});
  }
  if (format == OutputFormat::table && result.rows.empty()) {
    context.out << "no retention rules: facts are kept for ever "
                   "(statesink retention set PATTERN AGE adds one)\n";
    return;
  }
  write_result(context.out, result, format);
}

void run_set(Context& context, const RetentionFlags& flags) {
  // Both are checked before connecting, so a typo is a usage error (exit 2)
  // even where the database is out of reach.
  const history::RetentionPattern pattern = history::RetentionPattern::parse(flags.pattern);
  const std::int64_t seconds = history::parse_retention_age(flags.age);
  db::Connection connection = open(context, flags);
  const bool added = history::set_rule(connection, pattern.text(), seconds);
  context.out << (added ? "added" : "changed") << " rule " << pattern.text()
              << ": statesink prune deletes facts older than "
              << history::format_retention_age(seconds) << " of the "
              << entities_governed(connection, pattern.text())
              << " entit(ies) it governs now (current values are kept)\n";
}

void run_remove(Context& context, const RetentionFlags& flags) {
  db::Connection connection = open(context, flags);
  if (!history::remove_rule(connection, flags.pattern)) {
    throw std::runtime_error("no retention rule '" + flags.pattern +
                             "'; statesink retention list shows the rules");
  }
  context.out << "removed rule " << flags.pattern
              << ": the entities it governed keep their facts unless another rule matches them\n";
}

void add_db_option(CLI::App* command, RetentionFlags& flags) {
  command->add_option("--db", flags.db,
                      "Database URL mysql://user[:password]@host[:port]/database "
                      "[env: STATESINK_DB]");
}

}  // namespace

void add_retention_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<RetentionFlags>();
  CLI::App* retention = app.add_subcommand(
      "retention",
      "Per-entity retention of facts, kept in the database (retention_rules) so every host "
      "applies the same rules; statesink prune applies them. Without a matching rule an "
      "entity's facts are kept for ever");
  retention->require_subcommand(1);
  const std::string patterns =
      "PATTERN: [BASE_TOPIC:]ENTITY_GLOB, * for any characters and ? for one, matched against "
      "the entity id (sensor.*_rssi, binary_sensor.*, home/ha1:sensor.*). When several rules "
      "match an entity, the one with the most characters other than * and ? wins (then the "
      "longer age, then the pattern that sorts first).";
  retention->footer(patterns);

  CLI::App* list = retention->add_subcommand(
      "list",
      "The rules: pattern, max age, and how many entities each governs now (those it matches "
      "and no more specific rule matches)");
  list->add_option("--format", flags->format, "table, json or csv")->capture_default_str();
  add_db_option(list, *flags);
  list->callback([&context, flags] { run_list(context, *flags); });

  CLI::App* set = retention->add_subcommand(
      "set", "Add a rule, or change the age of an existing one. Deletes nothing itself");
  set->add_option("PATTERN", flags->pattern, "[BASE_TOPIC:]ENTITY_GLOB")->required();
  set->add_option("AGE", flags->age, "Keep facts this long: 7d, 12h, 90m (whole seconds, above 0)")
      ->required();
  add_db_option(set, *flags);
  set->callback([&context, flags] { run_set(context, *flags); });

  CLI::App* remove = retention->add_subcommand("remove", "Remove the rule with this pattern");
  remove->add_option("PATTERN", flags->pattern, "The pattern exactly as listed")->required();
  add_db_option(remove, *flags);
  remove->callback([&context, flags] { run_remove(context, *flags); });

  for (CLI::App* command : {list, set, remove}) {
    command->footer(patterns +
                    "\nExit status: 0 success, 1 database error or unknown rule, 2 usage error.");
  }
}

}  // namespace statesink::cli
