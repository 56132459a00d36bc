#include <optional>
#include <string>
#include <vector>

#include "machine.h"
#include "markdown_table.h"
#include "report.h"

namespace statesink::bench {

namespace {

std::string each_cpu(const std::vector<double>& cpu, std::size_t messages) {
  std::string each;
  for (const double c : cpu) each += (each.empty() ? "" : " + ") + number(per_100k(c, messages), 2);
  return each;
}

std::string each_cpu(const std::vector<std::optional<double>>& cpu, std::size_t messages) {
  std::string each;
  for (const auto& c : cpu) each += (each.empty() ? "" : " + ") + cell(per_100k(c, messages), 2);
  return each;
}

std::string retries_per_batch(const ScaleRun& r) {
  const double per_batch =
      r.batches > 0 ? static_cast<double>(r.conflict_retries) / static_cast<double>(r.batches)
                    : 0.0;
  return number(per_batch * 100, 1) + " %";
}

std::string ingesters_label(const ScaleRun& r) {
  return std::to_string(r.ingesters) + " ingester" + (r.ingesters > 1 ? "s" : "") +
         (r.by_base_topic ? ", one base topic each" : "");
}

void print_rounds(std::ostream& out, const std::vector<ScaleRun>& runs) {
  out << "CPU in seconds per 100k messages; rounds (msg/s):";
  for (const ScaleRun& r : runs) {
    out << " " << r.ingesters << (r.by_base_topic ? " by base topic" : "") << ":";
    for (const double rate : r.round_rates) out << " " << number(rate, 0);
    out << ";";
  }
  out << "\n";
}

void print_statistics_table(std::ostream& out, const Settings& s, const StatisticsCost& c) {
  const std::string best = s.repeat > 1 ? ", best of " + std::to_string(s.repeat) : std::string();
  out << "\n";
  MarkdownTable t({"statistics: ceiling (INSERTs + normalise_batch())" + best, "messages",
                   "messages/s", "mariadbd CPU", "update runs", "mean update s",
                   "updater client CPU"});
  t.row({"without statistics", std::to_string(c.without->messages), number(c.without->rate, 0),
         cell(per_100k(c.without->mariadbd_cpu, c.without->messages), 2), "-", "-", "-"});
  t.row({"with statistics updates back to back", std::to_string(c.with->messages),
         number(c.with->rate, 0), cell(per_100k(c.with->mariadbd_cpu, c.with->messages), 2),
         std::to_string(c.updates),
         c.updates > 0 ? number(c.update_seconds / static_cast<double>(c.updates), 3) : "-",
         number(per_100k(c.update_client_cpu, c.with->messages), 2)});
  t.print(out);
  out << "rate with / without: " << number(c.with->rate / c.without->rate, 2)
      << "; one update catching up with " << c.facts << " facts spanning "
      << number(c.facts_span_hours, 1) << " h of event time: " << number(c.catch_up_seconds, 2)
      << " s, mariadbd CPU " << cell(c.catch_up_mariadbd_cpu, 2) << " s, client CPU "
      << number(c.catch_up_client_cpu, 2) << " s, " << c.catch_up_rows << " statistics rows\n";
}

}  // namespace

void print_ceiling_table(std::ostream& out, const Settings& s, const Results& results) {
  const std::string best = s.repeat > 1 ? ", best of " + std::to_string(s.repeat) : std::string();
  MarkdownTable t({"database ceiling" + best, "messages", "messages/s", "mariadbd CPU"});
  for (const DirectRun* r : {&*results.ceiling, &*results.ceiling_per_row_trigger}) {
    t.row({r->set_based ? "INSERTs + normalise_batch()" : "INSERTs through the per-row trigger",
           std::to_string(r->messages), number(r->rate, 0),
           cell(per_100k(r->mariadbd_cpu, r->messages), 2)});
  }
  t.print(out);
}

void print_ingest_table(std::ostream& out, const Settings& s, const Results& results) {
  const std::string best = s.repeat > 1 ? ", best of " + std::to_string(s.repeat) : std::string();
  MarkdownTable t({"ingester" + best, "messages", "messages/s", "ingest CPU",
                   "read/write syscalls per message", "mean batch", "spool flushes per 1k",
                   "mariadbd CPU", "mosquitto CPU"});
  for (const IngestRun* r : {&*results.end_to_end, &*results.backlog}) {
    t.row({r->from_backlog ? "from a broker backlog" : "end to end", std::to_string(r->messages),
           number(r->rate, 0), cell(per_100k(r->ingest_cpu, r->messages), 2),
           cell(r->ingest_syscalls_per_message, 2), cell(r->mean_batch, 0),
           cell(r->spool_syncs_per_1k, 1), cell(per_100k(r->mariadbd_cpu, r->messages), 2),
           cell(per_100k(r->mosquitto_cpu, r->messages), 2)});
  }
  t.print(out);
  out << "CPU in seconds per 100k messages\n";
}

void print_scale_table(std::ostream& out, const Settings& s, const Results& results) {
  const std::string best = s.repeat > 1 ? ", best of " + std::to_string(s.repeat) : std::string();
  if (!results.scale.empty()) {
    out << "\n";
    MarkdownTable scale({"scale-out, one share group, one server" + best, "messages", "messages/s",
                         "batches", "conflict retries", "retries per batch", "ingest CPU (each)",
                         "mariadbd CPU", "mosquitto CPU", "simulate CPU"});
    for (const ScaleRun& r : results.scale) {
      scale.row({ingesters_label(r), std::to_string(r.messages), number(r.rate, 0),
                 std::to_string(r.batches), std::to_string(r.conflict_retries),
                 retries_per_batch(r), each_cpu(r.ingest_cpu, r.messages),
                 cell(per_100k(r.mariadbd_cpu, r.messages), 2),
                 cell(per_100k(r.mosquitto_cpu, r.messages), 2),
                 number(per_100k(r.simulate_cpu, r.messages), 2)});
    }
    scale.print(out);
    print_rounds(out, results.scale);
  }
  if (!results.galera_scale.empty()) {
    out << "\n";
    MarkdownTable galera({"scale-out into a 3-node Galera cluster, ingester N on node N" + best,
                          "messages", "messages/s", "batches", "conflict retries",
                          "retries per batch", "cert failures", "BF aborts",
                          "flow control paused s", "ingest CPU (each)",
                          "mariadbd CPU node 1 + 2 + 3", "mosquitto CPU", "simulate CPU"});
    for (const ScaleRun& r : results.galera_scale) {
      galera.row({ingesters_label(r), std::to_string(r.messages), number(r.rate, 0),
                  std::to_string(r.batches), std::to_string(r.conflict_retries),
                  retries_per_batch(r), r.cert_failures ? std::to_string(*r.cert_failures) : "-",
                  r.bf_aborts ? std::to_string(*r.bf_aborts) : "-",
                  cell(r.flow_control_paused_seconds, 2), each_cpu(r.ingest_cpu, r.messages),
                  each_cpu(r.mariadbd_cpu_each, r.messages),
                  cell(per_100k(r.mosquitto_cpu, r.messages), 2),
                  number(per_100k(r.simulate_cpu, r.messages), 2)});
    }
    galera.print(out);
    print_rounds(out, results.galera_scale);
  }
}

void print_tables(std::ostream& out, const Settings& s, const Results& results,
                  const Ratios& ratios, const Json& machine, double total_seconds) {
  const IngestRun& e2e = *results.end_to_end;
  const IngestRun& naive = *results.naive;
  const DirectRun& ceiling = *results.ceiling;
  const DirectRun& single = *results.direct_single;
  const LatencyRun& lat = *results.latency;

  out << "\nstatesink benchmark, " << machine_summary(machine) << "\n";
  out << "traffic: statesink simulate, " << s.installations << " installation(s) x " << s.entities
      << " entities, seed " << s.seed << "; run took " << number(total_seconds, 0) << " s\n\n";
  out << "CPU seconds per 100k messages of each process, counted while the phase ran\n\n";
  MarkdownTable main({"phase", "messages", "seconds", "messages/s", "ingest CPU", "mariadbd CPU",
                      "mosquitto CPU", "simulate CPU", "ingest peak RSS MiB"});
  const std::string best = s.repeat > 1 ? ", best of " + std::to_string(s.repeat) : std::string();
  auto direct_row = [&](const std::string& label, const DirectRun& r) {
    main.row({label, std::to_string(r.messages), number(r.seconds, 2), number(r.rate, 0), "-",
              cell(per_100k(r.mariadbd_cpu, r.messages), 2), "-", "-", "-"});
  };
  direct_row("database ceiling: " + std::to_string(ceiling.rows_per_statement) +
                 "-row INSERTs + normalise_batch() (the ingester's path)" + best,
             ceiling);
  const DirectRun& per_row = *results.ceiling_per_row_trigger;
  direct_row("database ceiling: " + std::to_string(per_row.rows_per_statement) +
                 "-row INSERTs through the per-row trigger (other clients)" + best,
             per_row);
  auto ingest_row = [&](const std::string& label, const IngestRun& r) {
    main.row({label, std::to_string(r.messages), number(r.seconds, 2), number(r.rate, 0),
              cell(per_100k(r.ingest_cpu, r.messages), 2),
              cell(per_100k(r.mariadbd_cpu, r.messages), 2),
              cell(per_100k(r.mosquitto_cpu, r.messages), 2),
              r.from_backlog ? "(before)" : number(per_100k(r.simulate_cpu, r.messages), 2),
              cell(mib(r.peak_rss), 1)});
  };
  ingest_row("end to end: simulate → mosquitto → ingest (batch ≤ 1000)" + best, e2e);
  ingest_row("naive: same ingester, --batch-size 1", naive);
  main.row({"single-row autocommit INSERTs (reference)", std::to_string(single.messages),
            number(single.seconds, 2), number(single.rate, 0), "-",
            cell(per_100k(single.mariadbd_cpu, single.messages), 2), "-", "-", "-"});
  ingest_row("end to end from a broker backlog (published before; + retained replay)",
             *results.backlog);
  main.print(out);

  out << "\n";
  MarkdownTable latency({"latency, publish → committed", "messages", "rate/s", "p50 ms", "p90 ms",
                         "p99 ms", "max ms"});
  // Extra ingest flags override the defaults, so they are named as such rather than appended
  // to the defaults' list (where "--sync interval, --sync=every" would read as both).
  std::string ingest_settings = "ingest defaults: batch ≤ 1000, --batch-delay 0ms, --sync interval";
  for (std::size_t i = 0; i < s.ingest_args.size(); ++i) {
    ingest_settings += (i == 0 ? "; overridden by " : " ") + s.ingest_args[i];
  }
  latency.row({ingest_settings, std::to_string(lat.messages), number(lat.achieved_rate, 0),
               number(lat.p50, 0), number(lat.p90, 0), number(lat.p99, 0), number(lat.max, 0)});
  latency.print(out);

  out << "\n";
  MarkdownTable checks({"ratio / target", "value", "target", "holds"});
  for (const auto& t : ratios.targets) {
    checks.row({t.name, number(t.value, t.value < 10 ? 2 : 1), t.target, t.holds ? "yes" : "NO"});
  }
  checks.print(out);
  out << "\nend to end from a broker backlog / ceiling: " << number(ratios.vs_ceiling_backlog, 2)
      << "; the live run used " << number(per_100k(ratios.e2e_cpu, e2e.messages), 1)
      << " CPU s per 100k messages in all, so " << number(ratios.cpus, 0) << " CPUs allow at most "
      << number(ratios.cpu_bound, 0) << " msg/s (it reached "
      << number(e2e.rate / ratios.cpu_bound * 100, 0) << "% of that)\n";
  out << "ingester read/write system calls per message (/proc/PID/io): end to end "
      << cell(e2e.ingest_syscalls_per_message, 2) << ", from a backlog "
      << cell(results.backlog->ingest_syscalls_per_message, 2) << "\n";
  out << "spool disk flushes per 1,000 messages (statesink_spool_syncs_total): end to end "
      << cell(e2e.spool_syncs_per_1k, 2) << ", from a backlog "
      << cell(results.backlog->spool_syncs_per_1k, 2) << "\n";

  if (results.statistics) print_statistics_table(out, s, *results.statistics);

  print_scale_table(out, s, results);

  if (!results.sweep.empty()) {
    out << "\n";
    MarkdownTable sweep({"batch sweep, end to end" + best, "messages", "with triggers msg/s",
                         "without triggers msg/s", "mean batch with / without"});
    for (const std::size_t batch : {std::size_t{1}, std::size_t{100}, std::size_t{1000}}) {
      std::vector<std::string> cells = {"--batch-size " + std::to_string(batch), "", "-", "-", ""};
      std::string batches[2] = {"-", "-"};
      for (const IngestRun& r : results.sweep) {
        if (r.batch_size != batch) continue;
        cells[1] = std::to_string(r.messages);
        cells[r.triggers ? 2 : 3] = number(r.rate, 0);
        batches[r.triggers ? 0 : 1] = cell(r.mean_batch, 0);
      }
      cells[4] = batches[0] + " / " + batches[1];
      sweep.row(cells);
    }
    sweep.print(out);
    if (results.ceiling_without_triggers) {
      const DirectRun& bare = *results.ceiling_without_triggers;
      out << "\ndatabase ceiling without triggers: " << number(bare.rate, 0) << " msg/s ("
          << cell(per_100k(bare.mariadbd_cpu, bare.messages), 2)
          << " mariadbd CPU s/100k); with them: " << number(ceiling.rate, 0) << " msg/s\n";
    }
  }
}

}  // namespace statesink::bench
