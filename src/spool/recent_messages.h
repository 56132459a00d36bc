#pragma once

#include <cstdint>
#include <deque>
#include <string_view>
#include <unordered_map>

namespace statesink::spool {

// Identifies a message well enough to recognise the broker sending it again:
// the MQTT packet id plus a hash of topic and payload. The hash is std::hash,
// so keys compare only within one process; they are never stored.
struct MessageKey {
  std::uint16_t mid = 0;
  std::uint64_t content = 0;
  bool operator==(const MessageKey&) const = default;
};

MessageKey message_key(std::uint16_t mid, std::string_view topic, std::string_view payload);

// The keys of the last `capacity` messages stored, to skip broker resends.
//
// A QoS 1 message stored in the spool whose PUBACK never left (the process
// died in between, or the connection dropped) is sent again by the broker,
// with the same packet id, once the session resumes. Seed this with
// Spool::recent_keys() at start, add() every message appended, and skip a
// message when contains() says yes.
//
// The broker hands out packet ids in turn (1..65535) per session, so within a
// window far smaller than 65535 messages the same id with the same topic and
// payload means a resend. Keep capacity well below that (the default 1024 is
// far more than a broker keeps in flight).
class RecentMessages {
 public:
  explicit RecentMessages(std::size_t capacity);

  bool contains(const MessageKey& key) const;
  // Remembers `key`, forgetting the oldest one beyond capacity.
  void add(const MessageKey& key);
  std::size_t size() const { return order_.size(); }

 private:
  struct KeyHash {
    std::size_t operator()(const MessageKey& key) const;
  };

  std::size_t capacity_;
  std::deque<MessageKey> order_;
  std::unordered_map<MessageKey, std::size_t, KeyHash> counts_;  // a key can be added twice
};

}  // namespace statesink::spool
