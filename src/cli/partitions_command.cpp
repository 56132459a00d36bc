#include "cli/partitions_command.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>

#include "cli/output_format.h"
#include "config/settings.h"
#include "db/connection.h"
#include "history/message_conversion.h"
#include "history/message_partitions.h"
#include "util/error.h"
#include "util/time_arg.h"

namespace statesink::cli {
namespace {

struct PartitionsFlags {
  std::optional<std::string> db;
  std::string format = "table";
  std::optional<std::string> period;
  std::optional<int> ahead;
  std::uint32_t chunk = 10000;
  std::optional<std::uint64_t> max_chunks;
  bool dry_run = false;
};

db::Connection open(Context& context, const PartitionsFlags& flags) {
  return db::Connection::open(config::resolve_db_url(flags.db, context.sources()));
}

std::optional<std::string> time_text(std::optional<UtcTime> time) {
  if (!time) {
    return std::nullopt;
  }
  return format_sql_datetime(*time);
}

void run_status(Context& context, const PartitionsFlags& flags) {
  const OutputFormat format = parse_output_format(flags.format);
  db::Connection connection = open(context, flags);
  const history::TablePartitions table = history::read_partitions(connection);
  if (format == OutputFormat::table) {
    const history::PartitionLayout layout = history::read_partition_layout(connection);
    switch (table.kind) {
      case history::Partitioning::none:
        context.out << "messages is not partitioned: statesink prune deletes old messages in "
                       "chunks. statesink partitions convert --dry-run shows how it would be "
                       "converted\n";
        return;
      case history::Partitioning::foreign:
        context.out << "messages is partitioned, but not by RANGE COLUMNS (received_at) with a "
                       "MAXVALUE partition: statesink neither splits nor drops its partitions\n";
        break;
      case history::Partitioning::managed:
        context.out << "messages is partitioned by received_at, one partition per "
                    << history::to_string(layout.period) << ", " << layout.ahead
                    << " period(s) ahead\n";
        break;
    }
  }
  ResultTable result;
  result.columns = {{"partition", "partition", ColumnKind::text},
                    {"from", "received_at from", ColumnKind::time},
                    {"before", "before", ColumnKind::time},
                    {"estimated_rows", "rows (estimate)", ColumnKind::integer}};
  for (const history::MessagePartition& p : table.partitions) {
    result.rows.push_back(
        {p.name, time_text(p.from), time_text(p.below), std::to_string(p.estimated_rows)});
  }
  write_result(context.out, result, format);
}

void run_split(Context& context, const PartitionsFlags& flags) {
  std::optional<history::PartitionPeriod> period;
  if (flags.period) {
    period = history::parse_partition_period(*flags.period, "--period");
  }
  db::Connection connection = open(context, flags);
  history::PartitionLayout layout = history::read_partition_layout(connection);
  if (period) {
    layout.period = *period;
  }
  if (flags.ahead) {
    layout.ahead = *flags.ahead;
  }
  if (history::read_partitions(connection).kind != history::Partitioning::managed) {
    throw std::runtime_error(
        "messages is not partitioned by statesink; see statesink partitions status");
  }
  if (!flags.dry_run && (period || flags.ahead)) {
    history::save_partition_layout(connection, layout);
  }
  const history::SplitResult split =
      history::split_ahead(connection, utc_now(), layout, flags.dry_run);
  if (split.added.empty()) {
    context.out << "nothing to add: the partitions reach " << layout.ahead << " "
                << history::to_string(layout.period) << "(s) past the current one\n";
    return;
  }
  if (flags.dry_run) {
    context.out << "dry run: would add " << split.added.size() << " partition(s):\n"
                << split.statement << "\n";
    return;
  }
  context.out << "added " << split.added.size() << " partition(s): " << split.added.front()
              << " to " << split.added.back() << "\n";
}

void run_convert(Context& context, const PartitionsFlags& flags) {
  db::Connection connection = open(context, flags);
  history::MessageConversion conversion(connection, context.out, context.err,
                                        history::read_partition_layout(connection), utc_now());
  history::ConversionOptions options;
  options.chunk = flags.chunk;
  options.max_chunks = flags.max_chunks;
  options.dry_run = flags.dry_run;
  conversion.run(options);
}

void add_db_option(CLI::App* command, PartitionsFlags& flags) {
  command->add_option("--db", flags.db,
                      "Database URL mysql://user[:password]@host[:port]/database "
                      "[env: STATESINK_DB]");
}

}  // namespace

void add_partitions_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<PartitionsFlags>();
  CLI::App* partitions = app.add_subcommand(
      "partitions",
      "The partitions of the messages table by received_at: one per month or day, an open first "
      "one for any older row and a catch-all (p_future) for any later one, so no insert ever "
      "fails. statesink keeps partitions ahead itself (migrate up, prune, ingest); statesink "
      "prune drops whole expired partitions");
  partitions->require_subcommand(1);

  CLI::App* status = partitions->add_subcommand(
      "status", "How messages is partitioned: each partition, its range and estimated rows");
  status->add_option("--format", flags->format, "table, json or csv")->capture_default_str();
  add_db_option(status, *flags);
  status->callback([&context, flags] { run_status(context, *flags); });

  CLI::App* split = partitions->add_subcommand(
      "split",
      "Add the partitions missing ahead of now by splitting the catch-all partition (cheap: it "
      "holds only rows dated past the last bound). --period and --ahead change the layout for "
      "every later split, by any statesink");
  split->add_option("--period", flags->period, "day or month: what one new partition holds");
  split
      ->add_option("--ahead", flags->ahead,
                   "Periods after the current one that get their partition in advance")
      ->check(CLI::Range(1, history::kMaxPartitionsAhead));
  split->add_flag("--dry-run", flags->dry_run, "Print the ALTER TABLE, change nothing");
  add_db_option(split, *flags);
  split->callback([&context, flags] { run_split(context, *flags); });

  CLI::App* convert = partitions->add_subcommand(
      "convert",
      "Convert an unpartitioned messages table (an installation older than migration 0010) "
      "while ingestion goes on: copies it in chunks into messages_partitioned, which a trigger "
      "keeps up to date, then swaps the two tables (inserts fail with error 1146 for that "
      "moment; statesink ingest retries them) and moves the triggers. Interrupted, it goes on "
      "where it stopped when run again. Needs as much free disk as messages takes; the old "
      "table is kept as messages_unpartitioned. statesink prune refuses to run until it has "
      "finished");
  convert->add_option("--chunk", flags->chunk, "Rows copied per transaction")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  convert
      ->add_option("--max-chunks", flags->max_chunks,
                   "Stop after copying this many chunks (run again to go on), e.g. to copy "
                   "only in quiet hours")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 62));
  convert->add_flag("--dry-run", flags->dry_run,
                    "Show the table, the progress of an earlier run and the plan; change nothing");
  add_db_option(convert, *flags);
  convert->callback([&context, flags] { run_convert(context, *flags); });

  for (CLI::App* command : {status, split, convert}) {
    command->footer("Exit status: 0 success, 1 database error, 2 usage error.");
  }
}

}  // namespace statesink::cli
