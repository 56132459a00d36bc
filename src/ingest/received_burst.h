#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "spool/record.h"

namespace statesink::ingest {

// The messages of one read from the broker, copied out of libmosquitto's
// buffers, waiting to go into the spool together before their PUBACKs are
// sent. Its storage is reused from burst to burst.
class ReceivedBurst {
 public:
  void add(const spool::MessageView& message, std::uint64_t content);
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  // Views of the messages, in the order added; valid until the next add() or clear().
  std::span<const spool::MessageView> views();
  // content_hash() of message `i`, as given to add().
  std::uint64_t content(std::size_t i) const { return held_[i].content; }
  void clear() { size_ = 0; }

 private:
  struct Held {
    spool::MessageView fields;  // topic and payload are copied to the strings
    std::string topic;
    std::string payload;
    std::uint64_t content = 0;
  };
  std::vector<Held> held_;  // the first size_ are in use
  std::vector<spool::MessageView> views_;
  std::size_t size_ = 0;
};

}  // namespace statesink::ingest
