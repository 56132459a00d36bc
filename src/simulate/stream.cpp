#include "simulate/stream.h"

#include <utility>

namespace statesink::simulate {

MessageStream::MessageStream(const Options& options) : traffic_(options) {
  if (options.snapshot_first) {
    pending_ = traffic_.snapshot();
  }
}

Message MessageStream::next() {
  while (position_ == pending_.size()) {
    pending_ = traffic_.next_change();
    position_ = 0;
  }
  return std::move(pending_[position_++]);
}

std::vector<Message> generate(const Options& options, std::size_t count) {
  MessageStream stream(options);
  std::vector<Message> messages;
  messages.reserve(count);
  while (messages.size() < count) {
    messages.push_back(stream.next());
  }
  return messages;
}

}  // namespace statesink::simulate
