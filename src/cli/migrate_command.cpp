#include "cli/migrate_command.h"

#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>

#include "db/connection.h"
#include "history/message_partitions.h"
#include "migrate/migration_set.h"
#include "migrate/migrator.h"
#include "migrate/scaffold.h"
#include "util/text_table.h"
#include "util/time_arg.h"

namespace statesink::cli {
namespace {

// Versions are shown as 0008; the number parser would read a leading zero as
// octal and refuse 0008, so the zeros go first.
std::string decimal_version(const std::string& text) {
  const std::size_t digit = text.find_first_not_of('0');
  return digit == std::string::npos ? (text.empty() ? text : std::string("0")) : text.substr(digit);
}

struct MigrateFlags {
  std::optional<std::string> db;
  std::optional<std::string> dir;
  int lock_timeout = 300;
  bool dry_run = false;
  std::optional<std::uint64_t> to;
  std::string name;
  std::uint64_t version = 0;
};

migrate::MigrationSet load_migrations(const MigrateFlags& flags) {
  return flags.dir ? migrate::MigrationSet::from_directory(*flags.dir)
                   : migrate::MigrationSet::embedded();
}

// Runs `action` with a Migrator connected to the configured database.
template <typename Action>
void with_migrator(Context& context, const MigrateFlags& flags, Action action) {
  migrate::MigrationSet migrations = load_migrations(flags);
  config::DbUrl url = config::resolve_db_url(flags.db, context.sources());
  db::Connection connection = db::Connection::open(url);
  migrate::Migrator migrator(connection, std::move(migrations), context.out, context.err,
                             {std::chrono::seconds(flags.lock_timeout)});
  action(migrator, connection);
}

// Partitions ahead of time are part of a migrated schema: a fresh install
// comes out of migration 0010 with only the catch-all partition.
void keep_partitions_ahead(Context& context, db::Connection& connection) {
  const history::TablePartitions table = history::read_partitions(connection);
  if (table.kind == history::Partitioning::managed) {
    const history::SplitResult split =
        history::split_ahead(connection, utc_now(), history::read_partition_layout(connection));
    if (!split.added.empty()) {
      context.out << "added " << split.added.size()
                  << " partition(s) of messages ahead: " << split.added.front() << " to "
                  << split.added.back() << "\n";
    }
  } else if (table.kind == history::Partitioning::none &&
             connection.has_table("messages_conversion")) {
    context.out << "messages held rows already, so migration 0010 left it unpartitioned; "
                   "statesink partitions convert --dry-run shows how to convert it\n";
  }
}

std::string duration(const std::optional<std::uint64_t>& ms) {
  if (!ms) {
    return "";
  }
  return *ms < 10000 ? std::to_string(*ms) + " ms" : std::to_string(*ms / 1000) + " s";
}

void print_status(Context& context, const std::vector<migrate::StatusRow>& rows) {
  TextTable table({"VERSION", "NAME", "STATE", "APPLIED AT (UTC)", "TOOK", "NOTE"});
  for (const auto& row : rows) {
    const std::string version = migrate::format_version(row.version);
    std::string name = row.label.substr(std::min(row.label.size(), version.size() + 1));
    table.add_row({version, name, migrate::to_string(row.state), row.applied_at,
                   duration(row.duration_ms), row.note});
  }
  if (rows.empty()) {
    context.out << "no migrations known and none applied\n";
    return;
  }
  table.print(context.out);
}

}  // namespace

void add_migrate_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<MigrateFlags>();
  CLI::App* migrate = app.add_subcommand("migrate", "Create and upgrade the database schema");
  migrate->require_subcommand(1);
  migrate->fallthrough();
  migrate->add_option("--db", flags->db,
                      "Database URL mysql://user[:password]@host[:port]/database "
                      "[env: STATESINK_DB]");
  migrate->add_option("--dir", flags->dir,
                      "Folder of NNNN_name.up.sql / .down.sql files (default: the migrations "
                      "built into this binary; for 'new': ./migrations)");
  migrate
      ->add_option("--lock-timeout", flags->lock_timeout,
                   "Seconds to wait for another migrate on the same database")
      ->check(CLI::Range(0, 86400))
      ->capture_default_str();

  CLI::App* status =
      migrate->add_subcommand("status", "List applied, pending and changed migrations");
  status->fallthrough();
  status->callback([&context, flags] {
    with_migrator(context, *flags, [&](migrate::Migrator& migrator, db::Connection&) {
      print_status(context, migrator.status());
    });
  });

  CLI::App* up = migrate->add_subcommand("up", "Apply pending migrations in order");
  up->fallthrough();
  up->add_option("--to", flags->to, "Stop after this version (0008 or 8)")
      ->transform(decimal_version, "", "");
  up->add_flag("--dry-run", flags->dry_run, "Print the SQL instead of running it");
  up->callback([&context, flags] {
    with_migrator(context, *flags, [&](migrate::Migrator& migrator, db::Connection& connection) {
      migrator.up(flags->to, flags->dry_run);
      if (!flags->dry_run) {
        keep_partitions_ahead(context, connection);
      }
    });
  });

  CLI::App* down = migrate->add_subcommand("down", "Roll back to VERSION using the down files");
  down->fallthrough();
  down->add_option("--to", flags->to, "Version to roll back to (0: undo every migration)")
      ->transform(decimal_version, "", "")
      ->required();
  down->add_flag("--dry-run", flags->dry_run, "Print the SQL instead of running it");
  down->callback([&context, flags] {
    with_migrator(context, *flags, [&](migrate::Migrator& migrator, db::Connection&) {
      migrator.down(flags->to.value_or(0), flags->dry_run);
    });
  });

  CLI::App* verify =
      migrate->add_subcommand("verify", "Fail if an applied migration's file was edited");
  verify->fallthrough();
  verify->callback([&context, flags] {
    with_migrator(context, *flags, [&](migrate::Migrator& migrator, db::Connection&) {
      std::string problems;
      int applied = 0;
      for (const auto& row : migrator.status()) {
        if (row.state == migrate::State::applied) {
          ++applied;
        } else if (row.state != migrate::State::pending) {
          problems += (problems.empty() ? "" : "; ") + row.label + " " +
                      migrate::to_string(row.state) + ": " + row.note;
        }
      }
      if (!problems.empty()) {
        throw std::runtime_error("verify failed: " + problems +
                                 ". Restore the files as applied, or write a new migration for "
                                 "the change");
      }
      context.out << applied << " applied migration(s) match their files\n";
    });
  });

  CLI::App* create = migrate->add_subcommand("new", "Create the next numbered pair of files");
  create->fallthrough();
  create->add_option("name", flags->name, "Name in a-z, 0-9 and _, e.g. add_facts_index")
      ->required();
  create->callback([&context, flags] {
    auto [up_file, down_file] =
        migrate::create_migration_files(flags->dir.value_or("migrations"), flags->name);
    context.out << "created " << up_file.string() << "\ncreated " << down_file.string() << "\n";
  });

  CLI::App* forget = migrate->add_subcommand(
      "forget", "Drop the record of a migration that stopped part-way, after undoing it by hand");
  forget->fallthrough();
  forget->add_option("version", flags->version, "Version of the failed migration")->required();
  forget->callback([&context, flags] {
    with_migrator(context, *flags, [&](migrate::Migrator& migrator, db::Connection&) {
      migrator.forget(flags->version);
    });
  });
}

}  // namespace statesink::cli
