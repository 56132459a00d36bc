#pragma once

#include <cstdint>
#include <vector>

#include "ingest/packet_id_file.h"
#include "spool/record.h"

namespace statesink::ingest {

// Tells a broker's resend of a QoS 1 message that is already in the spool from
// a new message, so it is stored once.
//
// When a kept session resumes, MQTT has the broker send again, first and in
// their original order, the messages whose PUBACK it had not processed. Those
// are among the newest this side received. The rule: right after a resumed
// session starts, a message is a resend when its packet id, topic and payload
// equal those of the latest message stored with that id, provided that one is
// among the `window` newest stored and newer than the previous resend. The
// first message that is not ends the resends, and so does the resend of the
// newest stored message.
//
// The window must cover what the broker may have unacknowledged; how many
// PUBACKs it has actually processed cannot be known from here (Mosquitto reads
// them lazily while it streams, loses those still unread when the connection
// breaks, and after a restart may resend even some it had read). A broker
// that numbers messages in turn (Mosquitto does) gives an id again only after
// 65,535 others, so with a window below that a new message never matches.
class Redelivery {
 public:
  static constexpr std::uint64_t kDefaultWindow = 60000;
  explicit Redelivery(PacketIdFile& ids, std::uint64_t window = kDefaultWindow);

  // Records the spool kept that the packet id file may lack: a crash between
  // the spool append and the file update.
  void reconcile(const std::vector<spool::RecentRecord>& records);

  // A CONNACK: `resumed` when the broker kept the session.
  void session_started(bool resumed);
  void connection_lost();
  bool resending() const { return resending_; }

  // True when the message is a resend of one already stored: acknowledge it
  // and drop it. Ends the resends otherwise.
  bool is_resend(std::uint16_t mid, std::uint64_t content);
  // A QoS 1/2 message was appended to the spool as `seq`.
  void stored(std::uint16_t mid, std::uint64_t content, std::uint64_t seq);

 private:
  PacketIdFile& ids_;
  bool resending_ = false;
  std::uint64_t window_;
  std::uint64_t last_matched_ = 0;
};

}  // namespace statesink::ingest
