// statesink_bench: the numbers behind statesink's design, measured in one run
// against a database and a broker that belong to the benchmark alone (see
// bench/run.sh, which starts them). Every phase starts from empty tables.
//
//   ceiling      the same messages the simulator publishes, inserted straight
//                into `messages` as multi-row INSERTs (triggers installed):
//                what the database can take, whatever the ingester does
//   end to end   statesink simulate -> Mosquitto -> statesink ingest -> rows
//                committed (facts are written by the trigger in the same
//                transaction, so a committed message is a committed fact)
//   backlog      the same stream queued by the broker while the ingester is
//                away, then drained: the pipeline without the publisher
//                competing for the CPUs
//   naive        end to end with the ingester committing every message alone
//                (--batch-size 1): the one-INSERT-per-message design
//   latency      publish -> committed, at a fixed moderate rate
//   batch sweep  end to end for batch sizes 1, 100 and 1000, with the
//                normalising triggers and without them
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "config/url.h"
#include "db/connection.h"
#include "db/statement.h"
#include "machine.h"
#include "mqtt/client.h"
#include "process.h"
#include "simulate/message.h"
#include "simulate/options.h"
#include "simulate/stream.h"

namespace statesink::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::ordered_json;

struct Settings {
  fs::path statesink;
  std::string db;
  std::string mqtt;
  fs::path work;
  fs::path json;
  std::optional<fs::path> mariadb_pid_file;
  std::string broker_version;
  unsigned installations = 2;
  unsigned entities = 200;
  std::uint64_t seed = 1;
  std::size_t messages = 100'000;
  std::size_t ceiling_rows = 1000;
  unsigned repeat = 3;
  std::size_t naive_messages = 10'000;
  double latency_rate = 2000;
  double latency_seconds = 30;
  bool sweep = true;
  std::size_t sweep_messages = 30'000;
  std::size_t sweep_single_messages = 3'000;
  std::vector<std::string> ingest_args;
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// "2024-05-01 12:00:03.512345", UTC, as DATETIME(6) takes it.
std::string datetime_micros(std::int64_t micros) {
  const std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d:%02d.%06lld", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<long long>(micros % 1'000'000));
  return text;
}

std::int64_t now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string number(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// Nearest-rank percentile of sorted values.
double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank =
      static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

// A short-lived MQTT client of the benchmark itself: readiness probes,
// latency traffic, and tidying the broker between phases.
class MqttSession {
 public:
  MqttSession(const config::MqttUrl& url, const std::string& client_id) {
    mqtt::ClientOptions options;
    options.url = url;
    options.client_id = client_id;
    options.clean_session = true;
    mqtt::Client::Callbacks callbacks;
    callbacks.connected = [this](bool) { connected_ = true; };
    callbacks.published = [this](int) { ++acked_; };
    client_ = std::make_unique<mqtt::Client>(options, callbacks);
    client_->connect();
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (!connected_) {
      client_->loop(std::chrono::milliseconds(20));
      if (Clock::now() > deadline) {
        throw std::runtime_error("no CONNACK from the broker " + client_->where() + " in 10 s");
      }
    }
  }
  ~MqttSession() {
    try {
      client_->disconnect();
      client_->loop(std::chrono::milliseconds(20));
    } catch (const std::exception&) {
      // Going away anyway; the broker notices the closed socket.
    }
  }
  MqttSession(const MqttSession&) = delete;
  MqttSession& operator=(const MqttSession&) = delete;

  void publish(std::string_view topic, std::string_view payload, bool retain) {
    // Bounded in-flight window, as a real publisher keeps it.
    while (sent_ - acked_ >= 1000) client_->loop(std::chrono::milliseconds(5));
    client_->publish(topic, payload, simulate::kQos, retain);
    if (++sent_ % 32 == 0) client_->loop(std::chrono::milliseconds(0));
  }
  void loop(std::chrono::milliseconds timeout) { client_->loop(timeout); }
  void drain(std::chrono::seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (acked_ < sent_ && Clock::now() < deadline) client_->loop(std::chrono::milliseconds(10));
    if (acked_ < sent_) {
      throw std::runtime_error("the broker acknowledged " + std::to_string(acked_) + " of " +
                               std::to_string(sent_) + " messages");
    }
  }

 private:
  std::unique_ptr<mqtt::Client> client_;
  bool connected_ = false;
  std::uint64_t sent_ = 0;
  std::uint64_t acked_ = 0;
};

// CPU seconds of the processes that share the machine during a phase.
struct CpuSample {
  std::optional<double> ingest;
  std::optional<double> mariadbd;
  std::optional<double> mosquitto;
};

// How one end-to-end run went.
struct IngestRun {
  std::string name;
  std::size_t batch_size = 0;
  bool triggers = true;
  // The simulator published everything before the ingester started, so only
  // broker -> ingester -> database runs in the timed window.
  bool from_backlog = false;
  std::size_t messages = 0;
  double seconds = 0;
  double rate = 0;
  std::optional<double> ingest_cpu;
  std::optional<double> mariadbd_cpu;
  std::optional<double> mosquitto_cpu;
  double simulate_cpu = 0;
  std::optional<double> simulate_rate;
  std::optional<std::uint64_t> peak_rss;
  std::optional<double> mean_batch;  // what the ingester achieved, from its metrics
  std::uint64_t facts = 0;
  std::uint64_t rejected = 0;
};

struct DirectRun {
  std::string name;
  std::size_t rows_per_statement = 0;
  std::size_t messages = 0;
  double seconds = 0;
  double rate = 0;
  std::optional<double> mariadbd_cpu;
  double client_cpu = 0;
  std::uint64_t facts = 0;
};

struct LatencyRun {
  std::size_t messages = 0;
  double target_rate = 0;
  double achieved_rate = 0;
  std::size_t seen = 0;
  std::size_t mismatched = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0, mean = 0;
  // The same path in two legs, split at the ingester's reception time
  // (messages.received_at, from the same clock as the publish time).
  double to_ingester_p50 = 0, to_ingester_p99 = 0;
  double to_commit_p50 = 0, to_commit_p99 = 0;
};

double per_100k(double cpu, std::size_t messages) {
  return messages == 0 ? 0 : cpu * 100'000.0 / static_cast<double>(messages);
}

std::optional<double> delta(std::optional<double> before, std::optional<double> after) {
  if (!before || !after) return std::nullopt;
  return *after - *before;
}

Json optional_json(std::optional<double> v, int decimals = 3) {
  if (!v) return nullptr;
  const double scale = std::pow(10.0, decimals);
  return std::round(*v * scale) / scale;
}

// A port nobody listens on right now, for the ingester's metrics endpoint.
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("cannot create a socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot find a free port");
  return ntohs(address.sin_port);
}

// One value from the ingester's Prometheus text; nullopt when unavailable.
std::optional<double> ingest_metric(std::uint16_t port, const std::string& name) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(std::chrono::seconds(2));
  client.set_read_timeout(std::chrono::seconds(2));
  const auto response = client.Get("/metrics");
  if (!response || response->status != 200) return std::nullopt;
  std::istringstream lines(response->body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with(name + " ")) return std::atof(line.c_str() + name.size() + 1);
  }
  return std::nullopt;
}

