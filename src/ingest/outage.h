#pragma once

#include <chrono>
#include <string>

namespace statesink::ingest {

// Logs an outage once when it starts and once when it ends, however many
// retries happen in between.
class Outage {
 public:
  explicit Outage(std::string what) : what_(std::move(what)) {}

  // A failure: logged only if no outage was already under way.
  void failed(const std::string& reason);
  // A success: logs the end of an outage if there was one.
  void recovered();
  bool ongoing() const { return ongoing_; }

 private:
  std::string what_;
  bool ongoing_ = false;
  int failures_ = 0;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace statesink::ingest
