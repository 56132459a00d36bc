#include "cli/statistics_command.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "config/settings.h"
#include "db/connection.h"
#include "history/statistics_updater.h"
#include "util/error.h"
#include "util/time_arg.h"
#include "util/units.h"

namespace statesink::cli {
namespace {

struct StatisticsFlags {
  std::optional<std::string> db;
  std::string settle = "60s";
  std::string from;
  std::optional<std::string> to;
  std::string lock_wait = "10m";
};

std::string seconds_text(std::chrono::milliseconds took) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", static_cast<double>(took.count()) / 1000.0);
  return text;
}

std::string time_text(const std::optional<UtcTime>& time) {
  return time ? format_sql_datetime(*time).substr(0, 19) + " UTC" : std::string("(nothing)");
}

// A progress line that rewrites itself, only where someone watches it: on a
// terminal. Logs (the timer's journal) get the summary line alone.
class ProgressLine {
 public:
  explicit ProgressLine(std::ostream& err) : err_(err), shown_(isatty(STDERR_FILENO) == 1) {}
  ~ProgressLine() {
    if (written_) {
      err_ << "\r\033[K" << std::flush;
    }
  }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  void operator()(const history::StatisticsProgress& progress) {
    const auto now = std::chrono::steady_clock::now();
    if (!shown_ || now - last_ < std::chrono::milliseconds(500)) {
      return;
    }
    last_ = now;
    written_ = true;
    err_ << "\r\033[Kstatistics " << progress.granularity << ": at "
         << time_text(progress.done_until) << " of " << time_text(progress.target) << ", "
         << progress.rows_written << " row(s) written" << std::flush;
  }

 private:
  std::ostream& err_;
  bool shown_;
  bool written_ = false;
  std::chrono::steady_clock::time_point last_{};
};

std::string counts(const history::StatisticsProgress& done) {
  return std::to_string(done.recomputed) + " range(s) recomputed, " +
         std::to_string(done.rows_written) + " row(s) written, " +
         std::to_string(done.rows_deleted) + " replaced or removed";
}

history::StatisticsOptions options_from(const StatisticsFlags& flags) {
  history::StatisticsOptions options;
  options.settle =
      std::chrono::duration_cast<std::chrono::seconds>(parse_duration(flags.settle, "--settle"));
  if (options.settle.count() < 0) {
    throw UsageError("--settle: '" + flags.settle + "' must not be negative");
  }
  return options;
}

db::Connection connect(Context& context, const StatisticsFlags& flags) {
  return db::Connection::open(config::resolve_db_url(flags.db, context.sources()));
}

void run_update(Context& context, const StatisticsFlags& flags) {
  const history::StatisticsOptions options = options_from(flags);
  db::Connection connection = connect(context, flags);
  history::StatisticsReport report;
  {
    ProgressLine line(context.err);
    report = history::update_statistics(connection, utc_now(), options, std::ref(line));
  }
  if (report.skipped) {
    context.out << "another statistics update or rebuild is running; nothing done\n";
    return;
  }
  context.out << "statistics_5min complete up to " << time_text(report.five_minutes.done_until)
              << " (" << report.five_minutes.facts << " new fact(s), "
              << counts(report.five_minutes) << "); statistics_hourly complete up to "
              << time_text(report.hourly.done_until) << " (" << counts(report.hourly) << "); "
              << seconds_text(report.took) << "\n";
}

void run_rebuild(Context& context, const StatisticsFlags& flags) {
  const UtcTime now = utc_now();
  const UtcTime from = parse_time_arg(flags.from, "--from", now);
  std::optional<UtcTime> to;
  if (flags.to) {
    to = parse_time_arg(*flags.to, "--to", now);
    if (*to <= from) {
      throw UsageError("--to (" + format_sql_datetime(*to) + ") must be after --from (" +
                       format_sql_datetime(from) + ")");
    }
  }
  const auto lock_wait =
      std::chrono::duration_cast<std::chrono::seconds>(parse_duration(flags.lock_wait, "--wait"));
  const history::StatisticsOptions options = options_from(flags);
  db::Connection connection = connect(context, flags);
  history::StatisticsReport report;
  {
    ProgressLine line(context.err);
    report =
        history::rebuild_statistics(connection, from, to, now, options, lock_wait, std::ref(line));
  }
  if (report.skipped) {
    throw std::runtime_error("another statistics update or rebuild kept running for " +
                             flags.lock_wait + "; try again later, or wait longer with --wait");
  }
  context.out << "statistics rebuilt from " << time_text(from) << " up to "
              << time_text(report.hourly.done_until) << " (hourly) and "
              << time_text(report.five_minutes.done_until) << " (5-minute): statistics_5min "
              << counts(report.five_minutes) << "; statistics_hourly " << counts(report.hourly)
              << "; " << seconds_text(report.took) << "\n";
}

void add_db_option(CLI::App* command, StatisticsFlags& flags) {
  command->add_option("--db", flags.db,
                      "Database URL mysql://user[:password]@host[:port]/database "
                      "[env: STATESINK_DB]");
}

}  // namespace

void add_statistics_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<StatisticsFlags>();
  CLI::App* statistics = app.add_subcommand(
      "statistics",
      "The 5-minute and hourly statistics of every numeric state (statistics_5min, "
      "statistics_hourly): min, max, time-weighted mean, first and last value per UTC bucket");
  statistics->require_subcommand(1);

  CLI::App* update = statistics->add_subcommand(
      "update",
      "Write every bucket completed since the last run and recompute the buckets that late or "
      "out-of-order facts changed. Idempotent; an interrupted run resumes where it stopped. "
      "statesink-statistics.timer runs it every 5 minutes");
  update
      ->add_option("--settle", flags->settle,
                   "How long a new fact id must have been seen before later runs rely on every "
                   "lower id being committed (0s when nothing else writes)")
      ->capture_default_str();
  add_db_option(update, *flags);
  update->footer(
      "Prints one summary line. Exit status: 0 success (also when another run was busy: it "
      "says so and does nothing), 1 database error, 2 usage error.");
  update->callback([&context, flags] { run_update(context, *flags); });

  CLI::App* rebuild = statistics->add_subcommand(
      "rebuild",
      "Recompute the buckets from --from to --to (default: the last complete bucket) from the "
      "facts, replacing what the tables hold there, one day and a few hundred states per "
      "transaction");
  rebuild->add_option("--from", flags->from, "Start time (see TIME below)")->required();
  rebuild->add_option("--to", flags->to, "End time (see TIME below)");
  rebuild
      ->add_option("--wait", flags->lock_wait,
                   "How long to wait for a running update or rebuild to finish")
      ->capture_default_str();
  add_db_option(rebuild, *flags);
  rebuild->footer("TIME: " + std::string(kTimeForms) +
                  ". Times are UTC unless they carry an offset; buckets are UTC and include the "
                  "ones holding --from and --to. Shows progress on a terminal and prints one "
                  "summary line. Exit status: 0 success, 1 database error, 2 usage error.");
  rebuild->callback([&context, flags] { run_rebuild(context, *flags); });
}

}  // namespace statesink::cli
