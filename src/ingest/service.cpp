#include "ingest/service.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <optional>
#include <thread>

#include "ingest/metrics_server.h"
#include "ingest/partition_keeper.h"
#include "ingest/mysql_store.h"
#include "ingest/spool_identity.h"
#include "util/log.h"

namespace statesink::ingest {
namespace {

// SIGINT and SIGTERM are taken by sigtimedwait on the main thread; blocking
// them first makes every thread started later inherit the mask.
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// Waits up to `timeout` for a stop signal; returns it, or 0.
int wait_for_signal(const sigset_t& set, std::chrono::milliseconds timeout) {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  ts.tv_nsec = static_cast<long>((timeout.count() % 1000) * 1'000'000);
  const int signal = sigtimedwait(&set, nullptr, &ts);
  return signal > 0 ? signal : 0;
}

void report_recovery(const spool::Spool& spool) {
  const auto& report = spool.recovery();
  const std::string where = "spool " + spool.options().directory.string() + ": ";
  if (report.torn_bytes > 0) {
    log::info(where + "cut " + std::to_string(report.torn_bytes) +
              " byte(s) of an interrupted write from the newest segment (never acknowledged, so "
              "the broker sends them again)");
  }
  for (const auto& problem : report.problems) {
    log::error(where + problem);
  }
}

// The first exception of either worker thread, kept for the main thread.
class Failure {
 public:
  void set(const char* thread, std::exception_ptr error) {
    std::lock_guard lock(mutex_);
    if (!error_) {
      thread_ = thread;
      error_ = std::move(error);
    }
    failed_ = true;
  }
  bool failed() const { return failed_; }
  std::string describe() const {
    std::lock_guard lock(mutex_);
    try {
      std::rethrow_exception(error_);
    } catch (const std::exception& e) {
      return std::string(thread_) + " failed: " + e.what();
    } catch (...) {
      return std::string(thread_) + " failed";
    }
  }

 private:
  mutable std::mutex mutex_;
  const char* thread_ = "";
  std::exception_ptr error_;
  std::atomic<bool> failed_{false};
};

// A worker thread whose end the main thread can wait for with a deadline.
class Worker {
 public:
  template <typename Body>
  Worker(const char* name, Failure& failure, Body body)
      : thread_([this, name, &failure, body = std::move(body)](std::stop_token stop) {
          try {
            body(stop);
          } catch (...) {
            failure.set(name, std::current_exception());
          }
          done_ = true;
        }) {}
  ~Worker() {
    // Only reached once done() (see run_service): joining cannot hang.
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  bool done() const { return done_; }
  void request_stop() { thread_.request_stop(); }

 private:
  std::atomic<bool> done_{false};
  std::jthread thread_;
};

}  // namespace

int run_service(const ServiceOptions& options) {
  const sigset_t signals = stop_signals();
  spool::Spool spool(options.spool);
  report_recovery(spool);
  Metrics metrics;

  const std::string spool_id = spool_identity(options.spool.directory);
  CommitterOptions committer_options = options.committer;
  committer_options.db_name = options.db.redacted();
  const std::size_t batch_size = committer_options.batch_size;
  Committer committer(
      committer_options,
      [&options, spool_id, batch_size] {
        return std::make_unique<MysqlStore>(options.db, spool_id, batch_size);
      },
      spool, metrics);
  // Built before any thread starts, so a bad setting it finds ends the
  // process plainly.
  Receiver receiver(options.receiver, spool, metrics);

  // The database says where the spool resumes, so it comes first; the broker
  // keeps queueing for the session meanwhile.
  std::uint64_t committed = 0;
  {
    std::stop_source waiting;
    std::jthread watcher([&](std::stop_token stop) {
      while (!stop.stop_requested()) {
        if (wait_for_signal(signals, std::chrono::milliseconds(200)) != 0) {
          waiting.request_stop();
          return;
        }
      }
    });
    const bool ready = committer.connect_and_position(waiting.get_token(), committed);
    watcher.request_stop();
    if (!ready) {
      log::info("stopped before the database was reachable; nothing was received");
      return 0;
    }
  }
  spool.seek_after(committed);
  const auto backlog = spool.backlog();
  log::info("database " + options.db.redacted() + " ready; spool " +
            options.spool.directory.string() + " holds " + std::to_string(backlog.records) +
            " message(s) not yet inserted");

  // Hourly is plenty: partitions are kept whole periods ahead.
  const PartitionKeeper partition_keeper(options.db, std::chrono::hours(1));

  std::optional<MetricsServer> http;
  if (!options.metrics_address.empty()) {
    http.emplace(options.metrics_address, metrics);
    log::info("metrics on http://" + options.metrics_address + "/metrics and /healthz");
  }

  Failure failure;
  std::atomic<bool> abandon{false};
  std::stop_source drain;
  Worker committer_thread("the database writer", failure,
                          [&](std::stop_token) { committer.run(drain.get_token(), abandon); });
  Worker receiver_thread("the MQTT receiver", failure,
                         [&](std::stop_token stop) { receiver.run(stop); });

  Reporter reporter(metrics);
  auto next_report = std::chrono::steady_clock::now() + options.report_interval;
  int signal = 0;
  while (signal == 0 && !failure.failed()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_report) {
      log::info(reporter.line(now));
      next_report = now + options.report_interval;
    }
    signal = wait_for_signal(
        signals, std::min<std::chrono::milliseconds>(
                     std::chrono::milliseconds(200),
                     std::chrono::duration_cast<std::chrono::milliseconds>(next_report - now)));
  }

