#pragma once

#include <memory>
#include <string>
#include <thread>

#include "ingest/metrics.h"

namespace httplib {
class Server;
}

namespace statesink::ingest {

// GET /metrics (Prometheus text) and GET /healthz (200 "ok" or 503 with the
// reason) on HOST:PORT, served by cpp-httplib on its own threads.
class MetricsServer {
 public:
  // Binds at once, so a taken port is an error at start; throws UsageError
  // for a malformed address and std::runtime_error when it cannot bind.
  MetricsServer(const std::string& address, const Metrics& metrics);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  int port() const { return port_; }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace statesink::ingest