double self_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return s(usage.ru_utime) + s(usage.ru_stime);
}

class Bench {
 public:
  explicit Bench(Settings settings)
      : s_(std::move(settings)),
        db_url_(config::parse_db_url(s_.db)),
        mqtt_url_(config::parse_mqtt_url(s_.mqtt)) {}

  int run();

 private:
  simulate::Options simulate_options() const {
    simulate::Options o;
    o.installations = s_.installations;
    o.entities_per_installation = s_.entities;
    o.seed = s_.seed;
    simulate::validate(o);
    return o;
  }
  db::Connection connect() const { return db::Connection::open(db_url_); }
  std::uint64_t max_id(db::Connection& c) const {
    return std::stoull(c.query_value("SELECT COALESCE(MAX(id), 0) FROM messages").value_or("0"));
  }
  std::uint64_t count(db::Connection& c, const std::string& table) const {
    return std::stoull(c.query_value("SELECT COUNT(*) FROM " + table).value_or("0"));
  }

  void find_servers();
  CpuSample cpu(pid_t ingest) const;
  void empty_tables();
  void drop_triggers();
  void tidy_broker(const std::string& ingest_client_id);
  std::unique_ptr<Child> start_ingester(const fs::path& dir, const std::string& client_id,
                                        std::size_t batch_size, std::uint16_t metrics_port);
  std::uint64_t wait_until_subscribed(Child& ingester, db::Connection& c);
  void wait_for_rows(Child& ingester, Child* simulate, db::Connection& c, std::uint64_t target);

  DirectRun run_direct(const std::string& name, std::size_t rows_per_statement,
                       std::size_t messages);
  IngestRun run_ingest(const std::string& name, std::size_t batch_size, std::size_t messages,
                       bool triggers, bool from_backlog = false);
  LatencyRun run_latency();

  void print_and_save(const Json& machine, double total_seconds);

  Settings s_;
  config::DbUrl db_url_;
  config::MqttUrl mqtt_url_;
  std::optional<pid_t> mariadbd_pid_;
  std::optional<pid_t> mosquitto_pid_;
  std::vector<simulate::Message> messages_;  // the simulator's stream, as long as needed
  std::set<std::string> topics_;             // every topic in it, to clear retained copies
  int phase_number_ = 0;

  std::optional<DirectRun> ceiling_;
  std::optional<DirectRun> direct_single_;
  std::optional<DirectRun> ceiling_without_triggers_;
  std::vector<double> ceiling_rates_;  // every round, the best of which is ceiling_
  std::vector<double> end_to_end_rates_;
  std::optional<IngestRun> end_to_end_;
  std::optional<IngestRun> backlog_;
  std::optional<IngestRun> naive_;
  std::optional<LatencyRun> latency_;
  std::vector<IngestRun> sweep_;
};

void Bench::find_servers() {
  if (s_.mariadb_pid_file) {
    std::ifstream in(*s_.mariadb_pid_file);
    long pid = 0;
    if (in >> pid && pid > 0) mariadbd_pid_ = static_cast<pid_t>(pid);
  }
  if (!mariadbd_pid_) mariadbd_pid_ = listening_pid(db_url_.port);
  mosquitto_pid_ = listening_pid(mqtt_url_.port);
  if (!mariadbd_pid_) std::cerr << "bench: mariadbd's PID not found; its CPU is not reported\n";
  if (!mosquitto_pid_) std::cerr << "bench: Mosquitto's PID not found; its CPU is not reported\n";
}

CpuSample Bench::cpu(pid_t ingest) const {
  CpuSample sample;
  if (ingest > 0) sample.ingest = cpu_seconds(ingest);
  if (mariadbd_pid_) sample.mariadbd = cpu_seconds(*mariadbd_pid_);
  if (mosquitto_pid_) sample.mosquitto = cpu_seconds(*mosquitto_pid_);
  return sample;
}

// Empties what the trigger and the ingester write, so each phase starts from
// the same state; TRUNCATE also resets the auto-increment counters. Foreign
// key checks are off for the session because TRUNCATE refuses referenced
// tables otherwise.
void Bench::empty_tables() {
  db::Connection c = connect();
  const auto existing =
      c.query("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()");
  std::set<std::string> tables;
  for (const auto& row : existing) tables.insert(row[0].value_or(""));
  c.execute("SET SESSION foreign_key_checks = 0");
  for (const char* t : {"messages", "message_rejections", "facts", "current_states", "states",
                        "entities", "base_topics", "ingest_progress"}) {
    if (tables.contains(t)) c.execute(std::string("TRUNCATE TABLE ") + t);
  }
  c.execute("SET SESSION foreign_key_checks = 1");
}

void Bench::drop_triggers() {
  db::Connection c = connect();
  const auto triggers = c.query(
      "SELECT trigger_name FROM information_schema.triggers "
      "WHERE trigger_schema = DATABASE() AND event_object_table = 'messages'");
  for (const auto& row : triggers) {
    c.execute("DROP TRIGGER " + db::quote_identifier(row[0].value_or("")));
  }
}

// Leaves the broker as the next phase needs it: the stopped ingester's
// persistent session would otherwise queue every later message, and the
// retained copies of the simulator's topics would be replayed to the next
// subscriber and counted as its traffic.
void Bench::tidy_broker(const std::string& ingest_client_id) {
  { MqttSession end_session(mqtt_url_, ingest_client_id); }
  MqttSession tidy(mqtt_url_, "statesink-bench-tidy-" + std::to_string(::getpid()));
  for (const std::string& topic : topics_) tidy.publish(topic, "", true);
  tidy.drain(std::chrono::seconds(60));
}

