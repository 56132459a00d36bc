#include "ingest/received_burst.h"

namespace statesink::ingest {

void ReceivedBurst::add(const spool::MessageView& message, std::uint64_t content) {
  if (size_ == held_.size()) {
    held_.emplace_back();
  }
  Held& held = held_[size_++];
  held.fields = message;
  held.topic.assign(message.topic);
  held.payload.assign(message.payload);
  held.content = content;
}

std::span<const spool::MessageView> ReceivedBurst::views() {
  views_.clear();
  for (std::size_t i = 0; i < size_; ++i) {
    spool::MessageView view = held_[i].fields;
    view.topic = held_[i].topic;
    view.payload = held_[i].payload;
    views_.push_back(view);
  }
  return views_;
}

}  // namespace statesink::ingest
