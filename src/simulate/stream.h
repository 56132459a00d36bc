#pragma once

#include <cstddef>
#include <vector>

#include "simulate/message.h"
#include "simulate/options.h"
#include "simulate/traffic.h"

namespace statesink::simulate {

// The traffic as single messages: the snapshot (if the options ask for it),
// then change after change, without end. A publisher that stops after an
// exact number of messages may stop in the middle of a change.
class MessageStream {
 public:
  explicit MessageStream(const Options& options);

  Message next();

  const Traffic& traffic() const { return traffic_; }

 private:
  Traffic traffic_;
  std::vector<Message> pending_;
  std::size_t position_ = 0;
};

// The first `count` messages of the stream, e.g. to insert the same traffic
// straight into the database for comparison.
std::vector<Message> generate(const Options& options, std::size_t count);

}  // namespace statesink::simulate
