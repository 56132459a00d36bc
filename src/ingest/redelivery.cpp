#include "ingest/redelivery.h"

namespace statesink::ingest {
Redelivery::Redelivery(PacketIdFile& ids, std::uint64_t window) : ids_(ids), window_(window) {}

void Redelivery::reconcile(const std::vector<spool::RecentRecord>& records) {
  const std::uint64_t known = ids_.last_seq();
  for (const auto& r : records) {
    if (r.qos > 0 && r.seq > known) {
      ids_.set(r.mid, {r.content, r.seq});
    }
  }
}

void Redelivery::session_started(bool resumed) {
  const std::uint64_t last = ids_.last_seq();
  resending_ = resumed && last > 0;
  last_matched_ = last > window_ ? last - window_ : 0;
}

void Redelivery::connection_lost() { resending_ = false; }

bool Redelivery::is_resend(std::uint16_t mid, std::uint64_t content) {
  if (!resending_) {
    return false;
  }
  const PacketIdFile::Entry entry = ids_.get(mid);
  if (entry.seq == 0 || entry.content != content || entry.seq <= last_matched_) {
    resending_ = false;
    return false;
  }
  last_matched_ = entry.seq;
  if (last_matched_ >= ids_.last_seq()) {
    resending_ = false;  // the newest one came again: nothing older follows
  }
  return true;
}

void Redelivery::stored(std::uint16_t mid, std::uint64_t content, std::uint64_t seq) {
  ids_.set(mid, {content, seq});
}

}  // namespace statesink::ingest
