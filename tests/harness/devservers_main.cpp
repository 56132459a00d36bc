// devservers: a private MariaDB server and Mosquitto broker for working on statesink by
// hand or for benchmarks, with the URLs written to an env file; stops both on SIGINT/SIGTERM.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <csignal>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "servers.h"

namespace {

namespace fs = std::filesystem;
using statesink::testing::MariaDbServer;
using statesink::testing::MosquittoBroker;

constexpr const char* kUsage =
    "usage: devservers --dir DIR [--env-file FILE]\n"
    "  Starts MariaDB (with database `statesink`) and Mosquitto on 127.0.0.1 with their\n"
    "  data under DIR (kept for the next run), writes STATESINK_DB and STATESINK_MQTT to\n"
    "  FILE (default DIR/servers.env) and runs until SIGINT or SIGTERM.\n";

struct Arguments {
  fs::path dir;
  fs::path env_file;
};

// nullopt after printing usage; bad arguments are reported through `ok`.
std::optional<Arguments> parse_arguments(const std::vector<std::string_view>& args, bool& ok) {
  Arguments parsed;
  ok = true;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return std::nullopt;
    }
    std::optional<std::string_view> value;
    std::string_view name = arg;
    if (const std::size_t eq = arg.find('=');
        arg.starts_with("--") && eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < args.size() && !args[i + 1].starts_with("-")) {
      value = args[i + 1];
    }
    if ((name != "--dir" && name != "--env-file") || !value || value->empty()) {
      std::cerr << "devservers: bad argument '" << arg << "'\n" << kUsage;
      ok = false;
      return std::nullopt;
    }
    if (name == arg) ++i;  // the value was the next argument
    (name == "--dir" ? parsed.dir : parsed.env_file) = fs::path(*value);
  }
  if (parsed.dir.empty()) {
    std::cerr << "devservers: --dir is required\n" << kUsage;
    ok = false;
    return std::nullopt;
  }
  if (parsed.env_file.empty()) parsed.env_file = parsed.dir / "servers.env";
  return parsed;
}

// Two instances on one directory would fight over the same data files; MariaDB would only
// notice after a long retry loop, so refuse up front.
int lock_directory(const fs::path& dir) {
  const fs::path lock_file = dir / "devservers.lock";
  const int fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), lock_file.string());
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    throw std::runtime_error("another devservers is running on " + dir.string());
  }
  return fd;  // held until the process exits
}

void write_env_file(const fs::path& file, const std::string& contents) {
  // Written under another name and renamed, so a script waiting for the file to appear
  // never reads half of it.
  const fs::path partial = file.string() + ".partial";
  {
    std::ofstream out(partial);
    out << contents;
    if (!out) throw std::runtime_error("cannot write " + partial.string());
  }
  fs::rename(partial, file);
}

int run(const Arguments& args) {
  // Blocked before any server starts, so a signal during start-up is not lost but waits
  // for sigwait() below; the servers themselves get a clean signal mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  if (::pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr) != 0) {
    throw std::runtime_error("cannot block SIGINT/SIGTERM");
  }

  fs::create_directories(args.dir);
  const fs::path dir = fs::absolute(args.dir);
  const fs::path env_file = fs::absolute(args.env_file);
  [[maybe_unused]] const int lock = lock_directory(dir);
  // A file left by an earlier run would announce servers that are not up yet.
  fs::remove(env_file);

  MariaDbServer mariadb(dir / "mariadb");
  MosquittoBroker mosquitto(dir / "mosquitto");
  mariadb.start();
  // Not create_database(): that would drop what an earlier run left there.
  mariadb.sql("CREATE DATABASE IF NOT EXISTS `statesink` CHARACTER SET utf8mb4;");
  mosquitto.start();

  const std::string env = "STATESINK_DB=" + mariadb.url("statesink") + "\n" +
                          "STATESINK_MQTT=" + mosquitto.url() + "\n";
  write_env_file(env_file, env);
  std::cout << env << "devservers: MariaDB and Mosquitto are ready (" << env_file.string()
            << "); stop with kill -TERM " << ::getpid() << " or Ctrl-C" << std::endl;

  int sig = 0;
  while (::sigwait(&stop_signals, &sig) != 0) {
  }
  std::cout << "devservers: " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ", stopping"
            << std::endl;
  mosquitto.stop();
  mariadb.stop();
  std::error_code ignored;
  fs::remove(env_file, ignored);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  bool ok = true;
  const std::optional<Arguments> parsed = parse_arguments(args, ok);
  if (!parsed) return ok ? 0 : 2;
  try {
    return run(*parsed);
  } catch (const std::exception& e) {
    std::cerr << "devservers: " << e.what() << "\n";
    return 1;
  }
}
