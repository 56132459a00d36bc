// statesink_prune_bench: how long `statesink prune` takes to remove the
// oldest days of a large messages table, deleting in chunks (an
// unpartitioned table) or dropping whole partitions (by month or by day).
// bench/prune.sh runs it against private servers.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "markdown_table.h"
#include "prune_scenario.h"

namespace {

using statesink::bench::MarkdownTable;

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// The lines of prune's output that say what it did, joined.
std::string summary(const std::string& output) {
  std::istringstream lines(output);
  std::string line;
  std::string result;
  while (std::getline(lines, line)) {
    const bool chunks = line.starts_with("deleted ") && line.find(" chunk(s)") != std::string::npos;
    if (line.starts_with("dropped ") || chunks) {
      if (!result.empty()) {
        result += " / ";
      }
      result += line.substr(0, line.find(" received"));
    }
  }
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  statesink::bench::PruneSetup setup;
  std::vector<std::string> layouts = {"unpartitioned", "month", "day"};
  std::vector<int> ages = {30, 90};
  CLI::App app{"Measures statesink prune: chunked delete against partition drop"};
  app.add_option("--statesink", setup.statesink, "The statesink binary")->required();
  app.add_option("--db", setup.db_url, "A migrated database it may empty")->required();
  app.add_option("--rows", setup.rows, "Rows in messages")->capture_default_str();
  app.add_option("--days", setup.days, "Days the rows are spread over")->capture_default_str();
  app.add_option("--batch", setup.batch, "prune --batch")->capture_default_str();
  app.add_option("--layouts", layouts, "unpartitioned, month, day")->capture_default_str();
  app.add_option("--prune-days", ages, "Oldest days to prune, each from a full table")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    statesink::db::Connection connection =
        statesink::db::Connection::open(statesink::config::parse_db_url(setup.db_url));
    std::cerr << "prune bench: making " << setup.rows << " rows over " << setup.days << " days\n";
    const double source = statesink::bench::fill_source(connection, setup);
    std::cerr << "prune bench: source rows made in " << fixed(source, 1) << " s\n";

    MarkdownTable table({"layout", "partitions", "rows", "pruned days", "rows deleted", "fill s",
                         "prune s", "deleted rows/s", "what prune did"});
    for (const int age : ages) {
      for (const std::string& layout : layouts) {
        std::cerr << "prune bench: " << layout << ", pruning the oldest " << age << " days\n";
        const statesink::bench::PruneFigures f =
            statesink::bench::run_scenario(connection, setup, {layout, age});
        table.row({layout, std::to_string(f.partitions), std::to_string(f.rows_before),
                   std::to_string(age), std::to_string(f.rows_deleted), fixed(f.fill_seconds, 1),
                   fixed(f.prune_seconds, 2),
                   fixed(static_cast<double>(f.rows_deleted) / f.prune_seconds, 0),
                   summary(f.output)});
      }
    }
    table.print(std::cout);
    connection.execute("DROP TABLE bench_source");
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "prune bench: " << e.what() << "\n";
    return 1;
  }
}
