#include "process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

#include "files_detail.h"

extern char** environ;  // POSIX requires the program to declare it

namespace statesink::testing {
namespace {

namespace fs = std::filesystem;

std::system_error errno_error(const std::string& what) {
  return {errno, std::generic_category(), what};
}

// Owns one file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

Fd open_file(const fs::path& file, int flags) {
  // O_CLOEXEC so that a concurrent fork elsewhere in the process cannot inherit it;
  // dup2() onto 0/1/2 in the child clears the flag on the copy.
  const int fd = ::open(file.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) throw errno_error("cannot open " + file.string());
  return Fd(fd);
}

std::string env_value(const std::vector<std::string>& env, const std::string& name) {
  const std::string prefix = name + "=";
  for (const std::string& entry : env) {
    if (entry.starts_with(prefix)) return entry.substr(prefix.size());
  }
  return {};
}

std::vector<std::string> child_environment(const Process::Options& options) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry(*e);
    const std::string name = entry.substr(0, entry.find('='));
    bool drop = options.env.contains(name);
    for (const std::string& unset : options.unset_env) drop = drop || unset == name;
    if (!drop) env.push_back(entry);
  }
  for (const auto& [name, value] : options.env) {
    std::string entry = name;
    entry += '=';
    entry += value;
    env.push_back(std::move(entry));
  }
  return env;
}

bool is_executable_file(const fs::path& file) {
  struct stat st {};
  return ::stat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(file.c_str(), X_OK) == 0;
}

std::vector<fs::path> path_dirs(const std::string& path_var) {
  std::vector<fs::path> dirs;
  std::stringstream in(path_var);
  std::string dir;
  while (std::getline(in, dir, ':')) dirs.emplace_back(dir.empty() ? "." : dir);
  return dirs;
}

// Resolved in the parent because searching PATH after fork() would allocate, which is
// not safe in the child of a multi-threaded process.
fs::path resolve_executable(const std::string& name, const std::vector<std::string>& env) {
  if (name.find('/') != std::string::npos) return name;
  std::string path_var = env_value(env, "PATH");
  if (path_var.empty()) path_var = "/usr/local/bin:/usr/bin:/bin";
  for (const fs::path& dir : path_dirs(path_var)) {
    if (is_executable_file(dir / name)) return dir / name;
  }
  throw std::runtime_error("cannot find program '" + name + "' in PATH=" + path_var);
}

int decode_wait_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// What the child reports through the exec-error pipe when setting itself up fails.
struct ChildFailure {
  int step = 0;
  int error = 0;
};

constexpr const char* kChildSteps[] = {"setpgid",      "prctl(PR_SET_PDEATHSIG)",
                                       "sigprocmask",  "dup2(stdin)",
                                       "dup2(stdout)", "dup2(stderr)",
                                       "chdir",        "exec"};

// Everything the child needs, prepared before fork() so the child only makes system calls.
struct ChildPlan {
  const char* executable = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const char* cwd = nullptr;
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  int report_fd = -1;
  pid_t parent = -1;
};

[[noreturn]] void child_fail(const ChildPlan& plan, int step) {
  const ChildFailure failure{step, errno};
  // Best effort: if the report cannot be written the parent still sees exit code 127.
  [[maybe_unused]] const ssize_t n = ::write(plan.report_fd, &failure, sizeof failure);
  ::_exit(127);
}

bool move_fd(int from, int to) {
  if (from < 0) return true;
  if (from == to) return ::fcntl(to, F_SETFD, 0) == 0;  // dup2 would keep O_CLOEXEC
  return ::dup2(from, to) == to;
}

