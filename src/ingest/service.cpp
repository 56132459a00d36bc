#include "ingest/service.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <ctime>
#include <optional>
#include <thread>

#include "ingest/metrics_server.h"
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

}  // namespace

int run_service(const ServiceOptions& options) {
  const sigset_t signals = stop_signals();
  spool::Spool spool(options.spool);
  report_recovery(spool);
  Metrics metrics;

  CommitterOptions committer_options = options.committer;
  committer_options.spool_id = spool_identity(options.spool.directory);
  Committer committer(committer_options, spool, metrics);

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
  log::info("database " + options.committer.db.redacted() + " ready; spool " +
            options.spool.directory.string() + " holds " + std::to_string(backlog.records) +
            " message(s) not yet inserted");

  std::optional<MetricsServer> http;
  if (!options.metrics_address.empty()) {
    http.emplace(options.metrics_address, metrics);
    log::info("metrics on http://" + options.metrics_address + "/metrics and /healthz");
  }

  std::atomic<bool> abandon{false};
  std::stop_source drain;
  std::exception_ptr committer_failure;
  std::jthread committer_thread([&] {
    try {
      committer.run(drain.get_token(), abandon);
    } catch (...) {
      committer_failure = std::current_exception();
    }
  });
  Receiver receiver(options.receiver, spool, metrics);
  std::jthread receiver_thread([&](std::stop_token stop) { receiver.run(stop); });

  Reporter reporter(metrics);
  auto next_report = std::chrono::steady_clock::now() + options.report_interval;
  int signal = 0;
  while (signal == 0 && !committer_failure) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_report) {
      log::info(reporter.line(now));
      next_report = now + options.report_interval;
    }
    signal = wait_for_signal(
        signals, std::min<std::chrono::milliseconds>(
                     std::chrono::milliseconds(500),
                     std::chrono::duration_cast<std::chrono::milliseconds>(next_report - now)));
  }

  if (signal != 0) {
    log::info(std::string("received ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") +
              ": no longer reading from the broker; committing what is held");
  }
  receiver_thread.request_stop();
  receiver_thread.join();
  spool.sync();
  drain.request_stop();
  spool.request_stop();

  const auto deadline = std::chrono::steady_clock::now() + options.shutdown_timeout;
  while (!committer_failure && spool.backlog().records > 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      log::warn("the database did not take the rest within the shutdown timeout; " +
                std::to_string(spool.backlog().records) +
                " message(s) stay in the spool and are inserted at the next start");
      break;
    }
    if (wait_for_signal(signals, std::chrono::milliseconds(100)) != 0) {
      log::warn("second stop signal: exiting now; " + std::to_string(spool.backlog().records) +
                " message(s) stay in the spool and are inserted at the next start");
      break;
    }
  }
  abandon = true;
  committer_thread.join();
  if (committer_failure) {
    std::rethrow_exception(committer_failure);
  }
  log::info(reporter.line(std::chrono::steady_clock::now()));
  log::info("stopped: " + std::to_string(metrics.inserted.load()) + " message(s) inserted, " +
            std::to_string(spool.backlog().records) + " left in the spool");
  return 0;
}

}  // namespace statesink::ingest
