#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace statesink::testing {

// A child process owned by the test. It is started with PR_SET_PDEATHSIG so it
// dies with the test process even when the test crashes; the destructor stops
// it (SIGTERM, then SIGKILL after a grace period) and reaps it.
class Process {
 public:
  struct Options {
    std::map<std::string, std::string> env;  // added to / overriding the inherited environment
    std::vector<std::string> unset_env;      // removed from the inherited environment
    std::optional<std::filesystem::path> cwd;
    std::optional<std::filesystem::path> stdout_file;  // default: inherit
    std::optional<std::filesystem::path> stderr_file;  // default: inherit
    std::optional<std::filesystem::path> stdin_file;   // default: /dev/null
    // Append to stdout_file / stderr_file instead of truncating them, so a
    // program started again writes one log.
    bool append_output = false;
  };

  Process(const std::vector<std::string>& argv, const Options& options);
  Process(const std::vector<std::string>& argv) : Process(argv, Options{}) {}
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;

  pid_t pid() const { return pid_; }
  bool running();        // false once it has exited (reaps it)
  void signal(int sig);  // no-op once exited
  // Waits for exit; returns the exit code, 128+signal when killed, nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // SIGTERM, wait up to `grace`, then SIGKILL; returns the exit status as wait() does.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  // User + system CPU seconds of the process and its threads, known once it
  // has been reaped here; 0 before.
  double cpu_seconds_at_exit() const { return cpu_seconds_at_exit_; }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  double cpu_seconds_at_exit_ = 0;
};

struct CommandResult {
  int exit_code = -1;  // 128+signal when killed; -1 when it timed out (and was killed)
  std::string out;
  std::string err;
};

// Runs a command to completion, capturing stdout and stderr.
CommandResult run_command(const std::vector<std::string>& argv,
                          const Process::Options& options = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(120));

// Polls `condition` until it is true or `timeout` passes; returns its last value.
template <typename Condition>
bool wait_until(Condition condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = std::chrono::milliseconds(20));

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it by the destructor.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "statesink-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  // Leaves the directory in place when this object goes away (to look at it after a run).
  void keep() { keep_ = true; }

 private:
  std::filesystem::path path_;
  bool keep_ = false;
};

// A TCP port on 127.0.0.1 that nothing listens on right now.
std::uint16_t free_loopback_port();

// The absolute path of a program found in $PATH, then /usr/sbin and /usr/bin (server
// binaries live in sbin, which is often missing from a user's PATH); throws if absent.
std::filesystem::path find_program(const std::string& name);

// The last `lines` lines of a text file, or "" when it cannot be read (for error messages).
std::string tail_file(const std::filesystem::path& file, std::size_t lines = 40);

}  // namespace statesink::testing

#include "process_inl.h"