std::unique_ptr<Child> Bench::start_ingester(const fs::path& dir, const std::string& client_id,
                                             std::size_t batch_size, std::uint16_t metrics_port) {
  std::vector<std::string> args = {s_.statesink.string(),
                                   "ingest",
                                   "--db",
                                   s_.db,
                                   "--mqtt",
                                   s_.mqtt,
                                   "--topic",
                                   "#",
                                   "--client-id",
                                   client_id,
                                   "--spool-dir",
                                   (dir / "spool").string(),
                                   "--batch-size",
                                   std::to_string(batch_size),
                                   "--report-interval",
                                   "2s",
                                   "--metrics-addr",
                                   "127.0.0.1:" + std::to_string(metrics_port)};
  args.insert(args.end(), s_.ingest_args.begin(), s_.ingest_args.end());
  return std::make_unique<Child>(args, dir, dir / "ingest.log");
}

// The ingester subscribes a moment after it connects; anything published
// before that would be lost to a new session. Probe messages are published
// until one arrives in the table. Returns the highest id afterwards.
std::uint64_t Bench::wait_until_subscribed(Child& ingester, db::Connection& c) {
  MqttSession probe(mqtt_url_, "statesink-bench-probe-" + std::to_string(::getpid()));
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  for (int attempt = 0; Clock::now() < deadline; ++attempt) {
    probe.publish("bench/probe/ready/state", std::to_string(attempt), false);
    const auto until = Clock::now() + std::chrono::seconds(1);
    while (Clock::now() < until) {
      probe.loop(std::chrono::milliseconds(20));
      if (max_id(c) > 0) {
        // A probe sent just before may still be on its way.
        probe.drain(std::chrono::seconds(5));
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        return max_id(c);
      }
      if (!ingester.running()) {
        throw std::runtime_error("statesink ingest exited during start-up:\n" +
                                 tail(ingester.log(), 20));
      }
    }
  }
  throw std::runtime_error("statesink ingest did not store a probe message within 60 s:\n" +
                           tail(ingester.log(), 20));
}

