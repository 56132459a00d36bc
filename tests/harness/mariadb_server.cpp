#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "files_detail.h"
#include "mariadb_detail.h"
#include "servers.h"

namespace statesink::testing {
namespace {

namespace fs = std::filesystem;
using detail::file_size_or_zero;
using detail::MariaDbPrograms;
using detail::read_file_from;
using detail::temp_root;
using std::chrono::seconds;

constexpr auto kStartTimeout = seconds(60);
constexpr auto kStopGrace = seconds(60);
// sockaddr_un::sun_path holds 108 bytes including the terminating NUL.
constexpr std::size_t kMaxSocketPath = 107;

std::string server_version(const fs::path& mariadbd) {
  const CommandResult r = run_command({mariadbd.string(), "--version"}, {}, seconds(30));
  if (r.exit_code != 0) throw std::runtime_error("mariadbd --version failed: " + r.err);
  // "mariadbd  Ver 10.11.6-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)"
  std::istringstream words(r.out);
  std::string word;
  std::string version;
  while (words >> word) {
    if (word == "Ver" && (words >> version)) break;
  }
  std::string safe;
  for (const char c : version) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '-' || c == '_';
    safe += plain ? c : '_';
  }
  if (safe.empty()) throw std::runtime_error("cannot read the mariadbd version from: " + r.out);
  return safe;
}

}  // namespace

