#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "files_detail.h"
#include "servers.h"

namespace statesink::testing {
namespace {

namespace fs = std::filesystem;
using detail::file_size_or_zero;
using detail::read_file_from;
using std::chrono::seconds;

constexpr auto kStartTimeout = seconds(30);
constexpr auto kStopGrace = seconds(60);

bool accepts_tcp(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

MosquittoBroker::MosquittoBroker(const fs::path& dir, Options options)
    : dir_(fs::absolute(dir)), options_(std::move(options)) {}

MosquittoBroker::~MosquittoBroker() {
  try {
    stop();
  } catch (const std::exception& e) {
    std::cerr << "stopping Mosquitto in " << dir_ << ": " << e.what() << "\n";
  }
}

void MosquittoBroker::start() {
  if (running()) return;
  fs::create_directories(dir_);
  const fs::path conf_file = dir_ / "mosquitto.conf";
  const fs::path log = dir_ / "mosquitto.log";
  const fs::path output = dir_ / "mosquitto.out";
  const bool port_fixed = port_ != 0;
  for (int attempt = 1;; ++attempt) {
    if (!port_fixed) port_ = free_loopback_port();
    {
      std::ofstream conf(conf_file);
      conf << "listener " << port_ << " 127.0.0.1\n"
           << "allow_anonymous true\n"
           << "persistence true\n"
           << "persistence_location " << dir_.string()
           << "/\n"
           // Saved every second, so even kill() loses at most a second of retained messages.
           << "autosave_interval 1\n"
           // 0 means no limit (mosquitto.conf(5) of 2.0): tests leave persistent sessions
           // offline while publishing, and a limit would silently drop their messages.
           << "max_queued_messages 0\n"
           << "max_inflight_messages 0\n"
           << "log_dest file " << log.string()
           << "\n"
           // One type per line: the parser reads a single value after log_type.
           << "log_type error\n"
           << "log_type warning\n"
           << "log_type notice\n"
           << "log_type information\n";
      // As root, mosquitto otherwise switches to the mosquitto user, which cannot write
      // into a private (0700) test directory.
      if (::geteuid() == 0) conf << "user root\n";
      for (const std::string& line : options_.extra_config) conf << line << "\n";
      if (!conf) throw std::runtime_error("cannot write " + conf_file.string());
    }

    const std::uintmax_t log_offset = file_size_or_zero(log);
    Process::Options o;
    o.stdout_file = output;
    o.stderr_file = output;
    process_ = std::make_unique<Process>(
        std::vector<std::string>{find_program("mosquitto").string(), "-c", conf_file.string()}, o);

    // A connection alone could reach whoever else holds the port; the log line from this
    // start proves that our broker owns the listener.
    auto ready = [&] {
      return accepts_tcp(port_) &&
             read_file_from(log, log_offset).find(" running") != std::string::npos;
    };
    const bool up = wait_until([&] { return !process_->running() || ready(); }, kStartTimeout) &&
                    process_->running();
    if (up) return;

    const bool died = !process_->running();
    process_->signal(SIGKILL);
    process_.reset();
    const std::string this_start = read_file_from(log, log_offset) + tail_file(output, 20);
    if (died && !port_fixed && attempt < 5 &&
        this_start.find("Address already in use") != std::string::npos) {
      continue;
    }
    port_ = port_fixed ? port_ : 0;
    throw std::runtime_error(
        std::string("Mosquitto in ") + dir_.string() +
        (died ? " exited during start-up" : " did not accept connections within 30 s") +
        "\n--- mosquitto.log (tail) ---\n" + tail_file(log) + "--- mosquitto output ---\n" +
        tail_file(output, 20));
  }
}

void MosquittoBroker::stop() {
  if (!process_) return;
  const int code = process_->stop(kStopGrace);
  process_.reset();
  if (code != 0) {
    std::cerr << "Mosquitto in " << dir_ << " exited with status " << code << " on SIGTERM\n";
  }
}

void MosquittoBroker::kill() {
  if (!process_) return;
  process_->signal(SIGKILL);
  process_->wait(std::chrono::milliseconds::max());
  process_.reset();
}

bool MosquittoBroker::running() { return process_ && process_->running(); }

std::string MosquittoBroker::url() const { return "mqtt://127.0.0.1:" + std::to_string(port_); }

}  // namespace statesink::testing