  // From here on the shutdown timeout runs, whatever either thread is doing.
  const auto deadline = std::chrono::steady_clock::now() + options.shutdown_timeout;
  if (signal != 0) {
    log::info(std::string("received ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") +
              ": no longer reading from the broker; committing what is held");
  } else {
    log::error(failure.describe() + "; stopping");
  }
  receiver_thread.request_stop();
  // What was received survives a power cut from now on, whatever follows.
  try {
    spool.sync();
  } catch (const std::exception& e) {
    log::error(std::string("cannot sync the spool: ") + e.what());
  }
  // True when `done` came before the deadline; a second signal gives up at once.
  auto wait_until = [&](auto done) {
    while (!done()) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) {
        return false;
      }
      if (wait_for_signal(
              signals, std::min<std::chrono::milliseconds>(
                           std::chrono::milliseconds(100),
                           std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
                               std::chrono::milliseconds(1))) != 0) {
        log::warn("second stop signal: exiting now");
        return false;
      }
    }
    return true;
  };
  bool clean = wait_until([&] { return receiver_thread.done(); });
  drain.request_stop();
  spool.request_stop();
  if (clean && !failure.failed()) {
    clean = wait_until([&] { return spool.backlog().records == 0 || committer_thread.done(); });
  }
  abandon = true;
  if (!wait_until([&] { return committer_thread.done() && receiver_thread.done(); })) {
    // A thread is stuck in a connect or a statement that does not return.
    // Everything received is in the spool, which the next start resumes,
    // and an unfinished transaction rolls back when the connection closes.
    log::warn("the shutdown timeout passed with " +
              std::string(receiver_thread.done() ? "" : "the MQTT receiver ") +
              (committer_thread.done() ? "" : "the database writer ") + "still busy; " +
              std::to_string(spool.backlog().records) +
              " message(s) stay in the spool and are inserted at the next start");
    try {
      spool.sync();
    } catch (const std::exception&) {
    }
    std::_Exit(failure.failed() ? 1 : 0);
  }
  if (failure.failed()) {
    throw std::runtime_error(failure.describe());
  }
  if (!clean) {
    log::warn(std::to_string(spool.backlog().records) +
              " message(s) stay in the spool and are inserted at the next start");
  }
  log::info(reporter.line(std::chrono::steady_clock::now()));
  log::info("stopped: " + std::to_string(metrics.inserted.load()) + " message(s) inserted, " +
            std::to_string(spool.backlog().records) + " left in the spool");
  return 0;
}

}  // namespace statesink::ingest