// Polls until `target` rows are in `messages`. MAX(id) reads one end of the
// primary key, so polling costs the server next to nothing.
void Bench::wait_for_rows(Child& ingester, Child* simulate, db::Connection& c,
                          std::uint64_t target) {
  std::uint64_t last = max_id(c);
  auto last_progress = Clock::now();
  while (true) {
    const std::uint64_t now = max_id(c);
    if (now >= target) return;
    if (now != last) {
      last = now;
      last_progress = Clock::now();
    }
    if (!ingester.running()) {
      throw std::runtime_error("statesink ingest exited:\n" + tail(ingester.log(), 20));
    }
    if (simulate != nullptr) {
      if (auto code = simulate->wait(std::chrono::milliseconds(0)); code && *code != 0) {
        throw std::runtime_error("statesink simulate failed:\n" + tail(simulate->log(), 20));
      }
    }
    if (Clock::now() - last_progress > std::chrono::seconds(60)) {
      throw std::runtime_error("no new rows for 60 s (" + std::to_string(now) + " of " +
                               std::to_string(target) + "); ingest log:\n" +
                               tail(ingester.log(), 20));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

DirectRun Bench::run_direct(const std::string& name, std::size_t rows_per_statement,
                            std::size_t messages) {
  empty_tables();
  db::Connection c = connect();
  std::string sql = "INSERT INTO messages (topic, payload, qos, retained, received_at) VALUES ";
  for (std::size_t i = 0; i < rows_per_statement; ++i)
    sql += i == 0 ? "(?,?,?,?,?)" : ",(?,?,?,?,?)";
  db::Statement full = c.prepare(sql);

  DirectRun r;
  r.name = name;
  r.rows_per_statement = rows_per_statement;
  r.messages = messages;
  std::vector<db::Param> params;
  std::vector<std::string> times;
  const CpuSample before = cpu(-1);
  const double client_before = self_cpu_seconds();
  const auto start = Clock::now();
  for (std::size_t done = 0; done < messages;) {
    const std::size_t rows = std::min(rows_per_statement, messages - done);
    // Reception times as the ingester would stamp them: now, in order.
    const std::int64_t stamp = now_micros();
    times.clear();
    for (std::size_t i = 0; i < rows; ++i) {
      times.push_back(datetime_micros(stamp + static_cast<std::int64_t>(i)));
    }
    params.clear();
    for (std::size_t i = 0; i < rows; ++i) {
      const simulate::Message& m = messages_[done + i];
      params.emplace_back(std::string_view(m.topic));
      params.emplace_back(db::Blob{m.payload});
      params.emplace_back(std::int64_t{simulate::kQos});
      // A live delivery reaches a subscriber with RETAIN=0, as in the end-to-end runs.
      params.emplace_back(std::int64_t{0});
      params.emplace_back(std::string_view(times[i]));
    }
    if (rows == rows_per_statement) {
      full.execute(params);
    } else {
      std::string tail_sql =
          "INSERT INTO messages (topic, payload, qos, retained, received_at) VALUES ";
      for (std::size_t i = 0; i < rows; ++i) tail_sql += i == 0 ? "(?,?,?,?,?)" : ",(?,?,?,?,?)";
      c.execute(tail_sql, params);
    }
    done += rows;
  }
  r.seconds = seconds_since(start);
  const CpuSample after = cpu(-1);
  r.client_cpu = self_cpu_seconds() - client_before;
  r.mariadbd_cpu = delta(before.mariadbd, after.mariadbd);
  r.rate = static_cast<double>(messages) / r.seconds;
  const std::uint64_t stored = count(c, "messages");
  if (stored != messages) {
    throw std::runtime_error(name + ": " + std::to_string(stored) + " rows in messages, expected " +
                             std::to_string(messages));
  }
  r.facts = count(c, "facts");
  return r;
}

IngestRun Bench::run_ingest(const std::string& name, std::size_t batch_size, std::size_t messages,
                            bool triggers, bool from_backlog) {
  empty_tables();
  const fs::path dir = s_.work / (std::to_string(++phase_number_) + "-" + name);
  fs::create_directories(dir);
  const std::string client_id =
      "statesink-bench-" + std::to_string(::getpid()) + "-" + std::to_string(phase_number_);

  IngestRun r;
  r.name = name;
  r.batch_size = batch_size;
  r.triggers = triggers;
  r.from_backlog = from_backlog;
  r.messages = messages;
  db::Connection c = connect();
  std::uint16_t metrics_port = free_port();
  auto ingester = start_ingester(dir, client_id, batch_size, metrics_port);
  const std::uint64_t baseline = wait_until_subscribed(*ingester, c);
  const std::vector<std::string> simulate_args = {s_.statesink.string(),
                                                  "simulate",
                                                  "--mqtt",
                                                  s_.mqtt,
                                                  "--client-id",
                                                  client_id + "-simulate",
                                                  "--installations",
                                                  std::to_string(s_.installations),
                                                  "--entities",
                                                  std::to_string(s_.entities),
                                                  "--seed",
                                                  std::to_string(s_.seed),
                                                  "--rate",
                                                  "0",
                                                  "--count",
                                                  std::to_string(messages)};
  std::unique_ptr<Child> simulate;
  if (from_backlog) {
    // The session and its subscription stay on the broker, which queues the
    // whole stream for it; the clock starts when the ingester comes back.
    if (const int code = ingester->stop(std::chrono::seconds(60)); code != 0) {
      throw std::runtime_error("statesink ingest exited with " + std::to_string(code) + ":\n" +
                               tail(ingester->log(), 20));
    }
    simulate = std::make_unique<Child>(simulate_args, dir, dir / "simulate.log");
    if (simulate->wait(std::chrono::minutes(10)).value_or(-1) != 0) {
      throw std::runtime_error("statesink simulate failed:\n" + tail(simulate->log(), 20));
    }
    metrics_port = free_port();
  }
  if (from_backlog) {
    // Resuming, the ingester subscribes again and the broker replays the
    // retained copy of every topic after the queue, as it does at every
    // reconnect of a real ingester: those rows arrive too.
    std::set<std::string> retained;
    for (std::size_t i = 0; i < messages; ++i) retained.insert(messages_[i].topic);
    r.messages = messages + retained.size();
  }
  const auto start = Clock::now();
  CpuSample before = cpu(-1);
  if (from_backlog) {
    ingester = start_ingester(dir, client_id, batch_size, metrics_port);
    before.ingest = 0.0;  // it starts now; all its CPU counts
  } else {
    before.ingest = cpu_seconds(ingester->pid());
    simulate = std::make_unique<Child>(simulate_args, dir, dir / "simulate.log");
  }
  wait_for_rows(*ingester, from_backlog ? nullptr : simulate.get(), c, baseline + r.messages);
  r.seconds = seconds_since(start);
  const CpuSample after = cpu(ingester->pid());
  r.peak_rss = peak_rss_bytes(ingester->pid());
  const auto inserted = ingest_metric(metrics_port, "statesink_messages_inserted_total");
  const auto batches = ingest_metric(metrics_port, "statesink_batches_total");
  if (inserted && batches && *batches > 0) r.mean_batch = *inserted / *batches;
  r.rate = static_cast<double>(r.messages) / r.seconds;
  r.ingest_cpu = delta(before.ingest, after.ingest);
  r.mariadbd_cpu = delta(before.mariadbd, after.mariadbd);
  r.mosquitto_cpu = delta(before.mosquitto, after.mosquitto);

  if (simulate->wait(std::chrono::seconds(60)).value_or(-1) != 0) {
    throw std::runtime_error("statesink simulate failed:\n" + tail(simulate->log(), 20));
  }
  r.simulate_cpu = simulate->cpu_seconds_at_exit();
  // "published N messages (N acknowledged) in S s: R/s"
  const std::string said = tail(simulate->log(), 1);
  if (const auto colon = said.rfind(": "); colon != std::string::npos) {
    r.simulate_rate = std::atof(said.c_str() + colon + 2);
  }
  if (const int code = ingester->stop(std::chrono::seconds(60)); code != 0) {
    throw std::runtime_error("statesink ingest exited with " + std::to_string(code) + ":\n" +
                             tail(ingester->log(), 20));
  }
  const std::uint64_t stored = count(c, "messages");
  if (stored < baseline + r.messages) {
    throw std::runtime_error(name + ": " + std::to_string(stored) + " rows, expected " +
                             std::to_string(baseline + r.messages));
  }
  if (triggers) {
    r.facts = count(c, "facts");
    r.rejected = count(c, "message_rejections");
  }
  tidy_broker(client_id);
  return r;
}

LatencyRun Bench::run_latency() {
  empty_tables();
  const fs::path dir = s_.work / (std::to_string(++phase_number_) + "-latency");
  fs::create_directories(dir);
  const std::string client_id =
      "statesink-bench-" + std::to_string(::getpid()) + "-" + std::to_string(phase_number_);
  const auto total = static_cast<std::size_t>(s_.latency_rate * s_.latency_seconds);

  db::Connection c = connect();
  auto ingester = start_ingester(dir, client_id, 1000, free_port());
  const std::uint64_t baseline = wait_until_subscribed(*ingester, c);

  std::vector<Clock::time_point> published(total);
  std::vector<std::int64_t> published_us(total);  // wall clock, to compare with received_at
  std::vector<Clock::time_point> seen(total);
  std::vector<std::int64_t> received_us(total);
  std::atomic<bool> publishing_done{false};
  std::exception_ptr publish_error;
  double publish_seconds = 0;
  std::thread publisher([&] {
    try {
      MqttSession session(mqtt_url_, client_id + "-latency");
      const auto start = Clock::now();
      for (std::size_t i = 0; i < total; ++i) {
        const auto due =
            start + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(static_cast<double>(i) / s_.latency_rate));
        // Sleeping rather than spinning: the benchmark shares the CPUs with
        // what it measures.
        for (auto now = Clock::now(); now < due; now = Clock::now()) {
          if (due - now >= std::chrono::milliseconds(2)) {
            session.loop(std::chrono::milliseconds(1));
          } else {
            std::this_thread::sleep_for(due - now);
          }
        }
        published[i] = Clock::now();
        published_us[i] = now_micros();
        session.publish(messages_[i].topic, messages_[i].payload, messages_[i].retain);
        // libmosquitto keeps only 20 QoS 1 messages in flight and sends the
        // next one when a PUBACK is read, which happens only in loop(): going
        // round it after every message keeps the publish time the send time.
        session.loop(std::chrono::milliseconds(0));
      }
      publish_seconds = seconds_since(start);
      session.drain(std::chrono::seconds(60));
    } catch (...) {
      publish_error = std::current_exception();
    }
    publishing_done = true;
  });

  // Rows arrive in publish order (one publisher, QoS 1, one subscriber, one
  // spool), so the k-th new row answers the k-th message; its topic and
  // payload are compared to be sure.
  LatencyRun r;
  r.messages = total;
  r.target_rate = s_.latency_rate;
  db::Statement poll = c.prepare(
      "SELECT id, topic, payload, CAST(UNIX_TIMESTAMP(received_at) * 1000000 AS SIGNED) "
      "FROM messages WHERE id > ? ORDER BY id");
  std::uint64_t last_id = baseline;
  std::optional<Clock::time_point> gave_up;
  while (r.seen < total) {
    const db::Param after[] = {last_id};
    const auto rows = poll.query(after);
    const auto now = Clock::now();
    for (const auto& row : rows) {
      last_id = std::stoull(row[0].value_or("0"));
      if (r.seen < total) {
        const simulate::Message& m = messages_[r.seen];
        if (row[1].value_or("") != m.topic || row[2].value_or("") != m.payload) ++r.mismatched;
        received_us[r.seen] = std::stoll(row[3].value_or("0"));
        seen[r.seen++] = now;
      }
    }
    if (publishing_done && !gave_up) gave_up = Clock::now() + std::chrono::seconds(30);
    if (gave_up && Clock::now() > *gave_up) break;
    if (!ingester->running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  publisher.join();
  if (publish_error) std::rethrow_exception(publish_error);
  if (r.seen < total) {
    throw std::runtime_error("latency: only " + std::to_string(r.seen) + " of " +
                             std::to_string(total) + " messages arrived; ingest log:\n" +
                             tail(ingester->log(), 20));
  }
  r.achieved_rate = static_cast<double>(total) / publish_seconds;
  std::vector<double> ms;
  ms.reserve(total);
  for (std::size_t i = 0; i < total; ++i) {
    ms.push_back(std::chrono::duration<double, std::milli>(seen[i] - published[i]).count());
  }
  std::sort(ms.begin(), ms.end());
  r.p50 = percentile(ms, 50);
  r.p90 = percentile(ms, 90);
  r.p99 = percentile(ms, 99);
  r.max = ms.back();
  double sum = 0;
  for (double v : ms) sum += v;
  r.mean = sum / static_cast<double>(ms.size());
  std::vector<double> to_ingester;
  std::vector<double> to_commit;
  for (std::size_t i = 0; i < total; ++i) {
    const double first = static_cast<double>(received_us[i] - published_us[i]) / 1000.0;
    to_ingester.push_back(first);
    to_commit.push_back(std::chrono::duration<double, std::milli>(seen[i] - published[i]).count() -
                        first);
  }
  std::sort(to_ingester.begin(), to_ingester.end());
  std::sort(to_commit.begin(), to_commit.end());
  r.to_ingester_p50 = percentile(to_ingester, 50);
  r.to_ingester_p99 = percentile(to_ingester, 99);
  r.to_commit_p50 = percentile(to_commit, 50);
  r.to_commit_p99 = percentile(to_commit, 99);
  if (const int code = ingester->stop(std::chrono::seconds(60)); code != 0) {
    throw std::runtime_error("statesink ingest exited with " + std::to_string(code));
  }
  tidy_broker(client_id);
  return r;
}

int Bench::run() {
  const auto started = Clock::now();
  fs::create_directories(s_.work);
  find_servers();
  Json machine = describe_machine(s_.work);
  {
    db::Connection c = connect();
    Json database;
    database["version"] = c.server_version();
    for (const char* variable :
         {"innodb_flush_log_at_trx_commit", "innodb_buffer_pool_size", "log_bin", "sync_binlog"}) {
      database[variable] = c.query_value(std::string("SELECT @@") + variable).value_or("");
    }
    machine["database"] = database;
  }
  if (!s_.broker_version.empty()) machine["broker"] = s_.broker_version;
  std::cout << "machine: " << machine_summary(machine) << "\n" << std::flush;

  const std::size_t longest =
      std::max({s_.messages, s_.naive_messages, s_.sweep_messages, s_.sweep_single_messages,
                static_cast<std::size_t>(s_.latency_rate * s_.latency_seconds)});
  messages_ = simulate::generate(simulate_options(), longest);
  for (const auto& m : messages_) topics_.insert(m.topic);
  std::cout << "traffic: " << s_.installations << " installation(s) x " << s_.entities
            << " entities, seed " << s_.seed << ", " << topics_.size() << " topics\n";

  auto step = [](const std::string& what) {
    std::cout << "  " << what << " ..." << std::flush;
    return Clock::now();
  };
  auto done = [](Clock::time_point since, double rate) {
    std::cout << " " << number(rate, 0) << " msg/s (" << number(seconds_since(since), 1) << " s)\n";
  };

  // Taken in turns, so that whatever else the machine does at the time
  // weighs on both alike; the best of each is reported.
  Clock::time_point t;
  for (unsigned round = 1; round <= s_.repeat; ++round) {
    const std::string of = " (" + std::to_string(round) + "/" + std::to_string(s_.repeat) + ")";
    t = step("ceiling: multi-row INSERTs of " + std::to_string(s_.messages) + " messages" + of);
    DirectRun c = run_direct("ceiling", s_.ceiling_rows, s_.messages);
    done(t, c.rate);
    ceiling_rates_.push_back(std::round(c.rate));
    if (!ceiling_ || c.rate > ceiling_->rate) ceiling_ = c;
    t = step("end to end: simulate -> broker -> ingest, " + std::to_string(s_.messages) +
             " messages" + of);
    IngestRun e = run_ingest("end-to-end", 1000, s_.messages, true);
    done(t, e.rate);
    end_to_end_rates_.push_back(std::round(e.rate));
    if (!end_to_end_ || e.rate > end_to_end_->rate) end_to_end_ = e;
  }
  t = step("end to end from a broker backlog, " + std::to_string(s_.messages) + " messages");
  backlog_ = run_ingest("backlog", 1000, s_.messages, true, true);
  done(t, backlog_->rate);
  t = step("naive: ingest --batch-size 1, " + std::to_string(s_.naive_messages) + " messages");
  naive_ = run_ingest("naive", 1, s_.naive_messages, true);
  done(t, naive_->rate);
  t = step("single-row autocommit INSERTs, " + std::to_string(s_.naive_messages) + " messages");
  direct_single_ = run_direct("single-row", 1, s_.naive_messages);
  done(t, direct_single_->rate);
  t = step("latency at " + number(s_.latency_rate, 0) + "/s for " + number(s_.latency_seconds, 0) +
           " s");
  latency_ = run_latency();
  std::cout << " p50 " << number(latency_->p50, 0) << " ms, p99 " << number(latency_->p99, 0)
            << " ms; to the ingester p50 " << number(latency_->to_ingester_p50, 0)
            << " ms, from there to committed p50 " << number(latency_->to_commit_p50, 0) << " ms ("
            << number(seconds_since(t), 1) << " s)\n";
  if (s_.sweep) {
    for (const bool triggers : {true, false}) {
      if (!triggers) {
        drop_triggers();
        t = step("ceiling without triggers: multi-row INSERTs of " + std::to_string(s_.messages) +
                 " messages");
        ceiling_without_triggers_ =
            run_direct("ceiling-without-triggers", s_.ceiling_rows, s_.messages);
        done(t, ceiling_without_triggers_->rate);
      }
      for (const std::size_t batch : {std::size_t{1}, std::size_t{100}, std::size_t{1000}}) {
        const std::size_t n = batch == 1 ? s_.sweep_single_messages : s_.sweep_messages;
        const std::string name = std::string("sweep-") + (triggers ? "with" : "without") +
                                 "-triggers-batch-" + std::to_string(batch);
        std::optional<IngestRun> best;
        for (unsigned round = 1; round <= s_.repeat; ++round) {
          t = step("batch sweep: batch size " + std::to_string(batch) + ", " +
                   (triggers ? "with" : "without") + " triggers, " + std::to_string(n) +
                   " messages (" + std::to_string(round) + "/" + std::to_string(s_.repeat) + ")");
          IngestRun r = run_ingest(name, batch, n, triggers);
          done(t, r.rate);
          if (!best || r.rate > best->rate) best = r;
        }
        sweep_.push_back(*best);
      }
    }
  }
  machine["load_average_at_end"] = [] {
    std::ifstream in("/proc/loadavg");
    std::string line;
    std::getline(in, line);
    return line;
  }();
  print_and_save(machine, seconds_since(started));
  return 0;
}

// A Markdown table, numbers right-aligned: readable in a terminal and pasted
// into the README as it is.
class MarkdownTable {
 public:
  explicit MarkdownTable(std::vector<std::string> header) : header_(std::move(header)) {}
  void row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  void print(std::ostream& out) const {
    std::vector<std::size_t> width(header_.size(), 3);
    auto measure = [&](const std::vector<std::string>& cells) {
      for (std::size_t i = 0; i < cells.size() && i < width.size(); ++i) {
        width[i] = std::max(width[i], display(cells[i]));
      }
    };
    measure(header_);
    for (const auto& r : rows_) measure(r);
    auto line = [&](const std::vector<std::string>& cells, bool is_header) {
      out << "|";
      for (std::size_t i = 0; i < width.size(); ++i) {
        const std::string cell = i < cells.size() ? cells[i] : "";
        const std::size_t pad = width[i] - display(cell);
        const bool right = i > 0 && !is_header;
        out << ' ' << (right ? std::string(pad, ' ') : "") << cell
            << (right ? "" : std::string(pad, ' ')) << " |";
      }
      out << "\n";
    };
    line(header_, true);
    out << "|";
    for (std::size_t i = 0; i < width.size(); ++i) {
      out << (i == 0 ? " " : " ") << std::string(width[i] - (i > 0 ? 1 : 0), '-')
          << (i > 0 ? ":" : "") << " |";
    }
    out << "\n";
    for (const auto& r : rows_) line(r, false);
  }

 private:
  static std::size_t display(const std::string& s) {
    std::size_t n = 0;
    for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
    return n;
  }
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

std::string cell(std::optional<double> v, int decimals) { return v ? number(*v, decimals) : "-"; }

void Bench::print_and_save(const Json& machine, double total_seconds) {
  const IngestRun& e2e = *end_to_end_;
  const IngestRun& naive = *naive_;
  const DirectRun& ceiling = *ceiling_;
  const LatencyRun& lat = *latency_;
  const double vs_ceiling = e2e.rate / ceiling.rate;
  const double vs_naive = e2e.rate / naive.rate;
  const double vs_ceiling_backlog = backlog_->rate / ceiling.rate;
  // All four processes of the live run share the machine's CPUs: the rate at
  // which they would use every CPU completely.
  const double cpus = std::max(1.0, machine.value("cpus", 1.0));
  const double e2e_cpu = e2e.ingest_cpu.value_or(0) + e2e.mariadbd_cpu.value_or(0) +
                         e2e.mosquitto_cpu.value_or(0) + e2e.simulate_cpu;
  const double cpu_bound = e2e_cpu > 0 ? cpus * static_cast<double>(e2e.messages) / e2e_cpu : 0;
  auto cpu100k = [](std::optional<double> cpu, std::size_t n) -> std::optional<double> {
    if (!cpu) return std::nullopt;
    return per_100k(*cpu, n);
  };
  auto mib = [](std::optional<std::uint64_t> b) -> std::optional<double> {
    if (!b) return std::nullopt;
    return static_cast<double>(*b) / (1024.0 * 1024.0);
  };

  std::ostream& out = std::cout;
  out << "\nstatesink benchmark, " << machine_summary(machine) << "\n";
  out << "traffic: statesink simulate, " << s_.installations << " installation(s) x " << s_.entities
      << " entities, seed " << s_.seed << "; run took " << number(total_seconds, 0) << " s\n\n";
  out << "CPU seconds per 100k messages of each process, counted while the phase ran\n\n";
  MarkdownTable main({"phase", "messages", "seconds", "messages/s", "ingest CPU", "mariadbd CPU",
                      "mosquitto CPU", "simulate CPU", "ingest peak RSS MiB"});
  const std::string best = s_.repeat > 1 ? ", best of " + std::to_string(s_.repeat) : std::string();
  main.row({"database ceiling: " + std::to_string(ceiling.rows_per_statement) +
                "-row INSERTs, triggers on" + best,
            std::to_string(ceiling.messages), number(ceiling.seconds, 2), number(ceiling.rate, 0),
            "-", cell(cpu100k(ceiling.mariadbd_cpu, ceiling.messages), 2), "-", "-", "-"});
  auto ingest_row = [&](const std::string& label, const IngestRun& r) {
    main.row({label, std::to_string(r.messages), number(r.seconds, 2), number(r.rate, 0),
              cell(cpu100k(r.ingest_cpu, r.messages), 2),
              cell(cpu100k(r.mariadbd_cpu, r.messages), 2),
              cell(cpu100k(r.mosquitto_cpu, r.messages), 2),
              r.from_backlog ? "(before)" : number(per_100k(r.simulate_cpu, r.messages), 2),
              cell(mib(r.peak_rss), 1)});
  };
  ingest_row("end to end: simulate → mosquitto → ingest (batch ≤ 1000)" + best, e2e);
  ingest_row("naive: same ingester, --batch-size 1", naive);
  main.row({"single-row autocommit INSERTs (reference)", std::to_string(direct_single_->messages),
            number(direct_single_->seconds, 2), number(direct_single_->rate, 0), "-",
            cell(cpu100k(direct_single_->mariadbd_cpu, direct_single_->messages), 2), "-", "-",
            "-"});
  ingest_row("end to end from a broker backlog (published before; + retained replay)", *backlog_);
  main.print(out);

  out << "\n";
  MarkdownTable latency({"latency, publish → committed", "messages", "rate/s", "p50 ms", "p90 ms",
                         "p99 ms", "max ms"});
  std::string ingest_settings =
      "ingest defaults: batch ≤ 1000, --batch-delay 100ms, --sync interval";
  for (const std::string& a : s_.ingest_args) ingest_settings += ", " + a;
  latency.row({ingest_settings, std::to_string(lat.messages), number(lat.achieved_rate, 0),
               number(lat.p50, 0), number(lat.p90, 0), number(lat.p99, 0), number(lat.max, 0)});
  latency.print(out);

  struct Target {
    std::string name;
    std::string target;
    double value;
    bool holds;
  };
  const std::vector<Target> targets = {
      {"end to end / ceiling", "≥ 0.8", vs_ceiling, vs_ceiling >= 0.8},
      {"end to end / naive", "≥ 20", vs_naive, vs_naive >= 20},
      {"latency p99 ms at " + number(lat.target_rate, 0) + "/s", "< 500", lat.p99, lat.p99 < 500},
  };
  out << "\n";
  MarkdownTable checks({"ratio / target", "value", "target", "holds"});
  for (const auto& t : targets) {
    checks.row({t.name, number(t.value, t.value < 10 ? 2 : 1), t.target, t.holds ? "yes" : "NO"});
  }
  checks.print(out);
  out << "\nend to end from a broker backlog / ceiling: " << number(vs_ceiling_backlog, 2)
      << "; the live run used " << number(per_100k(e2e_cpu, e2e.messages), 1)
      << " CPU s per 100k messages in all, so " << number(cpus, 0) << " CPUs allow at most "
      << number(cpu_bound, 0) << " msg/s (it reached " << number(e2e.rate / cpu_bound * 100, 0)
      << "% of that)\n";

  if (!sweep_.empty()) {
    out << "\n";
    MarkdownTable sweep({"batch sweep, end to end" + best, "messages", "with triggers msg/s",
                         "without triggers msg/s", "mean batch with / without"});
    for (const std::size_t batch : {std::size_t{1}, std::size_t{100}, std::size_t{1000}}) {
      std::vector<std::string> cells = {"--batch-size " + std::to_string(batch), "", "-", "-", ""};
      std::string batches[2] = {"-", "-"};
      for (const IngestRun& r : sweep_) {
        if (r.batch_size != batch) continue;
        cells[1] = std::to_string(r.messages);
        cells[r.triggers ? 2 : 3] = number(r.rate, 0);
        batches[r.triggers ? 0 : 1] = cell(r.mean_batch, 0);
      }
      cells[4] = batches[0] + " / " + batches[1];
      sweep.row(cells);
    }
    sweep.print(out);
    if (ceiling_without_triggers_) {
      out << "\ndatabase ceiling without triggers: " << number(ceiling_without_triggers_->rate, 0)
          << " msg/s ("
          << cell(cpu100k(ceiling_without_triggers_->mariadbd_cpu,
                          ceiling_without_triggers_->messages),
                  2)
          << " mariadbd CPU s/100k); with them: " << number(ceiling.rate, 0) << " msg/s\n";
    }
  }

  auto ingest_json = [&](const IngestRun& r) {
    Json j;
    j["batch_size"] = r.batch_size;
    j["triggers"] = r.triggers;
    j["from_broker_backlog"] = r.from_backlog;
    j["messages"] = r.messages;
    j["seconds"] = std::round(r.seconds * 1000) / 1000;
    j["messages_per_second"] = std::round(r.rate);
    j["ingest_cpu_seconds_per_100k"] = optional_json(cpu100k(r.ingest_cpu, r.messages));
    j["mariadbd_cpu_seconds_per_100k"] = optional_json(cpu100k(r.mariadbd_cpu, r.messages));
    j["mosquitto_cpu_seconds_per_100k"] = optional_json(cpu100k(r.mosquitto_cpu, r.messages));
    j["simulate_cpu_seconds_per_100k"] =
        r.from_backlog ? Json(nullptr) : optional_json(per_100k(r.simulate_cpu, r.messages));
    j["simulate_publish_rate"] = optional_json(r.simulate_rate, 0);
    j["ingest_peak_rss_mib"] = optional_json(mib(r.peak_rss), 1);
    j["mean_batch_size"] = optional_json(r.mean_batch, 1);
    if (r.triggers) {
      j["facts"] = r.facts;
      j["rejected"] = r.rejected;
    }
    return j;
  };
  auto direct_json = [&](const DirectRun& r) {
    Json j;
    j["rows_per_statement"] = r.rows_per_statement;
    j["messages"] = r.messages;
    j["seconds"] = std::round(r.seconds * 1000) / 1000;
    j["messages_per_second"] = std::round(r.rate);
    j["mariadbd_cpu_seconds_per_100k"] = optional_json(cpu100k(r.mariadbd_cpu, r.messages));
    j["client_cpu_seconds_per_100k"] = optional_json(per_100k(r.client_cpu, r.messages));
    j["facts"] = r.facts;
    return j;
  };

  Json j;
  j["benchmark"] = "statesink";
  j["duration_seconds"] = std::round(total_seconds);
  j["machine"] = machine;
  Json settings;
  settings["installations"] = s_.installations;
  settings["entities_per_installation"] = s_.entities;
  settings["seed"] = s_.seed;
  settings["messages"] = s_.messages;
  settings["ceiling_rows_per_statement"] = s_.ceiling_rows;
  settings["repeat"] = s_.repeat;
  settings["naive_messages"] = s_.naive_messages;
  settings["latency_rate"] = s_.latency_rate;
  settings["latency_seconds"] = s_.latency_seconds;
  settings["sweep"] = s_.sweep;
  settings["sweep_messages"] = s_.sweep_messages;
  settings["sweep_single_messages"] = s_.sweep_single_messages;
  settings["ingest_args"] = s_.ingest_args;
  j["settings"] = settings;
  Json results;
  results["ceiling"] = direct_json(ceiling);
  results["ceiling"]["rounds_messages_per_second"] = ceiling_rates_;
  results["end_to_end"] = ingest_json(e2e);
  results["end_to_end"]["rounds_messages_per_second"] = end_to_end_rates_;
  results["end_to_end_from_backlog"] = ingest_json(*backlog_);
  results["naive"] = ingest_json(naive);
  results["single_row_autocommit"] = direct_json(*direct_single_);
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
  results["latency"] = l;
  Json sweep = Json::array();
  for (const IngestRun& r : sweep_) sweep.push_back(ingest_json(r));
  results["batch_sweep"] = sweep;
  if (ceiling_without_triggers_) {
    results["ceiling_without_triggers"] = direct_json(*ceiling_without_triggers_);
  }
  j["results"] = results;
  j["ratios"] = {
      {"end_to_end_vs_ceiling", std::round(vs_ceiling * 1000) / 1000},
      {"end_to_end_vs_naive", std::round(vs_naive * 10) / 10},
      {"end_to_end_from_backlog_vs_ceiling", std::round(vs_ceiling_backlog * 1000) / 1000}};
  j["end_to_end_cpu"] = {{"cpu_seconds_per_100k_all_processes",
                          std::round(per_100k(e2e_cpu, e2e.messages) * 100) / 100},
                         {"cpus", static_cast<int>(cpus)},
                         {"cpu_bound_messages_per_second", std::round(cpu_bound)}};
  Json checks_json = Json::array();
  for (const auto& t : targets) {
    checks_json.push_back(
        {{"name", t.name}, {"target", t.target}, {"value", t.value}, {"holds", t.holds}});
  }
  j["targets"] = checks_json;

  fs::create_directories(fs::absolute(s_.json).parent_path());
  std::ofstream file(s_.json);
  file << j.dump(2) << "\n";
  if (!file) throw std::runtime_error("cannot write " + s_.json.string());
  out << "\nresults written to " << s_.json.string() << "\n";
}

}  // namespace
}  // namespace statesink::bench

int main(int argc, char** argv) {
  using statesink::bench::Settings;
  Settings s;
  CLI::App app{
      "statesink benchmark: database ceiling, end to end, naive design, latency and batch sweep "
      "against a private MariaDB and Mosquitto. It empties the tables of the database it is "
      "given: point it only at a database of its own (bench/run.sh does)."};
  const char* db = std::getenv("STATESINK_DB");
  const char* mqtt = std::getenv("STATESINK_MQTT");
  s.db = db != nullptr ? db : "";
  s.mqtt = mqtt != nullptr ? mqtt : "";
  std::string mariadb_pid_file;
  bool no_sweep = false;
  app.add_option("--statesink", s.statesink, "The statesink binary to run")->required();
  app.add_option("--db", s.db, "Database URL (STATESINK_DB); its tables are emptied");
  app.add_option("--mqtt", s.mqtt, "Broker URL (STATESINK_MQTT)");
  app.add_option("--work", s.work, "Folder for spools and logs")->required();
  app.add_option("--json", s.json, "Where to write the results")->required();
  app.add_option("--mariadb-pid-file", mariadb_pid_file,
                 "mariadbd's PID file (default: the process listening on the database port)");
  app.add_option("--broker-version", s.broker_version, "Broker version, for the description");
  app.add_option("--installations", s.installations, "Simulated installations")
      ->capture_default_str();
  app.add_option("--entities", s.entities, "Entities per installation")->capture_default_str();
  app.add_option("--seed", s.seed, "Simulator seed")->capture_default_str();
  app.add_option("--messages", s.messages, "Messages for the ceiling and end to end")
      ->capture_default_str();
  app.add_option("--ceiling-rows", s.ceiling_rows, "Rows per INSERT for the ceiling")
      ->capture_default_str();
  app.add_option("--repeat", s.repeat,
                 "Rounds of the ceiling, end to end and each sweep run; the best counts")
      ->capture_default_str();
  app.add_option("--naive-messages", s.naive_messages, "Messages for the naive design")
      ->capture_default_str();
  app.add_option("--latency-rate", s.latency_rate, "Messages/s for the latency phase")
      ->capture_default_str();
  app.add_option("--latency-seconds", s.latency_seconds, "Length of the latency phase")
      ->capture_default_str();
  app.add_flag("--no-sweep", no_sweep, "Skip the batch-size sweep");
  app.add_option("--sweep-messages", s.sweep_messages,
                 "Messages per sweep run at batch sizes 100 and 1000")
      ->capture_default_str();
  app.add_option("--sweep-single-messages", s.sweep_single_messages,
                 "Messages per sweep run at batch size 1")
      ->capture_default_str();
  app.add_option(
         "--ingest-arg", s.ingest_args,
         "Extra argument for every statesink ingest, repeatable (--ingest-arg=--sync=never)")
      ->allow_extra_args(false);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  s.sweep = !no_sweep;
  if (!mariadb_pid_file.empty()) s.mariadb_pid_file = mariadb_pid_file;
  if (s.db.empty() || s.mqtt.empty()) {
    std::cerr << "bench: give --db and --mqtt (or STATESINK_DB and STATESINK_MQTT)\n";
    return 2;
  }
  if (s.messages == 0 || s.naive_messages == 0 || s.ceiling_rows == 0 || s.latency_rate <= 0 ||
      s.latency_seconds <= 0 || s.repeat == 0 || s.sweep_messages == 0 ||
      s.sweep_single_messages == 0) {
    std::cerr << "bench: counts, rates and durations must be above zero\n";
    return 2;
  }
  s.statesink = std::filesystem::absolute(s.statesink);
  s.work = std::filesystem::absolute(s.work);
  try {
    return statesink::bench::Bench(std::move(s)).run();
  } catch (const std::exception& e) {
    std::cerr << "bench: " << e.what() << "\n";
    return 1;
  }
}
