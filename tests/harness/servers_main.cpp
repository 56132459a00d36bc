// main() for integration test binaries: one MariaDB server and one Mosquitto broker for all
// tests of the binary, in a temporary directory that goes away afterwards.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "servers.h"

#ifndef STATESINK_BINARY
#error "STATESINK_BINARY must name the statesink binary under test"
#endif

// A test binary may append one line to its broker's mosquitto.conf (the last value of an option
// wins), e.g. "max_inflight_messages 20" to run under Mosquitto's default in-flight window.
#ifndef STATESINK_MOSQUITTO_EXTRA_CONFIG
#define STATESINK_MOSQUITTO_EXTRA_CONFIG ""
#endif

namespace statesink::testing {
namespace {

namespace fs = std::filesystem;

bool keep_test_dir() {
  const char* keep = std::getenv("STATESINK_KEEP_TEST_DIR");
  return keep != nullptr && std::string(keep) == "1";
}

bool any_failure() {
  const ::testing::UnitTest& unit = *::testing::UnitTest::GetInstance();
  return unit.failed_test_count() > 0 || unit.ad_hoc_test_result().Failed();
}

void print_tail(const fs::path& log) {
  std::cerr << "--- last 40 lines of " << log.filename().string() << " ---\n"
            << tail_file(log, 40) << "--- end of " << log.filename().string() << " ---\n";
}

class ServersEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    try {
      dir_ = std::make_unique<TempDir>("statesink-it");
      scratch_ = dir_->path() / "scratch";
      fs::create_directories(scratch_);
      mariadb_ = std::make_unique<MariaDbServer>(dir_->path() / "mariadb");
      MosquittoBroker::Options broker;
      if (const std::string line = STATESINK_MOSQUITTO_EXTRA_CONFIG; !line.empty()) {
        broker.extra_config.push_back(line);
      }
      mosquitto_ = std::make_unique<MosquittoBroker>(dir_->path() / "mosquitto", broker);
      mariadb_->start();
      mosquitto_->start();
      servers_.emplace(Servers{*mariadb_, *mosquitto_, statesink_, scratch_});
    } catch (const std::exception& e) {
      // A fatal failure here makes the test runner skip every test instead of crashing.
      FAIL() << "cannot start the test servers: " << e.what();
    }
  }

  void TearDown() override {
    servers_.reset();
    // Stopped before the logs are read, so they include the shutdown.
    mosquitto_.reset();
    mariadb_.reset();
    if (!dir_) return;
    if (any_failure()) {
      print_tail(dir_->path() / "mariadb" / "mariadb.err");
      print_tail(dir_->path() / "mosquitto" / "mosquitto.log");
    }
    if (keep_test_dir()) {
      dir_->keep();
      std::cerr << "test servers' directory kept: " << dir_->path().string() << "\n";
    }
    dir_.reset();
  }

  Servers& servers() {
    if (!servers_) throw std::logic_error("the test servers are not running");
    return *servers_;
  }

 private:
  std::unique_ptr<TempDir> dir_;
  fs::path scratch_;
  const fs::path statesink_ = STATESINK_BINARY;
  std::unique_ptr<MariaDbServer> mariadb_;
  std::unique_ptr<MosquittoBroker> mosquitto_;
  std::optional<Servers> servers_;
};

ServersEnvironment* environment = nullptr;

}  // namespace

Servers& servers() {
  if (environment == nullptr) throw std::logic_error("servers() used outside the test runner");
  return environment->servers();
}

}  // namespace statesink::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // The test runner owns and deletes registered environments.
  statesink::testing::environment = new statesink::testing::ServersEnvironment;
  ::testing::AddGlobalTestEnvironment(statesink::testing::environment);
  return RUN_ALL_TESTS();
}
