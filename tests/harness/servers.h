#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "process.h"

namespace statesink::testing {

// A private MariaDB server: its own data directory under a temporary folder,
// listening on 127.0.0.1 on a free port and on its own socket. It has an
// account with every privilege (and GRANT OPTION) for tests to use over TCP.
class MariaDbServer {
 public:
  struct Options {
    std::vector<std::string> extra_args;  // e.g. "--max-allowed-packet=1M"
  };
  explicit MariaDbServer(const std::filesystem::path& dir, Options options = {});
  ~MariaDbServer();  // stops the server if it runs

  void start();  // starts (or restarts, same data and port) and waits until it accepts connections
  void stop();   // SIGTERM by PID and waits for a clean exit
  void kill();   // SIGKILL by PID
  bool running();

  std::uint16_t port() const { return port_; }
  const std::filesystem::path& socket() const { return socket_; }
  static constexpr const char* kAdminUser = "admin";
  static constexpr const char* kAdminPassword = "admin-secret";

  // mysql://admin:admin-secret@127.0.0.1:PORT/DATABASE
  std::string url(const std::string& database) const;
  // Creates the database (dropping an old one of that name) and returns its URL.
  std::string create_database(const std::string& database);
  // Runs SQL through the mariadb client as the admin account, returns stdout
  // (tab-separated, no column names); throws with the client's stderr on failure.
  std::string sql(const std::string& statements, const std::string& database = "");

 private:
  std::filesystem::path dir_;
  std::filesystem::path socket_;
  Options options_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Process> process_;
};

// A private Mosquitto broker on 127.0.0.1 with persistence in its own folder.
class MosquittoBroker {
 public:
  struct Options {
    std::vector<std::string> extra_config;  // lines appended to mosquitto.conf
  };
  explicit MosquittoBroker(const std::filesystem::path& dir, Options options = {});
  ~MosquittoBroker();

  void start();  // starts (or restarts, same port and persistence) and waits until it accepts TCP
  void stop();
  void kill();
  bool running();

  std::uint16_t port() const { return port_; }
  std::string url() const;  // mqtt://127.0.0.1:PORT

 private:
  std::filesystem::path dir_;
  Options options_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Process> process_;
};

// The servers every integration test binary shares: started before the first
// test and stopped after the last (also when tests fail).
struct Servers {
  MariaDbServer& mariadb;
  MosquittoBroker& mosquitto;
  const std::filesystem::path& statesink;  // the binary under test
  const std::filesystem::path& scratch;    // a temporary folder for the tests' files
};
Servers& servers();

}  // namespace statesink::testing
