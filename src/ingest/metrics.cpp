#include "ingest/metrics.h"

#include <charconv>
#include <cstdio>
#include <sstream>
#include <string_view>

namespace statesink::ingest {
namespace {

std::int64_t steady_micros(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

void metric(std::ostringstream& out, const char* name, const char* type, const char* help,
            double value) {
  // Shortest text that reads back as the same double.
  char number[32];
  const auto end = std::to_chars(number, number + sizeof number, value).ptr;
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
      << name << ' ' << std::string_view(number, static_cast<std::size_t>(end - number)) << '\n';
}

}  // namespace

bool Metrics::healthy(std::chrono::steady_clock::time_point now, std::chrono::seconds stall) const {
  if (!broker_connected || !db_connected || client_id_clash || db_behind_messages > 0 ||
      db_outage) {
    return false;
  }
  if (backlog_records == 0) {
    return true;
  }
  const std::int64_t last = last_commit_steady_us;
  return last != 0 && steady_micros(now) - last <=
                          std::chrono::duration_cast<std::chrono::microseconds>(stall).count();
}

std::string Metrics::unhealthy_reason(std::chrono::seconds stall) const {
  if (client_id_clash) {
    return "another client uses this client id and takes the session (set a unique --client-id)";
  }
  if (db_behind_messages > 0) {
    return "the database lacks " + std::to_string(db_behind_messages.load()) +
           " message(s) it had already committed (restored or failed over?); see the log";
  }
  if (!broker_connected) {
    return spool_full ? "paused: the spool is full" : "not connected to the MQTT broker";
  }
  if (!db_connected) {
    return "not connected to the database";
  }
  if (db_outage) {
    return "the database refuses writes (retrying); see the log";
  }
  return "the backlog has not drained for " + std::to_string(stall.count()) + " s";
}

std::string Metrics::prometheus() const {
  std::ostringstream out;
  auto u = [](const std::atomic<std::uint64_t>& v) { return static_cast<double>(v.load()); };
  metric(out, "statesink_messages_received_total", "counter",
         "Messages received from the broker and written to the spool.", u(received));
  metric(out, "statesink_messages_excluded_total", "counter",
         "Messages dropped by --exclude patterns.", u(excluded));
  metric(out, "statesink_messages_redelivered_total", "counter",
         "Messages the broker sent again after a crash, already in the spool.", u(redelivered));
  metric(out, "statesink_messages_inserted_total", "counter",
         "Messages committed into the messages table.", u(inserted));
  metric(out, "statesink_messages_dead_lettered_total", "counter",
         "Messages the database could not hold, written to the dead-letter file.",
         u(dead_lettered));
  metric(out, "statesink_batches_total", "counter", "Committed insert batches.", u(batches));
  metric(out, "statesink_db_errors_total", "counter", "Failed database operations (retried).",
         u(db_errors));
  metric(out, "statesink_db_conflict_retries_total", "counter",
         "Transactions rolled back by a deadlock or a cluster certification conflict and retried "
         "at once.",
         u(db_conflict_retries));
  metric(out, "statesink_mqtt_disconnects_total", "counter", "Connections to the broker lost.",
         u(mqtt_disconnects));
  metric(out, "statesink_last_batch_size", "gauge", "Messages in the last committed batch.",
         u(last_batch_size));
  metric(out, "statesink_last_batch_seconds", "gauge", "Time to insert and commit the last batch.",
         u(last_batch_micros) / 1e6);
  metric(out, "statesink_spool_backlog_messages", "gauge",
         "Messages in the spool not yet committed.", u(backlog_records));
  metric(out, "statesink_spool_backlog_bytes", "gauge", "Spool bytes not yet committed.",
         u(backlog_bytes));
  metric(out, "statesink_spool_syncs_total", "counter",
         "Disk flushes (fdatasync) of the spool's files; --sync decides how many.", u(spool_syncs));
  metric(out, "statesink_spool_full", "gauge",
         "1 while the spool is at its size limit and reading from the broker is paused.",
         spool_full ? 1 : 0);
  metric(out, "statesink_client_id_clash", "gauge",
         "1 when another client with the same client id keeps taking the session.",
         client_id_clash ? 1 : 0);
  metric(out, "statesink_database_behind_messages", "gauge",
         "Messages already committed that the database no longer holds (restore or failover).",
         u(db_behind_messages));
  metric(out, "statesink_database_outage", "gauge",
         "1 while database writes fail and are being retried.", db_outage ? 1 : 0);
  metric(out, "statesink_broker_connected", "gauge", "1 while connected to the MQTT broker.",
         broker_connected ? 1 : 0);
  metric(out, "statesink_database_connected", "gauge", "1 while connected to the database.",
         db_connected ? 1 : 0);
  return out.str();
}

Reporter::Reporter(const Metrics& metrics)
    : metrics_(metrics),
      last_time_(std::chrono::steady_clock::now()),
      last_received_(metrics.received),
      last_inserted_(metrics.inserted),
      last_errors_(metrics.db_errors + metrics.mqtt_disconnects) {}

std::string Reporter::line(std::chrono::steady_clock::time_point now) {
  const double seconds = std::max(1e-3, std::chrono::duration<double>(now - last_time_).count());
  const std::uint64_t received = metrics_.received;
  const std::uint64_t inserted = metrics_.inserted;
  const std::uint64_t errors = metrics_.db_errors + metrics_.mqtt_disconnects;
  char text[320];
  std::snprintf(text, sizeof text,
                "received %.0f/s, inserted %.0f/s, backlog %llu messages (%.1f MiB), last batch "
                "%llu in %.1f ms, errors %llu, dead-lettered %llu total",
                static_cast<double>(received - last_received_) / seconds,
                static_cast<double>(inserted - last_inserted_) / seconds,
                static_cast<unsigned long long>(metrics_.backlog_records.load()),
                static_cast<double>(metrics_.backlog_bytes.load()) / (1024.0 * 1024.0),
                static_cast<unsigned long long>(metrics_.last_batch_size.load()),
                static_cast<double>(metrics_.last_batch_micros.load()) / 1000.0,
                static_cast<unsigned long long>(errors - last_errors_),
                static_cast<unsigned long long>(metrics_.dead_lettered.load()));
  last_time_ = now;
  last_received_ = received;
  last_inserted_ = inserted;
  last_errors_ = errors;
  return text;
}

}  // namespace statesink::ingest
