#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "ingest/packet_id_file.h"
#include "spool/record.h"

namespace statesink::ingest {

// Tells a broker's resend of a QoS 1 message that is already in the spool from
// a new message, so it is stored once.
//
// When a kept session resumes, MQTT has the broker send again, first and in
// their original order, the messages whose PUBACK it had not processed. Those
// are the newest messages this side received: PUBACKs leave in the order the
// messages came and the broker reads them in that order, so what it misses is
// a tail. The rule, then: right after a resumed session starts, a message is a
// resend when its packet id, topic and payload equal those of a message stored
// after the last confirmed one and after the previous resend; the first
// message that is not ends the resends, and so does the resend of the newest
// stored message.
//
// "Confirmed" comes from a round trip: an UNSUBSCRIBE sent after the PUBACKs
// is answered only once the broker has read them, so its UNSUBACK proves they
// arrived. That keeps the window of candidates small whatever the broker's
// in-flight limit (none, for MQTT 3.1.1 brokers configured so), and a broker
// that hands out the lowest free packet id can reuse one only for a message
// that follows a confirmed PUBACK or a non-matching message.
class Redelivery {
 public:
  explicit Redelivery(PacketIdFile& ids);

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

  // Confirmation round trips.
  bool probe_due(std::chrono::steady_clock::time_point now) const;
  // The probe with message id `mid` was queued behind every PUBACK so far.
  void probe_sent(int mid, std::chrono::steady_clock::time_point now);
  void probe_answered(int mid);

  std::uint64_t unconfirmed() const;

 private:
  PacketIdFile& ids_;
  bool resending_ = false;
  std::uint64_t last_matched_ = 0;
  struct Probe {
    int mid = 0;
    std::uint64_t seq = 0;  // confirmed when answered
  };
  std::optional<Probe> probe_;
  std::uint64_t stored_since_probe_ = 0;
  std::chrono::steady_clock::time_point last_probe_{};
};

}  // namespace statesink::ingest