[[noreturn]] void run_child(const ChildPlan& plan) {
  // A process group of its own, so a Ctrl-C meant for the test (or devservers) reaches
  // only that process, which then stops its servers in order.
  if (::setpgid(0, 0) != 0) child_fail(plan, 0);
  // The kernel sends this when the forking *thread* ends, not only the process, so a
  // Process must be created on a thread that outlives it (the test's main thread).
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) child_fail(plan, 1);
  // The parent may have died before the line above; then no signal would ever come.
  if (::getppid() != plan.parent) ::_exit(126);

  // Signal masks and ignored signals survive exec; a parent blocking SIGTERM to sigwait()
  // for it must not leave its servers unable to receive it.
  sigset_t none;
  sigemptyset(&none);
  if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) child_fail(plan, 2);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
  }

  if (!move_fd(plan.stdin_fd, STDIN_FILENO)) child_fail(plan, 3);
  if (!move_fd(plan.stdout_fd, STDOUT_FILENO)) child_fail(plan, 4);
  if (!move_fd(plan.stderr_fd, STDERR_FILENO)) child_fail(plan, 5);
  if (plan.cwd != nullptr && ::chdir(plan.cwd) != 0) child_fail(plan, 6);

  // Descriptors the test process opened without O_CLOEXEC (sockets, files) must not keep
  // living in a server that outlasts them.
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    const long max_fd = ::sysconf(_SC_OPEN_MAX);
    for (int fd = 3; fd < (max_fd > 0 ? max_fd : 1024); ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  ::execve(plan.executable, plan.argv, plan.envp);
  child_fail(plan, 7);
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

double cpu_seconds(const rusage& usage) {
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Reaps the child if it has exited (or, with block, once it exits).
void reap(pid_t pid, std::optional<int>& status, double& cpu, bool block) {
  if (pid <= 0 || status) return;
  int raw = 0;
  rusage usage{};
  pid_t r = 0;
  do {
    r = ::wait4(pid, &raw, block ? 0 : WNOHANG, &usage);
  } while (r < 0 && errno == EINTR);
  if (r == pid) {
    status = decode_wait_status(raw);
    cpu = cpu_seconds(usage);
  } else if (r < 0) {
    // Reaped elsewhere (or never ours): treat it as gone so its PID, which the kernel
    // may hand out again, is never signalled.
    status = -1;
  }
}

}  // namespace

Process::Process(const std::vector<std::string>& argv, const Options& options) {
  if (argv.empty()) throw std::invalid_argument("Process: empty argv");
  std::vector<std::string> env = child_environment(options);
  const fs::path executable = resolve_executable(argv[0], env);
  std::vector<std::string> args = argv;
  const std::vector<char*> c_argv = c_strings(args);
  const std::vector<char*> c_envp = c_strings(env);
  const std::string cwd = options.cwd ? options.cwd->string() : std::string();

  const Fd in = open_file(options.stdin_file.value_or("/dev/null"), O_RDONLY);
  const int write_flags = O_WRONLY | O_CREAT | (options.append_output ? O_APPEND : O_TRUNC);
  Fd out;
  Fd err;
  if (options.stdout_file) out = open_file(*options.stdout_file, write_flags);
  if (options.stderr_file) {
    // Opening the same file twice with O_TRUNC would let the two streams overwrite each other.
    err = options.stderr_file == options.stdout_file ? Fd(::fcntl(out.get(), F_DUPFD_CLOEXEC, 0))
                                                     : open_file(*options.stderr_file, write_flags);
    if (err.get() < 0) throw errno_error("dup");
  }

  int report[2] = {-1, -1};
  if (::pipe2(report, O_CLOEXEC) != 0) throw errno_error("pipe2");
  Fd report_read(report[0]);
  Fd report_write(report[1]);

  const ChildPlan plan{.executable = executable.c_str(),
                       .argv = c_argv.data(),
                       .envp = c_envp.data(),
                       .cwd = options.cwd ? cwd.c_str() : nullptr,
                       .stdin_fd = in.get(),
                       .stdout_fd = out.get(),
                       .stderr_fd = err.get(),
                       .report_fd = report_write.get(),
                       .parent = ::getpid()};
  const pid_t pid = ::fork();
  if (pid < 0) throw errno_error("fork");
  if (pid == 0) run_child(plan);
  pid_ = pid;

  // The pipe closes on a successful exec; otherwise it carries why the child gave up.
  report_write.reset();
  ChildFailure failure;
  ssize_t n = 0;
  do {
    n = ::read(report_read.get(), &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    wait(std::chrono::milliseconds::max());
    pid_ = -1;
    const bool known = failure.step >= 0 && failure.step < static_cast<int>(std::size(kChildSteps));
    throw std::system_error(
        failure.error, std::generic_category(),
        "cannot start " + argv[0] + ": " + (known ? kChildSteps[failure.step] : "setup"));
  }
}

Process::~Process() {
  try {
    if (pid_ > 0 && !status_) stop();
  } catch (...) {  // a destructor must not throw
  }
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      status_(std::exchange(other.status_, std::nullopt)),
      cpu_seconds_at_exit_(other.cpu_seconds_at_exit_) {}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    Process old(std::move(*this));  // stops what this object owned
    pid_ = std::exchange(other.pid_, -1);
    status_ = std::exchange(other.status_, std::nullopt);
    cpu_seconds_at_exit_ = other.cpu_seconds_at_exit_;
  }
  return *this;
}

bool Process::running() {
  reap(pid_, status_, cpu_seconds_at_exit_, false);
  return pid_ > 0 && !status_;
}

void Process::signal(int sig) {
  // running() reaps first, so the PID cannot belong to an unrelated process yet.
  if (running()) ::kill(pid_, sig);
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return status_;
  const auto now = std::chrono::steady_clock::now();
  // Compared in milliseconds: converting milliseconds::max() to the clock's nanoseconds
  // would overflow.
  if (timeout >= std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::time_point::max() - now)) {
    reap(pid_, status_, cpu_seconds_at_exit_, true);
    return status_;
  }
  const auto deadline = now + timeout;
  // Through syscall(): glibc 2.36's <sys/pidfd.h> declares pidfd_open without C linkage.
  const Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
  for (;;) {
    reap(pid_, status_, cpu_seconds_at_exit_, false);
    if (status_) return status_;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds::zero()) return std::nullopt;
    if (pidfd.get() >= 0) {
      // Wakes up the moment the child exits instead of on the next poll tick.
      pollfd p{pidfd.get(), POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 1000)));
    } else {
      std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(5)));
    }
  }
}