namespace detail {

const MariaDbPrograms& mariadb_programs() {
  // Looked up once: every server in the process uses the same installation.
  static const MariaDbPrograms found = [] {
    MariaDbPrograms p;
    p.mariadbd = find_program("mariadbd");
    p.install_db = find_program("mariadb-install-db");
    p.client = find_program("mariadb");
    p.admin = find_program("mariadb-admin");
    p.version = server_version(p.mariadbd);
    return p;
  }();
  return found;
}

bool running_as_root() { return ::geteuid() == 0; }

std::string quote_identifier(const std::string& name) {
  std::string quoted = "`";
  for (const char c : name) {
    quoted += c;
    if (c == '`') quoted += '`';
  }
  return quoted + "`";
}

// Running mariadb-install-db takes seconds, so one initialised data directory per server
// version and user is kept and copied for every new server. It is built in a private
// directory and renamed into place, so a reader never sees half of one and concurrent test
// binaries that both build it are harmless: the first rename wins, the others discard theirs.
fs::path mariadb_template_data_dir() {
  static std::mutex mutex;
  const std::lock_guard lock(mutex);
  const MariaDbPrograms& p = mariadb_programs();
  const fs::path final_dir =
      temp_root() / ("statesink-mariadb-template-" + p.version + "-" + std::to_string(::getuid()));
  const fs::path marker = final_dir / "complete";
  if (fs::exists(marker)) return final_dir / "data";
  if (fs::exists(final_dir)) {
    // Something (a /tmp cleaner, a person) removed part of it; move it out of the way
    // rather than deleting in place, in case another process is still looking at it.
    const TempDir trash(final_dir.filename().string() + ".broken");
    std::error_code ignored;
    fs::rename(final_dir, trash.path() / "old", ignored);
  }

  const TempDir build(final_dir.filename().string() + ".tmp");
  // Its own tmpdir: concurrent installs sharing /tmp collide on temporary table files
  // ("Unknown table 'mysql.tmp_proxies_priv'").
  fs::create_directory(build.path() / "tmp");
  std::vector<std::string> args = {
      p.install_db.string(), "--no-defaults", "--datadir=" + (build.path() / "data").string(),
      "--auth-root-authentication-method=normal", "--skip-test-db",
      // Accounts for 127.0.0.1 rather than this host's name, which
      // mariadbd would warn about under --skip-name-resolve.
      "--skip-name-resolve", "--tmpdir=" + (build.path() / "tmp").string()};
  if (running_as_root()) args.emplace_back("--user=root");
  const CommandResult r = run_command(args, {}, seconds(300));
  if (r.exit_code != 0) {
    throw std::runtime_error("mariadb-install-db failed (exit " + std::to_string(r.exit_code) +
                             "):\n" + r.out + r.err);
  }
  fs::remove_all(build.path() / "tmp");
  std::ofstream(build.path() / "complete") << p.version << "\n";
  std::error_code ec;
  fs::rename(build.path(), final_dir, ec);
  if (ec && !fs::exists(marker)) {
    throw std::system_error(ec, "cannot move the MariaDB template into " + final_dir.string());
  }
  return final_dir / "data";
}

bool admin_ping(std::uint16_t port) {
  Process::Options env;
  env.env["MYSQL_PWD"] = MariaDbServer::kAdminPassword;
  const CommandResult r =
      run_command({mariadb_programs().admin.string(), "--no-defaults", "--protocol=TCP",
                   "-h127.0.0.1", "-P" + std::to_string(port),
                   std::string("-u") + MariaDbServer::kAdminUser, "--connect-timeout=5", "ping"},
                  env, seconds(15));
  // mariadb-admin ping exits 0 even when the login is refused; only "alive" proves the
  // account from the init file works.
  return r.exit_code == 0 && r.out.find("alive") != std::string::npos;
}

std::string admin_sql(const fs::path& scratch, std::uint16_t port, const std::string& statements,
                      const std::string& database) {
  static std::atomic<unsigned> counter{0};
  const fs::path input = scratch / ("query-" + std::to_string(++counter) + ".sql");
  struct RemoveFile {
    const fs::path& file;
    ~RemoveFile() {
      std::error_code ignored;
      fs::remove(file, ignored);
    }
  } remove_input{input};
  {
    std::ofstream out(input, std::ios::binary);
    out << statements << "\n";
    if (!out) throw std::runtime_error("cannot write " + input.string());
  }
  std::vector<std::string> args = {
      mariadb_programs().client.string(), "--no-defaults", "--protocol=TCP", "-h", "127.0.0.1",
      "-P", std::to_string(port), "-u", MariaDbServer::kAdminUser,
      // The client otherwise picks its character set from the
      // locale, which mangles UTF-8 under the C locale.
      "--default-character-set=utf8mb4", "--batch", "--skip-column-names",
      // A server still starting can accept and then stall.
      "--connect-timeout=10"};
  if (!database.empty()) args.push_back("--database=" + database);
  Process::Options o;
  o.stdin_file = input;
  o.env["MYSQL_PWD"] = MariaDbServer::kAdminPassword;
  const CommandResult r = run_command(args, o);
  if (r.exit_code != 0) {
    throw std::runtime_error("SQL failed (exit " + std::to_string(r.exit_code) + "): " + r.err +
                             "\nstatements:\n" + statements);
  }
  return r.out;
}

}  // namespace detail

using detail::mariadb_programs;
using detail::quote_identifier;
using detail::running_as_root;

MariaDbServer::MariaDbServer(const fs::path& dir, Options options)
    : dir_(fs::absolute(dir)), socket_(dir_ / "mysqld.sock"), options_(std::move(options)) {
  if (socket_.string().size() > kMaxSocketPath) {
    throw std::runtime_error("MariaDB socket path is longer than " +
                             std::to_string(kMaxSocketPath) + " bytes: " + socket_.string() +
                             " (use a shorter directory)");
  }
}

MariaDbServer::~MariaDbServer() {
  try {
    stop();
  } catch (const std::exception& e) {
    std::cerr << "stopping MariaDB in " << dir_ << ": " << e.what() << "\n";
  }
}

