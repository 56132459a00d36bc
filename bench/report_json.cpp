#include <cmath>
#include <fstream>
#include <stdexcept>

#include "report.h"

namespace statesink::bench {
namespace {

Json ingest_json(const IngestRun& r) {
  Json j;
  j["batch_size"] = r.batch_size;
  j["triggers"] = r.triggers;
  j["from_broker_backlog"] = r.from_backlog;
  j["messages"] = r.messages;
  j["seconds"] = std::round(r.seconds * 1000) / 1000;
  j["messages_per_second"] = std::round(r.rate);
  j["ingest_cpu_seconds_per_100k"] = optional_json(per_100k(r.ingest_cpu, r.messages));
  j["mariadbd_cpu_seconds_per_100k"] = optional_json(per_100k(r.mariadbd_cpu, r.messages));
  j["mosquitto_cpu_seconds_per_100k"] = optional_json(per_100k(r.mosquitto_cpu, r.messages));
  j["simulate_cpu_seconds_per_100k"] =
      r.from_backlog ? Json(nullptr) : optional_json(per_100k(r.simulate_cpu, r.messages));
  j["simulate_publish_rate"] = optional_json(r.simulate_rate, 0);
  j["ingest_peak_rss_mib"] = optional_json(mib(r.peak_rss), 1);
  j["ingest_read_write_syscalls_per_message"] = optional_json(r.ingest_syscalls_per_message, 2);
  j["mean_batch_size"] = optional_json(r.mean_batch, 1);
  j["spool_syncs_per_1k_messages"] = optional_json(r.spool_syncs_per_1k, 2);
  if (r.triggers) {
    j["facts"] = r.facts;
    j["rejected"] = r.rejected;
  }
  return j;
}

Json direct_json(const DirectRun& r) {
  Json j;
  j["rows_per_statement"] = r.rows_per_statement;
  j["normalisation"] = r.set_based ? "normalise_batch()" : "per-row trigger";
  j["messages"] = r.messages;
  j["seconds"] = std::round(r.seconds * 1000) / 1000;
  j["messages_per_second"] = std::round(r.rate);
  j["mariadbd_cpu_seconds_per_100k"] = optional_json(per_100k(r.mariadbd_cpu, r.messages));
  j["client_cpu_seconds_per_100k"] = optional_json(per_100k(r.client_cpu, r.messages));
  j["facts"] = r.facts;
  return j;
}

Json statistics_json(const StatisticsCost& c) {
  Json j;
  j["ceiling_without_statistics"] = direct_json(*c.without);
  j["ceiling_with_statistics_updates_back_to_back"] = direct_json(*c.with);
  j["rate_with_vs_without"] = std::round(c.with->rate / c.without->rate * 1000) / 1000;
  j["updates_during_ingest"] = c.updates;
  j["update_seconds_mean"] =
      c.updates > 0 ? std::round(c.update_seconds / static_cast<double>(c.updates) * 1000) / 1000
                    : 0.0;
  j["updater_client_cpu_seconds_per_100k"] =
      optional_json(per_100k(c.update_client_cpu, c.with->messages));
  j["statistics_rows_after_ingest"] = c.rows_during;
  j["catch_up"] = {{"facts", c.facts},
                   {"facts_span_hours", std::round(c.facts_span_hours * 100) / 100},
                   {"seconds", std::round(c.catch_up_seconds * 1000) / 1000},
                   {"mariadbd_cpu_seconds", optional_json(c.catch_up_mariadbd_cpu, 3)},
                   {"client_cpu_seconds", std::round(c.catch_up_client_cpu * 1000) / 1000},
                   {"statistics_rows", c.catch_up_rows}};
  return j;
}

Json latency_json(const LatencyRun& lat) {
  Json l;
  l["messages"] = lat.messages;
  l["target_rate"] = lat.target_rate;
  l["achieved_rate"] = std::round(lat.achieved_rate);
  l["p50_ms"] = optional_json(lat.p50, 1);
  l["p90_ms"] = optional_json(lat.p90, 1);
  l["p99_ms"] = optional_json(lat.p99, 1);
  l["max_ms"] = optional_json(lat.max, 1);
  l["mean_ms"] = optional_json(lat.mean, 1);
  l["publish_to_ingester_p50_ms"] = optional_json(lat.to_ingester_p50, 1);
  l["publish_to_ingester_p99_ms"] = optional_json(lat.to_ingester_p99, 1);
  l["ingester_to_committed_p50_ms"] = optional_json(lat.to_commit_p50, 1);
  l["ingester_to_committed_p99_ms"] = optional_json(lat.to_commit_p99, 1);
  l["order_mismatches"] = lat.mismatched;
  return l;
}

Json settings_json(const Settings& s) {
  Json settings;
  settings["installations"] = s.installations;
  settings["entities_per_installation"] = s.entities;
  settings["seed"] = s.seed;
  settings["messages"] = s.messages;
  settings["ceiling_rows_per_statement"] = s.ceiling_rows;
  settings["repeat"] = s.repeat;
  settings["naive_messages"] = s.naive_messages;
  settings["latency_rate"] = s.latency_rate;
  settings["latency_seconds"] = s.latency_seconds;
  settings["sweep"] = s.sweep;
  settings["sweep_messages"] = s.sweep_messages;
  settings["sweep_single_messages"] = s.sweep_single_messages;
  settings["scale"] = s.scale;
  settings["scale_messages"] = s.scale_messages;
  settings["scale_max_ingesters"] = s.scale_max_ingesters;
  settings["galera"] = s.galera;
  settings["ingest_args"] = s.ingest_args;
  return settings;
}

}  // namespace

Json scale_json(const std::vector<ScaleRun>& scale) {
  Json runs = Json::array();
  for (const ScaleRun& r : scale) {
    Json j;
    j["target"] = r.target;
    j["by_base_topic"] = r.by_base_topic;
    j["ingesters"] = r.ingesters;
    j["messages"] = r.messages;
    j["seconds"] = std::round(r.seconds * 1000) / 1000;
    j["messages_per_second"] = std::round(r.rate);
    j["rounds_messages_per_second"] = r.round_rates;
    j["batches"] = r.batches;
    j["conflict_retries"] = r.conflict_retries;
    j["conflict_retries_per_batch"] = r.batches > 0
                                          ? std::round(static_cast<double>(r.conflict_retries) /
                                                       static_cast<double>(r.batches) * 10000) /
                                                10000
                                          : 0.0;
    Json each = Json::array();
    for (const double cpu : r.ingest_cpu)
      each.push_back(optional_json(per_100k(cpu, r.messages), 2));
    j["ingest_cpu_seconds_per_100k_each"] = each;
    j["mariadbd_cpu_seconds_per_100k"] = optional_json(per_100k(r.mariadbd_cpu, r.messages), 2);
    Json servers = Json::array();
    for (const auto& cpu : r.mariadbd_cpu_each)
      servers.push_back(optional_json(per_100k(cpu, r.messages), 2));
    j["mariadbd_cpu_seconds_per_100k_each"] = servers;
    if (r.cert_failures) j["galera_cert_failures"] = *r.cert_failures;
    if (r.bf_aborts) j["galera_bf_aborts"] = *r.bf_aborts;
    if (r.flow_control_paused_seconds) {
      j["galera_flow_control_paused_seconds"] = optional_json(r.flow_control_paused_seconds, 3);
    }
    j["mosquitto_cpu_seconds_per_100k"] = optional_json(per_100k(r.mosquitto_cpu, r.messages), 2);
    j["simulate_cpu_seconds_per_100k"] = optional_json(per_100k(r.simulate_cpu, r.messages), 2);
    j["facts"] = r.facts;
    j["rejected"] = r.rejected;
    runs.push_back(j);
  }
  return runs;
}

Json report_header(const Json& machine, double total_seconds) {
  Json j;
  j["benchmark"] = "statesink";
  j["duration_seconds"] = std::round(total_seconds);
  j["machine"] = machine;
  return j;
}

Json ceiling_json(const Results& results) {
  Json j;
  j["ceiling"] = direct_json(*results.ceiling);
  j["ceiling"]["rounds_messages_per_second"] = results.ceiling_rates;
  j["ceiling_per_row_trigger"] = direct_json(*results.ceiling_per_row_trigger);
  j["ceiling_per_row_trigger"]["rounds_messages_per_second"] =
      results.ceiling_per_row_trigger_rates;
  return j;
}

Json ingest_only_json(const Results& results) {
  Json j;
  j["end_to_end"] = ingest_json(*results.end_to_end);
  j["end_to_end"]["rounds_messages_per_second"] = results.end_to_end_rates;
  j["backlog"] = ingest_json(*results.backlog);
  return j;
}

Json results_json(const Settings& s, const Results& results, const Ratios& ratios,
                  const Json& machine, double total_seconds) {
  const IngestRun& e2e = *results.end_to_end;
  Json j = report_header(machine, total_seconds);
  j["settings"] = settings_json(s);
  Json measured = ceiling_json(results);
  measured["end_to_end"] = ingest_json(e2e);
  measured["end_to_end"]["rounds_messages_per_second"] = results.end_to_end_rates;
  measured["end_to_end_from_backlog"] = ingest_json(*results.backlog);
  measured["naive"] = ingest_json(*results.naive);
  measured["single_row_autocommit"] = direct_json(*results.direct_single);
  measured["latency"] = latency_json(*results.latency);
  Json sweep = Json::array();
  for (const IngestRun& r : results.sweep) sweep.push_back(ingest_json(r));
  measured["batch_sweep"] = sweep;
  if (!results.scale.empty()) measured["scale_out"] = scale_json(results.scale);
  if (!results.galera_scale.empty())
    measured["scale_out_galera"] = scale_json(results.galera_scale);
  if (results.ceiling_without_triggers) {
    measured["ceiling_without_triggers"] = direct_json(*results.ceiling_without_triggers);
  }
  if (results.statistics) measured["statistics"] = statistics_json(*results.statistics);
  j["results"] = measured;
  j["ratios"] = {
      {"end_to_end_vs_ceiling", std::round(ratios.vs_ceiling * 1000) / 1000},
      {"end_to_end_vs_naive", std::round(ratios.vs_naive * 10) / 10},
      {"end_to_end_from_backlog_vs_ceiling", std::round(ratios.vs_ceiling_backlog * 1000) / 1000}};
  j["end_to_end_cpu"] = {{"cpu_seconds_per_100k_all_processes",
                          std::round(per_100k(ratios.e2e_cpu, e2e.messages) * 100) / 100},
                         {"cpus", static_cast<int>(ratios.cpus)},
                         {"cpu_bound_messages_per_second", std::round(ratios.cpu_bound)}};
  Json checks = Json::array();
  for (const auto& t : ratios.targets) {
    checks.push_back(
        {{"name", t.name}, {"target", t.target}, {"value", t.value}, {"holds", t.holds}});
  }
  j["targets"] = checks;
  return j;
}

void write_json(const std::filesystem::path& file, const Json& j) {
  std::filesystem::create_directories(std::filesystem::absolute(file).parent_path());
  std::ofstream out(file);
  out << j.dump(2) << "\n";
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

}  // namespace statesink::bench
