#include "cli/dead_letter_command.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/output_format.h"
#include "config/settings.h"
#include "config/url.h"
#include "db/connection.h"
#include "db/error.h"
#include "ingest/dead_letter_reader.h"
#include "ingest/dead_letter_replay.h"
#include "ingest/spool_identity.h"
#include "spool/layout.h"

namespace statesink::cli {
namespace {

constexpr std::size_t kPreviewBytes = 40;

struct DeadLetterOptions {
  std::optional<std::string> db;
  std::optional<std::string> spool_dir;
  std::string format = "table";
  bool dry_run = false;
  std::vector<std::uint64_t> seqs;
};

struct LoadedFile {
  std::filesystem::path path;
  ingest::DeadLetters contents;
};

LoadedFile load(Context& context, const DeadLetterOptions& options) {
  const std::filesystem::path directory =
      config::resolve_spool_dir(options.spool_dir, context.sources());
  LoadedFile file{spool::Layout{directory}.dead_letters(), {}};
  // Older lines carry no spool id: they belong to the spool of this directory.
  file.contents = ingest::read_dead_letters(file.path, ingest::existing_spool_identity(directory));
  for (const auto& problem : file.contents.problems) {
    context.err << "statesink: " << file.path.string() << " line " << problem.line
                << " cannot be read: " << problem.message << "; it is left as it is\n";
  }
  return file;
}

// Printable ASCII as it is, every other byte as '.', cut at kPreviewBytes.
std::string preview(const std::string& payload) {
  std::string text;
  for (std::size_t i = 0; i < payload.size() && i < kPreviewBytes; ++i) {
    const char c = payload[i];
    text += c >= 0x20 && c < 0x7f ? c : '.';
  }
  return payload.size() > kPreviewBytes ? text + "..." : text;
}

std::string seq_text(const ingest::DeadLetter& letter) {
  return letter.seq ? std::to_string(*letter.seq) : "";
}

void run_list(Context& context, const DeadLetterOptions& options) {
  const OutputFormat format = parse_output_format(options.format);
  const config::DbUrl url = config::resolve_db_url(options.db, context.sources());
  const LoadedFile file = load(context, options);

  // The replay state needs the database; the file alone still answers the rest.
  std::optional<db::Connection> connection;
  std::optional<ingest::DeadLetterReplayer> replayer;
  if (!file.contents.letters.empty()) {
    try {
      connection = db::Connection::open(url);
      replayer.emplace(*connection);
      replayer->replayed_as(file.contents.letters.front());
    } catch (const db::DbError& e) {
      replayer.reset();
      const std::string hint = db::advice(e);
      context.err << "statesink: replay state unknown: " << config::redact_urls(e.what())
                  << (hint.empty() ? "" : "; " + hint) << "\n";
    }
  }

  ResultTable table;
  table.columns = {{"spool_id", "spool", ColumnKind::text},
                   {"seq", "seq", ColumnKind::integer},
                   {"received_at", "received at (UTC)", ColumnKind::time},
                   {"topic", "topic", ColumnKind::text},
                   {"payload_bytes", "bytes", ColumnKind::integer},
                   {"payload_preview", "payload", ColumnKind::text},
                   {"reason", "reason", ColumnKind::text},
                   {"replayed", "replayed", ColumnKind::text},
                   {"message_id", "message", ColumnKind::integer}};
  for (const auto& letter : file.contents.letters) {
    std::optional<std::uint64_t> message_id;
    std::string replayed = "unknown";
    if (replayer) {
      message_id = replayer->replayed_as(letter);
      replayed = message_id ? "yes" : "no";
    }
    table.rows.push_back({letter.spool_id,
                          letter.seq ? std::optional(seq_text(letter)) : std::nullopt,
                          letter.received_at, letter.topic, std::to_string(letter.payload.size()),
                          preview(letter.payload), letter.reason, replayed,
                          message_id ? std::optional(std::to_string(*message_id)) : std::nullopt});
  }
  if (format == OutputFormat::table && table.rows.empty()) {
    context.out << "no dead letters in " << file.path.string()
                << (file.contents.file_exists ? "" : " (there is no such file)") << "\n";
    return;
  }
  write_result(context.out, table, format);
}

// One line per dead letter, on stdout; what failed also goes to the exit line.
void report(Context& context, const ingest::DeadLetter& letter,
            const ingest::DeadLetterReplayer::Result& result) {
  using Outcome = ingest::DeadLetterReplayer::Outcome;
  context.out << "line " << letter.line << " (seq " << (letter.seq ? seq_text(letter) : "-")
              << ", topic '" << letter.topic << "'): ";
  switch (result.outcome) {
    case Outcome::replayed:
      context.out << "replayed as message " << result.message_id << "\n";
      break;
    case Outcome::already_replayed:
      context.out << "already replayed as message " << result.message_id << "\n";
      break;
    case Outcome::would_replay:
      context.out << "would be replayed (dry run)\n";
      break;
    case Outcome::refused:
      context.out << "refused again, kept in the file: " << result.error << "\n";
      break;
  }
}

void run_replay(Context& context, const DeadLetterOptions& options) {
  // A malformed URL is a usage error even when there is nothing to replay.
  const config::DbUrl url = config::resolve_db_url(options.db, context.sources());
  const LoadedFile file = load(context, options);
  std::vector<const ingest::DeadLetter*> chosen;
  const std::set<std::uint64_t> wanted(options.seqs.begin(), options.seqs.end());
  std::set<std::uint64_t> found;
  for (const auto& letter : file.contents.letters) {
    if (wanted.empty() || (letter.seq && wanted.contains(*letter.seq))) {
      chosen.push_back(&letter);
      if (letter.seq) {
        found.insert(*letter.seq);
      }
    }
  }
  for (const std::uint64_t seq : wanted) {
    if (!found.contains(seq)) {
      throw std::runtime_error("no dead letter with seq " + std::to_string(seq) + " in " +
                               file.path.string() +
                               "; statesink dead-letter list shows what there is");
    }
  }
  if (chosen.empty()) {
    context.out << "no dead letters to replay in " << file.path.string() << "\n";
  } else {
    db::Connection connection = db::Connection::open(url);
    ingest::DeadLetterReplayer replayer(connection);
    using Outcome = ingest::DeadLetterReplayer::Outcome;
    std::map<Outcome, std::size_t> counts;
    for (const ingest::DeadLetter* letter : chosen) {
      const auto result = replayer.replay(*letter, options.dry_run);
      ++counts[result.outcome];
      report(context, *letter, result);
    }
    context.out << (options.dry_run ? "dry run: would replay " : "replayed ")
                << counts[options.dry_run ? Outcome::would_replay : Outcome::replayed]
                << ", already replayed " << counts[Outcome::already_replayed] << ", refused "
                << counts[Outcome::refused] << "; the file is kept as it is\n";
    if (const std::size_t refused = counts[Outcome::refused]; refused > 0) {
      throw std::runtime_error(std::to_string(refused) +
                               " dead letter(s) refused again by the database and kept in " +
                               file.path.string() +
                               " (see above); fix what the error says, then run statesink "
                               "dead-letter replay again");
    }
  }
  if (!file.contents.problems.empty()) {
    throw std::runtime_error(std::to_string(file.contents.problems.size()) + " line(s) of " +
                             file.path.string() +
                             " cannot be read (see above) and were not replayed; repair them "
                             "from a backup or by hand, then replay again");
  }
}

void add_common_options(CLI::App& command, DeadLetterOptions& options) {
  command.add_option("--db", options.db,
                     "Database URL mysql://user[:password]@host[:port]/database "
                     "[env: STATESINK_DB]");
  command.add_option("--spool-dir", options.spool_dir,
                     "The ingester's spool directory, which holds dead-letter.jsonl "
                     "(STATESINK_SPOOL_DIR; $STATE_DIRECTORY/spool under systemd, else ./spool)");
}

}  // namespace

void add_dead_letter_command(CLI::App& app, Context& context) {
  CLI::App* group =
      app.add_subcommand("dead-letter",
                         "Messages the database refused for good, which the ingester set aside in "
                         "dead-letter.jsonl in its spool directory");
  group->require_subcommand(1);

  auto list_options = std::make_shared<DeadLetterOptions>();
  CLI::App* list = group->add_subcommand(
      "list",
      "Show the dead letters: spool id, sequence number, reception time, topic, payload size and "
      "preview, reason, and whether each was replayed (unknown when the database is unreachable)");
  add_common_options(*list, *list_options);
  list->add_option("--format", list_options->format, "table, json or csv")->capture_default_str();
  list->callback([&context, list_options] { run_list(context, *list_options); });

  auto replay_options = std::make_shared<DeadLetterOptions>();
  CLI::App* replay = group->add_subcommand(
      "replay",
      "Insert the dead letters into messages with their original reception time, each exactly "
      "once: the replay is recorded in dead_letter_replays in the same transaction, so running "
      "it again inserts nothing twice. The file is never changed");
  add_common_options(*replay, *replay_options);
  replay->add_flag("--dry-run", replay_options->dry_run,
                   "Say what would be replayed, insert nothing");
  replay->add_option("--seq", replay_options->seqs,
                     "Replay only the dead letter with this sequence number (repeatable)");
  replay->footer(
      "Exit status: 0 when every dead letter is in messages (now or before), 1 when any was "
      "refused again or could not be read, 2 usage error.");
  replay->callback([&context, replay_options] { run_replay(context, *replay_options); });
}

}  // namespace statesink::cli
