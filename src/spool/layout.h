#pragma once

#include <filesystem>

namespace statesink::spool {

// The files a spool directory holds besides its segments. The directory is
// the ingester's whole local state: moving or wiping it moves or wipes all of
// these together, and one lock (DirectoryLock) covers them.
struct Layout {
  std::filesystem::path dir;

  // The spool's id in ingest_progress (see ingest/spool_identity.h).
  std::filesystem::path id() const { return dir / "spool-id"; }
  // Messages the database refused for good, one JSON object per line.
  std::filesystem::path dead_letters() const { return dir / "dead-letter.jsonl"; }
  // The latest message per MQTT packet id, to recognise resends.
  std::filesystem::path packet_ids() const { return dir / "packet-ids"; }
  // The topic filters the broker granted, to avoid subscribing again.
  std::filesystem::path subscriptions() const { return dir / "subscriptions"; }
  // The last message number committed, to notice a database that went back.
  std::filesystem::path handed_over() const { return dir / "handed-over"; }
};

}  // namespace statesink::spool
