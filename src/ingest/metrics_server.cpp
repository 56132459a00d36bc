#include "ingest/metrics_server.h"

#include <httplib.h>

#include <charconv>

#include "util/error.h"

namespace statesink::ingest {
namespace {

constexpr std::chrono::seconds kStall{60};

}  // namespace

MetricsServer::MetricsServer(const std::string& address, const Metrics& metrics)
    : server_(std::make_unique<httplib::Server>()) {
  const auto colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      std::from_chars(address.data() + colon + 1, address.data() + address.size(), port).ec !=
          std::errc{} ||
      port < 0 || port > 65535) {
    throw UsageError("--metrics-addr: '" + address + "' is not HOST:PORT (e.g. 127.0.0.1:9464)");
  }
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  server_->Get("/metrics", [&metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.prometheus(), "text/plain; version=0.0.4");
  });
  server_->Get("/healthz", [&metrics](const httplib::Request&, httplib::Response& res) {
    if (metrics.healthy(std::chrono::steady_clock::now(), kStall)) {
      res.set_content("ok\n", "text/plain");
    } else {
      res.status = 503;
      res.set_content(metrics.unhealthy_reason(kStall) + "\n", "text/plain");
    }
  });
  port_ =
      port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (port_ <= 0) {
    throw std::runtime_error(
        "cannot listen on " + address +
        " for metrics (is the port taken? choose another with --metrics-addr)");
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

MetricsServer::~MetricsServer() {
  server_->stop();
  if (thread_.joinable()) {
    thread_.join();
  }
}

}  // namespace statesink::ingest
