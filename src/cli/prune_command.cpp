#include "cli/prune_command.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "config/settings.h"
#include "db/connection.h"
#include "db/error.h"
#include "history/fact_pruner.h"
#include "history/message_conversion.h"
#include "history/message_partitions.h"
#include "history/message_pruner.h"
#include "history/partition_dropper.h"
#include "history/retention_age.h"
#include "history/retention_rules.h"
#include "util/error.h"
#include "util/time_arg.h"
#include "util/units.h"

namespace statesink::cli {
namespace {

struct PruneFlags {
  std::optional<std::string> db;
  std::optional<std::string> older_than;
  std::uint32_t batch = 5000;
  bool dry_run = false;
};

// now - DURATION; a zero or negative age would delete what is being ingested.
UtcTime cutoff_for(const std::string& older_than, UtcTime now) {
  const std::chrono::milliseconds age = parse_duration(older_than, "--older-than");
  if (age.count() <= 0) {
    throw UsageError("--older-than: '" + older_than + "' must be longer than zero");
  }
  constexpr std::chrono::milliseconds kLongest = std::chrono::hours{24} * 365 * 300;
  if (age > kLongest) {
    throw UsageError("--older-than: '" + older_than + "' is longer than 300 years");
  }
  return now - age;
}

std::string seconds_text(std::chrono::milliseconds took) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", static_cast<double>(took.count()) / 1000.0);
  return text;
}

void report_oldest(Context& context, db::Connection& connection) {
  if (const auto oldest = history::oldest_message(connection)) {
    context.out << "oldest remaining message: " << *oldest << " UTC\n";
  } else {
    context.out << "no messages remain\n";
  }
}

// Says what a rule will delete before deleting it, so an interrupted or
// surprising run can be traced back to its rule.
void apply_rules(Context& context, db::Connection& connection,
                 const std::vector<history::RulePlan>& plans, const PruneFlags& flags,
                 UtcTime now) {
  for (const history::RulePlan& plan : plans) {
    const UtcTime cutoff = now - std::chrono::seconds(plan.rule.max_age_seconds);
    const std::vector<std::uint64_t> states = history::states_of(connection, plan.entity_ids);
    const std::uint64_t expiring = history::count_expired_facts(connection, states, cutoff);
    const std::string rule = "rule " + plan.rule.pattern + " (" +
                             history::format_retention_age(plan.rule.max_age_seconds) + ", " +
                             std::to_string(plan.entity_ids.size()) + " entit(ies))";
    const std::string what = std::to_string(expiring) + " fact(s) recorded before " +
                             format_sql_datetime(cutoff) + " UTC";
    if (flags.dry_run) {
      context.out << "dry run: " << rule << ": would delete " << what << "; nothing was deleted\n";
      continue;
    }
    context.out << rule << ": deleting " << what << "\n" << std::flush;
    if (expiring == 0) {
      continue;
    }
    const history::FactPruneProgress done =
        history::prune_expired_facts(connection, states, cutoff, flags.batch);
    context.out << rule << ": deleted " << done.facts << " fact(s) in " << done.chunks
                << " chunk(s) of at most " << flags.batch << "\n"
                << std::flush;
  }
}

std::string partition_range(const history::ExpiredPartition& p) {
  std::string range = "received_at ";
  if (p.from) {
    range += "from " + format_sql_datetime(*p.from) + " ";
  }
  range += "before " + format_sql_datetime(p.below) + " UTC";
  return range;
}

// Whole partitions go at once; the chunked delete below then only has the
// partition that straddles the cutoff left to do.
void drop_expired_partitions(Context& context, db::Connection& connection,
                             const std::vector<history::ExpiredPartition>& expired,
                             const PruneFlags& flags) {
  for (const history::ExpiredPartition& p : expired) {
    context.out << (flags.dry_run ? "dry run: would drop" : "dropping") << " partition " << p.name
                << " (" << partition_range(p) << ") holding " << p.messages << " message(s)\n";
  }
  if (flags.dry_run || expired.empty()) {
    return;
  }
  const history::PartitionDrop done = history::drop_partitions(connection, expired);
  context.out << "dropped " << done.partitions << " partition(s) holding " << done.messages
              << " message(s) received before " << format_sql_datetime(expired.back().below)
              << " UTC, " << seconds_text(done.took) << "; the facts made from them are kept\n";
  if (done.rejections > 0) {
    context.out << "deleted the rejection records of " << done.rejections
                << " of those message(s)\n";
  }
  context.out << std::flush;
}

void prune_messages(Context& context, db::Connection& connection, const PruneFlags& flags,
                    UtcTime cutoff, UtcTime now) {
  history::refuse_during_conversion(connection, "prune messages");
  if (!flags.dry_run) {
    // Worth doing while here, but no reason not to prune: rows past the last
    // partition still land in the catch-all.
    try {
      const history::SplitResult split =
          history::split_ahead(connection, now, history::read_partition_layout(connection));
      if (!split.added.empty()) {
        context.out << "added " << split.added.size()
                    << " partition(s) ahead: " << split.added.front() << " to "
                    << split.added.back() << "\n";
      }
    } catch (const db::DbError& e) {
      if (e.connection_lost()) {
        throw;
      }
      context.err << "statesink: warning: cannot add partitions ahead: " << db::describe(e) << "\n";
    }
  }
  const std::vector<history::ExpiredPartition> expired =
      history::expired_partitions(connection, cutoff);
  drop_expired_partitions(context, connection, expired, flags);

  const std::string before = format_sql_datetime(cutoff) + " UTC";
  if (flags.dry_run) {
    const history::PrunableMessages prunable =
        history::count_prunable(connection, cutoff, history::kept_from(expired));
    context.out << "dry run: would delete " << prunable.count << " message(s) received before "
                << before;
    if (prunable.oldest) {
      context.out << " (the oldest from " << *prunable.oldest << " UTC)";
    }
    context.out << "; nothing was deleted\n";
    return;
  }

  // A long run says now and then that it is still working, on stderr so
  // that stdout holds only the summary.
  auto last_report = std::chrono::steady_clock::now();
  const history::PruneProgress done = history::prune_messages(
      connection, cutoff, flags.batch, [&](const history::PruneProgress& progress) {
        const auto now = std::chrono::steady_clock::now();
        if (now - last_report >= std::chrono::seconds(10)) {
          last_report = now;
          context.err << "statesink: pruned " << progress.messages << " message(s) so far\n";
        }
      });
  context.out << "deleted " << done.messages << " message(s) received before " << before << " in "
              << done.chunks << " chunk(s) of at most " << flags.batch << ", "
              << seconds_text(done.took) << "; the facts made from them are kept\n";
  if (done.rejections > 0) {
    context.out << "deleted the rejection records of " << done.rejections
                << " of those message(s)\n";
  }
  report_oldest(context, connection);
}

void run_prune(Context& context, const PruneFlags& flags) {
  const UtcTime now = utc_now();
  std::optional<UtcTime> message_cutoff;
  if (flags.older_than) {
    message_cutoff = cutoff_for(*flags.older_than, now);
  }
  db::Connection connection =
      db::Connection::open(config::resolve_db_url(flags.db, context.sources()));
  const std::vector<history::RulePlan> plans = history::plan_rules(connection);
  if (plans.empty() && !message_cutoff) {
    throw UsageError(
        "nothing to prune: give --older-than DURATION for raw messages, or add retention rules "
        "for facts with statesink retention set PATTERN AGE");
  }
  // Facts first: the rules are what an operator set up on purpose, and a run
  // stopped during the long message deletion has then applied them.
  apply_rules(context, connection, plans, flags, now);
  if (message_cutoff) {
    prune_messages(context, connection, flags, *message_cutoff, now);
  }
}

}  // namespace

