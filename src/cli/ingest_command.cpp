#include "cli/ingest_command.h"

#include <fstream>
#include <memory>

#include "config/settings.h"
#include "ingest/service.h"
#include "spool/options.h"
#include "util/error.h"
#include "util/units.h"

namespace statesink::cli {
namespace {

struct IngestFlags {
  std::optional<std::string> db;
  std::optional<std::string> mqtt;
  std::vector<std::string> topics;
  std::optional<std::string> client_id;
  std::optional<std::string> share_group;
  std::vector<std::string> exclude;
  std::optional<std::string> protocol;
  std::optional<std::string> spool_dir;
  std::optional<std::string> spool_max;
  std::optional<std::string> sync;
  std::optional<std::string> sync_interval;
  std::optional<std::string> batch_size;
  std::optional<std::string> batch_delay;
  std::optional<std::string> report_interval;
  std::optional<std::string> metrics_addr;
  std::optional<std::string> shutdown_timeout;
};

std::size_t parse_count(const std::string& text, const char* setting) {
  std::size_t used = 0;
  unsigned long long value = 0;
  try {
    value = std::stoull(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || value == 0 || value > 100000) {
    throw UsageError(std::string(setting) + ": '" + text + "' is not a count from 1 to 100000");
  }
  return static_cast<std::size_t>(value);
}

// A TLS file that cannot be read would fail only when the receiver thread
// connects; say so before anything starts.
void check_tls_files(const config::MqttUrl& url) {
  for (const char* key : {"ca", "cert", "key"}) {
    const auto it = url.options.find(key);
    if (it == url.options.end()) {
      continue;
    }
    std::ifstream file(it->second);
    if (!file) {
      throw UsageError(std::string("--mqtt: the ") + key + " file '" + it->second +
                       "' of the mqtts:// URL cannot be read; fix the path or its permissions");
    }
  }
  if (url.tls && url.options.count("cert") != 0 && url.options.count("ca") == 0) {
    throw UsageError(
        "--mqtt: a client certificate needs the CA file too: add ca=FILE to the "
        "mqtts:// URL");
  }
}

ingest::ServiceOptions resolve(const IngestFlags& f, const config::SettingSources& s) {
  ingest::ServiceOptions o;
  auto& client = o.receiver.client;
  client.url = config::resolve_mqtt_url(f.mqtt, s);
  client.client_id = config::resolve_client_id(f.client_id, s);
  const std::string protocol = s.resolve(f.protocol, "STATESINK_MQTT_PROTOCOL", "3.1.1");
  if (protocol == "5" || protocol == "5.0") {
    client.protocol = mqtt::Protocol::v5;
  } else if (protocol != "3.1.1" && protocol != "311") {
    throw UsageError("--mqtt-protocol: '" + protocol + "' is not 3.1.1 or 5");
  }
  o.receiver.topics = config::resolve_topics(f.topics, s);
  o.receiver.share_group = s.resolve(f.share_group, "STATESINK_SHARE_GROUP", "");
  if (o.receiver.share_group.find_first_of("/+#") != std::string::npos) {
    throw UsageError("--share-group: a group name cannot contain '/', '+' or '#'");
  }
  o.receiver.exclude = f.exclude;
  if (f.exclude.empty()) {
    if (auto list = s.lookup("STATESINK_EXCLUDE"); list && !list->empty()) {
      o.receiver.exclude = config::split_list(*list);
    }
  }

  o.db = config::resolve_db_url(f.db, s);
  for (const auto& pattern : o.receiver.exclude) {
    if (pattern.empty()) {
      throw UsageError(
          "--exclude / STATESINK_EXCLUDE: an empty pattern would match nothing useful; remove "
          "the extra comma or give a topic filter such as homeassistant/sensor/+/rssi");
    }
  }
  check_tls_files(client.url);
  if (client.protocol == mqtt::Protocol::v5) {
    // Bounds what the broker may have unacknowledged towards us.
    client.receive_maximum = 1000;
  }
  o.committer.batch_size =
      parse_count(s.resolve(f.batch_size, "STATESINK_BATCH_SIZE", "1000"), "--batch-size");
  o.committer.batch_delay =
      parse_duration(s.resolve(f.batch_delay, "STATESINK_BATCH_DELAY", "0ms"), "--batch-delay");

  o.spool.directory = config::resolve_spool_dir(f.spool_dir, s);
  o.spool.max_bytes =
      parse_size(s.resolve(f.spool_max, "STATESINK_SPOOL_MAX", "1GiB"), "--spool-max");
  o.spool.sync = spool::parse_sync_mode(s.resolve(f.sync, "STATESINK_SYNC", "interval"));
  if (auto interval = f.sync_interval ? f.sync_interval : s.lookup("STATESINK_SYNC_INTERVAL")) {
    o.spool.sync_interval = parse_duration(*interval, "--sync-interval");
  }

  o.report_interval = parse_duration(
      s.resolve(f.report_interval, "STATESINK_REPORT_INTERVAL", "10s"), "--report-interval");
  if (o.report_interval.count() <= 0) {
    throw UsageError("--report-interval must be above zero");
  }
  o.metrics_address = s.resolve(f.metrics_addr, "STATESINK_METRICS_ADDR", "");
  o.shutdown_timeout = parse_duration(
      s.resolve(f.shutdown_timeout, "STATESINK_SHUTDOWN_TIMEOUT", "30s"), "--shutdown-timeout");
  return o;
}

}  // namespace

void add_ingest_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<IngestFlags>();
  CLI::App* cmd =
      app.add_subcommand("ingest",
                         "Subscribe to the broker and record every message into the messages table "
                         "(runs until SIGINT/SIGTERM)");
  cmd->add_option("--db", flags->db, "Database URL (STATESINK_DB)");
  cmd->add_option("--mqtt", flags->mqtt, "Broker URL, mqtt:// or mqtts:// (STATESINK_MQTT)");
  cmd->add_option("--topic", flags->topics,
                  "Topic filter, repeatable (STATESINK_TOPICS, comma list; homeassistant/#)");
  cmd->add_option("--client-id", flags->client_id,
                  "MQTT client id; the broker keeps the session under it (STATESINK_CLIENT_ID)");
  cmd->add_option("--share-group", flags->share_group,
                  "Subscribe through $share/NAME/... so ingesters split one stream "
                  "(STATESINK_SHARE_GROUP)");
  cmd->add_option("--exclude", flags->exclude,
                  "Drop messages whose entity id or topic matches this glob, repeatable "
                  "(STATESINK_EXCLUDE, comma list)");
  cmd->add_option("--mqtt-protocol", flags->protocol, "3.1.1 or 5 (STATESINK_MQTT_PROTOCOL)");
  cmd->add_option("--spool-dir", flags->spool_dir,
                  "Directory of the on-disk spool (STATESINK_SPOOL_DIR; $STATE_DIRECTORY/spool "
                  "under systemd, else ./spool)");
  cmd->add_option("--spool-max", flags->spool_max,
                  "Backlog at which reading from the broker pauses (STATESINK_SPOOL_MAX; 1GiB)");
  cmd->add_option("--sync", flags->sync,
                  "When the spool is synced to disk: every, interval or never (STATESINK_SYNC; "
                  "interval). Bounds what a power cut can lose; see the README");
  cmd->add_option("--sync-interval", flags->sync_interval,
                  "Sync period for --sync interval (STATESINK_SYNC_INTERVAL; " +
                      std::to_string(spool::kDefaultSyncInterval.count()) + "ms)");
  cmd->add_option("--batch-size", flags->batch_size,
                  "Messages per INSERT transaction at most (STATESINK_BATCH_SIZE; 1000)");
  cmd->add_option("--batch-delay", flags->batch_delay,
                  "Longest wait to fill a batch after its first message (STATESINK_BATCH_DELAY; "
                  "0ms: commit what is waiting as soon as the last commit is done, so batches "
                  "grow by themselves under load)");
  cmd->add_option("--report-interval", flags->report_interval,
                  "Period of the progress log line (STATESINK_REPORT_INTERVAL; 10s)");
  cmd->add_option("--metrics-addr", flags->metrics_addr,
                  "Serve /metrics and /healthz on HOST:PORT (STATESINK_METRICS_ADDR)");
  cmd->add_option("--shutdown-timeout", flags->shutdown_timeout,
                  "How long a stop waits for the database to take what is held "
                  "(STATESINK_SHUTDOWN_TIMEOUT; 30s)");
  cmd->callback([flags, &context] {
    const ingest::ServiceOptions options = resolve(*flags, context.sources());
    const int status = ingest::run_service(options);
    if (status != 0) {
      throw std::runtime_error("ingest stopped with status " + std::to_string(status));
    }
  });
}

}  // namespace statesink::cli