int Process::stop(std::chrono::milliseconds grace) {
  if (!running()) return status_.value_or(-1);
  signal(SIGTERM);
  if (const std::optional<int> code = wait(grace)) return *code;
  signal(SIGKILL);
  return wait(std::chrono::milliseconds::max()).value_or(-1);
}

CommandResult run_command(const std::vector<std::string>& argv, const Process::Options& options,
                          std::chrono::milliseconds timeout) {
  // Files rather than pipes: nothing to drain while waiting, so a chatty command cannot
  // block on a full pipe, and a grandchild holding the output open cannot hang us.
  const TempDir capture("statesink-cmd");
  Process::Options o = options;
  o.stdout_file = capture.path() / "out";
  o.stderr_file = capture.path() / "err";
  CommandResult result;
  {
    Process process(argv, o);
    if (const std::optional<int> code = process.wait(timeout)) {
      result.exit_code = *code;
    } else {
      process.signal(SIGKILL);
      process.wait(std::chrono::milliseconds::max());
      result.exit_code = -1;
    }
  }
  result.out = detail::read_file_from(*o.stdout_file);
  result.err = detail::read_file_from(*o.stderr_file);
  return result;
}

TempDir::TempDir(const std::string& prefix) {
  std::string name = (detail::temp_root() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(name.data()) == nullptr) throw errno_error("cannot create a directory " + name);
  path_ = name;
}

TempDir::~TempDir() {
  if (keep_) return;
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

std::uint16_t free_loopback_port() {
  const Fd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (sock.get() < 0) throw errno_error("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    throw errno_error("bind 127.0.0.1:0");
  }
  socklen_t len = sizeof addr;
  if (::getsockname(sock.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw errno_error("getsockname");
  }
  return ntohs(addr.sin_port);
}

fs::path find_program(const std::string& name) {
  const char* path_var = std::getenv("PATH");
  std::vector<fs::path> dirs = path_dirs(path_var != nullptr ? path_var : "");
  dirs.emplace_back("/usr/sbin");
  dirs.emplace_back("/usr/bin");
  for (const fs::path& dir : dirs) {
    const fs::path candidate = dir / name;
    if (is_executable_file(candidate)) return fs::absolute(candidate);
  }
  throw std::runtime_error("cannot find program '" + name + "' in PATH, /usr/sbin or /usr/bin");
}

std::string tail_file(const fs::path& file, std::size_t lines) {
  std::ifstream in(file, std::ios::binary);
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    last.push_back(std::move(line));
    if (last.size() > lines) last.pop_front();
  }
  std::string out;
  for (const std::string& l : last) out += l + "\n";
  return out;
}

namespace detail {

std::uintmax_t file_size_or_zero(const fs::path& file) {
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(file, ec);
  return ec ? 0 : size;
}

std::string read_file_from(const fs::path& file, std::uintmax_t offset) {
  std::ifstream in(file, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

fs::path temp_root() {
  const char* tmpdir = std::getenv("TMPDIR");
  return tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp";
}

}  // namespace detail
}  // namespace statesink::testing