void MariaDbServer::start() {
  if (running()) return;
  fs::create_directories(dir_);
  const fs::path data = dir_ / "data";
  if (!fs::exists(data)) {
    // Copied under another name first, so an interrupted copy is never taken for data.
    const fs::path partial = dir_ / "data.partial";
    fs::remove_all(partial);
    fs::copy(detail::mariadb_template_data_dir(), partial, fs::copy_options::recursive);
    fs::rename(partial, data);
  }
  // Private like everything else: servers sharing one tmpdir can collide on temporary files.
  const fs::path tmp = dir_ / "tmp";
  fs::create_directories(tmp);
  const fs::path init_file = dir_ / "init.sql";
  {
    std::ofstream init(init_file);
    for (const char* host : {"127.0.0.1", "localhost"}) {
      const std::string account = std::string("'") + kAdminUser + "'@'" + host + "'";
      init << "CREATE USER IF NOT EXISTS " << account << " IDENTIFIED BY '" << kAdminPassword
           << "';\n"
           << "GRANT ALL PRIVILEGES ON *.* TO " << account << " WITH GRANT OPTION;\n";
    }
    if (!init) throw std::runtime_error("cannot write " + init_file.string());
  }

  const fs::path error_log = dir_ / "mariadb.err";
  const fs::path output = dir_ / "mariadbd.out";
  // A port is fixed by the first successful start, so restarts keep every URL valid. Until
  // then another process may take the free port before mariadbd binds it: try another.
  const bool port_fixed = port_ != 0;
  for (int attempt = 1;; ++attempt) {
    if (!port_fixed) port_ = free_loopback_port();
    const std::uintmax_t log_offset = file_size_or_zero(error_log);
    std::vector<std::string> args = {mariadb_programs().mariadbd.string(),
                                     "--no-defaults",
                                     "--datadir=" + data.string(),
                                     "--socket=" + socket_.string(),
                                     "--port=" + std::to_string(port_),
                                     "--bind-address=127.0.0.1",
                                     "--pid-file=" + (dir_ / "mariadb.pid").string(),
                                     "--log-error=" + error_log.string(),
                                     "--innodb-buffer-pool-size=256M",
                                     "--skip-name-resolve",
                                     "--max-connections=500",
                                     "--init-file=" + init_file.string(),
                                     "--tmpdir=" + tmp.string()};
    if (running_as_root()) args.emplace_back("--user=root");
    args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
    Process::Options o;
    o.stdout_file = output;
    o.stderr_file = output;
    process_ = std::make_unique<Process>(args, o);

    const bool ready = wait_until([&] { return !process_->running() || detail::admin_ping(port_); },
                                  kStartTimeout, std::chrono::milliseconds(50)) &&
                       process_->running();
    if (ready) return;

    const bool died = !process_->running();
    process_->signal(SIGKILL);
    process_.reset();
    const std::string log = read_file_from(error_log, log_offset);
    if (died && !port_fixed && attempt < 5 &&
        log.find("Address already in use") != std::string::npos) {
      continue;
    }
    port_ = port_fixed ? port_ : 0;
    throw std::runtime_error(
        std::string("MariaDB in ") + dir_.string() +
        (died ? " exited during start-up" : " did not accept connections within 60 s") +
        "\n--- mariadb.err (tail) ---\n" + tail_file(error_log) + "--- mariadbd output ---\n" +
        tail_file(output, 20));
  }
}

void MariaDbServer::stop() {
  if (!process_) return;
  const int code = process_->stop(kStopGrace);
  process_.reset();
  if (code != 0) {
    std::cerr << "MariaDB in " << dir_ << " exited with status " << code << " on SIGTERM\n";
  }
}

void MariaDbServer::kill() {
  if (!process_) return;
  process_->signal(SIGKILL);
  process_->wait(std::chrono::milliseconds::max());
  process_.reset();
}

bool MariaDbServer::running() { return process_ && process_->running(); }

std::string MariaDbServer::url(const std::string& database) const {
  return std::string("mysql://") + kAdminUser + ":" + kAdminPassword +
         "@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string MariaDbServer::create_database(const std::string& database) {
  const std::string name = quote_identifier(database);
  sql("DROP DATABASE IF EXISTS " + name + ";\nCREATE DATABASE " + name +
      " CHARACTER SET utf8mb4;\n");
  return url(database);
}

std::string MariaDbServer::sql(const std::string& statements, const std::string& database) {
  return detail::admin_sql(dir_, port_, statements, database);
}

}  // namespace statesink::testing
