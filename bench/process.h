#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace statesink::bench {

// A program the benchmark starts (statesink ingest, statesink simulate). It
// dies with the benchmark even when the benchmark crashes (PR_SET_PDEATHSIG),
// and the destructor stops it by its PID, so nothing outlives a run.
class Child {
 public:
  // stdout and stderr go to `log`; the working directory is `cwd`, so no
  // stray .env file of the caller's directory changes its settings.
  Child(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
        const std::filesystem::path& log);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  const std::filesystem::path& log() const { return log_; }
  bool running();
  // Exit code (128 + signal when killed), or nullopt when still running at the timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // SIGTERM, then SIGKILL after `grace`; returns the exit code.
  int stop(std::chrono::milliseconds grace);
  // CPU seconds (user + system) of the exited process and its threads.
  double cpu_seconds_at_exit() const { return exit_cpu_seconds_; }

 private:
  pid_t pid_ = -1;
  std::filesystem::path log_;
  std::optional<int> status_;
  double exit_cpu_seconds_ = 0;
};

// User + system CPU seconds of a running process, all threads; nullopt when it is gone.
std::optional<double> cpu_seconds(pid_t pid);
// VmHWM, the peak resident memory, in bytes; nullopt when the process is gone.
std::optional<std::uint64_t> peak_rss_bytes(pid_t pid);
// The process listening on 127.0.0.1:port (or any address) over TCP, found
// through /proc; nullopt when no process visible to us holds that socket.
std::optional<pid_t> listening_pid(std::uint16_t port);
// The last `lines` lines of a file, for error messages.
std::string tail(const std::filesystem::path& file, std::size_t lines);

}  // namespace statesink::bench
