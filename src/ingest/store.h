#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "spool/record.h"

namespace statesink::ingest {

// The database as the committer sees it: where this spool's progress stands,
// and transactions that move it. Every method may throw db::DbError; the
// committer decides what an error means. MysqlStore is the real one; the
// unit tests use a fake that can lose connections and commit ambiguously.
class Store {
 public:
  virtual ~Store() = default;

  // The server's max_allowed_packet: no statement may be larger.
  virtual std::uint64_t max_packet() const = 0;
  // The last sequence number committed for this spool, 0 when none.
  virtual std::uint64_t committed_seq() = 0;
  // In one transaction: moves the progress from `from` to the last record's
  // number, only if it still is `from`, and inserts the records. False, with
  // nothing inserted, when the progress was not `from`: an earlier attempt
  // that looked failed had committed after all.
  virtual bool insert(std::uint64_t from, std::span<const spool::Record> records) = 0;
  // Moves the progress from `from` to `to` without inserting (for a message
  // set aside as a dead letter); false when it was not `from`.
  virtual bool skip(std::uint64_t from, std::uint64_t to) = 0;
};

// Opens a new connection each time it is called; throws db::DbError.
using StoreFactory = std::function<std::unique_ptr<Store>()>;

}  // namespace statesink::ingest
