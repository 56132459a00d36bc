#include "ingest/redelivery.h"

namespace statesink::ingest {
namespace {

// A probe goes out after this many messages or this long after the last one,
// whichever comes first; one at a time. Candidates for resends are the
// messages since the last answered probe.
constexpr std::uint64_t kProbeEveryMessages = 256;
constexpr std::chrono::milliseconds kProbeEvery{100};

}  // namespace

Redelivery::Redelivery(PacketIdFile& ids) : ids_(ids) {}

void Redelivery::reconcile(const std::vector<spool::RecentRecord>& records) {
  const std::uint64_t known = ids_.last_seq();
  for (const auto& r : records) {
    if (r.qos > 0 && r.seq > known) {
      ids_.set(r.mid, {r.content, r.seq});
    }
  }
}

void Redelivery::session_started(bool resumed) {
  resending_ = resumed && ids_.last_seq() > ids_.confirmed();
  last_matched_ = ids_.confirmed();
  probe_.reset();
  stored_since_probe_ = 0;
}

void Redelivery::connection_lost() {
  resending_ = false;
  probe_.reset();
}

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
  ++stored_since_probe_;
}

bool Redelivery::probe_due(std::chrono::steady_clock::time_point now) const {
  return !probe_ && ids_.last_seq() > ids_.confirmed() &&
         (stored_since_probe_ >= kProbeEveryMessages || now - last_probe_ >= kProbeEvery);
}

void Redelivery::probe_sent(int mid, std::chrono::steady_clock::time_point now) {
  probe_ = Probe{mid, ids_.last_seq()};
  stored_since_probe_ = 0;
  last_probe_ = now;
}

void Redelivery::probe_answered(int mid) {
  if (probe_ && probe_->mid == mid) {
    ids_.set_confirmed(probe_->seq);
    probe_.reset();
  }
}

std::uint64_t Redelivery::unconfirmed() const {
  return ids_.last_seq() > ids_.confirmed() ? ids_.last_seq() - ids_.confirmed() : 0;
}

}  // namespace statesink::ingest