void add_prune_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<PruneFlags>();
  CLI::App* prune = app.add_subcommand(
      "prune",
      "Apply retention: delete the facts that the retention rules (statesink retention) let "
      "expire, then, with --older-than, raw messages (the messages table) received more than "
      "DURATION ago. current_states is never changed, and each state keeps the fact holding its "
      "current value. Deleting messages keeps the facts made from them; rejected_messages loses "
      "the deleted ones. On a partitioned messages table, every partition whose rows are all "
      "older than the cutoff is dropped whole, and only the partition holding the cutoff is "
      "deleted from row by row; the partitions missing ahead are added first. Row deletes run "
      "in chunks of --batch rows, each its own short transaction, so ingestion goes on "
      "meanwhile; an interrupted run keeps the chunks it finished");
  prune->add_option("--older-than", flags->older_than,
                    "Age of the raw messages to delete, by received_at and this machine's clock: "
                    "30d, 12h, 90m (above zero); without it no message is deleted");
  prune->add_option("--batch", flags->batch, "Messages or facts deleted per transaction")
      ->check(CLI::Range(1, 50000))
      ->capture_default_str();
  prune->add_flag("--dry-run", flags->dry_run,
                  "Count what each rule and --older-than would delete (per partition to drop, "
                  "then the rows to delete), delete nothing");
  prune->add_option("--db", flags->db,
                    "Database URL mysql://user[:password]@host[:port]/database "
                    "[env: STATESINK_DB]");
  prune->footer(
      "Prints, for each rule, what it deletes before deleting it, then each partition dropped, "
      "the messages deleted, the chunks, the time taken and the oldest message left. "
      "Exit status: 0 success, 1 database error, 2 usage error.");
  prune->callback([&context, flags] { run_prune(context, *flags); });
}

}  // namespace statesink::cli
