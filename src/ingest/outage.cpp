#include "ingest/outage.h"

#include <cstdio>

#include "config/url.h"
#include "util/log.h"

namespace statesink::ingest {

void Outage::failed(const std::string& reason) {
  ++failures_;
  if (ongoing_) {
    return;
  }
  ongoing_ = true;
  started_ = std::chrono::steady_clock::now();
  log::warn(config::redact_urls(what_ + " unavailable: " + reason +
                                "; retrying with backoff, nothing is lost meanwhile"));
}

void Outage::recovered() {
  if (!ongoing_) {
    return;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  char text[96];
  std::snprintf(text, sizeof text, " back after %.1f s (%d failed attempts)", seconds, failures_);
  log::info(what_ + text);
  ongoing_ = false;
  failures_ = 0;
}

}  // namespace statesink::ingest
